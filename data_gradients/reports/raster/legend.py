"""A frameless legend inside the axes, put where it covers the least of what is drawn there.

Sizes are matplotlib's defaults in units of the legend's font size (8 pt): a handle 2 long and
0.7 high, 0.8 between handle and text, rows 0.5 apart, 0.4 of padding and 0.5 from the axes.
The candidate places are tried in matplotlib's order for ``loc="best"`` (upper right first); the
first that covers the fewest drawn pixels wins (only those boxes are compared).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Tuple

import numpy as np

from data_gradients.reports.raster.canvas import Canvas, on_white
from data_gradients.reports.raster.text import line_height, px, text_box

SIZE = 8.0  # points
HANDLE_LENGTH, HANDLE_HEIGHT, HANDLE_PAD, ROW_GAP, PAD, AXES_PAD = 2.0, 0.7, 0.8, 0.5, 0.4, 0.5
LINE_WIDTH = 1.6  # points, as the steps
# (horizontal, vertical) places: 0 left, 0.5 centre, 1 right; 0 top, 0.5 centre, 1 bottom
PLACES = [(1, 0), (0, 0), (0, 1), (1, 1), (1, 0.5), (0, 0.5), (0.5, 1), (0.5, 0), (0.5, 0.5)]


@dataclass(frozen=True)
class Entry:
    """A legend row: ``kind`` "line" (an outline) or "patch" (a filled box)."""

    label: str
    color: str
    kind: str = "line"


def legend_size(entries: List[Entry]) -> Tuple[float, float]:
    """Width and height of the legend in pixels."""
    unit = px(SIZE)
    row = max(line_height(SIZE), HANDLE_HEIGHT * unit)
    text_w = max(text_box(e.label, SIZE)[0] for e in entries)
    width = (2 * PAD + HANDLE_LENGTH + HANDLE_PAD) * unit + text_w
    height = 2 * PAD * unit + len(entries) * row + (len(entries) - 1) * ROW_GAP * unit
    return width, height


def best_place(covered: Callable[[int, int, int, int], int], width: int, height: int,
               size: Tuple[float, float]) -> Tuple[float, float]:
    """Top-left corner (pixels, in an axes ``width`` x ``height``) of the place of a legend of ``size``
    where ``covered(top, bottom, left, right)`` (drawn pixels in that box) is least; ties go to the
    earlier place of :data:`PLACES`."""
    w, h = size
    margin = AXES_PAD * px(SIZE)
    best, where = None, (margin, margin)
    for fx, fy in PLACES:
        left = margin + fx * (width - w - 2 * margin)
        top = margin + fy * (height - h - 2 * margin)
        count = covered(max(int(top), 0), int(top + h) + 1, max(int(left), 0), int(left + w) + 1)
        if best is None or count < best:
            best, where = count, (left, top)
    return where


def drawn_pixels(before: np.ndarray, after: np.ndarray) -> Callable[[int, int, int, int], int]:
    """``covered`` for :func:`best_place`: the pixels of a box that differ between two pictures
    (only the candidate boxes are compared, not the whole axes)."""
    def covered(top: int, bottom: int, left: int, right: int) -> int:
        return int(np.any(before[top:bottom, left:right] != after[top:bottom, left:right], axis=2).sum())

    return covered


def draw_legend(canvas: Canvas, entries: List[Entry], before: np.ndarray) -> None:
    """The legend on ``canvas`` (the axes' inside) where it covers the fewest pixels drawn since
    ``before`` (a copy of the canvas's pixels taken before the data was drawn)."""
    if not entries:
        return
    unit = px(SIZE)
    size = legend_size(entries)
    left, top = best_place(drawn_pixels(before, canvas.pixels), canvas.width, canvas.height, size)
    row = max(line_height(SIZE), HANDLE_HEIGHT * unit)
    y = top + PAD * unit
    for e in entries:
        middle = y + row / 2
        x0, x1 = left + PAD * unit, left + (PAD + HANDLE_LENGTH) * unit
        if e.kind == "patch":
            canvas.fill(x0, middle - HANDLE_HEIGHT * unit / 2, x1, middle + HANDLE_HEIGHT * unit / 2, e.color)
        else:
            canvas.hline(x0, x1, middle, px(LINE_WIDTH), on_white(e.color, 0.9))
        canvas.text(x1 + HANDLE_PAD * unit, middle, e.label, SIZE, ha="left", va="center")
        y += row + ROW_GAP * unit
