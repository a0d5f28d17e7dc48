"""Arrays at the edge: numpy views of tensors and PIL images, image counts, and the mask layout rule
(a float A,H,W array is one one-hot mask only when the images, or what was read before, say so)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.batch.arrays import count_images, image_to_numpy, masks_to_list, to_numpy
from data_gradients.errors import BatchFormatError


def test_to_numpy_gives_native_byte_order_and_reads_bfloat16():
    big = np.arange(6, dtype=">u2").reshape(2, 3)
    out = to_numpy(big)
    assert out.dtype == np.uint16 and out.dtype.isnative and out.tolist() == big.tolist()
    bf = to_numpy(torch.tensor([0.5, 2.0], dtype=torch.bfloat16))
    assert bf.dtype == np.float32 and bf.tolist() == [0.5, 2.0]
    with pytest.raises(TypeError, match="cannot be read as a numpy array"):
        to_numpy(torch.zeros(2, 2).to_sparse())


def test_a_palette_image_is_its_indices_as_a_mask_and_its_colours_as_an_image():
    p = Image.fromarray(np.array([[0, 1], [2, 1]], dtype=np.uint8), mode="L").convert("P")
    p.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    assert to_numpy(p).tolist() == [[0, 1], [2, 1]]
    assert image_to_numpy(p)[0, 1].tolist() == [0, 255, 0] and image_to_numpy(p).shape == (2, 2, 3)


@pytest.mark.parametrize("obj, n", [
    ([np.zeros((3, 4, 4))] * 5, 5), (Image.new("RGB", (4, 4)), 1), (np.zeros((4, 4)), 1),
    (torch.zeros(6, 3, 4, 4), 6), (np.zeros((3, 4, 4)), None), (np.array(1.0), None), ("text", None),
])
def test_count_images_only_when_the_layout_says_it(obj, n):
    assert count_images(obj) == n


FLOAT_IDS = np.random.default_rng(0).integers(0, 2, (3, 5, 6)).astype(np.float32)  # 3 masks, values <= 1


@pytest.mark.parametrize("n_images, layout, masks", [
    (3, None, 3),  # the images say 3: three id masks
    (1, None, 1),  # one image: one one-hot mask
    (None, "ids", 3),  # the images cannot tell: what was read before decides
    (None, "one_hot", 1),
    (None, None, 1),  # nothing known: one-hot, as before
])
def test_a_float_mask_array_with_as_many_planes_as_classes(n_images, layout, masks):
    out = masks_to_list(FLOAT_IDS, n_channels=3, n_images=n_images, layout=layout)
    assert len(out) == masks and all(m.shape[-2:] == (5, 6) for m in out)


def test_masks_that_cannot_be_one_hot_are_ids_whatever_the_hints():
    for a in (FLOAT_IDS * 2, FLOAT_IDS.astype(np.int64), FLOAT_IDS[:2], np.zeros((3, 0, 6), np.float32)):
        assert len(masks_to_list(a, n_channels=3, n_images=1, layout="one_hot")) == len(a)


def test_a_short_last_batch_of_float_id_masks_is_not_taken_for_one_hot():
    rng = np.random.default_rng(1)
    builder = SegmentationBatchBuilder(3, (0, 1, 2), ())
    first = rng.integers(0, 3, (4, 5, 6)).astype(np.float32)
    last = rng.integers(0, 2, (3, 5, 6)).astype(np.float32)
    (a,) = builder.build(np.zeros((4, 5, 6, 3), np.uint8), first, 0)
    (b,) = builder.build(np.zeros((3, 5, 6, 3), np.uint8), last, 4)  # images N,H,W,C: the count is known
    assert builder.mask_layout == "ids" and a.masks.tolist() == first.tolist() and b.masks.tolist() == last.tolist()
    (c,) = builder.build(np.zeros((3, 5, 6), np.uint8), last, 7)  # rank-3 images: the layout read before decides
    assert len(c) == 3 and c.masks.tolist() == last.tolist()


def test_one_hot_masks_of_single_images_stay_one_hot():
    ids = torch.from_numpy(np.random.default_rng(2).integers(0, 3, (5, 6)))
    one_hot = F.one_hot(ids, 3).permute(2, 0, 1).float()
    builder = SegmentationBatchBuilder(3, (0, 1, 2), ())
    for images in (torch.zeros(1, 3, 5, 6), [torch.zeros(3, 5, 6)], torch.zeros(3, 5, 6)):
        (b,) = builder.build(images, one_hot, 0)
        assert b.masks.tolist() == [ids.tolist()] and builder.mask_layout == "one_hot"


def test_segmentation_zero_size_images_give_an_unreadable_batch_and_bad_masks_our_errors():
    builder = SegmentationBatchBuilder(3, (0, 1, 2), ())
    ok, empty = builder.build([torch.zeros(3, 4, 4), torch.zeros(3, 0, 4)], [torch.zeros(4, 4), torch.zeros(0, 4)], 0)
    assert not ok.unreadable and empty.unreadable and empty.sample_ids.tolist() == [1] and empty.masks.shape == (1, 0, 4)
    with pytest.raises(BatchFormatError, match="masks must hold class ids"):
        builder.build(torch.zeros(2, 3, 4, 4), np.zeros((2, 4, 4), complex), 0)
    (b,) = builder.build(torch.zeros(2, 3, 4, 4), torch.tensor([[[np.inf] * 4] * 4, [[1e30] * 4] * 4]), 0)
    assert b.out_of_range_pixels.tolist() == [16, 16] and b.non_integer_labels is None
