"""Overlay pictures of one sample: masks blended with a colour legend, boxes in red with their class
names, or a caption with the image's labels. Images are H,W,3 uint8 RGB; nothing here writes files.

Legends and captions go in a strip below the image, so the image's own pixels are only changed where
a mask is blended or a box and its name are drawn. Box names never overprint each other: each is put
at the first free place among a few next to its box, else listed in the strip below.
"""
from __future__ import annotations

import colorsys
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

RED = (255, 0, 0)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.4
MASK_ALPHA = 0.5  # share of the class colour in a blended mask pixel
PAD = 3  # pixels around a text
Rect = Tuple[int, int, int, int]  # x1, y1, x2, y2 (exclusive)


def class_colour(class_id: int) -> Tuple[int, int, int]:
    """A fixed RGB colour per class id (golden-ratio hues, two brightness levels): the same in every picture."""
    hue = (int(class_id) * 0.618033988749895) % 1.0
    value = 0.95 if int(class_id) % 2 == 0 else 0.7
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, value)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def text_size(text: str) -> Tuple[int, int]:
    """(width, height) of ``text`` on its background box."""
    (w, h), baseline = cv2.getTextSize(text, FONT, FONT_SCALE, 1)
    return w + 2 * PAD, h + baseline + 2 * PAD


def draw_label(canvas: np.ndarray, text: str, x: int, y: int, fill=RED, colour=WHITE) -> Rect:
    """``text`` on a filled box whose top-left corner is (x, y); returns the box."""
    w, h = text_size(text)
    cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), fill, -1)
    _, baseline = cv2.getTextSize(text, FONT, FONT_SCALE, 1)
    cv2.putText(canvas, text, (x + PAD, y + h - PAD - baseline), FONT, FONT_SCALE, colour, 1, cv2.LINE_AA)
    return x, y, x + w, y + h


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _strip(image: np.ndarray, lines: List[List[Tuple[str, Tuple[int, int, int]]]]) -> np.ndarray:
    """``image`` with a white strip below holding ``lines`` of (text, swatch colour) items, wrapped to its width."""
    width = max(image.shape[1], 160)
    rows: List[List[Tuple[str, tuple]]] = [[]]
    used = 0
    for line in lines:
        for text, colour in line:
            w = text_size(text)[0] + 14
            if rows[-1] and used + w > width:
                rows.append([])
                used = 0
            rows[-1].append((text, colour))
            used += w
        rows.append([])
        used = 0
    rows = [r for r in rows if r]
    row_h = text_size("Ag")[1] + 2
    strip = np.full((row_h * len(rows) + 2, width, 3), 255, dtype=np.uint8)
    for r, items in enumerate(rows):
        x, y = 2, 1 + r * row_h
        for text, colour in items:
            if colour is not None:
                cv2.rectangle(strip, (x, y + 3), (x + 9, y + row_h - 5), colour, -1)
                x += 12
            draw_label(strip, text, x, y, fill=WHITE, colour=BLACK)
            x += text_size(text)[0] + 2
    canvas = np.full((image.shape[0] + strip.shape[0], width, 3), 255, dtype=np.uint8)
    canvas[:image.shape[0], :image.shape[1]] = image
    canvas[image.shape[0]:] = strip
    return canvas


def segmentation_overlay(image: np.ndarray, mask: np.ndarray, names: Dict[int, str]) -> np.ndarray:
    """Each pixel of a counted class blended with its class colour (``MASK_ALPHA``, rounded to the nearest
    integer); pixels with id -1 (ignored, background, unlabelled) unchanged. A legend of the classes present
    goes below."""
    present = np.flatnonzero(np.bincount(mask.reshape(-1) + 1)[1:]) if mask.size else np.zeros(0, dtype=np.int64)
    out = image.copy()
    if len(present):
        lut = np.zeros((int(present[-1]) + 2, 3), dtype=np.uint8)
        for c in present:
            lut[c + 1] = class_colour(int(c))
        colours = lut[np.maximum(mask, -1) + 1]  # -1 -> row 0, never shown
        blended = cv2.addWeighted(image, 1.0 - MASK_ALPHA, colours, MASK_ALPHA, 0.0)
        np.copyto(out, blended, where=(mask >= 0)[..., None])
    legend = [(names.get(int(c), str(int(c))), class_colour(int(c))) for c in present] or [("no labelled pixel", None)]
    return _strip(out, [legend])


def box_pixels(box: Sequence[float], width: int, height: int) -> Rect:
    """The pixel rectangle (x1, y1, x2, y2 inclusive) a box x1, y1, x2, y2 in pixels is drawn on: the first
    and last pixel columns / rows it covers, inside the image."""
    x1 = min(max(int(np.floor(box[0])), 0), width - 1)
    y1 = min(max(int(np.floor(box[1])), 0), height - 1)
    x2 = min(max(int(np.ceil(box[2])) - 1, x1), width - 1)
    y2 = min(max(int(np.ceil(box[3])) - 1, y1), height - 1)
    return x1, y1, x2, y2


def place_labels(drawn: Sequence[Rect], texts: Sequence[str], width: int, height: int) -> List[Optional[Rect]]:
    """Where each box's name goes: the first free place of a few next to its box (above its top-left
    corner, inside it, below it, ...) that stays in the image and overlaps no name placed before;
    None when there is none (the name is then listed below the image)."""
    placed: List[Optional[Rect]] = []
    for (x1, y1, x2, y2), text in zip(drawn, texts):
        tw, th = text_size(text)
        spot = None
        for x, y in ((x1, y1 - th), (x1, y1 + 1), (x1, y2 + 1), (x2 - tw + 1, y2 - th), (x1, y2 - th)):
            rect = (x, y, x + tw, y + th)
            if x >= 0 and y >= 0 and x + tw <= width and y + th <= height and \
                    not any(p is not None and _overlaps(rect, p) for p in placed):
                spot = rect
                break
        placed.append(spot)
    return placed


def detection_overlay(image: np.ndarray, boxes: np.ndarray, classes: np.ndarray, names: Dict[int, str]) -> np.ndarray:
    """Boxes as 1-pixel red rectangles on the pixels they cover (:func:`box_pixels`), each with its class
    name (:func:`place_labels`); names that fit nowhere near their box are listed below the image."""
    out = image.copy()
    h, w = image.shape[:2]
    drawn = [box_pixels(b, w, h) for b in boxes]
    for x1, y1, x2, y2 in drawn:
        cv2.rectangle(out, (x1, y1), (x2, y2), RED, 1)
    texts = [names.get(int(c), str(int(c))) for c in classes]
    listed: List[Tuple[str, None]] = []
    for k, (rect, text) in enumerate(zip(place_labels(drawn, texts, w, h), texts)):
        if rect is None:
            x1, y1, x2, y2 = drawn[k]
            listed.append((f"box {k + 1} ({x1},{y1})-({x2},{y2}): {text}", None))
        else:
            draw_label(out, text, rect[0], rect[1])
    return _strip(out, [listed]) if listed else out


def classification_overlay(image: np.ndarray, class_ids: Sequence[int], names: Dict[int, str]) -> np.ndarray:
    """The image with a caption below: its labels' names (or "no label")."""
    text = ", ".join(names.get(int(c), str(int(c))) for c in class_ids) or "no label"
    return _strip(image, [[(f"label: {text}", None)]])
