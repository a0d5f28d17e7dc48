"""Canonical detection batch and its builder (layout, format and validity decided here, once).

Boxes are flattened over the batch (one row per box, with the index of its image) so
every feature works on the whole batch with vectorised numpy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Set

import numpy as np

from data_gradients.batch.arrays import describe, group_by_shape, images_to_nchw
from data_gradients.batch.boxes import (
    BBOX_FORMATS,
    NORMALISED_MAX,
    PIXEL_MIN,
    RawBoxes,
    check_label_column,
    count_label_samples,
    infer_format,
    infer_normalized,
    parse_labels,
    to_xyxy,
)
from data_gradients.batch.images import ImageBatch, check_images, image_fields
from data_gradients.errors import BatchFormatError, ConfigurationError

#: kinds of bad boxes, in the order of the columns of ``DetectionBatch.box_problems``. A box
#: gets the first kind that applies. All but ``partly_outside`` are left out of the statistics;
#: partly-outside boxes are clipped to the image and kept.
BOX_PROBLEMS = ("nonfinite", "class_out_of_range", "degenerate", "fully_outside", "partly_outside")
EXCLUDED_PROBLEMS = BOX_PROBLEMS[:4]
#: ``DetectionBatch.box_scale_mismatch`` codes 1 and 2
SCALE_MISMATCHES = ("looks_normalised", "looks_pixels")
MIN_SIDE_FOR_PIXELS = 16  # boxes within 0..1 px only look normalised on images at least this large
OUTSIDE_EPS = 1e-3  # pixels a box may pass the image border by (float rounding) before it counts as outside


@dataclass
class DetectionBatch(ImageBatch):
    """Images plus their valid boxes, flattened over the batch and sorted by image.

    ``boxes`` (M, 4) float64 x1, y1, x2, y2 in pixels, clipped to the image; ``box_classes``
    (M,) int64 counted class ids; ``box_image`` (M,) int64 index (0..N-1) of each box's image.
    ``boxes_per_image`` (N,) counts the valid boxes of each image (0 = background image).
    ``box_problems`` (N, len(BOX_PROBLEMS)) counts the bad boxes of each image per kind.
    ``box_scale_mismatch`` (N,) int8, None when no image is suspect: 1 where every box coordinate of
    the image is within 0..1 though boxes are read as pixels, 2 where a coordinate is above 2 though
    they are read as normalised (see :data:`SCALE_MISMATCHES`).
    Boxes of ignored classes are dropped without a trace (censored).
    """

    boxes: np.ndarray = None  # type: ignore[assignment]
    box_classes: np.ndarray = None  # type: ignore[assignment]
    box_image: np.ndarray = None  # type: ignore[assignment]
    boxes_per_image: np.ndarray = None  # type: ignore[assignment]
    box_problems: np.ndarray = None  # type: ignore[assignment]
    box_scale_mismatch: Optional[np.ndarray] = None

    def problem_counts(self, kind: str) -> np.ndarray:
        """(N,) number of boxes of each image with problem ``kind`` (one of BOX_PROBLEMS)."""
        return self.box_problems[:, BOX_PROBLEMS.index(kind)]

    def class_counts(self, n_ids: int) -> np.ndarray:
        """(N, n_ids) int64 valid boxes of each class in each image (read-only): one bincount,
        built once per batch and shared by the class features (rebuilt if the boxes are replaced)."""
        cached = self.__dict__.get("_class_counts")
        if cached is None or cached[0] != n_ids or cached[1] is not self.box_classes or cached[2] is not self.box_image:
            n = len(self)
            counts = np.bincount(self.box_image * n_ids + self.box_classes, minlength=n * n_ids).reshape(n, n_ids)
            counts.flags.writeable = False
            cached = self.__dict__["_class_counts"] = (n_ids, self.box_classes, self.box_image, counts)
        return cached[3]

    @property
    def box_widths(self) -> np.ndarray:
        return self.boxes[:, 2] - self.boxes[:, 0]

    @property
    def box_heights(self) -> np.ndarray:
        return self.boxes[:, 3] - self.boxes[:, 1]


class DetectionBatchBuilder:
    """Validates raw (images, labels) and returns canonical batches, one per image size.

    ``bbox_format`` / ``normalized_boxes`` left as None are inferred once, from the first
    batch holding a finite box; the assumption goes to ``notes`` (shown in the report) and
    an undecidable first batch raises a ConfigurationError naming the argument to pass.
    """

    def __init__(self, num_classes: int, class_ids: Iterable[int], ignore_labels: Iterable[int], *,
                 bbox_format: Optional[str] = None, normalized_boxes: Optional[bool] = None, label_first: bool = True):
        check_box_options(bbox_format, normalized_boxes, label_first)
        self.num_classes = num_classes
        ids = np.array(sorted(int(i) for i in class_ids), dtype=np.int64)
        self._counted = np.zeros(int(ids.max(initial=-1)) + 1, dtype=bool)
        self._counted[ids] = True
        self.ignore_labels = np.array(sorted(set(int(i) for i in ignore_labels)), dtype=np.float64)
        self.bbox_format = bbox_format
        self.normalized_boxes = normalized_boxes
        self.label_first = label_first
        self.format_inferred = bbox_format is None
        self.scale_inferred = normalized_boxes is None
        self.notes: Set[str] = set()
        self._checked = False  # True once a batch with a finite box was seen (column order, format, scale)

    @property
    def resolved(self) -> bool:
        return self.bbox_format is not None and self.normalized_boxes is not None

    def describe(self) -> Dict[str, Any]:
        """How boxes were read (for the report's configuration)."""
        return {"bbox_format": self.bbox_format, "bbox_format_inferred": self.format_inferred,
                "normalized_boxes": self.normalized_boxes, "normalized_boxes_inferred": self.scale_inferred,
                "label_first": self.label_first}

    def build(self, images: Any, labels: Any, first_sample_id: int) -> List[DetectionBatch]:
        try:
            imgs = images_to_nchw(images, torch_layout=False, n_hint=count_label_samples(labels))
        except (TypeError, ValueError) as e:
            raise BatchFormatError(f"`images` could not be read as images: {e}; got {describe(images)}") from None
        raw = parse_labels(labels, label_first=self.label_first, n_images=len(imgs))
        if raw.n_images != len(imgs):
            raise BatchFormatError(
                f"images and labels disagree on the batch size: {len(imgs)} images ({describe(images)}) but "
                f"labels for {raw.n_images} images ({describe(labels)})"
            )
        check_images(imgs, first_sample_id)
        raw = self._drop_ignored(raw)
        image_wh = np.array([[im.shape[2], im.shape[1]] for im in imgs], dtype=np.float64).reshape(-1, 2)
        if not self._checked:
            readable = (image_wh > 0).all(axis=1)  # boxes of an image without pixels teach nothing
            self._resolve(raw if readable.all() else raw.subset(readable[raw.image]), image_wh)
        return [self._canonical(imgs, raw, idx, first_sample_id) for idx in group_by_shape(imgs)]

    # ------------------------------------------------------------------ steps
    def _drop_ignored(self, raw: RawBoxes) -> RawBoxes:
        if len(self.ignore_labels) == 0 or len(raw.classes) == 0:
            return raw
        return raw.subset(~np.isin(raw.classes, self.ignore_labels))

    def _resolve(self, raw: RawBoxes, image_wh: np.ndarray) -> None:
        finite = np.isfinite(raw.coords).all(axis=1)
        if not finite.any():
            return  # nothing to learn from yet: no box in this batch is usable
        check_label_column(raw, self.label_first)
        self._checked = True
        coords = raw.coords[finite]
        if self.normalized_boxes is None:
            readable_wh = image_wh[(image_wh > 0).all(axis=1)]  # images without pixels have no side
            self.normalized_boxes, note = infer_normalized(coords, float(readable_wh.min()))
            self.notes.add(note)
        if self.bbox_format is None:
            self.bbox_format, note = infer_format(coords, image_wh[raw.image[finite]], self.normalized_boxes)
            self.notes.add(note)

    def _canonical(self, imgs: List[np.ndarray], raw: RawBoxes, idx: List[int], first_sample_id: int) -> DetectionBatch:
        fields = image_fields(imgs, idx, first_sample_id, self.notes)
        n, h, w = len(idx), int(imgs[idx[0]].shape[1]), int(imgs[idx[0]].shape[2])
        if fields.get("unreadable"):  # no pixel: the samples are only counted, their boxes are not read
            return DetectionBatch(**fields, boxes=np.zeros((0, 4)), box_classes=np.zeros(0, dtype=np.int64),
                                  box_image=np.zeros(0, dtype=np.int64), boxes_per_image=np.zeros(n, dtype=np.int64),
                                  box_problems=np.zeros((n, len(BOX_PROBLEMS)), dtype=np.int64))
        local = np.full(raw.n_images, -1, dtype=np.int64)
        local[idx] = np.arange(n)
        box_image = local[raw.image]
        sel = box_image >= 0
        box_image, coords, classes = box_image[sel], raw.coords[sel], raw.classes[sel]
        if self.resolved:
            xyxy = to_xyxy(coords, self.bbox_format)
            if self.normalized_boxes:
                xyxy *= np.array([w, h, w, h], dtype=np.float64)
        else:  # no finite box seen yet, so every box here is non-finite
            xyxy = np.full((len(coords), 4), np.nan)
        problem, class_ids = self._problems(xyxy, classes, w, h)
        k = len(BOX_PROBLEMS)
        bad = problem >= 0
        box_problems = np.bincount(box_image[bad] * k + problem[bad], minlength=n * k).reshape(n, k)
        keep = (problem < 0) | (problem == BOX_PROBLEMS.index("partly_outside"))
        boxes = np.minimum(np.maximum(xyxy[keep], 0.0), np.array([w, h, w, h], dtype=np.float64))  # clip to the image
        return DetectionBatch(
            **fields,
            boxes=boxes,
            box_classes=class_ids[keep],
            box_image=box_image[keep],
            boxes_per_image=np.bincount(box_image[keep], minlength=n).astype(np.int64),
            box_problems=box_problems.astype(np.int64),
            box_scale_mismatch=self._scale_mismatch(coords, box_image, n, min(h, w)) if self.resolved else None,
        )

    def _scale_mismatch(self, coords: np.ndarray, box_image: np.ndarray, n: int, min_side: int) -> Optional[np.ndarray]:
        """(N,) int8 per image: 1 when its boxes are read as pixels but every coordinate is within
        0..1 (normalised boxes? needs an image side of 16 px or more), 2 when they are read as
        normalised but a coordinate is above 2 (pixel boxes?); None when no image is suspect."""
        if len(coords) == 0:
            return None
        # the common case first, in one cheap reduction: no box can make its image suspect (a box
        # within 0..1 has its first coordinate there; NaN, from a non-finite box, is looked at whole)
        m = float(coords.max()) if self.normalized_boxes else float(coords[:, 0].min())
        if not (m > PIXEL_MIN if self.normalized_boxes else m <= NORMALISED_MAX) and m == m:
            return None
        top = coords.max(axis=1)  # NaN for a box with a NaN coordinate: never suspect
        per_image = np.full(n, -np.inf)
        finite = np.isfinite(top)
        np.maximum.at(per_image, box_image[finite], top[finite])
        if self.normalized_boxes:
            suspect = per_image > PIXEL_MIN
        else:
            suspect = (per_image > 0) & (per_image <= NORMALISED_MAX) & (min_side >= MIN_SIDE_FOR_PIXELS)
        if not suspect.any():
            return None
        return np.where(suspect, 2 if self.normalized_boxes else 1, 0).astype(np.int8)

    def _problems(self, xyxy: np.ndarray, classes: np.ndarray, w: int, h: int):
        """(M,) index into BOX_PROBLEMS of each box's first problem (-1: none) and (M,) class ids."""
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(xyxy).all(axis=1)
            whole = np.isfinite(classes) & (classes == np.rint(classes))
            class_ids = np.where(whole, classes, -1).astype(np.int64)
            counted = (class_ids >= 0) & (class_ids < len(self._counted))
            counted[counted] = self._counted[class_ids[counted]]
            x1, y1, x2, y2 = xyxy.T
            degenerate = (x2 <= x1) | (y2 <= y1)
            fully = (x2 <= 0) | (y2 <= 0) | (x1 >= w) | (y1 >= h)
            partly = (x1 < -OUTSIDE_EPS) | (y1 < -OUTSIDE_EPS) | (x2 > w + OUTSIDE_EPS) | (y2 > h + OUTSIDE_EPS)
        problem = np.full(len(xyxy), -1, dtype=np.int64)
        for code, bad in ((4, partly), (3, fully), (2, degenerate), (1, ~counted), (0, ~finite)):
            problem[bad] = code  # last written wins: each box keeps its first problem in BOX_PROBLEMS order
        return problem, class_ids


def check_box_options(bbox_format: Any, normalized_boxes: Any, label_first: Any) -> None:
    """Refuse bad ``bbox_format`` / ``normalized_boxes`` / ``label_first`` values up front."""
    if bbox_format is not None and bbox_format not in BBOX_FORMATS:
        raise ConfigurationError(f"`bbox_format` must be one of {list(BBOX_FORMATS)} or None (infer), got {bbox_format!r}")
    if normalized_boxes is not None and not isinstance(normalized_boxes, bool):
        raise ConfigurationError(f"`normalized_boxes` must be True, False or None (infer), got {normalized_boxes!r}")
    if not isinstance(label_first, bool):
        raise ConfigurationError(f"`label_first` must be True (class in column 0) or False (column 4), got {label_first!r}")
