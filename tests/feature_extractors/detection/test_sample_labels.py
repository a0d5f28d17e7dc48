"""Names of the boxes in detection samples never print over each other."""
from __future__ import annotations

import numpy as np
import pytest

from data_gradients.feature_extractors.detection.samples import draw_boxes, label_places


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("seed", range(5))
def test_labels_of_overlapping_boxes_never_overlap(seed):
    rng = np.random.default_rng(seed)
    x1, y1 = rng.integers(0, 200, 30), rng.integers(0, 200, 30)
    rows = [([int(a), int(b), int(a) + 40, int(b) + 30], int(c)) for a, b, c in zip(x1 % 60, y1 % 50, rng.integers(0, 5, 30))]
    names = {0: "person", 1: "car", 2: "bicycle", 3: "traffic light", 4: "dog"}
    places = label_places(rows, names, (256, 256))
    shown = [p for p in places if p[2] > p[0]]
    assert len(shown) >= 5
    for i, a in enumerate(shown):
        assert 0 <= a[0] and a[2] <= 256 and 0 <= a[1] and a[3] <= 256
        assert not any(overlap(a, b) for b in shown[i + 1:])


def test_two_boxes_at_one_place_get_two_readable_labels():
    rows = [([10, 40, 60, 90], 0), ([10, 40, 60, 90], 1)]
    a, b = label_places(rows, {0: "person", 1: "car"}, (128, 128))
    assert a[2] > a[0] and b[2] > b[0] and not overlap(a, b)
    image = draw_boxes(np.zeros((128, 128, 3), np.uint8), np.array([r[0] for r in rows], float), np.array([0, 1]),
                       {0: "person", 1: "car"})
    assert image[a[1]:a[3], a[0]:a[2]].any() and image[b[1]:b[3], b[0]:b[2]].any()
