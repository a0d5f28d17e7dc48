"""The per-class sample grid: seeded, per class, independent of batching, bounded."""
import cv2
import numpy as np
import pytest

from data_gradients.batch import ClassificationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.base import keep_smallest
from data_gradients.feature_extractors.classification.samples import (
    MAX_CLASSES_SHOWN,
    THUMBNAIL_SIDE,
    ClassificationSamples,
    mosaic,
    thumbnail,
    thumbnails,
)

pytestmark = pytest.mark.usefixtures("pixel_path")  # compiled pixel loops and OpenCV ways alike


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


def reference_update(ex, batch, split):
    """The update as it was written first: a Python loop over ids and over the classes present."""
    st = ex.state(split)
    ids = np.asarray(batch.sample_ids).tolist()
    keys = np.array([ex.sample_key(split, i) for i in ids])
    labels = batch.labels[:, ex.shown]
    thumbs = {}
    for j in np.flatnonzero(labels.any(axis=0)):
        attr = f"reservoir_{ex.shown[j]}"
        reservoir = getattr(st, attr)
        threshold = reservoir[-1][0] if len(reservoir) >= ex.k else np.inf
        members = np.flatnonzero(labels[:, j])
        candidates = members[keys[members] < threshold]
        if candidates.size == 0:
            continue
        candidates = candidates[np.argsort(keys[candidates], kind="stable")][:ex.k]
        new = []
        for i in candidates.tolist():
            if i not in thumbs:
                thumbs[i] = thumbnail(batch.images[i])
            new.append((float(keys[i]), (int(ids[i]), thumbs[i])))
        setattr(st, attr, keep_smallest(reservoir, new, ex.k))


def test_reservoirs_are_the_same_as_with_the_reference_loop():
    rng = np.random.default_rng(11)
    context = AnalysisContext(task="classification", num_classes=40, class_ids=tuple(range(40)),
                              samples_to_visualize=3, seed=9)
    bld = ClassificationBatchBuilder(40, range(40), (), multi_label=True)
    new, ref = ClassificationSamples(context), ClassificationSamples(context)
    first = 0
    for n in (16, 1, 40, 7, 64, 64):
        images = rng.integers(0, 256, (n, 3, 6, 5), dtype=np.uint8)
        (b,) = bld.build(images, (rng.random((n, 40)) < 0.08).astype(np.float32), first)
        first += n
        new.update(b, "train")
        reference_update(ref, b, "train")
    for cid in new.shown:
        got, want = getattr(new.state("train"), f"reservoir_{cid}"), getattr(ref.state("train"), f"reservoir_{cid}")
        assert [(k, i) for k, (i, _) in got] == [(k, i) for k, (i, _) in want]
        assert all(np.array_equal(a, b) for (_, (_, a)), (_, (_, b)) in zip(got, want))
    assert sum(len(getattr(new.state("train"), f"reservoir_{c}")) for c in new.shown) > 40


def reference_thumbnail(image_chw: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """The thumbnail as it was first written: numpy's HWC copy and OpenCV's 3-channel area resize."""
    image = image_chw.transpose(1, 2, 0).copy()
    h, w = image.shape[:2]
    scale = side / max(h, w, 1)
    if scale >= 1:
        return image
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("h, w", [(224, 224), (256, 256), (500, 375), (375, 500), (96, 96), (60, 80), (97, 300),
                                  (1, 500), (333, 334), (1024, 768), (224, 1000), (127, 127), (480, 640)])
def test_thumbnails_equal_opencvs_three_channel_resize(h, w):
    rng = np.random.default_rng(h * 7 + w)
    for image in (rng.integers(0, 256, (3, h, w), dtype=np.uint8), rng.integers(126, 130, (3, h, w), dtype=np.uint8),
                  (rng.integers(0, 2, (3, h, w)) * 255).astype(np.uint8)):
        got, want = thumbnail(image), reference_thumbnail(image)
        assert not np.shares_memory(got, image)  # a copy: a kept sample never holds the batch
        assert got.shape == want.shape and np.array_equal(got, want), (h, w)


@pytest.mark.parametrize("h, w", [(224, 224), (256, 256), (375, 500), (60, 80), (480, 640)])
def test_picked_thumbnails_are_the_thumbnails_of_the_picked_images(h, w):
    """Picked images are read where they lie in the batch (compiled shrinks) or copied out: the same bytes as
    one image at a time, in the order picked, repeats included; never a view of the batch."""
    rng = np.random.default_rng(h + w)
    images = rng.integers(0, 256, (7, 3, h, w), dtype=np.uint8)
    index = [6, 0, 3, 3, 5]
    got = thumbnails(images, index=index)
    assert len(got) == len(index) and thumbnails(images, index=[]) == []
    for i, t in zip(index, got):
        assert np.array_equal(t, reference_thumbnail(images[i])) and not np.shares_memory(t, images)
    assert all(np.array_equal(a, b) for a, b in zip(thumbnails(images), [thumbnail(im) for im in images]))
