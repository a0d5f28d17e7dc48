"""Heatmap figures drawn as pixels, in three layouts chosen by the shape of the heatmap:

- one panel (e.g. width x height, or the images of each class along a value): the splits side by
  side, each an axes with ticks and a title, one colour bar on a square-root scale on the right;
- a few class matrices (e.g. co-occurrence): class names on both axes, a colour bar (linear) beside
  each panel, a title above each;
- many panels (e.g. where each class lies): small panels without ticks, a row per split, each on its
  own linear scale, one colour bar "0 / half / max" saying so.

Cells are coloured with OpenCV's ``magma`` colour map and scaled up by nearest neighbour, as
matplotlib's ``imshow(interpolation="nearest")`` did. Row 0 of a map is drawn at the top unless the
heatmap is ``y_up``. :func:`heatmap_layout` decides every place and every text from the measured
size of the texts (no search); :func:`heatmap_canvas` draws it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from data_gradients.reports.raster.axes import LABEL_PAD as LABEL_PAD_PT
from data_gradients.reports.raster.axes import (
    TICK_LENGTH,
    TICK_ROOM,
    TICK_WIDTH,
    Axes,
    Label,
    Mark,
    Scale,
    Ticks,
    category_stride,
    draw_marks,
)
from data_gradients.reports.raster.canvas import Canvas
from data_gradients.reports.raster.text import DPI, fit, line_height, px, shorten, text_box, text_width
from data_gradients.reports.raster.ticks import auto_bins, format_ticks, linear_ticks, sqrt_scale_ticks
from data_gradients.results import Heatmap

# lengths in pixels (matplotlib's defaults in points, our own in inches, turned into pixels)
EDGE = px(5)  # blank border around the figure
TICK = TICK_ROOM  # from an axis to its tick labels
LABEL_PAD = px(LABEL_PAD_PT)  # between tick labels and an axis label
TITLE_PAD = px(6)  # between an axes and its title
GAP = 0.15 * DPI  # between neighbouring panels (besides their tick labels)
# font sizes in points
TITLE_FONT, SPLIT_FONT, PANEL_FONT, AXIS_FONT, TICK_FONT, CATEGORY_FONT = 10.0, 9.0, 8.0, 8.0, 7.0, 6.0
BAR_FONT = 10.0  # tick labels and label of the single layout's colour bar
MAX_CATEGORY_WIDTH = 1.2 * DPI  # longer class names are shortened with an ellipsis
CATEGORY_ROTATION = 60.0  # degrees, of the class names under an axis


@dataclass
class Panel:
    """One map drawn in the box of ``axes``: ``data`` rows top to bottom as they are to be drawn
    (already flipped for ``y_up``), coloured from 0 to ``vmax`` on a linear or square-root scale."""

    split: str
    panel: str
    axes: Axes
    data: np.ndarray
    vmax: float
    sqrt: bool = False


@dataclass
class HeatmapLayout:
    """Where everything of a heatmap figure goes, in pixels: the panels, the colour bars (axes whose
    y runs from colour 0 to colour 1), the tick marks, every text."""

    width: int
    height: int
    panels: List[Panel] = field(default_factory=list)
    bars: List[Axes] = field(default_factory=list)
    marks: List[Mark] = field(default_factory=list)
    texts: List[Label] = field(default_factory=list)

    def text(self, text: str) -> Optional[Label]:
        """The first placed text that reads ``text`` (line breaks read as spaces), else None."""
        return next((t for t in self.texts if t.text.replace("\n", " ") == text), None)


# ---------------------------------------------------------------------------------------- public
def heatmap_canvas(hm: Heatmap, max_cols: int = 6) -> Canvas:
    """The heatmap drawn (see :func:`heatmap_layout`)."""
    return draw(heatmap_layout(hm, max_cols))


def heatmap_layout(hm: Heatmap, max_cols: int = 6) -> HeatmapLayout:
    """The layout of the heatmap: one panel per split side by side; a few labelled class matrices;
    or many small panels, a row per split wrapped after ``max_cols``."""
    splits = list(hm.maps)
    panels: List[str] = list(dict.fromkeys(p for s in splits for p in hm.maps[s]))
    vmax = {p: max(_largest(hm.maps[s][p]) if p in hm.maps[s] else 0.0 for s in splits) for p in panels}
    if len(panels) <= 1:
        return _single(hm, splits, panels, vmax)
    if bool(hm.x_categories or hm.y_categories) and len(panels) <= 4:
        return _labelled(hm, splits, panels, vmax)
    return _mosaic(hm, splits, panels, vmax, max_cols)


def draw(layout: HeatmapLayout) -> Canvas:
    """The layout drawn: panels, frames, colour bars, tick marks, texts."""
    canvas = Canvas(layout.width, layout.height)
    for panel in layout.panels:
        _paste_scaled(canvas, panel.axes, colours(panel.data, panel.vmax, panel.sqrt))
        panel.axes.draw_frame(canvas)
    for bar in layout.bars:
        _paste_scaled(canvas, bar, magma()[::-1, None, :])
        bar.draw_frame(canvas)
    draw_marks(canvas, layout.marks)
    for t in layout.texts:
        t.draw(canvas)
    return canvas


@lru_cache(maxsize=1)
def magma() -> np.ndarray:
    """The 256 colours of OpenCV's magma colour map, (256, 3) uint8 RGB, dark to bright."""
    ramp = np.arange(256, dtype=np.uint8).reshape(-1, 1)
    lut = cv2.applyColorMap(ramp, cv2.COLORMAP_MAGMA)[:, 0, ::-1]  # OpenCV gives BGR
    lut = np.ascontiguousarray(lut)
    lut.flags.writeable = False
    return lut


