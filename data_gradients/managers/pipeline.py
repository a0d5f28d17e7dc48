"""Feeding canonical batches to producers: inline, or concurrently in worker threads.

The calling thread iterates the loader, extracts and builds the canonical batches (so
the dict resolver asks there, sample ids follow the stream, and Ctrl-C lands there);
with ``workers > 1`` it hands each canonical batch to a bounded queue that ``workers``
threads drain, each into its own :class:`Producer`. At the end the producers are merged.

Why threads and not processes: the heavy per-batch work is in OpenCV and numpy calls
that release the GIL, and a canonical batch is passed by reference, with no copy and
no pickling (a batch of eight 1280x720 images and masks is ~50 MB). Measured numbers are
in ``bench/bench_analysis.py``'s output.

Memory stays bounded: at most :data:`QUEUED_BATCHES` batches wait in the queue, plus one in
each worker's hands (a 1280x720 batch of eight is ~60 MB, so the queue is kept short: the
calling thread builds batches much faster than a worker analyses one, two in the queue
keep every worker busy).

A worker thread takes the calling thread's number of torch threads (``torch.set_num_threads``
with the value it already has). Otherwise torch's BLAS calls in a new thread run with OpenMP's
default of one thread per core: measured, the image hash's float32 products in a worker thread
took 30.7 ms of CPU for 16.1 ms of wall time with torch set to one thread, two worker threads on
two cores fought over them, and 720p segmentation with two worker threads was slower than one
thread (10.2 against 8.7 ms per image).
"""
from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Optional

from data_gradients.managers.producer import Producer

_STOP = object()
MAX_DEFAULT_WORKERS = 8
QUEUED_BATCHES = 2


class Pipeline:
    """Runs ``producer.update(batch, split, seq)`` for every submitted batch.

    ``submit(batch, split, on_done)`` calls ``on_done(n)``, ``n`` the batch's number of samples,
    after the batch was analysed (from a worker thread when ``workers > 1``). ``drain()`` waits until every
    submitted batch is analysed. ``close()`` stops the workers and re-raises the first
    unexpected error of a worker thread (an extractor's own error never gets here: the
    producer records it).
    """

    def __init__(self, producers: List[Producer], on_start: Optional[Callable[[], None]] = None):
        self.producers = producers
        self._on_start = on_start  # called at the first batch submitted
        self._seq = 0
        self._threads: List[threading.Thread] = []
        self._error: Optional[BaseException] = None
        torch = sys.modules.get("torch")
        self._torch_threads = torch.get_num_threads() if torch is not None else None
        if len(producers) > 1:
            self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=min(len(producers), QUEUED_BATCHES))
            for i, producer in enumerate(producers):
                t = threading.Thread(target=self._work, args=(producer,), name=f"data_gradients-worker-{i}",
                                     daemon=True)
                t.start()
                self._threads.append(t)

    @property
    def batches_in_flight(self) -> int:
        """Batches alive at once in this process: one per worker thread and the queue's, besides the one read."""
        return 1 + (len(self._threads) + self._queue.maxsize if self._threads else 0)

    def submit(self, batch: Any, split: str, on_done: Callable[[int], None]) -> None:
        if self._on_start is not None:
            start, self._on_start = self._on_start, None
            start()
        seq, self._seq = self._seq, self._seq + 1
        if not self._threads:
            analyse_here(self.producers[0], batch, split, seq, on_done)
            return
        self._raise_worker_error()
        self._queue.put((batch, split, seq, on_done))

    def drain(self) -> None:
        if self._threads:
            self._queue.join()
            self._raise_worker_error()

    def close(self) -> None:
        """Let the workers finish what is queued, then stop them."""
        for _ in self._threads:
            self._queue.put(_STOP)
        for t in self._threads:
            t.join()
        self._threads = []
        self._raise_worker_error()

    # ----------------------------------------------------------------- workers
    def _work(self, producer: Producer) -> None:
        if self._torch_threads is not None:  # the calling thread's value (module docstring)
            sys.modules["torch"].set_num_threads(self._torch_threads)
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if self._error is None:  # after an unexpected error, only drain the queue
                    batch, split, seq, on_done = item
                    producer.update(batch, split, seq)
                    on_done(len(batch))
            except BaseException as e:  # noqa: BLE001 - handed to the calling thread
                if self._error is None:
                    self._error = e
            finally:
                self._queue.task_done()

    def _raise_worker_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"a data_gradients worker thread failed: {error!r}") from error


