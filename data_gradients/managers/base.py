"""The analysis manager: iterate the splits once, update extractors, compute, write.

It holds no statistics of its own; task managers only choose the batch builder.
"""
from __future__ import annotations

import logging
import sys
import time
from datetime import datetime
from typing import Any, ClassVar, Dict, Iterable, Mapping, Optional, Sequence

from data_gradients.batch.extraction import BatchSplitter, as_extractor
from data_gradients.batch.resolver import BatchResolver
from data_gradients.classes import check_ignore_labels, check_num_classes, counted_class_ids, resolve_class_names
from data_gradients.context import AnalysisContext
from data_gradients.drift import with_drift
from data_gradients.errors import ConfigurationError, DistributedError
from data_gradients.export.session import RunExports
from data_gradients.feature_extractors import select_features
from data_gradients.managers.distributed import Cluster, SharedResolver, local_world_size
from data_gradients.managers.memory import release_free_heap
from data_gradients.managers.pipeline import default_workers, run_pipeline, single_threaded_opencv, use_processes
from data_gradients.managers.preload import finish_preload, start_preload
from data_gradients.managers.producer import Producer, describe_failure, merge_producers
from data_gradients.managers.progress import promised_samples
from data_gradients.managers.reading import SplitReader, StoppedElsewhere
from data_gradients.managers.run_dir import check_log_dir, new_run_dir
from data_gradients.managers.run_state import RunState, merge_states
from data_gradients.managers.sample_paths import attach_file_info
from data_gradients.managers.splits import resolve_splits
from data_gradients.reports.report import AnalysisReport, SplitSummary
from data_gradients.reports.writers import default_writers, write_all
from data_gradients.results import FeatureResult
from data_gradients.text import printable
from data_gradients.thresholds import resolve_thresholds

logger = logging.getLogger("data_gradients")
DEFAULT_TIMEOUT_S = 30 * 60


