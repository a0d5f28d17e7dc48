"""The per-class sample grid: seeded, per class, independent of batching, bounded."""
import numpy as np

from data_gradients.batch import ClassificationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.classification.samples import (
    MAX_CLASSES_SHOWN,
    THUMBNAIL_SIDE,
    ClassificationSamples,
    mosaic,
    thumbnail,
)


def ctx(k=2, num_classes=3):
    return AnalysisContext(task="classification", num_classes=num_classes, class_ids=tuple(range(num_classes)),
                           samples_to_visualize=k, seed=5)


def batches(labels, h=8, w=8, per_batch=3):
    n = len(labels)
    images = (np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((1, 3, h, w), np.uint8))  # image i = grey i
    bld = ClassificationBatchBuilder(3, range(3), ())
    return [bld.build(images[i:i + per_batch], np.asarray(labels[i:i + per_batch]), i)[0] for i in range(0, n, per_batch)]


def test_one_grid_per_class_with_k_images_of_that_class():
    labels = [0, 1, 0, 0, 2, 0, 1, 0]
    ex = ClassificationSamples(ctx(k=2))
    for b in batches(labels):
        ex.update(b, "train")
    res = ex.compute()
    (grid,) = res.images
    assert grid.captions["train"] == ["class 0 0", "class 1 1", "class 2 2"]
    ids = res.data["sample_ids"]["train"]
    assert len(ids["0"]) == 2 and all(labels[i] == 0 for i in ids["0"])
    assert sorted(ids["1"]) == [1, 6] and ids["2"] == [4]
    # each cell shows its sample: the grey level is the sample id
    first = grid.images["train"][0]
    assert first.shape == (8, 8 * 2 + 2, 3)
    assert first[4, 4, 0] == ids["0"][0] and first[4, 8 + 2 + 4, 0] == ids["0"][1]


def test_batching_does_not_change_the_pick():
    labels = [0, 1, 2] * 7
    picks = []
    for per_batch in (1, 4, 21):
        ex = ClassificationSamples(ctx(k=3))
        for b in batches(labels, per_batch=per_batch):
            ex.update(b, "train")
        picks.append(ex.compute().data["sample_ids"])
    assert picks[0] == picks[1] == picks[2]


def test_nothing_when_zero_samples_requested():
    ex = ClassificationSamples(ctx(k=0))
    for b in batches([0, 1, 2]):
        ex.update(b, "train")
    assert ex.compute().images == []


def test_thumbnails_are_bounded_and_grids_are_square_cells():
    big = np.zeros((3, 300, 150), dtype=np.uint8)
    t = thumbnail(big)
    assert t.shape == (THUMBNAIL_SIDE, THUMBNAIL_SIDE // 2, 3)
    grid = mosaic([t, np.full((10, 20, 3), 255, np.uint8)])
    assert grid.shape == (THUMBNAIL_SIDE, 2 * THUMBNAIL_SIDE + 2, 3)
    many = AnalysisContext(task="classification", num_classes=100, class_ids=tuple(range(100)), samples_to_visualize=1)
    assert len(ClassificationSamples(many).shown) == MAX_CLASSES_SHOWN
