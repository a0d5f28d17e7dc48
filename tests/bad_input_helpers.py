"""What a bad-input case expects, and running one case through its manager (see test_bad_input.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import pytest
import torch
from PIL import Image

from data_gradients import ClassificationAnalysisManager, DetectionAnalysisManager, SegmentationAnalysisManager
from data_gradients.errors import DataGradientsError
from data_gradients.reports.json_writer import JsonWriter
from data_gradients.reports.report import AnalysisReport
from data_gradients.reports.txt_writer import TxtWriter

MANAGERS = {"classification": ClassificationAnalysisManager, "segmentation": SegmentationAnalysisManager,
            "detection": DetectionAnalysisManager}
DEFAULTS: Dict[str, Dict[str, Any]] = {"classification": {}, "segmentation": {},
                                       "detection": {"bbox_format": "xyxy", "normalized_boxes": False}}


@dataclass
class Raises:
    """The run ends in ``error`` whose message holds ``fragment``. ``partial``: the error came while
    reading, so the report of what was read was written first, marked partial and naming the error
    (False: a bad argument, refused at construction, before anything is read or written).
    ``cause``: the type of the user's own exception, chained."""

    error: type
    fragment: str
    partial: bool = True
    cause: Optional[type] = None


@dataclass
class Finds:
    """A finding ``key`` of ``feature`` listing ``ids`` (of ``split``); ``counts`` when given."""

    key: str
    ids: Optional[List[int]]
    feature: str = "data_quality"
    split: str = "train"
    counts: Optional[Dict[str, int]] = None
    severity: Optional[str] = None


@dataclass
class Equals:
    """A scalar of the report equals a number computed independently."""

    feature: str
    scalar: str
    value: float
    split: str = "train"


@dataclass
class Check:
    """Any other assertion on the finished report."""

    check: Callable[[AnalysisReport], None]


Expectation = Union[Raises, Finds, Equals, Check]


@dataclass
class Case:
    task: str
    data: Callable[[], Any]  # -> train data, or a dict of splits
    expect: Sequence[Expectation]
    kwargs: Dict[str, Any] = field(default_factory=dict)


def case(task: str, data: Callable[[], Any], *expect: Expectation, **kwargs: Any) -> Case:
    return Case(task, data, expect, kwargs)


def run_case(c: Case, tmp_path: Path) -> None:
    data = c.data()
    splits = data if isinstance(data, dict) else {"train": data}
    kwargs = dict(num_classes=3, log_dir=tmp_path / "logs", verbose=False, workers=1, samples_to_visualize=2,
                  writers=[TxtWriter(), JsonWriter()])
    kwargs.update(DEFAULTS[c.task])
    kwargs.update(c.kwargs)
    raises = [e for e in c.expect if isinstance(e, Raises)]
    manager = MANAGERS[c.task]
    if raises:
        (expected,) = raises
        with pytest.raises(expected.error) as info:
            manager(splits["train"], splits.get("val"), **kwargs).run()
        assert isinstance(info.value, DataGradientsError)
        assert expected.fragment in str(info.value), str(info.value)
        if expected.cause is not None:
            assert isinstance(info.value.__cause__, expected.cause)
        written = list((tmp_path / "logs").glob("*/*/summary.json"))
        if expected.partial:  # what was read came out first, marked partial and naming the error
            (path,) = written
            summary = json.loads(path.read_text())
            assert summary["partial"] is True and expected.fragment in summary["partial_reason"]
            assert "PARTIAL REPORT" in path.with_name("summary.txt").read_text()
        else:
            assert written == []
        return
    report = manager(splits["train"], splits.get("val"), **kwargs).run()
    # bad data, not a bad argument: every other output still came out
    assert report.failed_features == {} and report.warnings == []
    for writer in kwargs["writers"]:
        assert report.outputs[writer.name].exists()
    for e in c.expect:
        if isinstance(e, Finds):
            f = finding(report, e.feature, e.key)
            if e.ids is not None:
                assert f.sample_ids.get(e.split) == e.ids, f.sample_ids
            if e.counts is not None:
                assert f.counts == e.counts
            if e.severity is not None:
                assert f.severity == e.severity
        elif isinstance(e, Equals):
            assert report.scalar(e.feature, e.scalar, e.split) == pytest.approx(e.value, rel=1e-9, abs=1e-5)
        else:
            e.check(report)


def finding(report: AnalysisReport, feature: str, key: str):
    found = [f for f in report[feature].findings if f.key == key]
    assert found, f"no finding {key!r} in {feature}: {[f.key for f in report.findings]}"
    return found[0]


def no_finding(feature: str, key: str) -> Check:
    def check(report: AnalysisReport) -> None:
        assert key not in [f.key for f in report[feature].findings]

    return Check(check)


# ------------------------------------------------------------------------------------------- data
def luma(r: float, g: float, b: float) -> float:
    return (299 * r + 587 * g + 114 * b) / 1000


def const(n: int, value: Any, c: int = 3, h: int = 8, w: int = 8, dtype: Any = np.uint8) -> torch.Tensor:
    """n images of c channels, every pixel ``value`` (a number, or one per channel)."""
    v = np.asarray(value, dtype=np.float64).reshape(-1, 1, 1) * np.ones((c, h, w))
    return torch.from_numpy(np.repeat(v[None], n, axis=0).astype(dtype))


def noise(n: int, h: int = 8, w: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, 3, h, w), dtype=np.uint8))


def pil(mode: str, value: Any, size=(8, 8)) -> Image.Image:
    if mode in ("P", "PA"):
        im = Image.new(mode, size)
        im.putpalette(list(value) * 256)
        return im
    return Image.new(mode, size, value)


def pil16(value: int) -> Image.Image:
    return Image.fromarray(np.full((8, 8), value, dtype=np.uint16))


def masks(n: int, seed: int = 0, h: int = 8, w: int = 8, classes: int = 3) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, classes, (n, h, w)))


def boxes(*rows: Sequence[float]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 5)


def raising_loader(good: List[Any], error: Exception):
    """A generator yielding ``good`` batches, then raising ``error`` (the user's loader failing)."""
    yield from good
    raise error


def class_pixels(report: AnalysisReport) -> List[int]:
    """Pixels per class (class order) from the segmentation class-frequency table."""
    table = report["segmentation_class_frequency"].tables[0]
    col = table.columns.index(next(c for c in table.columns if "pixels" in c and "train" in c))
    return [int(row[col]) for row in table.rows]