def colours(data: np.ndarray, vmax: float, sqrt: bool = False) -> np.ndarray:
    """``data`` as (h, w, 3) uint8 RGB: 0 to ``vmax`` (clipped) on the magma colours, through a square
    root with ``sqrt``; cells that are not numbers are white (left blank, as matplotlib does)."""
    values = np.asarray(data, dtype=np.float64)
    blank = ~np.isfinite(values)
    share = np.clip(np.nan_to_num(values, nan=0.0, posinf=vmax, neginf=0.0) / (vmax or 1.0), 0.0, 1.0)
    if sqrt:
        share = np.sqrt(share)
    out = magma()[np.minimum((share * 256).astype(np.intp), 255)]
    out[blank] = 255
    return out


# ---------------------------------------------------------------------------------------- layouts
def _single(hm: Heatmap, splits: List[str], panels: List[str], vmax: Dict[str, float]) -> HeatmapLayout:
    """The splits side by side, axes with ticks and labels, one colour bar (square-root scale: a
    distribution is often skewed, the scale shows its tail)."""
    cols = max(len(splits), 1)
    size = 2.8 if not hm.x_categories else min(0.28 * len(hm.x_categories) + 1.8, 5.0)
    title = fit(hm.title, TITLE_FONT, (size * cols + 1.0) * DPI - 2 * EDGE, 2)
    width_px = round((size * cols + 1.0) * DPI)
    height_px = round((size + 0.7) * DPI + _extra_lines(title, TITLE_FONT))
    out = HeatmapLayout(width_px, height_px)
    out.texts.append(Label(title, width_px / 2, EDGE, TITLE_FONT, ha="center"))
    p = panels[0] if panels else ""
    present = [s for s in splits if p in hm.maps[s]]
    if not present:
        return out
    shape = np.shape(hm.maps[present[0]][p])
    x_label = fit(hm.x_label, AXIS_FONT, 0.9 * (width_px - 2 * EDGE) / cols, 2)
    top = EDGE + text_box(title, TITLE_FONT)[1] + px(4) + line_height(SPLIT_FONT) + TITLE_PAD
    bottom = EDGE + _room(x_label, AXIS_FONT) + _xtick_height(hm) + TICK
    height = max(height_px - top - bottom, 0.05 * DPI)
    y_scale, y_ticks = _y_axis(hm, shape, height)
    y_label = fit(hm.y_label, AXIS_FONT, height, 2)
    ytick_room = _ytick_width(y_ticks) + TICK
    gutters = [(ytick_room if s in present else 0.0) + (_room(y_label, AXIS_FONT) if i == 0 else GAP)
               for i, s in enumerate(splits)]
    bar_label = fit(f"{hm.value_label} (square-root scale)".strip(), BAR_FONT, height_px - 2 * EDGE, 2)
    bar_h = 0.85 * height
    bar_ticks = _sqrt_bar_ticks(vmax[p] or 1.0, bar_h, BAR_FONT)
    right = EDGE + 0.25 * DPI + bar_h / 20 + TICK + _ytick_width(bar_ticks) + _room(bar_label, BAR_FONT)
    width = max((width_px - EDGE - sum(gutters) - right) / cols, 0.05 * DPI)
    x = EDGE
    for i, s in enumerate(splits):
        x += gutters[i]
        if s in present:
            x_scale, x_ticks = _x_axis(hm, shape, width)
            axes = _axes(x, top, width, height, x_scale, y_scale, x_ticks, y_ticks)
            out.panels.append(Panel(s, p, axes, _upright(hm, hm.maps[s][p]), vmax[p], sqrt=True))
            _add_title(out, axes, s, SPLIT_FONT)
            _add_ticks(out, axes)
            below = _xtick_height(hm) + TICK + LABEL_PAD
            _add_axis_labels(out, axes, x_label, y_label if i == 0 else "", below, ytick_room + LABEL_PAD)
        x += width
    bar = _axes(x + 0.25 * DPI, top + (height - bar_h) / 2, bar_h / 20, bar_h, Scale(0, 1), Scale(0, 1), [], [bar_ticks])
    _add_bar(out, bar, bar_label, BAR_FONT)
    return out


