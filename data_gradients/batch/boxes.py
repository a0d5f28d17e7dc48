"""Reading detection labels: the layouts a loader may use and the box formats.

Layouts (one batch of N images):

- a list of N per-image arrays/tensors of shape (n_i, 5) (``(0,)`` or ``(0, 5)``: no box);
- a padded array/tensor (N, max_boxes, 5); padding rows (all zero, or class -1) are skipped;
- torchvision style: a list of N dicts with ``boxes`` (n_i, 4) and ``labels`` (n_i,), or one
  dict whose ``boxes`` / ``labels`` are such lists or padded (N, max_boxes, 4) / (N, max_boxes);
- one (n, 5) array when the batch holds a single image.

The class is column 0 (``label_first=True``) or column 4 of a 5-column row. Formats:
``xyxy`` (corners), ``xywh`` (top-left corner and size), ``cxcywh`` (centre and size),
in pixels or normalised to [0, 1] by the image width and height.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np

from data_gradients.batch.arrays import describe, is_array_like, to_numpy
from data_gradients.errors import BatchFormatError, ConfigurationError

BBOX_FORMATS = ("xyxy", "xywh", "cxcywh")
FORMAT_DESCRIPTIONS = {
    "xyxy": "x1, y1, x2, y2: top-left and bottom-right corners",
    "xywh": "x, y, w, h: top-left corner, width and height",
    "cxcywh": "cx, cy, w, h: centre, width and height",
}
BOX_KEYS = ("boxes", "bboxes")
CLASS_KEYS = ("labels", "classes", "class_ids", "category_ids")
LAYOUT_HELP = (
    "detection labels must be a list of per-image (n, 5) arrays/tensors, a padded (N, max_boxes, 5) "
    "array/tensor, or torchvision-style dicts with 'boxes' (n, 4) and 'labels' (n,)"
)

# format inference: a box is impossible in a format when it has no area or leaves the image
# by more than this share of the image side; a format is ruled out when it makes at least
# max(2, 5% of the boxes) more boxes impossible than the best format
INFER_TOLERANCE = 0.01
INFER_MARGIN = (2, 0.05)
NORMALISED_MAX = 1.0 + 1e-6  # all coordinates <= this: normalised
PIXEL_MIN = 2.0  # largest coordinate above this: pixels; in between: ambiguous


@dataclass
class RawBoxes:
    """The boxes of one batch as written, flattened: ``coords`` (M, 4) and ``classes`` (M,)
    float64 (may be NaN), ``image`` (M,) int64 index of the image in the batch, in order."""

    coords: np.ndarray
    classes: np.ndarray
    image: np.ndarray
    n_images: int
    layout: str

    def subset(self, keep: np.ndarray) -> "RawBoxes":
        return RawBoxes(self.coords[keep], self.classes[keep], self.image[keep], self.n_images, self.layout)


def count_label_samples(labels: Any) -> Optional[int]:
    """Number of images the labels describe, when the layout says it (None when unknown)."""
    if isinstance(labels, Mapping):
        boxes = labels.get("boxes", labels.get("bboxes"))
        if isinstance(boxes, (list, tuple)):
            return len(boxes)
        return _first_dim_of_rank_3(boxes)
    if isinstance(labels, (list, tuple)):
        return len(labels)
    return _first_dim_of_rank_3(labels)


def _first_dim_of_rank_3(x: Any) -> Optional[int]:
    shape = getattr(x, "shape", None) if is_array_like(x) else None
    return int(shape[0]) if shape is not None and len(shape) == 3 else None


def parse_labels(labels: Any, *, label_first: bool, n_images: int) -> RawBoxes:
    """Flatten one batch of labels in any supported layout (see the module docstring)."""
    if isinstance(labels, Mapping):
        return _from_batch_dict(labels, n_images)
    if isinstance(labels, (list, tuple)):
        if all(isinstance(x, Mapping) for x in labels) and labels:
            return _concat([_dict_rows(d, i) for i, d in enumerate(labels)], len(labels), "dicts")
        if all(is_array_like(x) or isinstance(x, (list, tuple)) for x in labels):
            rows = [_rows(_as_array(x, f"labels[{i}]"), f"labels[{i}]") for i, x in enumerate(labels)]
            return _concat([_split_columns(r, label_first) for r in rows], len(labels), "list")
        raise BatchFormatError(f"{LAYOUT_HELP}; got {describe(labels)}")
    if is_array_like(labels):
        a = _as_array(labels, "labels")
        if a.ndim == 3:
            return _padded(a, label_first)
        if a.ndim <= 2 and n_images == 1:
            return _concat([_split_columns(_rows(a, "labels"), label_first)], 1, "single")
        if a.ndim == 2 and a.shape[-1] in (5, 6):
            raise BatchFormatError(
                f"a 2-D label array (n, {a.shape[-1]}) fits a batch of one image, but the batch has {n_images} "
                f"images; {LAYOUT_HELP} (flat (M, 6) targets with an image index column need a "
                f"`labels_extractor` that splits them per image); got {describe(labels)}"
            )
    raise BatchFormatError(f"{LAYOUT_HELP}; got {describe(labels)}")


def _get(d: Mapping, keys: Tuple[str, ...]) -> Any:
    for k in keys:
        if k in d:
            return d[k]
    raise BatchFormatError(f"a detection label dict needs one of the keys {list(keys)}; got keys {list(d)}")


def _as_array(x: Any, where: str = "an item") -> np.ndarray:
    """A numeric (bool, int or float) array from an array, tensor or plain Python rows
    ([[class, x1, y1, x2, y2], ...]); anything else is a BatchFormatError naming ``where``."""
    try:
        a = to_numpy(x) if is_array_like(x) else np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        a = None
    if a is None or a.dtype.kind not in "biuf":
        raise BatchFormatError(f"{LAYOUT_HELP}; got {where} {describe(x)} that is not a table of numbers") from None
    return a


def _rows(a: np.ndarray, where: str) -> np.ndarray:
    if a.size == 0:
        return np.zeros((0, 5), dtype=np.float64)
    if a.ndim == 1 and a.shape[0] == 5:
        a = a[None]  # one box
    if a.ndim != 2 or a.shape[1] != 5:
        raise BatchFormatError(f"`{where}` must have shape (n, 5) (class and 4 coordinates per box), got shape {a.shape}")
    return a.astype(np.float64, copy=False)


def _split_columns(rows: np.ndarray, label_first: bool) -> Tuple[np.ndarray, np.ndarray]:
    return (rows[:, 1:5], rows[:, 0]) if label_first else (rows[:, 0:4], rows[:, 4])


def _dict_rows(d: Mapping, i: int) -> Tuple[np.ndarray, np.ndarray]:
    boxes = _as_array(_get(d, BOX_KEYS), f"labels[{i}]['boxes']")
    classes = _as_array(_get(d, CLASS_KEYS), f"labels[{i}]['labels']")
    if boxes.size == 0 and classes.size == 0:
        return np.zeros((0, 4)), np.zeros(0)
    if boxes.ndim != 2 or boxes.shape[1] != 4 or classes.reshape(-1).shape[0] != boxes.shape[0]:
        raise BatchFormatError(
            f"labels[{i}] must hold 'boxes' (n, 4) and 'labels' (n,) of the same n, got boxes of shape "
            f"{boxes.shape} and labels of shape {classes.shape}"
        )
    return boxes.astype(np.float64, copy=False), classes.reshape(-1).astype(np.float64, copy=False)


def _from_batch_dict(d: Mapping, n_images: int) -> RawBoxes:
    boxes, classes = _get(d, BOX_KEYS), _get(d, CLASS_KEYS)
    if isinstance(boxes, (list, tuple)):
        if not isinstance(classes, (list, tuple)) or len(classes) != len(boxes):
            raise BatchFormatError(f"a label dict with a list of {len(boxes)} per-image 'boxes' needs a list of as many "
                                   f"per-image 'labels'; got labels {describe(classes)}")
        per_image = [_dict_rows({"boxes": b, "labels": c}, i) for i, (b, c) in enumerate(zip(boxes, classes))]
        return _concat(per_image, len(boxes), "dicts")
    b, c = _as_array(boxes, "'boxes'"), _as_array(classes, "'labels'")
    if b.ndim == 3 and b.shape[-1] == 4 and c.shape == b.shape[:2]:
        rows = np.concatenate([c[..., None].astype(np.float64), b.astype(np.float64)], axis=-1)
        return _padded(rows, label_first=True)
    if n_images == 1:
        return _concat([_dict_rows(d, 0)], 1, "dicts")
    raise BatchFormatError(
        f"a label dict for {n_images} images needs per-image lists or padded (N, max_boxes, 4) 'boxes' with "
        f"(N, max_boxes) 'labels'; got boxes {describe(boxes)} and labels {describe(classes)}"
    )


def _padded(a: np.ndarray, label_first: bool) -> RawBoxes:
    if a.shape[-1] != 5:
        raise BatchFormatError(f"padded detection labels must have shape (N, max_boxes, 5), got shape {a.shape}")
    n, b = a.shape[:2]
    flat = a.reshape(n * b, 5).astype(np.float64, copy=False)
    coords, classes = _split_columns(flat, label_first)
    padding = (flat == 0).all(axis=1) | (classes == -1)
    keep = ~padding
    image = np.repeat(np.arange(n, dtype=np.int64), b)
    return RawBoxes(coords[keep], classes[keep], image[keep], n, "padded")


def _concat(per_image: List[Tuple[np.ndarray, np.ndarray]], n: int, layout: str) -> RawBoxes:
    counts = [len(c) for _, c in per_image]
    if sum(counts) == 0:
        return RawBoxes(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64), n, layout)
    coords = np.concatenate([b for b, _ in per_image]).astype(np.float64, copy=False)
    classes = np.concatenate([c for _, c in per_image]).astype(np.float64, copy=False)
    image = np.repeat(np.arange(n, dtype=np.int64), counts)
    return RawBoxes(coords, classes, image, n, layout)


def to_xyxy(coords: np.ndarray, fmt: str) -> np.ndarray:
    """(M, 4) boxes in ``fmt`` -> (M, 4) corners x1, y1, x2, y2 (same units)."""
    a, b, c, d = coords[:, 0], coords[:, 1], coords[:, 2], coords[:, 3]
    with np.errstate(invalid="ignore", over="ignore"):
        if fmt == "xyxy":
            return np.array(coords, dtype=np.float64, copy=True)
        if fmt == "xywh":
            return np.stack([a, b, a + c, b + d], axis=1)
        if fmt == "cxcywh":
            return np.stack([a - c / 2, b - d / 2, a + c / 2, b + d / 2], axis=1)
    raise ConfigurationError(f"`bbox_format` must be one of {list(BBOX_FORMATS)}, got {fmt!r}")


def infer_normalized(coords: np.ndarray, min_side: float) -> Tuple[bool, str]:
    """Normalised or pixel coordinates, from the finite boxes of the first batch with boxes.

    All coordinates <= 1: normalised. Largest coordinate above :data:`PIXEL_MIN`: pixels. In
    between, pixel boxes would all lie within the image's top-left 2 x 2 pixels, which only
    tiny images (``min_side`` < 16) make plausible: otherwise normalised boxes passing the border.
    """
    top = float(coords.max())
    if top <= NORMALISED_MAX:
        return True, (f"`normalized_boxes` not given: box coordinates read as normalised to [0, 1] (all "
                      f"{len(coords)} boxes of the first labelled batch have coordinates <= 1)")
    if top > PIXEL_MIN:
        return False, (f"`normalized_boxes` not given: box coordinates read as pixels (largest coordinate "
                       f"of the first labelled batch: {top:.4g})")
    if min_side >= 16:
        return True, (f"`normalized_boxes` not given: box coordinates read as normalised to [0, 1], some boxes "
                      f"passing the image border (largest coordinate of the first labelled batch: {top:.4g}; as "
                      f"pixels every box would lie in the top-left 2 x 2 pixels)")
    raise ConfigurationError(
        f"`normalized_boxes` cannot be inferred: the largest box coordinate of the first labelled batch is "
        f"{top:.4g} and its images are only {min_side:.0f} px small, so the boxes fit both normalised and pixel "
        f"coordinates. Pass normalized_boxes=True (coordinates are fractions of the image width/height) or "
        f"normalized_boxes=False (pixels)"
    )


def infer_format(coords: np.ndarray, image_wh: np.ndarray, normalized: bool) -> Tuple[str, str]:
    """The one box format under which clearly fewer boxes are impossible; else a ConfigurationError.

    ``coords`` (M, 4) finite boxes as written; ``image_wh`` (M, 2) width and height of each
    box's image. A box is impossible when it has no area or leaves the image by more than
    :data:`INFER_TOLERANCE` of the image side.
    """
    m = len(coords)
    rel = coords if normalized else coords / np.tile(image_wh, 2)
    bad: Dict[str, int] = {}
    for fmt in BBOX_FORMATS:
        b = to_xyxy(rel, fmt)
        impossible = ((b[:, 2] <= b[:, 0]) | (b[:, 3] <= b[:, 1]) | (b[:, :2] < -INFER_TOLERANCE).any(axis=1)
                      | (b[:, 2:] > 1 + INFER_TOLERANCE).any(axis=1))
        bad[fmt] = int(impossible.sum())
    best = min(BBOX_FORMATS, key=lambda f: bad[f])
    margin = max(INFER_MARGIN[0], math.ceil(INFER_MARGIN[1] * m))
    fitting = [f for f in BBOX_FORMATS if bad[f] - bad[best] < margin]
    tally = ", ".join(f"{bad[f]} as {f!r}" for f in BBOX_FORMATS)
    if len(fitting) == 1:
        return best, (f"`bbox_format` not given: boxes read as {best!r} ({FORMAT_DESCRIPTIONS[best]}); "
                      f"inferred from the first labelled batch, where of {m} boxes impossible ones were {tally}")
    options = "; ".join(f"bbox_format={f!r} ({FORMAT_DESCRIPTIONS[f]})" for f in fitting)
    raise ConfigurationError(
        f"`bbox_format` cannot be inferred: the {m} boxes of the first labelled batch fit several formats "
        f"(impossible boxes: {tally}). Pass one of: {options}"
    )


def check_label_column(raw: RawBoxes, label_first: bool) -> None:
    """Refuse a class column that holds coordinates (``label_first`` set the wrong way)."""
    if raw.layout == "dicts" or len(raw.classes) == 0:
        return
    cls = raw.classes[np.isfinite(raw.classes)]
    other = raw.coords[:, 0] if not label_first else raw.coords[:, 3]
    other = other[np.isfinite(other)]
    if len(cls) == 0 or len(other) == 0:
        return
    fractional = float(np.mean(cls != np.rint(cls)))
    if fractional > 0.5 and np.all(other == np.rint(other)):
        col, flip = ("first", "label_first=False") if label_first else ("last", "label_first=True")
        raise ConfigurationError(
            f"`label_first`={label_first}: the class column ({col} of 5) holds non-integer values in "
            f"{fractional:.0%} of the boxes, while the opposite end column is all integers; the class is "
            f"probably in the other column: pass {flip}"
        )
