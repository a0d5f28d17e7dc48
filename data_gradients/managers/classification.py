"""Classification analysis manager."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from data_gradients.batch.classification import ClassificationBatchBuilder
from data_gradients.errors import ConfigurationError
from data_gradients.managers.base import AnalysisManager


class ClassificationAnalysisManager(AnalysisManager):
    """Analyse an image-classification dataset (single-label or multi-label).

    Args:
        train_data: any iterable of batches (DataLoader, generator, list). A batch is an
            ``(images, labels)`` pair unless extractors or key paths say otherwise.
        val_data: optional iterable for the validation split, shown beside train.
        splits: instead of train_data / val_data, any number of splits as a dict
            ``{"train": loader, "val": loader, "test": loader}`` (in that order everywhere).
        reference: the split the others are compared with (default: the first).
        num_classes: number of classes; 1 means binary (label 1 = positive, 0 = negative).
        multi_label: labels are binary rows ``(N, num_classes)``, several classes per image.
        class_names: list of names, or dict id -> name.
        ignore_labels: label ids never counted or shown (e.g. ``[-1]`` for unlabelled).
        images_extractor / labels_extractor: callables ``batch -> images`` / ``batch -> labels``.
        images_key / labels_key: dotted key paths into dict batches (``"target.label"``).
        samples_to_visualize: sample images per class and split drawn in TensorBoard (0 = none).
        log_dir: outputs go to ``log_dir/<report_title>/<timestamp>/``.
        report_title: title of the report (default "Classification analysis").
        features / exclude_features: names of feature extractors to run / skip.
        max_batches: read at most this many batches per split (the report says so).
        hide_class_names: show class ids instead of names everywhere.
        seed: seed of the sample reservoir.
        verbose: progress bar and final summary on stderr.
        writers: output writers (default TensorBoard, TXT and JSON).
        workers: threads that analyse batches concurrently (default: the cores this process may
            use, at most 8; 1 = everything in the calling thread). The loader is still read,
            and dict batches resolved, in the calling thread; results are identical for any
            value (float sums up to rounding).
        distributed: torch.distributed: None uses the default process group when it is
            initialised with more than one process (every rank analyses its shard, rank 0
            writes, every rank returns the merged report); False keeps ranks independent;
            True requires a process group.
        timeout: seconds any wait on other ranks may take before it fails (default 30 min).

    Images may be tensors, arrays or PIL images, NCHW or NHWC, uint8 0..255 or float
    0..1. Single-label labels are class ids ``(N,)`` or one-hot rows ``(N, num_classes)``.
    ``run()`` returns an :class:`~data_gradients.reports.AnalysisReport`.
    """

    task = "classification"

    def __init__(self, train_data: Optional[Iterable] = None, val_data: Optional[Iterable] = None, *,
                 multi_label: bool = False,
                 **kwargs: Any):
        if not isinstance(multi_label, bool):
            raise ConfigurationError(f"`multi_label` must be True or False, got {multi_label!r}")
        self.multi_label = multi_label  # read by _make_builder() during the base initialisation
        super().__init__(train_data, val_data, **kwargs)

    def _make_builder(self) -> ClassificationBatchBuilder:
        return ClassificationBatchBuilder(self.num_classes, self.class_ids, self.ignore_labels,
                                          multi_label=self.multi_label)

    def _config(self) -> Dict[str, Any]:
        return {**super()._config(), "multi_label": self.multi_label}
