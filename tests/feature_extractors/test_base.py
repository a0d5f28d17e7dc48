"""The extractor base class: reductions that do not depend on the order of the data."""
from __future__ import annotations

import itertools
import random

from data_gradients.feature_extractors.base import keep_smallest, merge_counter


def test_capped_counter_does_not_depend_on_order_or_merges():
    items = [(f"{h}x{w}", 1 + (h * w) % 3) for h in range(1, 9) for w in range(1, 6)]
    expected = merge_counter({}, items, cap=7)
    assert len(expected) == 8 and sum(expected.values()) == sum(n for _, n in items)
    rng = random.Random(0)
    for _ in range(20):
        shuffled = rng.sample(items, len(items))
        one_by_one = {}
        for item in shuffled:
            one_by_one = merge_counter(one_by_one, [item], cap=7)
        assert one_by_one == expected
        cut = rng.randrange(len(items))
        a = merge_counter({}, shuffled[:cut], cap=7)
        b = merge_counter({}, shuffled[cut:], cap=7)
        assert merge_counter(a, b.items(), cap=7) == expected


def test_counter_under_its_cap_keeps_every_key():
    assert merge_counter({"a": 1}, [("b", 2), ("a", 3)], cap=5) == {"a": 4, "b": 2}


def test_keep_smallest_is_a_union_of_the_smallest_keys():
    a = [(0.5, "x"), (0.1, "y")]
    b = [(0.3, "z"), (0.9, "w")]
    for first, second in itertools.permutations([a, b]):
        assert keep_smallest(first, second, 3) == [(0.1, "y"), (0.3, "z"), (0.5, "x")]
