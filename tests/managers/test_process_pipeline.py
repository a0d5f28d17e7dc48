"""Forked worker processes: every batch analysed once, in bounded memory, failures reach the caller."""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading

import numpy as np
import pytest
from conftest import classification_raw_batches, detection_raw_batches, segmentation_raw_batches

from data_gradients import ClassificationAnalysisManager, DetectionAnalysisManager, SegmentationAnalysisManager
from data_gradients.managers import process_pipeline
from data_gradients.managers.process_pipeline import QUEUED_BATCHES, ProcessPipeline, WorkerProcessError
from data_gradients.managers.producer import Producer

TASKS = {
    "segmentation": (SegmentationAnalysisManager, segmentation_raw_batches, dict(ignore_labels=[255])),
    "detection": (DetectionAnalysisManager, detection_raw_batches, dict(bbox_format="xyxy", normalized_boxes=False)),
    "classification": (ClassificationAnalysisManager, classification_raw_batches, dict(multi_label=True)),
}
pytestmark = pytest.mark.skipif(not process_pipeline.processes_available(), reason="needs fork (Linux)")


class Summing(Producer):
    """Adds up what it sees; the arrays it was given are read in the worker process."""

    def __init__(self, gate=None):
        self.extractors, self.errors = {}, {}
        self.total, self.batches, self.splits, self.pids, self.gate = 0, 0, set(), set(), gate

    def update(self, batch, split, seq):
        if self.gate is not None:
            assert self.gate.wait(timeout=30)
        self.total += int(np.asarray(batch["pixels"], dtype=np.int64).sum()) + int(batch["labels"].sum())
        self.batches += 1
        self.splits.add(split)
        self.pids.add(os.getpid())

    def __getstate__(self):
        state = dict(self.__dict__)
        state["gate"] = None  # an Event does not travel back
        return state


class Batch(dict):
    def __len__(self):
        return len(self["labels"])


def batches(n, rng):
    for _ in range(n):
        yield Batch(pixels=rng.integers(0, 256, size=(4, 3, 40, 50), dtype=np.uint8),
                    labels=rng.integers(0, 10, size=4))


def expected_total(n, seed):
    return sum(int(b["pixels"].astype(np.int64).sum()) + int(b["labels"].sum()) for b in batches(n, np.random.default_rng(seed)))


class Keeping(Summing):
    """Keeps every batch's labels array, as an extractor may (e.g. sample ids): they must stay intact."""

    def update(self, batch, split, seq):
        super().update(batch, split, seq)
        self.kept = getattr(self, "kept", []) + [batch["labels"]]


def test_arrays_an_extractor_keeps_are_not_overwritten_by_later_batches():
    pipeline = ProcessPipeline([Keeping(), Keeping()])
    for batch in batches(20, np.random.default_rng(5)):
        pipeline.submit(batch, "train", lambda n: None)
    pipeline.drain()
    assert pipeline._free == []  # every slot was kept by an extractor: the later batches came through the pipe
    pipeline.close()
    kept = sorted(tuple(a.tolist()) for p in pipeline.producers for a in getattr(p, "kept", []))
    assert kept == sorted(tuple(b["labels"].tolist()) for b in batches(20, np.random.default_rng(5)))


def test_every_batch_is_analysed_once_by_the_workers_or_the_caller():
    pipeline = ProcessPipeline([Summing(), Summing(), Summing()])
    assert pipeline._capacity == 2 + QUEUED_BATCHES  # two forked workers
    done = []
    for i, batch in enumerate(batches(30, np.random.default_rng(0))):
        pipeline.submit(batch, "train" if i < 20 else "val", done.append)
        while i == 0 and pipeline._pending:  # a worker analyses the first batch (drain() could take it back)
            pipeline._poll()
    pipeline.drain()
    assert sum(done) == 30 * 4  # on_done gets each batch's number of samples
    pipeline.close()
    producers = pipeline.producers
    assert sum(p.batches for p in producers) == 30
    assert sum(p.total for p in producers) == expected_total(30, 0)
    assert set().union(*(p.splits for p in producers)) == {"train", "val"}
    assert producers[0].pids <= {os.getpid()}  # the first producer analyses in the calling process
    assert os.getpid() not in set().union(*(p.pids for p in producers[1:])) and producers[1].batches >= 1


