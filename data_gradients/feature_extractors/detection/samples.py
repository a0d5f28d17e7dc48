"""A seeded uniform sample of images with their boxes and class names drawn (TensorBoard pictures)."""
from __future__ import annotations

from typing import Dict, Tuple

import cv2
import numpy as np

from data_gradients.batch import DetectionBatch
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.sample_reservoir import SampleReservoir

THUMBNAIL_SIDE = 512  # longest side of a stored sample, in pixels (never upscaled)
GOLDEN = 0.618033988749895


def class_colour(class_id: int) -> Tuple[int, int, int]:
    """A bright RGB colour per class id, the same in every run (hues spread by the golden ratio)."""
    hue = int(((class_id * GOLDEN) % 1.0) * 180)  # OpenCV hue range is 0..179
    hsv = np.array([[[hue, 220, 255]]], dtype=np.uint8)
    return tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def thumbnail(image_chw: np.ndarray, boxes: np.ndarray, side: int = THUMBNAIL_SIDE) -> Tuple[np.ndarray, np.ndarray]:
    """(HWC uint8 image, boxes scaled alike) with the longest side at most ``side``; copies, so a
    stored sample never keeps the whole batch alive."""
    image = image_chw.transpose(1, 2, 0).copy()
    h, w = image.shape[:2]
    scale = side / max(h, w, 1)
    if scale >= 1:
        return image, boxes.astype(np.float32, copy=True)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # cv2 wants (width, height)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), (boxes * scale).astype(np.float32)


def draw_boxes(image: np.ndarray, boxes: np.ndarray, classes: np.ndarray, names: Dict[int, str]) -> np.ndarray:
    """A copy of ``image`` with each box outlined in its class colour and labelled with its class name."""
    out = np.ascontiguousarray(image.copy())
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.35
    for (x1, y1, x2, y2), c in zip(np.rint(boxes).astype(int).tolist(), classes.tolist()):  # loop over objects
        colour = class_colour(int(c))
        cv2.rectangle(out, (x1, y1), (max(x2 - 1, x1), max(y2 - 1, y1)), colour, 1)
        text = names.get(int(c), str(int(c)))
        (tw, th), base = cv2.getTextSize(text, font, scale, 1)
        ty = y1 - 2 if y1 - th - base >= 0 else min(y1 + th + 2, out.shape[0] - base)
        tx = max(min(x1, out.shape[1] - tw - 2), 0)  # keep the name inside the picture
        cv2.rectangle(out, (tx, ty - th - 1), (tx + tw + 1, ty + base - 1), colour, -1)
        cv2.putText(out, text, (tx + 1, ty - 1), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return out


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
        image, boxes = thumbnail(batch.images[index], batch.boxes[mine])
        return image, boxes, batch.box_classes[mine].copy()

    def picture(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray) -> np.ndarray:
        return draw_boxes(image, boxes, classes, self.context.class_names)
