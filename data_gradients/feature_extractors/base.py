"""Base class of feature extractors: declared, fixed-size, mergeable state per split.

A subclass declares its state in ``setup()`` with ``add_state(name, default, reduce)``
and implements ``update(batch, split)`` and ``compute()``. The base class gives
``reset()``, ``merge(other)`` and pickling without per-extractor code.

Reductions:

- ``"sum"``: numbers / numpy arrays, added.
- ``"min"`` / ``"max"``: element-wise.
- ``"cat"``: a list, concatenated and capped at ``cap`` items (first come first kept).
- ``"counter"``: a dict key -> count, summed; at most ``cap`` keys (those of smallest
  stable hash, so independent of order), the rest is counted under the key ``"other"``.
- ``"smallest"``: a list of ``(key, payload)`` keeping the ``cap`` smallest keys.
  With keys derived from a seeded hash of the sample id this is a uniform
  reservoir that does not depend on batching or on the merge order.
- ``"windows"``: counts per window of the stream (``stream_windows``): the declared value
  (an integer array or 0) is kept ``WINDOWS`` times, ``state[w]`` counting the samples of
  window ``w`` (``stream_windows(batch, split)`` gives each sample's window); summed over the
  windows it is the split's value. The split's state then also holds ``stream_width``,
  ``stream_end`` (1 + the largest position seen) and ``stream_images`` (images per window).
"""
from __future__ import annotations

import copy
import functools
import hashlib
import heapq
from typing import Any, Callable, ClassVar, Dict, Iterable, Optional, Tuple

import numpy as np

from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.stream_windows import WINDOWS, fold_to, width_for
from data_gradients.results import FeatureResult, Series
from data_gradients.sample_id import POSITION_MASK

_REDUCTIONS = ("sum", "min", "max", "cat", "counter", "smallest", "windows")


class SplitState:
    """Attribute access to one split's state values."""

    def __init__(self, values: Dict[str, Any]):
        self.__dict__.update(values)

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


