"""Thumbnails: area averages, the same for an image whatever its batch, built once per batch."""
import cv2
import numpy as np
import pytest

from data_gradients.batch import ImageBatch
from data_gradients.feature_extractors.common.thumbnails import (
    SIZE,
    compute_thumbnails,
    grey_of,
    grey_thumbnails,
    plane_thumbnail,
)

pytestmark = pytest.mark.usefixtures("pixel_path")  # compiled pixel loops and OpenCV ways alike


def test_whole_factors_are_block_means():
    rng = np.random.default_rng(0)
    plane = rng.integers(0, 256, (128, 128), dtype=np.uint8)  # one halving: 2 x 2 means rounded half up
    means = plane.reshape(SIZE, 2, SIZE, 2).astype(np.float64).mean(axis=(1, 3))
    assert np.array_equal(plane_thumbnail(plane), np.floor(means + 0.5).astype(np.uint8))
    for h, w in [(256, 128), (64, 64), (256, 256)]:  # every row read, whole steps, rounded once per step
        plane = rng.integers(0, 256, (h, w), dtype=np.uint8)
        means = plane.reshape(SIZE, h // SIZE, SIZE, w // SIZE).astype(np.float64).mean(axis=(1, 3))
        assert np.abs(plane_thumbnail(plane) - means).max() <= 1.0


def test_any_size_gives_a_thumbnail_close_to_the_area_average():
    rng = np.random.default_rng(1)
    for h, w in [(720, 1280), (1280, 720), (480, 640), (30, 40), (64, 1000), (333, 517)]:
        # a smooth image: leaving out a few border rows and reading every 2nd row change little
        small = rng.integers(0, 256, (8, 8), dtype=np.uint8).astype(np.float32)
        plane = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)
        exact = cv2.resize(plane.astype(np.float64), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        thumb = plane_thumbnail(plane)
        assert thumb.shape == (SIZE, SIZE) and thumb.dtype == np.uint8
        assert np.abs(thumb - exact).mean() < 3.0


def test_batch_independent_and_grey_is_integer_luma():
    rng = np.random.default_rng(2)
    # even and odd heights, enlarged (< 64), halved, read on every 2nd row (720): planes never mix
    for h, w in [(90, 150), (30, 40), (63, 200), (375, 500), (227, 301), (720, 1280)]:
        images = rng.integers(0, 256, (5, 3, h, w), dtype=np.uint8)
        whole = compute_thumbnails(images)
        for i in range(5):
            one = compute_thumbnails(images[i:i + 1])
            assert np.array_equal(one.planes[0], whole.planes[i]) and np.array_equal(one.grey[0], whole.grey[i])
        assert np.array_equal(compute_thumbnails(images[1:4]).planes, whole.planes[1:4])
    p = whole.planes.astype(np.int64)
    luma = (299 * p[:, 0] + 587 * p[:, 1] + 114 * p[:, 2] + 500) // 1000
    assert np.array_equal(whole.grey, luma)


def test_cached_on_the_batch_and_rebuilt_for_new_images():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (2, 3, 20, 30), dtype=np.uint8)
    batch = ImageBatch(images=images, sample_ids=np.arange(2), nonfinite_pixels=np.zeros(2, np.int64), source_channels=3)
    first = grey_thumbnails(batch)
    assert grey_thumbnails(batch) is first
    batch.images = images[::-1].copy()
    again = grey_thumbnails(batch)
    assert again is not first and np.array_equal(again.grey[0], first.grey[1])


