"""Machine-readable JSON: every number of every feature, the configuration and counts."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from data_gradients.reports.report import AnalysisReport


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, numpy values and paths to plain JSON types (NaN/inf -> null)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def report_to_dict(report: AnalysisReport) -> dict:
    features = {}
    for name, r in report.results.items():
        # pictures stay in TensorBoard: skip them before converting anything
        features[name] = {f.name: to_jsonable(getattr(r, f.name)) for f in dataclasses.fields(r) if f.name != "images"}
    return {
        "title": report.title,
        "task": report.task,
        "started_at": report.started_at,
        "duration_s": report.duration_s,
        "partial": report.partial,
        "partial_reason": report.partial_reason,
        "splits": to_jsonable(report.splits),
        "config": to_jsonable(report.config),
        "notes": list(report.notes),
        "failed_features": report.failed_features,
        "findings": to_jsonable(report.findings),
        "features": features,
    }


class JsonWriter:
    name = "json"

    def write(self, report: AnalysisReport) -> Path:
        path = report.run_dir / "summary.json"
        with open(path, "w", encoding="utf-8") as f:
            json.dump(report_to_dict(report), f, indent=1)
        return path
