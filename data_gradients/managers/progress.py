"""Progress bar over samples, with a total when the loader tells its length."""
from __future__ import annotations

from typing import Any, Optional

from tqdm.auto import tqdm


def total_samples(data: Any, max_batches: Optional[int]) -> Optional[int]:
    """Number of samples the loader will yield, when it can tell (DataLoader-like)."""
    # a DataLoader's sampler knows this process's share (a DistributedSampler: one rank's shard)
    sized = getattr(data, "sampler", None) if hasattr(getattr(data, "sampler", None), "__len__") else None
    sized = sized if sized is not None else getattr(data, "dataset", None)
    try:
        total = len(sized) if sized is not None else None
    except TypeError:
        total = None
    batch_size = getattr(data, "batch_size", None)
    if total is not None and max_batches is not None and isinstance(batch_size, int):
        total = min(total, max_batches * batch_size)
    return total


def promised_samples(data: Any, max_batches: Optional[int]) -> Optional[int]:
    """Samples a DataLoader over a map-style dataset promises for the whole split (all ranks of a
    DistributedSampler together), capped by ``max_batches``; None for other iterables."""
    sampler = getattr(data, "sampler", None)
    dataset = getattr(data, "dataset", None)
    if sampler is None or dataset is None:
        return None
    try:
        from torch.utils.data import IterableDataset
        from torch.utils.data.distributed import DistributedSampler

        if isinstance(dataset, IterableDataset):
            return None
        total = len(dataset) if isinstance(sampler, DistributedSampler) else len(sampler)
    except (TypeError, ImportError):
        return None
    batch_size = getattr(data, "batch_size", None)
    if max_batches is not None and isinstance(batch_size, int):
        total = min(total, max_batches * batch_size)
    return int(total)


def estimated_total(data: Any, first_batch_samples: int, max_batches: Optional[int]) -> Optional[int]:
    """For a loader that knows its number of batches only (e.g. a list of batches):
    batches x the first batch's size, an estimate shown until the real count is known."""
    try:
        batches = len(data)
    except TypeError:
        return None
    if max_batches is not None:
        batches = min(batches, max_batches)
    return batches * first_batch_samples or None


def open_progress_bar(total: Optional[int], desc: str, enabled: bool) -> Any:
    """A progress bar over samples; the caller closes it."""
    return tqdm(total=total, desc=desc, unit="img", disable=not enabled, dynamic_ncols=True)
