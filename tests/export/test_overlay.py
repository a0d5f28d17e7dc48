"""Overlay pictures: pixels at known box edges, blended mask colours, names that never overprint."""
from __future__ import annotations

import numpy as np

from data_gradients.export.overlay import (
    MASK_ALPHA,
    RED,
    _overlaps,
    box_pixels,
    class_colour,
    classification_overlay,
    detection_overlay,
    place_labels,
    segmentation_overlay,
)


def test_segmentation_pixels_are_blended_with_their_class_colour_and_the_rest_is_untouched():
    image = np.full((40, 60, 3), 100, dtype=np.uint8)
    image[:, :, 2] = 7
    mask = np.full((40, 60), -1, dtype=np.int32)
    mask[5:15, 10:30] = 2
    mask[20:30, 0:5] = 0
    out = segmentation_overlay(image, mask, {0: "road", 2: "car"})
    assert out.shape[0] > 40 and out.shape[1] >= 60  # a legend strip below
    top = out[:40, :60]
    for cls, (y, x) in ((2, (10, 20)), (0, (25, 2))):
        expected = np.rint((1 - MASK_ALPHA) * image[y, x].astype(float) + MASK_ALPHA * np.array(class_colour(cls)))
        assert top[y, x].tolist() == expected.astype(int).tolist()
    untouched = mask < 0
    assert (top[untouched] == image[untouched]).all()
    assert not (out[40:] == 255).all()  # the legend draws something


def test_blending_rounds_to_the_nearest_integer_on_random_pictures():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    mask = rng.integers(-1, 12, (30, 50)).astype(np.int32)
    out = segmentation_overlay(image, mask, {})[:30, :50]
    colours = np.array([class_colour(c) for c in range(12)], dtype=float)
    sel = mask >= 0
    expected = np.rint((1 - MASK_ALPHA) * image[sel].astype(float) + MASK_ALPHA * colours[mask[sel]])
    assert (out[sel] == expected.astype(np.uint8)).all()
    assert (out[~sel] == image[~sel]).all()


def test_class_colours_are_fixed_and_distinct_for_neighbouring_ids():
    colours = [class_colour(c) for c in range(20)]
    assert len(set(colours)) == 20
    assert class_colour(3) == class_colour(3)


def test_detection_box_edges_are_red_on_the_pixels_the_box_covers():
    image = np.zeros((120, 160, 3), dtype=np.uint8)
    boxes = np.array([[30.0, 40.0, 90.5, 100.0]])
    out = detection_overlay(image, boxes, np.array([1]), {1: "person"})
    assert out.shape == image.shape  # the name fits above the box: no strip
    x1, y1, x2, y2 = box_pixels(boxes[0], 160, 120)
    assert (x1, y1, x2, y2) == (30, 40, 90, 99)
    red = list(RED)
    for y in range(y1, y2 + 1):
        assert out[y, x1].tolist() == red and out[y, x2].tolist() == red
    for x in range(x1, x2 + 1):
        assert out[y1, x].tolist() == red and out[y2, x].tolist() == red
    assert out[70, 60].tolist() == [0, 0, 0]  # inside the box: untouched
    assert out[y1 - 1, x1 - 1].tolist() == [0, 0, 0]  # outside, left of the name
    assert (out[y1 - 10:y1, x1:x1 + 20] != 0).any()  # the name sits just above the box
    assert out[110, 150].tolist() == [0, 0, 0]


def test_box_pixels_stay_inside_the_image():
    assert box_pixels([-5.0, -3.0, 500.0, 400.0], 100, 50) == (0, 0, 99, 49)
    assert box_pixels([10.2, 10.7, 10.9, 11.0], 100, 50) == (10, 10, 10, 10)


def test_names_never_overprint_each_other():
    rng = np.random.default_rng(0)
    drawn = []
    for _ in range(60):
        x, y = int(rng.integers(0, 150)), int(rng.integers(0, 100))
        drawn.append((x, y, x + int(rng.integers(2, 40)), y + int(rng.integers(2, 40))))
    texts = [f"class {i}" for i in range(60)]
    placed = place_labels(drawn, texts, 200, 150)
    rects = [r for r in placed if r is not None]
    assert 0 < len(rects) < 60  # some fit, the crowd does not
    for i, a in enumerate(rects):
        assert 0 <= a[0] and 0 <= a[1] and a[2] <= 200 and a[3] <= 150
        for b in rects[i + 1:]:
            assert not _overlaps(a, b)


def test_names_that_fit_nowhere_are_listed_below_the_image():
    image = np.zeros((30, 30, 3), dtype=np.uint8)
    boxes = np.array([[2.0, 2.0, 28.0, 28.0]] * 3)
    out = detection_overlay(image, boxes, np.array([0, 1, 2]), {0: "a long class name", 1: "b", 2: "c"})
    assert out.shape[0] > 30  # a strip with the names that did not fit
    assert out[2, 2].tolist() == list(RED)


def test_classification_caption_below_an_untouched_image():
    image = np.random.default_rng(1).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    out = classification_overlay(image, [3], {3: "cat"})
    assert out.shape[0] > 50 and out.shape[1] >= 70
    assert (out[:50, :70] == image).all()
    assert (out[50:] != 255).any()
    blank = classification_overlay(image, [], {})
    assert blank.shape[0] > 50
