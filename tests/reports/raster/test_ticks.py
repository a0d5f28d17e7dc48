"""Tick positions and labels agree with matplotlib's locators and formatter, used here as the oracle."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator, ScalarFormatter

from data_gradients.reports.raster import ticks
from data_gradients.reports.raster.ticks import auto_bins, format_ticks, linear_ticks, log_ticks, plain_number

M = "\N{MINUS SIGN}"


def in_view(values, lo, hi, log=False):
    f = np.log10 if log else (lambda v: np.asarray(v, dtype=float))
    tol = 1e-9 * (f(hi) - f(lo))
    return [float(v) for v in values if f(lo) - tol <= f(v) <= f(hi) + tol]


def significant_digits(x):
    return len(repr(x).split("e")[0].replace("-", "").replace(".", "").strip("0"))


def random_views(n, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        span = 10 ** rng.uniform(-6, 6)
        lo = rng.choice([0.0, -span, -span / 2]) + rng.choice([0.0, 1.0, -1.0]) * span * 10 ** rng.uniform(-2, 4)
        yield float(lo), float(lo + span), int(rng.integers(1, 10)), bool(rng.integers(0, 2))


VIEWS = list(random_views(400)) + [(0, 1, 5, False), (0, 255, 9, True), (-3, 3, 4, False), (0, 0.3, 3, False),
                                   (0.3, 0.30001, 5, False), (1e5, 1e5 + 1e-5, 7, False), (-7.5, -0.5, 2, True),
                                   (0, 1e6, 9, False), (0, 3, 9, True), (0.5, 2.5, 9, True), (1e-7, 3e-7, 9, True)]


@pytest.mark.parametrize("lo, hi, bins, integer", VIEWS)
def test_linear_ticks_are_matplotlibs(lo, hi, bins, integer):
    ours = linear_ticks(lo, hi, bins, integer=integer)
    theirs = in_view(MaxNLocator(bins, steps=[1, 2, 2.5, 5, 10], integer=integer).tick_values(lo, hi), lo, hi)
    assert len(ours) == len(theirs) and np.allclose(ours, theirs, rtol=0, atol=1e-6 * (hi - lo)), (ours, theirs)
    assert len(ours) >= 2  # more than bins + 1 when fewer steps would leave a single tick in the view
    assert all(significant_digits(t) <= 15 for t in ours)  # no float noise such as 0.30000000000000004


def test_linear_ticks_clean_and_edge_cases():
    assert linear_ticks(0, 1, 5) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert linear_ticks(0, 0.9, 9) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert linear_ticks(-1, 0, 4) == [-1.0, -0.75, -0.5, -0.25, 0.0] and linear_ticks(0, -1, 4) == linear_ticks(-1, 0, 4)
    assert linear_ticks(0, 3, 9, integer=True) == [0.0, 1.0, 2.0, 3.0]
    assert linear_ticks(0, 3, 9) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert linear_ticks(5, 5, 9) == [5.0] and linear_ticks(0, 0, 3) == [0.0]
    assert linear_ticks(0, 1e12, 4) == [0.0, 2.5e11, 5e11, 7.5e11, 1e12]
    assert ticks.sqrt_scale_ticks(100, 5) == [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    with pytest.raises(ValueError):
        linear_ticks(0, float("nan"), 5)
    with pytest.raises(ValueError):
        linear_ticks(0, 1, 0)


LOG_VIEWS = [(1, 10), (1, 100), (0.5, 2000), (3, 7), (2.1, 2.9), (1.1, 3.5), (0.8, 1.2), (95, 1050), (1e-3, 1e5),
             (1, 1e8), (7e-5, 0.02), (40, 1000), (1, 30), (1, 31), (12, 18), (0.09, 0.2)]
LOG_VIEWS += [(float(a), float(a * r)) for a, r in zip(10 ** np.random.default_rng(1).uniform(-5, 5, 80),
                                                       10 ** np.random.default_rng(2).uniform(0.01, 8.9, 80))]


@pytest.mark.parametrize("lo, hi", LOG_VIEWS)
def test_log_ticks_are_matplotlibs(lo, hi):
    majors, minors, labelled = log_ticks(lo, hi)
    wide = hi / lo > 30
    major_locator = LogLocator(10, subs=(1.0, 2.0, 5.0)) if wide else LogLocator(10)
    theirs_major = in_view(major_locator.tick_values(lo, hi), lo, hi, log=True)
    theirs_minor = in_view(LogLocator(10, subs="auto").tick_values(lo, hi), lo, hi, log=True)
    theirs_minor = [v for v in theirs_minor if not np.isclose(theirs_major, v, rtol=1e-9, atol=0).any()]
    assert np.allclose(majors, theirs_major, rtol=1e-9) and len(majors) == len(theirs_major)
    assert np.allclose(minors, theirs_minor, rtol=1e-9) and len(minors) == len(theirs_minor)
    assert labelled is not wide and len(majors) + len(minors) >= 2
    assert all(float(f"{t:g}") == t for t in majors + minors)  # 0.3, not 0.30000000000000004


def test_log_ticks_known_answers_and_beyond_nine_decades():
    assert log_ticks(1, 100) == ([1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0],
                                 [3.0, 4.0, 6.0, 7.0, 8.0, 9.0, 30.0, 40.0, 60.0, 70.0, 80.0, 90.0], False)
    assert log_ticks(0.2, 3) == ([1.0], [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 2.0, 3.0], True)
    assert log_ticks(1.1, 1.9) == ([], [1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9], True)
    majors, minors, labelled = log_ticks(1e-3, 1e12)  # matplotlib draws nothing here; we draw every 2nd decade
    assert majors == [10.0**k for k in range(-2, 13, 2)] and minors == [] and not labelled
    with pytest.raises(ValueError):
        log_ticks(0, 10)


@pytest.mark.parametrize("values, labels", [
    ([0, 0.02, 0.04], ["0.00", "0.02", "0.04"]), ([0, 0.025, 0.05], ["0.000", "0.025", "0.050"]),
    ([0, 50, 100], ["0", "50", "100"]), ([0.0, 0.5, 1.0, 1.5], ["0.0", "0.5", "1.0", "1.5"]),
    ([-1, -0.5, 0, 0.5], [f"{M}1.0", f"{M}0.5", "0.0", "0.5"]), ([-2e-17, 0.1], ["0.0", "0.1"]),
    ([0, 2.5e11, 5e11], ["0", "2.5e+11", "5e+11"]),
    ([1e-5, 2e-5], ["1e" + M + "05", "2e" + M + "05"]), ([0, 1e6], ["0", "1e+06"]), ([], []),
    ([1e6, 1e6 + 0.5], ["1000000", "1000000.5"]),
    ([100000, 100000.5], ["100000.0", "100000.5"]), ([0.1], ["0.1"]), ([0], ["0"]), ([0, 1 / 3], ["0.0000", "0.3333"]),
])
def test_format_ticks_known_answers(values, labels):
    assert format_ticks(values) == labels


TICK_SETS = [linear_ticks(lo, hi, bins, integer) for lo, hi, bins, integer in VIEWS]
TICK_SETS += [[0.0, v] for v in 10 ** np.random.default_rng(3).uniform(-3.9, 5.9, 50)]  # untidy values too


@pytest.mark.parametrize("values", [v for v in TICK_SETS if 1e-4 <= max(map(abs, v)) < 1e6])  # where we follow matplotlib
def test_format_ticks_are_matplotlibs(values):
    formatter = ScalarFormatter(useOffset=False)
    formatter.set_scientific(False)
    assert format_ticks(values) == formatter.format_ticks(values)


@pytest.mark.parametrize("length, size, vertical, bins", [
    (100, 10, False, 3), (100, 10, True, 5), (29, 10, False, 1), (0, 10, True, 1), (1000, 10, False, 9),
    (60, 10, True, 3), (59.9, 10, True, 2), (334.8, 10, False, 9), (250, 10, False, 8),
    (100, 0, False, 9), (200.0, 6.67, False, 9), (200.0, 8.0, True, 9), (120.0, 8.0, True, 7),
])
def test_auto_bins_known_answers(length, size, vertical, bins):
    assert auto_bins(length, size, vertical) == bins


@pytest.mark.parametrize("width, height, size", [(6.4, 4.8, 10), (2.0, 1.0, 10), (1.3, 3.0, 7), (0.4, 0.9, 8), (3, 2, 6)])
def test_auto_bins_give_the_autolocators_ticks(width, height, size):
    ax = Figure(figsize=(width, height)).add_axes((0.1, 0.1, 0.8, 0.8), xlim=(0, 7.3), ylim=(-2, 13))
    ax.tick_params(labelsize=size)
    for axis, length, vertical in ((ax.xaxis, 0.8 * width * 72, False), (ax.yaxis, 0.8 * height * 72, True)):
        lo, hi = axis.get_view_interval()
        assert np.allclose(linear_ticks(lo, hi, auto_bins(length, size, vertical)), in_view(axis.get_ticklocs(), lo, hi))


def test_plain_number_and_no_matplotlib_import():
    assert [plain_number(v) for v in (0, 255, -3.5, 1e-5, 2e6)] == ["0", "255", f"{M}3.5", f"1e{M}05", "2e+06"]
    tree = ast.parse(Path(ticks.__file__).read_text())
    imported = {n.name for node in ast.walk(tree) if isinstance(node, ast.Import) for n in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "math", "sys", "typing", "numpy"}, imported
