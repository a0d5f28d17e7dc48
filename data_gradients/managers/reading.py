"""Reading one split: loader batches -> raw (images, labels) -> canonical batches with ids -> pipeline.

All of it runs in the calling thread: the dict resolver asks there, sample ids follow the
stream, Ctrl-C lands there. Errors say which split and batch they come from:

- the user's loader (or extractor callable) raising becomes a :class:`DataLoaderError`
  naming split, batch and samples read, with the original exception chained;
- our own errors (an unusable batch) keep their type and gain the split and batch;
- another rank of a distributed job that stopped ends the reading with :class:`StoppedElsewhere`.
"""
from __future__ import annotations

import threading
from typing import Any, Iterable, Optional, Set

from data_gradients.batch.select import select_samples
from data_gradients.errors import DataGradientsError, DataLoaderError
from data_gradients.managers.coalescing import Coalescer
from data_gradients.managers.memory import HeapTrimmer
from data_gradients.managers.pipeline import InterruptedAfterBatch, Pipeline
from data_gradients.managers.progress import estimated_total, open_progress_bar, total_samples
from data_gradients.managers.sample_ids import KIND_INDICES, SampleIds
from data_gradients.reports.report import SplitSummary


class StoppedElsewhere(Exception):
    """Another rank stopped reading (an error or Ctrl-C): this rank stops too."""


