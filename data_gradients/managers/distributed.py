"""A torch.distributed job as producers of one analysis: every rank reads its shard, rank 0 writes.

What crosses between ranks (and, under a multi-host job, the network):

- control messages through the job's key-value store (the one ``init_process_group``
  set up): the dict resolver's answer from rank 0, and "rank r failed / was interrupted";
- once, at the end, every rank's merged extractor state (fixed-size numpy arrays, a few
  hundred kB; see the README for sizes) and its counts, gathered to rank 0 over a gloo
  group made for the purpose (so an NCCL job needs no GPU for it); then rank 0's report,
  broadcast back, so that every rank's ``run()`` returns the same report.

Never batches, images or labels. Every wait is bounded by ``timeout``.
"""
from __future__ import annotations

import logging
import os
import pickle
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, List, Optional, TypeVar

from data_gradients.errors import ConfigurationError, DistributedError

logger = logging.getLogger("data_gradients")
T = TypeVar("T")
_RUNS = [0]  # runs started in this process: the same sequence on every rank keys the store


@dataclass
class Cluster:
    """This process's rank in the job, and the exchanges of one analysis run."""

    rank: int
    world: int
    timeout: float
    group: Any = None  # gloo group for the states
    store: Any = None  # the job's key-value store, when torch exposes it
    prefix: str = ""

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # ------------------------------------------------------------ setting up
    @classmethod
    def detect(cls, distributed: Optional[bool], timeout: float) -> Optional["Cluster"]:
        """The cluster to analyse with, or None for an independent run (see the managers' ``distributed``)."""
        if distributed is False:
            return None
        try:
            import torch.distributed as dist
            ready = dist.is_available() and dist.is_initialized()
        except ImportError:  # pragma: no cover - torch is a dependency
            ready = False
        if not ready:
            if distributed:
                raise ConfigurationError(
                    "`distributed=True` needs an initialised torch.distributed process group "
                    "(call torch.distributed.init_process_group first, e.g. under torchrun), but none is initialised"
                )
            return None
        world = dist.get_world_size()
        if world < 2 and distributed is None:
            return None
        return cls(rank=dist.get_rank(), world=world, timeout=timeout)

    def start(self) -> None:
        """Collective: every rank calls it at the start of ``run()``."""
        import torch.distributed as dist

        _RUNS[0] += 1
        self.prefix = f"data_gradients/run{_RUNS[0]}/"
        if self.group is None:
            self.group = dist.new_group(backend="gloo", timeout=timedelta(seconds=self.timeout))
        try:
            self.store = dist.distributed_c10d._get_default_store()
        except Exception:  # private API: without it, failures surface at the final gather
            self.store = None

    # ------------------------------------------------------- control messages
    def share(self, compute: Callable[[], T]) -> T:
        """Rank 0 runs ``compute()`` (e.g. asks the user); every rank gets its value, or its error."""
        key = self.prefix + "resolver"
        if self.is_main:
            try:
                outcome = ("ok", compute())
            except Exception as e:  # every rank raises the same error
                outcome = ("error", e)
            self._set(key, outcome)
        else:
            outcome = self._get(key, "the answer to the batch-structure question (asked on rank 0)")
        if outcome[0] == "error":
            raise outcome[1]
        return outcome[1]

    def announce_stop(self, message: str) -> None:
        """Tell the other ranks this rank stopped reading (error or Ctrl-C)."""
        self._set(self.prefix + f"stop/{self.rank}", message)

    def stopped_elsewhere(self) -> Optional[str]:
        """The message of another rank that stopped, if any (one key look-up per rank)."""
        if self.store is None:
            return None
        for r in range(self.world):
            key = self.prefix + f"stop/{r}"
            if r != self.rank and self.store.check([key]):
                return pickle.loads(self.store.get(key))
        return None

    # ---------------------------------------------------------------- states
    def gather(self, payload: Any) -> Optional[List[Any]]:
        """Every rank's ``payload`` on rank 0 (in rank order), None elsewhere."""
        import torch.distributed as dist

        out = [None] * self.world if self.is_main else None
        try:
            dist.gather_object(payload, out, dst=0, group=self.group)
        except Exception as e:
            raise DistributedError(f"rank {self.rank}: gathering the analysis states to rank 0 failed "
                                   f"(a rank did not arrive within timeout={self.timeout:g} s?): {e}") from e
        return out

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        import torch.distributed as dist

        box = [obj if self.is_main else None]
        try:
            dist.broadcast_object_list(box, src=0, group=self.group)
        except Exception as e:
            raise DistributedError(f"rank {self.rank}: receiving the report from rank 0 failed "
                                   f"within timeout={self.timeout:g} s: {e}") from e
        return box[0]

    # --------------------------------------------------------------- helpers
    def _set(self, key: str, value: Any) -> None:
        if self.store is not None:
            self.store.set(key, pickle.dumps(value))

    def _get(self, key: str, what: str) -> Any:
        if self.store is None:
            raise DistributedError(f"rank {self.rank}: cannot receive {what}: the job's key-value store is not "
                                   "reachable; pass `images_key=` and `labels_key=` on every rank instead")
        try:
            self.store.wait([key], timedelta(seconds=self.timeout))
        except Exception as e:
            raise DistributedError(f"rank {self.rank}: waited {self.timeout:g} s for {what}: {e}") from e
        return pickle.loads(self.store.get(key))


class SharedResolver:
    """The dict-batch resolver of a distributed run: rank 0 resolves (asks, or finds the stored
    answer, or refuses without a terminal) and every rank uses its answer, or raises its error."""

    def __init__(self, resolver: Any, cluster: Cluster):
        self.resolver, self.cluster = resolver, cluster

    def __call__(self, batch: Any, *, need_images: bool = True, need_labels: bool = True):
        def resolve():
            self.resolver(batch, need_images=need_images, need_labels=need_labels)
            return self.resolver.chosen

        return self.resolver._extractors(self.cluster.share(resolve))


def local_world_size() -> int:
    """Processes of the job on this machine (torchrun's LOCAL_WORLD_SIZE), 1 when unknown."""
    try:
        return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    except ValueError:
        return 1
