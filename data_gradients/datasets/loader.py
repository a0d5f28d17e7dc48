"""DataLoaders over the readers: decoding in worker processes, an optional seeded random subset."""
from __future__ import annotations

import os
from typing import Any, Iterator, List, Optional

import numpy as np
from torch.utils.data import DataLoader, Dataset, Sampler

from data_gradients.datasets.base import collate_classification, collate_list
from data_gradients.errors import ConfigurationError


def default_loader_workers() -> int:
    """Decoding processes: the cores this process may use, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


class SeededSubset(Sampler):
    """``size`` indices of ``range(total)`` drawn uniformly at random without replacement with ``seed``,
    read in increasing order (the same subset for the same seed, whatever the machine)."""

    def __init__(self, total: int, size: int, seed: int = 0):
        self.total, self.seed = int(total), int(seed)
        self.size = min(int(size), self.total)
        rng = np.random.default_rng(self.seed)
        self.indices: List[int] = sorted(rng.choice(self.total, size=self.size, replace=False).tolist())

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return self.size

    @property
    def fraction(self) -> float:
        return self.size / self.total if self.total else 1.0

    def describe(self) -> str:
        return (f"{self.size} of {self.total} samples ({100 * self.fraction:.2f} %), drawn uniformly at random "
                f"with seed {self.seed}")


def make_loader(dataset: Dataset, *, batch_size: int = 16, workers: Optional[int] = None,
                max_samples: Optional[int] = None, seed: int = 0) -> DataLoader:
    """A DataLoader over a reader: its collate function, ``workers`` decoding processes (default
    :func:`default_loader_workers`; 0 = decode in this process) and, with ``max_samples``, a
    :class:`SeededSubset` of the dataset (sample ids stay dataset indices)."""
    if max_samples is not None and (isinstance(max_samples, bool) or not isinstance(max_samples, int)
                                    or max_samples < 1):
        raise ConfigurationError(f"`max_samples` must be a positive int, got {max_samples!r}")
    workers = default_loader_workers() if workers is None else workers
    task = getattr(dataset, "task", "")
    collate = collate_classification if task == "classification" else collate_list
    sampler: Any = None
    if max_samples is not None and max_samples < len(dataset):
        sampler = SeededSubset(len(dataset), max_samples, seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, sampler=sampler, num_workers=workers,
                      collate_fn=collate, persistent_workers=False,
                      prefetch_factor=4 if workers > 0 else None)
