"""TensorBoard's text cards, in Markdown (TensorBoard renders it: tables as tables, paragraphs wrap).

The cells and numbers are those of the TXT file (``formatting``): the same ``fmt``, the same
tables, the same findings; only the markup differs."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from data_gradients.reports.formatting import markdown_feature, markdown_finding, markdown_table, md_text
from data_gradients.reports.overview import drift_result, findings_by_area, summary_lines, threshold_rows
from data_gradients.reports.report import AnalysisReport
from data_gradients.results import FeatureResult, Table


def summary_text(report: AnalysisReport) -> str:
    """The first card: the summary on top, the drift ranking, then every finding."""
    parts: List[str] = [f"## {_plain(report.title)}: summary", "\n".join(f"- {_plain(line)}" for line in summary_lines(report))]
    drift = drift_result(report)
    if drift is not None:
        parts.append(markdown_feature(drift, report.split_names))
    parts.append("## Findings")
    findings = [markdown_finding(f) for _, f in findings_by_area(report)]
    parts.append("\n".join(findings) if findings else "No bad data found.")
    if report.notes:
        parts.append("\n".join(f"- [info] {_plain(note)}" for note in report.notes))
    return "\n\n".join(parts)


def run_text(report: AnalysisReport, folders: Optional[Dict[str, str]] = None) -> str:
    """The run: splits read, where each split's TensorBoard run is, the configuration, the thresholds."""
    from data_gradients.reports.pdf.sections import config_rows, duration_text

    rows = [[s.name, s.samples, s.batches, "yes" if s.complete else "no (partial)",
             (folders or {}).get(s.name, s.name)] for s in report.splits.values()]
    parts = [f"## {_plain(report.title)} ({report.task})",
             f"started {report.started_at}, analysis time {duration_text(report.duration_s)}",
             markdown_table(Table(key="splits", title="Splits read", columns=["split", "samples", "batches",
                                                                             "read to the end", "TensorBoard run"],
                                  rows=rows))]
    if report.partial:
        parts.append(f"**PARTIAL REPORT:** {_plain(report.partial_reason or '')}")
    for name, err in report.failed_features.items():
        parts.append(f"**FEATURE FAILED:** {_plain(name)}: {_plain(err or '')}")
    parts.append(markdown_table(Table(key="config", title="Configuration", columns=["setting", "value"],
                                      rows=config_rows(report.config))))
    thresholds = threshold_rows(report)
    if thresholds:
        parts.append(markdown_table(Table(key="thresholds", title="Thresholds in force",
                                          columns=["threshold", "value", "what it limits"], rows=thresholds)))
    return "\n\n".join(parts)


def feature_text(result: FeatureResult, splits: Sequence[str]) -> str:
    return markdown_feature(result, splits)


def _plain(text: str) -> str:
    return md_text(text)
