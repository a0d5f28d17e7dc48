"""Counts per window of the stream: the order a split's loader yields its samples.

A state declared with ``reduce="windows"`` keeps one copy of its value per window: ``WINDOWS``
windows of ``width`` consecutive stream positions each (a sample's position: the samples the
split's loader yielded before it). ``width`` is a power of two, doubled (adjacent windows added
pairwise) whenever a position passes ``WINDOWS * width``; it depends only on the largest
position seen, so two producers' states merge exactly once the finer is folded to the coarser
width, whatever batches each saw. The whole split's value is the sum over the windows.

Memory: ``WINDOWS`` times the declared value, per split.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

WINDOWS = 64  # windows kept per split (32-64 are in use once the stream is longer than 64 samples)


def fold(values: np.ndarray) -> np.ndarray:
    """Windows of twice the width: adjacent windows added pairwise, the upper half empty."""
    out = np.zeros_like(values)
    out[: len(values) // 2] = values.reshape(len(values) // 2, 2, *values.shape[1:]).sum(axis=1)
    return out


def width_for(end: int, width: int = 1) -> int:
    """The width (a power of two, at least ``width``) whose ``WINDOWS`` windows hold positions below ``end``."""
    while end > WINDOWS * width:
        width *= 2
    return width


def fold_to(values: np.ndarray, width: int, target: int) -> np.ndarray:
    """``values`` kept at ``width``, folded to the coarser ``target`` width."""
    while width < target:
        values = fold(values)
        width *= 2
    return values


def add_counts(target: np.ndarray, windows: np.ndarray, bins: Optional[np.ndarray] = None,
               weights: Optional[np.ndarray] = None) -> None:
    """Count each value in ``target[window, bin]`` (``target``: (WINDOWS, *shape), ``bins`` flat
    indices into ``shape``; none: a count per window, ``target`` (WINDOWS,)), in place; integer
    ``weights`` are added instead of ones.

    A batch usually falls in one or two windows: only the rows it touches are counted."""
    windows = np.asarray(windows, dtype=np.int64)
    if windows.size == 0:
        return
    bins = np.zeros(len(windows), dtype=np.int64) if bins is None else np.asarray(bins, dtype=np.int64)
    flat = target.reshape(len(target), -1)
    n_bins = flat.shape[1]
    lo, hi = int(windows.min()), int(windows.max())
    index = bins if lo == hi else (windows - lo) * n_bins + bins
    counted = np.bincount(index, weights=weights, minlength=(hi - lo + 1) * n_bins)
    if weights is not None:
        counted = np.rint(counted).astype(np.int64)  # integer weights: exact below 2**53
    flat[lo:hi + 1] += counted.reshape(hi - lo + 1, n_bins).astype(flat.dtype, copy=False)
