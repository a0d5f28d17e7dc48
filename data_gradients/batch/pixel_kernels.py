"""Compiled loops over image pixels (the C extension ``_pixel_kernels``), with numpy arrays in and out.
:data:`KERNELS` is None where the extension was not built (no C compiler at install time): the callers
(the channel histograms, the thumbnails, the image-quality scores and the image hash) then take
their OpenCV and numpy ways, which give the same bytes (``tests/batch/test_pixel_kernels.py`` compares them).
"""
from __future__ import annotations

from math import gcd
from typing import Optional, Tuple

import numpy as np

from data_gradients.batch import run_ops
from data_gradients.batch.compiled import load

VERSION = 9  # of the functions' signatures: a build of other sources (a stale editable install) is not used
KERNELS = load("_pixel_kernels", VERSION)


AREA_MAX_SCALE = 8  # shrink: inputs per output along a side, at most
AREA_MAX_DIVISOR = 257  # shrink: p_r * p_c at most (the area sums stay in 16 bits)


def halve(planes: np.ndarray, times: int = 1) -> np.ndarray:
    """``times`` successive 2 x 2 area means ``(a + b + c + d + 2) >> 2`` of (P, R, C) uint8 planes, each step
    leaving out an odd last row or column: what as many calls of ``cv2.resize(plane[:r - r % 2, :c - c % 2],
    (c // 2, r // 2), interpolation=cv2.INTER_AREA)`` give, in one pass that writes only the result. Rows and
    planes may be strided (a view taking every k-th row of contiguous images)."""
    if not 1 <= times <= 30:
        raise ValueError(f"halve: times must be 1 to 30, got {times}")
    _, rows, cols = planes.shape
    return shrink(planes, times, rows >> times, cols >> times)


def area_divisor(rows: int, cols: int, out_rows: int, out_cols: int) -> int:
    """``p_r * p_c``, with ``rows / out_rows = p_r / q_r`` and ``cols / out_cols = p_c / q_c`` in lowest terms: the
    denominator of an exact area mean of a shrink from (rows, cols) to (out_rows, out_cols)."""
    return rows // gcd(rows, out_rows) * (cols // gcd(cols, out_cols))


def shrink(planes: np.ndarray, times: int, out_rows: int, out_cols: int) -> np.ndarray:
    """(P, out_rows, out_cols) uint8: each of the (P, R, C) uint8 ``planes`` halved ``times`` times as :func:`halve`
    does (``times`` may be 0), then, unless that is already (out_rows, out_cols), shrunk to it by its exact area
    means rounded half up: the mean of the input pixels under each output cell, each weighted by the part of it
    the cell covers. That is OpenCV's ``INTER_AREA`` byte wherever the caller has proved it (odd
    :func:`area_divisor`, OpenCV's float error far from a half: :func:`~data_gradients.feature_extractors.common.
    area_resize.exact`). At most :data:`AREA_MAX_SCALE` inputs per output along a side and a divisor of at most
    :data:`AREA_MAX_DIVISOR`. One pass per plane: its halvings stay in cache for the area means. Rows and planes may
    be strided."""
    p, rows, cols = planes.shape
    if planes.dtype != np.uint8:
        raise ValueError(f"shrink: planes must be uint8, not {planes.dtype}")
    _check_shrink(rows, cols, times, out_rows, out_cols)
    if planes.strides[2] != 1 or planes.strides[1] < cols or planes.strides[0] < 0 or (p > 1 and planes.strides[0] == 0):
        planes = np.ascontiguousarray(planes)
    out = np.empty((p, out_rows, out_cols), dtype=np.uint8)
    if out.size:  # the bytes from the first plane's first row to the last plane's last row, as one flat view
        span = (p - 1) * planes.strides[0] + (rows - 1) * planes.strides[1] + cols
        flat = np.lib.stride_tricks.as_strided(planes, shape=(span,), strides=(1,), writeable=False)
        KERNELS.shrink(flat, p, rows, cols, planes.strides[0], planes.strides[1], times, out_rows, out_cols, out)
    return out


