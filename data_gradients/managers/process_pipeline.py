"""Analysing canonical batches in forked worker processes, free of the GIL.

Worker threads (:mod:`pipeline`) scale only as far as the features' heavy calls release the
GIL: measured with py-spy, the analysis thread holds it ~13 % of the time on 720p
segmentation but ~40 % on detection and more on classification (many small numpy calls
and per-image Python work), so two threads barely beat one there. Here each producer lives
in a process of its own, forked when the first batch arrives, so it inherits the
extractors, the registry and the settings without pickling or importing anything again.

The calling process keeps everything it does with threads (the loader, the resolver, the
sample ids, the exports, Ctrl-C), and it is a producer too: with ``workers`` producers, ``workers - 1``
processes are forked and the first producer stays in the caller. Per batch the caller writes the
batch's arrays into one of a few shared-memory slots (pickle protocol 5: the arrays travel out of
band, one memcpy) and sends the rest through a pipe; the worker reads the arrays in place. When every
slot is in flight (the workers are behind), the caller analyses the batch itself instead of waiting:
so ``workers`` processes analyse on ``workers`` cores, the caller's share adjusts itself to what its
reading leaves it, and a batch the caller analyses is neither copied nor pickled (measured in
``bench/bench_analysis.py``: on two cores a caller that only fed two workers was a third process
competing for them). The slots (``max(children + QUEUED_BATCHES, 2 * children)``: each worker keeps
one batch in hand and one waiting while the caller analyses one) bound the batches in flight, as the
threads' queue does. At the end every worker sends back its producer (the extractor states) and the
caller merges them as it merges threads' producers. A batch larger than a slot travels through the
pipe instead.

An extractor may keep a reference to an array of a batch (our own copy what they keep, but
a user's may not; the sample ids are a likely one). The slot would then be written again
under it, so the worker checks, by weak references to the slot's buffers, that nothing of
the batch outlived its update; if something did, that slot is never written again (and when
no slot is left, batches travel through the pipe). Correct whatever the extractors do.
"""
from __future__ import annotations

import gc
import io
import mmap
import os
import pickle
import signal
import sys
import weakref
from multiprocessing.connection import wait
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from data_gradients.managers.memory import HeapTrimmer
from data_gradients.managers.pipeline import analyse_here, ctrl_c_after_the_batch
from data_gradients.managers.producer import Producer

QUEUED_BATCHES = 2
MIN_SLOT_BYTES = 64 << 20
SLOT_HEADROOM = 4  # a slot holds 4x the first batch: later batches may be larger (other image sizes)
ALIGN = 64
POLL_S = 1.0


