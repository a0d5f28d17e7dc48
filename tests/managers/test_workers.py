"""`workers`: batches analysed concurrently by independent producers give the result of one thread."""
from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest
from conftest import (
    classification_raw_batches,
    detection_raw_batches,
    isclose_tree,
    segmentation_raw_batches,
)

from data_gradients import (
    ClassificationAnalysisManager,
    DetectionAnalysisManager,
    FeatureExtractor,
    SegmentationAnalysisManager,
    register_feature,
)
from data_gradients.errors import ConfigurationError
from data_gradients.feature_extractors import unregister_feature
from data_gradients.managers.pipeline import MAX_DEFAULT_WORKERS, QUEUED_BATCHES, Pipeline, default_workers
from data_gradients.managers.producer import Producer
from data_gradients.reports.json_writer import to_jsonable

TASKS = {
    "segmentation": (SegmentationAnalysisManager, segmentation_raw_batches, dict(ignore_labels=[255])),
    "detection": (DetectionAnalysisManager, detection_raw_batches, dict(bbox_format="xyxy", normalized_boxes=False)),
    "classification": (ClassificationAnalysisManager, classification_raw_batches, dict(multi_label=True)),
}


@pytest.fixture(params=["threads", "processes"])
def mode(request, monkeypatch):
    """Worker threads, or forked worker processes (the default where fork is available)."""
    monkeypatch.setenv("DATA_GRADIENTS_WORKERS", request.param)
    return request.param


def run(task, tmp_path, workers, n_batches=12, **kw):
    manager, raw, task_kw = TASKS[task]
    train = raw(0, n_batches=n_batches)
    val = raw(1, n_batches=n_batches // 2)
    kw = {**task_kw, **kw}
    return manager(train, val, num_classes=4, log_dir=tmp_path, verbose=False, workers=workers, writers=[],
                   samples_to_visualize=3, **kw).run()


def tree(report):
    """Every number of every feature, findings with their sample ids, and the sample pictures."""
    out = {}
    for name, result in report.results.items():
        t = to_jsonable(result)
        t["images"] = [{s: [np.asarray(i).tolist() for i in imgs] for s, imgs in g.images.items()} for g in result.images]
        out[name] = t
    out["splits"] = {s: (v.samples, v.batches, v.complete) for s, v in report.splits.items()}
    out["partial"] = report.partial_reason
    return out


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_give_the_single_thread_result(task, workers, mode, tmp_path):
    single = tree(run(task, tmp_path, workers=1))
    many = tree(run(task, tmp_path, workers=workers))
    assert single["splits"]["train"][0] > 0
    isclose_tree(single, many, rel=1e-9)


def test_findings_and_samples_are_present_in_what_is_compared(tmp_path):
    # the comparison above would be empty-handed if the data had no findings or samples
    report = run("segmentation", tmp_path, workers=2)
    ids = [i for r in report.results.values() for f in r.findings for i in (f.sample_ids or {}).get("train", [])]
    assert ids, "the test data should give findings with sample ids"
    assert any(g.images.get("train") for r in report.results.values() for g in r.images)


@pytest.mark.parametrize("workers", [1, 2])
def test_max_batches_and_counts(workers, mode, tmp_path):
    report = run("segmentation", tmp_path, workers=workers, max_batches=4)
    assert report.partial
    assert report.splits["train"].batches == 4
    assert report.splits["train"].samples == 12


class Boom(FeatureExtractor):
    name = "boom_at_sample_9"
    title = "fails on the batch holding sample 9"
    tasks = ("segmentation",)

    def update(self, batch, split):
        if split == "train" and 9 in batch.sample_ids:
            raise ValueError(f"bad batch {batch.sample_ids.tolist()}")

    def compute(self):
        return self.new_result()


@pytest.fixture
def boom():
    register_feature(Boom)
    yield Boom.name
    unregister_feature(Boom.name)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_failing_feature_fails_alone_with_the_same_message(workers, mode, tmp_path, boom):
    report = run("segmentation", tmp_path, workers=workers,
                 features=["segmentation_class_frequency", "data_quality", boom])
    assert report.results[boom].error.startswith("ValueError in update()")
    assert "bad batch [9, 10, 11]" in report.results[boom].error
    assert report.results["segmentation_class_frequency"].error is None
    assert report.splits["train"].samples == 36


def interrupted(raw, at):
    for i, batch in enumerate(raw):
        if i == at:
            raise KeyboardInterrupt
        yield batch


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_writes_what_was_read(workers, mode, tmp_path):
    manager, raw, kw = TASKS["segmentation"]
    report = manager(interrupted(raw(0, n_batches=10), at=5), num_classes=4, log_dir=tmp_path, verbose=False,
                     workers=workers, writers=[], **kw).run()
    assert report.partial and "interrupted" in report.partial_reason
    assert report.splits["train"].samples == 15
    freq = report.results["segmentation_class_frequency"]
    assert sum(freq.scalars["classes_present"].values()) > 0


def test_extraction_runs_in_the_calling_thread(mode, tmp_path):
    seen = set()

    def images(batch):
        seen.add(threading.current_thread().name)
        return batch[0]

    manager, raw, kw = TASKS["segmentation"]
    manager(raw(0), num_classes=4, log_dir=tmp_path, verbose=False, workers=3, writers=[],
            images_extractor=images, labels_extractor=lambda b: b[1], **kw).run()
    assert seen == {threading.current_thread().name}


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True])
def test_workers_must_be_a_positive_int(bad, tmp_path):
    with pytest.raises(ConfigurationError, match=r"`workers` must be a positive int, got"):
        SegmentationAnalysisManager(segmentation_raw_batches(0), num_classes=4, workers=bad, log_dir=tmp_path)


