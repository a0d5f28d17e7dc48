"""The ranked drift result: how far each split is from the reference, feature by feature.

Every :class:`~data_gradients.results.Histogram` of the computed results that holds counts
(``normalize=True``: class frequencies, brightness, sizes, colours, ...) and has data in the
reference and in another split is one distribution; each split other than the reference is
compared with it by the distances of :mod:`data_gradients.drift.distances`. Histograms of
values that are already shares per bin (``normalize=False``, e.g. the share of images
containing each class) are not distributions and are left out.

Rows are ranked by the Jensen-Shannon distance (the one distance every kind of histogram
has, on one scale from 0 to 1), except that a class distribution (:data:`CLASS_DISTRIBUTIONS`)
in which a class of the reference is missing from the split ranks above all others: that split
cannot show anything about the class, however small the distance. Equal distances (JS is 1
for distributions with no bin in common) are ranked by PSI.

A distance at or past ``drift_warning`` / ``drift_error`` becomes a warning / error finding
when sampling noise alone is unlikely to explain it (``drift_noise_p``, a G-test on the counts):
two samples of 100 images of one distribution reach a JS distance of 0.3 on the 64-bin
brightness histogram. The defaults come from the demo data (``bench/drift_thresholds.py``):

- noise: val drawn from train's distribution (25-200 images against 400, three draws each)
  reaches up to 0.65 on histograms of per-image values with 25 images (the G-test keeps all of
  those out) and, among the distances the G-test lets through (histograms of pixels, of
  boxes), up to 0.29 with 25 images and 0.23 with 50: no finding in any draw;
- drift: the demo's darker val splits give 0.67-0.96 on brightness and 0.37-0.61 on the
  colour channels; a val split darkened by 40% 0.83-1.0 on brightness, 0.56-0.68 on the
  channels; val splits missing two classes 0.18-0.47 on the class distribution.

So ``drift_warning`` = 0.3 sits above the noise that passes the G-test, and ``drift_error``
= 0.5 flags differences as large as the darkening of a third of the brightness.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np

from data_gradients.drift.distances import bin_centres, js_distance, noise_p_value, psi, shares, wasserstein_1, weighted_mean
from data_gradients.results import FeatureResult, Finding, Histogram, Table, is_value_bins
from data_gradients.thresholds import declare, threshold

COARSE_SHARE = 0.5  # half of a split in one bin: the reading names bins, not a mean of centres

DRIFT_WARNING = declare(
    "drift_warning", 0.3,
    "Jensen-Shannon distance (base 2, 0-1) of a split's histogram from the reference's at or above which it is a "
    "warning", minimum=0, maximum=1)
DRIFT_ERROR = declare(
    "drift_error", 0.5,
    "Jensen-Shannon distance (base 2, 0-1) of a split's histogram from the reference's at or above which it is an "
    "error", minimum=0, maximum=1)
DRIFT_NOISE_P = declare(
    "drift_noise_p", 0.001,
    "probability (G-test) that sampling noise alone makes a split's histogram this different from the reference's, "
    "below which a distance past drift_warning becomes a finding", minimum=0, maximum=1)

#: (feature, histogram key) of the class distributions: counts of pixels, boxes or labelled images per class
CLASS_DISTRIBUTIONS = frozenset({("segmentation_class_frequency", "pixel_share"),
                                 ("detection_class_frequency", "box_share"),
                                 ("classification_class_frequency", "class_share")})
NAME = "drift"
MAX_LISTED = 10  # features named per finding message


@dataclass
class DriftRow:
    """One comparison: a histogram of a feature, a split against the reference."""

    feature: str
    feature_title: str
    statistic: str
    statistic_title: str
    split: str
    js: float
    w1: Optional[float]  # in the axis' unit (log2 of it for log axes); None for categories
    w1_normalised: Optional[float]  # w1 / span of the bin edges, in [0, 1]
    psi: float
    reading: str
    counts: int  # the smaller of the two totals
    noise_p: float  # G-test probability that sampling noise alone gives counts this different
    missing_classes: List[str]  # classes of the reference without a count in the split (class distributions)

    def as_dict(self) -> Dict[str, object]:
        return dict(self.__dict__)


def drift_rows(results: Dict[str, FeatureResult], reference: str) -> List[DriftRow]:
    """Every comparison of every distribution in ``results``, ranked (largest JS distance first)."""
    rows = []
    for name, result in results.items():
        if name == NAME or result.failed:
            continue
        for h in result.histograms:
            if not _is_distribution(h) or reference not in h.counts or _total(h.counts[reference]) <= 0:
                continue
            for split, counts in h.counts.items():
                if split != reference and _total(counts) > 0:
                    rows.append(_compare(result, h, reference, split))
    # JS saturates at 1 (no bin in common): ties, up to rounding, go to the larger PSI, which keeps growing;
    # remaining ties (e.g. several exactly 0) keep the order of the features and splits (stable sort)
    return sorted(rows, key=lambda r: (not r.missing_classes, -round(r.js, 12), -r.psi))


def _is_distribution(h: Histogram) -> bool:
    if not h.normalize:
        return False
    if h.categories is not None:
        return True
    return h.bin_edges is not None and np.all(np.isfinite(np.asarray(h.bin_edges, dtype=np.float64)))


def _total(counts) -> float:
    return float(np.sum(np.asarray(counts, dtype=np.float64)))


def _compare(result: FeatureResult, h: Histogram, ref: str, split: str) -> DriftRow:
    p, q = np.asarray(h.counts[ref], dtype=np.float64), np.asarray(h.counts[split], dtype=np.float64)
    w1 = w1n = None
    classes = (result.name, h.key) in CLASS_DISTRIBUTIONS and h.categories is not None
    missing = [h.categories[i] for i in np.flatnonzero((p > 0) & (q == 0))] if classes else []
    if h.categories is None:
        centres, span = bin_centres(h.bin_edges, log=h.log_x)
        w1 = wasserstein_1(p, q, centres)
        w1n = w1 / span if span > 0 else 0.0
        reading = _numeric_reading(h, p, q, ref, split)
    else:
        reading = _categorical_reading(h, p, q, ref, split, classes)
    return DriftRow(feature=result.name, feature_title=result.title, statistic=h.key, statistic_title=h.title,
                    split=split, js=js_distance(p, q), w1=w1, w1_normalised=w1n, psi=psi(p, q), reading=reading,
                    counts=int(min(p.sum(), q.sum())), noise_p=noise_p_value(p, q), missing_classes=missing)


def _numeric_reading(h: Histogram, p: np.ndarray, q: np.ndarray, ref: str, split: str) -> str:
    """E.g. "val lower: mean luma (0-255) averages 78.1 vs 130 in train": means of the bin centres.
    Where half of a split or more falls in one bin wider than one value, a mean of centres would
    read as a value the data may not have (heights of 128 in a 128-192 bin "average 160"), so the
    reading names the fullest bins instead: "val same: height (px) mostly in 128-192 vs 128-192 in train"."""
    edges = np.asarray(h.bin_edges, dtype=np.float64)
    log = bool(h.log_x) and float(edges[0]) > 0
    centres, _ = bin_centres(edges, log=log)
    m_ref, m_split = weighted_mean(p, centres), weighted_mean(q, centres)
    direction = "higher" if m_split > m_ref else "lower" if m_split < m_ref else "same"
    if not log and not is_value_bins(edges) and max(_top_share(p), _top_share(q)) >= COARSE_SHARE:
        fullest = [f"{edges[k]:.3g}-{edges[k + 1]:.3g}" for k in (int(np.argmax(q)), int(np.argmax(p)))]
        return f"{split} {direction}: {h.x_label} mostly in {fullest[0]} vs {fullest[1]} in {ref}"
    if log:
        m_ref, m_split = 2.0 ** m_ref, 2.0 ** m_split
    what = "geometric mean" if log else "averages"
    return f"{split} {direction}: {h.x_label} {what} {m_split:.3g} vs {m_ref:.3g} in {ref}"


def _top_share(counts: np.ndarray) -> float:
    total = float(counts.sum())
    return float(counts.max()) / total if total > 0 else 0.0


def _categorical_reading(h: Histogram, p: np.ndarray, q: np.ndarray, ref: str, split: str, classes: bool) -> str:
    """Classes: "missing from val: car, sign", "only in val, not in train: bus" or "person: 31.0% of val vs
    12.0% of train"; other categories: the bin that changed most, e.g. "objects in the image 15: 0.0% of val
    vs 3.1% of train"."""
    cats = list(h.categories or [])
    if classes:
        for absent, where in ((p > 0) & (q == 0), f"missing from {split}"), ((q > 0) & (p == 0), f"only in {split}, "
                                                                                                f"not in {ref}"):
            names = [cats[i] for i in np.flatnonzero(absent)]
            if names:
                return f"{where}: " + ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
    sp, sq = shares(p), shares(q)
    k = int(np.argmax(np.abs(sq - sp)))
    what = cats[k] if classes else f"{h.x_label} {cats[k]}"
    return f"{what}: {sq[k]:.1%} of {split} vs {sp[k]:.1%} of {ref}"