def processes_available() -> bool:
    """Forked workers need Linux (fork is unsafe on macOS and absent on Windows)."""
    import multiprocessing

    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def can_send_back(producer: Producer) -> bool:
    """A worker process sends its producer back pickled: extractors of classes pickle cannot find
    by name (e.g. defined inside a function) stay in threads."""
    try:
        pickle.dumps(producer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - any reason pickling fails means the same
        return False
    return True


class WorkerProcessError(RuntimeError):
    """A worker process failed outside a feature (a feature's own error is recorded by its producer)."""


class ProcessPipeline:
    """Same interface as :class:`pipeline.Pipeline`: ``submit(batch, split, on_done)``,
    ``drain()``, ``close()``; ``on_done(n)`` is called in the calling thread with the batch's
    number of samples once it was analysed. ``producers[0]`` analyses in the calling process, each
    other one in a forked worker; after ``close()``, ``producers`` holds the workers' producers sent
    back, ready to merge. ``on_start()`` is called once the workers are forked."""

    #: batches alive at once in the calling process's heap: the one read (the workers' are in the shared slots)
    batches_in_flight = 1

    def __init__(self, producers: List[Producer], on_start: Optional[Callable[[], None]] = None):
        import multiprocessing

        self.producers, self._on_start = producers, on_start
        self._ctx = multiprocessing.get_context("fork")
        children = len(producers) - 1
        self._capacity = max(children + QUEUED_BATCHES, 2 * children)
        self._seq = 0
        self._children: list = []
        self._readers: list = []  # one result pipe per worker: no lock between them
        self._slots: List[mmap.mmap] = []
        self._free: List[int] = []
        self._pending: Dict[int, Tuple[Optional[int], Callable[[int], None], int]] = {}
        self._received: Dict[int, Producer] = {}
        self._lost: set = set()  # workers that failed or died: nothing more comes from them
        self._error: Optional[BaseException] = None

    # ------------------------------------------------------------------ caller side
    def submit(self, batch: Any, split: str, on_done: Callable[[int], None]) -> None:
        self._raise_error()
        if self._children:
            self._poll(timeout=0)  # the slots the workers have finished with
            self._raise_error()
        if self._children and len(self._pending) >= self._capacity:  # the workers are behind: analyse it here
            seq, self._seq = self._seq, self._seq + 1
            analyse_here(self.producers[0], batch, split, seq, on_done)
            return
        buffers: list = []
        meta = dump_batch(batch, buffers.append)
        raws = [b.raw() for b in buffers]
        spans, size = [], 0
        for raw in raws:
            spans.append((size, raw.nbytes))
            size += -(-raw.nbytes // ALIGN) * ALIGN
        if not self._children:
            self._start(size)
        slot = self._free.pop() if self._free else None  # none free: every other slot was kept by an extractor
        if slot is not None and size <= len(self._slots[slot]):
            view = memoryview(self._slots[slot])
            for (offset, n), raw in zip(spans, raws):
                view[offset:offset + n] = raw
            view.release()
            message = (self._seq, split, slot, meta, spans)
        else:  # through the pipe
            message = (self._seq, split, slot, dump_batch(batch), None)
        self._pending[self._seq] = (slot, on_done, len(batch))
        self._seq += 1
        self._tasks.put(message)

    def drain(self) -> None:
        """Wait until every submitted batch is analysed; meanwhile the calling process takes the batches
        no worker has started yet and analyses them itself (so the end of a split does not wait for the
        workers' queue with one core idle)."""
        while self._pending and self._error is None:
            if not self._take_back():
                self._poll()
        self._raise_error()

    def close(self) -> None:
        """Let the workers finish what was submitted, take back their producers, stop them."""
        if not self._children:
            return
        try:
            for _ in self._children:
                self._tasks.put(None)
            while len(self._received) + len(self._lost) < len(self._children):
                self._poll()  # after a failure, the others' producers still make the partial report
            for index, producer in self._received.items():
                self.producers[index + 1] = producer  # worker k holds producer k + 1
        finally:
            for child in self._children:
                child.join(timeout=5.0)
                if child.is_alive():
                    child.terminate()
                    child.join(timeout=5.0)
            self._children = []
            for reader in self._readers:
                reader.close()
            for slot in self._slots:
                try:
                    slot.close()
                except BufferError:  # an extractor here kept an array of it: it is freed with that array
                    pass
        self._raise_error()

    # ------------------------------------------------------------------ internals
    def _start(self, first_batch_bytes: int) -> None:
        slot_bytes = max(MIN_SLOT_BYTES, SLOT_HEADROOM * first_batch_bytes)
        slot_bytes = -(-slot_bytes // mmap.PAGESIZE) * mmap.PAGESIZE
        self._slots = [mmap.mmap(-1, slot_bytes) for _ in range(self._capacity)]  # shared, anonymous: seen by forks
        self._free = list(range(self._capacity))
        self._tasks = TaskPipe(self._ctx)
        writers = []
        for _ in self.producers[1:]:
            reader, writer = self._ctx.Pipe(duplex=False)
            self._readers.append(reader)
            writers.append(writer)
        # The objects alive now are set aside from the collector of the children: its passes would write
        # to every object's header and so copy the pages the children share with this process.
        gc.freeze()
        try:
            for index, producer in enumerate(self.producers[1:]):
                child = self._ctx.Process(target=_work, args=(index, producer, self._tasks, writers[index], self._slots),
                                          name=f"data_gradients-worker-{index + 1}", daemon=True)
                child.start()
                self._children.append(child)
        finally:
            gc.unfreeze()
        for writer in writers:
            writer.close()  # the children hold the write ends
        if self._on_start is not None:
            self._on_start()

    def _take_back(self) -> bool:
        """Analyse here a batch waiting for a worker, if there is one (False: none waits, or a worker is taking it)."""
        message = self._tasks.take()
        if message is None:
            return False
        with ctrl_c_after_the_batch():
            seq, kept = analyse_message(self.producers[0], message, self._slots)
            slot, on_done, n = self._pending.pop(seq)
            if slot is not None and not kept:
                self._free.append(slot)
            on_done(n)
        return True

    def _poll(self, timeout: float = POLL_S) -> None:
        """Handle the workers' news, waiting up to ``timeout`` s for some; notice a worker that died."""
        live = [i for i in range(len(self._children)) if i not in self._received and i not in self._lost]
        readers = {self._readers[i]: i for i in live}
        sentinels = {self._children[i].sentinel: i for i in live}
        ready = wait(list(readers) + list(sentinels), timeout=timeout)
        ended = {sentinels[s] for s in ready if s in sentinels}
        for reader in (r for r in ready if r in readers):
            try:
                while reader.poll():
                    self._handle(readers[reader], reader.recv())
            except EOFError:  # the worker has closed its end: it has exited, or is exiting
                ended.add(readers[reader])
        for index in sorted(ended):
            if index not in self._received and index not in self._lost:  # it ended without sending its producer
                self._children[index].join(timeout=POLL_S)
                self._lost.add(index)
                code = self._children[index].exitcode
                if self._error is None:
                    self._error = WorkerProcessError(
                        f"data_gradients worker process {index + 1} exited unexpectedly (exit code {code}"
                        f"{', killed by the system, often for lack of memory' if code == -9 else ''})")

    def _handle(self, index: int, message) -> None:
        kind, value = message[0], message[1:]
        if kind == "done":
            slot, on_done, n = self._pending.pop(value[0])
            if slot is not None and not value[1]:  # value[1]: an extractor kept an array of the slot
                self._free.append(slot)
            on_done(n)
        elif kind == "state":
            self._received[index] = receive_state(self._readers[index], *value)
        else:  # "error": the worker stops
            self._lost.add(index)
            if self._error is None:
                self._error = WorkerProcessError(f"a data_gradients worker process failed: {value[0]}")

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def _work(index: int, producer: Producer, tasks, writer, slots: List[mmap.mmap]) -> None:
    """A worker process: analyse batches until told to stop, then send the producer back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's: it stops reading, we finish
    torch = sys.modules.get("torch")
    if torch is not None:  # one thread per worker; and an OpenMP pool inherited by fork must never be entered
        torch.set_num_threads(1)
    code = 0
    trimmer = HeapTrimmer()  # as in the reading thread: freed heap pages go back to the system
    try:
        while True:
            message = tasks.get()
            if message is None:
                break
            seq, kept = analyse_message(producer, message, slots)
            writer.send_bytes(pickle.dumps(("done", seq, kept), protocol=pickle.HIGHEST_PROTOCOL))
            spans = message[4]  # the batch's arrays in its slot, or None when it came pickled whole
            trimmer.tick(sum(size for _, size in spans) if spans else len(message[3]))
        send_state(writer, producer)
    except BaseException as e:  # noqa: BLE001 - reported to the caller, which raises it
        code = 1
        try:
            writer.send_bytes(pickle.dumps(("error", f"{type(e).__name__}: {e}")))
        except BaseException:  # noqa: BLE001 - the caller then sees the exit code
            pass
    finally:
        os._exit(code)  # no atexit handlers or finalizers of the caller's objects run here


def send_state(writer, producer: Producer) -> None:
    """Send a worker's producer to the caller: its arrays out of band (pickle protocol 5), each as a message
    of its own after a header with the rest and their sizes; :func:`receive_state` reads each into a buffer of
    its size, on which the arrays are rebuilt without a copy. Pickled whole, the producer's bytes came
    through ``Connection.recv`` in a growing buffer, then a copy of it, then the objects: ~3x the state
    at once (measured: detection's state is 19 MB, its sample pictures; the caller's resident size
    rose by 55 MB while it came back)."""
    buffers: list = []
    meta = pickle.dumps(producer, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    writer.send_bytes(pickle.dumps(("state", meta, [r.nbytes for r in raws]), protocol=pickle.HIGHEST_PROTOCOL))
    for raw in raws:
        writer.send_bytes(raw)


def receive_state(reader, meta: bytes, sizes: List[int]) -> Producer:
    """The producer :func:`send_state` sent, its arrays resting on buffers read straight from the pipe."""
    buffers = []
    for size in sizes:
        buffer = bytearray(size)
        if size:
            reader.recv_bytes_into(buffer)
        else:
            reader.recv_bytes()
        buffers.append(buffer)
    return pickle.loads(meta, buffers=buffers)


class TaskPipe:
    """The batches for the workers: one pipe every worker reads from under a lock (as a
    ``multiprocessing.SimpleQueue``), which the calling process can also take a waiting message from
    without blocking (:meth:`take`). Only the calling process writes to it."""

    def __init__(self, ctx):
        self._reader, self._writer = ctx.Pipe(duplex=False)
        self._lock = ctx.Lock()

    def put(self, message: Any) -> None:
        self._writer.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def get(self) -> Any:
        """The next message, waiting for it (a worker; an idle worker waits holding the lock)."""
        with self._lock:
            data = self._reader.recv_bytes()
        return pickle.loads(data)

    def take(self) -> Any:
        """A message that is waiting, or None at once: none waits, or a worker holds the lock (an idle
        worker waiting for the next message, which it will take itself)."""
        if not self._lock.acquire(block=False):
            return None
        try:
            return pickle.loads(self._reader.recv_bytes()) if self._reader.poll() else None
        finally:
            self._lock.release()


class _BatchPickler(pickle.Pickler):
    """Pickles a read-only array over writable memory as a writable one marked read-only again on
    loading. Pickled as it is, the worker's copy would rest on a read-only view of the slot (protocol 5
    keeps the flag on the buffer itself), so no view of it could be made writeable, as the image hash
    needs for ``torch._int_mm``: it copied every batch's pixels instead (measured: the duplicates feature
    took 6 ms per 720p batch in a worker against 2.3 in the caller)."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not np.ndarray or obj.flags.writeable or obj.dtype.hasobject:
            return NotImplemented
        view = obj.view()
        try:
            view.flags.writeable = True
        except ValueError:  # read-only at its source: it stays so
            return NotImplemented
        return _read_only, (view,)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def dump_batch(batch: Any, buffer_callback: Optional[Callable[[Any], Any]] = None) -> bytes:
    """``batch`` pickled with protocol 5 (its arrays out of band when ``buffer_callback`` is given); a
    read-only array of it loads read-only, on memory a view of it can be made writeable for."""
    out = io.BytesIO()
    _BatchPickler(out, protocol=5, buffer_callback=buffer_callback).dump(batch)
    return out.getvalue()


def analyse_message(producer: Producer, message: tuple, slots: List[mmap.mmap]) -> Tuple[int, bool]:
    """Feed the batch of a task message to ``producer``: ``(its sequence number, whether an array of its
    slot outlived the update)``. The arrays are read in place from the slot (or the batch came whole
    through the pipe)."""
    seq, split, slot, meta, spans = message
    if spans is None:
        producer.update(pickle.loads(meta), split, seq)
        return seq, False
    view = memoryview(slots[slot])
    batch = pickle.loads(meta, buffers=[view[offset:offset + n] for offset, n in spans])
    bases = _slot_bases(batch, slots[slot])
    refs = [weakref.ref(b) for b in bases]
    unaccounted = len(bases) < len(spans)  # a buffer held by something other than an array found
    del bases
    producer.update(batch, split, seq)
    del batch
    return seq, unaccounted or _outlived(refs)


def _slot_bases(obj: Any, slot: mmap.mmap, depth: int = 0, found: Optional[dict] = None) -> list:
    """The memoryviews of ``slot`` that the arrays of a batch rest on (the last ``base`` of each
    array: every view of an array, whatever an extractor makes of it, keeps that one alive)."""
    found = {} if found is None else found
    if isinstance(obj, np.ndarray):
        base = obj
        while isinstance(base, np.ndarray):
            base = base.base
        if isinstance(base, memoryview) and base.obj is slot:
            found[id(base)] = base
    elif depth < 4:
        children = (obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple))
                    else vars(obj).values() if hasattr(obj, "__dict__") else ())
        for child in children:
            _slot_bases(child, slot, depth + 1, found)
    return list(found.values())


def _outlived(refs: list) -> bool:
    """Whether a buffer of the slot is still referenced after the batch was dropped (an array of it,
    or a view of one, kept by an extractor). A reference cycle through the batch would hold it until collected: one
    collection before concluding."""
    if not any(r() is not None for r in refs):
        return False
    gc.collect()
    return any(r() is not None for r in refs)
