"""Histogram figures, the splits over each other: categories as bars side by side, numeric bins as
outlined steps (filled when there is one split), a log or a pixel-value (0-255) x axis where the
histogram asks for one.

:func:`histogram_layout` decides every place and every text (margins from the measured size of the
labels, as a layout engine would but without searching); :func:`histogram_canvas` draws it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from data_gradients.reports.raster.axes import LABEL_PAD, TICK_ROOM, Axes, Scale, Ticks, category_stride
from data_gradients.reports.raster.canvas import Canvas, on_white
from data_gradients.reports.raster.colors import split_colors
from data_gradients.reports.raster.legend import Entry, draw_legend
from data_gradients.reports.raster.text import DPI, fit, line_height, px, text_box
from data_gradients.reports.raster.ticks import auto_bins, format_ticks, linear_ticks, log_ticks, plain_number
from data_gradients.results import Histogram, is_value_bins

WIDTH, HEIGHT = 5.2, 3.0  # inches: narrow enough to read in a TensorBoard card (~350-500 px wide)
FONT = 10.0  # points: title, axis labels, numeric tick labels
CATEGORY_FONT = 8.0  # points: category names under bars
MINOR_FONT = 7.0  # points: labels of minor ticks on a short log axis
EDGE = 5.0  # points of blank border around the figure
TITLE_PAD = 6.0  # points between the axes and the title
STEP_WIDTH = 1.6  # points: outline of the steps
Y_MARGIN = 0.05  # room above the highest bar, as a share of it
FIRST_AXES_WIDTH = WIDTH * DPI * 0.85  # pixels: the axes' width assumed before the layout has measured it


@dataclass
class Series:
    """One split's shapes in data coordinates: ``bars`` (left, right, height) or a step outline over ``edges``."""

    split: str
    color: str
    edges: Optional[np.ndarray] = None
    values: Optional[np.ndarray] = None
    bars: Optional[np.ndarray] = None
    fill: bool = False


@dataclass
class HistogramLayout:
    """Where everything of a histogram figure goes, in pixels."""

    width: int
    height: int
    axes: Axes
    series: List[Series]
    title: str
    x_label: str
    y_label: str
    x_label_below: float
    y_label_beside: float
    legend: List[Entry] = field(default_factory=list)


def histogram_canvas(h: Histogram, width: float = WIDTH) -> Canvas:
    """The histogram drawn (see :func:`histogram_layout`)."""
    return draw(histogram_layout(h, width))


def histogram_layout(h: Histogram, width: float = WIDTH) -> HistogramLayout:
    """Every place and text of the figure of ``h``, ``width`` inches wide: the axes box from the measured
    title, labels and tick labels; the y axis from 0 to just above the highest share."""
    splits = list(h.counts)
    values = {s: np.nan_to_num(np.asarray(h.shares(s) if h.normalize else h.counts[s], dtype=np.float64),
                               nan=0.0, posinf=0.0, neginf=0.0) for s in splits}
    colors = split_colors(splits)
    fig_w, fig_h = round(width * DPI), round(HEIGHT * DPI)
    if h.categories is not None:
        x_axis = _CategoryAxis(h, splits, values, colors)
    else:
        x_axis = _NumericAxis(h, splits, values, colors)
    y_top = max([float(v.max()) for v in values.values() if v.size] + [0.0])
    y_scale = Scale(0.0, y_top * (1 + Y_MARGIN) if y_top > 0 else 1.0)
    edge, title_room = px(EDGE), line_height(FONT) + px(TITLE_PAD)
    top = edge + title_room
    y_label_room = (text_box(h.y_label, FONT, 90)[0] + px(LABEL_PAD)) if h.y_label else 0.0
    y_ticks_w, axes = 0.0, None
    for _ in range(3):  # the y ticks depend on the axes' height, the x ticks on its width: settle them
        right = fig_w - edge - max(x_axis.right_reach(axes), 0.0)
        left = edge + max(y_label_room + y_ticks_w + TICK_ROOM, x_axis.left_reach(axes))
        centre = (left + right) / 2
        x_label = fit(h.x_label, FONT, 2 * min(centre - edge, fig_w - edge - centre), max_lines=3)
        x_label_room = (text_box(x_label, FONT)[1] + px(LABEL_PAD)) if x_label else 0.0
        bottom = fig_h - edge - x_label_room - x_axis.ticks_height() - TICK_ROOM
        y_values = linear_ticks(y_scale.lo, y_scale.hi, auto_bins((bottom - top) * 72 / DPI, FONT, vertical=True))
        y_ticks = Ticks(y_values, format_ticks(y_values), FONT)
        axes = Axes(left, top, right, bottom, x_axis.scale, y_scale, x_axis.ticks(right - left), [y_ticks])
        measured = max((text_box(t, FONT)[0] for t in y_ticks.labels), default=0.0)
        if measured <= y_ticks_w:
            break
        y_ticks_w = max(measured, y_ticks_w)
    legend = [Entry(s, colors[s], "patch" if x_axis.series[i].bars is not None or x_axis.series[i].fill else "line")
              for i, s in enumerate(splits)]
    return HistogramLayout(fig_w, fig_h, axes, x_axis.series, h.title, x_label, h.y_label,
                           x_label_below=x_axis.ticks_height() + TICK_ROOM + px(LABEL_PAD),
                           y_label_beside=y_ticks_w + TICK_ROOM + px(LABEL_PAD), legend=legend)