def drift_result(results: Dict[str, FeatureResult], context) -> FeatureResult:
    """The ranked table, its numbers for JSON and the findings past the thresholds."""
    ref = context.reference
    rows = drift_rows(results, ref)
    res = FeatureResult(
        name=NAME, group="splits", title=f"Biggest differences from {ref}",
        description=(
            f"Each distribution of the report (a histogram of counts) compared between every split and {ref}, "
            "ranked by the Jensen-Shannon distance (base 2: 0 = the same shares, 1 = no bin in common). For "
            "ordered values, W1 is the earth mover's distance on the bin centres divided by the axis span (0-1; "
            "log axes in log2 units); PSI is the Population Stability Index (empty bins at a share of 1e-4). "
            "Computed from the histograms' counts only. With few samples part of any distance is sampling noise: a "
            "distance becomes a finding only when a G-test on the counts says noise alone is unlikely to give it."
        ),
    )
    res.tables.append(Table(
        key="ranked", title=f"Biggest differences from {ref}",
        columns=["feature", "statistic", "split", "JS distance", "W1 (normalised)", "PSI", "reading"],
        rows=[[r.feature_title, r.statistic_title, r.split, r.js, r.w1_normalised, r.psi, r.reading] for r in rows],
    ))
    res.data = {"reference": ref, "rows": [r.as_dict() for r in rows]}
    for r in rows:  # ranked: the first row of a split is its largest distance
        res.scalars.setdefault("largest_js_distance", {}).setdefault(r.split, r.js)
    res.findings += _findings(rows, context)
    return res


