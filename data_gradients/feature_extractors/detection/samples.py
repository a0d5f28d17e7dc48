"""A seeded uniform sample of images with their boxes and class names drawn (TensorBoard pictures)."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from data_gradients.batch import DetectionBatch
from data_gradients.feature_extractors.common.hwc import hwc_copy
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.sample_reservoir import SampleReservoir

THUMBNAIL_SIDE = 512  # longest side of a stored sample, in pixels (never upscaled)
# A candidate of up to 1.25 thumbnails' pixels (a 640 x 480 frame) is kept as read and reduced when drawn:
# most candidates leave the reservoir before the end (~k ln(n / k) enter it), and a copy costs ~1/15 of a reduction
RAW_PIXELS = 5 * THUMBNAIL_SIDE * THUMBNAIL_SIDE // 4
GOLDEN = 0.618033988749895
LABEL_FONT, LABEL_SCALE = cv2.FONT_HERSHEY_SIMPLEX, 0.35
LABEL_BASE = cv2.getTextSize("g", LABEL_FONT, LABEL_SCALE, 1)[1]  # room below the baseline


def class_colour(class_id: int) -> Tuple[int, int, int]:
    """A bright RGB colour per class id, the same in every run (hues spread by the golden ratio)."""
    hue = int(((class_id * GOLDEN) % 1.0) * 180)  # OpenCV hue range is 0..179
    hsv = np.array([[[hue, 220, 255]]], dtype=np.uint8)
    return tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def thumbnail(image_chw: np.ndarray, boxes: np.ndarray, side: int = THUMBNAIL_SIDE) -> Tuple[np.ndarray, np.ndarray]:
    """(HWC uint8 image, boxes scaled alike) with the longest side at most ``side``; copies, so a
    stored sample never keeps the whole batch alive."""
    image = hwc_copy(image_chw)
    h, w = image.shape[:2]
    scale = side / max(h, w, 1)
    if scale >= 1:
        return image, boxes.astype(np.float32, copy=True)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # cv2 wants (width, height)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), (boxes * scale).astype(np.float32)


def draw_boxes(image: np.ndarray, boxes: np.ndarray, classes: np.ndarray, names: Dict[int, str]) -> np.ndarray:
    """A copy of ``image`` with each box outlined in its class colour and labelled with its class name.

    Boxes are drawn first, then the names, each at the first free place among a few candidates (above
    the box, inside its top, below it, then further down the box's left edge); a name that finds no
    free place is left out (its box keeps its colour), so names never print over each other."""
    out = np.ascontiguousarray(image.copy())
    rows = list(zip(np.rint(boxes).astype(int).tolist(), classes.tolist()))
    for (x1, y1, x2, y2), c in rows:  # loop over objects
        cv2.rectangle(out, (x1, y1), (max(x2 - 1, x1), max(y2 - 1, y1)), class_colour(int(c)), 1)
    for (tx, top, right, bottom), ((x1, y1, x2, y2), c) in zip(label_places(rows, names, out.shape[:2]), rows):
        if right > tx:
            text = names.get(int(c), str(int(c)))
            cv2.rectangle(out, (tx, top), (right - 1, bottom - 1), class_colour(int(c)), -1)
            cv2.putText(out, text, (tx + 1, bottom - 1 - LABEL_BASE), LABEL_FONT, LABEL_SCALE, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def label_places(rows: List[Tuple[List[int], int]], names: Dict[int, str], shape: Tuple[int, int]) -> List[Tuple[int, ...]]:
    """Per box, the (left, top, right, bottom) pixels of its name's label; (0, 0, 0, 0): left out."""
    height, width = shape
    placed: List[Tuple[int, int, int, int]] = []
    out = []
    for (x1, y1, x2, y2), c in rows:
        (tw, th), _ = cv2.getTextSize(names.get(int(c), str(int(c))), LABEL_FONT, LABEL_SCALE, 1)
        w, h = tw + 2, th + LABEL_BASE + 2
        spot = _free_spot(placed, (x1, y1, x2, y2), w, h, width, height)
        if spot is None:
            out.append((0, 0, 0, 0))
            continue
        placed.append((spot[0], spot[1], spot[0] + w, spot[1] + h))
        out.append(placed[-1])
    return out


def _free_spot(placed: List[Tuple[int, int, int, int]], box: Tuple[int, int, int, int], w: int, h: int,
               width: int, height: int) -> Optional[Tuple[int, int]]:
    """Top-left corner of a ``w`` x ``h`` label for ``box`` that overlaps no ``placed`` label and stays
    inside the picture, or None."""
    x1, y1, x2, y2 = box
    if w > width or h > height:
        return None
    tx = max(min(x1, width - w), 0)
    candidates = [y1 - h, y1, y2] + [y1 + k * h for k in range(1, 8)]
    for top in candidates:
        if top < 0 or top + h > height:
            continue
        if not any(tx < r[2] and r[0] < tx + w and top < r[3] and r[1] < top + h for r in placed):
            return tx, top
    return None


@register_feature
class DetectionSamples(SampleReservoir):
    name = "detection_samples"
    title = "Sample images with boxes"
    description = (
        "A few images per split, drawn uniformly at random (seeded, so the same ones every run), with every "
        "valid box outlined and named. Look for boxes that are shifted, scaled, swapped in x/y or labelled "
        "with the wrong class: the usual signs of a wrong box format."
    )
    tasks = ("detection",)
    grid_title = "Images with their boxes"

    def payload(self, batch: DetectionBatch, index: int) -> Tuple:
        mine = batch.box_image == index
        image, boxes, classes = batch.images[index], batch.boxes[mine], batch.box_classes[mine].copy()
        if image.shape[1] * image.shape[2] <= RAW_PIXELS:
            return image.copy(), boxes.copy(), classes, False
        return (*thumbnail(image, boxes), classes, True)

    def picture(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray, reduced: bool = True) -> np.ndarray:
        if not reduced:  # kept as read (CHW): the same thumbnail as if made on arrival
            image, boxes = thumbnail(image, boxes)
        return draw_boxes(image, boxes, classes, self.context.class_names)
