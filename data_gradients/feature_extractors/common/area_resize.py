"""OpenCV's area downscale of stacked uint8 planes (``cv2.resize(..., INTER_AREA)``), the same bytes in
a few vectorised OpenCV calls where OpenCV's generic path (non-integer scales) runs a scalar loop.

Why the bytes are the same. Shrinking R rows to S, an output row covers R / S input rows: with
``p / q`` that ratio in lowest terms, every overlap of an output cell with an input row is a whole
number of q-ths, so the exact area mean of a cell is ``M / (p_r * p_c)`` with M a sum of integer
weights (q-ths) times pixels. OpenCV computes that mean in float32 (weights ``overlap / scale``, at
most ``a_x + a_y + 2`` roundings of values up to 255, ``a`` the taps per output along each side):
within ``(a_x + a_y + 2) * 255 * 2**-24`` (< 2.2e-4 for scales up to 8 x 2) of the exact mean, then
rounded to the nearest integer. When ``p_r * p_c`` is odd, the exact mean is never a half and lies
at least ``1 / (2 p_r p_c)`` from one; below :data:`MAX_DENOMINATOR` that distance (>= 5e-4) exceeds
OpenCV's error, so its byte is the exact mean rounded to nearest. :func:`area_resize` computes that
directly: the integer weighted sums (exact in float32: at most 255 * 999 < 2**24), then one
rounding. Other sizes (an even or large denominator, an enlargement, a scale above 8) go to
``cv2.resize`` itself. A test compares both for every row count of a 64-pixel thumbnail's last step.

The sums run phase by phase: output rows ``t, t + q, ...`` read input rows ``k, k + p, ...`` at
fixed weights, row-strided views OpenCV reads and writes in place; columns the same way after a
transpose. Planes go :data:`CHUNK_PLANES` at a time, so the float32 sums stay in the core's cache.
"""
from __future__ import annotations

from functools import lru_cache
from math import gcd
from typing import Tuple

import cv2
import numpy as np

MAX_DENOMINATOR = 999  # p_r * p_c: the exact mean is then >= 5e-4 from a half, above OpenCV's float32 error
MAX_SCALE = 8  # input columns per output column at most (bounds OpenCV's error and the taps)
CHUNK_PLANES = 6  # planes per pass (float32 sums of 6 planes of 112 x 112: 170 KB)

Taps = Tuple[Tuple[Tuple[int, float], ...], ...]


@lru_cache(maxsize=None)
def phase_taps(src: int, dst: int) -> Tuple[int, int, Taps]:
    """``(p, q, taps)``: ``src / dst = p / q`` in lowest terms; ``taps[t]`` the (input offset k in
    0..p-1, weight in q-ths of an input) pairs of output ``t`` of each period of q outputs."""
    g = gcd(src, dst)
    p, q = src // g, dst // g
    taps = []
    for t in range(q):
        lo, hi = t * p, (t + 1) * p  # the output's extent, in q-ths of an input
        taps.append(tuple((k, float(min(hi, (k + 1) * q) - max(lo, k * q)))
                          for k in range(p) if min(hi, (k + 1) * q) > max(lo, k * q)))
    return p, q, tuple(taps)


def exact(rows: int, cols: int, size: int) -> bool:
    """Whether :func:`area_resize` computes (rows, cols) -> (size, size) itself (see the module doc)."""
    if rows < size or cols < size or rows > 2 * size or cols > MAX_SCALE * size:
        return False
    d = phase_taps(rows, size)[0] * phase_taps(cols, size)[0]
    return d % 2 == 1 and d <= MAX_DENOMINATOR


def area_resize(tall: np.ndarray, planes: int, size: int) -> np.ndarray:
    """``cv2.resize(tall, (size, planes * size), interpolation=cv2.INTER_AREA)`` of ``planes`` (rows, cols)
    uint8 planes stacked in ``tall`` (rows may be strided), each to (size, size): the same bytes."""
    total, cols = tall.shape
    rows = total // planes
    if not exact(rows, cols, size):
        return cv2.resize(tall, (size, planes * size), interpolation=cv2.INTER_AREA)
    out = np.empty((planes * size, size), dtype=np.uint8)
    scale = 1.0 / (phase_taps(rows, size)[0] * phase_taps(cols, size)[0])
    for a in range(0, planes, CHUNK_PLANES):
        m = min(planes, a + CHUNK_PLANES) - a
        down = np.empty((m * size, cols), dtype=np.float32)
        _phase_sums(tall[a * rows:(a + m) * rows].astype(np.float32), down, rows, size)
        across = np.empty((size, m * size), dtype=np.float32)
        _phase_sums(cv2.transpose(down), across, cols, size)
        cv2.transpose(cv2.convertScaleAbs(across, alpha=scale), dst=out[a * size:(a + m) * size])
    return out


def _phase_sums(src: np.ndarray, out: np.ndarray, n_src: int, n_dst: int) -> None:
    """``out`` = the integer-weighted sums of ``src`` rows (both float32: OpenCV's same-type fast paths),
    every n_src rows of it to n_dst rows."""
    p, q, taps = phase_taps(n_src, n_dst)
    for t, weights in enumerate(taps):
        dst = out[t::q]
        (k0, w0), rest = weights[0], weights[1:]
        if not rest:
            cv2.multiply(src[k0::p], w0, dst=dst, dtype=cv2.CV_32F)
            continue
        cv2.addWeighted(src[k0::p], w0, src[rest[0][0]::p], rest[0][1], 0.0, dst=dst)
        for k, w in rest[1:]:
            cv2.scaleAdd(src[k::p], w, dst, dst=dst)
