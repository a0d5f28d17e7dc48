"""Canonical image batch: N,3,H,W uint8, with per-sample counts of non-finite pixels, and the
per-image pixel statistics every image feature reads, computed once per batch on first use."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Set, Tuple

import cv2
import numpy as np

NOTE_FLOAT_255 = "float images with values above 1 were found; they were read as 0..255, not 0..1"
NOTE_NEGATIVE = ("images with negative values were found (normalised tensors?); values were clipped to 0..1 "
                 "before analysis: pass un-normalised images for meaningful colour statistics")
NOTE_WIDE_INT = "integer images with values above 255 were found; they were scaled from 0..65535 to 0..255"
N_VALUES = 256
MAX_PIXELS_PER_CALL = 1 << 24  # cv2.calcHist counts in float32: exact up to 2**24 per bin
PLANE_PIXELS_PER_IMAGE = 1 << 17  # from this image size (~362 x 362) on, one histogram per image plane
_VALUES = np.arange(N_VALUES, dtype=np.int64)


@dataclass(frozen=True)
class PixelStats:
    """Exact integer pixel statistics of a batch, all the image features need.

    ``channel_histograms[c, v]``: pixels of channel c with value v over the batch; ``sums[i, c]``:
    sum of the values of channel c of image i (both int64).
    """

    channel_histograms: np.ndarray
    sums: np.ndarray

    @property
    def channel_sums_of_squares(self) -> np.ndarray:
        """(C,) int64 sum over the batch of the squared values of each channel."""
        return self.channel_histograms @ (_VALUES * _VALUES)


def pixel_statistics(images: np.ndarray) -> PixelStats:
    """The :class:`PixelStats` of (N, C, H, W) uint8 images, in one pass over the pixels when the
    images are large, two fast ones when they are small (fewer OpenCV calls).

    ``cv2.calcHist`` counts in float32, exact up to 2**24: calls never see more than
    :data:`MAX_PIXELS_PER_CALL` pixels.
    """
    n, c, h, w = images.shape
    if images.size == 0:
        return PixelStats(np.zeros((c, N_VALUES), dtype=np.int64), np.zeros((n, c), dtype=np.int64))
    images = np.ascontiguousarray(images)
    if h * w >= PLANE_PIXELS_PER_IMAGE:  # one histogram per plane; its sums come with it
        hists = plane_histograms(images.reshape(n * c, h, w)).reshape(n, c, N_VALUES)
        return PixelStats(hists.sum(axis=0), hists @ _VALUES)
    # small images: one histogram per channel for the whole batch, and all sums in one call
    # (int32 sums are exact below 2**31 / 255 pixels per plane)
    per_channel = images.reshape(n, c, h * w)
    hists = np.concatenate([plane_histograms(per_channel[None, :, ch]) for ch in range(c)])  # (1, N, H*W) each
    sums = cv2.reduce(images.reshape(n * c, h * w), 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)
    return PixelStats(hists, sums.reshape(n, c).astype(np.int64))


def plane_histograms(planes: np.ndarray) -> np.ndarray:
    """(P, 256) int64 counts of each value in each of (P, H, W) uint8 planes (rows may be strided).

    One ``cv2.calcHist`` call per plane; planes above :data:`MAX_PIXELS_PER_CALL` pixels are
    counted in slices of rows.
    """
    out = np.zeros((len(planes), N_VALUES), dtype=np.int64)
    if planes.size == 0:
        return out
    rows = max(1, MAX_PIXELS_PER_CALL // planes.shape[2])
    for k, plane in enumerate(planes):
        for start in range(0, plane.shape[0], rows):
            hist = cv2.calcHist([plane[start:start + rows]], [0], None, [N_VALUES], [0, N_VALUES])
            out[k] += hist.reshape(-1).astype(np.int64)
    return out


@dataclass
class ImageBatch:
    """Images every task shares. ``images`` is (N, 3, H, W) uint8 RGB (grayscale repeated,
    alpha dropped); ``source_channels`` is the channel count the loader gave;
    ``nonfinite_pixels[i]`` counts NaN/inf values of sample i (set to 0 before analysis).
    ``pixel_stats`` is built from ``images`` on first use and shared by every feature."""

    images: np.ndarray
    sample_ids: np.ndarray
    nonfinite_pixels: np.ndarray
    source_channels: int

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def pixel_stats(self) -> PixelStats:
        """Channel histograms and per-image channel sums of ``images``, built once per batch on
        first use and shared by the image features (rebuilt if ``images`` is replaced)."""
        cached = self.__dict__.get("_pixel_stats")
        if cached is None or cached[0] is not self.images:
            cached = self.__dict__["_pixel_stats"] = (self.images, pixel_statistics(self.images))
        return cached[1]

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
    if not out.flags.c_contiguous and _channels_last(out):
        out = _planes_from_channels_last(out)
    # a read-only view: it may share memory with the loader's tensor, extractors must not write
    out = np.ascontiguousarray(out).view()
    out.flags.writeable = False
    return out, nonfinite


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


def _float_to_uint8(stack: np.ndarray, notes: Set[str]) -> Tuple[np.ndarray, np.ndarray]:
    """Float images to uint8 in as few passes as possible (min, max, one OpenCV convert)."""
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
    first = items[idx[0]]
    base = first.base
    if (idx == list(range(len(items))) and isinstance(base, np.ndarray) and base.size
            and base.shape == (len(items),) + first.shape and base.dtype == first.dtype
            and base.strides[1:] == first.strides):
        # item k must be exactly base[k]: same memory, shape and strides (cheap pointer arithmetic)
        start, step = base.__array_interface__["data"][0], base.strides[0]
        if all(x.base is base and x.strides == first.strides and x.__array_interface__["data"][0] == start + k * step
               for k, x in enumerate(items)):
            return base
    return np.stack([items[i] for i in idx])
