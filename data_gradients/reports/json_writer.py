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
        return _array_to_jsonable(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _array_to_jsonable(a: np.ndarray) -> Any:
    """``to_jsonable(a.tolist())`` without visiting every number in Python: the same values."""
    if a.ndim == 0:
        return to_jsonable(a.item())
    if a.dtype.kind in "biu":
        return a.tolist()
    if a.dtype.kind == "f":
        finite = np.isfinite(a)
        if finite.all():
            return a.tolist()
        out = a.astype(object)
        out[~finite] = None
        return out.tolist()
    return to_jsonable(a.tolist())


def dumps(obj: Any, level: int = 0) -> str:
    """JSON text of a ``to_jsonable`` tree: objects one key a line, lists of numbers on one line
    (a matrix: one row a line). json's C encoder writes the lines; only the structure is walked here
    (``json.dump(indent=...)`` runs the pure-Python encoder over every number)."""
    pad, inner = " " * level, " " * (level + 1)
    if isinstance(obj, dict) and obj:
        items = [f"{inner}{json.dumps(str(k))}: {dumps(v, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and not _is_flat(obj):
        if all(isinstance(v, list) and _is_flat(v) for v in obj):
            return "[" + (",\n" + inner).join(json.dumps(v) for v in obj) + "]"
        return "[\n" + ",\n".join(inner + dumps(v, level + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj)


def _is_flat(values: list) -> bool:
    return not any(isinstance(v, (list, dict)) for v in values)


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
        path.write_text(dumps(report_to_dict(report)) + "\n", encoding="utf-8")
        return path
