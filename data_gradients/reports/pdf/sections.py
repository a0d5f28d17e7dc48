"""What the HTML report shows, as plain data for the templates.

Numbers are formatted with the TXT's ``fmt`` so the PDF prints the same strings as the
TXT and JSON. Nothing here computes a statistic: it only chooses, orders and words.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from data_gradients.reports.formatting import fmt, ids_text, is_numeric
from data_gradients.reports.overview import drift_result, summary_lines, threshold_rows, verdicts
from data_gradients.reports.report import AnalysisReport
from data_gradients.results import FeatureResult, Finding, Table

MAX_TABLE_ROWS = 40
NARROW_TABLE_COLUMNS = 4  # tables with at most this many columns are not stretched to the page width
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
READING_HINT = ("The splits are drawn together in every figure (train blue, val orange); unless an axis says "
                "otherwise, each split is shown as a share of its own total, so splits of different sizes compare.")
IMAGE_INTRO = ("What the pictures themselves look like: sizes, brightness, colour. Differences between the splits "
               "here mean they were captured or processed differently.")
LABEL_INTROS = {
    "segmentation": ("What the masks say: which classes appear, how much of the image they cover, how many "
                     "separate objects they form, where they lie and how thin or small they are."),
    "detection": ("What the boxes say: how many per image, which classes, how large and where, how much they "
                  "overlap, and what survives resizing."),
    "classification": "What the labels say: how the images are spread over the classes, and how each class looks.",
}
LABEL_SUBTITLES = {"segmentation": "masks", "detection": "boxes", "classification": "image labels"}
# image and label sections in this order; "quality" feeds the findings, "samples" is TensorBoard only
SHOWN_ELSEWHERE = ("quality", "samples")


@dataclass
class TableView:
    title: str
    columns: List[str]
    rows: List[List[str]]
    hidden_rows: int = 0
    numeric: List[bool] = field(default_factory=list)  # per column: right-align
    narrow: bool = False


@dataclass
class FigureView:
    src: str  # relative to the run folder
    alt: str
    width_pct: float  # of the text width: natural size, shrunk so the figure fits on a page


@dataclass
class FeatureView:
    name: str
    title: str
    description: str
    blocks: List[Tuple[str, Any]] = field(default_factory=list)  # ("figure", FigureView) | ("table", TableView)
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
    numeric = [bool(shown) and all(is_numeric(r[i]) for r in shown if i < len(r)) for i in range(len(table.columns))]
    return TableView(title=table.title, columns=[str(c) for c in table.columns],
                     rows=[[fmt(c) for c in row] for row in shown],
                     hidden_rows=max(len(table.rows) - MAX_TABLE_ROWS, 0), numeric=numeric,
                     narrow=len(table.columns) <= NARROW_TABLE_COLUMNS)


def feature_view(result: FeatureResult, splits: List[str], figures: Dict[str, FigureView]) -> FeatureView:
    view = FeatureView(name=result.name, title=result.title, description=result.description,
                       error=result.error, finding_count=len(result.findings))
    if result.failed:
        return view
    for item in [*result.histograms, *result.heatmaps]:
        tag = f"{result.name}/{item.key}"
        if tag in figures:
            view.blocks.append(("figure", figures[tag]))
    if result.scalars:
        view.blocks.append(("table", table_view(result.scalar_table(splits))))
    view.blocks += [("table", table_view(t)) for t in result.tables]
    return view


def finding_view(f: Finding) -> Dict[str, Any]:
    """A finding as the template shows it; sample ids as every writer writes them (``rank:position`` on
    distributed runs, the file beside the id when the data came from disk)."""
    return {
        "severity": f.severity, "title": f.title, "message": f.message, "why": f.why,
        "counts": [(s, fmt(n)) for s, n in f.counts.items()],
        "sample_ids": [(s, ids_text(f, s)) for s, ids in f.sample_ids.items() if ids],
    }


def config_rows(config: Dict[str, Any]) -> List[List[str]]:
    """Flatten the run configuration into (setting, value) rows; nested settings as ``a.b`` (the thresholds
    have their own table)."""
    rows = []
    for key, value in config.items():
        if key == "thresholds":  # a table of their own, with what each limits (``overview.threshold_rows``)
            continue
        if isinstance(value, dict) and key != "class_names":
            rows += [[f"{key}.{k}", _plain(v)] for k, v in value.items()]
        else:
            rows.append([key, _plain(value)])
    return rows


def _plain(value: Any) -> str:
    """A setting as a reader writes it: ``0: road, 1: car``, ``image, labels``, ``none``."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value) or "none"
    return fmt(value)


def duration_text(seconds: float) -> str:
    """``0.6 s`` as in the TXT; long runs also in minutes or hours."""
    text = f"{seconds:.1f} s"
    if seconds >= 3600:
        text += f" ({int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min)"
    elif seconds >= 60:
        text += f" ({int(seconds // 60)} min {int(seconds % 60):02d} s)"
    return text


