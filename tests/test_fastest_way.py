"""The fastest of several ways: timed on one input (``fastest``), or on the work itself (``FastestInUse``)."""
from __future__ import annotations

import threading
import time

import pytest

from data_gradients.fastest_way import FastestInUse, fastest


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


def _picker(**kw):
    return FastestInUse(("a", "b", "c"), **kw)


def test_calls_take_each_way_in_turn_and_the_least_best_time_is_kept():
    picker = _picker(rounds=2)
    seconds = {"a": [3.0, 2.0], "b": [1.0, 9.0], "c": [5.0, 4.0]}  # b's best (1.0) wins despite its slow second trial
    taken = []
    for _ in range(6):
        way = picker.next_way(("a", "b", "c"))
        taken.append(way)
        assert picker.choice is None
        picker.record(way, seconds[way].pop(0))
    assert taken == ["a", "b", "c"] * 2 and picker.choice == "b"
    assert picker.next_way(("a", "c")) == "b"  # once chosen, whatever the input allows (the caller falls back)


def test_a_way_the_input_does_not_allow_waits_for_an_input_that_does():
    picker = _picker(rounds=1)
    assert picker.next_way(("a", "b")) == "a"
    picker.record("a", 2.0)
    assert picker.next_way(("a", "b")) == "b"
    picker.record("b", 3.0)
    assert picker.choice is None and picker.next_way(("a", "b")) == "a"  # c not timed yet: no choice
    assert picker.next_way(("c", "a")) == "c"
    picker.record("c", 1.0)
    assert picker.choice == "c"


def test_after_max_trials_the_choice_is_among_the_ways_timed():
    picker = _picker(rounds=2, max_trials=4)
    for way, s in (("a", 2.0), ("b", 1.0), ("a", 3.0)):
        picker.record(way, s)
        assert picker.choice is None
    picker.record("b", 5.0)
    assert picker.choice == "b"
    assert _picker().max_trials == 12  # twice the trials every way needs, by default


def test_timed_returns_the_work_and_times_it_only_while_no_way_is_chosen():
    picker = FastestInUse(("slow", "quick"), rounds=1)
    assert picker.timed("slow", lambda: time.sleep(0.02) or "s", units=10) == "s"
    assert picker.timed("quick", lambda: "q", units=10) == "q"
    assert picker.choice == "quick" and [w for w, _ in picker.trials] == ["slow", "quick"]
    assert 0.02 / 10 <= picker.trials[0][1] and picker.trials[1][1] < picker.trials[0][1]
    assert picker.timed("slow", lambda: "again", units=1) == "again" and len(picker.trials) == 2


def test_threads_picking_at_once_get_ways_and_one_timed_choice():
    picker = _picker(rounds=3)
    errors = []

    def work():
        try:
            for _ in range(50):
                way = picker.next_way(("a", "b", "c"))
                picker.timed(way, lambda: sum(range(100 if way == "b" else 5000)), units=1)
        except Exception as e:  # pragma: no cover - the assertion below shows it
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors and picker.choice in ("a", "b", "c")
    assert {w for w, _ in picker.trials} == {"a", "b", "c"} and len(picker.trials) >= 9


@pytest.mark.parametrize("ways, rounds", [((), 2), (("a",), 0)])
def test_a_picker_needs_ways_and_rounds(ways, rounds):
    with pytest.raises(ValueError, match="FastestInUse"):
        FastestInUse(ways, rounds=rounds)


def test_no_possible_way_is_an_error():
    with pytest.raises(ValueError, match="none of"):
        _picker().next_way(("x",))