class InterruptedAfterBatch(KeyboardInterrupt):
    """Ctrl-C, raised once the batch in hand was analysed whole (so the reader counts it)."""


@contextmanager
def ctrl_c_after_the_batch() -> Iterator[None]:
    """Analysing a batch in the calling thread, a Ctrl-C lands when the batch is done, not inside an
    extractor: so every extractor's state holds whole batches, which the partial report is computed
    from (an extractor stopped halfway could hold a count without its sum). A batch takes well under
    a second. Only in the main thread, and only where Python's own Ctrl-C handler is in place (a
    handler of the user's is left alone)."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught: list = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise InterruptedAfterBatch


def analyse_here(producer: Producer, batch: Any, split: str, seq: int, on_done: Callable[[int], None]) -> None:
    """Analyse a batch in the calling thread and report it done; a Ctrl-C meanwhile lands after both."""
    with ctrl_c_after_the_batch():
        producer.update(batch, split, seq)
        on_done(len(batch))


@contextmanager
def run_pipeline(producers: List[Producer], processes: bool = False,
                 on_start: Optional[Callable[[], None]] = None) -> Iterator[Pipeline]:
    """A pipeline whose workers are always stopped, on success, error or Ctrl-C: worker threads,
    or with ``processes`` (and more than one producer) forked worker processes
    (:mod:`process_pipeline`), unless an extractor could not travel back from one (threads then).
    ``on_start()`` is called at the first batch submitted, worker processes forked by then: so is the first
    loader's own, which forks its workers when iterated (no fork may happen while a thread ``on_start``
    starts is inside an import: the child would wait forever for that module's lock)."""
    pipeline: Any = None
    if processes and len(producers) > 1:
        from data_gradients.managers.process_pipeline import ProcessPipeline, can_send_back

        if can_send_back(producers[0]):
            pipeline = ProcessPipeline(producers, on_start=on_start)
    if pipeline is None:
        pipeline = Pipeline(producers, on_start=on_start)
    try:
        yield pipeline
    finally:
        pipeline.close()


def use_processes() -> bool:
    """Worker processes where fork is available, unless ``DATA_GRADIENTS_WORKERS=threads``.

    Measured (``bench/bench_analysis.py``, this project's 2-core machine), ``workers=2`` over 1:
    segmentation 1.50x in processes, 1.63x in threads; detection 0.98x / 1.19x; classification
    1.03x / 0.97x. On two cores the copy of each batch into shared memory costs the calling process
    its share; but threads can never pass the GIL: the analysis holds it ~40 % of the time on
    detection (py-spy), so threads stay under ~2.5x on any number of cores, processes do not. Peak
    memory stays flatter too (one arena per process)."""
    from data_gradients.managers.process_pipeline import processes_available

    return os.environ.get("DATA_GRADIENTS_WORKERS", "processes") != "threads" and processes_available()


def default_workers(processes_on_this_machine: int = 1) -> int:
    """Cores this process may use (its CPU affinity) shared by the processes of a job on
    this machine (torchrun's LOCAL_WORLD_SIZE), at least 1 and at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores // max(processes_on_this_machine, 1), MAX_DEFAULT_WORKERS))


@contextmanager
def single_threaded_opencv(enabled: bool) -> Iterator[None]:
    """With several workers, OpenCV's own thread pool would oversubscribe the cores: use one
    OpenCV thread per worker for the run, then restore the caller's setting."""
    if not enabled:
        yield
        return
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)
