"""Known answers for the per-class location heatmap."""
import numpy as np
import pytest

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.segmentation.heatmap import SegmentationClassHeatmap

pytestmark = pytest.mark.usefixtures("run_path")  # compiled loops over runs, and numpy's ways

IGNORE = 255
G = SegmentationClassHeatmap.grid


def make(masks, num_classes=2, ignore=(IGNORE,), first_id=0):
    masks = np.asarray(masks, dtype=np.int64)
    class_ids = tuple(c for c in range(num_classes) if c not in ignore)
    images = np.zeros((*masks.shape, 3), dtype=np.uint8)
    (batch,) = SegmentationBatchBuilder(num_classes, class_ids, ignore).build(images, masks, first_id)
    return AnalysisContext(task="segmentation", num_classes=num_classes, class_ids=class_ids), batch


def halves(h, w, split_x):
    m = np.ones((h, w), dtype=np.int64)
    m[:, :split_x] = 0
    return m


def coverage(ex, split="train"):
    return ex.compute().heatmaps[0].maps[split]


def reference(masks, class_id, g=G):
    """Mean over images of the share of each cell's pixels equal to ``class_id`` (plain loops)."""
    out = np.zeros((g, g))
    for m in masks:
        h, w = m.shape
        for gy in range(g):
            rows = [y for y in range(h) if y * g // h == gy]
            for gx in range(g):
                cols = [x for x in range(w) if x * g // w == gx]
                cell = m[np.ix_(rows, cols)]
                out[gy, gx] += (cell == class_id).mean()
    return out / len(masks)


def test_left_right_halves_divisible_size():
    ctx, batch = make([halves(64, 64, 32)])
    ex = SegmentationClassHeatmap(ctx)
    ex.update(batch, "train")
    maps = coverage(ex)
    expected = np.zeros((G, G))
    expected[:, :16] = 1.0
    np.testing.assert_array_equal(maps["0"], expected)
    np.testing.assert_array_equal(maps["1"], 1.0 - expected)


def test_left_right_halves_size_not_divisible_by_grid():
    # W = 48: x * 32 // 48 puts x = 21 and x = 22 in cell 14; class 0 is x < 22, so cell 14 is half/half
    ctx, batch = make([halves(48, 48, 22)])
    ex = SegmentationClassHeatmap(ctx)
    ex.update(batch, "train")
    maps = coverage(ex)
    expected = np.zeros((G, G))
    expected[:, :14] = 1.0
    expected[:, 14] = 0.5
    np.testing.assert_array_equal(maps["0"], expected)
    np.testing.assert_array_equal(maps["1"], 1.0 - expected)


def test_matches_loop_reference_with_ignored_pixels_and_odd_size():
    rng = np.random.default_rng(3)
    masks = rng.choice([0, 1, 2, IGNORE], size=(3, 41, 53))
    ctx, batch = make(masks, num_classes=3)
    ex = SegmentationClassHeatmap(ctx)
    ex.update(batch, "train")
    maps = coverage(ex)
    for c in range(3):
        np.testing.assert_allclose(maps[str(c)], reference(masks, c), rtol=0, atol=1e-12)
    total = sum(maps[str(c)] for c in range(3))
    np.testing.assert_allclose(total, 1.0 - reference(masks, IGNORE), atol=1e-12)  # ignored: nobody's
    assert total.min() < 1.0


def test_mean_over_images_of_different_sizes():
    ctx, a = make([np.zeros((64, 64))])
    _, b = make([np.ones((48, 80))], first_id=1)
    ex = SegmentationClassHeatmap(ctx)
    ex.update(a, "val")
    ex.update(b, "val")
    maps = coverage(ex, "val")
    np.testing.assert_array_equal(maps["0"], np.full((G, G), 0.5))
    np.testing.assert_array_equal(maps["1"], np.full((G, G), 0.5))
    assert ex.state("val").images == 2


def test_image_smaller_than_grid_counts_only_for_cells_it_covers():
    ctx, small = make([np.zeros((16, 16))])  # rows/cols map to even cells only
    _, big = make([np.ones((64, 64))], first_id=1)
    ex = SegmentationClassHeatmap(ctx)
    ex.update(small, "train")
    ex.update(big, "train")
    maps = coverage(ex)
    even = np.zeros((G, G), dtype=bool)
    even[::2, ::2] = True
    np.testing.assert_array_equal(maps["0"], np.where(even, 0.5, 0.0))
    np.testing.assert_array_equal(maps["1"], np.where(even, 0.5, 1.0))


def test_ignored_label_inside_class_range_and_result_shape():
    m = np.full((32, 32), 2)
    m[:16] = 0  # class 0 is ignored: top half counts for nobody
    ctx, batch = make([m], num_classes=3, ignore=(0,))
    ex = SegmentationClassHeatmap(ctx)
    ex.update(batch, "train")
    res = ex.compute()
    hm = res.heatmaps[0]
    assert hm.key == "coverage" and hm.value_label == "mean share of cell covered"
    assert res.data == {"grid": G}
    assert set(hm.maps["train"]) == {"1", "2"}
    assert hm.maps["train"]["1"].sum() == 0
    np.testing.assert_array_equal(hm.maps["train"]["2"][:16], 0.0)
    np.testing.assert_array_equal(hm.maps["train"]["2"][16:], 1.0)


def test_merge_equals_single():
    rng = np.random.default_rng(1)
    masks = rng.choice([0, 1, IGNORE], size=(4, 40, 36))
    ctx, whole = make(masks)
    _, first = make(masks[:1])
    _, second = make(masks[1:], first_id=1)
    single, a, b = (SegmentationClassHeatmap(ctx) for _ in range(3))
    single.update(whole, "train")
    a.update(first, "train")
    b.update(second, "train")
    a.merge(b)
    for key, value in single.state("train").as_dict().items():
        np.testing.assert_allclose(getattr(a.state("train"), key), value, rtol=1e-12)


@pytest.mark.parametrize("h,w", [(1, 1), (7, 100), (33, 31)])
def test_values_stay_in_unit_interval(h, w):
    ctx, batch = make(np.random.default_rng(h).choice([0, 1], size=(2, h, w)))
    ex = SegmentationClassHeatmap(ctx)
    ex.update(batch, "train")
    for m in coverage(ex).values():
        assert m.shape == (G, G) and m.min() >= 0.0 and m.max() <= 1.0
