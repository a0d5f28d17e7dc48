"""Picking, once per process, the faster of several exact ways to compute the same thing.

Which kernel is fastest depends on the CPU (measured: ``torch._int_mm`` is 18x faster than float32
products with VNNI instructions and 18x slower without; a joint 256 x 256 histogram is faster than one
per channel on one machine and 1.9x slower on another). Every way gives the same result, so the choice
changes the time only, and a noisy timing can only cost speed, never a number.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Tuple


def fastest(ways: Dict[str, Callable[[], Any]]) -> Tuple[str, Dict[str, Any]]:
    """Run each of ``ways`` once, in turn: (the name of the one that took the least time, each one's result)."""
    seconds, results = {}, {}
    for name, way in ways.items():
        start = time.perf_counter()
        results[name] = way()
        seconds[name] = time.perf_counter() - start
    return min(seconds, key=seconds.get), results
