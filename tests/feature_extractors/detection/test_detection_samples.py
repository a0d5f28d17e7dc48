"""Sample pictures: seeded reservoir, boxes drawn at the right place in the class colour."""
import numpy as np
from detection_helpers import batch, context

from data_gradients.feature_extractors.detection.samples import DetectionSamples, class_colour


def test_boxes_are_drawn_in_their_class_colour_and_scaled_with_the_thumbnail():
    ctx = context(names={0: "cat", 1: "dog", 2: "bird"}, samples=2)
    ex = DetectionSamples(ctx)
    b = batch([[[1, 100, 200, 300, 400]], []], h=1024, w=1024, first_id=10)
    ex.update(b, "train")
    res = ex.compute()
    (grid,) = res.images
    assert sorted(grid.captions["train"]) == ["sample 10", "sample 11"]
    drawn = dict(zip(grid.captions["train"], grid.images["train"]))
    img = drawn["sample 10"]
    assert img.shape == (512, 512, 3) and img.dtype == np.uint8  # thumbnail: longest side 512
    colour = np.array(class_colour(1))
    # the box's left edge at x = 50 (100 / 2) from y = 100 to 199 is outlined
    assert (img[120:190, 50] == colour).all()
    assert (img[300, 300] == 0).all()  # inside the box: untouched
    assert (drawn["sample 11"] == 0).all()  # no box: nothing drawn


def test_reservoir_is_bounded_and_independent_of_batching():
    ctx = context(samples=3)
    one = DetectionSamples(ctx)
    one.update(batch([[[0, 1, 1, 5, 5]]] * 8, h=16, w=16), "train")
    two = DetectionSamples(ctx)
    two.update(batch([[[0, 1, 1, 5, 5]]] * 5, h=16, w=16), "train")
    two.update(batch([[[0, 1, 1, 5, 5]]] * 3, h=16, w=16, first_id=5), "train")
    assert len(one.state("train").reservoir) == 3
    assert [p[0] for _, p in one.state("train").reservoir] == [p[0] for _, p in two.state("train").reservoir]


def test_no_samples_requested_gives_no_pictures():
    ex = DetectionSamples(context(samples=0))
    ex.update(batch([[[0, 1, 1, 5, 5]]]), "train")
    assert ex.compute().images == []


def test_class_colours_are_stable_and_distinct():
    colours = {class_colour(i) for i in range(10)}
    assert len(colours) == 10 and class_colour(3) == class_colour(3)


def test_a_frame_kept_as_read_is_drawn_as_a_thumbnail_made_on_arrival():
    from data_gradients.feature_extractors.detection.samples import RAW_PIXELS, draw_boxes, thumbnail

    ctx = context(names={0: "cat", 1: "dog"}, samples=1)
    b = batch([[[1, 60, 50, 300, 400], [0, 10, 10, 90, 70]]], h=480, w=640, first_id=3)
    b.images = np.random.default_rng(0).integers(0, 256, b.images.shape, dtype=np.uint8)
    ex = DetectionSamples(ctx)
    ex.update(b, "train")
    (_, (_, image, _, _, reduced)), = ex.state("train").reservoir
    assert 480 * 640 <= RAW_PIXELS and not reduced and image.shape == (3, 480, 640)  # a copy, not yet reduced
    mine = b.box_image == 0
    expected = draw_boxes(*thumbnail(b.images[0], b.boxes[mine]), b.box_classes[mine], ctx.class_names)
    (grid,) = ex.compute().images
    assert grid.images["train"][0].shape == (384, 512, 3)
    np.testing.assert_array_equal(grid.images["train"][0], expected)
    big = DetectionSamples(ctx)  # above RAW_PIXELS: reduced on arrival
    big.update(batch([[[1, 100, 200, 300, 400]]], h=1024, w=1024), "train")
    (_, (_, image, _, _, reduced)), = big.state("train").reservoir
    assert reduced and image.shape == (512, 512, 3)
