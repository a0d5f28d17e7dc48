"""OpenCV's area downscale of stacked uint8 planes (``cv2.resize(..., INTER_AREA)``), the same bytes in
a few vectorised OpenCV calls where OpenCV's generic path (non-integer scales) runs a scalar loop, and
in whole-array block sums where both scales are whole numbers (:func:`block_means`: OpenCV's own path
for those is a scalar loop per output pixel too; 2 x 2 is left to its fast vectorised one).

Why the bytes are the same. Shrinking R rows to S, an output row covers R / S input rows: with
``p / q`` that ratio in lowest terms, every overlap of an output cell with an input row is a whole
number of q-ths, so the exact area mean of a cell is ``M / (p_r * p_c)`` with M a sum of integer
weights (q-ths) times pixels. OpenCV computes that mean in float32 (weights ``overlap / scale``; a
row's ``a_x`` products summed, then the ``a_y`` rows weighted and summed, ``a`` the taps per output
along each side): within ``(a_x + a_y + 4) * 255 * 2**-24`` of the exact mean, then rounded to the
nearest integer. When ``p_r * p_c`` is odd, the exact mean is never a half and lies at least
``1 / (2 p_r p_c)`` from one; where that distance is four times OpenCV's error (:func:`exact`), its
byte is the exact mean rounded to nearest. :func:`area_resize` computes that directly: the integer
weighted sums, then one rounding. With the compiled pixel loops (:func:`compiled`: ``p_r * p_c`` at most
257), in 16-bit integers in one pass per plane (:func:`~data_gradients.batch.pixel_kernels.shrink`).
Without them, in float32 OpenCV calls (exact: at most ``255 * p_r * p_c``, below 2**24 wherever :func:`exact`
holds), where there are at most :data:`MAX_PHASES` phases (1280 x 720's 90 -> 64 rows have 32: more calls than
OpenCV's own resize costs). Other sizes (an even or large denominator, an enlargement, a scale above
:data:`MAX_SCALE`) go to ``cv2.resize`` itself. Tests compare both ways with OpenCV for every row count of a
64-pixel thumbnail's last step and every small shape.

The float32 sums run phase by phase: output rows ``t, t + q, ...`` read input rows ``k, k + p, ...`` at
fixed weights, row-strided views OpenCV reads and writes in place; columns the same way after a
transpose. The row pass reads the uint8 input as it is (OpenCV converts while it weighs: no float32
copy of the input is made) into float32 sums; planes go :data:`CHUNK_FLOATS` of those sums at a time
(at least one plane), so they stay in the core's cache: 18 planes of 112 x 112 (a 224-pixel image's last
step), 12 of 120 x 160 (a 640 x 480 image's), 6 of 224 x 224 (a sample picture shrunk to 96).
"""
from __future__ import annotations

from functools import lru_cache
from math import gcd
from typing import Tuple

import cv2
import numpy as np

from data_gradients.batch import pixel_kernels

MAX_SCALE = 8  # input rows (columns) per output row (column) at most (bounds OpenCV's error and the taps)
MAX_PHASES = 12  # q_r + q_c at most: beyond, the OpenCV calls (a few per phase) cost more than OpenCV's own resize
# float32 row sums per pass (512 KB), at least one plane. Measured on an AMD EPYC (Zen 5), medians of 300 calls alternating
# with the former way (the input converted to float32 first, 6 x 120 x 160 input pixels per pass): 112 -> 64 of a batch
# of 64 images 1.47 against 1.87 ms, 224 -> 96 of 16 sample pictures 1.08 against 1.71, 120 x 160 -> 64 of 8 images
# (640 x 480) 0.28 against 0.39; 9, 12 or 24 planes of 112 x 112 per pass were within the noise of 18
CHUNK_FLOATS = 128 * 1024

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


