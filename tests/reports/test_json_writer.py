"""summary.json: arrays converted without visiting every number, and the compact layout, give
exactly the values the element-by-element conversion and ``json.dump(indent=1)`` gave."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from data_gradients.reports.json_writer import dumps, to_jsonable


def reference_to_jsonable(obj):
    """The former conversion: arrays through ``tolist()``, then every element on its own."""
    if isinstance(obj, dict):
        return {str(k): reference_to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [reference_to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return reference_to_jsonable(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def random_tree(rng: np.random.Generator, depth: int = 0):
    kind = rng.integers(0, 9 if depth < 3 else 5)
    if kind == 0:
        a = rng.normal(size=tuple(rng.integers(0, 5, rng.integers(0, 4)))) * 10.0 ** rng.integers(-300, 300)
        if a.size:
            a.flat[rng.integers(0, a.size, 2)] = rng.choice([np.nan, np.inf, -np.inf])
        with np.errstate(over="ignore"):  # huge values become inf in float16: covered like the others
            return a.astype(rng.choice([np.float64, np.float32, np.float16]))
    if kind == 1:
        return rng.integers(-2**40, 2**40, size=tuple(rng.integers(0, 4, 2))).astype(rng.choice([np.int64, np.uint8]))
    if kind == 2:
        return rng.random(rng.integers(0, 5)) > 0.5
    if kind == 3:
        return rng.choice([np.float32(0.1), np.int16(-3), 1e308, float("nan"), True, None, "text", 7])
    if kind == 4:
        return np.array(rng.normal())  # 0-d
    if kind in (5, 6):
        return [random_tree(rng, depth + 1) for _ in range(rng.integers(0, 4))]
    return {f"k{i}": random_tree(rng, depth + 1) for i in range(rng.integers(0, 4))}


@pytest.mark.parametrize("seed", range(40))
def test_same_values_as_the_element_by_element_conversion(seed):
    tree = random_tree(np.random.default_rng(seed))
    new, old = to_jsonable(tree), reference_to_jsonable(tree)
    assert json.dumps(new) == json.dumps(old)  # same values, same float bits, same types (int vs float)
    assert json.loads(dumps(new)) == json.loads(json.dumps(old, indent=1))


def test_structured_values():
    tree = {"maps": {"train": np.arange(12.0).reshape(3, 4)}, "counts": np.array([3, 0, 2]), "flags": np.array([True]),
            "nan": np.array([np.nan, 1.5]), "empty": np.zeros((0, 3)), "scalar": np.float64(np.inf), "nested": [[1, [2]]]}
    new = to_jsonable(tree)
    assert new == reference_to_jsonable(tree)
    assert new["nan"] == [None, 1.5] and new["scalar"] is None and new["empty"] == []
    text = dumps(new)
    assert json.loads(text) == new
    assert '"train": [[0.0, 1.0, 2.0, 3.0],' in text  # a matrix: one row a line
    assert '"counts": [3, 0, 2]' in text  # numbers of a list on one line
