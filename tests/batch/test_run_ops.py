"""Array operations on runs: the linear merge that stands in for searchsorted (union-find is tested
through the view's components, tests/batch/test_segmentation_view.py)."""
from __future__ import annotations

import numpy as np
import pytest

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