def draw(layout: HistogramLayout) -> Canvas:
    """The figure: grid, bars or steps, the legend where it covers least, frame, ticks and texts."""
    canvas = Canvas(layout.width, layout.height)
    a = layout.axes
    a.grid_y(canvas, a.y_ticks[0].values if a.y_ticks else [])
    inside = a.inside(canvas)
    before = inside.pixels.copy()
    ox, oy = round(a.left), round(a.top)
    for s in layout.series:
        if s.bars is not None:
            for left, right, height in s.bars:
                x0, x1 = a.x_px([left, right])
                y0, y1 = a.y_px([height, 0.0])
                inside.fill(x0 - ox, y0 - oy, x1 - ox, y1 - oy, s.color)
            continue
        draw_steps(inside, a.x_px(s.edges) - ox, a.y_px(s.values) - oy, float(a.y_px([0.0])[0]) - oy,
                   on_white(s.color, 0.9), px(STEP_WIDTH), s.fill)
    if layout.legend:
        draw_legend(inside, layout.legend, before)
    a.draw_frame(canvas)
    a.draw_ticks(canvas)
    a.title(canvas, layout.title, FONT, TITLE_PAD)
    if layout.x_label:
        a.x_label(canvas, layout.x_label, layout.x_label_below, FONT)
    if layout.y_label:
        a.y_label(canvas, layout.y_label, layout.y_label_beside, FONT)
    return canvas


def draw_steps(canvas: Canvas, xs: np.ndarray, ys: np.ndarray, base: float, color, width: float, fill: bool) -> None:
    """Steps over pixel edges ``xs`` at pixel heights ``ys`` from the baseline ``base``: the outline
    (down to the baseline at both ends) as whole-pixel strokes ``width`` wide, every segment being
    horizontal or vertical; ``fill``: the area under it too."""
    w = max(1, int(round(width)))
    half = w / 2
    if fill:
        for x0, x1, y in zip(xs[:-1], xs[1:], ys):
            canvas.fill(x0, min(y, base), x1, max(y, base), color)
    heights = np.concatenate([[base], ys, [base]])
    for i, x in enumerate(xs):  # the risers
        lo, hi = sorted((heights[i], heights[i + 1]))
        canvas.fill(x - half, lo - half, x - half + w, hi + half, color)
    for x0, x1, y in zip(xs[:-1], xs[1:], ys):  # the treads
        canvas.fill(x0 - half, y - half, x1 + half, y - half + w, color)


# ---------------------------------------------------------------------- the x axis of each kind
def _axes_width(axes: Optional[Axes]) -> float:
    """The width of ``axes`` in pixels, or :data:`FIRST_AXES_WIDTH` before there are axes."""
    return axes.right - axes.left if axes is not None else FIRST_AXES_WIDTH


class _CategoryAxis:
    """Bars side by side per category; every k-th category named (:func:`.axes.category_stride`),
    names turned 45 degrees when there are many or long ones."""

    def __init__(self, h: Histogram, splits: List[str], values: Dict[str, np.ndarray], colors: Dict[str, str]):
        n = len(h.categories)
        x = np.arange(n, dtype=np.float64)
        bar_w = 0.8 / max(len(splits), 1)
        self.series = []
        for i, s in enumerate(splits):
            centres = x + (i - (len(splits) - 1) / 2) * bar_w
            self.series.append(Series(s, colors[s], bars=np.stack([centres - bar_w / 2, centres + bar_w / 2,
                                                                   values[s][:n]], axis=1)))
        step = category_stride(n)
        self.positions = x[::step]
        self.labels = [str(c) for c in h.categories[::step]]
        self.rotation = 45.0 if len(self.labels) > 8 or max((len(c) for c in self.labels), default=0) > 8 else 0.0
        self.scale = Scale(-0.6, n - 0.4)

    def ticks(self, axes_width: float) -> List[Ticks]:
        return [Ticks(list(self.positions), self.labels, CATEGORY_FONT, self.rotation)]

    def ticks_height(self) -> float:
        return max((text_box(t, CATEGORY_FONT, self.rotation)[1] for t in self.labels), default=0.0)

    def _anchors(self, axes: Optional[Axes]) -> np.ndarray:
        """Where the named categories lie, in pixels from the axes' left end."""
        return self.scale.fraction(self.positions) * _axes_width(axes)

    def left_reach(self, axes: Optional[Axes]) -> float:
        """How far the names stick out left of the axes (pixels)."""
        anchors = self._anchors(axes)
        if not self.labels:
            return 0.0
        if self.rotation:
            return max([text_box(t, CATEGORY_FONT, self.rotation)[0] - p for t, p in zip(self.labels, anchors)] + [0.0])
        return text_box(self.labels[0], CATEGORY_FONT)[0] / 2 - anchors[0]

    def right_reach(self, axes: Optional[Axes]) -> float:
        if not self.labels or self.rotation:
            return 0.0
        return text_box(self.labels[-1], CATEGORY_FONT)[0] / 2 - (_axes_width(axes) - self._anchors(axes)[-1])


