"""Counts per window of the stream: known answers, widening, and merges of producers that saw
different parts of the stream."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.stream_windows import WINDOWS, add_counts, fold, fold_to, width_for

CTX = AnalysisContext(task="classification", num_classes=2, class_ids=(0, 1))


class ValuesPerWindow(FeatureExtractor):
    """Counts each sample's value (0-4) in its window."""

    name = "values_per_window"

    def setup(self) -> None:
        self.add_state("counts", np.zeros(5, dtype=np.int64), "windows")
        self.add_state("total", 0, "windows")

    def update(self, batch, split):
        windows = self.stream_windows(batch, split)
        st = self.state(split)
        add_counts(st.counts, windows, batch.values)
        add_counts(st.total, windows, weights=batch.values.astype(float))


def batch(positions, values):
    return SimpleNamespace(stream_positions=np.asarray(positions), values=np.asarray(values, dtype=np.int64))


def test_add_counts_counts_each_value_in_its_window():
    target = np.zeros((WINDOWS, 3), dtype=np.int64)
    add_counts(target, np.array([2, 2, 2]), np.array([0, 2, 2]))
    add_counts(target, np.array([3, 5, 5]), np.array([1, 1, 0]), weights=np.array([4, 1, 2]))
    expected = np.zeros((WINDOWS, 3), dtype=np.int64)
    expected[2] = [1, 0, 2]
    expected[3, 1] = 4
    expected[5] = [2, 1, 0]
    np.testing.assert_array_equal(target, expected)
    add_counts(target, np.zeros(0), np.zeros(0))  # nothing to count
    np.testing.assert_array_equal(target, expected)
    per_window = np.zeros(WINDOWS, dtype=np.int64)  # no bins: a count per window
    add_counts(per_window, np.array([4, 4, 9]))
    assert per_window[[4, 9]].tolist() == [2, 1] and per_window.sum() == 3


def test_fold_adds_adjacent_windows_and_width_doubles_past_the_last_window():
    values = np.arange(WINDOWS)
    folded = fold(values)
    assert folded[:3].tolist() == [1, 5, 9] and not folded[WINDOWS // 2:].any() and folded.sum() == values.sum()
    assert fold_to(values, 1, 4).tolist() == fold(fold(values)).tolist()
    assert [width_for(e) for e in (0, 64, 65, 128, 129, 64 * 64 + 1)] == [1, 1, 2, 2, 4, 128]


def test_a_state_declared_per_window_sums_to_the_split_and_widens():
    ex = ValuesPerWindow(CTX)
    rng = np.random.default_rng(0)
    values = rng.integers(0, 5, 300)
    for start in range(0, 300, 7):  # batches of 7 straddle windows
        ex.update(batch(np.arange(start, min(start + 7, 300)), values[start:start + 7]), "train")
    st = ex.state("train")
    assert st.stream_width == 8 and st.stream_end == 300 and st.counts.shape == (WINDOWS, 5)
    np.testing.assert_array_equal(st.counts.sum(axis=0), np.bincount(values, minlength=5))
    for w in range(WINDOWS):  # each sample in its own window, whatever batch it came in
        np.testing.assert_array_equal(st.counts[w], np.bincount(values[w * 8:(w + 1) * 8], minlength=5))
        assert st.total[w] == values[w * 8:(w + 1) * 8].sum()
    used, steps = ex.stream_steps("train")
    assert used.tolist() == list(range(38)) and steps.tolist() == list(range(8, 300, 8)) + [300]


@pytest.mark.parametrize("cut", [1, 40, 64, 65, 200, 511])
def test_merge_of_producers_at_other_widths_equals_one_producer(cut):
    values = np.random.default_rng(cut).integers(0, 5, 700)
    single, a, b = ValuesPerWindow(CTX), ValuesPerWindow(CTX), ValuesPerWindow(CTX)
    for i, v in enumerate(values):
        single.update(batch([i], [v]), "train")
        (a if i < cut else b).update(batch([i], [v]), "train")
    b_before = b.state("train").counts.copy()
    merged = a.merge(b)
    np.testing.assert_array_equal(b.state("train").counts, b_before)  # the other producer is left as it was
    for key in ("stream_width", "stream_end"):
        assert getattr(merged.state("train"), key) == getattr(single.state("train"), key)
    for key in ("counts", "total", "stream_images"):
        np.testing.assert_array_equal(getattr(merged.state("train"), key), getattr(single.state("train"), key))
    reverse = ValuesPerWindow(CTX)  # the finer producer merged into the coarser one
    for i, v in enumerate(values[cut:], start=cut):
        reverse.update(batch([i], [v]), "train")
    partial = ValuesPerWindow(CTX)
    for i, v in enumerate(values[:cut]):
        partial.update(batch([i], [v]), "train")
    np.testing.assert_array_equal(reverse.merge(partial).state("train").counts, single.state("train").counts)


def test_a_windowed_state_must_start_as_integer_zeros():
    class Bad(FeatureExtractor):
        name = "bad"

        def setup(self) -> None:
            self.add_state("x", np.ones(3), "windows")

    with pytest.raises(ValueError, match="integer zeros"):
        Bad(CTX)