class AnalysisManager:
    """Runs every selected feature extractor over the train (and val) data once.

    Subclasses set ``task`` and implement ``_make_builder()``. See the task managers
    for the arguments.
    """

    task: ClassVar[str] = ""

    def __init__(
        self,
        train_data: Optional[Iterable] = None,
        val_data: Optional[Iterable] = None,
        *,
        num_classes: int,
        splits: Optional[Mapping[str, Iterable]] = None,
        reference: Optional[str] = None,
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
        distributed: Optional[bool] = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        thresholds: Optional[Mapping[str, float]] = None,
        export: Any = None,
    ):
        self.num_classes = check_num_classes(num_classes)
        self.ignore_labels = check_ignore_labels(ignore_labels)
        self.splits_data, self.reference = resolve_splits(train_data, val_data, splits, reference)
        _check_int(samples_to_visualize, "samples_to_visualize", minimum=0)
        if max_batches is not None:
            _check_int(max_batches, "max_batches", minimum=1)
        if workers is not None:
            _check_int(workers, "workers", minimum=1)
        if distributed not in (None, True, False):
            raise ConfigurationError(f"`distributed` must be None, True or False, got {distributed!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigurationError(f"`timeout` must be a positive number of seconds, got {timeout!r}")
        self.cluster = Cluster.detect(distributed, float(timeout))
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
        self.thresholds = resolve_thresholds(thresholds)
        self.context = AnalysisContext(
            task=self.task, num_classes=self.num_classes, class_ids=self.class_ids,
            class_names=self.class_names, splits=tuple(self.splits_data), reference=self.reference,
            samples_to_visualize=samples_to_visualize, seed=seed,
            promised_samples=tuple((s, n) for s, n in ((s, promised_samples(d, max_batches))
                                                       for s, d in self.splits_data.items()) if n is not None),
            thresholds=self.thresholds,
        )
        self.feature_classes = select_features(self.task, features, exclude_features)
        self.splitter = BatchSplitter(images_extractor or as_extractor(images_key, "images_key"),
                                      labels_extractor or as_extractor(labels_key, "labels_key"),
                                      resolver=self._resolver(reset_resolver, verbose))
        self.samples_to_visualize = samples_to_visualize
        self.log_dir = check_log_dir(log_dir)
        self.report_title = printable(report_title or f"{self.task.capitalize()} analysis")
        self.max_batches = max_batches
        self.seed = seed
        self.verbose = verbose
        local = local_world_size() if self.cluster is not None else 1
        self.workers = workers if workers is not None else default_workers(local)
        self.writers = list(writers) if writers is not None else default_writers()
        self.builder = self._make_builder()
        self.exports = RunExports(self, export)  # samples export= selects, written while reading

    def _resolver(self, reset: bool, verbose: bool) -> Any:
        resolver = BatchResolver(self.task, reset=reset, verbose=verbose)
        return resolver if self.cluster is None else SharedResolver(resolver, self.cluster)

    # ------------------------------------------------------------------ hooks
    def _make_builder(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    # -------------------------------------------------------------------- run
    def run(self) -> AnalysisReport:
        """Read every split once, compute every feature, write all outputs; return the report.

        Under torch.distributed (see ``distributed``) every rank calls ``run()`` with its own
        loaders; rank 0 writes the outputs and every rank returns the same report. When reading
        stops on an error, the report of what was read is written first (marked partial), then
        the error is raised.
        """
        t0 = time.perf_counter()
        started_at = datetime.now().isoformat(timespec="seconds")
        cluster = self.cluster
        if cluster is not None:
            cluster.start()
        self._preload = None
        state, error = self._read(cluster)
        if cluster is None:
            report = self._report(state, started_at, t0)
        else:
            if state.stops:
                cluster.announce_stop(state.stops[0])
            gathered = cluster.gather(state)
            report = self._report(merge_states(gathered), started_at, t0) if cluster.is_main else None
            report = cluster.broadcast(report)
            if error is None and report.errors:
                error = DistributedError("; ".join(report.errors))
        if error is not None:
            raise error
        return report

    def _read(self, cluster: Optional[Cluster]):
        """Read every split into this process's producers: (state, the error that stopped reading, if any)."""
        producers = [Producer(self.feature_classes, self.context) for _ in range(self.workers)]
        state = RunState(producer=producers[0], splits={s: SplitSummary(s) for s in self.splits_data})
        reader = SplitReader(self.splitter, self.builder, max_batches=self.max_batches, cluster=cluster,
                             progress=self.verbose and (cluster is None or cluster.is_main), exporter=self.exports)
        where = "" if cluster is None else f"rank {cluster.rank}: "

        def preload() -> None:  # the writers' imports (protobufs, jinja2, the font) load while the data is read
            self._preload = start_preload(self.writers)

        preload = preload if cluster is None or cluster.is_main else None  # only the writing rank writes
        error, split = None, None
        try:
            with single_threaded_opencv(self.workers > 1 or cluster is not None), \
                    run_pipeline(producers, processes=len(producers) > 1 and use_processes(), on_start=preload) as pipeline:
                for i, (split, data) in enumerate(self.splits_data.items()):  # each overlaps the last one's analysis
                    if i:  # a loader forks its workers when iterated: never while the preload thread is inside an
                        finish_preload(self._preload)  # import (a child would wait forever for that module's lock)
                    reader.read(split, data, pipeline, state.splits[split], state.notes, drain=False)
                split = None
                reader.drain(pipeline)
                release_free_heap()  # the batches' free pages, before the workers' states come back
        except KeyboardInterrupt:
            state.stops.append(f"{where}interrupted (Ctrl-C) while reading {split or 'the data'}")
            logger.warning("data_gradients: interrupted; writing a partial report")
        except StoppedElsewhere as e:
            state.stops.append(f"{where}stopped reading {split} because {e}")
        except Exception as e:  # the report of what was read comes out first, then the error
            error = e
            state.stops.append(f"{where}{type(e).__name__}: {e}")
            state.errors.append(f"{where}{type(e).__name__}: {e}")
            logger.warning("data_gradients: reading stopped on an error; writing a partial report: %s", e)
        if split is not None:
            names = list(self.splits_data)
            for name in names[names.index(split):]:
                state.splits[name].complete = False
        state.notes |= self.builder.notes
        state.producer = merge_producers(producers)  # a process pipeline hands back new producers
        release_free_heap()  # the merged copies, before computing and writing add their own
        return state, error

    def _report(self, state: RunState, started_at: str, t0: float) -> AnalysisReport:
        """Compute every feature from the merged state and write every output."""
        partial_reason = state.partial_reason(self.max_batches)
        report = AnalysisReport(
            title=self.report_title, task=self.task, run_dir=new_run_dir(self.log_dir, self.report_title),
            splits=state.splits, results=attach_file_info(self._compute(state.producer), self.splits_data, state.notes),
            config=self._config(),
            class_names={k: self.class_names[k] for k in self.class_ids},
            started_at=started_at, partial=partial_reason is not None, partial_reason=partial_reason,
            notes=sorted(state.notes),
        )
        report.errors = list(state.errors)
        report.results = with_drift(report.results, self.context)  # the splits compared, ranked
        self.exports.finish(report)  # exports into the run folder; the manifest's paths; export_samples later
        report.duration_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        finish_preload(self._preload)
        # drawing holds the GIL much of the time: the plots are drawn by forked processes, one per usable core
        write_all(report, self.writers, workers=default_workers())
        report.write_s = time.perf_counter() - t1
        if self.verbose:
            print(report.summary(), file=sys.stderr)
        return report

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
            "splits": list(self.splits_data),
            "reference": self.reference,
            "thresholds": dict(self.thresholds),
            "workers": self.workers,
            "distributed": None if self.cluster is None else {"world_size": self.cluster.world},
            "batch_extraction": self.splitter.describe(),
            "versions": {"data_gradients": __version__, "python": sys.version.split()[0],
                         "numpy": numpy.__version__, "torch": torch.__version__},
        }


def _check_int(value: Any, arg: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ConfigurationError(f"`{arg}` must be {kind}, got {value!r}")
