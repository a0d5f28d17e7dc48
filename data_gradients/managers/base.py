"""The analysis manager: iterate the splits once, update extractors, compute, write.

It holds no statistics of its own; task managers only choose the batch builder.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Dict, Iterable, Iterator, Optional, Sequence

from data_gradients.batch.extraction import BatchSplitter, as_extractor
from data_gradients.batch.resolver import BatchResolver
from data_gradients.classes import check_ignore_labels, check_num_classes, counted_class_ids, resolve_class_names
from data_gradients.context import AnalysisContext
from data_gradients.errors import ConfigurationError
from data_gradients.feature_extractors import select_features
from data_gradients.managers.memory import HeapTrimmer
from data_gradients.managers.pipeline import Pipeline, run_pipeline
from data_gradients.managers.producer import Producer, describe_failure, merge_producers
from data_gradients.managers.progress import estimated_total, progress_bar, total_samples
from data_gradients.managers.run_dir import new_run_dir
from data_gradients.reports.report import AnalysisReport, SplitSummary
from data_gradients.reports.writers import default_writers, write_all
from data_gradients.results import FeatureResult

logger = logging.getLogger("data_gradients")
MAX_DEFAULT_WORKERS = 8


class AnalysisManager:
    """Runs every selected feature extractor over the train (and val) data once.

    Subclasses set ``task`` and implement ``_make_builder()``. See the task managers
    for the arguments.
    """

    task: ClassVar[str] = ""

    def __init__(
        self,
        train_data: Iterable,
        val_data: Optional[Iterable] = None,
        *,
        num_classes: int,
        class_names: Any = None,
        ignore_labels: Sequence[int] = (),
        images_extractor: Any = None,
        labels_extractor: Any = None,
        images_key: Optional[str] = None,
        labels_key: Optional[str] = None,
        reset_resolver: bool = False,
        samples_to_visualize: int = 10,
        log_dir: Any = "logs",
        report_title: Optional[str] = None,
        features: Optional[Sequence[str]] = None,
        exclude_features: Sequence[str] = (),
        max_batches: Optional[int] = None,
        hide_class_names: bool = False,
        seed: int = 0,
        verbose: bool = True,
        writers: Optional[Sequence[Any]] = None,
        workers: Optional[int] = None,
    ):
        self.num_classes = check_num_classes(num_classes)
        self.ignore_labels = check_ignore_labels(ignore_labels)
        self.splits_data = {"train": _check_iterable(train_data, "train_data")}
        if val_data is not None:
            self.splits_data["val"] = _check_iterable(val_data, "val_data")
        _check_int(samples_to_visualize, "samples_to_visualize", minimum=0)
        if max_batches is not None:
            _check_int(max_batches, "max_batches", minimum=1)
        if workers is not None:
            _check_int(workers, "workers", minimum=1)
        if images_extractor is not None and images_key is not None:
            raise ConfigurationError("pass `images_extractor` or `images_key`, not both")
        if labels_extractor is not None and labels_key is not None:
            raise ConfigurationError("pass `labels_extractor` or `labels_key`, not both")
        for arg, value in (("images_extractor", images_extractor), ("labels_extractor", labels_extractor)):
            if value is not None and not callable(value):
                raise ConfigurationError(f"`{arg}` must be a callable(batch) -> {arg.split('_')[0]}, got {value!r}")
        if not isinstance(reset_resolver, bool):
            raise ConfigurationError(f"`reset_resolver` must be a bool, got {reset_resolver!r}")
        if report_title is not None and not isinstance(report_title, str):
            raise ConfigurationError(f"`report_title` must be a str, got {report_title!r}")
        if isinstance(features, str) or isinstance(exclude_features, str):
            raise ConfigurationError("`features` and `exclude_features` must be lists of names, not a single str")

        self.class_names = resolve_class_names(class_names, self.num_classes, hide_class_names)
        self.hide_class_names = hide_class_names
        self.class_ids = counted_class_ids(self.num_classes, self.ignore_labels)
        if not self.class_ids:
            raise ConfigurationError(f"`ignore_labels`={list(self.ignore_labels)} leaves no class to analyse")
        self.context = AnalysisContext(
            task=self.task, num_classes=self.num_classes, class_ids=self.class_ids,
            class_names=self.class_names, splits=tuple(self.splits_data),
            samples_to_visualize=samples_to_visualize, seed=seed,
        )
        self.feature_classes = select_features(self.task, features, exclude_features)
        self.splitter = BatchSplitter(images_extractor or as_extractor(images_key, "images_key"),
                                      labels_extractor or as_extractor(labels_key, "labels_key"),
                                      resolver=BatchResolver(self.task, reset=reset_resolver, verbose=verbose))
        self.samples_to_visualize = samples_to_visualize
        self.log_dir = Path(log_dir)
        self.report_title = report_title or f"{self.task.capitalize()} analysis"
        self.max_batches = max_batches
        self.seed = seed
        self.verbose = verbose
        self.workers = workers if workers is not None else default_workers()
        self.writers = list(writers) if writers is not None else default_writers()
        self.builder = self._make_builder()

    # ------------------------------------------------------------------ hooks
    def _make_builder(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    # -------------------------------------------------------------------- run
    def run(self) -> AnalysisReport:
        """Read every split once, compute every feature, write all outputs; return the report."""
        t0 = time.perf_counter()
        started_at = datetime.now().isoformat(timespec="seconds")
        producers = [Producer(self.feature_classes, self.context) for _ in range(self.workers)]
        summaries = {s: SplitSummary(s) for s in self.splits_data}
        partial_reason = None
        unread = list(self.splits_data)
        try:
            with single_threaded_opencv(self.workers > 1), run_pipeline(producers) as pipeline:
                for split, data in self.splits_data.items():
                    self._consume(split, data, pipeline, summaries[split])
                    unread.remove(split)
        except KeyboardInterrupt:
            partial_reason = "interrupted (Ctrl-C) while reading the data; statistics cover only what was read"
            for split in unread:
                summaries[split].complete = False
            logger.warning("data_gradients: interrupted; writing a partial report")
        if partial_reason is None and any(not s.complete for s in summaries.values()):
            partial_reason = f"stopped after max_batches={self.max_batches} batches per split"
        results = self._compute(merge_producers(producers))
        report = AnalysisReport(
            title=self.report_title, task=self.task, run_dir=new_run_dir(self.log_dir, self.report_title),
            splits=summaries, results=results, config=self._config(),
            class_names={k: self.class_names[k] for k in self.class_ids},
            started_at=started_at, partial=partial_reason is not None, partial_reason=partial_reason,
            notes=sorted(self.builder.notes),
        )
        report.duration_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        write_all(report, self.writers)
        report.write_s = time.perf_counter() - t1
        if self.verbose:
            print(report.summary(), file=sys.stderr)
        return report

    def _consume(self, split: str, data: Iterable, pipeline: Pipeline, summary: SplitSummary) -> None:
        total = total_samples(data, self.max_batches)
        trimmer = HeapTrimmer()
        with progress_bar(total=total, desc=f"Analysing {split}", enabled=self.verbose) as bar:
            lock = threading.Lock()

            def done(canonical) -> None:  # may run in a worker thread
                with lock:
                    bar.update(len(canonical))

            for index, batch in enumerate(data):
                if self.max_batches is not None and index >= self.max_batches:
                    summary.complete = False
                    break
                images, labels = self.splitter(batch)
                for canonical in self.builder.build(images, labels, first_sample_id=summary.samples):
                    pipeline.submit(canonical, split, done)
                    summary.samples += len(canonical)
                summary.batches += 1
                trimmer.tick()
                if bar.total is None and index == 0:
                    with lock:
                        bar.total = estimated_total(data, summary.samples, self.max_batches)
                        bar.refresh()
            pipeline.drain()  # the bar closes on a finished split

    def _compute(self, producer: Producer) -> Dict[str, FeatureResult]:
        errors = {name: message for name, (_, message) in producer.errors.items()}
        results = {}
        for name, extractor in producer.extractors.items():
            if name not in errors:
                try:
                    results[name] = extractor.compute()
                    continue
                except Exception as e:
                    errors[name] = describe_failure(e, "compute")
                    logger.warning("data_gradients: feature %r failed in compute: %s", name, e)
            result = extractor.new_result()
            result.error = errors[name]
            results[name] = result
        return results

    def _config(self) -> Dict[str, Any]:
        import numpy
        import torch

        from data_gradients import __version__

        return {
            "task": self.task,
            "num_classes": self.num_classes,
            "class_names": {str(k): self.class_names[k] for k in self.class_ids},
            "hide_class_names": self.hide_class_names,
            "ignore_labels": list(self.ignore_labels),
            "counted_class_ids": list(self.class_ids),
            "samples_to_visualize": self.samples_to_visualize,
            "max_batches": self.max_batches,
            "features": [c.name for c in self.feature_classes],
            "seed": self.seed,
            "workers": self.workers,
            "batch_extraction": self.splitter.describe(),
            "versions": {"data_gradients": __version__, "python": sys.version.split()[0],
                         "numpy": numpy.__version__, "torch": torch.__version__},
        }


def default_workers() -> int:
    """Cores this process may use (its CPU affinity), at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


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


def _check_iterable(data: Any, arg: str) -> Iterable:
    if data is None or isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise ConfigurationError(
            f"`{arg}` must be an iterable of batches (a DataLoader, a generator, a list), got {type(data).__name__}"
        )
    return data


def _check_int(value: Any, arg: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ConfigurationError(f"`{arg}` must be {kind}, got {value!r}")
