"""What every writer puts at the very top: a verdict per area, the drift ranking, the thresholds.

The summary is at most ~10 lines: one verdict line per area (images, labels, splits) with
its counts of errors and warnings, then the most serious findings. A finding belongs to the
finding's own ``area`` when it names one (e.g. the label checks of the data-quality feature),
else to the area of its feature's ``group``: "image" and "quality" -> images, "labels" -> labels,
"splits" -> splits (any other group is counted under "other"). Nothing here computes a
statistic: it counts and orders the findings the features made.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from data_gradients.reports.report import AnalysisReport
from data_gradients.results import FeatureResult, Finding

AREA_OF_GROUP = {"image": "images", "quality": "images", "labels": "labels", "splits": "splits"}
AREAS = ("images", "labels", "splits")
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
MAX_SUMMARY_FINDINGS = 6  # after the verdict lines: the summary stays within ~10 lines
DRIFT_FEATURE = "drift"


@dataclass
class Verdict:
    area: str
    errors: int
    warnings: int
    notes: int

    @property
    def word(self) -> str:
        return "problems" if self.errors else "check" if self.warnings else "ok"

    def counts(self) -> str:
        """``1 error, 2 warnings``; empty when the area has no finding."""
        return ", ".join(f"{n} {w}{'' if n == 1 else 's'}" for n, w in
                         ((self.errors, "error"), (self.warnings, "warning"), (self.notes, "note")) if n)

    def text(self) -> str:
        return f"{self.area}: {self.word}" + (f" ({self.counts()})" if self.counts() else "")


def area_of(group: str) -> str:
    """The summary area of a feature group (see the module docstring)."""
    return AREA_OF_GROUP.get(group, "other")


def findings_by_area(report: AnalysisReport) -> List[Tuple[str, Finding]]:
    """(area, finding) of every finding, most serious first (stable within a severity)."""
    pairs = [(f.area or area_of(r.group), f) for r in report.results.values() for f in r.findings]
    return sorted(pairs, key=lambda p: SEVERITY_ORDER.get(p[1].severity, 3))


def verdicts(report: AnalysisReport) -> List[Verdict]:
    pairs = findings_by_area(report)
    areas = list(AREAS) + sorted({a for a, _ in pairs} - set(AREAS))
    out = []
    for area in areas:
        sev = [f.severity for a, f in pairs if a == area]
        out.append(Verdict(area, sev.count("error"), sev.count("warning"), sev.count("info")))
    return out


def summary_lines(report: AnalysisReport) -> List[str]:
    """The summary on top: verdict lines, then the most serious findings (titles and counts)."""
    lines = [v.text() for v in verdicts(report)]
    pairs = findings_by_area(report)
    for area, f in pairs[:MAX_SUMMARY_FINDINGS]:
        counts = ", ".join(f"{s} {n}" for s, n in f.counts.items())
        lines.append(f"[{f.severity}] {area}: {f.title}" + (f" ({counts})" if counts else ""))
    if len(pairs) > MAX_SUMMARY_FINDINGS:
        lines.append(f"... and {len(pairs) - MAX_SUMMARY_FINDINGS} more finding(s) below")
    if report.partial:
        lines.insert(0, f"PARTIAL REPORT: {report.partial_reason}")
    return lines


def drift_result(report: AnalysisReport) -> Optional[FeatureResult]:
    """The drift feature's result (issue 12), shown right after the summary, when present."""
    result = report.results.get(DRIFT_FEATURE)
    return result if result is not None and not result.failed else None


def threshold_rows(report: AnalysisReport) -> List[List[str]]:
    """(name, value in force, what it limits) of the run's thresholds."""
    values: Dict[str, float] = dict(report.config.get("thresholds") or {})
    if not values:
        return []
    try:
        from data_gradients.thresholds import declared

        docs = {name: t.doc for name, t in declared().items()}
    except Exception:  # the docs are a courtesy: the values still show
        docs = {}
    from data_gradients.reports.formatting import fmt

    return [[name, fmt(value), docs.get(name, "")] for name, value in sorted(values.items())]
