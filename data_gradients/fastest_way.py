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
from typing import Any, Callable, Dict, Tuple


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
