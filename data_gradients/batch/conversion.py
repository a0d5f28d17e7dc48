"""Pixel values of any type to uint8, each image by the rule of its own type (see :func:`convert_images`),
with the images whose values contradict their type flagged per sample."""
from __future__ import annotations

from typing import Optional, Set, Tuple

import cv2
import numpy as np

from data_gradients.errors import BatchFormatError

NOTE_FLOAT_255 = "float images with values above 1 were found; they were read as 0..255, not 0..1"
NOTE_NEGATIVE = ("images with negative values were found (normalised tensors?); values were clipped to 0..1 "
                 "before analysis: pass un-normalised images for meaningful colour statistics")
NOTE_WIDE_INT = ("32/64-bit integer images with values above 255 were found; each such image was read as 16-bit, "
                 "0..65535 scaled to 0..255 (value // 257); integer images whose values all stay within 0..255 "
                 "were read as 8-bit")
NOTE_16_BIT = ("16-bit images (uint16 / int16, PIL mode I;16) are scaled by their type, from 0..65535 to 0..255 "
               "(value // 257), whatever values they hold")
#: per-image problems of the pixel values, the columns of ``ImageBatch.image_problems``:
#: 16-bit images whose largest value is 1..255 (8-bit data?); 32/64-bit integer images read as 16-bit (a value above 255);
#: float images read as 0..255 (a value above 1); negative values clipped to 0; values above the
#: type's range (float > 255, integer > 65535) clipped
IMAGE_PROBLEMS = ("sixteen_bit_low", "wide_int_16_bit", "float_0_255", "negative", "above_range")


def to_uint8_rgb(stack: np.ndarray, notes: Set[str]) -> Tuple[np.ndarray, np.ndarray]:
    """(N,C,H,W) of one dtype -> ((N,3,H,W) uint8, per-sample non-finite counts); see :func:`convert_images`."""
    out, nonfinite, _ = convert_images(stack, notes)
    return out, nonfinite


def convert_images(stack: np.ndarray, notes: Set[str]) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """(N,C,H,W) of one dtype -> ((N,3,H,W) uint8, per-sample non-finite counts, per-sample
    ``IMAGE_PROBLEMS`` flags or None). Each image is read by the rule of its type:

    - uint8 as it is; bool: 0 / 255; int8: negatives clipped to 0;
    - 16-bit (uint16, int16, PIL "I;16"): 0..65535 scaled to 0..255 (value // 257), whatever the
      values (an image using only 0..255 is flagged: it may hold 8-bit values);
    - 32/64-bit integers (PIL "I"): 0..255 when every value of the image is at most 255, else as
      16-bit (flagged; values above 65535 clipped and flagged);
    - float: 0..1 scaled by 255; an image with a value above 1 is read as 0..255 (flagged),
      values above 255 saturate (flagged). NaN/inf become 0 and are counted.

    Negative values are clipped to 0 (flagged). Each rule is also stated once in ``notes``.
    """
    n, c = stack.shape[:2]
    nonfinite = np.zeros(n, dtype=np.int64)
    problems = None
    if stack.dtype == np.uint8:
        out = stack
    elif stack.dtype == np.bool_:
        out = stack.astype(np.uint8) * 255
    elif stack.dtype.kind in "iu":
        out, problems = _int_to_uint8(stack, notes)
    elif stack.dtype.kind == "f":
        out, nonfinite, problems = _float_to_uint8(stack, notes)
    else:
        raise BatchFormatError(f"`images` must hold numbers (uint8, 16-bit, float or bool), got dtype {stack.dtype}")
    if c == 1:
        out = np.repeat(out, 3, axis=1)
    elif c == 4:
        out = out[:, :3]
    if not out.flags.c_contiguous and _channels_last(out):
        out = _planes_from_channels_last(out)
    # a read-only view: it may share memory with the loader's tensor, extractors must not write
    out = np.ascontiguousarray(out).view()
    out.flags.writeable = False
    return out, nonfinite, problems


def _flags(n: int, **columns: np.ndarray) -> Optional[np.ndarray]:
    """(N, len(IMAGE_PROBLEMS)) bool from the named columns, or None when no image has a problem."""
    if not any(col.any() for col in columns.values()):
        return None
    out = np.zeros((n, len(IMAGE_PROBLEMS)), dtype=bool)
    for key, col in columns.items():
        out[:, IMAGE_PROBLEMS.index(key)] = col
    return out


