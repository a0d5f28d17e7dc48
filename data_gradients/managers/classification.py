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
        splits, reference: any number of splits, as for
            :class:`~data_gradients.SegmentationAnalysisManager`.
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
        writers: output writers (default TensorBoard, TXT, JSON and the PDF report).
        workers, distributed, timeout: as for :class:`~data_gradients.SegmentationAnalysisManager`.

    Images may be tensors, arrays or PIL images, NCHW or NHWC, each scaled by the rule of its
    own type (see the README). Single-label labels are class ids ``(N,)`` or one-hot rows ``(N, num_classes)``.
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
