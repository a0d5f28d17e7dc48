"""Where the ticks of an axis go and what their labels say, chosen as matplotlib chooses them.

Linear axes follow ``MaxNLocator(nbins, steps=[1, 2, 2.5, 5, 10])`` (matplotlib's AutoLocator,
whose ``nbins`` comes from the axis length: :func:`auto_bins`); log axes follow ``LogLocator``;
labels follow ``ScalarFormatter`` without offset or scientific notation. Only numpy and the
standard library are used: importing matplotlib is what this renderer exists to avoid.
Every function returns only the ticks inside the view, as clean floats (``0.3``, not
``0.30000000000000004``).
"""
from __future__ import annotations

import math
import sys
from typing import List, Sequence, Tuple

import numpy as np

MINUS = "\N{MINUS SIGN}"
VIEW_TOLERANCE = 1e-9  # a tick this far outside the view (relative to its span) still counts as inside
MAX_BINS = 9  # matplotlib never asks for more intervals when nbins='auto'
MIN_TICKS = 2  # MaxNLocator takes smaller steps until this many ticks are in the view
# the acceptable steps (1, 2, 2.5, 5, 10) times a power of ten, a decade down and one step up for slack
LADDER = (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0)


def _power(mantissa: float, exponent: int) -> float:
    """``mantissa * 10**exponent`` as the float nearest the decimal number (``3e-1`` is 0.3)."""
    return float(f"{mantissa:g}e{exponent}")


def _widen(lo: float, hi: float) -> Tuple[float, float]:
    """Open up an empty or nearly empty view a hair, as matplotlib's ``nonsingular`` does for locators."""
    biggest = max(abs(lo), abs(hi))
    if biggest < 1e6 / 1e-14 * sys.float_info.min or (lo == 0 and hi == 0):
        return -1e-13, 1e-13
    if hi - lo <= biggest * 1e-14:
        return lo - 1e-13 * abs(lo), hi + 1e-13 * abs(hi)
    return lo, hi


