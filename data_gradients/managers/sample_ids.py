"""Which samples a loader batch holds: dataset indices when the loader can tell, else stream positions.

A ``torch.utils.data.DataLoader`` over a map-style dataset draws dataset indices from its
(batch) sampler. While the analysis iterates it, the sampler the loader's iterator draws
from is wrapped so that the indices of every batch are recorded as they are drawn; batches
come back in the order of their indices (``in_order``), so the oldest recorded indices are
those of the batch just received. Sample ids are then dataset indices, whatever the
shuffling or the sharding, and the same in one process or in many.

Under a ``DistributedSampler`` that pads the shards to equal length (``drop_last=False``),
the last samples of some ranks repeat samples of other ranks: they are marked as padding,
and left out of the statistics.

Any other iterable (a generator, a list of batches, an ``IterableDataset``) gives ids that
are positions in its stream: 0, 1, 2, ... in one process; on a torch.distributed rank, ids
that every output writes as ``rank:position`` (see :mod:`data_gradients.sample_id`).
"""
from __future__ import annotations

import collections
from typing import Any, Deque, Iterator, List, Optional, Tuple

import numpy as np

from data_gradients.sample_id import rank_position_id

KIND_INDICES = "dataset indices"
KIND_POSITIONS = "positions in the stream"


class _Recorder:
    """Iterates a sampler, keeping each drawn index (or list of indices) until it is claimed."""

    def __init__(self, sampler: Any):
        self.sampler = sampler
        self.drawn: Deque[Any] = collections.deque()

    def __iter__(self) -> Iterator[Any]:
        for item in self.sampler:
            self.drawn.append(item)
            yield item

    def __len__(self) -> int:
        return len(self.sampler)


def _recording_iterator(loader: Any) -> Optional[Tuple[Iterator[Any], _Recorder]]:
    """An iterator over ``loader`` whose batches' dataset indices are recorded, or None when the
    loader is not a DataLoader over a map-style dataset yielding batches in order."""
    try:
        from torch.utils.data import DataLoader, IterableDataset
    except ImportError:  # pragma: no cover - torch is a dependency
        return None
    if not isinstance(loader, DataLoader) or isinstance(loader.dataset, IterableDataset):
        return None
    if getattr(loader, "in_order", True) is False or getattr(loader, "_iterator", None) is not None:
        return None  # out-of-order batches, or a persistent iterator created before us
    try:
        recorder = _Recorder(loader._index_sampler)
        cls = type(loader)
        # the loader's iterator reads ``_index_sampler`` once, when it is created
        loader.__class__ = type(cls.__name__, (cls,), {"_index_sampler": property(lambda self: recorder)})
        try:
            iterator = iter(loader)
        finally:
            loader.__class__ = cls
    except Exception:  # private torch API changed: fall back to positions
        return None
    return iterator, recorder


class SampleIds:
    """Yields ``(batch, ids, padding)`` for each batch of one split.

    ``ids`` is the int64 array of the batch's sample ids, or None when the stream position
    must be used (the manager then numbers samples after it has built the batch).
    ``padding`` is a bool array (True = a sample a DistributedSampler repeated), or None.
    """

    def __init__(self, data: Any, rank: int = 0, distributed: bool = False):
        self.data, self.rank, self.distributed = data, rank, distributed
        self.kind = KIND_POSITIONS

    def __iter__(self) -> Iterator[Tuple[Any, Optional[np.ndarray], Optional[np.ndarray]]]:
        recording = _recording_iterator(self.data)
        if recording is None:
            self.kind = KIND_POSITIONS
            iterator, recorder, padding_rule = iter(self.data), None, None
        else:
            self.kind = KIND_INDICES
            iterator, recorder = recording
            padding_rule = _padding_rule(self.data)
        position = 0
        for batch in iterator:
            ids = padding = None
            if recorder is not None:
                ids = np.atleast_1d(np.asarray(_as_list(recorder.drawn.popleft()), dtype=np.int64))
                padding = padding_rule(position, len(ids)) if padding_rule else None
                position += len(ids)
            # this frame lets go of the batch before the loader makes the next one, as the reader does: the
            # allocator can then reuse the batch's memory for the next instead of taking new pages each time
            item, batch = (batch, ids, padding), None
            yield item
            item = None

    def position_ids(self, first: int, n: int) -> np.ndarray:
        """Ids of ``n`` samples from stream position ``first`` on this rank."""
        ids = np.arange(first, first + n, dtype=np.int64)
        if self.distributed:
            ids += rank_position_id(self.rank, 0)
        return ids


def _as_list(drawn: Any) -> List[int]:
    if isinstance(drawn, (list, tuple)):
        return [int(i) for i in drawn]
    if hasattr(drawn, "tolist"):
        out = drawn.tolist()
        return out if isinstance(out, list) else [out]
    return [int(drawn)]


def _padding_rule(loader: Any):
    """For a DistributedSampler that pads: position k of this rank's stream is padding when
    ``rank + k * num_replicas >= len(dataset)`` (the sampler appends the repeats at the end)."""
    try:
        from torch.utils.data.distributed import DistributedSampler
    except ImportError:  # pragma: no cover
        return None
    sampler = getattr(loader, "sampler", None)
    if not isinstance(sampler, DistributedSampler) or sampler.drop_last:
        return None
    n, rank, replicas = len(sampler.dataset), sampler.rank, sampler.num_replicas
    if n % replicas == 0:
        return None

    def rule(first: int, count: int) -> np.ndarray:
        k = np.arange(first, first + count)
        return rank + k * replicas >= n

    return rule