def exact(rows: int, cols: int, out_rows: int, out_cols: int) -> bool:
    """Whether OpenCV's byte of a shrink from (rows, cols) to (out_rows, out_cols) is provably the exact area mean
    rounded to nearest: a shrink by at most :data:`MAX_SCALE` per side whose denominator ``p_r * p_c`` is odd, with
    the bound on OpenCV's float32 error (module doc, ``a`` = taps per output) four times below the exact mean's
    distance to a half."""
    if not (out_rows <= rows <= MAX_SCALE * out_rows and out_cols <= cols <= MAX_SCALE * out_cols):
        return False
    (p_r, q_r, _), (p_c, q_c, _) = phase_taps(rows, out_rows), phase_taps(cols, out_cols)
    taps = -(-p_r // q_r) + 1 + -(-p_c // q_c) + 1  # a_x + a_y
    error = (taps + 4) * 255 * 2.0**-24
    return (p_r * p_c) % 2 == 1 and 4 * error < 1 / (2 * p_r * p_c)


def _blocks(rows: int, cols: int, out_rows: int, out_cols: int) -> bool:
    """Whether both scales are whole numbers other than 1 x 1 and 2 x 2 (:func:`block_means`' sizes)."""
    fy, fx = rows // max(out_rows, 1), cols // max(out_cols, 1)
    return bool(out_rows and out_cols) and (rows, cols) == (fy * out_rows, fx * out_cols) and (fy, fx) not in ((1, 1), (2, 2))


def compiled(rows: int, cols: int, out_rows: int, out_cols: int) -> bool:
    """Whether :func:`area_resize` takes the compiled exact means (:func:`~data_gradients.batch.pixel_kernels.shrink`)
    for this shrink: built, :func:`exact`, not whole-number scales, and a divisor the compiled loop holds."""
    return (pixel_kernels.KERNELS is not None and not _blocks(rows, cols, out_rows, out_cols)
            and exact(rows, cols, out_rows, out_cols)
            and pixel_kernels.area_divisor(rows, cols, out_rows, out_cols) <= pixel_kernels.AREA_MAX_DIVISOR)


def area_resize(tall: np.ndarray, planes: int, out_rows: int, out_cols: int) -> np.ndarray:
    """``cv2.resize(tall, (out_cols, planes * out_rows), interpolation=cv2.INTER_AREA)`` of ``planes``
    (rows, cols) uint8 planes stacked in ``tall`` (rows may be strided), each to (out_rows, out_cols):
    the same bytes (OpenCV itself where :func:`exact` says no)."""
    total, cols = tall.shape
    rows = total // planes
    if _blocks(rows, cols, out_rows, out_cols):
        fy, fx = rows // out_rows, cols // out_cols
        return block_means(tall.reshape(planes, rows, cols), fy, fx).reshape(planes * out_rows, out_cols)
    if compiled(rows, cols, out_rows, out_cols):
        return pixel_kernels.shrink(tall.reshape(planes, rows, cols), 0, out_rows, out_cols).reshape(-1, out_cols)
    phases = phase_taps(rows, out_rows)[1] + phase_taps(cols, out_cols)[1] if out_rows and out_cols else 0
    if not exact(rows, cols, out_rows, out_cols) or phases > MAX_PHASES:
        return cv2.resize(tall, (out_cols, planes * out_rows), interpolation=cv2.INTER_AREA)
    out = np.empty((planes * out_rows, out_cols), dtype=np.uint8)
    scale = 1.0 / (phase_taps(rows, out_rows)[0] * phase_taps(cols, out_cols)[0])
    chunk = max(1, CHUNK_FLOATS // max(out_rows * cols, 1))
    for a in range(0, planes, chunk):
        m = min(planes, a + chunk) - a
        down = np.empty((m * out_rows, cols), dtype=np.float32)
        _phase_sums(tall[a * rows:(a + m) * rows], down, rows, out_rows)
        across = np.empty((out_cols, m * out_rows), dtype=np.float32)
        _phase_sums(cv2.transpose(down), across, cols, out_cols)
        cv2.transpose(cv2.convertScaleAbs(across, alpha=scale), dst=out[a * out_rows:(a + m) * out_rows])
    return out


def _phase_sums(src: np.ndarray, out: np.ndarray, n_src: int, n_dst: int) -> None:
    """``out`` (float32) = the integer-weighted sums of ``src`` rows (uint8 or float32), every n_src rows of
    it to n_dst rows. Every value is an integer below 2**24, so each float32 operation is exact."""
    p, q, taps = phase_taps(n_src, n_dst)
    same = src.dtype == np.float32  # OpenCV's same-type fast paths; uint8 rows are converted as they are read
    for t, weights in enumerate(taps):
        dst = out[t::q]
        (k0, w0), rest = weights[0], weights[1:]
        if not rest:
            cv2.multiply(src[k0::p], w0, dst=dst, dtype=cv2.CV_32F)
            continue
        cv2.addWeighted(src[k0::p], w0, src[rest[0][0]::p], rest[0][1], 0.0, dst=dst, dtype=cv2.CV_32F)
        for k, w in rest[1:]:
            if same:
                cv2.scaleAdd(src[k::p], w, dst, dst=dst)
            else:
                cv2.addWeighted(dst, 1.0, src[k::p], w, 0.0, dst=dst, dtype=cv2.CV_32F)


def block_means(planes: np.ndarray, fy: int, fx: int) -> np.ndarray:
    """(C, H / fy, W / fx) uint8: what ``cv2.resize(plane, (W / fx, H / fy), interpolation=cv2.INTER_AREA)`` gives
    for each (H, W) uint8 plane when both factors are whole numbers, (2, 2) excepted: OpenCV then sums each
    fy x fx block as an integer and rounds ``sum * float32(1 / (fy * fx))`` to the nearest integer, halves to even
    (its scalar path; the (2, 2) one rounds halves up). Here the sums are a few whole-array additions (rows, then
    strided columns) instead of a scalar loop per output pixel; a test compares them with OpenCV."""
    c, h, w = planes.shape
    dh, dw = h // fy, w // fx
    area = fy * fx
    blocks = np.ascontiguousarray(planes).reshape(c * dh, fy, w)
    rows = blocks[:, 0].astype(np.uint16 if area * 255 < 2**16 else np.uint32)
    for j in range(1, fy):
        rows += blocks[:, j]
    sums = rows[:, 0::fx].copy()
    for j in range(1, fx):
        sums += rows[:, j::fx]
    means = sums.astype(np.float32)
    means *= np.float32(1) / np.float32(area)  # OpenCV's float scale, one float product per pixel
    return np.rint(means).astype(np.uint8).reshape(c, dh, dw)
