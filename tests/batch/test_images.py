"""The shared image batch: per-image channel histograms (exact, built once per batch) and the
uint8 conversion, whose OpenCV path for channels-last memory gives the same planes as numpy."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from data_gradients.batch import ClassificationBatchBuilder, ImageBatch, pixel_kernels
from data_gradients.batch import images as images_module
from data_gradients.batch.images import (
    channel_histograms,
    image_fields,
    pixel_statistics,
    plane_histograms,
    stack_group,
    to_uint8_rgb,
)
from data_gradients.context import AnalysisContext
from data_gradients.fastest_way import FastestInUse
from data_gradients.feature_extractors.common.brightness import ImageBrightness
from data_gradients.feature_extractors.common.channel_stats import ImageChannelStats
from data_gradients.feature_extractors.common.color_histogram import ColorDistribution
from data_gradients.feature_extractors.common.image_hash import _writeable

pytestmark = pytest.mark.usefixtures("pixel_path")  # compiled pixel loops and OpenCV ways alike


def batch(images) -> ImageBatch:
    n = len(images)
    return ImageBatch(images=images, sample_ids=np.arange(n), nonfinite_pixels=np.zeros(n, np.int64), source_channels=3)


@pytest.mark.parametrize("per_plane", [True, False])
@pytest.mark.parametrize("shape", [(3, 3, 7, 11), (1, 3, 1, 1), (2, 3, 64, 3), (4, 3, 0, 5), (0, 3, 4, 4)])
def test_pixel_statistics_are_exact_whichever_way_they_are_counted(monkeypatch, shape, per_plane):
    monkeypatch.setattr(images_module, "PLANE_PIXELS_PER_IMAGE", 1 if per_plane else 1 << 40)
    rng = np.random.default_rng(sum(shape))
    images = rng.integers(0, 256, shape, dtype=np.uint8)
    if images.size:
        images[0, 1] = 255  # a constant plane
    stats = pixel_statistics(images)
    n, c = shape[:2]
    planes = images.transpose(1, 0, 2, 3).reshape(c, -1)
    assert stats.channel_histograms.dtype == np.int64 and stats.sums.dtype == np.int64
    assert stats.channel_histograms.tolist() == [np.bincount(p, minlength=256).tolist() for p in planes]
    assert stats.sums.tolist() == images.reshape(n, c, shape[2] * shape[3]).astype(np.int64).sum(axis=2).tolist()
    assert stats.channel_sums_of_squares.tolist() == (planes.astype(np.int64) ** 2).sum(axis=1).tolist()


@pytest.mark.parametrize("limit, calls_per_plane", [(1 << 24, 1), (16, 3), (20, 2), (1, 9)])
def test_large_planes_are_counted_in_slices_for_exact_float32_counts(monkeypatch, limit, calls_per_plane):
    planes = np.zeros((6, 9, 4), dtype=np.uint8)
    planes[1::3] = 255
    planes[5, 8, 3] = 7
    calls = []
    real = images_module.cv2.calcHist
    monkeypatch.setattr(images_module.cv2, "calcHist", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(images_module, "MAX_PIXELS_PER_CALL", limit)
    got = plane_histograms(planes)
    assert got[[0, 3], 0].tolist() == [36, 36] and got[[1, 4], 255].tolist() == [36, 36]
    assert got[5, 0] == 35 and got[5, 7] == 1 and got.sum() == 6 * 36
    assert len(calls) == 6 * calls_per_plane


@pytest.mark.parametrize("limit", [1 << 24, 100, 7])
def test_small_images_are_counted_per_channel_over_the_batch(monkeypatch, limit):
    monkeypatch.setattr(images_module, "MAX_PIXELS_PER_CALL", limit)
    images = np.random.default_rng(4).integers(0, 256, (9, 3, 5, 4), dtype=np.uint8)
    stats = pixel_statistics(images)
    for ch in range(3):
        assert stats.channel_histograms[ch].tolist() == np.bincount(images[:, ch].ravel(), minlength=256).tolist()
    assert stats.sums.tolist() == images.reshape(9, 3, -1).astype(np.int64).sum(axis=2).tolist()


@pytest.mark.parametrize("method", [images_module.JOINT, images_module.SINGLE, images_module.PAIRS])
@pytest.mark.parametrize("limit", [1 << 24, 12, 5, 1])
@pytest.mark.parametrize("n, c, p", [(1, 3, 1), (1, 3, 7), (4, 3, 10), (3, 1, 9), (2, 2, 6), (5, 4, 3), (2, 5, 11)])
def test_every_way_of_counting_channels_gives_the_exact_counts(monkeypatch, method, limit, n, c, p):
    monkeypatch.setattr(pixel_kernels, "KERNELS", None)  # OpenCV's ways, one by one
    monkeypatch.setattr(images_module._HISTOGRAMS, "choice", method)
    monkeypatch.setattr(images_module, "MAX_PIXELS_PER_CALL", limit)
    rng = np.random.default_rng(n * 100 + c * 10 + p)
    planes = rng.integers(0, 256, (n, c, p), dtype=np.uint8)
    planes[0, 0, :2] = 255  # the extreme values in both marginals
    planes[-1, -1, -1] = 0
    want = [np.bincount(planes[:, ch].ravel(), minlength=256).tolist() for ch in range(c)]
    assert channel_histograms(planes).tolist() == want
    flat = np.zeros((n, c, p), dtype=np.uint8)  # one value everywhere: a single bin of the joint histograms
    assert channel_histograms(flat)[:, 0].tolist() == [n * p] * c


@pytest.mark.parametrize("method", [images_module.JOINT, images_module.SINGLE, images_module.PAIRS])
def test_histograms_stay_within_exact_float32_counts(monkeypatch, method):
    monkeypatch.setattr(pixel_kernels, "KERNELS", None)  # OpenCV's ways, one by one
    monkeypatch.setattr(images_module._HISTOGRAMS, "choice", method)
    calls = []
    real = images_module.cv2.calcHist
    monkeypatch.setattr(images_module.cv2, "calcHist", lambda arrays, *a: calls.append(arrays[0].size) or real(arrays, *a))
    monkeypatch.setattr(images_module, "MAX_PIXELS_PER_CALL", 10)
    images = np.full((3, 3, 4, 5), 9, dtype=np.uint8)
    stats = pixel_statistics(images)
    assert stats.channel_histograms[:, 9].tolist() == [60, 60, 60] and stats.channel_histograms.sum() == 180
    assert max(calls) <= 10 and stats.sums.tolist() == [[180] * 3] * 3


def _recording_ways(monkeypatch, slow_except=None):
    """A fresh picker, batches of 100 pixels and more timed, and the list of the ways that counted (the ways
    other than ``slow_except`` made 20 ms slower); without the compiled loops, which take no pick."""
    monkeypatch.setattr(pixel_kernels, "KERNELS", None)
    monkeypatch.setattr(images_module, "_HISTOGRAMS", FastestInUse((images_module.SINGLE, images_module.JOINT,
                                                                    images_module.PAIRS), rounds=2))
    monkeypatch.setattr(images_module, "PROBE_PIXELS", 100)
    real, ways = images_module._channel_histograms, []

    def recorded(planes, method):
        ways.append(method)
        if slow_except is not None and method != slow_except:
            time.sleep(0.02)
        return real(planes, method)

    monkeypatch.setattr(images_module, "_channel_histograms", recorded)
    return ways


def _exact(planes):
    return [np.bincount(planes[:, ch].ravel(), minlength=256).tolist() for ch in range(planes.shape[1])]


@pytest.mark.parametrize("expected", ["single", "joint", "pairs"])
def test_large_batches_are_counted_by_each_way_in_turn_until_the_fastest_is_known(monkeypatch, expected):
    ways = _recording_ways(monkeypatch, slow_except=expected)
    small = np.ones((1, 3, 10), dtype=np.uint8)  # below the probe's size: counted one way, not timed
    assert channel_histograms(small)[:, 1].tolist() == [10] * 3 and images_module._HISTOGRAMS.trials == []
    rng = np.random.default_rng(0)
    for k in range(6):
        planes = rng.integers(0, 256, (2, 3, 100), dtype=np.uint8)
        assert channel_histograms(planes).tolist() == _exact(planes)  # every batch counted once, exactly
        assert images_module._HISTOGRAMS.choice == (expected if k == 5 else None)
    assert ways == ["single"] + ["single", "joint", "pairs"] * 2
    planes = rng.integers(0, 256, (3, 3, 100), dtype=np.uint8)
    assert channel_histograms(planes).tolist() == _exact(planes) and ways[-1] == expected and len(ways) == 8


def test_batches_with_an_odd_pixel_count_are_not_timed_with_pairs(monkeypatch):
    ways = _recording_ways(monkeypatch, slow_except="joint")
    rng = np.random.default_rng(1)
    for _ in range(12):  # 101 pixels: no uint16 view; the pick waits for pairs, up to 12 trials
        planes = rng.integers(0, 256, (2, 3, 101), dtype=np.uint8)
        assert channel_histograms(planes).tolist() == _exact(planes)
    assert ways == ["single", "joint"] * 6 and images_module._HISTOGRAMS.choice == "joint"


def test_pairs_are_timed_on_the_first_batches_that_allow_them(monkeypatch):
    ways = _recording_ways(monkeypatch, slow_except="pairs")
    rng = np.random.default_rng(2)
    for p in (101, 100, 101, 100, 101, 100):
        planes = rng.integers(0, 256, (2, 3, p), dtype=np.uint8)
        assert channel_histograms(planes).tolist() == _exact(planes)
    assert ways == ["single", "joint", "single", "pairs", "joint", "pairs"]
    assert images_module._HISTOGRAMS.choice == "pairs"


@pytest.mark.parametrize("shape, offset", [((2, 3, 9), 0), ((3, 3, 10), 1), ((1, 1, 2), 1)])
def test_pairs_fall_back_to_single_where_no_uint16_view_exists(monkeypatch, shape, offset):
    """An odd pixel count, or pixels at an odd address (a view into a larger buffer): one histogram per channel."""
    monkeypatch.setattr(images_module._HISTOGRAMS, "choice", images_module.PAIRS)
    size = int(np.prod(shape))
    buffer = np.random.default_rng(size).integers(0, 256, size + offset, dtype=np.uint8)
    planes = buffer[offset:].reshape(shape)
    assert images_module._pairs_view(planes, 0) is None or (shape[2] % 2 == 0 and offset == 0)
    want = [np.bincount(planes[:, ch].ravel(), minlength=256).tolist() for ch in range(shape[1])]
    assert channel_histograms(planes).tolist() == want


def test_pairs_count_both_pixels_of_every_pair():
    """Pairs whose two pixels differ, in both orders, and runs of one value: each pixel counted once."""
    planes = np.array([[[0, 255, 255, 0, 7, 7, 1, 2]], [[2, 1, 9, 9, 9, 9, 255, 255]]], dtype=np.uint8)
    counts = images_module._channel_histograms(planes, images_module.PAIRS)
    assert counts[0].tolist() == np.bincount(planes.ravel(), minlength=256).tolist()


def test_pixel_stats_are_built_once_per_batch_for_every_image_feature(monkeypatch):
    calls = []
    real = images_module.pixel_statistics
    monkeypatch.setattr(images_module, "pixel_statistics", lambda im: calls.append(1) or real(im))
    ctx = AnalysisContext(task="classification", num_classes=2, class_ids=(0, 1))
    images = np.random.default_rng(0).integers(0, 256, (3, 3, 5, 6), dtype=np.uint8)
    b = batch(images)
    for cls in (ImageBrightness, ImageChannelStats, ColorDistribution):
        cls(ctx).update(b, "train")
    assert len(calls) == 1
    assert b.pixel_stats is b.pixel_stats and len(calls) == 1
    b.images = images[::-1].copy()  # new pixels: the statistics follow them
    assert b.pixel_stats.sums.tolist() == real(images[::-1]).sums.tolist() and len(calls) == 2


def channels_last(images: np.ndarray) -> np.ndarray:
    """The same N,C,H,W images, stored H,W,C in memory (as permuted HWC arrays are)."""
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 3, 1, 1), (3, 3, 1, 9), (2, 3, 8, 1), (4, 3, 33, 65)])
def test_channels_last_uint8_images_give_the_same_planes(shape):
    images = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    src = channels_last(images)
    assert images_module._channels_last(src) or src.flags.c_contiguous  # a 1 x 1 image is both
    for stack in (src, src[::2], src[1:]):  # also views with other image strides
        out, nonfinite = to_uint8_rgb(stack, set())
        assert out.flags.c_contiguous and not out.flags.writeable
        assert np.array_equal(out, np.ascontiguousarray(stack)) and nonfinite.tolist() == [0] * len(stack)


def test_other_layouts_keep_the_numpy_path():
    rng = np.random.default_rng(2)
    rgba = channels_last(rng.integers(0, 256, (2, 4, 3, 5), dtype=np.uint8))
    out, _ = to_uint8_rgb(rgba, set())
    assert np.array_equal(out, np.ascontiguousarray(rgba[:, :3]))
    assert not images_module._channels_last(rgba[:, :3])
    assert not images_module._channels_last(channels_last(rng.random((2, 3, 3, 5))))
    assert not images_module._channels_last(rng.integers(0, 256, (2, 3, 3, 5), dtype=np.uint8)[:, :, :, ::-1])
    planar = rng.integers(0, 256, (2, 3, 3, 5), dtype=np.uint8)
    out, _ = to_uint8_rgb(planar, set())
    assert np.shares_memory(out, planar)  # contiguous planes: no copy, as before


def test_channels_last_tensors_build_the_same_batch_as_contiguous_ones():
    images = torch.from_numpy(np.random.default_rng(3).integers(0, 256, (4, 3, 6, 10), dtype=np.uint8))
    labels = torch.tensor([0, 1, 1, 0])
    builder = ClassificationBatchBuilder(2, (0, 1), ())
    (plain,) = builder.build(images, labels, first_sample_id=0)
    (permuted,) = builder.build(images.contiguous(memory_format=torch.channels_last), labels, first_sample_id=0)
    assert np.array_equal(plain.images, permuted.images) and permuted.images.flags.c_contiguous
    assert plain.pixel_stats.sums.tolist() == permuted.pixel_stats.sums.tolist()


def test_stack_group_returns_a_collated_batch_without_a_copy_and_copies_anything_else():
    batched = np.random.default_rng(5).integers(0, 256, (4, 3, 5, 6), dtype=np.uint8)
    tensor = torch.from_numpy(batched)
    items = list(tensor.numpy())
    assert np.shares_memory(stack_group(items, [0, 1, 2, 3]), batched)
    for group, idx in ((items[::-1], [0, 1, 2, 3]), (items, [0, 2]), (list(batched[:, :, ::-1]), [0, 1, 2, 3]),
                       (list(batched[::2]), [0, 1]), ([x.copy() for x in items], [0, 1, 2, 3])):
        out = stack_group(group, idx)
        assert not np.shares_memory(out, batched)
        assert np.array_equal(out, np.stack([group[i] for i in idx]))
    assert np.shares_memory(stack_group(list(tensor[1:3].numpy()), [0, 1]), batched)  # a sliced tensor: no copy either


def test_the_rows_of_one_array_stack_back_to_it_without_looking_at_each_row():
    from data_gradients.batch.arrays import Rows, images_to_nchw, masks_to_list

    batched = np.random.default_rng(6).integers(0, 256, (4, 3, 5, 6), dtype=np.uint8)
    rows = images_to_nchw(batched, torch_layout=True)
    assert isinstance(rows, Rows) and rows.whole is batched and len(rows) == 4
    assert stack_group(rows, [0, 1, 2, 3]) is batched
    assert np.array_equal(stack_group(rows, [1, 3]), batched[[1, 3]]) and not np.shares_memory(stack_group(rows, [1, 3]), batched)
    masks = masks_to_list(np.ascontiguousarray(batched[:, 0]), n_channels=3)  # N,H,W id masks
    assert isinstance(masks, Rows) and stack_group(masks, [0, 1, 2, 3]) is masks.whole
    assert not isinstance(images_to_nchw(batched.transpose(0, 2, 3, 1), torch_layout=False), Rows)  # NHWC: moved
    flipped = images_to_nchw(batched[:, :, ::-1], torch_layout=True)  # not contiguous: stacked into a copy, as before
    assert isinstance(flipped, Rows) and stack_group(flipped, [0, 1, 2, 3]).flags.c_contiguous
    assert np.array_equal(stack_group(flipped, [0, 1, 2, 3]), batched[:, :, ::-1])


def test_mixed_dtypes_give_read_only_images_a_view_of_which_can_be_written_through():
    """As for one dtype: the image hash hands a writeable view of them to torch, without a copy."""
    items = [np.full((3, 4, 5), 200, dtype=np.uint8), np.full((3, 4, 5), 0.5, dtype=np.float32)]
    images = image_fields(items, [0, 1], 0, set())["images"]
    assert images.dtype == np.uint8 and not images.flags.writeable
    assert images[0].max() == 200 and np.shares_memory(_writeable(images), images)