def test_default_workers_is_the_usable_cores_capped(monkeypatch):
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(32)), raising=False)
    assert default_workers() == MAX_DEFAULT_WORKERS == 8
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert default_workers() == 1


class _Blocking(Producer):
    """A producer whose update waits until released: shows how far the loader may run ahead."""

    def __init__(self, release: threading.Event):
        self.extractors, self.errors, self.release, self.seen = {}, {}, release, 0

    def update(self, batch, split, seq):
        assert self.release.wait(timeout=30)
        self.seen += 1


def test_the_queue_bounds_the_batches_in_flight():
    release = threading.Event()
    workers = 3
    pipeline = Pipeline([_Blocking(release) for _ in range(workers)])
    submitted = []

    def feed():
        for i in range(50):
            pipeline.submit([i], "train", lambda n: None)
            submitted.append(i)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    capacity = min(workers, QUEUED_BATCHES) + workers  # the queue, plus one batch in each worker's hands
    pause = threading.Event()  # never set: its wait() is a bounded pause
    for _ in range(1000):
        if len(submitted) >= capacity:
            break
        pause.wait(0.01)
    pause.wait(0.2)  # an unbounded queue would have taken all 50 by now
    assert len(submitted) == capacity and t.is_alive()
    release.set()
    t.join(timeout=30)
    pipeline.close()
    assert submitted == list(range(50))
    assert sum(p.seen for p in pipeline.producers) == 50


def test_an_unexpected_worker_error_reaches_the_caller():
    class Broken(Producer):
        def __init__(self):
            self.extractors, self.errors = {}, {}

        def update(self, batch, split, seq):
            raise MemoryError("out of memory in a worker")

    pipeline = Pipeline([Broken(), Broken()])
    pipeline.submit([1], "train", lambda n: None)
    with pytest.raises(RuntimeError, match="worker thread failed") as info:
        pipeline.drain()
    assert isinstance(info.value.__cause__, MemoryError)
    pipeline.close()


def test_merged_producers_report_the_earliest_failure():
    a, b = Producer([], None), Producer([], None)
    a.errors["f"] = (7, "failed at batch 7")
    b.errors["f"] = (3, "failed at batch 3")
    b.errors["g"] = (5, "g failed")
    a.merge(b)
    assert a.errors == {"f": (3, "failed at batch 3"), "g": (5, "g failed")}


def test_default_workers_share_the_cores_between_the_ranks_of_a_machine(monkeypatch):
    import os

    from data_gradients.managers.distributed import local_world_size

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "3")
    assert default_workers(local_world_size()) == 2
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "16")
    assert default_workers(local_world_size()) == 1
    monkeypatch.delenv("LOCAL_WORLD_SIZE")
    assert local_world_size() == 1


def test_extractors_that_cannot_travel_back_from_a_process_run_in_threads(mode, tmp_path):
    class Local(FeatureExtractor):  # defined in a function: pickle cannot find it by name
        name = "local_counter"
        title = "counts samples"
        tasks = ("segmentation",)

        def setup(self):
            self.add_state("n", 0, "sum")

        def update(self, batch, split):
            self.state(split).n += len(batch)

        def compute(self):
            result = self.new_result()
            result.scalars["n"] = {s: st.n for s, st in self._splits.items()}
            return result

    register_feature(Local)
    try:
        report = run("segmentation", tmp_path, workers=2, features=["data_quality", Local.name])
    finally:
        unregister_feature(Local.name)
    assert report.results[Local.name].error is None
    assert report.results[Local.name].scalars["n"] == {"train": 36, "val": 18}


