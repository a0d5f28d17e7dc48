"""Known answers for the largest IoU per box (same class and any class), duplicates."""
import numpy as np
import pytest
from detection_helpers import batch, context
from hypothesis import given, settings
from hypothesis import strategies as hst

from data_gradients.feature_extractors.detection import overlap
from data_gradients.feature_extractors.detection.overlap import DetectionOverlap, iou_bin, max_iou


def test_two_boxes_with_iou_exactly_one_half():
    boxes = np.array([[0, 0, 4, 2], [0, 0, 2, 2]], dtype=np.float64)  # intersection 4, union 8
    any_, same = max_iou(boxes, np.array([0, 0]), np.array([0, 0]))
    assert any_.tolist() == [0.5, 0.5] and same.tolist() == [0.5, 0.5]
    assert iou_bin(np.array([0.5])).tolist() == [10]  # bin [0.5, 0.55)
    any_, same = max_iou(boxes, np.array([0, 1]), np.array([0, 0]))
    assert any_.tolist() == [0.5, 0.5] and same.tolist() == [0.0, 0.0]


def test_boxes_of_other_images_never_pair():
    boxes = np.array([[0, 0, 4, 2], [0, 0, 4, 2], [10, 10, 20, 20]], dtype=np.float64)
    any_, same = max_iou(boxes, np.array([1, 1, 1]), np.array([0, 1, 1]))
    assert any_.tolist() == [0.0, 0.0, 0.0] and same.tolist() == [0.0, 0.0, 0.0]


def test_histograms_crowding_and_duplicate_finding():
    ex = DetectionOverlap(context(names={0: "a", 1: "b", 2: "c"}))
    ex.update(batch([[[0, 0, 0, 4, 2], [0, 0, 0, 2, 2], [1, 50, 50, 60, 60]],
                     [[2, 10, 10, 20, 20], [2, 10, 10, 20, 20]]], first_id=5), "train")
    res = ex.compute()
    h_any, h_same = res.histograms
    assert h_same.counts["train"][10] == 2 and h_same.counts["train"][-1] == 2 and h_same.counts["train"][0] == 1
    assert h_any.counts["train"].tolist() == h_same.counts["train"].tolist()
    assert res.scalars["share_boxes_overlapping"]["train"] == pytest.approx(4 / 5)
    assert res.scalars["share_same_class_iou_ge_0.5"]["train"] == pytest.approx(4 / 5)
    assert res.scalars["possible_duplicate_boxes"]["train"] == 2
    (finding,) = res.findings
    assert finding.key == "duplicate_boxes" and finding.counts == {"train": 1} and finding.sample_ids == {"train": [6]}
    rows = {r[0]: r for r in res.tables[0].rows}
    assert rows[0][2:] == [2, 1.0, 0] and rows[2][2:] == [2, 1.0, 2] and rows[1][2:] == [1, 0.0, 0]


@pytest.mark.parametrize("seed", range(3))
def test_dense_and_chunked_pairs_give_the_same_answer_bit_for_bit(monkeypatch, seed):
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 50, (60, 2)).astype(np.float64)  # integer corners: touching and identical boxes
    boxes = np.column_stack([xy, xy + rng.integers(1, 30, (60, 2))])
    boxes[5] = boxes[4]
    classes, image = rng.integers(0, 3, 60), np.sort(rng.integers(0, 5, 60))
    monkeypatch.setattr(overlap, "DENSE_PAIRS", 60 * 60)
    dense = max_iou(boxes, classes, image)  # one (M, M) matrix
    monkeypatch.setattr(overlap, "DENSE_PAIRS", 0)
    pairs = max_iou(boxes, classes, image)
    monkeypatch.setattr(overlap, "MAX_PAIRS", 7)
    chunked = max_iou(boxes, classes, image)
    for got in (pairs, chunked):
        assert np.array_equal(dense[0], got[0]) and np.array_equal(dense[1], got[1])
    assert dense[0].max() == 1.0 and (dense[1] > 0).any()


def brute_force(boxes, classes, image):
    m = len(boxes)
    best_any, best_same = np.zeros(m), np.zeros(m)
    for i in range(m):
        for j in range(m):
            if i == j or image[i] != image[j]:
                continue
            a, b = boxes[i], boxes[j]
            iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            inter = iw * ih
            iou = inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
            best_any[i] = max(best_any[i], iou)
            if classes[i] == classes[j]:
                best_same[i] = max(best_same[i], iou)
    return best_any, best_same


@settings(max_examples=50, deadline=None)
@given(hst.lists(hst.tuples(hst.integers(0, 3), hst.integers(0, 2), hst.integers(0, 20), hst.integers(0, 20),
                            hst.integers(1, 10), hst.integers(1, 10)), min_size=1, max_size=25))
def test_matches_brute_force(rows):
    rows = sorted(rows)
    image = np.array([r[0] for r in rows])
    classes = np.array([r[1] for r in rows])
    boxes = np.array([[r[2], r[3], r[2] + r[4], r[3] + r[5]] for r in rows], dtype=np.float64)
    got, want = max_iou(boxes, classes, image), brute_force(boxes, classes, image)
    assert np.allclose(got[0], want[0]) and np.allclose(got[1], want[1])