def shrink_picked(images: np.ndarray, index, times: int, out_rows: int, out_cols: int) -> np.ndarray:
    """(len(index) * C, out_rows, out_cols) uint8: :func:`shrink` of the planes of ``images[index]`` ((N, C, R, C)
    uint8), read where they lie in the batch: the picked images are not copied out first."""
    n, c, rows, cols = images.shape
    if images.dtype != np.uint8:
        raise ValueError(f"shrink_picked: images must be uint8, not {images.dtype}")
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    if index.size and (index.min() < 0 or index.max() >= n):
        raise IndexError(f"shrink_picked: an index outside the {n} images")
    _check_shrink(rows, cols, times, out_rows, out_cols)
    images = np.ascontiguousarray(images)
    at = (index[:, None] * images.strides[0] + np.arange(c, dtype=np.int64) * images.strides[1]).reshape(-1)
    out = np.empty((len(at), out_rows, out_cols), dtype=np.uint8)
    if out.size:
        KERNELS.shrink(images.reshape(-1), len(at), rows, cols, 0, cols, times, out_rows, out_cols, out, at)
    return out


def _check_shrink(rows: int, cols: int, times: int, out_rows: int, out_cols: int) -> None:
    """Raise ValueError unless :func:`shrink` can take planes of ``rows`` x ``cols`` to (out_rows, out_cols)."""
    if not 0 <= times <= 30:
        raise ValueError(f"shrink: times must be 0 to 30, got {times}")
    hr, hc = rows >> times, cols >> times
    if (hr, hc) != (out_rows, out_cols):
        if not (0 < out_rows <= hr <= AREA_MAX_SCALE * out_rows and 0 < out_cols <= hc <= AREA_MAX_SCALE * out_cols):
            raise ValueError(f"shrink: ({hr}, {hc}) to ({out_rows}, {out_cols}) is no shrink by at most "
                             f"{AREA_MAX_SCALE} a side")
        if area_divisor(hr, hc, out_rows, out_cols) > AREA_MAX_DIVISOR:
            raise ValueError(f"shrink: ({hr}, {hc}) to ({out_rows}, {out_cols}) has an area divisor above "
                             f"{AREA_MAX_DIVISOR}")


