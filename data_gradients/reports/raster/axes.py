"""A plot's axes on a :class:`.canvas.Canvas`: data to pixels, the frame, ticks with their labels,
grid lines and axis labels, in matplotlib's default sizes (ticks 3.5 pt long and 0.8 pt wide
with a 3.5 pt pad to their labels, a 0.8 pt frame, axis labels 4 pt from the tick labels).

Figures place their axes box themselves from the measured size of their texts
(:func:`.text.text_box`), so nothing here searches for a layout.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import numpy as np

from data_gradients.reports.raster.canvas import Canvas, on_white
from data_gradients.reports.raster.text import px, text_mask

TICK_LENGTH = 3.5  # pt
MINOR_TICK_LENGTH = 2.0  # pt
TICK_WIDTH = 0.8  # pt
MINOR_TICK_WIDTH = 0.6  # pt
TICK_PAD = 3.5  # pt between a tick and its label
FRAME_WIDTH = 0.8  # pt
LABEL_PAD = 4.0  # pt between tick labels and the axis label
GRID = on_white("#b0b0b0", 0.3)
TICK_ROOM = px(TICK_LENGTH + TICK_PAD)  # pixels from the frame to the near side of a tick label
MAX_CATEGORY_LABELS = 24  # categories named along an axis at most: beyond, every k-th


def category_stride(n: int) -> int:
    """Name every k-th of ``n`` categories, so that at most :data:`MAX_CATEGORY_LABELS` are named."""
    return max(1, math.ceil(n / MAX_CATEGORY_LABELS))


Mark = Tuple[float, float, float, float, float]  # a tick mark: x0, y0, x1, y1 and its width, in pixels


@dataclass(frozen=True)
class Label:
    """A text placed on a figure: its box (of the rotated text) aligned on (x, y) by ``ha`` (left,
    center, right) and ``va`` (top, center, bottom), as :meth:`.canvas.Canvas.text` places it."""

    text: str
    x: float
    y: float
    size: float
    ha: str = "left"
    va: str = "top"
    rotation: float = 0.0

    def box(self) -> Tuple[float, float, float, float]:
        """The pixels the text covers: (left, top, right, bottom), as drawn."""
        h, w = text_mask(self.text, float(self.size), float(self.rotation)).shape
        left = round(self.x - {"left": 0.0, "center": w / 2, "right": w}[self.ha])
        top = round(self.y - {"top": 0.0, "center": h / 2, "bottom": h}[self.va])
        return left, top, left + w, top + h

    def draw(self, canvas: Canvas) -> None:
        canvas.text(self.x, self.y, self.text, self.size, ha=self.ha, va=self.va, rotation=self.rotation)


def draw_marks(canvas: Canvas, marks: Sequence[Mark]) -> None:
    """Tick marks, each a horizontal or a vertical stroke."""
    for x0, y0, x1, y1, width in marks:
        if y0 == y1:
            canvas.hline(x0, x1, y0, width, (0, 0, 0))
        else:
            canvas.vline(x0, y0, y1, width, (0, 0, 0))


@dataclass
class Ticks:
    """Tick values with their labels ("" for none) along one axis; ``size`` of the labels in points,
    ``rotation`` in degrees (rotated labels hang from their tick by their box's top-right corner)."""

    values: Sequence[float] = ()
    labels: Sequence[str] = ()
    size: float = 10.0
    rotation: float = 0.0
    minor: bool = False


@dataclass
class Scale:
    """Data limits of an axis, linear or base-10 logarithmic."""

    lo: float
    hi: float
    log: bool = False

    def fraction(self, values) -> np.ndarray:
        """Where ``values`` lie from lo (0) to hi (1)."""
        v = np.asarray(values, dtype=np.float64)
        if self.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                lo, hi = math.log10(self.lo), math.log10(self.hi)
                return (np.log10(np.maximum(v, 1e-300)) - lo) / ((hi - lo) or 1.0)
        return (v - self.lo) / ((self.hi - self.lo) or 1.0)


@dataclass
class Axes:
    """An axes box [left, right] x [top, bottom] in pixels and the scales of its x and y axes."""

    left: float
    top: float
    right: float
    bottom: float
    x: Scale
    y: Scale
    x_ticks: List[Ticks] = field(default_factory=list)
    y_ticks: List[Ticks] = field(default_factory=list)

    def x_px(self, values) -> np.ndarray:
        return self.left + self.x.fraction(values) * (self.right - self.left)

    def y_px(self, values) -> np.ndarray:
        return self.bottom - self.y.fraction(values) * (self.bottom - self.top)

    def inside(self, canvas: Canvas) -> Canvas:
        """A canvas on the axes box only (what is drawn there is clipped to it); its origin is the
        box's top-left corner."""
        return canvas.region(self.left, self.top, self.right, self.bottom)

    def grid_y(self, canvas: Canvas, values: Sequence[float]) -> None:
        """Horizontal grid lines at ``values`` (drawn before the data, which lies over them)."""
        for y in self.y_px([v for v in values if _within(v, self.y)]):
            canvas.hline(self.left, self.right, y, px(FRAME_WIDTH), GRID)

    def draw_frame(self, canvas: Canvas) -> None:
        w = px(FRAME_WIDTH)
        canvas.frame(self.left - w / 2, self.top - w / 2, self.right + w / 2, self.bottom + w / 2, w, (0, 0, 0))

    def tick_layout(self) -> Tuple[List[Mark], List[Label]]:
        """The tick marks below the x axis and left of the y axis, and their labels (turned x labels
        hang from their tick by their box's top-right corner)."""
        marks: List[Mark] = []
        labels: List[Label] = []
        for ticks in self.x_ticks:
            length, width = _tick_size(ticks)
            values, texts = _within_axis(ticks, self.x)
            for x, text in zip(self.x_px(values), texts):
                marks.append((float(x), self.bottom, float(x), self.bottom + length, width))
                if text:
                    labels.append(Label(text, float(x), self.bottom + length + px(TICK_PAD), ticks.size,
                                        "right" if ticks.rotation else "center", "top", ticks.rotation))
        for ticks in self.y_ticks:
            length, width = _tick_size(ticks)
            values, texts = _within_axis(ticks, self.y)
            for y, text in zip(self.y_px(values), texts):
                marks.append((self.left - length, float(y), self.left, float(y), width))
                if text:
                    labels.append(Label(text, self.left - length - px(TICK_PAD), float(y), ticks.size, "right",
                                        "center", ticks.rotation))
        return marks, labels

    def draw_ticks(self, canvas: Canvas) -> None:
        """The ticks of :meth:`tick_layout` drawn."""
        marks, labels = self.tick_layout()
        draw_marks(canvas, marks)
        for label in labels:
            label.draw(canvas)

    def x_label(self, canvas: Canvas, text: str, below: float, size: float = 10.0) -> None:
        """The x axis label centred under the axes, ``below`` pixels under the frame."""
        canvas.text((self.left + self.right) / 2, self.bottom + below, text, size, ha="center", va="top")

    def y_label(self, canvas: Canvas, text: str, beside: float, size: float = 10.0) -> None:
        """The y axis label, turned upright, centred beside the axes ``beside`` pixels left of the frame."""
        canvas.text(self.left - beside, (self.top + self.bottom) / 2, text, size, ha="right", va="center",
                    rotation=90)

    def title(self, canvas: Canvas, text: str, size: float = 10.0, pad: float = 6.0) -> None:
        canvas.text((self.left + self.right) / 2, self.top - px(pad), text, size, ha="center", va="bottom")


def _tick_size(ticks: Ticks):
    """Length and width of the tick marks in pixels (minor ones shorter and thinner)."""
    if ticks.minor:
        return px(MINOR_TICK_LENGTH), px(MINOR_TICK_WIDTH)
    return px(TICK_LENGTH), px(TICK_WIDTH)


def _within_axis(ticks: Ticks, scale: Scale):
    """The tick values inside the axis's limits and their labels ("" where there are fewer labels)."""
    labels = list(ticks.labels) + [""] * (len(ticks.values) - len(ticks.labels))
    kept = [(v, t) for v, t in zip(ticks.values, labels) if _within(v, scale)]
    return [v for v, _ in kept], [t for _, t in kept]


def _within(value: float, scale: Scale) -> bool:
    lo, hi = sorted((scale.lo, scale.hi))
    eps = 1e-9 * max(abs(hi - lo), 1e-300)
    return lo - eps <= value <= hi + eps