def test_a_batch_larger_than_a_slot_travels_through_the_pipe(monkeypatch):
    monkeypatch.setattr(process_pipeline, "MIN_SLOT_BYTES", 4096)
    monkeypatch.setattr(process_pipeline, "SLOT_HEADROOM", 1)
    rng = np.random.default_rng(1)
    small = Batch(pixels=rng.integers(0, 256, size=(1, 3, 8, 8), dtype=np.uint8), labels=np.arange(1))
    large = Batch(pixels=rng.integers(0, 256, size=(4, 3, 200, 200), dtype=np.uint8), labels=np.arange(4))
    pipeline = ProcessPipeline([Summing(), Summing()])
    for b in (small, large, small):
        pipeline.submit(b, "train", lambda n: None)
    pipeline.close()
    want = sum(int(b["pixels"].astype(np.int64).sum()) + int(b["labels"].sum()) for b in (small, large, small))
    assert sum(p.total for p in pipeline.producers) == want


def test_while_the_workers_are_behind_the_caller_analyses_and_the_slots_bound_what_is_in_flight():
    gate = multiprocessing.get_context("fork").Event()
    pipeline = ProcessPipeline([Summing(), Summing(gate)])  # the one worker waits at the gate
    capacity = 1 + QUEUED_BATCHES
    assert pipeline._capacity == capacity
    in_flight = []
    for batch in batches(40, np.random.default_rng(2)):
        pipeline.submit(batch, "train", lambda n: None)
        in_flight.append(len(pipeline._pending))
    assert max(in_flight) == capacity  # never more batches copied out than there are slots
    assert pipeline.producers[0].batches == 40 - capacity  # the rest were analysed here, none waited
    gate.set()
    pipeline.close()
    assert pipeline.producers[1].batches == capacity
    assert sum(p.total for p in pipeline.producers) == expected_total(40, 2)


def test_the_caller_keeps_feeding_a_worker_that_keeps_up():
    pipeline = ProcessPipeline([Summing(), Summing()])
    pause = threading.Event()  # never set: its wait() is a bounded pause
    for batch in batches(12, np.random.default_rng(4)):
        pipeline.submit(batch, "train", lambda n: None)
        for _ in range(500):  # a slow loader: the worker is done before the next batch comes
            if not pipeline._pending:
                break
            pause.wait(0.01)
    pipeline.close()
    assert pipeline.producers[1].batches == 12 and pipeline.producers[0].batches == 0


class Failing(Summing):
    def update(self, batch, split, seq):
        raise MemoryError("out of memory in a worker")


class Dying(Summing):
    def update(self, batch, split, seq):
        os._exit(3)  # as if the system had killed it


@pytest.mark.parametrize("producer, message", [
    (Failing, "MemoryError: out of memory in a worker"),  # an error outside the features reaches the caller
    (Dying, "exited unexpectedly .exit code 3"),  # a worker that dies is reported, not waited for
])
def test_a_failing_or_dying_worker_is_reported_to_the_caller(producer, message):
    pipeline = ProcessPipeline([Summing(), producer()])
    pipeline.submit(next(batches(1, np.random.default_rng(3))), "train", lambda n: None)
    for _ in range(60):  # the worker takes the batch (drain() could take it back first)
        if pipeline._error is not None:
            break
        pipeline._poll()
    with pytest.raises(WorkerProcessError, match=message):
        pipeline.drain()
    pipeline.close()


