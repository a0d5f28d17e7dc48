"""Known answers for the connected-components extractor (8-connectivity, per class)."""
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.segmentation.components import (
    AREA_EDGES,
    SegmentationComponents,
    _components,
    histogram_median,
)

pytestmark = pytest.mark.usefixtures("run_path")  # compiled loops over runs, and numpy's ways

IGNORE = 255


def make(masks, num_classes=3, ignore=(IGNORE,), first_id=0):
    """(extractor context, canonical batch) for integer masks (N, H, W)."""
    masks = np.asarray(masks, dtype=np.int64)
    class_ids = tuple(c for c in range(num_classes) if c not in ignore) if num_classes > 1 else (1,)
    images = np.zeros((*masks.shape, 3), dtype=np.uint8)
    (batch,) = SegmentationBatchBuilder(num_classes, class_ids, ignore).build(images, masks, first_id)
    return AnalysisContext(task="segmentation", num_classes=num_classes, class_ids=class_ids), batch


def squares_mask():
    """10 x 10, ignored everywhere except class 1: a 2x2 square, a 3x3 square and a
    diagonal pair (one component under 8-connectivity)."""
    m = np.full((10, 10), IGNORE)
    m[1:3, 1:3] = 1  # 4 px, 2 x 2
    m[6:9, 6:9] = 1  # 9 px, 3 x 3
    m[1, 6] = m[2, 7] = 1  # 2 px, 2 x 2 bounding box, touching only by a corner
    return m


def test_squares_and_diagonal_pair():
    ctx, batch = make([squares_mask()])
    ex = SegmentationComponents(ctx)
    ex.update(batch, "train")
    st_ = ex.state("train")
    assert st_.components.tolist() == [0, 3, 0]
    assert st_.images == 1
    assert st_.per_image_hist[0, 3] == 1 and st_.per_image_hist.sum() == 1  # window 0: the image at position 0
    assert st_.area_pct_sum[1] == pytest.approx(15.0)  # (4 + 9 + 2) px of 100
    # 2x2 boxes: 2 * 20 // 10 = 4; 3x3 box: 6 (rows = height, cols = width)
    assert st_.size_hist[4, 4] == 2 and st_.size_hist[6, 6] == 1 and st_.size_hist.sum() == 3
    bins = np.searchsorted(AREA_EDGES, [2.0, 4.0, 9.0], side="right") - 1
    expected = np.bincount(bins, minlength=len(AREA_EDGES) - 1)
    assert st_.area_hist[1].tolist() == expected.tolist()
    assert st_.area_hist[[0, 2]].sum() == 0

    res = ex.compute()
    assert res.scalars["total_components"] == {"train": 3}
    assert res.scalars["mean_components_per_image"] == {"train": 3.0}
    table = res.tables[0]
    assert table.columns == ["id", "class", "components (train)", "mean area % (train)", "median area % approx. (train)"]
    assert table.rows[0] == [0, "0", 0, None, None]
    assert table.rows[1][:4] == [1, "1", 3, pytest.approx(5.0)]
    lo, hi = AREA_EDGES[bins[1]], AREA_EDGES[bins[1] + 1]
    assert lo <= table.rows[1][4] <= hi  # the median (4 %) lies in the bin of 4 %
    per_image = res.histograms[0]
    assert per_image.key == "components_per_image" and per_image.bin_edges[-2] == 50 and "50 or more" in per_image.x_label
    area = res.histograms[1]  # along the stream: the one image is the first window
    assert area.stream_steps["train"].tolist() == [1] and area.stream_counts["train"][0].tolist() == expected.tolist()
    assert per_image.counts["train"].tolist() == [0, 0, 0, 1] + [0] * 47
    assert res.histograms[1].key == "area_share" and res.histograms[1].counts["train"].sum() == 3
    size = res.heatmaps[0].maps["train"]["all classes"]
    assert size.shape == (20, 20) and size.sum() == pytest.approx(1.0) and size[4, 4] == pytest.approx(2 / 3)


def test_samples_are_not_joined_across_the_batch():
    """Class 1 on the last row of sample 0 and the first row of sample 1: two components."""
    a = np.full((4, 5), IGNORE)
    b = np.full((4, 5), IGNORE)
    a[3, :3] = 1
    b[0, :3] = 1
    b[2:, 4] = 2
    ctx, batch = make([a, b])
    comp = _components(batch.masks, ctx.n_label_ids)
    got = sorted(zip(comp["image"].tolist(), comp["cls"].tolist(), comp["area"].tolist(),
                     comp["width"].tolist(), comp["height"].tolist()))
    assert got == [(0, 1, 3, 3, 1), (1, 1, 3, 3, 1), (1, 2, 2, 1, 2)]
    ex = SegmentationComponents(ctx)
    ex.update(batch, "val")
    assert ex.split_totals("val")["per_image_hist"][:3].tolist() == [0, 1, 1]