@pytest.mark.parametrize("producers", [1, 2])
def test_a_thread_pipeline_calls_on_start_once_at_the_first_batch(producers):
    """Not before: the first loader forks its workers when iterated, never while a thread on_start
    starts (the writers' preload) is inside an import."""
    from data_gradients.managers.pipeline import run_pipeline

    seen = []
    with run_pipeline([Producer([], None) for _ in range(producers)], processes=False,
                      on_start=lambda: seen.append(1)) as pipeline:
        assert seen == []
        for _ in range(2):
            pipeline.submit([], "train", lambda n: None)
        pipeline.drain()
        assert seen == [1]


def test_worker_threads_take_the_calling_threads_torch_threads(monkeypatch):
    """Set again in each worker thread (OpenMP's count is per thread: a new thread would use every core)."""
    import threading

    import torch

    from data_gradients.managers.pipeline import run_pipeline

    calls = []
    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append((threading.current_thread().name, n)))
    with run_pipeline([Producer([], None) for _ in range(2)], processes=False) as pipeline:
        pipeline.submit([], "train", lambda n: None)
        pipeline.drain()
    assert sorted(calls) == [("data_gradients-worker-0", 3), ("data_gradients-worker-1", 3)]


class Interrupted(Producer):
    """Ctrl-C (a real SIGINT) arrives in the middle of an update in the calling thread."""

    def __init__(self):
        self.extractors, self.errors, self.finished = {}, {}, 0

    def update(self, batch, split, seq):
        os.kill(os.getpid(), signal.SIGINT)
        self.finished += len(batch)  # still reached: the interrupt waits for the batch


def test_ctrl_c_in_one_thread_lands_once_the_batch_is_done(python_ctrl_c):
    pipeline = Pipeline([Interrupted()])
    done = []
    with pytest.raises(KeyboardInterrupt):
        pipeline.submit([1, 2, 3], "train", done.append)
    assert pipeline.producers[0].finished == 3 and done == [3]
    pipeline.close()


class Interrupting(FeatureExtractor):
    """Sends Ctrl-C (a real SIGINT) to its own process in the middle of its fourth batch."""

    name = "interrupting_test_feature"
    tasks = ("segmentation",)

    def setup(self):
        self.add_state("seen", 0, "sum")
        self.add_state("finished", 0, "sum")

    def update(self, batch, split):
        state = self.state(split)
        state.seen += 1
        if state.seen == 4:
            os.kill(os.getpid(), signal.SIGINT)
        state.finished += len(batch)

    def compute(self):
        result = self.new_result()
        result.scalars["finished"] = {s: int(self.state(s).finished) for s in self.splits}
        return result


def test_a_real_ctrl_c_gives_a_partial_report_of_whole_batches(tmp_path, python_ctrl_c):
    register_feature(Interrupting)
    try:
        report = run("segmentation", tmp_path, workers=1, features=["segmentation_class_frequency", Interrupting.name])
    finally:
        unregister_feature(Interrupting.name)
    assert report.partial and "interrupted" in report.partial_reason
    # every sample counted as read was analysed whole by every feature (small batches are joined, so the
    # fourth update holds more than four loader batches' samples), and reading stopped early
    finished = report.results[Interrupting.name].scalars["finished"]["train"]
    total = sum(len(images) for images, _ in TASKS["segmentation"][1](0, n_batches=12))
    assert finished == report.splits["train"].samples and 0 < finished < total
    assert not report.splits["train"].complete


def test_one_worker_loads_nothing_for_worker_processes(tmp_path):
    """``workers=1`` runs in the calling thread: the process pipeline (~2 ms of imports a run, with
    the parts of multiprocessing it needs) is not loaded."""
    import json
    import subprocess
    import sys

    code = f"""
import sys, json
sys.path.insert(0, {os.path.join(os.path.dirname(__file__), '..')!r})
from conftest import classification_raw_batches
from data_gradients import ClassificationAnalysisManager
m = ClassificationAnalysisManager(classification_raw_batches(0, n_batches=1), num_classes=4, workers=1,
                                  writers=[], log_dir={str(tmp_path)!r}, verbose=False)
m.run()
print(json.dumps("data_gradients.managers.process_pipeline" in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False
