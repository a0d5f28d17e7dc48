"""Plain-text summary: every number TensorBoard shows as a scalar or text.

Order: the summary on top (a verdict per area, then the most serious findings), the drift
ranking when present, the run's facts, every finding, each feature's tables, and an appendix
with the thresholds in force."""
from __future__ import annotations

from pathlib import Path
from typing import List

from data_gradients.reports.formatting import render_feature, render_finding, render_table
from data_gradients.reports.overview import drift_result, summary_lines, threshold_rows
from data_gradients.reports.report import AnalysisReport
from data_gradients.results import Table


def render_summary(report: AnalysisReport) -> str:
    return "\n".join([report.title, "=" * len(report.title), "Summary", *("  " + line for line in summary_lines(report))])


def render_drift(report: AnalysisReport) -> str:
    """The drift section (issue 12) right after the summary; empty without a drift feature."""
    result = drift_result(report)
    return render_feature(result, report.split_names) if result is not None else ""


def render_header(report: AnalysisReport) -> str:
    lines = [f"task: {report.task}", f"started: {report.started_at}", f"analysis time: {report.duration_s:.1f} s"]
    for s in report.splits.values():
        lines.append(f"split {s.name}: {s.samples} samples in {s.batches} batches" + ("" if s.complete else " (partial)"))
    if report.partial:
        lines.append(f"PARTIAL REPORT: {report.partial_reason}")
    for name, err in report.failed_features.items():
        lines.append(f"FEATURE FAILED: {name}: {err}")
    return "\n".join(lines)


def render_findings(report: AnalysisReport) -> str:
    from data_gradients.reports.overview import findings_by_area

    body: List[str] = [render_finding(f) for _, f in findings_by_area(report)] or ["No bad data found."]
    body += [f"[info] {note}" for note in report.notes]
    return "Findings\n--------\n" + "\n".join(body)


def render_thresholds(report: AnalysisReport) -> str:
    rows = threshold_rows(report)
    if not rows:
        return ""
    return "Appendix: thresholds in force\n" + render_table(Table(
        key="thresholds", title="", columns=["threshold", "value", "what it limits"], rows=rows)).lstrip("\n")


def render_report_text(report: AnalysisReport) -> str:
    sections = [render_summary(report), render_drift(report), render_header(report), render_findings(report)]
    sections += [render_feature(r, report.split_names) for name, r in report.results.items() if r is not drift_result(report)]
    sections.append(render_thresholds(report))
    return "\n\n\n".join(s for s in sections if s) + "\n"


class TxtWriter:
    name = "txt"

    def write(self, report: AnalysisReport) -> Path:
        path = report.run_dir / "summary.txt"
        path.write_text(render_report_text(report), encoding="utf-8")
        return path
