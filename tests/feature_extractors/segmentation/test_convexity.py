"""Known answers for object convexity (hull perimeter / perimeter, holes included)."""
import math

import cv2
import numpy as np
import pytest

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.segmentation.convexity import (
    N_BINS,
    SegmentationConvexity,
    closed_lengths,
    component_convexity,
)

pytestmark = pytest.mark.usefixtures("run_path")  # compiled loops over runs, and numpy's ways

IGNORE = 255


def make(masks, num_classes=3):
    masks = np.asarray(masks, dtype=np.int64)
    ids = tuple(range(num_classes))
    images = np.zeros((*masks.shape, 3), dtype=np.uint8)
    (batch,) = SegmentationBatchBuilder(num_classes, ids, (IGNORE,)).build(images, masks, 0)
    return AnalysisContext(task="segmentation", num_classes=num_classes, class_ids=ids), batch


def single(binary):
    (value,) = component_convexity(np.asarray(binary, dtype=np.uint8))
    return value


def test_square_ring_has_its_exact_convexity():
    m = np.zeros((60, 60), np.uint8)
    m[5:45, 5:45] = 1
    m[15:35, 15:35] = 0  # 40 x 40 px square with a 20 x 20 hole
    # outer contour through pixel centres: 4 * 39; hole contour: 4 * 19 straight + 4 diagonal corner steps
    hull, perimeter = 4 * 39, 4 * 39 + 4 * 19 + 4 * math.sqrt(2)
    assert single(m) == pytest.approx(hull / perimeter, abs=1e-9)


def test_round_ring_is_close_to_r_over_r_plus_r():
    m = np.zeros((101, 101), np.uint8)
    cv2.circle(m, (50, 50), 40, 1, -1)
    cv2.circle(m, (50, 50), 20, 0, -1)
    assert single(m) == pytest.approx(40 / 60 * 0.95, abs=0.02)  # continuous answer x digitisation factor


def test_l_shape():
    m = np.zeros((50, 50), np.uint8)
    m[5:45, 5:45] = 1
    m[5:25, 25:45] = 0
    perimeter = 19 + 19 + math.sqrt(2) + 19 + 19 + 39 + 39  # the inner corner is a diagonal step
    hull = 19 + math.hypot(20, 20) + 19 + 39 + 39
    assert single(m) == pytest.approx(hull / perimeter, abs=1e-9)


@pytest.mark.parametrize("name", ["rectangle", "pixel", "diagonal pair", "line", "disk"])
def test_convex_shapes_score_one(name):
    m = np.zeros((60, 60), np.uint8)
    if name == "rectangle":
        m[10:30, 5:50] = 1
    elif name == "pixel":
        m[3, 3] = 1
    elif name == "diagonal pair":
        m[3, 3] = m[4, 4] = 1
    elif name == "line":
        m[7, 2:40] = 1
    else:
        cv2.circle(m, (30, 30), 25, 1, -1)
    expected = 0.95 if name == "disk" else 1.0
    assert single(m) == pytest.approx(expected, abs=0.01)


def test_closed_lengths_vectorised():
    polys = [np.array([[0, 0], [3, 0], [3, 4]]), np.array([[1, 1]]), np.array([[0, 0], [2, 0]])]
    assert closed_lengths(polys).tolist() == pytest.approx([12.0, 0.0, 4.0])
    assert closed_lengths([]).size == 0


def test_extractor_per_class_and_separate_samples():
    a = np.full((12, 12), IGNORE)
    a[1:5, 1:5] = 0  # a square of class 0
    a[6:11, 6:11] = 1
    a[8, 8] = 2  # class 1 square with a one-pixel hole filled by class 2
    b = np.full((12, 12), IGNORE)
    b[0:3, 0:12] = 0  # class 0 touching the top; the previous sample's class 0 must not join it
    ctx, batch = make([a, b])
    ex = SegmentationConvexity(ctx)
    ex.update(batch, "train")
    st = ex.state("train")
    assert st.hist.sum(axis=1).tolist() == [2, 1, 1]
    assert st.hist[0, N_BINS - 1] == 2 and st.hist[2, N_BINS - 1] == 1
    # class 1: outer 4 * 4 = 16, hole contour around one pixel = 4 diagonal steps
    ring = 16 / (16 + 4 * math.sqrt(2))
    assert st.convexity_sum[1] == pytest.approx(ring)
    res = ex.compute()
    assert res.scalars["objects"] == {"train": 4}
    assert res.scalars["mean_convexity"]["train"] == pytest.approx((3 + ring) / 4)
    assert res.scalars["share_below_0.8"]["train"] == pytest.approx(0.25)
    rows = {r[1]: r for r in res.tables[0].rows}
    assert rows["1"][2:] == [1, pytest.approx(ring), 1.0]
    assert res.heatmaps[0].maps["train"]["convexity"].shape == (3, N_BINS)


@pytest.mark.parametrize("seed", range(8))
def test_batch_tile_equals_one_image_at_a_time(seed):
    """Cropped, tiled work on the batch gives the convexities of per-image calls."""
    rng = np.random.default_rng(seed)
    masks = np.full((4, 40, 48), IGNORE, dtype=np.int32)
    for i in range(4):
        for _ in range(int(rng.integers(0, 6))):
            c, x, y, r = int(rng.integers(0, 3)), int(rng.integers(0, 48)), int(rng.integers(0, 40)), int(rng.integers(1, 9))
            if rng.random() < 0.5:
                cv2.circle(masks[i], (x, y), r, c, -1)
            else:
                cv2.rectangle(masks[i], (x, y), (x + r, y + 2 * r), c, int(rng.choice([-1, 1, 2])))
    ctx, batch = make(masks)
    ex = SegmentationConvexity(ctx)
    ex.update(batch, "train")
    st = ex.state("train")
    for c in range(3):
        values = np.concatenate([component_convexity((m == c).astype(np.uint8)) for m in masks])
        assert st.hist[c].sum() == len(values)
        assert st.convexity_sum[c] == pytest.approx(values.sum(), abs=1e-9)


def test_values_on_a_bin_edge_come_from_opencv_contours(monkeypatch):
    """0.75 exactly (hull 6 + 3 sqrt 2 over 8 + 4 sqrt 2): recomputed from the object's own contours, so the
    bin cannot differ from OpenCV's by a rounding of the run sums."""
    from data_gradients.batch.segmentation_view import SegmentationView
    from data_gradients.feature_extractors.segmentation import convexity as module

    shape = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 0, 1, 1], [1, 1, 1, 0]], dtype=np.uint8)
    masks = np.full((2, 6, 7), -1, dtype=np.int32)
    masks[1, 1:5, 2:6] = np.where(shape > 0, 0, -1)
    view = SegmentationView(masks)
    np.testing.assert_array_equal(module._component_binary(view, 0), np.pad(shape, 1))
    seen = []
    monkeypatch.setattr(module, "component_convexity", lambda binary: seen.append(binary.copy()) or np.array([0.75]))
    assert module.view_convexity(view).tolist() == [0.75]
    assert len(seen) == 1 and (seen[0] == np.pad(shape, 1)).all()
    masks[1, 1, 2] = -1  # no longer on an edge: no contour is traced
    seen.clear()
    assert 0 < module.view_convexity(SegmentationView(masks))[0] < 1 and not seen
