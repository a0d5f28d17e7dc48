"""Plain-text summary: every number TensorBoard shows as a scalar or text."""
from __future__ import annotations

from pathlib import Path
from typing import List

from data_gradients.reports.formatting import render_feature, render_finding
from data_gradients.reports.report import AnalysisReport


def render_header(report: AnalysisReport) -> str:
    lines = [report.title, "=" * len(report.title), f"task: {report.task}", f"started: {report.started_at}",
             f"analysis time: {report.duration_s:.1f} s"]
    for s in report.splits.values():
        lines.append(f"split {s.name}: {s.samples} samples in {s.batches} batches" + ("" if s.complete else " (partial)"))
    if report.partial:
        lines.append(f"PARTIAL REPORT: {report.partial_reason}")
    for name, err in report.failed_features.items():
        lines.append(f"FEATURE FAILED: {name}: {err}")
    return "\n".join(lines)


def render_findings(report: AnalysisReport) -> str:
    findings = report.findings
    body: List[str] = [render_finding(f) for f in findings] or ["No bad data found."]
    body += [f"[info] {note}" for note in report.notes]
    return "Findings\n--------\n" + "\n".join(body)


def render_report_text(report: AnalysisReport) -> str:
    sections = [render_header(report), render_findings(report)]
    sections += [render_feature(r, report.split_names) for r in report.results.values()]
    return "\n\n\n".join(sections) + "\n"


class TxtWriter:
    name = "txt"

    def write(self, report: AnalysisReport) -> Path:
        path = report.run_dir / "summary.txt"
        path.write_text(render_report_text(report), encoding="utf-8")
        return path