def _labelled(hm: Heatmap, splits: List[str], panels: List[str], vmax: Dict[str, float]) -> HeatmapLayout:
    """A few matrices whose axes are classes (e.g. co-occurrence): class names on both axes, a colour
    bar beside each panel (panels have their own scales), the panel's title above it."""
    cols = min(len(panels), 2)
    rows_per_split = math.ceil(len(panels) / cols)
    n_rows = rows_per_split * max(len(splits), 1)
    side = min(0.28 * max(len(hm.x_categories or []), len(hm.y_categories or [])) + 1.6, 4.2) * DPI
    inner_w = side * cols + 0.6 * DPI  # the figure's width less its colour bars
    title = fit(_with_value(hm), TITLE_FONT, inner_w - 2 * EDGE, 2)
    height_px = round(side * n_rows + 0.6 * DPI + _extra_lines(title, TITLE_FONT))
    shapes = [np.shape(hm.maps[s][p]) for s in splits for p in panels if p in hm.maps[s]]
    shape = shapes[0] if shapes else (1, 1)
    x_room = _xtick_height(hm) + TICK
    top = EDGE + text_box(title, TITLE_FONT)[1] + px(2)
    estimate = (height_px - top - EDGE - n_rows * (line_height(PANEL_FONT) + TITLE_PAD + px(4) + x_room)) / n_rows
    y_scale, y_ticks = _y_axis(hm, shape, max(estimate, 0.05 * DPI))
    y_room = _ytick_width(y_ticks) + TICK
    width = max((inner_w - 2 * EDGE - cols * y_room - (cols - 1) * GAP) / cols, 0.05 * DPI)
    least_bar_room = 0.12 * DPI + GAP + TICK + text_width("0.00", TICK_FONT)
    room = width + 2 * min(y_room, GAP + least_bar_room)  # a title centred on its panel, clear of its neighbours
    titles = {(s, p): fit(f"{hm.panel_title(p)} ({s})", PANEL_FONT, room, 2) for s in splits for p in panels}
    title_room = max([text_box(t, PANEL_FONT)[1] for t in titles.values()] + [0.0]) + TITLE_PAD + px(4)
    height = max((height_px - top - EDGE - n_rows * (title_room + x_room)) / n_rows, 0.05 * DPI)
    bar_ticks = {p: _linear_bar_ticks(vmax[p] or 1.0, height, TICK_FONT) for p in panels}
    bar_labels = [t for ticks in bar_ticks.values() for t in ticks.labels]
    wider = _ytick_width(Ticks(labels=bar_labels, size=TICK_FONT)) - text_width("0.00", TICK_FONT)
    bar_room = least_bar_room + max(wider, 0.0)  # labels wider than "0.00" widen the figure
    out = HeatmapLayout(round(inner_w + bar_room * cols), height_px)
    out.texts.append(Label(title, inner_w / 2 + bar_room * cols / 2, EDGE, TITLE_FONT, ha="center"))
    x_scale, x_ticks = _x_axis(hm, shape, width)
    for si, s in enumerate(splits):
        for pi, p in enumerate(panels):
            if p not in hm.maps[s]:
                continue
            row, col = si * rows_per_split + pi // cols, pi % cols
            left = EDGE + y_room + col * (width + GAP + y_room + bar_room)
            axes_top = top + row * (title_room + height + x_room) + title_room
            axes = _axes(left, axes_top, width, height, x_scale, y_scale, x_ticks, y_ticks)
            out.panels.append(Panel(s, p, axes, _upright(hm, hm.maps[s][p]), vmax[p]))
            _add_title(out, axes, titles[(s, p)], PANEL_FONT)
            _add_ticks(out, axes)
            bar = _axes(left + width + GAP, axes_top, 0.12 * DPI, height, Scale(0, 1), Scale(0, 1), [], [bar_ticks[p]])
            _add_bar(out, bar, "", TICK_FONT)
    return out


