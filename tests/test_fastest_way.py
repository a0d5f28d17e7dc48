"""The fastest of several ways: the one that took the least time, with every way's result."""
from __future__ import annotations

import time

from data_gradients.fastest_way import fastest


def test_the_way_that_took_least_time_is_named_and_every_way_ran_once():
    calls = []

    def way(name, seconds):
        def run():
            calls.append(name)
            time.sleep(seconds)
            return name * 2
        return run

    name, results = fastest({"slow": way("slow", 0.03), "quick": way("quick", 0.0), "slower": way("slower", 0.05)})
    assert name == "quick" and calls == ["slow", "quick", "slower"]
    assert results == {"slow": "slowslow", "quick": "quickquick", "slower": "slowerslower"}