def test_u_shape_and_background_class_and_overflow_bin():
    """A U shape (several runs per row) is one component; class 0 around it is one too;
    an image with 60 single pixels goes to the "50+" bin."""
    m = np.zeros((6, 7), dtype=np.int64)
    m[1:5, 1] = m[1:5, 5] = 1
    m[4, 1:6] = 1
    dots = np.full((20, 20), IGNORE)
    dots[::2, ::2][:6] = 2  # 6 x 10 = 60 isolated pixels
    ctx, b1 = make([m])
    _, b2 = make([dots], first_id=1)
    ex = SegmentationComponents(ctx)
    ex.update(b1, "train")
    ex.update(b2, "train")
    st_ = ex.state("train")
    assert st_.components.tolist() == [1, 1, 60]
    assert ex.split_totals("train")["per_image_hist"][[2, 50]].tolist() == [1, 1]
    comp = _components(b1.masks, 3)
    assert sorted(zip(comp["cls"].tolist(), comp["area"].tolist(), comp["width"].tolist(), comp["height"].tolist())) == [
        (0, 42 - 11, 7, 6), (1, 11, 5, 4)]  # U: 4 + 4 + 5 - 2 shared corners


def test_binary_task_counts_only_the_object():
    m = np.zeros((8, 8), dtype=np.int64)
    m[0:2, 0:2] = 1
    m[5:8, 5:8] = 1
    ctx, batch = make([m], num_classes=1, ignore=())
    ex = SegmentationComponents(ctx)
    ex.update(batch, "train")
    assert ex.state("train").components.tolist() == [0, 2]
    assert ex.compute().tables[0].rows == [[1, "1", 2, pytest.approx(100 * 13 / 64 / 2), pytest.approx(
        histogram_median(ex.state("train").area_hist[1], AREA_EDGES, log=True))]]


def test_empty_and_fully_ignored_images():
    ctx, batch = make([np.full((5, 5), IGNORE)])
    ex = SegmentationComponents(ctx)
    ex.update(batch, "train")
    res = ex.compute()
    assert ex.split_totals("train")["per_image_hist"][0] == 1
    assert res.scalars["total_components"] == {"train": 0}
    assert res.heatmaps[0].maps["train"]["all classes"].sum() == 0


def test_histogram_median():
    assert histogram_median(np.zeros(3), np.arange(4.0)) is None
    assert histogram_median(np.array([1, 1, 0]), np.arange(4.0)) == 1.0
    assert histogram_median(np.array([0, 4, 0]), np.array([1.0, 10.0, 100.0, 1000.0]), log=True) == pytest.approx(31.6227766)


def reference(masks, class_ids):
    """Per image and class with OpenCV's own statistics: (image, class, area, w, h)."""
    out = []
    for i, m in enumerate(masks):
        for c in class_ids:
            n, _, stats, _ = cv2.connectedComponentsWithStats((m == c).astype(np.uint8), connectivity=8)
            for x, y, w, h, a in stats[1:]:
                out.append((i, c, int(a), int(w), int(h)))
    return sorted(out)


def check_against_reference(masks, num_classes=4):
    ctx, batch = make(masks, num_classes=num_classes)
    comp = _components(batch.masks, ctx.n_label_ids)
    got = sorted(zip(comp["image"].tolist(), comp["cls"].tolist(), comp["area"].tolist(),
                     comp["width"].tolist(), comp["height"].tolist()))
    assert got == reference(batch.masks, ctx.class_ids)


@pytest.mark.parametrize("seed", range(4))
def test_matches_per_image_opencv_reference_on_blobs_and_noise(seed):
    rng = np.random.default_rng(seed)
    n, h, w = 3, 37 + seed, 45
    noise = rng.random((n, 4, 6, 6)).astype(np.float32)
    blobs = np.stack([np.stack([cv2.resize(c, (w, h)) for c in img]).argmax(0) for img in noise])
    blobs[rng.random(blobs.shape) < 0.05] = IGNORE
    check_against_reference(blobs)
    check_against_reference(rng.integers(0, 4, size=(n, h, w)))
    sparse = np.where(blobs == 3, 0, blobs)
    sparse[1, 30:, 40:] = 3  # one class in one corner of one sample: the cropped path
    sparse[1, 33, 42] = 1
    check_against_reference(sparse)


def test_many_classes_use_the_wide_label_path():
    rng = np.random.default_rng(5)
    masks = rng.choice([0, 254, 256, 299, IGNORE], size=(2, 15, 17))
    check_against_reference(masks, num_classes=300)


@settings(max_examples=60, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
              elements=st.sampled_from([0, 1, 2, IGNORE])))
def test_matches_reference_on_random_small_masks(masks):
    check_against_reference(masks, num_classes=3)


def test_merge_equals_single():
    rng = np.random.default_rng(7)
    masks = rng.integers(0, 3, size=(4, 12, 9))
    ctx, whole = make(masks)
    _, first = make(masks[:2])
    _, second = make(masks[2:], first_id=2)
    single, a, b = SegmentationComponents(ctx), SegmentationComponents(ctx), SegmentationComponents(ctx)
    single.update(whole, "train")
    a.update(first, "train")
    b.update(second, "train")
    a.merge(b)
    for key, value in single.state("train").as_dict().items():
        np.testing.assert_allclose(getattr(a.state("train"), key), value)