def _multiples(lo: float, hi: float, step: float, shift: float) -> List[float]:
    """The multiples of ``step`` from the last one at or below ``lo`` to the first at or above ``hi``,
    forgiving a rounding error that grows with how far ``shift`` (the view's offset) is from zero."""
    slack = 1e-10
    if shift:
        slack = min(0.4999, max(1e-10, 10 ** (math.log10(abs(shift) / step) - 12)))
    base = (lo // step) * step
    below, rest = divmod(lo - base, step)
    if abs(rest / step - 1) < slack:
        below += 1
    above, rest = divmod(hi - base, step)
    if abs(rest / step) >= slack:
        above += 1
    return [k * step + base for k in range(int(below), int(above) + 1)]


def _nice_ticks(lo: float, hi: float, bins: int, integer: bool) -> Tuple[List[float], float]:
    """MaxNLocator's ticks (covering the view, one beyond each end) and the step between them."""
    span, middle = hi - lo, (hi + lo) / 2
    shift = 0.0 if abs(middle) / span < 100 else math.copysign(10 ** (math.log10(abs(middle)) // 1), middle)
    lo, hi = lo - shift, hi - shift
    scale = 10 ** (math.log10(span / bins) // 1)
    steps = [m * scale for m in LADDER]
    if integer:  # whole-number steps only, once steps reach 1
        steps = [s for s in steps if s < 1 or abs(s - round(s)) < 0.001]
    wanted = (hi - lo) / bins
    first_big = next((i for i, s in enumerate(steps) if s >= wanted), len(steps) - 1)
    for step in reversed(steps[: first_big + 1]):  # the smallest big-enough step, else smaller ones
        if integer and math.floor(hi) - math.ceil(lo) >= MIN_TICKS - 1:
            step = max(1.0, step)
        ticks = _multiples(lo, hi, step, shift)
        if sum(lo <= t <= hi for t in ticks) >= MIN_TICKS:
            break
    return [t + shift for t in ticks], step


def _clean(value: float, decimals: int) -> float:
    """``value`` rounded to ``decimals`` places, without a negative zero."""
    return round(value, decimals) + 0.0


def linear_ticks(lo: float, hi: float, max_bins: int, integer: bool = False) -> List[float]:
    """The ticks inside the view ``[lo, hi]`` of a linear axis, as matplotlib's
    ``MaxNLocator(nbins=max_bins, steps=[1, 2, 2.5, 5, 10], integer=integer).tick_values(lo, hi)``
    chooses them: a multiple of 1, 2, 2.5 or 5 times a power of ten apart (whole numbers apart with
    ``integer=True`` when the view holds at least two whole numbers), at most ``max_bins + 1`` of
    them unless that would leave fewer than two in the view.

    Ticks within ``1e-9`` of the span outside the view count as inside. ``lo == hi`` gives ``[lo]``;
    ``lo > hi`` is treated as ``[hi, lo]``. Raises ``ValueError`` for a non-finite end or ``max_bins < 1``.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"the view [{lo}, {hi}] is not finite")
    if max_bins < 1:
        raise ValueError(f"max_bins must be at least 1, not {max_bins}")
    lo, hi = float(min(lo, hi)), float(max(lo, hi))
    if lo == hi:
        return [lo + 0.0]
    ticks, step = _nice_ticks(*_widen(lo, hi), int(max_bins), integer)
    decimals = 1 - math.floor(math.log10(step))  # 0.25 needs two decimals, 0.2 one: one spare covers both
    tolerance = VIEW_TOLERANCE * (hi - lo)
    return [_clean(t, decimals) for t in ticks if lo - tolerance <= t <= hi + tolerance]


def auto_bins(axis_length_pt: float, font_size_pt: float, vertical: bool) -> int:
    """How many intervals matplotlib's AutoLocator (``nbins='auto'``) allows on an axis
    ``axis_length_pt`` points long (the axes box, not the figure) with tick labels of
    ``font_size_pt`` points: ``Axis.get_tick_space`` assumes a label 3 font sizes wide on an
    x axis and 2 high on a y axis, and MaxNLocator clips that to 1..9."""
    size = font_size_pt * (2 if vertical else 3)
    if size <= 0:
        return MAX_BINS
    return int(min(MAX_BINS, max(1, math.floor(axis_length_pt / size))))


def _in_log_view(values: Sequence[float], lo: float, hi: float) -> List[float]:
    """The values inside ``[lo, hi]``, with the view tolerance measured in decades."""
    tolerance = VIEW_TOLERANCE * math.log10(hi / lo)
    first, last = math.log10(lo) - tolerance, math.log10(hi) + tolerance
    return [v for v in values if first <= math.log10(v) <= last]


def log_ticks(lo: float, hi: float) -> Tuple[List[float], List[float], bool]:
    """Major ticks, minor ticks and whether the minor ones get labels, for a log axis over ``[lo, hi]``.

    Views wider than a factor of 30: majors at 1, 2 and 5 times each power of ten (matplotlib's
    ``LogLocator(subs=(1, 2, 5))``), minors at 3, 4, 6, 7, 8 and 9 times them (``subs='auto'``
    less the majors), minors unlabelled. Narrower views: majors at the powers of ten
    (``LogLocator()``), labelled minors at 2..9 times them, or, when that gives at most one tick
    in all, at the linear ticks of the view (matplotlib's minor LogLocator falls back to AutoLocator).

    Unlike matplotlib, which draws no ticks at all with these locators over 10 decades or more,
    such views get majors at every n-th power of ten (at most 9 of them) and no minors. Like a
    LogLocator without an axis, the axis is assumed long enough for 9 ticks (a short axis spanning
    several decades makes matplotlib thin the decades out, or draw nothing).
    Raises ``ValueError`` unless ``0 < lo`` and both ends are finite.
    """
    if not (math.isfinite(lo) and math.isfinite(hi) and lo > 0 and hi > 0):
        raise ValueError(f"a log axis needs a finite positive view, not [{lo}, {hi}]")
    lo, hi = float(min(lo, hi)), float(max(lo, hi))
    first, last = math.floor(math.log10(lo)), math.floor(math.log10(hi))
    exponents = range(first, last + 1)
    decades = len(_in_log_view([_power(1, e) for e in exponents], lo, hi))
    if decades >= 10:
        stride = math.ceil(decades / MAX_BINS)
        return _in_log_view([_power(1, e) for e in exponents if e % stride == 0], lo, hi), [], False
    if hi / lo > 30:
        majors = _in_log_view([_power(m, e) for e in exponents for m in (1, 2, 5)], lo, hi)
        minors = _in_log_view([_power(m, e) for e in exponents for m in (3, 4, 6, 7, 8, 9)], lo, hi)
        return majors, minors, False
    majors = _in_log_view([_power(1, e) for e in exponents], lo, hi)
    minors = _in_log_view([_power(m, e) for e in exponents for m in range(2, 10)], lo, hi)
    if len(majors) + len(minors) <= 1:
        minors = [v for v in linear_ticks(lo, hi, MAX_BINS) if v not in majors]
    return majors, minors, True


def plain_number(x: float) -> str:
    """``f"{x:g}"`` with a typographic minus (log axes and 0..255 pixel axes)."""
    return f"{x:g}".replace("-", MINUS)


def _compact_labels(values: List[float]) -> List[str]:
    """``g``-style labels with the fewest significant digits from 6 up that keep distinct values distinct."""
    for digits in range(6, 18):
        labels = [f"{v:.{digits}g}".replace("-", MINUS) for v in values]
        if len(set(labels)) == len(set(values)):
            break
    return labels


def format_ticks(values: Sequence[float]) -> List[str]:
    """Tick labels as matplotlib's ``ScalarFormatter(useOffset=False)`` without scientific notation
    writes them: the same number of decimals on every label, the fewest that show every value to
    within a thousandth of the spread of the values (``[0, 0.025, 0.05]`` gives ``0.000, 0.025, 0.050``),
    values within 1e-8 of zero written as zero, and a typographic minus.

    Differences from matplotlib: when the largest magnitude is at least 1e6 or below 1e-4 (but not
    zero), every label is :func:`plain_number` (``1e+06``, ``1.2e+06``; matplotlib would write
    ``1000000`` and ``1200000``), with more significant digits only if 6 cannot tell the values
    apart; a single value is measured against itself, where matplotlib would also use the ends
    of the view.
    """
    numbers = np.asarray(values, dtype=float)
    if numbers.size == 0:
        return []
    biggest = float(np.max(np.abs(numbers)))
    if biggest >= 1e6 or 0 < biggest < 1e-4 or not np.isfinite(biggest):
        return _compact_labels([float(v) for v in numbers])
    spread = float(np.ptp(numbers)) or biggest or 1.0
    magnitude = math.floor(math.log10(spread))
    tolerance = 1e-3 * 10.0**magnitude
    decimals = max(0, 3 - magnitude)
    while decimals >= 0 and np.max(np.abs(numbers - np.round(numbers, decimals))) < tolerance:
        decimals -= 1  # one decimal fewer still shows every value well enough
    decimals += 1
    return [f"{0.0 if abs(v) < 1e-8 else v:.{decimals}f}".replace("-", MINUS) for v in numbers]


def sqrt_scale_ticks(vmax: float, max_bins: int) -> List[float]:
    """The ticks of a colour bar with a square-root scale over ``[0, vmax]`` (matplotlib's
    ``PowerNorm(gamma=0.5)``): the linear axis's ticks over the data range; the caller places
    each at the square root of its share of ``vmax``."""
    return linear_ticks(0.0, vmax, max_bins)
