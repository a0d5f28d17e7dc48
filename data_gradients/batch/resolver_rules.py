"""Which items of a batch could be the images, and which the labels, for each task.

One small table (:func:`rules_for`) keyed by task; the resolver highlights the items that
pass and refuses an answer that does not, saying what was expected.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Sequence, Tuple

import numpy as np

from data_gradients.batch.arrays import is_array_like


def _shape(x: Any) -> Tuple[int, ...]:
    if hasattr(x, "getbands"):  # PIL: (H, W) or (H, W, C)
        w, h = x.size
        return (h, w) if len(x.getbands()) == 1 else (h, w, len(x.getbands()))
    return tuple(int(d) for d in x.shape)


def _numeric(x: Any) -> bool:
    if hasattr(x, "getbands"):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biuf"
    return not x.dtype.is_complex


def _array(x: Any, ranks: Sequence[int], last: Sequence[int] = ()) -> bool:
    """An array-like of numbers whose rank is in ``ranks`` (and last dim in ``last``)."""
    if not is_array_like(x) or not _numeric(x):
        return False
    shape = _shape(x)
    return len(shape) in ranks and (not last or shape[-1] in last)


def _each(x: Any, rule: Callable[[Any], bool]) -> bool:
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(rule(i) for i in x)


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


BOX_KEYS = {"boxes", "bboxes", "bbox", "box"}
CLASS_KEYS = {"labels", "label", "classes", "class", "class_ids", "cls", "category_id", "category_ids"}


def _box_dict(x: Any) -> bool:
    return isinstance(x, dict) and bool(BOX_KEYS & set(x)) and bool(CLASS_KEYS & set(x))


MIN_SIDE = 8  # a rank-2 image or mask is at least this large: (n, 4) boxes and (n, 2) sizes are not pictures


def _picture(x: Any) -> bool:
    return _array(x, (3, 4)) or (_array(x, (2,)) and min(_shape(x)) >= MIN_SIDE)


def _images(x: Any) -> bool:
    return _picture(x) or _each(x, _picture)


def _masks(x: Any) -> bool:
    return _picture(x) or _each(x, _picture)


def _detections(x: Any) -> bool:
    boxes = lambda i: _array(i, (2,), last=(4, 5, 6))  # noqa: E731
    return (boxes(x) or _each(x, boxes) or _array(x, (3,), last=(5, 6))
            or _box_dict(x) or _each(x, _box_dict))


def _class_ids(x: Any) -> bool:
    return (_is_int(x) or _array(x, (0, 1, 2)) or _each(x, _is_int)
            or _each(x, lambda i: _array(i, (0, 1))))


@dataclass(frozen=True)
class TaskRules:
    """Which items could be the images / the labels of a task, and how to say it."""

    images: Callable[[Any], bool]
    labels: Callable[[Any], bool]
    images_expected: str
    labels_expected: str


_PICTURE = f"of rank 3-4, or rank 2 and at least {MIN_SIDE}x{MIN_SIDE}, or a list of them"
_IMAGES_EXPECTED = f"a tensor, ndarray or PIL image {_PICTURE}"
RULES: Dict[str, TaskRules] = {
    "segmentation": TaskRules(_images, _masks, _IMAGES_EXPECTED,
                              f"masks: an integer, bool or float array {_PICTURE}"),
    "detection": TaskRules(_images, _detections, _IMAGES_EXPECTED,
                           "boxes: (n, 4|5|6) arrays or a list of them, a padded (N, max, 5|6) array, "
                           "or dicts with boxes and labels (or a list of them)"),
    "classification": TaskRules(_images, _class_ids, _IMAGES_EXPECTED,
                                "class ids: an int, a list of ints, or an array of rank 0-2"),
}
_ANY = TaskRules(_images, lambda x: not isinstance(x, (str, bytes, dict)) and x is not None, _IMAGES_EXPECTED,
                 "anything but a string or None")


def rules_for(task: str) -> TaskRules:
    return RULES.get(task, _ANY)