class SplitReader:
    """Reads splits for one run; see the module docstring."""

    def __init__(self, splitter: Any, builder: Any, *, max_batches: Optional[int], progress: bool,
                 cluster: Any = None, exporter: Any = None):
        self.splitter, self.builder = splitter, builder
        self.max_batches, self.progress, self.cluster = max_batches, progress, cluster
        self.exporter = exporter  # export.session.RunExports: writes the samples export= selects
        self._bars: list = []  # progress bars of the splits read, open until their batches are analysed

    def read(self, split: str, data: Iterable, pipeline: Pipeline, summary: SplitSummary, notes: Set[str],
             *, drain: bool = True) -> None:
        """Read one split into ``pipeline``. With ``drain=False`` its last batches may still be in analysis
        when this returns, so that the next split's reading overlaps them (waiting at each split's end
        left a core idle: ~50 ms per split boundary at 720p, ``workers=2``); its progress bar then stays open
        until :meth:`drain`."""
        desc = f"Analysing {split}" + (f" (rank 0's shard of {self.cluster.world})" if self.cluster else "")
        bar = open_progress_bar(total=total_samples(data, self.max_batches), desc=desc, enabled=self.progress)
        self._bars.append(bar)
        lock = threading.Lock()

        def done(n: int) -> None:  # may run in a worker thread
            with lock:
                bar.update(n)

        # small batches go to the pipeline joined (see coalescing.py); what is pending is analysed before
        # an error or Ctrl-C goes on, so that the samples counted as read are the samples analysed
        coalescer = Coalescer(lambda joined: pipeline.submit(joined, split, done))
        try:
            self._read_batches(split, data, coalescer, summary, notes, bar, lock,
                               in_flight=pipeline.batches_in_flight)
            coalescer.flush()
        except BaseException:
            _flush_before_raising(coalescer, summary)
            self.close_bars()
            raise
        if drain:
            self.drain(pipeline)

    def drain(self, pipeline: Pipeline) -> None:
        """Wait until every batch read is analysed, then close the splits' progress bars."""
        try:
            pipeline.drain()
        finally:
            self.close_bars()

    def close_bars(self) -> None:
        for bar in self._bars:
            bar.close()
        self._bars = []

    def _read_batches(self, split: str, data: Iterable, coalescer: Coalescer, summary: SplitSummary,
                      notes: Set[str], bar: Any, lock: threading.Lock, in_flight: int = 1) -> None:
        rank = self.cluster.rank if self.cluster is not None else 0
        ids_source = SampleIds(data, rank=rank, distributed=self.cluster is not None)
        batches = iter(ids_source)
        position = 0  # samples of the stream so far, padding included
        trimmer = HeapTrimmer(in_flight=in_flight)  # worker threads' batches share this process's heap
        index = 0
        while True:
            if self.max_batches is not None and index >= self.max_batches:
                summary.complete = False
                break
            if self.cluster is not None:
                elsewhere = self.cluster.stopped_elsewhere()
                if elsewhere is not None:
                    raise StoppedElsewhere(elsewhere)
            try:
                batch, ids, padding = next(batches)
            except StopIteration:
                break
            except Exception as e:
                raise DataLoaderError(f"the {split} loader raised at batch {index} (after {summary.samples} "
                                      f"samples): {type(e).__name__}: {e}") from e
            built = self._build(split, index, batch, position)
            n = sum(len(c) for c in built)
            if ids is not None and len(ids) != n:
                notes.add(f"{split}: a batch held {n} samples but the loader's sampler drew {len(ids)} indices; "
                          "such batches are numbered by stream position")
                ids = padding = None
            for canonical in built:
                pos = canonical.sample_ids - position  # 0..n-1 within this loader batch
                canonical.sample_ids = (ids if ids is not None else ids_source.position_ids(position, n))[pos]
                canonical.stream_positions = position + pos
                if self.cluster is not None:  # the ranks' streams interleaved, as a DistributedSampler deals them
                    canonical.stream_positions = canonical.stream_positions * self.cluster.world + self.cluster.rank
                if padding is not None and padding[pos].any():
                    canonical = select_samples(canonical, ~padding[pos])
                    if len(canonical) == 0:
                        continue
                if self.exporter is not None:
                    self.exporter.take(split, index, canonical, ids_source)
                try:
                    coalescer.add(canonical)  # analysed now, or later with the batches joined to it
                except InterruptedAfterBatch:  # Ctrl-C: this batch was analysed, or is on the way out (read())
                    summary.samples += len(canonical)
                    raise
                summary.samples += len(canonical)
            position += n
            summary.batches += 1
            index += 1
            # let go of this batch before the loader collates the next one (SampleIds does too; a joined batch
            # holds a copy): the allocator then reuses its memory for the next batch. Held over the collation,
            # every batch took new pages (720p segmentation: +21 MB of heap per batch, ~1 ms per image of faults)
            batch_bytes = sum(c.images.nbytes for c in built)
            batch = built = canonical = None
            trimmer.tick(batch_bytes)
            if bar.total is None and index == 1:
                with lock:
                    bar.total = estimated_total(data, summary.samples, self.max_batches)
                    bar.refresh()
        notes.add(_ids_note(split, ids_source.kind, self.cluster is not None))

    def _build(self, split: str, index: int, batch: Any, position: int) -> list:
        where = f"{split} batch {index}"
        try:
            images, labels = self.splitter(batch)
        except DataGradientsError as e:
            raise type(e)(f"{where}: {e}") from None
        except Exception as e:
            raise DataLoaderError(f"taking images and labels out of {where} raised {type(e).__name__}: {e}") from e
        try:
            return self.builder.build(images, labels, first_sample_id=position)
        except DataGradientsError as e:
            raise type(e)(f"{where}: {e}") from None


def _flush_before_raising(coalescer: Coalescer, summary: SplitSummary) -> None:
    """Analyse the batches still pending while an error (or Ctrl-C) is on its way out. Should that fail
    too (a second Ctrl-C, a broken pipeline), those samples are taken off the count: the error going
    out stays the first one."""
    pending = coalescer.pending_samples
    try:
        coalescer.flush()
    except InterruptedAfterBatch:  # the joined batch was analysed whole
        pass
    except BaseException:  # noqa: BLE001 - the first error goes on
        summary.samples -= pending


def _ids_note(split: str, kind: str, distributed: bool) -> str:
    if kind == KIND_INDICES:
        return f"sample ids of {split} are dataset indices, taken from the DataLoader's sampler"
    if distributed:
        return f"sample ids of {split} are positions in each rank's stream, written rank:position"
    return f"sample ids of {split} are positions in the loader's stream (0 = its first sample)"