def _mosaic(hm: Heatmap, splits: List[str], panels: List[str], vmax: Dict[str, float], max_cols: int
            ) -> HeatmapLayout:
    """Many small panels without ticks, each on its own linear scale, a row per split."""
    cols = max(min(len(panels), max_cols), 1)
    rows_per_split = math.ceil(len(panels) / cols)
    n_rows = rows_per_split * max(len(splits), 1)
    bar_room = 1.1 * DPI  # the shared colour bar on the right, its ticks and its label
    fig_w, fig_h = (1.7 * cols + 0.4) * DPI + bar_room, (1.75 * n_rows + 0.6) * DPI
    # the grid matplotlib's subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.55 / fig_h,
    # wspace=0.08, hspace=0.25) gave
    cell_w = 0.96 * (fig_w - bar_room) / (cols + 0.08 * (cols - 1))
    cell_h = (0.98 * fig_h - 0.55 * DPI) / (n_rows + 0.25 * (n_rows - 1))
    title = fit(hm.title, TITLE_FONT, fig_w - 2 * EDGE, 2)
    titles = {(s, p): fit(f"{hm.panel_title(p)} ({s})", PANEL_FONT, 1.06 * cell_w, 2) for s in splits for p in panels}
    wrapped = any("\n" in t for t in titles.values())
    extra = _extra_lines(title, TITLE_FONT) + (line_height(PANEL_FONT) * 1.2 if wrapped else 0.0)
    head = 0.55 * DPI + extra
    out = HeatmapLayout(round(fig_w), round(fig_h + extra))
    out.texts.append(Label(title, fig_w / 2, EDGE, TITLE_FONT, ha="center"))
    for si, s in enumerate(splits):
        for pi, p in enumerate(panels):
            if p not in hm.maps[s]:
                continue
            row, col = si * rows_per_split + pi // cols, pi % cols
            left, top = 0.02 * fig_w + col * 1.08 * cell_w, head + row * 1.25 * cell_h
            axes = _axes(left, top, cell_w, cell_h, Scale(0, 1), Scale(0, 1), [], [])
            out.panels.append(Panel(s, p, axes, _upright(hm, hm.maps[s][p]), vmax[p]))
            _add_title(out, axes, titles[(s, p)], PANEL_FONT)
    bar_h = min(fig_h - 0.85 * DPI, 2.6 * DPI)
    ticks = Ticks([0.0, 0.5, 1.0], ["0", "half", "max"], TICK_FONT)
    bar = _axes(fig_w - bar_room + 0.15 * DPI, head, 0.12 * DPI, bar_h, Scale(0, 1), Scale(0, 1), [], [ticks])
    label = f"{hm.value_label}, share of the panel's largest value" if hm.value_label else \
        "share of the panel's largest value"
    _add_bar(out, bar, fit(label, TICK_FONT, out.height - 2 * EDGE, 3), TICK_FONT)
    return out


