"""Distances between two binned distributions (pure numpy, from counts only).

Both distributions are counts on the same bins (a :class:`~data_gradients.results.Histogram`
holds one series per split on common bins), so every distance here is computed from the
mergeable state of the extractors: no raw value is ever needed.

- :func:`js_distance`: Jensen-Shannon distance, base 2: ``sqrt(JSD)`` with
  ``JSD = (KL(p || m) + KL(q || m)) / 2``, ``m = (p + q) / 2``; in [0, 1], 0 for identical
  shares, 1 for distributions with no bin in common. The same number as
  ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
- :func:`wasserstein_1`: Earth mover's distance of the two distributions as point masses at
  the bin centres (``scipy.stats.wasserstein_distance(c, c, p, q)``), in the unit of the
  axis; divided by the span of the edges it lies in [0, 1], so ordered features of any
  unit rank on one scale.
- :func:`psi`: Population Stability Index ``sum((q - p) * ln(q / p))`` of the shares, with
  every share below :data:`PSI_EPSILON` raised to it first (an empty bin would make it
  infinite). Common reading: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 large shift.
- :func:`noise_p_value`: how likely sampling noise alone gives counts this different (G-test
  of the 2 x bins table of counts), so that a large distance between two small samples is
  not reported as drift.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import numpy as np

#: share given to empty (or nearly empty) bins in PSI: 1e-4, i.e. one in 10,000, the value
#: most PSI implementations use; without it one empty bin makes PSI infinite
PSI_EPSILON = 1e-4


def shares(counts) -> np.ndarray:
    """Counts as shares summing to 1 (float64); all zeros stay zeros."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    return c / total if total > 0 else c


def js_distance(p_counts, q_counts) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two count vectors on the same bins."""
    p, q = shares(p_counts), shares(q_counts)
    m = (p + q) / 2
    jsd = (_kl(p, m) + _kl(q, m)) / 2
    return float(np.sqrt(max(jsd, 0.0)))


def _kl(p: np.ndarray, m: np.ndarray) -> float:
    nz = p > 0  # 0 * log(0 / m) = 0; m > 0 wherever p > 0
    return float(np.sum(p[nz] * np.log2(p[nz] / m[nz])))


def bin_centres(edges, log: bool = False) -> Tuple[np.ndarray, float]:
    """Positions of the bins on the axis and the span of the edges.

    ``log``: positions are ``log2`` of the edges (histograms drawn on a log axis, e.g. box
    area or aspect ratio: a shift by a factor counts the same anywhere on the axis).
    """
    e = np.asarray(edges, dtype=np.float64)
    if log and e[0] > 0:
        e = np.log2(e)
    return (e[:-1] + e[1:]) / 2, float(e[-1] - e[0])


def wasserstein_1(p_counts, q_counts, centres) -> float:
    """Wasserstein-1 distance between the two distributions as masses at ``centres`` (sorted)."""
    p, q = shares(p_counts), shares(q_counts)
    gaps = np.diff(np.asarray(centres, dtype=np.float64))
    cdf_gap = np.abs(np.cumsum(p)[:-1] - np.cumsum(q)[:-1])
    return float(np.sum(cdf_gap * gaps))


def psi(p_counts, q_counts, epsilon: float = PSI_EPSILON) -> float:
    """Population Stability Index of ``q`` (the split) against ``p`` (the reference)."""
    p = np.maximum(shares(p_counts), epsilon)
    q = np.maximum(shares(q_counts), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def weighted_mean(counts, centres) -> Optional[float]:
    """Mean of the distribution with its masses at ``centres`` (None when empty)."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    return float(np.dot(c, centres) / total) if total > 0 else None


def g_statistic(p_counts, q_counts) -> Tuple[float, int]:
    """G statistic (log-likelihood ratio) of the 2 x k table of counts, and its degrees of freedom
    (bins holding a count in either split, minus 1)."""
    table = np.stack([np.asarray(p_counts, dtype=np.float64), np.asarray(q_counts, dtype=np.float64)])
    table = table[:, table.sum(axis=0) > 0]
    n = table.sum()
    if table.shape[1] < 2 or n <= 0 or (table.sum(axis=1) <= 0).any():
        return 0.0, 0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    nz = table > 0
    return float(2.0 * np.sum(table[nz] * np.log(table[nz] / expected[nz]))), table.shape[1] - 1


def chi2_sf(x: float, df: int) -> float:
    """P(X >= x) for X ~ chi-squared(df), by the Wilson-Hilferty normal approximation
    (within 30% of the exact tail for p >= 1e-4 and df >= 5, within a factor 2 for df 1 and 2)."""
    if df <= 0:
        return 1.0
    if x <= 0:
        return 1.0
    a = 2.0 / (9.0 * df)
    z = ((x / df) ** (1.0 / 3.0) - (1.0 - a)) / math.sqrt(a)
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def noise_p_value(p_counts, q_counts) -> float:
    """Probability that two samples of one distribution differ at least this much (G-test).

    It treats every count as an independent draw: right for histograms of images or objects;
    for histograms of pixels (colours, class pixel shares) it is far too small, and only the
    size of the distance tells drift from noise there.
    """
    g, df = g_statistic(p_counts, q_counts)
    return chi2_sf(g, df)
