"""Deterministic synthetic detection data, made by the package itself (demo and benchmark input).

Sample ``i`` of a split is a pure function of ``(seed, split, i)``: any index can be made on
its own (random access, DataLoader workers) and always comes out the same.

What an analysis of it should find (by design):

* 1-20 boxes per image; class shares fall off roughly as 1/(k+1) (``person`` most frequent,
  ``boat`` rarest) and every class has its own typical aspect ratio (persons tall, buses wide);
* persons come in groups and overlap; traffic lights sit in the upper part of the image;
* the val split is darker, its boxes are smaller (x ~0.7) and its classes are less imbalanced;
* a few boxes (about 3%) stick out of the image (partly outside, not clipped);
* with ``corrupt=True``, fixed indices (see :data:`DETECTION_CORRUPTIONS`) carry bad boxes: NaN
  coordinates, zero width, a box entirely outside the image, a class id ``num_classes + 2``, a
  duplicated box, or no box at all (a background image).
"""
from __future__ import annotations

import zlib
from typing import Any, List, Sequence, Tuple

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from data_gradients.batch.boxes import BBOX_FORMATS
from data_gradients.errors import ConfigurationError

DETECTION_CLASS_NAMES = ["person", "car", "bicycle", "dog", "traffic light", "bus", "cat", "bird", "truck", "boat"]
#: typical width / height of each class's boxes
_ASPECT = np.array([0.4, 1.6, 1.3, 1.3, 0.4, 1.8, 1.1, 1.0, 1.5, 2.0])
#: kind -> (modulus, remainder): sample ``i`` carries the corruption when ``i % modulus == remainder``
DETECTION_CORRUPTIONS = {
    "nan_box": (53, 7), "zero_width_box": (59, 11), "box_outside": (61, 13),
    "class_out_of_range": (67, 17), "duplicate_box": (43, 19), "no_boxes": (37, 3),
}
_STYLES = {  # split -> (brightness, box size factor, class imbalance exponent)
    "train": (1.0, 1.0, 1.2),
    "val": (0.75, 0.7, 0.6),
}
_COLOURS = np.random.default_rng(7).integers(40, 230, size=(len(DETECTION_CLASS_NAMES), 3))


def _is(kind: str, index: int) -> bool:
    modulus, remainder = DETECTION_CORRUPTIONS[kind]
    return index % modulus == remainder


def corrupted_detection_indices(n: int, kind: str) -> List[int]:
    """Indices below ``n`` that carry corruption ``kind`` (a key of :data:`DETECTION_CORRUPTIONS`)."""
    modulus, remainder = DETECTION_CORRUPTIONS[kind]
    return list(range(remainder, n, modulus))


def render_detection_sample(seed: int, split: str, index: int, size: Tuple[int, int] = (256, 256),
                            num_classes: int = 10, corrupt: bool = True,
                            mean_boxes: float = 6.0) -> Tuple[np.ndarray, np.ndarray]:
    """One sample: RGB image (H, W, 3) uint8 and boxes (n, 5) float32 rows ``class, x1, y1, x2, y2`` in pixels;
    about ``mean_boxes`` boxes (1 + a Poisson count, at most 20; a few may fall off the image)."""
    brightness, scale, imbalance = _STYLES.get(split, _STYLES["train"])
    rng = np.random.default_rng([seed, zlib.crc32(split.encode()), index])
    h, w = size
    n = int(min(1 + rng.poisson(mean_boxes - 1.0), 20))
    p = 1.0 / np.arange(1, num_classes + 1) ** imbalance
    cls = rng.choice(num_classes, size=n, p=p / p.sum())
    # size: log-normal area share; shape: the class's aspect ratio with some spread
    area = np.clip(rng.lognormal(np.log(0.02 * scale), 1.0, n), 2e-4, 0.5) * h * w
    aspect = _ASPECT[cls % len(_ASPECT)] * rng.lognormal(0.0, 0.2, n)
    bw, bh = np.sqrt(area * aspect), np.sqrt(area / aspect)
    cx, cy = rng.uniform(0, w, n), rng.uniform(0, h, n)
    person = np.flatnonzero(cls == 0)
    if len(person) > 1:  # persons stand in a group around the first one
        cx[person[1:]] = cx[person[0]] + rng.normal(0, bw[person[0]], len(person) - 1)
        cy[person[1:]] = cy[person[0]] + rng.normal(0, 0.2 * bh[person[0]], len(person) - 1)
    lights = cls == 4
    cy[lights] = rng.uniform(0, 0.4 * h, int(lights.sum()))
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
    inside = rng.random(n) >= 0.03  # most boxes are clipped to the image, a few stick out
    boxes[inside] = np.clip(boxes[inside], 0, [w, h, w, h])
    boxes = np.round(boxes, 1)
    visible = (np.minimum(boxes[:, 2], w) - np.maximum(boxes[:, 0], 0) >= 1) & \
              (np.minimum(boxes[:, 3], h) - np.maximum(boxes[:, 1], 0) >= 1)
    boxes, cls = boxes[visible], cls[visible]  # a group member pushed off the image is not annotated
    img = _render_image(rng, h, w, boxes, cls, brightness)
    rows = np.column_stack([cls, boxes]).astype(np.float32)
    if corrupt:
        rows = _corrupt(rows, index, w, h, num_classes)
    return img, rows


