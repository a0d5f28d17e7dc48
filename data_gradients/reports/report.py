"""The report object returned by ``Manager.run()``: results, counts and output paths."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from data_gradients.results import FeatureResult, Finding


@dataclass
class SplitSummary:
    """What was read of one split."""

    name: str
    samples: int = 0
    batches: int = 0
    complete: bool = True  # False when stopped by max_batches or Ctrl-C


@dataclass
class AnalysisReport:
    """Everything a run produced. Writers render it; nothing here is recomputed.

    ``results`` maps feature name to its :class:`FeatureResult` (a failed feature has
    ``error`` set). ``outputs`` maps a writer's name ("tensorboard", "txt", "json",
    "html", "pdf") to the path it wrote.
    """

    title: str
    task: str
    run_dir: Path
    splits: Dict[str, SplitSummary]
    results: Dict[str, FeatureResult]
    config: Dict[str, Any]
    class_names: Dict[int, str]
    started_at: str
    duration_s: float = 0.0
    write_s: float = 0.0
    partial: bool = False
    partial_reason: Optional[str] = None
    notes: List[str] = field(default_factory=list)
    outputs: Dict[str, Path] = field(default_factory=dict)
    #: names of the writers of this report, in order (``write_all``): the HTML report names those written after it
    writers: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    # plots drawn once (``rendering.RenderedPlot``: PNG bytes, or None: could not be drawn), by tag
    # "feature/key", shared by the writers
    figure_images: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def split_names(self) -> List[str]:
        return list(self.splits)

    @property
    def findings(self) -> List[Finding]:
        return [f for r in self.results.values() for f in r.findings]

    @property
    def failed_features(self) -> Dict[str, str]:
        return {n: r.error for n, r in self.results.items() if r.error}

    def __getitem__(self, feature: str) -> FeatureResult:
        return self.results[feature]

    def scalar(self, feature: str, name: str, split: str) -> float:
        """One headline number, e.g. ``report.scalar("image_brightness", "mean_brightness", "train")``."""
        return self.results[feature].scalars[name][split]

    def export_samples(self, data: Any, criteria: Any, out_dir: Any = None, *, split: Optional[str] = None) -> Path:
        """Write the samples of ``data`` (the run's loader, a Dataset, or ``{split: data}``) that ``criteria``
        selects (``data_gradients.export.selectors``): image, overlay and meta.json each, plus COCO JSON for
        detection; see :func:`data_gradients.export.after_run.export_samples`. Returns the folder."""
        from data_gradients.export.after_run import export_samples

        return export_samples(self, data, criteria, out_dir, split=split)

    def summary(self) -> str:
        lines = [f"data_gradients: {self.title} ({self.task})"]
        for s in self.splits.values():
            lines.append(f"  {s.name}: {s.samples} samples in {s.batches} batches" + ("" if s.complete else " (partial)"))
        if self.partial:
            lines.append(f"  PARTIAL REPORT: {self.partial_reason}")
        for name, err in self.failed_features.items():
            lines.append(f"  feature {name!r} failed: {err.splitlines()[0] if err else ''}")
        lines.append(f"  findings: {len(self.findings)}")
        for key, path in self.outputs.items():
            lines.append(f"  {key:12s} {path}")
        lines.append(f"  view with:  tensorboard --logdir {self.run_dir.parent.parent}")
        return "\n".join(lines)
