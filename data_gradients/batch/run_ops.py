"""Array operations on the runs of segmentation masks, for :mod:`segmentation_view`: a per-thread
scratch buffer, run starts by OpenCV, union-find over pairs of runs, and a linear merge of sorted
keys that stands in for ``searchsorted`` and ``bincount`` + ``cumsum``.
"""
from __future__ import annotations

import threading
from typing import Tuple

import cv2
import numpy as np

SCRATCH_BUFFERS = threading.local()
FIND_NONZERO_CELLS = 2**31 - 1  # cv2.findNonZero's points are int32: larger arrays are scanned by numpy


def scratch(name: str, shape, dtype=np.uint8) -> np.ndarray:
    """A buffer of ``shape`` and ``dtype`` reused by every batch of this thread (the compiled loops' outputs too,
    copied out of it): a fresh one per batch would pay its page faults again (several MB at 720p; ~0.7 ms for
    the run pairs of eight 720p masks)."""
    size = int(np.prod(shape))
    key = f"{name}_{np.dtype(dtype).str}"
    buf = getattr(SCRATCH_BUFFERS, key, None)
    if buf is None or buf.size < size:
        buf = np.empty(max(size, 1), dtype=dtype)
        setattr(SCRATCH_BUFFERS, key, buf)
    return buf[:size].reshape(shape)


def differ(image: np.ndarray, starts: np.ndarray) -> None:
    """``starts[:, 1:]`` = 255 where a uint8 ``image`` differs from its left neighbour, else 0 (OpenCV)."""
    out = cv2.compare(image[:, 1:], image[:, :-1], cv2.CMP_NE, dst=starts[:, 1:])
    if out is not None and out.size and not np.shares_memory(out, starts):  # OpenCV did not write in place
        starts[:, 1:] = out


def nonzero_cells(flags: np.ndarray, itype) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat index, row, column) of the nonzero cells of a 2-D uint8 array in raster order, each as ``itype``.

    ``cv2.findNonZero`` gives rows and columns at once: 2.9 against 3.8 ms for ``np.flatnonzero`` and the
    divisions, on the run starts of eight 720p street scenes (Intel Xeon, Ice Lake). Its points are int32,
    so arrays of :data:`FIND_NONZERO_CELLS` cells or more are scanned by numpy."""
    rows, cols = flags.shape
    if flags.size >= FIND_NONZERO_CELLS or not flags.size:
        flat = np.flatnonzero(flags.view(bool)).astype(itype)
        row = flat // itype(max(cols, 1))
        return flat, row, flat - row * itype(cols)
    points = cv2.findNonZero(flags)
    if points is None:  # no nonzero cell
        empty = np.zeros(0, dtype=itype)
        return empty, empty, empty
    points = points.reshape(-1, 2)
    col, row = points[:, 0].astype(itype), points[:, 1].astype(itype)
    return row * itype(cols) + col, row, col


def union(parent: np.ndarray, u: np.ndarray, v: np.ndarray, rounds: int = -1) -> np.ndarray:
    """Union-find over the pairs (u, v) by rounds: hook the larger root of each pair joining two trees to
    the smaller, then pointer jumping until every node points at its root; so each tree keeps its
    smallest node as root. ``rounds`` < 0: until no pair joins two trees."""
    while u.size and rounds != 0:
        pu, pv = parent[u], parent[v]
        differ = pu != pv
        if not differ.any():
            break
        u, v = np.minimum(pu[differ], pv[differ]), np.maximum(pu[differ], pv[differ])
        np.minimum.at(parent, v, u)  # hook roots to the smallest root they touch
        parent = roots(parent)
        rounds -= 1
    return parent


def roots(parent: np.ndarray) -> np.ndarray:
    """Pointer jumping until every node of the forest ``parent`` points at its root: four steps a check (a check
    costs a step; the runs' forests at 720p take ~10 steps), the check whether the third step changed anything."""
    while True:
        nxt = parent[parent]
        nxt = nxt[nxt]
        third = nxt[nxt]
        if np.array_equal(third, nxt):  # every node points at a node that points at itself: a root
            return nxt
        parent = third[third]


def merge_counts(start: np.ndarray, above: np.ndarray, strict: bool = False):
    """For sorted ``start`` (distinct) and sorted ``above``: (index of the last start <= each ``above``, and per
    start k, how many ``above`` are < start[k], with the total appended), i.e. ``searchsorted(start, above,
    "right") - 1`` and the cumulated counts of the first, from one merge: both are sorted runs of one array
    of keys (2 x value, + 1 for ``above``, so a start sorts before an equal ``above``), which a stable sort
    (timsort) merges in linear time.

    ``strict``: only the counts per start, without the total (``searchsorted(above, start, "left")``);
    ``start`` need not be distinct then."""
    n = len(start)
    ends = [int(a[i]) for a in (start, above) if len(a) for i in (0, -1)]  # both sorted: their extremes
    # int32 keys when they fit (half the bytes of every pass; the sort is a third faster): the same order
    ktype = np.int32 if not ends or (2 * max(ends) + 1 < 2**31 and 2 * min(ends) >= -(2**31)) else np.int64
    keys = np.empty(n + len(above), dtype=ktype)
    np.multiply(start, 2, out=keys[:n], dtype=ktype)
    np.multiply(above, 2, out=keys[n:], dtype=ktype)
    keys[n:] += 1
    keys.sort(kind="stable")
    is_above = (keys & 1).astype(bool)
    before = np.flatnonzero(~is_above) - np.arange(n)
    if strict:
        return before
    upper = np.flatnonzero(is_above) - np.arange(1, len(above) + 1)
    return upper, np.append(before, len(above))
