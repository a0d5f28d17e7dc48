"""The managers' side of exporting: ``export=`` during a run, and what ``report.export_samples`` needs after it.

A manager builds one :class:`RunExports` at construction. During the run the reading thread hands
it every canonical batch (:meth:`RunExports.take`); when ``export=`` was given, the selected samples
are written at once to a staging folder beside the run folders (the run folder only exists once the
report is made), moved to ``<run folder>/export`` by :meth:`RunExports.finish`. ``finish`` also
remembers how the run took batches apart (extractors, key paths, the resolver's answer, the builder)
for a later ``report.export_samples``, and gives the manifest the samples' file paths.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from data_gradients.errors import ConfigurationError
from data_gradients.export.selectors import Selector, as_selector
from data_gradients.export.writer import SampleWriter
from data_gradients.managers.sample_ids import KIND_INDICES

EXPORT_FOLDER = "export"
_RUNS: Dict[int, tuple] = {}  # id(report) -> (weak reference to it, RunExtraction)


@dataclass
class Export:
    """``export=Export(criteria, out_dir="...")`` to write the samples elsewhere than ``<run folder>/export``."""

    criteria: Any
    out_dir: Any = None


@dataclass
class RunExtraction:
    """How a run took its batches apart, and the facts a second pass needs."""

    splitter: Any
    builder: Any
    task: str
    class_names: Dict[int, str]
    class_ids: list
    max_batches: Optional[int]
    #: the collate function of each split's DataLoader in the run (to make a batch of one sample of a Dataset)
    collates: Dict[str, Callable] = field(default_factory=dict)


def dataset_of(data: Any) -> Any:
    """The map-style dataset behind ``data`` (a DataLoader's, or ``data`` itself), else None."""
    try:
        from torch.utils.data import DataLoader, Dataset, IterableDataset
    except ImportError:  # pragma: no cover
        return None
    ds = data.dataset if isinstance(data, DataLoader) else data
    return ds if isinstance(ds, Dataset) and not isinstance(ds, IterableDataset) else None


def path_finder(data: Any) -> Optional[Callable[[int], Optional[str]]]:
    """``index -> file path`` when the dataset behind ``data`` tells it (``dataset.sample_path(index)``)."""
    ds = dataset_of(data)
    getter = getattr(ds, "sample_path", None)
    if not callable(getter):
        return None

    def path(index: int) -> Optional[str]:
        try:
            p = getter(int(index))
        except Exception:  # an id that is not an index of this dataset
            return None
        return None if p is None else str(p)

    return path


class RunExports:
    """See the module docstring. ``export``: None, a selector, a list of selectors, or :class:`Export`."""

    def __init__(self, manager: Any, export: Any = None):
        self.manager = manager
        self.criteria: Optional[Selector] = None
        self.out_dir: Optional[Path] = None  # given by the user; None: <run folder>/export
        self.writer: Optional[SampleWriter] = None  # of the run in progress, made at its first batch
        self.staging: Optional[Path] = None
        self._indices: Dict[str, bool] = {}
        self._failure: Optional[str] = None  # why the export of the run in progress stopped
        if export is None:
            return
        out_dir = None
        if isinstance(export, Export):
            export, out_dir = export.criteria, export.out_dir
        criteria = as_selector(export, "export")
        if criteria.needs_report:
            raise ConfigurationError("`export` cannot use from_findings(...) during the run (there is no report yet): "
                                     "call report.export_samples(data, from_findings(report)) after run()")
        if manager.cluster is not None:
            raise ConfigurationError("`export` is not available under torch.distributed yet: export on rank 0 after "
                                     "the run with report.export_samples(...)")
        if criteria.needs_split_size:
            unknown = [s for s in manager.splits_data if manager.context.promised(s) is None]
            if unknown:
                raise ConfigurationError(f"`export`: random_samples needs each split's size, and the loaders of {unknown} "
                                         "have no len(): export after the run with report.export_samples(...)")
        if out_dir is not None and (not isinstance(out_dir, (str, os.PathLike)) or str(out_dir) == ""):
            raise ConfigurationError(f"`Export.out_dir` must be a folder path (str or Path), got {out_dir!r}")
        self.criteria = criteria
        self.out_dir = None if out_dir is None else Path(out_dir).expanduser()

    def take(self, split: str, batch_index: int, batch: Any, ids_source: Any) -> None:
        """Called by the reading thread for every canonical batch of the run."""
        if self.criteria is None:
            return
        if self.writer is None:  # the run's first batch: a staging folder beside the run folders
            m = self.manager
            if self.out_dir is None:
                self.staging = Path(tempfile.mkdtemp(prefix=".export-", dir=m.log_dir))
            self._indices, self._failure = {}, None
            self.writer = SampleWriter(self.staging or self.out_dir, self.criteria, m.task, m.context.class_names,
                                       class_ids=list(m.class_ids), path_of=self._path_of,
                                       ids_are_indices=lambda split: self._indices.get(split, False))
        self._indices[split] = ids_source.kind == KIND_INDICES
        if self._failure is None:
            try:
                self.writer.add(split, batch_index, batch, self.manager.context.promised(split))
            except OSError as e:  # a full disk stops the export, never the analysis
                self._failure = f"export stopped at {split} batch {batch_index}: {type(e).__name__}: {e}"

    def _path_of(self, split: str, sample_id: int) -> Optional[str]:
        if not self._indices.get(split, False):
            return None
        finder = path_finder(self.manager.splits_data.get(split))
        return None if finder is None else finder(sample_id)

    def finish(self, report: Any) -> None:
        """At report time: move the exports into the run folder, remember the extraction, give the manifest paths."""
        m = self.manager
        extraction = RunExtraction(m.splitter, m.builder, m.task, dict(m.context.class_names), list(m.class_ids),
                                   m.max_batches, {s: d.collate_fn for s, d in m.splits_data.items()
                                                   if callable(getattr(d, "collate_fn", None))})
        remember(report, extraction)
        writer, staging, self.writer, self.staging = self.writer, self.staging, None, None  # the next run starts anew
        if writer is not None:
            try:
                out = writer.finish()
                if staging is not None:
                    out = report.run_dir / EXPORT_FOLDER
                    shutil.move(str(staging), str(out))
                report.outputs[EXPORT_FOLDER] = out
                report.config["export"] = {"criteria": repr(self.criteria), "folder": str(out),
                                           "samples": len(writer.exported)}
            except OSError as e:  # the report and the other outputs must still come out
                report.warnings.append(f"export output failed: {type(e).__name__}: {e}")
            if self._failure is not None:
                report.warnings.append(self._failure)
        add_manifest_paths(report, m.splits_data)


def add_manifest_paths(report: Any, splits_data: Dict[str, Any]) -> None:
    """File paths of the manifest's samples, for the splits whose ids are indices of a dataset that tells paths."""
    result = report.results.get("fingerprint")
    manifest = getattr(result, "manifest", None)
    if manifest is None:
        return
    paths = {}
    for split, (ids, _) in manifest.items():
        finder = path_finder(splits_data.get(split))
        if finder is not None and f"sample ids of {split} are {KIND_INDICES}" in " ".join(report.notes):
            paths[split] = [finder(i) or "" for i in ids.tolist()]
    result.manifest_paths = paths


def remember(report: Any, extraction: RunExtraction) -> None:
    for key in [k for k, (ref, _) in _RUNS.items() if ref() is None]:
        del _RUNS[key]
    _RUNS[id(report)] = (weakref.ref(report), extraction)


def recall(report: Any) -> Optional[RunExtraction]:
    entry = _RUNS.get(id(report))
    return entry[1] if entry is not None and entry[0]() is report else None


def is_selector(value: Any) -> bool:
    return isinstance(value, Selector)
