"""Canonical image batch: N,3,H,W uint8, with per-sample counts of non-finite pixels."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Set, Tuple

import numpy as np

NOTE_FLOAT_255 = "float images with values above 1 were found; they were read as 0..255, not 0..1"
NOTE_NEGATIVE = ("images with negative values were found (normalised tensors?); values were clipped to 0..1 "
                 "before analysis: pass un-normalised images for meaningful colour statistics")
NOTE_WIDE_INT = "integer images with values above 255 were found; they were scaled from 0..65535 to 0..255"


@dataclass
class ImageBatch:
    """Images every task shares. ``images`` is (N, 3, H, W) uint8 RGB (grayscale repeated,
    alpha dropped); ``source_channels`` is the channel count the loader gave;
    ``nonfinite_pixels[i]`` counts NaN/inf values of sample i (set to 0 before analysis)."""

    images: np.ndarray
    sample_ids: np.ndarray
    nonfinite_pixels: np.ndarray
    source_channels: int

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def height(self) -> int:
        return int(self.images.shape[2])

    @property
    def width(self) -> int:
        return int(self.images.shape[3])


def to_uint8_rgb(stack: np.ndarray, notes: Set[str]) -> Tuple[np.ndarray, np.ndarray]:
    """(N,C,H,W) of any dtype -> ((N,3,H,W) uint8, per-sample non-finite counts).

    Floats in [0,1] are scaled by 255; floats above 1 are read as 0..255 (noted);
    negative floats are clipped (noted). NaN/inf become 0 and are counted.
    """
    n, c = stack.shape[:2]
    nonfinite = np.zeros(n, dtype=np.int64)
    if stack.dtype == np.uint8:
        out = stack
    elif stack.dtype == np.bool_:
        out = stack.astype(np.uint8) * 255
    elif np.issubdtype(stack.dtype, np.integer):
        hi = int(stack.max()) if stack.size else 0
        lo = int(stack.min()) if stack.size else 0
        if hi > 255:
            notes.add(NOTE_WIDE_INT)
            out = (np.clip(stack, 0, 65535) // 257).astype(np.uint8)
        else:
            if lo < 0:
                notes.add(NOTE_NEGATIVE)
            out = np.clip(stack, 0, 255).astype(np.uint8)
    else:
        out, nonfinite = _float_to_uint8(stack, notes)
    if c == 1:
        out = np.repeat(out, 3, axis=1)
    elif c == 4:
        out = out[:, :3]
    # a read-only view: it may share memory with the loader's tensor, extractors must not write
    out = np.ascontiguousarray(out).view()
    out.flags.writeable = False
    return out, nonfinite


def _float_to_uint8(stack: np.ndarray, notes: Set[str]) -> Tuple[np.ndarray, np.ndarray]:
    """Float images to uint8 in as few passes as possible (min, max, one OpenCV convert)."""
    import cv2

    n = stack.shape[0]
    nonfinite = np.zeros(n, dtype=np.int64)
    f = stack if stack.dtype in (np.float32, np.float64) else stack.astype(np.float32)
    if f.size == 0:
        return np.zeros(f.shape, dtype=np.uint8), nonfinite
    lo, hi = float(f.min()), float(f.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):  # NaN propagates into min/max: count and zero them
        bad = ~np.isfinite(f)
        nonfinite = bad.reshape(n, -1).sum(axis=1).astype(np.int64)
        f = np.where(bad, f.dtype.type(0), f)
        lo, hi = float(f.min()), float(f.max())
    if lo < 0:
        notes.add(NOTE_NEGATIVE)
        f = np.maximum(f, 0)
    scale = 255.0
    if hi > 1.0 + 1e-6:
        notes.add(NOTE_FLOAT_255)
        scale = 1.0
    # one saturating, rounding pass (values are >= 0 here, so the "abs" is a no-op)
    flat = np.ascontiguousarray(f).reshape(-1, f.shape[-1])
    out = cv2.convertScaleAbs(flat, alpha=scale).reshape(f.shape)
    return out, nonfinite


def stack_group(items: List[np.ndarray], idx: List[int]) -> np.ndarray:
    """Stack ``items[idx]``; when they are exactly the rows of one batched array (the
    common case of a collated batch), that array is returned without a copy."""
    if len(idx) == 1:
        return items[idx[0]][None]
    base = items[idx[0]].base
    if (idx == list(range(len(items))) and isinstance(base, np.ndarray)
            and base.shape == (len(items),) + items[0].shape
            and all(x.base is base for x in items)
            and all(np.shares_memory(x, base[k]) and x.strides == base[k].strides
                    and x.__array_interface__["data"][0] == base[k].__array_interface__["data"][0]
                    for k, x in enumerate(items))):
        return base
    return np.stack([items[i] for i in idx])