def test_a_pipeline_that_never_got_a_batch_starts_no_process():
    pipeline = ProcessPipeline([Summing(), Summing()])
    pipeline.drain()
    pipeline.close()
    assert all(p.batches == 0 for p in pipeline.producers)
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("task", ["segmentation", "detection", "classification"])
def test_the_default_features_keep_no_array_of_a_batch(task, tmp_path, monkeypatch):
    # a kept array retires its slot (correct, but later batches then go through the pipe): our own
    # extractors copy whatever they keep, e.g. the fingerprint's sample ids
    monkeypatch.setenv("DATA_GRADIENTS_WORKERS", "processes")
    kept = []
    handle = ProcessPipeline._handle

    def spy(self, index, message):
        if message[0] == "done":
            kept.append(message[2])
        return handle(self, index, message)

    monkeypatch.setattr(ProcessPipeline, "_handle", spy)
    analyse = process_pipeline.analyse_message

    def taken_back(*args):  # a batch of a slot the calling process analyses (in a worker, its "done" says it)
        seq, was_kept = analyse(*args)
        if os.getpid() == caller:
            kept.append(was_kept)
        return seq, was_kept

    caller = os.getpid()
    monkeypatch.setattr(process_pipeline, "analyse_message", taken_back)
    manager, raw, kw = TASKS[task]
    manager(raw(0, n_batches=12), raw(1, n_batches=6), num_classes=4, log_dir=tmp_path, verbose=False, workers=2,
            writers=[], samples_to_visualize=3, **kw).run()
    assert len(kept) >= 1 and not any(kept)  # the first batch always goes through a slot


def test_on_start_runs_once_the_workers_are_forked():
    seen = []
    pipeline = ProcessPipeline([Summing(), Summing()], on_start=lambda: seen.append(len(multiprocessing.active_children())))
    assert seen == []
    pipeline.submit(next(batches(1, np.random.default_rng(6))), "train", lambda n: None)
    assert seen == [1]  # one forked worker beside the calling process
    pipeline.close()


class Interrupting(Summing):
    """Ctrl-C arrives while the calling process analyses this producer's batch."""

    def update(self, batch, split, seq):
        os.kill(os.getpid(), signal.SIGINT)
        super().update(batch, split, seq)


def test_ctrl_c_while_the_caller_analyses_lands_once_its_batch_is_done(python_ctrl_c):
    gate = multiprocessing.get_context("fork").Event()
    pipeline = ProcessPipeline([Interrupting(), Summing(gate)])
    feed = batches(QUEUED_BATCHES + 2, np.random.default_rng(7))
    for _ in range(1 + QUEUED_BATCHES):  # the waiting worker's slots
        pipeline.submit(next(feed), "train", lambda n: None)
    with pytest.raises(KeyboardInterrupt):
        pipeline.submit(next(feed), "train", lambda n: None)
    assert pipeline.producers[0].batches == 1  # the batch was analysed whole before the interrupt landed
    gate.set()
    pipeline.close()
    assert pipeline.producers[1].batches == 1 + QUEUED_BATCHES


def test_draining_the_caller_takes_back_the_batches_no_worker_has_started():
    gate = multiprocessing.get_context("fork").Event()
    pipeline = ProcessPipeline([Summing(), Summing(gate)])
    for batch in batches(1 + QUEUED_BATCHES, np.random.default_rng(8)):
        pipeline.submit(batch, "train", lambda n: None)
    threading.Timer(1.0, gate.set).start()  # the worker is held on its first batch meanwhile
    pipeline.drain()
    taken_back = pipeline.producers[0].batches
    assert taken_back >= QUEUED_BATCHES  # all but (at most) the one the worker holds
    assert pipeline._free and len(pipeline._free) == 1 + QUEUED_BATCHES  # every slot is free again
    pipeline.close()
    assert pipeline.producers[1].batches == 1 + QUEUED_BATCHES - taken_back
    assert sum(p.total for p in pipeline.producers) == expected_total(1 + QUEUED_BATCHES, 8)