class FeatureExtractor:
    """Streaming statistic over the batches of every split.

    Class attributes: ``name`` (registry key), ``title``, ``description`` (two or three
    lines on what it shows and how to read it), ``tasks`` (tasks it applies to) and
    ``group``: the report's section, "image" (image statistics), "labels" (label
    statistics), "quality" (bad data: feeds the findings) or "samples" (pictures,
    TensorBoard only).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    tasks: ClassVar[Tuple[str, ...]] = ()
    group: ClassVar[str] = "image"
    #: True for the extractors that also take batches of unreadable samples (``batch.unreadable``:
    #: images without pixels, kept only so they are counted); no other extractor ever sees one
    reads_unreadable: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        update = cls.__dict__.get("update")
        if update is not None:
            cls.update = _skipping_unreadable(update)  # type: ignore[method-assign]

    def __init__(self, context: AnalysisContext):
        self.context = context
        self._specs: Dict[str, Tuple[Any, str, Optional[int]]] = {}
        self._splits: Dict[str, SplitState] = {}
        self.setup()

    # ----------------------------------------------------------------- declaring
    def setup(self) -> None:
        """Declare state with ``add_state``. Override in subclasses."""

    def add_state(self, name: str, default: Any, reduce: str, cap: Optional[int] = None) -> None:
        if reduce not in _REDUCTIONS:
            raise ValueError(f"`reduce` must be one of {_REDUCTIONS}, got {reduce!r}")
        if reduce in ("cat", "counter", "smallest") and cap is None:
            raise ValueError(f"state {name!r} with reduce={reduce!r} needs a `cap` (bounded memory)")
        if name in self._specs:
            raise ValueError(f"state {name!r} declared twice in {type(self).__name__}")
        if reduce == "windows":
            value = np.asarray(default)
            if value.dtype.kind not in "iu" or value.any():
                raise ValueError(f"state {name!r} with reduce='windows' must start as integer zeros, got {default!r}")
            if "stream_width" not in self._specs:
                self._specs["stream_width"] = (1, "max", None)
                self._specs["stream_end"] = (0, "max", None)
                self._specs["stream_images"] = (np.zeros(WINDOWS, dtype=np.int64), "windows", None)
            default = np.zeros((WINDOWS, *value.shape), dtype=np.int64)
        self._specs[name] = (copy.deepcopy(default), reduce, cap)

    # ------------------------------------------------------------------- access
    def state(self, split: str) -> SplitState:
        """The state of ``split``, created from the declared defaults on first use."""
        if split not in self._splits:
            self._splits[split] = SplitState({k: copy.deepcopy(d) for k, (d, _, _) in self._specs.items()})
        return self._splits[split]

    def split_totals(self, split: str) -> Dict[str, Any]:
        """The state of ``split`` as a dict, each windowed value summed over its windows (the split's)."""
        return {key: value.sum(axis=0) if self._specs[key][1] == "windows" else value
                for key, value in self.state(split).as_dict().items()}

    def stream_windows(self, batch: Any, split: str) -> np.ndarray:
        """The window of each sample of ``batch`` (call once per update): the split's windows are
        widened to its positions (``batch.stream_positions``; outside a run, its sample ids) and
        its images counted per window."""
        positions = getattr(batch, "stream_positions", None)
        if positions is None:  # built outside a run: ids are the stream positions
            positions = np.asarray(batch.sample_ids, dtype=np.int64) & POSITION_MASK
        positions = np.asarray(positions, dtype=np.int64)
        st = self.state(split)
        if positions.size == 0:
            return positions
        end = int(positions.max()) + 1
        self._widen(st, end)
        window = positions // st.stream_width
        st.stream_images += np.bincount(window, minlength=WINDOWS)
        st.stream_end = max(st.stream_end, end)
        return window

    def stream_steps(self, split: str) -> Tuple[np.ndarray, np.ndarray]:
        """``(used, steps)``: the windows of ``split`` that hold images, and the images read at the
        end of each (the x-axis of a value along the stream)."""
        st = self.state(split)
        used = np.flatnonzero(st.stream_images)
        return used, np.minimum((used + 1) * st.stream_width, st.stream_end)

    def stream_histogram(self, splits: Iterable[str], per_window: Callable[[SplitState], np.ndarray]) -> Dict[str, Any]:
        """``counts``, ``stream_steps`` and ``stream_counts`` of a :class:`Histogram` from a windowed
        state: ``per_window(state)`` is its (windows, bins) counts."""
        fields: Dict[str, Dict[str, np.ndarray]] = {"counts": {}, "stream_steps": {}, "stream_counts": {}}
        for s in splits:
            windows = np.asarray(per_window(self.state(s)))
            used, steps = self.stream_steps(s)
            fields["counts"][s] = windows.sum(axis=0)
            fields["stream_steps"][s], fields["stream_counts"][s] = steps, windows[used]
        return fields

    def headline_series(self, splits: Iterable[str], key: str, title: str, y_label: str,
                        count: Callable[[SplitState], np.ndarray], per_image: bool = False) -> Series:
        """A headline number along the stream (``Series.headline``) from a windowed count: at each window,
        ``count(state)`` summed over the images read so far (``per_image``: divided by those images); the
        last value is the split's number."""
        series = Series(key=key, title=title, y_label=y_label, steps={}, values={}, headline=True)
        for s in splits:
            st = self.state(s)
            used, steps = self.stream_steps(s)
            total = np.cumsum(np.asarray(count(st))[used], axis=0)
            if per_image:
                total = total / np.cumsum(st.stream_images[used])
            series.steps[s], series.values[s] = steps, {key: total}
        return series

    def _widen(self, st: SplitState, end: int) -> None:
        width = width_for(end, st.stream_width)
        for key, (_, reduce, _) in self._specs.items():
            if reduce == "windows":
                setattr(st, key, fold_to(getattr(st, key), st.stream_width, width))
        st.stream_width = width

    @property
    def splits(self) -> Tuple[str, ...]:
        """Splits that received data, in the context's order first."""
        known = [s for s in self.context.splits if s in self._splits]
        return tuple(known + [s for s in self._splits if s not in known])

    # ----------------------------------------------------------------- lifecycle
    def update(self, batch: Any, split: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def compute(self) -> FeatureResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset(self) -> None:
        self._splits = {}

    def merge(self, other: "FeatureExtractor") -> "FeatureExtractor":
        """Fold ``other``'s state (same class, other data) into this one; returns self."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        for split, theirs in other._splits.items():
            mine = self.state(split)
            if "stream_width" in self._specs:  # both sides at the coarser width (theirs folded as a copy)
                self._widen(mine, theirs.stream_end)
            for key, (_, reduce, cap) in self._specs.items():
                value = getattr(theirs, key)
                if reduce == "windows":
                    value = fold_to(value, theirs.stream_width, mine.stream_width)
                setattr(mine, key, _reduce(reduce, cap, getattr(mine, key), value))
        return self

    def new_result(self) -> FeatureResult:
        return FeatureResult(name=self.name, title=self.title, description=self.description, group=self.group)

    # ------------------------------------------------------------------ helpers
    def sample_key(self, split: str, sample_id: int) -> float:
        """Deterministic pseudo-random key in [0, 1) for reservoir sampling."""
        return _hash_unit(self.context.seed, split, sample_id)

    def reservoir_candidates(self, reservoir: list, split: str, sample_ids, k: int) -> list:
        """``(key, index in batch)`` of the samples that would enter a "smallest" reservoir of
        size ``k``, smallest keys first. Only these need a payload (e.g. a thumbnail)."""
        threshold = reservoir[-1][0] if len(reservoir) >= k else np.inf  # the reservoir is sorted
        keys = [self.sample_key(split, int(i)) for i in sample_ids]
        return sorted((key, j) for j, key in enumerate(keys) if key < threshold)[:k]


def _skipping_unreadable(update: Callable) -> Callable:
    @functools.wraps(update)
    def wrapper(self: "FeatureExtractor", batch: Any, split: str) -> None:
        if getattr(batch, "unreadable", False) and not self.reads_unreadable:
            return None
        return update(self, batch, split)

    return wrapper


def _reduce(reduce: str, cap: Optional[int], a: Any, b: Any) -> Any:
    if reduce in ("sum", "windows"):
        return a + b
    if reduce == "min":
        return np.minimum(a, b)
    if reduce == "max":
        return np.maximum(a, b)
    if reduce == "cat":
        return (list(a) + list(b))[:cap]
    if reduce == "counter":
        return merge_counter(a, b.items(), cap)
    return keep_smallest(a, b, cap)


def merge_counter(counter: Dict[Any, int], items: Iterable[Tuple[Any, int]], cap: int) -> Dict[Any, int]:
    """Add counts into ``counter`` keeping at most ``cap`` keys; the others are counted under "other".

    The keys kept are the ``cap`` keys with the smallest stable hash among all keys ever
    seen (a bottom-k sketch), so the result does not depend on the order of the data nor
    on how producers' counters are merged: a key that is dropped once has a larger hash
    than ``cap`` keys already seen and could never be kept later.
    """
    out = dict(counter)
    for key, n in items:
        out[key] = out.get(key, 0) + int(n)
    keys = [k for k in out if k != "other"]
    if len(keys) > cap:
        for key in sorted(keys, key=_stable_hash)[cap:]:
            out["other"] = out.get("other", 0) + out.pop(key)
    return out


@functools.lru_cache(maxsize=65536)
def _stable_hash(key: Any) -> bytes:
    return hashlib.blake2b(repr(key).encode(), digest_size=8).digest()


def keep_smallest(a: Iterable[Tuple[float, Any]], b: Iterable[Tuple[float, Any]], cap: int) -> list:
    """The ``cap`` entries with the smallest keys of both lists, sorted by key."""
    return heapq.nsmallest(cap, list(a) + list(b), key=lambda kv: kv[0])


def _hash_unit(seed: int, split: str, sample_id: int) -> float:
    # splitmix64 over (seed, split, id): cheap, stable across processes (no hash()).
    split_code = sum(ord(c) << (8 * (i % 7)) for i, c in enumerate(split))
    x = (int(seed) * 0x9E3779B97F4A7C15 + int(sample_id) + split_code * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    return x / 2.0**64


Factory = Callable[[AnalysisContext], FeatureExtractor]