def test_grey_is_the_integer_luma_of_every_colour():
    rgb = np.empty((256, 3, 256, 256), np.uint8)  # thumbnail r holds every (g, b) with red r: all 2**24 colours
    rgb[:, 0] = np.arange(256, dtype=np.uint8)[:, None, None]
    rgb[:, 1] = np.arange(256, dtype=np.uint8)[None, :, None]
    rgb[:, 2] = np.arange(256, dtype=np.uint8)[None, None, :]
    r, g, b = rgb.astype(np.int64).transpose(1, 0, 2, 3)
    luma = 299 * r + 587 * g + 114 * b
    assert ((luma + 500) % 1000 == 0).any()  # exact quotients exist: the floor at an integer is exercised
    assert np.array_equal(grey_of(rgb), ((luma + 500) // 1000).astype(np.uint8))
    assert grey_of(np.zeros((0, 3, SIZE, SIZE), np.uint8)).shape == (0, SIZE, SIZE)


def test_grey_is_the_integer_luma_over_several_passes_of_thumbnails():
    rng = np.random.default_rng(3)
    for n in (1, 16, 37):  # 16 thumbnails of 64 x 64 per pass: one, a full and several passes with a remainder
        rgb = rng.integers(0, 256, (n, 3, SIZE, SIZE), dtype=np.uint8)
        luma = np.einsum("nchw,c->nhw", rgb.astype(np.int64), np.array([299, 587, 114]))
        assert np.array_equal(grey_of(rgb), ((luma + 500) // 1000).astype(np.uint8))


@pytest.mark.parametrize("h, w", [(224, 224), (480, 640), (720, 1280), (131, 300), (227, 302), (256, 130),
                                  (150, 130), (225, 301)])
def test_thumbnails_go_on_from_the_counting_pass_halving(h, w, monkeypatch):
    """The batch's pixel counting pass makes the thumbnails' first halving (compiled loops only); the thumbnails
    go on from it and are the same bytes: whole area steps (224), several halvings (480 x 640), rows read with a
    step (720), odd rows and columns, and a first halving that is the last one (256 x 130, 150 x 130). An odd
    plane (225 x 301) is not counted by the compiled pass, and its thumbnails start from the images."""
    from data_gradients.batch import pixel_kernels
    from data_gradients.batch.thumbnail_plan import first_halving_step

    rng = np.random.default_rng(h * w)
    images = cv2.GaussianBlur(rng.integers(0, 256, (3 * 3 * h, w), dtype=np.uint8), (5, 5), 0).reshape(3, 3, h, w)
    batch = ImageBatch(images=images, sample_ids=np.arange(3), nonfinite_pixels=np.zeros(3, np.int64), source_channels=3)
    step = first_halving_step(h, w)
    assert step  # every shape here is halved first
    assert batch.pixel_stats.halved(step) is None  # not counted yet: nothing made
    batch.pixel_stats.sums
    halved = batch.pixel_stats.halved(step)
    assert (halved is not None) == (pixel_kernels.KERNELS is not None and h * w % 2 == 0)
    assert batch.pixel_stats.halved(step + 1) is None
    assert batch.counted_halving(step) is halved
    alone = compute_thumbnails(images)
    from data_gradients.feature_extractors.common import thumbnails as module

    given = []
    monkeypatch.setattr(module, "compute_thumbnails",
                        lambda im, **kw: given.append(kw.get("halved")) or compute_thumbnails(im, **kw))
    thumbs = grey_thumbnails(batch)
    assert len(given) == 1 and given[0] is halved  # the batch's thumbnails start from the counting pass's halving
    assert np.array_equal(thumbs.planes, alone.planes) and np.array_equal(thumbs.grey, alone.grey)
    if halved is not None:
        assert np.array_equal(compute_thumbnails(images, halved=halved).planes, alone.planes)
        with pytest.raises(ValueError, match="halved planes"):
            compute_thumbnails(images[:2], halved=halved)


def test_images_the_thumbnails_do_not_halve_are_not_halved_by_the_counts():
    images = np.zeros((2, 3, 100, 100), np.uint8)
    batch = ImageBatch(images=images, sample_ids=np.arange(2), nonfinite_pixels=np.zeros(2, np.int64), source_channels=3)
    batch.pixel_stats.channel_histograms
    assert all(batch.pixel_stats.halved(step) is None for step in (0, 1, 2))