def _int_to_uint8(stack: np.ndarray, notes: Set[str]) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    n = stack.shape[0]
    if stack.size == 0:
        return np.zeros(stack.shape, dtype=np.uint8), None
    lo, hi = stack.min(axis=(1, 2, 3)), stack.max(axis=(1, 2, 3))
    size = stack.dtype.itemsize
    sixteen = np.full(n, size == 2) if size <= 2 else hi > 255
    if size == 2:
        notes.add(NOTE_16_BIT)
    elif sixteen.any():
        notes.add(NOTE_WIDE_INT)
    if (lo < 0).any():
        notes.add(NOTE_NEGATIVE)
    if sixteen.all():
        out = (np.clip(stack, 0, 65535) // 257).astype(np.uint8)
    elif not sixteen.any():
        out = np.clip(stack, 0, 255).astype(np.uint8)
    else:
        out = np.empty(stack.shape, dtype=np.uint8)
        out[sixteen] = np.clip(stack[sixteen], 0, 65535) // 257
        out[~sixteen] = np.clip(stack[~sixteen], 0, 255)
    problems = _flags(n, sixteen_bit_low=(size == 2) & (hi > 0) & (hi <= 255), wide_int_16_bit=(size > 2) & sixteen,
                      negative=lo < 0, above_range=sixteen & (hi > 65535))
    return out, problems


def _float_to_uint8(stack: np.ndarray, notes: Set[str]) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Float images to uint8 in as few passes as possible (per-image min and max, one OpenCV
    convert per scale)."""
    n = stack.shape[0]
    nonfinite = np.zeros(n, dtype=np.int64)
    f = stack if stack.dtype in (np.float32, np.float64) else stack.astype(np.float32)
    if f.size == 0:
        return np.zeros(f.shape, dtype=np.uint8), nonfinite, None
    lo, hi = f.min(axis=(1, 2, 3)), f.max(axis=(1, 2, 3))
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):  # NaN propagates into min/max: count and zero them
        bad = ~np.isfinite(f)
        nonfinite = bad.reshape(n, -1).sum(axis=1).astype(np.int64)
        f = np.where(bad, f.dtype.type(0), f)
        lo, hi = f.min(axis=(1, 2, 3)), f.max(axis=(1, 2, 3))
    negative = lo < 0
    if negative.any():
        notes.add(NOTE_NEGATIVE)
        f = np.maximum(f, 0)
    as_255 = hi > 1.0 + 1e-6
    if as_255.any():
        notes.add(NOTE_FLOAT_255)
    # one saturating, rounding pass per scale (values are >= 0 here, so the "abs" is a no-op)
    if not as_255.any() or as_255.all():
        out = _scaled(f, 1.0 if as_255[0] else 255.0)
    else:
        out = np.empty(f.shape, dtype=np.uint8)
        out[as_255] = _scaled(f[as_255], 1.0)
        out[~as_255] = _scaled(f[~as_255], 255.0)
    return out, nonfinite, _flags(n, float_0_255=as_255, negative=negative, above_range=hi > 255)


def _scaled(f: np.ndarray, scale: float) -> np.ndarray:
    flat = np.ascontiguousarray(f).reshape(-1, f.shape[-1])
    return cv2.convertScaleAbs(flat, alpha=scale).reshape(f.shape)


def _channels_last(images: np.ndarray) -> bool:
    """(N, 3, H, W) uint8 whose pixels are stored H, W, C (a permuted HWC array or tensor)."""
    n, c, h, w = images.shape
    s = images.strides
    return images.dtype == np.uint8 and c == 3 and s[1] == 1 and s[3] == 3 and s[2] == 3 * w and h * w > 0


def _planes_from_channels_last(images: np.ndarray) -> np.ndarray:
    """The same images as contiguous (N, 3, H, W) planes: OpenCV splits each HWC image into
    its three planes (several times faster than numpy's strided copy)."""
    out = np.empty(images.shape, dtype=np.uint8)
    for src, dst in zip(images.transpose(0, 2, 3, 1), out):
        cv2.split(src, [dst[0], dst[1], dst[2]])  # writes into the planes of ``out``
    return out
