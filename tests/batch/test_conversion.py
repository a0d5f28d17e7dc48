"""Pixel values to uint8: each image by the rule of its own type, never by its neighbours' values.

Oracles: the whole-batch converter of before (kept below, slow and plain) on batches whose images all
fall under one rule, and that same converter on each image alone for mixed batches.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from data_gradients.batch import ClassificationBatchBuilder, DetectionBatchBuilder
from data_gradients.batch.conversion import IMAGE_PROBLEMS, NOTE_16_BIT, NOTE_FLOAT_255, convert_images
from data_gradients.batch.images import image_fields


def reference(stack: np.ndarray) -> np.ndarray:
    """The batch converter before per-image rules (one rule for the whole batch, from its values);
    16-bit types are scaled by their type, as now."""
    if stack.dtype == np.uint8:
        out = stack
    elif stack.dtype == np.bool_:
        out = stack.astype(np.uint8) * 255
    elif stack.dtype.kind in "iu":
        if stack.dtype.itemsize == 2 or int(stack.max()) > 255:
            out = (np.clip(stack, 0, 65535) // 257).astype(np.uint8)
        else:
            out = np.clip(stack, 0, 255).astype(np.uint8)
    else:
        f = stack.astype(np.float32) if stack.dtype not in (np.float32, np.float64) else stack
        f = np.where(np.isfinite(f), f, f.dtype.type(0))
        f = np.maximum(f, 0)
        scale = 1.0 if float(f.max()) > 1.0 + 1e-6 else 255.0
        out = cv2.convertScaleAbs(np.ascontiguousarray(f).reshape(-1, f.shape[-1]), alpha=scale).reshape(f.shape)
    c = out.shape[1]
    return np.repeat(out, 3, axis=1) if c == 1 else out[:, :3]


def column(key: str) -> int:
    return IMAGE_PROBLEMS.index(key)


UNIFORM = {
    "uint8": lambda rng: rng.integers(0, 256, (4, 3, 5, 6), dtype=np.uint8),
    "bool": lambda rng: rng.random((3, 1, 4, 4)) < 0.5,
    "int8": lambda rng: rng.integers(-128, 128, (3, 3, 4, 4), dtype=np.int8),
    "uint16": lambda rng: rng.integers(0, 65536, (3, 3, 5, 6), dtype=np.uint16),
    "int16": lambda rng: rng.integers(-300, 30000, (3, 1, 5, 6), dtype=np.int16),
    "int64 in 0..255": lambda rng: rng.integers(0, 256, (3, 3, 4, 7)),
    "int32 16-bit": lambda rng: rng.integers(256, 65536, (3, 3, 4, 7)).astype(np.int32),
    "float32 0..1": lambda rng: rng.random((4, 3, 5, 6), dtype=np.float32),
    "float64 0..255": lambda rng: rng.random((2, 3, 5, 6)) * 255,
    "float16 0..1": lambda rng: rng.random((2, 4, 3, 3)).astype(np.float16),
    "float32 normalised": lambda rng: rng.normal(size=(3, 3, 5, 5)).astype(np.float32),
}


@pytest.mark.parametrize("kind", list(UNIFORM))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batches_under_one_rule_convert_as_before(kind, seed):
    stack = UNIFORM[kind](np.random.default_rng(seed))
    out, nonfinite, _ = convert_images(stack, set())
    assert out.dtype == np.uint8 and out.shape == (len(stack), 3) + stack.shape[2:]
    assert np.array_equal(out, reference(stack)) and nonfinite.tolist() == [0] * len(stack)


MIXED = {  # batches of one dtype whose images fall under different rules
    "int64 8-bit beside 16-bit": lambda rng: np.stack([rng.integers(0, 256, (3, 4, 4)), rng.integers(0, 60000, (3, 4, 4)),
                                                       rng.integers(0, 200, (3, 4, 4))]),
    "float 0..1 beside 0..255": lambda rng: np.stack([rng.random((3, 4, 4)), rng.random((3, 4, 4)) * 255,
                                                      rng.random((3, 4, 4))]).astype(np.float32),
    "float with NaN and above 255": lambda rng: np.stack([np.full((3, 4, 4), np.nan), rng.random((3, 4, 4)) * 900,
                                                          rng.random((3, 4, 4))]),
}


@pytest.mark.parametrize("kind", list(MIXED))
@pytest.mark.parametrize("seed", [0, 1])
def test_each_image_of_a_mixed_batch_converts_as_if_it_were_alone(kind, seed):
    stack = MIXED[kind](np.random.default_rng(seed))
    out, _, _ = convert_images(stack, set())
    for i in range(len(stack)):
        assert np.array_equal(out[i], reference(stack[i:i + 1])[0]), i


def test_problems_are_flagged_per_image_and_none_when_clean():
    rng = np.random.default_rng(0)
    assert convert_images(rng.integers(0, 256, (2, 3, 4, 4), dtype=np.uint8), set())[2] is None
    assert convert_images(rng.random((2, 3, 4, 4)), set())[2] is None
    assert convert_images(rng.integers(300, 60000, (2, 1, 4, 4), dtype=np.uint16), set())[2] is None
    sixteen = np.stack([np.full((1, 4, 4), 200), np.full((1, 4, 4), 40000), np.zeros((1, 4, 4))]).astype(np.uint16)
    notes = set()
    out, _, problems = convert_images(sixteen, notes)
    assert problems[:, column("sixteen_bit_low")].tolist() == [True, False, False]  # all black: no contradiction
    assert out[:, 0, 0, 0].tolist() == [0, 155, 0] and NOTE_16_BIT in notes
    floats = np.stack([np.full((3, 2, 2), 0.5), np.full((3, 2, 2), 200.0), np.full((3, 2, 2), -2.0),
                       np.full((3, 2, 2), 1e4)])
    notes = set()
    out, _, problems = convert_images(floats, notes)
    assert out[:, 0, 0, 0].tolist() == [128, 200, 0, 255] and NOTE_FLOAT_255 in notes
    assert problems[:, column("float_0_255")].tolist() == [False, True, False, True]
    assert problems[:, column("negative")].tolist() == [False, False, True, False]
    assert problems[:, column("above_range")].tolist() == [False, False, False, True]
    wide = np.stack([np.full((3, 2, 2), 100), np.full((3, 2, 2), 70000), np.full((3, 2, 2), -1)])
    _, _, problems = convert_images(wide, set())
    assert problems[:, column("wide_int_16_bit")].tolist() == [False, True, False]
    assert problems[:, column("above_range")].tolist() == [False, True, False]
    assert problems[:, column("negative")].tolist() == [False, False, True]


def pil_16(value: int) -> Image.Image:
    return Image.fromarray(np.full((6, 5), value, dtype=np.uint16))


def test_a_list_mixing_8_and_16_bit_pil_images_scales_each_by_its_mode():
    gray8 = Image.fromarray(np.full((6, 5), 100, dtype=np.uint8))
    rgb8 = Image.fromarray(np.full((6, 5, 3), 100, dtype=np.uint8))
    builder = ClassificationBatchBuilder(3, (0, 1, 2), ())
    gray, rgb = builder.build([gray8, pil_16(100 * 257), rgb8, pil_16(40)], [0, 1, 2, 0], first_sample_id=0)
    assert gray.sample_ids.tolist() == [0, 1, 3] and rgb.sample_ids.tolist() == [2]
    assert gray.images[:, :, 0, 0].tolist() == [[100] * 3, [100] * 3, [0] * 3]
    assert rgb.images[:, :, 0, 0].tolist() == [[100] * 3] and rgb.image_problems is None
    assert gray.image_problems[:, column("sixteen_bit_low")].tolist() == [False, False, True]


def test_two_batches_of_16_bit_images_are_scaled_the_same_way():
    builder = ClassificationBatchBuilder(3, (0, 1, 2), ())
    (low,) = builder.build([pil_16(200)], [0], first_sample_id=0)
    (high,) = builder.build([pil_16(200), pil_16(5000)], [0, 1], first_sample_id=1)
    assert low.images[0, 0, 0, 0] == high.images[0, 0, 0, 0] == 0 and high.images[1, 0, 0, 0] == 5000 // 257


def test_a_float_image_beside_uint8_images_keeps_its_own_scale():
    u8 = torch.full((3, 4, 4), 51, dtype=torch.uint8)
    f = torch.full((3, 4, 4), 0.2)
    (b,) = DetectionBatchBuilder(2, (0, 1), (), bbox_format="xyxy", normalized_boxes=False).build(
        [u8, f, u8], [torch.zeros(0, 5)] * 3, first_sample_id=0)
    assert b.images[:, 0, 0, 0].tolist() == [51, 51, 51] and b.image_problems is None


@pytest.mark.parametrize("mode, value, expected", [
    ("P", None, (255, 0, 0)),  # a pure red palette image: the brightness of red
    ("PA", None, (255, 0, 0)),
    ("L", 90, (90, 90, 90)),
    ("LA", (90, 7), (90, 90, 90)),
    ("1", 1, (255, 255, 255)),
    ("RGBA", (10, 20, 30, 40), (10, 20, 30)),
    ("RGBX", (10, 20, 30, 0), (10, 20, 30)),
    ("CMYK", (0, 255, 255, 0), (255, 0, 0)),
    ("YCbCr", (76, 85, 255), (254, 0, 0)),
    ("HSV", (0, 255, 255), (255, 0, 0)),
    ("I;16", 257 * 60, (60, 60, 60)),
    ("I;16B", 257 * 60, (60, 60, 60)),
    ("I", 70, (70, 70, 70)),
    ("I", 257 * 70, (70, 70, 70)),
    ("F", 0.5, (128, 128, 128)),
    ("F", 128.0, (128, 128, 128)),
])
def test_pil_modes_are_read_as_the_picture_shows(mode, value, expected):
    if mode in ("P", "PA"):
        im = Image.new(mode, (7, 5))
        im.putpalette([255, 0, 0] * 256)
    else:
        im = Image.new(mode, (7, 5), value)
    (b,) = ClassificationBatchBuilder(2, (0, 1), ()).build([im], [1], first_sample_id=0)
    assert b.images.shape == (1, 3, 5, 7)
    assert tuple(int(v) for v in b.images[0, :, 2, 3]) == expected


def test_image_fields_of_images_without_pixels_are_an_unreadable_batch():
    items = [np.zeros((3, 0, 5), np.float32), np.zeros((3, 0, 5), np.float32)]
    fields = image_fields(items, [0, 1], 7, set())
    assert fields["unreadable"] and fields["images"].shape == (2, 3, 0, 5)
    assert fields["sample_ids"].tolist() == [7, 8] and fields["nonfinite_pixels"].tolist() == [0, 0]
