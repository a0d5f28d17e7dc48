"""Array operations on runs: the linear merge that stands in for searchsorted, pointer jumping and union-find
against slow references (and through the view's components, tests/batch/test_segmentation_view.py)."""
from __future__ import annotations

import numpy as np
import pytest

from data_gradients.batch import run_ops
from data_gradients.batch.run_ops import merge_counts


# keys 2 x value (+ 1) in int32 where they fit, else int64: values near the int32 limit and negative ones
@pytest.mark.parametrize("offset", [0, -150, 2**30 - 150, 2**30 + 5, 2**31 + 7])
def test_merge_counts_equal_searchsorted_and_cumulated_counts(offset):
    rng = np.random.default_rng(3)
    for trial in range(100):
        small = offset == 0 and trial % 2
        start = np.unique(rng.integers(0, 200, int(rng.integers(1, 60)))).astype(np.int32 if small else np.int64)
        start[0] = 0  # as run starts: the first pixel starts a run, so every value >= 0 has a start at or before it
        above = np.sort(rng.integers(0, 220, int(rng.integers(0, 60)))).astype(start.dtype)
        start, above = start + offset, above + offset
        if trial % 3 == 0 and len(above):
            above[: len(above) // 2] = rng.choice(start, len(above) // 2)  # ties with starts
            above.sort()
        upper, before = merge_counts(start, above)
        np.testing.assert_array_equal(upper, np.searchsorted(start, above, side="right") - 1)
        expected = np.zeros(len(start) + 1, dtype=np.intp)
        np.cumsum(np.bincount(np.searchsorted(start, above, side="right") - 1, minlength=len(start)), out=expected[1:])
        np.testing.assert_array_equal(before, expected)
        np.testing.assert_array_equal(merge_counts(above, start, strict=True), np.searchsorted(start, above, side="left"))


def _slow_roots(parent):
    out = parent.copy()
    for i in range(len(out)):
        r = i
        while parent[r] != r:
            r = parent[r]
        out[i] = r
    return out


def test_roots_equal_following_each_pointer_on_forests_of_any_depth():
    rng = np.random.default_rng(2)
    forests = [np.zeros(0, dtype=np.intp), np.zeros(1, dtype=np.intp), np.arange(7), np.r_[0, np.arange(999)]]
    for depth_bias in [0.0, 0.5, 0.9, 0.99] * 5:  # 0.99: chains of hundreds of nodes
        n = int(rng.integers(2, 3000))
        parent = np.arange(n)
        for i in range(1, n):  # a parent among the previous nodes: mostly the one just before (long chains)
            if rng.random() < 0.9:
                parent[i] = i - 1 if rng.random() < depth_bias else int(rng.integers(0, i))
        forests.append(parent)
    for parent in forests:
        assert run_ops.roots(parent.copy()).tolist() == _slow_roots(parent).tolist()


def test_union_joins_the_trees_of_every_pair_at_their_smallest_node():
    rng = np.random.default_rng(3)
    for trial in range(30):
        n = int(rng.integers(1, 300))
        u, v = rng.integers(0, n, (2, int(rng.integers(0, 2 * n))))
        parent = run_ops.union(np.arange(n), u, v)
        groups = {i: {i} for i in range(n)}  # reference: merge sets pair by pair
        for a, b in zip(u.tolist(), v.tolist()):
            if groups[a] is not groups[b]:
                merged = groups[a] | groups[b]
                for k in merged:
                    groups[k] = merged
        assert parent.tolist() == [min(groups[i]) for i in range(n)]


@pytest.mark.parametrize("by_numpy", [False, True])
@pytest.mark.parametrize("itype", [np.int32, np.int64])
@pytest.mark.parametrize("shape,density", [((7, 13), 0.3), ((40, 1), 0.5), ((1, 50), 0.1), ((30, 64), 0.0),
                                           ((30, 64), 1.0), ((0, 5), 0.5)])
def test_nonzero_cells_are_flatnonzero_with_rows_and_columns(monkeypatch, by_numpy, itype, shape, density):
    if by_numpy:  # the path of arrays too large for cv2.findNonZero's int32 points
        monkeypatch.setattr(run_ops, "FIND_NONZERO_CELLS", 1)
    rng = np.random.default_rng(5)
    flags = ((rng.random(shape) < density) * rng.integers(1, 256, shape)).astype(np.uint8)
    start, row, col = run_ops.nonzero_cells(flags, itype)
    expected = np.flatnonzero(flags)
    for got, want in ((start, expected), (row, expected // max(shape[1], 1)), (col, expected % max(shape[1], 1))):
        assert got.dtype == itype
        np.testing.assert_array_equal(got, want)
