"""Detection analysis manager."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterable, Mapping, Optional

from data_gradients.batch import DetectionBatchBuilder
from data_gradients.batch.detection import check_box_options
from data_gradients.errors import ConfigurationError
from data_gradients.managers.base import AnalysisManager
from data_gradients.text import printable


class DetectionAnalysisManager(AnalysisManager):
    """Analyse an object-detection dataset.

    Args:
        train_data: any iterable of batches (DataLoader, generator, list). A batch is an
            ``(images, labels)`` pair unless extractors or key paths say otherwise.
        val_data: optional iterable for the validation split, shown beside train.
        splits: instead of train_data / val_data, any number of splits as a dict
            ``{"train": loader, "val": loader, "test": loader}`` (in that order everywhere).
        reference: the split the others are compared with (default: the first).
        num_classes: number of classes; box class ids are 0..num_classes-1 (with 1 class,
            every box is class 0: unlike segmentation there is no background id).
        bbox_format: ``"xyxy"`` (corners), ``"xywh"`` (top-left corner and size) or
            ``"cxcywh"`` (centre and size); None infers it from the first batch with boxes.
        normalized_boxes: True for coordinates in [0, 1] (fractions of the image width and
            height), False for pixels; None infers it from the first batch with boxes.
        label_first: True when a 5-column box row is ``class, 4 coordinates``; False when
            the class is the last column. Not used for dict labels.
        class_names, ignore_labels, images_extractor, labels_extractor, images_key,
        labels_key, samples_to_visualize, log_dir, report_title, features,
        exclude_features, max_batches, hide_class_names, seed, verbose, writers, workers,
        distributed, timeout: as for
            :class:`~data_gradients.SegmentationAnalysisManager`. Boxes of ``ignore_labels``
            classes are never counted nor shown.

    Labels of a batch: a list of per-image (n, 5) tensors/arrays, a padded (N, max_boxes, 5)
    tensor/array (rows all zero or of class -1 are padding), or torchvision-style dicts with
    ``boxes`` (n, 4) and ``labels`` (n,). Bad boxes (NaN, no area, outside the image, class out
    of range) are counted and listed in the report, not fatal. An inferred box format or scale
    is stated in the report's notes; when the first labelled batch cannot decide it, a
    ConfigurationError says which argument to pass. ``run()`` returns an
    :class:`~data_gradients.reports.AnalysisReport`.
    """

    task = "detection"

    def __init__(self, train_data: Optional[Iterable] = None, val_data: Optional[Iterable] = None, *,
                 bbox_format: Optional[str] = None, normalized_boxes: Optional[bool] = None,
                 label_first: bool = True, **kwargs: Any):
        check_box_options(bbox_format, normalized_boxes, label_first)
        self.bbox_format = bbox_format
        self.normalized_boxes = normalized_boxes
        self.label_first = label_first
        super().__init__(train_data, val_data, **kwargs)
        if self.num_classes == 1:
            self._single_class(kwargs.get("class_names"), bool(kwargs.get("hide_class_names", False)))

    def _single_class(self, class_names: Any, hide: bool) -> None:
        """With one class, boxes carry id 0: the base class's binary-mask convention (0 =
        background, 1 = object) does not apply to boxes."""
        if 0 in self.ignore_labels:
            raise ConfigurationError(f"`ignore_labels`={list(self.ignore_labels)} leaves no class to analyse")
        self.class_names = {0: _single_name(class_names, hide)}
        self.class_ids = (0,)
        self.context = dataclasses.replace(self.context, class_ids=self.class_ids, class_names=self.class_names)
        self.builder = self._make_builder()

    def _make_builder(self) -> DetectionBatchBuilder:
        return DetectionBatchBuilder(self.num_classes, self.class_ids, self.ignore_labels, bbox_format=self.bbox_format,
                                     normalized_boxes=self.normalized_boxes, label_first=self.label_first)

    def _config(self) -> Dict[str, Any]:
        config = super()._config()
        config["boxes"] = self.builder.describe()
        return config


def _single_name(class_names: Any, hide: bool) -> str:
    if hide or class_names is None:
        return "0"
    if isinstance(class_names, Mapping):
        return printable(str(class_names.get(0, "0")))
    names = list(class_names)
    if len(names) != 1:
        raise ConfigurationError(f"`class_names` must have num_classes=1 name, got {len(names)}")
    return printable(str(names[0]))
