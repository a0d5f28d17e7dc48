"""The fastest of several ways: the one whose best time was the least, with every way's first result."""
from __future__ import annotations

import time

import pytest

from data_gradients.fastest_way import fastest


def _way(name, seconds, calls):
    def run():
        calls.append(name)
        time.sleep(seconds.pop(0) if isinstance(seconds, list) else seconds)
        return f"{name}{len([c for c in calls if c == name])}"
    return run


def test_the_way_that_took_least_time_is_named_and_every_way_ran_in_turn():
    calls = []
    ways = {"slow": _way("slow", 0.03, calls), "quick": _way("quick", 0.0, calls), "slower": _way("slower", 0.05, calls)}
    name, results = fastest(ways, rounds=2)
    assert name == "quick"
    assert calls == ["slow", "quick", "slower"] * 2
    assert results == {"slow": "slow1", "quick": "quick1", "slower": "slower1"}  # the first round's results


def test_one_stall_in_the_faster_ways_first_run_does_not_decide():
    calls = []
    # "quick" stalls once (40 ms) in its first run, then takes ~0; "steady" takes 10 ms every time
    ways = {"quick": _way("quick", [0.04, 0.0, 0.0], calls), "steady": _way("steady", 0.01, calls)}
    assert fastest(ways)[0] == "quick"
    assert calls == ["quick", "steady"] * 3  # three rounds by default


def test_rounds_must_be_positive():
    with pytest.raises(ValueError, match="rounds"):
        fastest({"a": lambda: 1}, rounds=0)