def classes_text(report: AnalysisReport) -> str:
    """How many classes were analysed and which label ids were left out (ids only: censored names never show)."""
    config = report.config
    ids = list(config.get("counted_class_ids", report.class_names))
    text = f"{len(ids)} analysed"
    if ids:
        text += f" (label ids {_id_ranges(ids)})"
    ignored = config.get("ignore_labels") or []
    if ignored:
        text += f"; ignored label ids: {', '.join(str(i) for i in ignored)}"
    if config.get("hide_class_names"):
        text += "; class names hidden (ids shown)"
    return text


def _id_ranges(ids: List[Any]) -> str:
    try:
        values = sorted(int(i) for i in ids)
    except (TypeError, ValueError):
        return ", ".join(str(i) for i in ids)
    parts, start = [], values[0]
    for prev, cur in zip(values, values[1:] + [None]):
        if cur is None or cur != prev + 1:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = cur
    return ", ".join(parts)


def findings_text(findings: List[Finding]) -> str:
    if not findings:
        return "none"
    by = {}
    for f in findings:
        by[f.severity] = by.get(f.severity, 0) + 1
    words = {"error": "error", "warning": "warning", "info": "note"}
    parts = [f"{n} {words.get(s, s)}{'' if n == 1 else 's'}" for s, n in
             sorted(by.items(), key=lambda kv: SEVERITY_ORDER.get(kv[0], 3))]
    return f"{len(findings)} ({', '.join(parts)})"


def rendering_versions() -> List[List[str]]:
    """The libraries that drew and printed the report, with their versions."""
    import cv2
    import jinja2
    import PIL

    rows = [["Pillow", PIL.__version__], ["OpenCV", cv2.__version__], ["jinja2", jinja2.__version__]]
    try:
        from importlib.metadata import version

        rows.append(["pdfkit", version("pdfkit")])
    except Exception:  # pragma: no cover - metadata missing in odd installs
        pass
    return rows


def report_context(report: AnalysisReport, figures: Dict[str, FigureView], tool_version: str) -> Dict[str, Any]:
    """Everything the templates need, already formatted."""
    splits = report.split_names
    label_title = "Label statistics"
    if report.task in LABEL_SUBTITLES:
        label_title += f": {LABEL_SUBTITLES[report.task]}"
    groups = [("image", "Image statistics", IMAGE_INTRO),
              ("labels", label_title, LABEL_INTROS.get(report.task, "What the annotations say."))]
    known = {g for g, _, _ in groups} | set(SHOWN_ELSEWHERE)
    other = [r.group for r in report.results.values() if r.group not in known]
    groups += [(g, f"Other statistics ({g})", "") for g in dict.fromkeys(other)]
    sections = []
    drift = drift_result(report)
    for key, title, intro in groups:
        features = [feature_view(r, splits, figures) for r in report.results.values()
                    if r.group == key and r is not drift]
        if features:
            sections.append(SectionView(key=key, title=title, intro=intro, features=features))
    quality_results = [r for r in report.results.values() if r.group == "quality"]
    quality = [table_view(r.scalar_table(splits)) for r in quality_results if r.scalars and not r.failed]
    findings = sorted(report.findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 3))
    if findings:
        findings_empty = ""
    elif any(not r.failed for r in quality_results):
        findings_empty = "No bad data was found in the data that was read."
    else:
        findings_empty = ("No finding, but no data-quality check ran in this run (features: "
                          + ", ".join(report.config.get("features", [])) + "), so corrupt pixels, invalid labels "
                          "and duplicates were not looked for.")
    outputs = [[k, str(p)] for k, p in report.outputs.items()]
    outputs += [[k, "written after this report, in the run folder"] for k in report.writers
                if k not in report.outputs and k not in ("html", "pdf")]
    return {
        "title": report.title,
        "task": report.task,
        "run_name": report.run_dir.name,
        "run_dir": str(report.run_dir),
        "started_at": report.started_at.replace("T", " "),
        "duration": duration_text(report.duration_s),
        "splits": [{"name": s.name, "samples": fmt(s.samples), "batches": fmt(s.batches), "complete": s.complete}
                   for s in report.splits.values()],
        "classes": classes_text(report),
        "findings_summary": findings_text(findings),
        "partial": report.partial,
        "partial_reason": (report.partial_reason or "").rstrip("."),
        "failed": [[name, err] for name, err in report.failed_features.items()],
        "findings": [finding_view(f) for f in findings],
        "summary": summary_lines(report)[len(verdicts(report)):],
        "verdicts": [(v.area, v.word, v.counts() or "no finding") for v in verdicts(report)],
        "drift": feature_view(drift, splits, figures) if drift is not None else None,
        "thresholds": threshold_rows(report),
        "findings_empty": findings_empty,
        "notes": list(report.notes),
        "quality_tables": quality,
        "sections": sections,
        "reading_hint": READING_HINT,
        "config": config_rows(report.config),
        "rendering_versions": rendering_versions(),
        "outputs": outputs,
        "warnings": list(report.warnings),
        "tool_version": tool_version,
        "has_samples": any(r.images for r in report.results.values()),
    }