# ---------------------------------------------------------------------------------------- axes
def _axes(left: float, top: float, width: float, height: float, x: Scale, y: Scale, x_ticks: List[Ticks],
          y_ticks: List[Ticks]) -> Axes:
    """Axes on a box given by its top-left corner and size, its edges on whole pixels."""
    return Axes(round(left), round(top), round(left + width), round(top + height), x, y, x_ticks, y_ticks)


def _axis_range(edges, categories, cells: int) -> Tuple[float, float]:
    """Data range of an axis: category cells sit at 0, 1, 2...; numeric cells span their edges; cells
    without either are counted from 0, as imshow does."""
    if categories:
        return -0.5, len(categories) - 0.5
    if edges is not None and len(edges) >= 2:
        return float(edges[0]), float(edges[-1])
    return -0.5, cells - 0.5


def _category_ticks(categories: Sequence[str], rotation: float) -> Ticks:
    """Every k-th class named (:func:`.axes.category_stride`), long names shortened."""
    step = category_stride(len(categories))
    values = [float(v) for v in range(0, len(categories), step)]
    labels = [shorten(str(c), CATEGORY_FONT, MAX_CATEGORY_WIDTH) for c in categories[::step]]
    return Ticks(values, labels, CATEGORY_FONT, rotation)


def _numeric_ticks(scale: Scale, length: float, vertical: bool) -> Ticks:
    """Matplotlib's automatic ticks for an axis ``length`` pixels long."""
    lo, hi = sorted((scale.lo, scale.hi))
    values = linear_ticks(lo, hi, auto_bins(length * 72 / DPI, TICK_FONT, vertical))
    return Ticks(values, format_ticks(values), TICK_FONT)


def _x_axis(hm: Heatmap, shape: Tuple[int, ...], width: float) -> Tuple[Scale, List[Ticks]]:
    scale = Scale(*_axis_range(hm.x_edges, hm.x_categories, shape[1] if len(shape) > 1 else 1))
    if hm.x_categories:
        return scale, [_category_ticks(hm.x_categories, CATEGORY_ROTATION)]
    return scale, [_numeric_ticks(scale, width, vertical=False)]


def _y_axis(hm: Heatmap, shape: Tuple[int, ...], height: float) -> Tuple[Scale, List[Ticks]]:
    """The y scale runs up the axes with ``y_up``, down it otherwise (row 0 at the top)."""
    lo, hi = _axis_range(hm.y_edges, hm.y_categories, shape[0] if shape else 1)
    scale = Scale(lo, hi) if hm.y_up else Scale(hi, lo)
    if hm.y_categories:
        return scale, [_category_ticks(hm.y_categories, 0.0)]
    return scale, [_numeric_ticks(scale, height, vertical=True)]


def _xtick_height(hm: Heatmap) -> float:
    """Height of the x tick labels: turned class names, or one line of numbers."""
    if hm.x_categories:
        return max(text_box(t, CATEGORY_FONT, CATEGORY_ROTATION)[1]
                   for t in _category_ticks(hm.x_categories, CATEGORY_ROTATION).labels)
    return line_height(TICK_FONT)


def _ytick_width(ticks: Sequence[Ticks]) -> float:
    """Width of the widest label of ``ticks`` (a Ticks or a list of them)."""
    ticks = [ticks] if isinstance(ticks, Ticks) else ticks
    return max([text_width(label, t.size) for t in ticks for label in t.labels] + [0.0])


def _linear_bar_ticks(vmax: float, length: float, size: float) -> Ticks:
    """Ticks of a linear colour bar over [0, vmax], at their share of the bar."""
    values = linear_ticks(0.0, vmax, auto_bins(length * 72 / DPI, size, vertical=True))
    return Ticks([v / vmax for v in values], format_ticks(values), size)


def _sqrt_bar_ticks(vmax: float, length: float, size: float) -> Ticks:
    """Ticks of a square-root colour bar: linear values over [0, vmax], each at the square root of its share."""
    values = sqrt_scale_ticks(vmax, auto_bins(length * 72 / DPI, size, vertical=True))
    return Ticks([math.sqrt(v / vmax) for v in values], format_ticks(values), size)


