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