def test_a_workers_state_comes_back_with_its_arrays_out_of_band():
    """The arrays of a producer sent back rest on buffers read straight from the pipe (no pickle stream
    holding them a second time), are writable for the merge, and equal what was sent; so do empty ones."""
    state = {"big": np.arange(300_000, dtype=np.int64), "empty": np.zeros(0, dtype=np.float32),
             "strided": np.arange(20).reshape(4, 5)[:, ::2], "text": "kept in band"}
    reader, writer = multiprocessing.get_context("fork").Pipe(duplex=False)
    sender = threading.Thread(target=process_pipeline.send_state, args=(writer, state))
    sender.start()  # the pipe holds ~64 KB: the sender must run while the receiver reads
    kind, meta, sizes = reader.recv()
    got = process_pipeline.receive_state(reader, meta, sizes)
    sender.join(timeout=30)
    assert kind == "state" and not sender.is_alive()
    assert sorted(sizes, reverse=True)[0] == state["big"].nbytes
    for key in ("big", "empty", "strided"):
        np.testing.assert_array_equal(got[key], state[key])
    assert got["text"] == "kept in band"
    base = got["big"]
    while isinstance(base, np.ndarray):
        base = base.base
    assert isinstance(base, memoryview) and isinstance(base.obj, bytearray) and got["big"].flags.writeable
    got["big"] += 1  # the merge adds into states in place
    assert not reader.poll()  # nothing left in the pipe


def _flags(pixels):
    """(read-only?, can a view of it be made writeable?), as the image hash asks to hand pixels to torch
    without a copy."""
    view = pixels.view()
    try:
        view.flags.writeable = True
    except ValueError:
        return pixels.flags.writeable, False
    return pixels.flags.writeable, True


class Flags(Summing):
    """Records, in the worker, how the batch's pixels arrived."""

    def update(self, batch, split, seq):
        super().update(batch, split, seq)
        self.flags = getattr(self, "flags", []) + [_flags(batch["pixels"])]


@pytest.mark.parametrize("through", ["slot", "pipe"])
def test_a_worker_gets_read_only_arrays_as_the_caller_has_them(through, monkeypatch):
    """A read-only view of writable memory (canonical images over a loader's tensor) is read-only in the
    worker too, and a view of it can be made writeable there as here. Pickled as it is, it loaded on a
    read-only buffer, and the image hash copied every batch's pixels in a worker."""
    if through == "pipe":
        monkeypatch.setattr(process_pipeline, "MIN_SLOT_BYTES", 4096)
        monkeypatch.setattr(process_pipeline, "SLOT_HEADROOM", 1)
    rng = np.random.default_rng(9)
    sent = [Batch(pixels=np.zeros((1, 3, 8, 8), dtype=np.uint8), labels=np.arange(1))]  # writable
    for _ in range(2):
        pixels = rng.integers(0, 256, size=(4, 3, 60, 60), dtype=np.uint8).view()
        pixels.flags.writeable = False  # as canonical batches' images are
        sent.append(Batch(pixels=pixels, labels=np.arange(4)))
    owner = rng.integers(0, 256, size=(4, 3, 60, 60), dtype=np.uint8)
    owner.flags.writeable = False  # numpy lets no view of a read-only owner be written through
    sent.append(Batch(pixels=owner, labels=np.arange(4)))
    at_source = np.frombuffer(bytes(4 * 3 * 60 * 60), dtype=np.uint8).reshape(4, 3, 60, 60)  # read-only memory
    sent.append(Batch(pixels=at_source, labels=np.arange(4)))
    expected = [_flags(b["pixels"]) for b in sent]
    assert expected == [(True, True), (False, True), (False, True), (False, False), (False, False)]
    pipeline = ProcessPipeline([Summing(), Flags()])
    for batch in sent:
        pipeline.submit(batch, "train", lambda n: None)
        while pipeline._pending:  # the worker analyses each one
            pipeline._poll()
    pipeline.close()
    worker = pipeline.producers[1]
    assert worker.pids and os.getpid() not in worker.pids
    assert worker.flags == expected
    assert [b["pixels"].flags.writeable for b in sent] == [True, False, False, False, False]  # the caller's untouched
    assert sum(p.total for p in pipeline.producers) == sum(
        int(b["pixels"].astype(np.int64).sum()) + int(b["labels"].sum()) for b in sent)