def _upright(hm: Heatmap, data: np.ndarray) -> np.ndarray:
    """The map's rows in drawing order (top first): row 0 at the bottom when the heatmap is ``y_up``."""
    data = np.asarray(data)
    return data[::-1] if hm.y_up else data


# ---------------------------------------------------------------------------------------- texts
def _add_ticks(out: HeatmapLayout, axes: Axes) -> None:
    """Tick marks below and left of ``axes``, with their labels (:meth:`.axes.Axes.tick_layout`)."""
    marks, labels = axes.tick_layout()
    out.marks.extend(marks)
    out.texts.extend(labels)


def _add_title(out: HeatmapLayout, axes: Axes, title: str, size: float) -> None:
    """A title centred over ``axes``, :data:`TITLE_PAD` above it."""
    out.texts.append(Label(title, (axes.left + axes.right) / 2, axes.top - TITLE_PAD, size, "center", "bottom"))


def _add_axis_labels(out: HeatmapLayout, axes: Axes, x_label: str, y_label: str, below: float, beside: float) -> None:
    """The x label centred ``below`` pixels under the axes, the y label turned upright ``beside`` pixels left."""
    if x_label:
        out.texts.append(Label(x_label, (axes.left + axes.right) / 2, axes.bottom + below, AXIS_FONT, "center"))
    if y_label:
        out.texts.append(Label(y_label, axes.left - beside, (axes.top + axes.bottom) / 2, AXIS_FONT, "right", "center",
                               90.0))


def _add_bar(out: HeatmapLayout, bar: Axes, label: str, size: float) -> None:
    """A colour bar: its ticks and tick labels on the right, its label turned upright beside them (kept
    inside the figure when it is longer than the bar)."""
    out.bars.append(bar)
    length, right = px(TICK_LENGTH), bar.right
    for ticks in bar.y_ticks:
        for y, text in zip(bar.y_px(ticks.values), ticks.labels):
            out.marks.append((right, float(y), right + length, float(y), px(TICK_WIDTH)))
            out.texts.append(Label(text, right + TICK, float(y), ticks.size, "left", "center"))
    if label:
        half = text_box(label, size, 90)[1] / 2
        middle = min(max((bar.top + bar.bottom) / 2, EDGE + half), out.height - EDGE - half)
        x = right + TICK + _ytick_width(bar.y_ticks) + LABEL_PAD
        out.texts.append(Label(label, x, middle, size, "left", "center", 90.0))


def _room(label: str, size: float) -> float:
    """Room an axis label takes beside its tick labels (nothing when there is none)."""
    return text_box(label, size)[1] + LABEL_PAD if label else 0.0


def _extra_lines(text: str, size: float) -> float:
    """How much taller than one line ``text`` is (when it was wrapped)."""
    return text_box(text, size)[1] - line_height(size) if text else 0.0


def _with_value(hm: Heatmap) -> str:
    """The figure's title, with what the colour shows when the panels do not say it."""
    return f"{hm.title}: {hm.value_label}" if hm.value_label else hm.title


# ---------------------------------------------------------------------------------------- pixels
def _paste_scaled(canvas: Canvas, axes: Axes, rgb: np.ndarray) -> None:
    """``rgb`` scaled by nearest neighbour (pixel centres) to fill the box of ``axes``."""
    w, h = int(axes.right - axes.left), int(axes.bottom - axes.top)
    if w <= 0 or h <= 0 or rgb.size == 0:
        return
    pixels = cv2.resize(np.ascontiguousarray(rgb), (w, h), interpolation=cv2.INTER_NEAREST_EXACT)
    canvas.paste(int(axes.left), int(axes.top), pixels.reshape(h, w, 3))


def _largest(data: np.ndarray) -> float:
    """The largest number in ``data`` (0 when there is none)."""
    values = np.asarray(data, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else 0.0


__all__ = ["HeatmapLayout", "Label", "Panel", "colours", "draw", "heatmap_canvas", "heatmap_layout", "magma"]
