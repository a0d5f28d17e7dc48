"""What the HTML report shows, as plain data for the templates.

Numbers are formatted with the TXT's ``fmt`` so the PDF prints the same strings as the
TXT and JSON. Nothing here computes a statistic.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

from data_gradients.reports.formatting import fmt
from data_gradients.reports.report import AnalysisReport
from data_gradients.results import FeatureResult, Finding, Table

MAX_TABLE_ROWS = 40
GROUPS = (
    ("image", "Image statistics",
     "What the pictures themselves look like: sizes, brightness, colour. Differences between the splits here "
     "mean they were captured or processed differently."),
    ("labels", "Label statistics",
     "What the annotations say: which classes, how many objects, how large, and where in the image."),
)
WHY_EMPTY = "Nothing suspicious was found in the data that was read."


@dataclass
class TableView:
    title: str
    columns: List[str]
    rows: List[List[str]]
    hidden_rows: int = 0
    numeric: List[bool] = field(default_factory=list)  # per column: right-align


@dataclass
class FeatureView:
    name: str
    title: str
    description: str
    figures: List[Dict[str, str]] = field(default_factory=list)  # {"src", "alt"}
    tables: List[TableView] = field(default_factory=list)
    error: Optional[str] = None
    finding_count: int = 0


@dataclass
class SectionView:
    key: str
    title: str
    intro: str
    features: List[FeatureView]


def table_view(table: Table) -> TableView:
    shown = table.rows[:MAX_TABLE_ROWS]
    numeric = [bool(shown) and all(_is_number(r[i]) for r in shown if i < len(r)) for i in range(len(table.columns))]
    return TableView(title=table.title, columns=[str(c) for c in table.columns],
                     rows=[[fmt(c) for c in row] for row in shown],
                     hidden_rows=max(len(table.rows) - MAX_TABLE_ROWS, 0), numeric=numeric)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool))


def feature_view(result: FeatureResult, splits: List[str], figure_paths: Dict[str, str]) -> FeatureView:
    view = FeatureView(name=result.name, title=result.title, description=result.description,
                       error=result.error, finding_count=len(result.findings))
    if result.failed:
        return view
    for item in [*result.histograms, *result.heatmaps]:
        tag = f"{result.name}/{item.key}"
        if tag in figure_paths:
            view.figures.append({"src": figure_paths[tag], "alt": item.title})
    if result.scalars:
        view.tables.append(table_view(result.scalar_table(splits)))
    view.tables += [table_view(t) for t in result.tables]
    return view


def finding_view(f: Finding) -> Dict[str, Any]:
    return {
        "severity": f.severity, "title": f.title, "message": f.message, "why": f.why,
        "counts": [(s, fmt(n)) for s, n in f.counts.items()],
        "sample_ids": [(s, ", ".join(str(i) for i in ids) + (" ..." if f.counts.get(s, 0) > len(ids) else ""))
                       for s, ids in f.sample_ids.items() if ids],
    }


def config_rows(config: Dict[str, Any]) -> List[List[str]]:
    """Flatten the run configuration into (setting, value) rows."""
    rows = []
    for key, value in config.items():
        if isinstance(value, dict) and key in ("versions", "batch_extraction", "boxes"):
            rows += [[f"{key}.{k}", _plain(v)] for k, v in value.items()]
        else:
            rows.append([key, _plain(value)])
    return rows


def _plain(value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    return fmt(value)


def report_context(report: AnalysisReport, figure_paths: Dict[str, str], tool_version: str) -> Dict[str, Any]:
    """Everything the templates need, already formatted."""
    splits = report.split_names
    sections = []
    for key, title, intro in GROUPS:
        features = [feature_view(r, splits, figure_paths) for r in report.results.values() if r.group == key]
        if features:
            sections.append(SectionView(key=key, title=title, intro=intro, features=features))
    quality = [table_view(r.scalar_table(splits)) for r in report.results.values()
               if r.group == "quality" and r.scalars and not r.failed]
    severity_order = {"error": 0, "warning": 1, "info": 2}
    findings = sorted(report.findings, key=lambda f: severity_order.get(f.severity, 3))
    return {
        "title": report.title,
        "task": report.task,
        "run_name": report.run_dir.name,
        "started_at": report.started_at.replace("T", " "),
        "duration": f"{report.duration_s:.1f} s",
        "splits": [{"name": s.name, "samples": fmt(s.samples), "batches": fmt(s.batches), "complete": s.complete}
                   for s in report.splits.values()],
        "num_classes": len(report.class_names),
        "class_names": [[str(k), v] for k, v in report.class_names.items()],
        "partial": report.partial,
        "partial_reason": report.partial_reason,
        "failed": [[name, err] for name, err in report.failed_features.items()],
        "findings": [finding_view(f) for f in findings],
        "findings_empty": WHY_EMPTY,
        "notes": list(report.notes),
        "quality_tables": quality,
        "sections": sections,
        "config": config_rows(report.config),
        "warnings": list(report.warnings),
        "tool_version": tool_version,
        "has_samples": any(r.images for r in report.results.values()),
    }
