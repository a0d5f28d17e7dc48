"""A fixed-width row per sample (a hash, a digest) with its sample id, for up to ``cap`` samples.

The exact-duplicate and near-duplicate indexes (8-byte hashes) and the fingerprint's manifest
(32 bytes of digests) keep one of these per split. Beyond the cap the smallest sample ids are
kept (ties by the row's bytes), so the content does not depend on the order samples arrive in
nor on how states are merged: ``a + b`` is the merge (the base class's "sum" reduction).
Batches are buffered in chunks and joined every :data:`CHUNKS` additions, so adding costs no
copy of what is already held.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

CHUNKS = 256  # batches buffered before they are joined into one array


class SampleRows:
    """Rows of ``row_shape`` and ``dtype`` with their int64 sample ids, the smallest ``cap`` ids kept."""

    def __init__(self, cap: int, row_shape: Tuple[int, ...] = (), dtype=np.uint64):
        self.cap = int(cap)
        self.row_shape = tuple(row_shape)
        self.dtype = np.dtype(dtype)
        self._rows: List[np.ndarray] = []
        self._ids: List[np.ndarray] = []
        self._size = 0
        self._max_kept: Optional[int] = None  # largest kept id once the cap was reached

    def __len__(self) -> int:
        return min(self._size, self.cap)

    def wanted(self, ids: np.ndarray) -> np.ndarray:
        """Which of ``ids`` could still be kept: all of them until the cap is reached, then the ids below
        the largest kept (the callers' ids are unique in a split, so that id itself is in already)."""
        if self._max_kept is None:
            return np.ones(len(ids), dtype=bool)
        return np.asarray(ids) < self._max_kept

    def add(self, rows: np.ndarray, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        self._rows.append(np.asarray(rows, dtype=self.dtype).reshape((len(ids),) + self.row_shape))
        self._ids.append(np.array(ids, dtype=np.int64))  # a copy: a batch's ids must not stay referenced
        self._size += len(ids)
        if len(self._rows) > CHUNKS or self._size > self.cap:
            self._join()

    def arrays(self) -> Tuple[np.ndarray, np.ndarray]:
        """(rows, ids) of the kept samples, sorted by sample id (ties by the rows' bytes)."""
        self._join()
        if not self._ids:
            return np.zeros((0,) + self.row_shape, dtype=self.dtype), np.zeros(0, dtype=np.int64)
        rows, ids = self._rows[0], self._ids[0]
        order = _order(rows, ids)
        return rows[order], ids[order]

    def __add__(self, other: "SampleRows") -> "SampleRows":
        out = SampleRows(min(self.cap, other.cap), self.row_shape, self.dtype)
        out._rows, out._ids = self._rows + other._rows, self._ids + other._ids
        out._size = self._size + other._size
        out._join()
        return out

    def _join(self) -> None:
        if len(self._ids) <= 1 and self._size <= self.cap:
            return
        rows, ids = np.concatenate(self._rows), np.concatenate(self._ids)
        if len(ids) > self.cap:
            keep = _order(rows, ids)[:self.cap]
            rows, ids = rows[keep], ids[keep]
            self._max_kept = int(ids.max())
        self._rows, self._ids, self._size = [rows], [ids], len(ids)


def _order(rows: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Indices sorting by id, then by the rows' bytes (read as big-endian words when they fit)."""
    order = np.argsort(ids, kind="stable")
    if len(ids) < 2 or (np.diff(ids[order]) > 0).all():  # ids unique (the usual case): no tie to break
        return order
    raw = np.ascontiguousarray(rows).reshape(len(ids), -1).view(np.uint8)
    keys = raw.view(">u8") if raw.shape[1] % 8 == 0 else raw
    return np.lexsort(tuple(keys.T[::-1]) + (ids,))
