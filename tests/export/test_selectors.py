"""Every selector, their combinations and edge cases, on a fake split of batches (no pixels needed)."""
from __future__ import annotations

import numpy as np
import pytest

from data_gradients.errors import ConfigurationError
from data_gradients.export import selectors as sel
from data_gradients.export.selectors import BatchInfo
from data_gradients.results import FeatureResult, Finding

BATCH = 4
N = 22  # 6 batches, the last one short


def split_infos(split="train", size=N, ids=None):
    """BatchInfos of a split of ``size`` samples in batches of 4; ids default to the positions."""
    ids = np.arange(size) if ids is None else np.asarray(ids)
    return [BatchInfo(split, b, ids[s:s + BATCH], np.arange(s, min(s + BATCH, size)), size)
            for b, s in enumerate(range(0, size, BATCH))]


def chosen(selector, split="train", size=N, ids=None):
    """Sample ids the selector wants over the whole split."""
    out = []
    for info in split_infos(split, size, ids):
        mask = selector.select(info)
        assert mask.dtype == bool and mask.shape == (len(info),)
        out += info.sample_ids[mask].tolist()
    return out


def test_first_and_every_n_batches():
    assert chosen(sel.first_n_batches(2)) == list(range(8))
    assert chosen(sel.first_n_batches(0)) == []
    assert chosen(sel.first_n_batches(100)) == list(range(N))
    assert chosen(sel.every_n_batches(3)) == [0, 1, 2, 3, 12, 13, 14, 15]
    assert chosen(sel.every_n_batches(1)) == list(range(N))


def test_first_and_every_n_samples_follow_the_stream_not_the_ids():
    shuffled = np.random.default_rng(0).permutation(100)[:N]
    assert chosen(sel.first_n_samples(5), ids=shuffled) == shuffled[:5].tolist()
    assert chosen(sel.first_n_samples(0)) == []
    assert chosen(sel.first_n_samples(10_000)) == list(range(N))
    assert chosen(sel.every_n_samples(5)) == [0, 5, 10, 15, 20]
    assert chosen(sel.every_n_samples(7), ids=shuffled) == shuffled[[0, 7, 14, 21]].tolist()


def test_samples_by_id_for_every_split_or_per_split_and_ids_past_the_end():
    assert chosen(sel.samples([3, 17, 5, 3])) == [3, 5, 17]
    assert chosen(sel.samples([N, N + 5, 10**12])) == []  # past the end: nothing, no error
    assert chosen(sel.samples([])) == []
    per_split = sel.samples({"val": [1, 2]})
    assert chosen(per_split, split="train") == []
    assert chosen(per_split, split="val") == [1, 2]


def test_random_samples_exact_count_seeded_and_within_the_split():
    a = chosen(sel.random_samples(5, seed=1))
    assert len(a) == 5 and len(set(a)) == 5 and all(0 <= i < N for i in a)
    assert a == chosen(sel.random_samples(5, seed=1))
    assert a != chosen(sel.random_samples(5, seed=2))
    assert chosen(sel.random_samples(0)) == []
    assert chosen(sel.random_samples(100)) == list(range(N))  # more than the split: all of it
    # positions, not ids: the same positions are chosen whatever ids the samples carry
    ids = np.arange(N) * 10
    assert chosen(sel.random_samples(5, seed=1), ids=ids) == [i * 10 for i in a]


def test_random_samples_without_a_split_size_is_a_clear_error():
    info = BatchInfo("train", 0, np.arange(4), np.arange(4), None)
    with pytest.raises(ConfigurationError, match="number of samples"):
        sel.random_samples(2).select(info)


class _Report:
    def __init__(self, findings):
        self.results = {"f": FeatureResult("f", "F", "", "quality", findings=findings)}

    @property
    def findings(self):
        return [f for r in self.results.values() for f in r.findings]


REPORT = _Report([
    Finding("out_of_range", "Out of range", "", "", counts={"train": 3}, sample_ids={"train": [7, 2, 19]}),
    Finding("empty", "Empty", "", "", counts={"train": 1, "val": 1}, sample_ids={"train": [7], "val": [3]}),
])


def test_from_findings_keys_per_finding_and_flags():
    every = sel.from_findings(REPORT)
    assert every.needs_report
    assert chosen(every) == [2, 7, 19]
    assert chosen(every, split="val") == [3]
    assert chosen(sel.from_findings(REPORT, keys=["empty"])) == [7]
    assert chosen(sel.from_findings(REPORT, per_finding=1)) == [7]
    assert chosen(sel.from_findings(REPORT, per_finding=0)) == []
    assert every.flagged_by("train", 7) == ["out_of_range", "empty"]
    assert every.flagged_by("train", 2) == ["out_of_range"]
    assert every.flagged_by("train", 3) == []
    with pytest.raises(ConfigurationError, match="no finding of this report"):
        sel.from_findings(REPORT, keys=["nope"])
    with pytest.raises(ConfigurationError, match="AnalysisReport"):
        sel.from_findings(object())


def test_combinations():
    first8, every5 = sel.first_n_samples(8), sel.every_n_samples(5)
    assert chosen(sel.any_of(first8, every5)) == [0, 1, 2, 3, 4, 5, 6, 7, 10, 15, 20]
    assert chosen(sel.all_of(first8, every5)) == [0, 5]
    assert chosen(sel.not_(first8)) == list(range(8, N))
    assert chosen(first8 | every5) == chosen(sel.any_of(first8, every5))
    assert chosen(first8 & ~every5) == [1, 2, 3, 4, 6, 7]
    nested = sel.any_of(sel.all_of(sel.first_n_batches(2), sel.not_(sel.samples([0, 1]))), sel.samples([21]))
    assert chosen(nested) == [2, 3, 4, 5, 6, 7, 21]
    assert sel.any_of(first8, sel.from_findings(REPORT)).needs_report
    assert not sel.any_of(first8, every5).needs_report
    assert sel.all_of(first8, sel.random_samples(2)).needs_split_size
    flagged = sel.any_of(first8, sel.from_findings(REPORT))
    assert flagged.flagged_by("train", 7) == ["out_of_range", "empty"]
    assert sel.not_(sel.from_findings(REPORT)).flagged_by("train", 7) == []


@pytest.mark.parametrize("make", [
    lambda: sel.first_n_batches(-1), lambda: sel.first_n_samples(-3), lambda: sel.every_n_batches(0),
    lambda: sel.every_n_samples(0), lambda: sel.first_n_samples(2.5), lambda: sel.first_n_samples(True),
    lambda: sel.first_n_samples("3"), lambda: sel.random_samples(-1), lambda: sel.random_samples(2, seed=-1),
    lambda: sel.samples("12"), lambda: sel.samples([1, -2]), lambda: sel.samples([1.5]), lambda: sel.samples(5),
    lambda: sel.samples({"train": [-1]}), lambda: sel.any_of(), lambda: sel.all_of(sel.first_n_samples(1), 3),
    lambda: sel.not_("first"), lambda: sel.from_findings(REPORT, per_finding=-1),
    lambda: sel.as_selector("first_n_samples(3)"), lambda: sel.as_selector([]),
])
def test_bad_arguments_are_configuration_errors(make):
    with pytest.raises(ConfigurationError):
        make()


def test_a_list_of_selectors_means_any_of_them():
    crit = sel.as_selector([sel.samples([1]), sel.samples([20])])
    assert chosen(crit) == [1, 20]
