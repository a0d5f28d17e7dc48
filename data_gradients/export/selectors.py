"""Which samples to export: small, composable selectors.

A selector answers, for one batch of a split, which of its samples it wants
(:meth:`Selector.select` returns one bool per sample). It sees only where the batch is in the
split, never pixels: ``BatchInfo`` holds the split, the index of the loader batch, the sample
ids and the samples' positions in the split's stream.

>>> from data_gradients.export import selectors as sel
>>> crit = sel.any_of(sel.first_n_samples(10), sel.samples([96, 185]))
>>> crit = sel.first_n_batches(5) & ~sel.every_n_samples(2)   # the same with operators

A bad argument is a :class:`~data_gradients.errors.ConfigurationError` when the selector is built.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

from data_gradients.errors import ConfigurationError


@dataclass(frozen=True)
class BatchInfo:
    """Where a batch is: ``split``, ``batch_index`` (0 = the split's first loader batch), ``sample_ids``
    and ``positions`` (how many samples the split's stream yielded before each), ``split_size`` (samples
    of the split when known, else None)."""

    split: str
    batch_index: int
    sample_ids: np.ndarray
    positions: np.ndarray
    split_size: Optional[int] = None

    def __len__(self) -> int:
        return len(self.sample_ids)


class Selector:
    """Base class. ``needs_report``: True when it can only be used after a run (``report.export_samples``)."""

    needs_report = False
    needs_split_size = False

    def select(self, info: BatchInfo) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def flagged_by(self, split: str, sample_id: int) -> List[str]:
        """Keys of the findings that made this selector want the sample (only :func:`from_findings` has some)."""
        return []

    def __or__(self, other: "Selector") -> "Selector":
        return any_of(self, other)

    def __and__(self, other: "Selector") -> "Selector":
        return all_of(self, other)

    def __invert__(self) -> "Selector":
        return not_(self)


def _count(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "an int >= 0" if minimum == 0 else f"an int >= {minimum}"
        raise ConfigurationError(f"`{name}` must be {kind}, got {value!r}")
    return int(value)


class _Rule(Selector):
    def __init__(self, name: str, k: int, test):
        self.name, self.k, self._test = name, k, test

    def select(self, info: BatchInfo) -> np.ndarray:
        return np.asarray(self._test(info, self.k), dtype=bool) & np.ones(len(info), dtype=bool)

    def __repr__(self) -> str:
        return f"{self.name}({self.k})"


def first_n_batches(k: int) -> Selector:
    """Every sample of the first ``k`` loader batches of each split (k = 0: none)."""
    return _Rule("first_n_batches", _count(k, "k", 0), lambda info, k: info.batch_index < k)


def every_n_batches(k: int) -> Selector:
    """Every sample of loader batches 0, k, 2k, ... of each split."""
    return _Rule("every_n_batches", _count(k, "k", 1), lambda info, k: info.batch_index % k == 0)


def first_n_samples(k: int) -> Selector:
    """The first ``k`` samples each split's stream yields (k = 0: none)."""
    return _Rule("first_n_samples", _count(k, "k", 0), lambda info, k: info.positions < k)


def every_n_samples(k: int) -> Selector:
    """Samples 0, k, 2k, ... of each split's stream."""
    return _Rule("every_n_samples", _count(k, "k", 1), lambda info, k: info.positions % k == 0)


def _id_array(ids: Any, name: str) -> np.ndarray:
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise ConfigurationError(f"`{name}` must be a list of sample ids (ints), got {ids!r}")
    ids = list(ids)
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 0:
            raise ConfigurationError(f"`{name}` must hold sample ids (ints >= 0), got {i!r}")
    return np.unique(np.asarray(ids, dtype=np.int64))


class _Ids(Selector):
    def __init__(self, ids: Any):
        if isinstance(ids, Mapping):
            self.by_split: Optional[Dict[str, np.ndarray]] = {str(s): _id_array(v, f"ids[{s!r}]") for s, v in ids.items()}
            self.all = None
        else:
            self.by_split, self.all = None, _id_array(ids, "ids")

    def select(self, info: BatchInfo) -> np.ndarray:
        wanted = self.all if self.by_split is None else self.by_split.get(info.split)
        if wanted is None or len(wanted) == 0:
            return np.zeros(len(info), dtype=bool)
        return np.isin(info.sample_ids, wanted)

    def __repr__(self) -> str:
        return f"samples({self.all.tolist() if self.by_split is None else {s: v.tolist() for s, v in self.by_split.items()}})"


def samples(ids: Any) -> Selector:
    """The samples with these ids (dataset indices or stream positions, as the report writes them):
    a list for every split, or a dict ``{split: ids}``. Ids past the end of a split select nothing."""
    return _Ids(ids)


class _Random(Selector):
    needs_split_size = True

    def __init__(self, k: int, seed: int):
        self.k, self.seed = _count(k, "k", 0), _count(seed, "seed", 0)
        self._chosen: Dict[tuple, np.ndarray] = {}

    def positions(self, split: str, size: int) -> np.ndarray:
        """The stream positions chosen in a split of ``size`` samples (the same for the same seed and size)."""
        key = (split, size)
        if key not in self._chosen:
            rng = np.random.default_rng([self.seed, *split.encode()])
            self._chosen[key] = np.sort(rng.choice(size, size=min(self.k, size), replace=False))
        return self._chosen[key]

    def select(self, info: BatchInfo) -> np.ndarray:
        if info.split_size is None:
            raise ConfigurationError(f"random_samples({self.k}) needs the number of samples of split {info.split!r}, "
                                     "and its loader does not tell it (no len()): use it after the run, with "
                                     "report.export_samples(...), or another selector")
        return np.isin(info.positions, self.positions(info.split, int(info.split_size)))

    def __repr__(self) -> str:
        return f"random_samples({self.k}, seed={self.seed})"


def random_samples(k: int, seed: int = 0) -> Selector:
    """``k`` samples of each split drawn uniformly (positions in its stream), reproducible with ``seed``.
    Needs the split's size: the run's count after a run, ``len(loader)`` during one."""
    return _Random(k, seed)


class _Findings(Selector):
    needs_report = True

    def __init__(self, report: Any, keys: Optional[Sequence[str]], per_finding: int):
        findings = getattr(report, "findings", None)
        if findings is None:
            raise ConfigurationError(f"`report` must be the AnalysisReport of a run, got {type(report).__name__}")
        per_finding = _count(per_finding, "per_finding", 0)
        known = sorted({f.key for f in findings})
        if keys is not None:
            if isinstance(keys, str):
                keys = [keys]
            unknown = [k for k in keys if k not in known]
            if unknown:
                raise ConfigurationError(f"`keys` {unknown} are no finding of this report; its findings: {known}")
        self.flags: Dict[str, Dict[int, List[str]]] = {}
        for f in findings:
            if keys is not None and f.key not in keys:
                continue
            for split, ids in f.sample_ids.items():
                for i in list(ids)[:per_finding]:
                    self.flags.setdefault(split, {}).setdefault(int(i), []).append(f.key)
        self.keys = keys

    def select(self, info: BatchInfo) -> np.ndarray:
        flagged = self.flags.get(info.split)
        if not flagged:
            return np.zeros(len(info), dtype=bool)
        return np.isin(info.sample_ids, np.fromiter(flagged, dtype=np.int64, count=len(flagged)))

    def flagged_by(self, split: str, sample_id: int) -> List[str]:
        return list(self.flags.get(split, {}).get(int(sample_id), []))

    def __repr__(self) -> str:
        return f"from_findings(keys={self.keys})"


def from_findings(report: Any, keys: Optional[Sequence[str]] = None, per_finding: int = 20) -> Selector:
    """The samples the report's findings flagged: the first ``per_finding`` ids each finding lists per
    split, of the findings whose key is in ``keys`` (None: every finding)."""
    return _Findings(report, keys, per_finding)


class _Combined(Selector):
    def __init__(self, name: str, parts: Sequence[Any]):
        if not parts:
            raise ConfigurationError(f"`{name}` needs at least one selector")
        for p in parts:
            if not isinstance(p, Selector):
                raise ConfigurationError(f"`{name}` takes selectors (data_gradients.export.selectors), got {p!r}")
        self.name, self.parts = name, list(parts)
        self.needs_report = any(p.needs_report for p in parts)
        self.needs_split_size = any(p.needs_split_size for p in parts)

    def select(self, info: BatchInfo) -> np.ndarray:
        masks = [p.select(info) for p in self.parts]
        if self.name == "not_":
            return ~masks[0]
        return np.logical_or.reduce(masks) if self.name == "any_of" else np.logical_and.reduce(masks)

    def flagged_by(self, split: str, sample_id: int) -> List[str]:
        if self.name == "not_":
            return []
        return list(dict.fromkeys(k for p in self.parts for k in p.flagged_by(split, sample_id)))

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(map(repr, self.parts))})"


def any_of(*selectors: Selector) -> Selector:
    """The samples any of ``selectors`` wants."""
    return _Combined("any_of", selectors)


def all_of(*selectors: Selector) -> Selector:
    """The samples every one of ``selectors`` wants."""
    return _Combined("all_of", selectors)


def not_(selector: Selector) -> Selector:
    """The samples ``selector`` does not want."""
    return _Combined("not_", [selector])


def as_selector(criteria: Any, name: str = "criteria") -> Selector:
    """A selector from a selector or a list of them (any of them)."""
    if isinstance(criteria, Selector):
        return criteria
    if isinstance(criteria, (list, tuple)) and criteria:
        return any_of(*criteria)
    raise ConfigurationError(f"`{name}` must be a selector from data_gradients.export.selectors (e.g. "
                             f"first_n_samples(10)) or a list of them, got {criteria!r}")