def _findings(rows: List[DriftRow], context) -> List[Finding]:
    warn, err, max_p = (threshold(context, n) for n in (DRIFT_WARNING, DRIFT_ERROR, DRIFT_NOISE_P))
    ref = context.reference
    findings = []
    for severity, lo, hi in (("error", err, np.inf), ("warning", warn, err)):
        hits = [r for r in rows if lo <= r.js < hi and r.noise_p < max_p]
        if not hits:
            continue
        counts: Dict[str, int] = {}
        for r in hits:
            counts[r.split] = counts.get(r.split, 0) + 1
        listed = "; ".join(f"{r.split} {r.feature_title} / {r.statistic_title} (JS {r.js:.2f}: {r.reading})"
                           for r in hits[:MAX_LISTED])
        more = f"; +{len(hits) - MAX_LISTED} more" if len(hits) > MAX_LISTED else ""
        limit = f"JS distance >= {lo:g}" + (f" and < {hi:g}" if np.isfinite(hi) else "")
        findings.append(Finding(
            key=f"drift_{severity}", title=(f"Large differences from {ref}" if severity == "error"
                                            else f"Differences from {ref}"),
            message=f"{len(hits)} distribution(s) differ from {ref} ({limit}): {listed}{more}",
            why=(f"a split unlike {ref} measures a model on other data than it learns from: its metrics do not carry "
                 f"over to {ref}-like data, nor the reverse; check how the splits were made, or that the difference "
                 "is intended"),
            counts=counts, severity=severity,
        ))
    return findings


def with_drift(results: Dict[str, FeatureResult], context) -> Dict[str, FeatureResult]:
    """``results`` with the drift result added (only when there is a split to compare)."""
    if len(context.splits) < 2:
        return results
    try:
        drift = drift_result(results, context)
    except Exception as e:  # one failing feature costs only itself
        drift = FeatureResult(name=NAME, group="splits", title=f"Biggest differences from {context.reference}",
                              description="", error=f"{type(e).__name__}: {e}")
    return {**results, NAME: drift}
