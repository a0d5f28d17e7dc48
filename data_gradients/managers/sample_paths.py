"""File paths beside sample ids, and the readers' bad files, when the data came from files on disk.

Called once by the manager when the report is made (on rank 0 under torch.distributed), with
the splits' loaders. A split's paths are known when its loader is a ``DataLoader`` over a dataset
with ``sample_path(index)`` (the readers of :mod:`data_gradients.datasets`, or any dataset of the
user's that has the method; ``Subset`` wrappers are followed) *and* its sample ids are dataset
indices (the run's notes say so). Then:

- every finding's ``sample_paths[split]`` lists the files of its ``sample_ids[split]``, same order;
- sample pictures' captions ``sample <id>`` gain the file name;
- the readers' bad files (``dataset.problems``) and a ``--max-samples`` subset become the result
  ``dataset_files`` (group "quality"): counts per kind and split, findings with the ids of the
  samples concerned and, beside them, the file at fault (an image, or its label file), files that
  made no sample named in the message, and a table of every file (the first 50 per kind and split).

Nothing here reads a file or computes a statistic of the data: it only looks paths up.
"""
from __future__ import annotations

import re
import sys
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Set

from data_gradients.managers.reading import _ids_note
from data_gradients.managers.sample_ids import KIND_INDICES
from data_gradients.results import FeatureResult, Finding, Table

PathOf = Callable[[int], str]
_CAPTION = re.compile(r"^sample (\d+)$")


def dataset_of(data: Any) -> Any:
    """The map-style dataset behind a DataLoader, or None."""
    from torch.utils.data import DataLoader

    return data.dataset if isinstance(data, DataLoader) else None


def sample_path_lookup(data: Any) -> Optional[PathOf]:
    """``index -> file path`` for a DataLoader over a dataset with ``sample_path`` (through ``Subset``s), else None."""
    from torch.utils.data import Subset

    dataset, chain = dataset_of(data), []
    while isinstance(dataset, Subset):
        chain.append(dataset.indices)
        dataset = dataset.dataset
    if dataset is None or not callable(getattr(dataset, "sample_path", None)):
        return None

    def path_of(index: int) -> str:
        for indices in chain:  # outermost Subset first
            index = int(indices[index])
        return str(dataset.sample_path(index))

    return path_of


def attach_file_info(results: Dict[str, FeatureResult], splits_data: Mapping[str, Any],
                     notes: Iterable[str]) -> Dict[str, FeatureResult]:
    """Fill ``sample_paths`` and captions in ``results`` and add ``dataset_files``; returns ``results``."""
    notes = set(notes)
    lookups: Dict[str, PathOf] = {}
    for split, data in splits_data.items():
        lookup = sample_path_lookup(data)
        if lookup is not None and _ids_note(split, KIND_INDICES, False) in notes:
            lookups[split] = lookup
    for result in results.values():
        for finding in result.findings:
            for split, ids in finding.sample_ids.items():
                if split in lookups and split not in finding.sample_paths:
                    finding.sample_paths[split] = _paths(lookups[split], ids)
        for grid in result.images:
            for split, captions in grid.captions.items():
                if split in lookups:
                    grid.captions[split] = [_caption(c, lookups[split]) for c in captions]
    files = dataset_files(splits_data, set(lookups))
    if files is not None:
        results["dataset_files"] = files
    return results


def _paths(lookup: PathOf, ids: List[int]) -> List[str]:
    out = []
    for i in ids:
        try:
            out.append(lookup(int(i)))
        except (IndexError, KeyError, TypeError, ValueError):
            out.append("")
    return out


def _caption(caption: str, lookup: PathOf) -> str:
    match = _CAPTION.match(caption)
    if match is None:
        return caption
    path = _paths(lookup, [int(match.group(1))])[0]
    return f"{caption} {path.replace(chr(92), '/').rsplit('/', 1)[-1]}" if path else caption


def dataset_files(splits_data: Mapping[str, Any], with_ids: Set[str]) -> Optional[FeatureResult]:
    """The readers' bad files and random subsets of every split, or None when no split comes from a reader."""
    if "data_gradients.datasets.loader" not in sys.modules:  # no reader was ever made (it saves ~20 ms of imports)
        return None
    from data_gradients.datasets.loader import SeededSubset
    from data_gradients.datasets.problems import MAX_LISTED, PROBLEM_KINDS

    datasets = {s: dataset_of(d) for s, d in splits_data.items()}
    datasets = {s: d for s, d in datasets.items() if hasattr(d, "problems")}
    subsets = {s: d.sampler for s, d in splits_data.items() if isinstance(getattr(d, "sampler", None), SeededSubset)}
    if not datasets and not subsets:
        return None
    splits = list(splits_data)
    result = FeatureResult(
        name="dataset_files", title="Dataset files", group="quality",
        description="Bad files the dataset readers found (missing or orphaned label files, empty or malformed "
                    "annotations, unknown categories, polygons with fewer than 3 points) among every file of each split, "
                    "also when a random subset was analysed, with their paths; images "
                    "that cannot be decoded are listed by the data quality section. And the share of each split "
                    "analysed when a random subset was drawn (--max-samples).")
    rows: List[List[Any]] = []
    for kind, (title, severity, why) in PROBLEM_KINDS.items():
        per_split = {s: [p for p in getattr(datasets.get(s), "problems", []) if p.kind == kind] for s in splits}
        counts = {s: len(per_split[s]) for s in splits}
        result.scalars[f"{kind}_files"] = dict(counts)
        if not sum(counts.values()):
            continue
        ids = {s: [p.index for p in per_split[s] if p.index is not None][:MAX_LISTED]
               for s in splits if s in with_ids and per_split[s]}
        paths = {s: [p.path for p in per_split[s] if p.index is not None][:MAX_LISTED] for s in ids}
        unnamed = [p.path for s in splits for p in per_split[s] if p.index is None or s not in with_ids]
        message = f"{sum(counts.values())} {title[0].lower() + title[1:]} (" + \
            ", ".join(f"{s}: {counts[s]}" for s in splits if counts[s]) + ")"
        if unnamed:
            message += "; e.g. " + ", ".join(unnamed[:3])
        result.findings.append(Finding(key=kind, title=title, message=message, why=why, counts=counts,
                                       sample_ids={s: v for s, v in ids.items() if v}, severity=severity,
                                       sample_paths={s: v for s, v in paths.items() if v}))
        for s in splits:
            for p in per_split[s][:MAX_LISTED]:
                rows.append([s, kind, p.path, "" if p.index is None else p.index, p.detail])
    if rows:
        result.tables.append(Table(key="bad_files", title="Bad files (first 50 of each kind and split)",
                                   columns=["split", "problem", "file", "sample id", "detail"], rows=rows))
    for s in splits:
        result.scalars.setdefault("analysed_fraction", {})[s] = subsets[s].fraction if s in subsets else 1.0
    if subsets:
        result.findings.append(Finding(
            key="random_subset", title="A random subset was analysed", severity="info",
            message="; ".join(f"{s}: {subsets[s].describe()}" for s in splits if s in subsets),
            why="statistics of a uniform random subset estimate those of the whole split; rare classes and rare "
                "problems may be missed, and counts are those of the subset.",
            counts={s: len(subsets[s]) for s in subsets}))
    return result
