"""Every accepted image/mask format yields the same canonical batch; bad batches raise
errors naming what arrived; bad data inside a batch is counted."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.batch.images import NOTE_FLOAT_255, NOTE_NEGATIVE
from data_gradients.errors import BatchFormatError

N, H, W = 3, 6, 10


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, H, W, 3), dtype=np.uint8)  # NHWC uint8 reference
    masks = rng.integers(0, 4, (N, H, W)).astype(np.int64)
    return images, masks


def builder(num_classes=4, ignore=()):
    ids = (1,) if num_classes == 1 else tuple(i for i in range(num_classes) if i not in ignore)
    return SegmentationBatchBuilder(num_classes, ids, ignore)


def build_one(images, masks, **kw):
    out = builder(**kw).build(images, masks, first_sample_id=0)
    assert len(out) == 1
    return out[0]


FORMATS = {
    "tensor NCHW uint8": lambda im, m: (torch.from_numpy(im).permute(0, 3, 1, 2), torch.from_numpy(m)),
    "tensor NCHW float01": lambda im, m: (torch.from_numpy(im).permute(0, 3, 1, 2).float() / 255, torch.from_numpy(m)),
    "ndarray NHWC uint8": lambda im, m: (im, m),
    "ndarray NCHW float01": lambda im, m: (im.transpose(0, 3, 1, 2).astype(np.float64) / 255, m.astype(np.int32)),
    "list of PIL": lambda im, m: ([Image.fromarray(x) for x in im], [Image.fromarray(x.astype(np.uint8)) for x in m]),
    "list of CHW tensors": lambda im, m: ([torch.from_numpy(x).permute(2, 0, 1) for x in im], list(torch.from_numpy(m))),
    "one-hot masks": lambda im, m: (im, np.eye(4, dtype=np.float32)[m].transpose(0, 3, 1, 2)),
    "N,1,H,W masks": lambda im, m: (im, m[:, None]),
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_formats_give_the_same_canonical_batch(data, fmt):
    images, masks = data
    b = build_one(*FORMATS[fmt](images, masks))
    assert b.images.dtype == np.uint8 and b.images.shape == (N, 3, H, W)
    np.testing.assert_array_equal(b.images, images.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(b.masks, masks)
    np.testing.assert_array_equal(b.sample_ids, [0, 1, 2])
    assert b.out_of_range_pixels.sum() == 0 and b.nonfinite_pixels.sum() == 0


def test_single_image_and_mask(data):
    images, masks = data
    b = build_one(torch.from_numpy(images[0]).permute(2, 0, 1), torch.from_numpy(masks[0]))
    assert b.images.shape == (1, 3, H, W)
    np.testing.assert_array_equal(b.masks[0], masks[0])


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_channel_counts(channels):
    images = np.full((2, channels, H, W), 7, dtype=np.uint8)
    b = build_one(torch.from_numpy(images), np.zeros((2, H, W), dtype=np.int64))
    assert b.images.shape == (2, 3, H, W) and (b.images == 7).all()
    assert b.source_channels == channels


def test_float_images_in_0_255_are_detected_and_noted():
    bld = builder()
    images = torch.full((2, 3, H, W), 200.0)
    b = bld.build(images, torch.zeros(2, H, W, dtype=torch.long), 0)[0]
    assert (b.images == 200).all()
    assert NOTE_FLOAT_255 in bld.notes


def test_negative_images_are_clipped_and_noted():
    bld = builder()
    b = bld.build(torch.full((1, 3, H, W), -1.5), torch.zeros(1, H, W, dtype=torch.long), 0)[0]
    assert (b.images == 0).all() and NOTE_NEGATIVE in bld.notes


def test_mixed_sizes_in_one_batch_are_split_by_size():
    images = [torch.zeros(3, 4, 5), torch.zeros(3, 8, 8), torch.zeros(3, 4, 5)]
    masks = [torch.zeros(4, 5, dtype=torch.long), torch.ones(8, 8, dtype=torch.long), torch.zeros(4, 5, dtype=torch.long)]
    out = builder().build(images, masks, first_sample_id=10)
    assert [b.sample_ids.tolist() for b in out] == [[10, 12], [11]]
    assert out[1].masks.shape == (1, 8, 8) and (out[1].masks == 1).all()


def test_ignored_and_out_of_range_ids():
    m = np.array([[[0, 1, 255, 7], [-1, 2, 3, 3]]])
    b = build_one(np.zeros((1, 3, 2, 4), np.uint8), m, ignore=(255,))
    np.testing.assert_array_equal(b.masks, [[[0, 1, -1, -1], [-1, 2, 3, 3]]])
    assert b.out_of_range_pixels.tolist() == [2]  # 7 and -1; 255 is ignored, not an error


def test_binary_masks_background_is_not_a_class():
    m = np.array([[[0, 1], [1, 2]]])
    b = build_one(np.zeros((1, 3, 2, 2), np.uint8), m, num_classes=1)
    np.testing.assert_array_equal(b.masks, [[[-1, 1], [1, -1]]])
    assert b.out_of_range_pixels.tolist() == [1]


def test_soft_binary_masks_are_thresholded():
    m = torch.tensor([[[[0.2, 0.7], [0.51, 0.0]]]])  # N,1,H,W float
    b = build_one(torch.zeros(1, 3, 2, 2), m, num_classes=1)
    np.testing.assert_array_equal(b.masks, [[[-1, 1], [1, -1]]])


def test_nan_and_inf_pixels_are_counted_per_sample():
    images = torch.rand(3, 3, H, W)
    images[1, 0, 0, :3] = float("nan")
    images[2, 2, 1, 1] = float("inf")
    b = build_one(images, torch.zeros(3, H, W, dtype=torch.long))
    assert b.nonfinite_pixels.tolist() == [0, 3, 1]


@pytest.mark.parametrize(
    "images, masks, expected",
    [
        (torch.zeros(2, 3, 4, 4), torch.zeros(2, 5, 4, dtype=torch.long), "image and mask sizes disagree"),
        (torch.zeros(3, 3, 4, 4), torch.zeros(2, 4, 4, dtype=torch.long), "disagree on the batch size"),
        (torch.zeros(2, 3, 4, 4, 1), torch.zeros(2, 4, 4, dtype=torch.long), "must have rank"),
        (torch.zeros(2, 3, 4, 4), torch.zeros(2, 4, 4, 4, 1, dtype=torch.long), "`labels` could not be read"),
        (torch.zeros(2, 7, 4, 9), torch.zeros(2, 4, 9, dtype=torch.long), "1, 3 or 4 channels"),
        ("not an image", torch.zeros(2, 4, 4, dtype=torch.long), "`images` could not be read"),
    ],
)
def test_unusable_batches_raise_naming_what_arrived(images, masks, expected):
    with pytest.raises(BatchFormatError, match=expected) as e:
        builder().build(images, masks, 0)
    assert any(k in str(e.value) for k in ("shape", "H,W", "str")), "the message must echo what arrived"


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 4), h=st.integers(2, 9), w=st.integers(2, 9), channels=st.sampled_from([1, 3, 4]),
    layout=st.sampled_from(["tensor_nchw", "ndarray_nhwc", "list"]), as_float=st.booleans(),
)
def test_layouts_round_trip(n, h, w, channels, layout, as_float):
    rng = np.random.default_rng(n * 100 + h * 10 + w)
    ref = rng.integers(0, 256, (n, channels, h, w), dtype=np.uint8)
    masks = rng.integers(0, 3, (n, h, w))
    x = ref.astype(np.float32) / 255 if as_float else ref
    if layout == "tensor_nchw":
        images = torch.from_numpy(x)
    elif layout == "ndarray_nhwc":
        images = x.transpose(0, 2, 3, 1)
    else:
        images = [torch.from_numpy(i) for i in x]
    out = builder(num_classes=3).build(images, masks, 0)
    assert len(out) == 1
    expected = np.repeat(ref, 3, axis=1) if channels == 1 else ref[:, :3]
    np.testing.assert_array_equal(out[0].images, expected)
    np.testing.assert_array_equal(out[0].masks, masks)


@pytest.mark.parametrize("num_classes, ignore", [(1, ()), (19, (255,)), (4, (0, 7)), (300, (255,)),
                                                  (19, (30, 60, 255)), (19, (30, 60, 90))])
def test_uint8_masks_count_out_of_range_like_wide_ones(num_classes, ignore):
    """uint8 masks take OpenCV lookups (ids and out-of-range marks); int64 ones the generic path."""
    from data_gradients.batch import SegmentationBatchBuilder
    from data_gradients.classes import counted_class_ids

    rng = np.random.default_rng(num_classes)
    masks = rng.integers(0, 256, (3, 7, 11)).astype(np.uint8)
    masks[1] = np.minimum(masks[1], min(num_classes, 255))  # one sample mostly in range
    b = SegmentationBatchBuilder(num_classes, counted_class_ids(num_classes, ignore), ignore)
    ids8, oor8 = b._labels(masks)
    ids64, oor64 = b._labels(masks.astype(np.int64))
    expected_oor = [int((~np.isin(m, b.class_ids) & ~np.isin(m, b.uncounted)).sum()) for m in masks]
    assert oor8.tolist() == oor64.tolist() == expected_oor
    np.testing.assert_array_equal(ids8, ids64)


@pytest.mark.parametrize("num_classes, ignore", [(1, ()), (19, (255,)), (4, (0, 7)), (300, (255,)), (19, (30, 60, 90))])
@pytest.mark.parametrize("view_first", [False, True])
def test_out_of_range_of_uint8_labels_counted_when_read_like_wide_ones(num_classes, ignore, view_first):
    """Built batches of uint8 labels count out-of-range values when read: from the view's runs when the view
    has found them (``view_first``), else over the labels; either way what numpy and the int64 path count."""
    from data_gradients.classes import counted_class_ids

    rng = np.random.default_rng(num_classes + 7 * view_first)
    ids = counted_class_ids(num_classes, ignore)
    for trial in range(12):
        n, h, w = int(rng.integers(1, 5)), int(rng.integers(1, 40)), int(rng.integers(1, 50))
        masks = rng.integers(0, 256, (n, h, w)).astype(np.uint8)
        if trial % 3 == 0:  # regions of one value, as masks are
            masks = np.repeat(rng.integers(0, 256, (n, h, 1), dtype=np.uint8), w, axis=2)
        if trial % 4 == 1:
            masks = np.minimum(masks, min(num_classes, 255)).astype(np.uint8)  # mostly in range
        images = np.zeros((n, 3, h, w), np.uint8)
        (b8,) = SegmentationBatchBuilder(num_classes, ids, ignore).build(images, masks, 0)
        (b64,) = SegmentationBatchBuilder(num_classes, ids, ignore).build(images, masks.astype(np.int64), 0)
        assert b8.label_source is not None and b64.label_source is None
        if view_first:
            b8.view.counted_pixels()
        uncounted = list(ignore) + ([0] if num_classes == 1 else [])  # binary: 0 is background
        expected = [int((~np.isin(m, ids) & ~np.isin(m, uncounted)).sum()) for m in masks]
        assert b8.out_of_range_pixels.dtype == np.int64
        assert b8.out_of_range_pixels.tolist() == b64.out_of_range_pixels.tolist() == expected
        np.testing.assert_array_equal(b8.masks, b64.masks)


def test_view_label_pixels_equal_numpy():
    from data_gradients.batch.segmentation_view import SegmentationView

    rng = np.random.default_rng(11)
    table = np.arange(256, dtype=np.int32)
    for trial in range(40):
        n, h, w = int(rng.integers(1, 4)), int(rng.integers(0, 9)), int(rng.integers(1, 30))
        labels = rng.integers(0, 6, (n, h, w)).astype(np.uint8) * int(rng.integers(1, 50))
        flagged = rng.random(256) < rng.random()
        expected = flagged[labels].reshape(n, -1).sum(axis=1)
        got = SegmentationView(None, (labels, table)).label_pixels(flagged)
        assert got.dtype == np.int64 and got.tolist() == expected.tolist()
    with pytest.raises(ValueError):
        SegmentationView(np.zeros((1, 2, 2), np.int32)).label_pixels(np.zeros(256, bool))


def test_count_flagged_equals_numpy_for_any_flagged_values():
    """OpenCV's range marks (few ranges) and table lookup (many) count what numpy counts, per sample."""
    from data_gradients.batch.segmentation import _count_flagged

    rng = np.random.default_rng(5)
    for trial in range(60):
        n, h, w = int(rng.integers(1, 4)), int(rng.integers(1, 9)), int(rng.integers(1, 13))
        labels = rng.integers(0, 256, (n, h, w)).astype(np.uint8)
        if trial % 3 == 0:
            labels[:] = rng.integers(0, 20)  # constant batches: nothing flagged, or everything
        flagged = np.zeros(int(rng.integers(1, 257)), dtype=bool)
        for _ in range(int(rng.integers(0, 5))):  # 0..4 ranges of flagged values, some touching
            a = int(rng.integers(0, len(flagged)))
            flagged[a:a + int(rng.integers(1, 80))] = True
        padded = np.zeros(256, dtype=bool)
        padded[: len(flagged)] = flagged
        expected = padded[labels].reshape(n, -1).sum(axis=1)
        assert _count_flagged(labels, flagged).tolist() == expected.tolist()