def _render_image(rng: np.random.Generator, h: int, w: int, boxes: np.ndarray, cls: np.ndarray,
                  brightness: float) -> np.ndarray:
    top, bottom = rng.integers(60, 200, 3), rng.integers(30, 160, 3)
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    img = (top * (1 - t) + bottom * t).repeat(w, axis=1)
    img = img + rng.normal(0.0, 6.0, (h, w, 3))
    img = np.clip(img, 0, 255).astype(np.uint8)
    order = np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))  # large first
    for k in order:  # a loop over objects (drawing), not pixels
        x1, y1, x2, y2 = (int(v) for v in np.round(boxes[k]))
        colour = tuple(int(v) for v in _COLOURS[cls[k] % len(_COLOURS)])
        cv2.ellipse(img, ((x1 + x2) // 2, (y1 + y2) // 2), (max((x2 - x1) // 2, 1), max((y2 - y1) // 2, 1)),
                    0, 0, 360, colour, -1)
    return cv2.convertScaleAbs(img, alpha=brightness * rng.uniform(0.9, 1.1))


def _corrupt(rows: np.ndarray, index: int, w: int, h: int, num_classes: int) -> np.ndarray:
    if _is("no_boxes", index):
        return rows[:0]
    rows = rows.copy()
    if _is("nan_box", index):
        rows[0, 3] = np.nan
    if _is("zero_width_box", index):
        rows[-1, 3] = rows[-1, 1]
    if _is("box_outside", index):
        rows = np.vstack([rows, [[1, w + 10, 10, w + 60, 50]]]).astype(np.float32)
    if _is("class_out_of_range", index):
        rows[0, 0] = num_classes + 2
    if _is("duplicate_box", index):
        dup = rows[:1].copy()
        dup[0, 1:] += 1.0
        rows = np.vstack([rows, dup])
    return rows


def convert_boxes(rows: np.ndarray, bbox_format: str, normalized: bool, w: int, h: int) -> np.ndarray:
    """``class, x1, y1, x2, y2`` pixel rows -> the same rows in ``bbox_format`` (normalised if asked)."""
    out = rows.astype(np.float32, copy=True)
    x1, y1, x2, y2 = rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4]
    if bbox_format == "xywh":
        out[:, 3], out[:, 4] = x2 - x1, y2 - y1
    elif bbox_format == "cxcywh":
        out[:, 1], out[:, 2], out[:, 3], out[:, 4] = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    if normalized:
        out[:, 1:] /= np.array([w, h, w, h], dtype=np.float32)
    return out


class SyntheticDetectionDataset(Dataset):
    """``n`` synthetic samples rendered on access; ``dataset[i]`` is ``(image, boxes)``: a float32
    (3, H, W) tensor in [0, 1] and a float32 (n, 5) tensor of rows ``class, 4 coordinates`` in
    ``bbox_format`` (pixels, or [0, 1] with ``normalized=True``)."""

    def __init__(self, n: int, *, split: str = "train", size: Tuple[int, int] = (256, 256), num_classes: int = 10,
                 seed: int = 0, corrupt: bool = True, bbox_format: str = "xyxy", normalized: bool = False):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigurationError(f"`n` must be a non-negative int, got {n!r}")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 1 <= num_classes <= len(_ASPECT):
            raise ConfigurationError(f"`num_classes` must be an int in [1, {len(_ASPECT)}], got {num_classes!r}")
        if bbox_format not in BBOX_FORMATS:
            raise ConfigurationError(f"`bbox_format` must be one of {list(BBOX_FORMATS)}, got {bbox_format!r}")
        self.n, self.split, self.size, self.num_classes, self.seed = n, split, tuple(size), num_classes, seed
        self.corrupt, self.bbox_format, self.normalized = corrupt, bbox_format, normalized

    @property
    def class_names(self) -> List[str]:
        return DETECTION_CLASS_NAMES[: self.num_classes]

    def __len__(self) -> int:
        return self.n

    def render(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Sample ``index`` as a uint8 (H, W, 3) image and (n, 5) ``class, x1, y1, x2, y2`` pixel rows."""
        if not 0 <= index < self.n:
            raise IndexError(f"index {index} is out of range for a dataset of {self.n} samples")
        return render_detection_sample(self.seed, self.split, index, self.size, self.num_classes, self.corrupt)

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        index = index + self.n if -self.n <= index < 0 else index
        img, rows = self.render(index)
        h, w = img.shape[:2]
        rows = convert_boxes(rows, self.bbox_format, self.normalized, w, h)
        image = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float().div_(255.0)
        return image, torch.from_numpy(rows)


def detection_collate(batch: Sequence[Tuple[Any, Any]]) -> Tuple[torch.Tensor, List[Any]]:
    """Stack the images, keep the boxes as a list of per-image (n, 5) tensors."""
    return torch.stack([image for image, _ in batch]), [boxes for _, boxes in batch]


def detection_demo_loaders(n_train: int = 240, n_val: int = 60, batch_size: int = 8, seed: int = 0,
                           **kwargs: Any) -> Tuple[DataLoader, DataLoader]:
    """Train and val DataLoaders (unshuffled, in-process) over SyntheticDetectionDataset;
    ``kwargs`` go to both datasets (size, num_classes, corrupt, bbox_format, normalized)."""
    return tuple(  # type: ignore[return-value]
        DataLoader(SyntheticDetectionDataset(n, split=split, seed=seed, **kwargs), batch_size=batch_size,
                   shuffle=False, num_workers=0, collate_fn=detection_collate)
        for n, split in ((n_train, "train"), (n_val, "val")))