class _NumericAxis:
    """Bins as steps over their edges, shown from the first to the last non-empty bin (with a margin)."""

    def __init__(self, h: Histogram, splits: List[str], values: Dict[str, np.ndarray], colors: Dict[str, str]):
        edges = np.asarray(h.bin_edges, dtype=np.float64)
        lo, hi = _visible_range(edges, list(values.values()))
        self.value_bins = not h.log_x and is_value_bins(edges)
        if self.value_bins:  # bin v holds the integer value v: drawn centred on v, so 0-255 ends at 255
            edges = edges - 0.5
        self.series = [Series(s, colors[s], edges=edges[lo:hi + 1], values=values[s][lo:hi], fill=len(splits) == 1)
                       for s in splits]
        self.log = bool(h.log_x)
        self.scale = Scale(float(edges[lo]), float(edges[hi]), log=self.log)
        self.minor_labels = False
        if self.log:
            self.major, self.minor, self.minor_labels = log_ticks(self.scale.lo, self.scale.hi)

    def ticks(self, axes_width: float) -> List[Ticks]:
        if self.log:
            labels = [plain_number(v) for v in self.major]
            positions = self.scale.fraction(self.major) * axes_width
            major = Ticks(self.major, spread_out(self.major, labels, positions, FONT), FONT)
            minor_labels = [plain_number(v) for v in self.minor] if self.minor_labels else []
            return [major, Ticks(self.minor, minor_labels, MINOR_FONT, minor=True)]
        lo, hi = self.scale.lo, self.scale.hi
        if self.value_bins:
            values = linear_ticks(lo, hi, 10, integer=True)
            if hi == 255.5:  # pixel values: end on 255, without a tick crowding it
                values = [v for v in values if lo <= v <= 255 and 255 - v >= 20] + [255.0]
                return [Ticks(values, [plain_number(v) for v in values], FONT)]
            return [Ticks(values, format_ticks(values), FONT)]
        values = linear_ticks(lo, hi, auto_bins(axes_width * 72 / DPI, FONT, vertical=False))
        return [Ticks(values, format_ticks(values), FONT)]

    def ticks_height(self) -> float:
        return max(line_height(FONT), line_height(MINOR_FONT)) if self.minor_labels else line_height(FONT)

    def left_reach(self, axes: Optional[Axes]) -> float:
        return 0.0

    def right_reach(self, axes: Optional[Axes]) -> float:
        """Half the last tick label: it is centred on the axes' right end at most."""
        ticks = self.ticks(_axes_width(axes))
        labels = [t for t in ticks[0].labels if t]
        return text_box(labels[-1], FONT)[0] / 2 if labels else 0.0


def spread_out(values, labels: List[str], positions, size: float) -> List[str]:
    """``labels`` of ticks at pixel ``positions``, blanked where they would touch: when any two do,
    only the powers of ten keep theirs (every k-th of them, the smallest k that leaves a gap)."""
    gap = px(size) / 3

    def touching(keep: List[int]) -> bool:
        boxes = [(positions[i] - text_box(labels[i], size)[0] / 2, positions[i] + text_box(labels[i], size)[0] / 2)
                 for i in keep]
        return any(b[0] < a[1] + gap for a, b in zip(boxes, boxes[1:]))

    shown = [i for i, label in enumerate(labels) if label]
    if not touching(shown):
        return list(labels)
    decades = [i for i in shown if math.log10(values[i]).is_integer()]
    stride = 1
    while stride < len(decades) and touching(decades[::stride]):
        stride += 1
    kept = set(decades[::stride])
    return [label if i in kept else "" for i, label in enumerate(labels)]


def _visible_range(edges: np.ndarray, values: List[np.ndarray]) -> Tuple[int, int]:
    """Bins worth showing: from the first to the last non-empty bin, with a margin."""
    nonzero = np.nonzero(np.any(np.stack(values) > 0, axis=0))[0] if values else []
    if len(nonzero) == 0:
        return 0, len(edges) - 1
    lo, hi = int(nonzero[0]), int(nonzero[-1]) + 1
    margin = max(1, (hi - lo) // 10)
    return max(lo - margin, 0), min(hi + margin, len(edges) - 1)