def channel_counts(planes: np.ndarray, halve: Optional[Tuple[int, int]] = None):
    """``(counts, sums, halved)`` of (N, C, P) uint8 pixels, P even and fewer than 2**32 pairs a channel (the caller
    checks): (C, 256) int64 counts of each value in each channel, and (N, C) int64 sums of each image's channels, in
    one compiled pass. Each channel's pixels are counted two at a time as 16-bit values into a 65,536-bin joint
    histogram (one increment for two pixels; neighbours are alike, so the bins they touch stay cached), whose row
    and column sums, added, are the channel's counts, whichever byte is the high one; the plane's two halves into
    two such tables, in turn, so that increments of one bin do not wait for each other.

    ``halve=(cols, step)``: also each plane, read as rows of ``cols`` pixels taken every ``step`` rows, halved once
    as :func:`halve` does it (2 x 2 means; an odd last row or column left out): ``halved``, (N * C, rows // step
    // 2, cols // 2) uint8, made right after the plane is counted, while it is still in cache (a separate pass
    reads it from memory again: on an Intel Xeon (Ice Lake), 224 x 224 images, counting and thumbnails 0.093
    against 0.107 ms per image, best of 40 in turn); else None."""
    n, c, p = planes.shape
    counts, sums = np.empty((c, 256), dtype=np.int64), np.empty((n, c), dtype=np.int64)
    table = run_ops.scratch("pair_counts", (c, 2, 65536), np.uint32)  # zeroed by the loop; reused: no page faults
    planes = np.ascontiguousarray(planes, dtype=np.uint8)
    if halve is None:
        KERNELS.channel_counts(planes, n, c, p, table, counts, sums)
        return counts, sums, None
    cols, step = halve
    if cols <= 0 or step <= 0 or p % cols:
        raise ValueError(f"channel_counts: planes of {p} pixels are not rows of {cols}")
    half_rows = p // cols // step // 2
    halved = np.empty((n * c, half_rows, cols // 2), dtype=np.uint8)
    KERNELS.channel_counts(planes, n, c, p, table, counts, sums, cols, step, half_rows, halved)
    return counts, sums, halved


def key_products(rows: np.ndarray, packed: np.ndarray) -> np.ndarray:
    """(M, 16) int32: the (M, K) uint8 or int8 ``rows``, read as int8, times a (K, 16) int8 key matrix given as
    ``packed``: (K / 4, 16, 4) uint8, for every 4 bytes of a row each column's 4 keys, plus 128. Exact integers;
    K a multiple of 64 up to 4096; only where :data:`KERNELS` has ``VNNI`` (AVX-512 VNNI)."""
    rows = np.ascontiguousarray(rows).view(np.uint8)
    m, k = rows.shape
    out = np.empty((m, 16), dtype=np.int32)
    KERNELS.key_products(rows, m, k, np.ascontiguousarray(packed, dtype=np.uint8), out)
    return out


def image_scores(planes: np.ndarray, grey: np.ndarray, weights: np.ndarray):
    """Per thumbnail of (N, 3, S, S) uint8 ``planes`` and (N, S, S) uint8 ``grey``: ``(levels, greys, laplacian,
    spread)``: (N, 256) int64 counts of the perceived-brightness levels ``min(rint(sqrt((w0 * R) * R + (w1 * G) * G
    + (w2 * B) * B)), 255)``, each product and sum a float32 operation in that order (``weights``: w0, w1, w2) and
    computed for 4 pixels at a time, and of the grey values; (N, 2) int64 sum and sum of squares of the
    4-neighbour Laplacian of the grey inner pixels; (N,) int64 largest channel spread (max - min of R, G, B) of a
    pixel."""
    n, _, side, _ = planes.shape
    planes, grey = np.ascontiguousarray(planes, dtype=np.uint8), np.ascontiguousarray(grey, dtype=np.uint8)
    if grey.shape != (n, side, side) or planes.shape != (n, 3, side, side):
        raise ValueError(f"image_scores: planes {planes.shape} and grey {grey.shape} are no square thumbnails")
    weights = np.ascontiguousarray(weights, dtype=np.float32).reshape(-1)
    if weights.shape != (3,):
        raise ValueError(f"image_scores: three weights, not {weights.shape}")
    levels, greys = np.empty((n, 256), dtype=np.int64), np.empty((n, 256), dtype=np.int64)
    laplacian, spread = np.empty((n, 2), dtype=np.int64), np.empty(n, dtype=np.int64)
    KERNELS.image_scores(planes, grey, n, side, weights, levels, greys, laplacian, spread)
    return levels, greys, laplacian, spread


def grey(planes: np.ndarray) -> np.ndarray:
    """(N, H, W) uint8 ``(299 R + 587 G + 114 B + 500) // 1000`` (ITU-R BT.601 luma in integers) of (N, 3, H, W)
    uint8 planes."""
    n, c, h, w = planes.shape
    if c != 3 or planes.dtype != np.uint8:
        raise ValueError(f"grey: planes must be (N, 3, H, W) uint8, not {planes.shape} {planes.dtype}")
    out = np.empty((n, h, w), dtype=np.uint8)
    KERNELS.grey(np.ascontiguousarray(planes), n, h * w, out)
    return out


def phash(grey: np.ndarray, dct: np.ndarray) -> np.ndarray:
    """(N,) uint64 DCT hashes of (N, 64, 64) uint8 grey thumbnails, ``dct`` the (8, 32) integer basis: the integers
    of :func:`~data_gradients.feature_extractors.common.perceptual_hash.phash_from_grey` (its 2 x 2 cell sums,
    ``D G D^T`` and the bits above the median), in one compiled loop per thumbnail."""
    n = len(grey)
    if grey.shape != (n, 64, 64) or grey.dtype != np.uint8 or dct.shape != (8, 32):
        raise ValueError(f"phash: grey must be (N, 64, 64) uint8 and dct (8, 32), not {grey.shape} {grey.dtype}, "
                         f"{dct.shape}")
    if np.abs(dct).max(initial=0) > 4096:
        raise ValueError("phash: basis entries above 4096 in size could overflow the exact sums")
    out = np.empty(n, dtype=np.uint64)
    KERNELS.phash(np.ascontiguousarray(grey), n, np.ascontiguousarray(dct, dtype=np.int64), out)
    return out
