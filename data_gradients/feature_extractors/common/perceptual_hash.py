"""A 64-bit perceptual hash (DCT pHash) per image, from the shared grey thumbnail.

The usual pHash, in integers so that it never depends on the batch, the machine or BLAS:

1. the :data:`~data_gradients.feature_extractors.common.thumbnails.SIZE` (64) pixel grey
   thumbnail is reduced to 32 x 32 by summing 2 x 2 cells;
2. its 8 x 8 lowest DCT-II frequencies are ``D G D^T`` with ``D`` the first 8 rows of the
   32-point DCT matrix scaled by 2**12 and rounded to integers (exact int64 products);
3. bit ``8 k + l`` is set when coefficient ``(k, l)`` is above the median of the 64
   coefficients (the DC term included, as in the original pHash).

Re-encoding, resizing and small brightness changes move a few of the 64 bits; different photos
differ in about half of them. Two images are near duplicates when their hashes are within a
Hamming radius (see :mod:`~data_gradients.feature_extractors.common.near_duplicates`).
"""
from __future__ import annotations

import numpy as np

from data_gradients.batch import pixel_kernels
from data_gradients.feature_extractors.common.thumbnails import SIZE

HASH_SIDE = 32  # the DCT runs on a 32 x 32 grid
LOW = 8  # 8 x 8 lowest frequencies: 64 bits
_CELL = SIZE // HASH_SIDE
_x = np.arange(HASH_SIDE)
DCT = np.round(4096 * np.cos(np.pi * (2 * _x[None, :] + 1) * np.arange(LOW)[:, None] / (2 * HASH_SIDE))).astype(np.int64)

_BASIS = np.repeat(DCT, _CELL, axis=1).astype(np.float64)  # (LOW, SIZE): D[k, X // 2]

_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def phash_from_grey(grey: np.ndarray) -> np.ndarray:
    """(N,) uint64 pHash of (N, SIZE, SIZE) uint8 grey thumbnails.

    Steps 1 and 2 are two float64 matrix products per image, the 2 x 2 sums folded into the basis
    (:data:`_BASIS`: ``D`` with each column repeated): every product and partial sum is an integer
    below 2**45 (at most 64 * 255 * 4096 * 64 * 4096), so float64 holds them exactly, whatever the
    summation order, and the coefficients are the integers of ``D G D^T``. The products are
    stacked (one small BLAS call per image): one large product for the batch would let OpenBLAS
    start its threads, which spin on the cores the analysis and the loader's workers need.

    With the compiled pixel loops, :func:`~data_gradients.batch.pixel_kernels.phash` computes the same
    integers (0.0027 against 0.0089 ms per thumbnail on an Intel Xeon (Ice Lake), one thread).
    """
    n = len(grey)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    if pixel_kernels.KERNELS is not None and grey.shape[1:] == (SIZE, SIZE) == (64, 64):
        return pixel_kernels.phash(grey, DCT)  # the same integers in one compiled loop per thumbnail
    rows = np.matmul(grey.astype(np.float64), _BASIS.T)  # (n, Y, l)
    coeffs = np.matmul(_BASIS, rows).reshape(n, LOW * LOW)  # (n, k, l)
    middle = np.partition(coeffs, (LOW * LOW // 2 - 1, LOW * LOW // 2), axis=1)
    middle = middle[:, LOW * LOW // 2 - 1] + middle[:, LOW * LOW // 2]  # 2 x median, exact (below 2**46)
    bits = 2 * coeffs > middle[:, None]
    return np.packbits(bits, axis=1, bitorder="little").view("<u8").reshape(n).astype(np.uint64)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise Hamming distance of uint64 arrays (int64)."""
    x = np.bitwise_xor(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))
    return popcount(x)


def popcount(x: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (int64): ``np.bitwise_count`` on numpy >= 2, a byte table before."""
    x = np.asarray(x, dtype=np.uint64)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    flat = np.ascontiguousarray(x.reshape(-1))
    return _POPCOUNT8[flat.view(np.uint8).reshape(-1, 8)].sum(axis=1, dtype=np.int64).reshape(x.shape)
