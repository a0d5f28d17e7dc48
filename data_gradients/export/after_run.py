"""``report.export_samples(data, criteria, out_dir=None)``: export samples after a run, in a second pass.

The batches are taken apart exactly as in the run (the same splitter, with its extractors, key paths
or the resolver's answer, and the same builder, with the box format it settled on), and sample ids are
the run's: dataset indices for a DataLoader over a map-style dataset, else positions in the stream.

``data`` may be
- a re-iterable (a DataLoader, a list of batches): read again from the start, only the selected
  samples written;
- a map-style ``torch.utils.data.Dataset``: only the selected indices are read (``dataset[i]``, made
  into a batch of one by the dataset's ``collate_fn`` if it has one, else by the collate function of
  the split's DataLoader in the run, else torch's default collate);
  each sample is its own batch, so ids, positions and batch indices are all the dataset index;
- a dict ``{split: data}`` for several splits.
A one-shot iterator (a generator) was used up by the run: it is refused with an error saying so.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from data_gradients.errors import ConfigurationError
from data_gradients.export.selectors import BatchInfo, as_selector
from data_gradients.export.session import EXPORT_FOLDER, RunExtraction, dataset_of, path_finder, recall
from data_gradients.export.writer import SampleWriter
from data_gradients.managers.sample_ids import KIND_INDICES
from data_gradients.reports.report import SplitSummary


class _NoAnalysis:
    """A pipeline that analyses nothing: the second pass only exports."""

    batches_in_flight = 1

    def submit(self, batch: Any, split: str, on_done: Any) -> None:
        pass

    def drain(self) -> None:
        pass


def _findings_index(report: Any) -> Dict[str, Dict[int, List[dict]]]:
    index: Dict[str, Dict[int, List[dict]]] = {}
    for feature, result in report.results.items():
        for f in result.findings:
            for split, ids in f.sample_ids.items():
                for i in ids:
                    index.setdefault(split, {}).setdefault(int(i), []).append(
                        {"feature": feature, "key": f.key, "title": f.title, "severity": f.severity})
    return index


def export_samples(report: Any, data: Any, criteria: Any, out_dir: Any = None, *, split: Optional[str] = None) -> Path:
    """Write the samples of ``data`` that ``criteria`` selects (see the module docstring); returns the export
    folder (default ``<run folder>/export``, or ``export-2``, ... when that exists)."""
    criteria = as_selector(criteria)
    extraction = recall(report)
    if extraction is None:
        raise ConfigurationError("export_samples needs the run that made this report, in this process (the batch "
                                 "extraction is not saved with the report): call it on the report run() returned")
    splits = _splits(report, data, split)
    out = Path(out_dir).expanduser() if out_dir is not None else _free_folder(report.run_dir)
    findings = _findings_index(report)
    indices: Dict[str, bool] = {}
    finders = {s: path_finder(d) for s, d in splits.items()}

    def path_of(s: str, sample_id: int) -> Optional[str]:
        finder = finders.get(s)
        return finder(sample_id) if finder is not None and indices.get(s) else None

    writer = SampleWriter(out, criteria, extraction.task, extraction.class_names, class_ids=extraction.class_ids,
                          path_of=path_of, findings_of=lambda s, i: list(findings.get(s, {}).get(int(i), [])),
                          ids_are_indices=lambda s: indices.get(s, False))
    for name, d in splits.items():
        summary = report.splits.get(name)
        size = summary.samples if summary is not None else None
        if dataset_of(d) is d:
            indices[name] = True
            _from_dataset(writer, extraction, name, d, size)
        else:
            _from_stream(writer, extraction, name, d, size, indices)
    return writer.finish()


def _splits(report: Any, data: Any, split: Optional[str]) -> Dict[str, Any]:
    if isinstance(data, Mapping):
        splits = dict(data)
    else:
        splits = {split if split is not None else report.split_names[0]: data}
    for name, d in splits.items():
        if name not in report.splits:
            raise ConfigurationError(f"split {name!r} is not a split of this report ({report.split_names})")
        if dataset_of(d) is d:
            continue  # indexed directly
        if d is None or not hasattr(d, "__iter__"):
            raise ConfigurationError(f"`data` of split {name!r} must be a re-iterable loader, a list of batches or a "
                                     f"Dataset, got {type(d).__name__}")
        if iter(d) is d:
            raise ConfigurationError(f"`data` of split {name!r} is a one-shot iterator ({type(d).__name__}, e.g. a "
                                     "generator): the run used it up. Pass something that can be read again: a list "
                                     "of batches, a DataLoader, or the Dataset itself")
    return splits


def _free_folder(run_dir: Path) -> Path:
    candidate, n = run_dir / EXPORT_FOLDER, 1
    while candidate.exists():
        n += 1
        candidate = run_dir / f"{EXPORT_FOLDER}-{n}"
    return candidate


def _from_stream(writer: SampleWriter, ex: RunExtraction, split: str, data: Any, size: Optional[int],
                 indices: Dict[str, bool]) -> None:
    from data_gradients.managers.reading import SplitReader

    class _Taker:
        def take(self, s: str, batch_index: int, batch: Any, ids_source: Any) -> None:
            indices[s] = ids_source.kind == KIND_INDICES
            writer.add(s, batch_index, batch, size)

    reader = SplitReader(ex.splitter, ex.builder, max_batches=ex.max_batches, progress=False, exporter=_Taker())
    reader.read(split, data, _NoAnalysis(), SplitSummary(split), set())


def _from_dataset(writer: SampleWriter, ex: RunExtraction, split: str, dataset: Any, size: Optional[int]) -> None:
    """Index the dataset directly: only the selected samples are read."""
    from torch.utils.data import default_collate

    n = len(dataset)
    everything = np.arange(n, dtype=np.int64)
    # each sample is its own batch: the batch index, the id and the position are the dataset index
    # (the selectors compare batch indices elementwise, so one call covers every index)
    info = BatchInfo(split, everything, everything, everything, size if size is not None else n)  # type: ignore[arg-type]
    wanted = np.flatnonzero(writer.criteria.select(info))
    # a batch of one, collated as in the run: the dataset's own collate_fn, else the run's DataLoader's
    collate = getattr(dataset, "collate_fn", None) or ex.collates.get(split) or default_collate
    for i in wanted.tolist():
        images, labels = ex.splitter(collate([dataset[i]]))
        for batch in ex.builder.build(images, labels, first_sample_id=i):
            batch.sample_ids = np.array([i], dtype=np.int64)
            batch.stream_positions = np.array([i], dtype=np.int64)
            writer.add(split, i, batch, info.split_size)
