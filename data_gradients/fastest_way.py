"""Picking, once per process, the faster of several exact ways to compute the same thing.

Which kernel is fastest depends on the CPU (measured: ``torch._int_mm`` is 18x faster than float32
products with VNNI instructions and 18x slower without; a joint 256 x 256 histogram is faster than one
per channel on one machine and 1.9x slower on another). Every way gives the same result, so the choice
changes the time only, and a noisy timing can only cost speed, never a number. A single timing can be
noisy enough to matter, though: on a shared 2-core VM, one stall of ~15 ms in the faster way's only run
would make the image hash take the 18x slower kernel for the whole process (seconds per run), so each
way is timed more than once, in turn, and judged by its best time.
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple


def fastest(ways: Dict[str, Callable[[], Any]], rounds: int = 3) -> Tuple[str, Dict[str, Any]]:
    """Run each of ``ways`` ``rounds`` times, the ways in turn in each round: (the name of the one whose best
    time was the least, each one's result of the first round)."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    seconds: Dict[str, float] = {}
    results: Dict[str, Any] = {}
    for _ in range(rounds):
        for name, way in ways.items():
            start = time.perf_counter()
            result = way()
            elapsed = time.perf_counter() - start
            results.setdefault(name, result)
            seconds[name] = min(elapsed, seconds.get(name, elapsed))
    return min(seconds, key=seconds.get), results


class FastestInUse:
    """The fastest of several exact ways, found while doing the work: the first calls of the process are
    computed by each way in turn and timed (per unit of work: pixels, bytes), and once every way has been
    timed ``rounds`` times (or ``max_trials`` calls were timed) the way with the least best time is kept
    in :attr:`choice`. No call computes anything twice, so finding the way costs only what the slower ways
    lose on their few calls; :func:`fastest` instead times every way on one input, which costs all the
    ways' time on it, ``rounds`` times over. Calls differ in content, so their times per unit are less alike
    than repeated timings of one input: fit for ways that differ by tens of percent.

    Several threads may use it at once: trials are appended to a list (atomic in CPython) and read from a
    copy, so no lock is held (none can be left locked in a forked child); two threads may time the same
    way, or both set :attr:`choice` from their own copy: either is a way that was timed.
    """

    def __init__(self, ways: Sequence[str], rounds: int = 2, max_trials: Optional[int] = None):
        if rounds < 1 or not ways:
            raise ValueError(f"FastestInUse needs ways and rounds >= 1, got {list(ways)} and {rounds}")
        self.ways = tuple(ways)
        self.rounds = rounds
        self.max_trials = max_trials if max_trials is not None else 2 * rounds * len(self.ways)
        self.choice: Optional[str] = None
        self.trials: List[Tuple[str, float]] = []  # (way, seconds per unit), in the order they were timed

    def next_way(self, possible: Iterable[str]) -> str:
        """The way this call should take: :attr:`choice` once known, else the possible way timed least often
        so far (ties: the first in :attr:`ways`). ``possible``: the ways this input allows."""
        if self.choice is not None:
            return self.choice
        counts = Counter(way for way, _ in list(self.trials))
        options = [way for way in self.ways if way in set(possible)]
        if not options:
            raise ValueError(f"none of {list(possible)} is one of the ways {list(self.ways)}")
        return min(options, key=lambda way: counts[way])

    def timed(self, way: str, work: Callable[[], Any], units: float) -> Any:
        """``work()``, timed as a trial of ``way`` (``units`` of work) while no way is chosen yet."""
        if self.choice is not None:
            return work()
        start = time.perf_counter()
        result = work()
        self.record(way, (time.perf_counter() - start) / max(units, 1))
        return result

    def record(self, way: str, seconds_per_unit: float) -> None:
        """One trial of ``way``; decides :attr:`choice` when every way has ``rounds`` trials or there were
        ``max_trials`` (then among the ways timed at all)."""
        self.trials.append((way, seconds_per_unit))
        trials = list(self.trials)
        counts = Counter(w for w, _ in trials)
        if self.choice is None and (all(counts[w] >= self.rounds for w in self.ways) or len(trials) >= self.max_trials):
            best: Dict[str, float] = {}
            for w, seconds in trials:
                best[w] = min(seconds, best.get(w, seconds))
            self.choice = min(best, key=best.get)
