"""Known answers for objects that vanish under a 3x3 erosion."""
import cv2
import numpy as np
import pytest

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.batch.segmentation_view import SegmentationView
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.segmentation.erosion import SegmentationErosion

pytestmark = pytest.mark.usefixtures("run_path")  # compiled loops over runs, and numpy's ways

IGNORE = 255


def vanishing_components(binary):
    """(components, vanished components, rows where something survives) of a 0/1 image, from the view."""
    view = SegmentationView(np.where(np.asarray(binary) > 0, 0, -1)[None])
    rows = np.zeros(binary.shape[0], dtype=bool)
    rows[view.runs["row"][view.run_survives]] = True
    return len(view.components["cls"]), int((~view.component_survives).sum()), rows


def make(masks, num_classes=3):
    masks = np.asarray(masks, dtype=np.int64)
    ids = tuple(range(num_classes))
    images = np.zeros((*masks.shape, 3), dtype=np.uint8)
    (batch,) = SegmentationBatchBuilder(num_classes, ids, (IGNORE,)).build(images, masks, 0)
    return AnalysisContext(task="segmentation", num_classes=num_classes, class_ids=ids,
                           class_names={0: "a", 1: "b", 2: "c"}), batch


def test_thin_and_tiny_objects_vanish_thick_ones_survive():
    m = np.zeros((20, 20), np.uint8)
    m[1, 1:15] = 1  # 1 px line: vanishes
    m[4:6, 1:15] = 1  # 2 px bar: vanishes
    m[8:11, 1:4] = 1  # 3 x 3 square: its centre survives
    m[14:16, 14:16] = 1  # 2 x 2 speck: vanishes
    m[8:18, 8:11] = 1  # 3 px wide bar: survives
    total, vanished, row_survives = vanishing_components(m)
    assert (total, vanished) == (5, 3)
    assert np.flatnonzero(row_survives).tolist() == list(range(9, 17))  # rows of the surviving centres


def test_the_image_edge_erodes_like_a_boundary():
    m = np.zeros((10, 10), np.uint8)
    m[0:2, :] = 1  # 2 px strip along the top edge
    m[7:10, 7:10] = 1  # 3 x 3 in the corner
    total, vanished, _ = vanishing_components(m)
    assert (total, vanished) == (2, 1)


def test_samples_do_not_touch_in_the_tile():
    a = np.full((6, 6), IGNORE)
    a[4:6, :] = 0  # 2 px bar at the bottom of sample 0
    b = np.full((6, 6), IGNORE)
    b[0:1, :] = 0  # 1 px line at the top of sample 1: together they would be 3 px thick
    b[2:5, 2:5] = 1  # 3 x 3 of class 1 survives
    c = np.full((6, 6), IGNORE)
    c[2, 2] = 1  # a speck of class 1: in this image, class 1 vanishes entirely
    ctx, batch = make([a, b, c])
    ex = SegmentationErosion(ctx)
    ex.update(batch, "train")
    st = ex.state("train")
    assert st.components.tolist() == [2, 2, 0]
    assert st.vanished.tolist() == [2, 1, 0]
    assert st.images_with.tolist() == [2, 2, 0]
    assert st.images_all_vanish.tolist() == [2, 1, 0]
    res = ex.compute()
    assert res.scalars["objects"] == {"train": 4}
    assert res.scalars["share_vanishing"] == {"train": pytest.approx(0.75)}
    assert res.histograms[0].counts["train"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    rows = {r[1]: r[2:] for r in res.tables[0].rows}
    assert rows["b"] == [2, 1, 0.5, 0.5] and rows["c"] == [0, 0, None, None]


def test_a_class_of_thin_objects_is_flagged():
    m = np.full((40, 40), IGNORE)
    m[0::4, :] = 2  # 10 one-pixel lines of class 2
    ctx, batch = make([m])
    ex = SegmentationErosion(ctx)
    ex.update(batch, "train")
    (finding,) = ex.compute().findings
    assert finding.key == "thin_classes" and finding.counts == {"train": 1}
    assert "c (10 of 10)" in finding.message


def sparse_masks(seed, n=4, h=40, w=48):
    """Random small rectangles and lines of 3 classes on an ignored background."""
    rng = np.random.default_rng(seed)
    m = np.full((n, h, w), IGNORE)
    for i in range(n):
        for _ in range(int(rng.integers(0, 7))):
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            m[i, y:y + int(rng.integers(1, 8)), x:x + int(rng.integers(1, 8))] = int(rng.integers(0, 3))
    return m


@pytest.mark.parametrize("seed", range(8))
def test_batch_tile_equals_one_image_at_a_time(seed):
    """Cropped, tiled work on the batch gives what per-image OpenCV calls give."""
    masks = sparse_masks(seed)
    ctx, batch = make(masks)
    ex = SegmentationErosion(ctx)
    ex.update(batch, "train")
    st = ex.state("train")
    kernel = np.ones((3, 3), np.uint8)
    for c in range(3):
        total = vanished = all_vanish = 0
        for m in masks:
            binary = (m == c).astype(np.uint8)
            if not binary.any():
                continue
            n_lab, labels = cv2.connectedComponents(binary, connectivity=8)
            eroded = cv2.erode(binary, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
            survivors = set(labels[eroded > 0].tolist())
            total += n_lab - 1
            vanished += n_lab - 1 - len(survivors)
            all_vanish += not survivors
        assert (st.components[c], st.vanished[c], st.images_all_vanish[c]) == (total, vanished, all_vanish)
