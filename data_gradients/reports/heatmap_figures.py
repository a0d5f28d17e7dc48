"""Heatmap figures: one panel per split with axes and a colorbar, a few labelled class
matrices, or many small panels (e.g. one per class) composed as pixels.

Many panels used to be one Axes each (a 100-class heatmap: 200 Axes, 9 s to draw). They
carry no ticks, so here they are coloured with numpy, scaled up by nearest-neighbour (as
``imshow(interpolation="nearest")`` did) and placed as figure images under their titles.
"""
from __future__ import annotations

import math
from typing import Dict, List

import numpy as np
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.colors import Normalize, PowerNorm
from matplotlib.figure import Figure

from data_gradients.reports.figure_layout import (
    EDGE,
    LABEL_PAD,
    PT,
    TICK,
    TITLE_PAD,
    line_height,
    max_height,
    max_width,
    set_axes_box,
    tick_labels,
)
from data_gradients.reports.figures import FIGURE_DPI, MAX_CATEGORY_LABELS, axis_labels
from data_gradients.results import Heatmap

CMAP = "magma"
GAP = 0.15  # inches between neighbouring panels (besides their tick labels)


def heatmap_figure(hm: Heatmap, max_cols: int = 6, dpi: float = FIGURE_DPI) -> Figure:
    """Panels per split. One panel (e.g. width x height): the splits side by side.
    Several panels (e.g. one per class): a row per split, wrapped after ``max_cols``."""
    splits = list(hm.maps)
    panels: List[str] = list(dict.fromkeys(p for s in splits for p in hm.maps[s]))
    vmax: Dict[str, float] = {p: max(float(np.max(hm.maps[s][p])) if p in hm.maps[s] else 0.0 for s in splits)
                              for p in panels}
    if len(panels) <= 1:
        return _single(hm, splits, panels, vmax, dpi)
    if bool(hm.x_categories or hm.y_categories) and len(panels) <= 4:
        return _labelled(hm, splits, panels, vmax, dpi)
    return _mosaic(hm, splits, panels, vmax, max_cols, dpi)


def _single(hm: Heatmap, splits: List[str], panels: List[str], vmax: Dict[str, float], dpi: float) -> Figure:
    """The splits side by side, axes with ticks and labels, one colorbar (square-root scale: a
    distribution is often skewed, the scale shows its tail)."""
    cols = max(len(splits), 1)
    size = 2.8 if not hm.x_categories else min(0.28 * len(hm.x_categories) + 1.8, 5.0)
    fig_w, fig_h = size * cols + 1.0, size + 0.7
    fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
    axes = [fig.add_axes((0, 0, 1, 1)) for _ in range(cols)]
    image = None
    for si, s in enumerate(splits):
        ax, data = axes[si], hm.maps[s].get(panels[0]) if panels else None
        if data is None:
            ax.axis("off")
            continue
        norm = PowerNorm(0.5, vmin=0, vmax=vmax[panels[0]] or 1.0)
        image = ax.imshow(data, cmap=CMAP, norm=norm, extent=_extent(hm), aspect="auto", interpolation="nearest",
                          origin="lower" if hm.y_up else "upper")
        ax.set_title(s, fontsize=9, y=1.0)  # a fixed position: no search for overlapping tick labels
        ax.tick_params(labelsize=7)
        _category_ticks(ax, hm)
    gutters = [_ytick_room(ax, hm) + (_room(hm.y_label, 8) if i == 0 else GAP) for i, ax in enumerate(axes)]
    top = EDGE + line_height(10) + 4 * PT + line_height(9) + TITLE_PAD
    bottom = EDGE + _room(hm.x_label, 8) + max(_xtick_height(ax, hm) for ax in axes) + TICK
    height = fig_h - top - bottom
    right = EDGE
    cbar = None
    if image is not None:
        label = f"{hm.value_label} (square-root scale)".strip()
        cbar = fig.colorbar(image, cax=fig.add_axes((0, 0, 1, 1)), label=label)
        right += 0.25 + 0.85 * height / 20 + TICK + max_width(tick_labels(cbar.ax.yaxis), 10) + _room(label, 10)
    width = (fig_w - EDGE - sum(gutters) - right) / cols
    x = EDGE
    for i, (ax, gutter) in enumerate(zip(axes, gutters)):
        x += gutter
        set_axes_box(ax, fig_w, fig_h, x, bottom, width, height)
        x += width
        if ax.axison:
            axis_labels(ax, hm.x_label, hm.y_label if i == 0 else "", 8, _xtick_height(ax, hm) + TICK,
                        _ytick_room(ax, hm), width, height)
    if cbar is not None:
        bar_h = 0.85 * height
        set_axes_box(cbar.ax, fig_w, fig_h, x + 0.25, bottom + (height - bar_h) / 2, bar_h / 20, bar_h)
        beside = TICK + max_width(tick_labels(cbar.ax.yaxis), 10) + LABEL_PAD
        cbar.ax.yaxis.set_label_coords(1 + beside / (bar_h / 20), 0.5)  # fixed, as for the axes
    fig.suptitle(hm.title, fontsize=10, y=1 - EDGE / fig_h, va="top")
    return fig


def _labelled(hm: Heatmap, splits: List[str], panels: List[str], vmax: Dict[str, float], dpi: float) -> Figure:
    """A few matrices whose axes are classes (e.g. co-occurrence): class names on both axes, a colour
    bar beside each panel (panels have their own scales), the panel's title above it."""
    cols = min(len(panels), 2)
    rows_per_split = math.ceil(len(panels) / cols)
    n_rows = rows_per_split * max(len(splits), 1)
    side = min(0.28 * max(len(hm.x_categories or []), len(hm.y_categories or [])) + 1.6, 4.2)
    bar_room = 0.12 + GAP + TICK + max_width(["0.00"], 7)  # bar, gap and its tick labels
    fig_w, fig_h = (side + bar_room) * cols + 0.6, side * n_rows + 0.6
    fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
    grid = [[None] * cols for _ in range(n_rows)]
    bars = {}
    for si, s in enumerate(splits):
        for pi, p in enumerate(panels):
            data = hm.maps[s].get(p)
            if data is None:
                continue
            ax = grid[si * rows_per_split + pi // cols][pi % cols] = fig.add_axes((0, 0, 1, 1))
            image = ax.imshow(data, cmap=CMAP, norm=Normalize(vmin=0, vmax=vmax[p] or 1.0), extent=_extent(hm),
                              aspect="auto", interpolation="nearest", origin="lower" if hm.y_up else "upper")
            ax.set_title(f"{hm.panel_title(p)} ({s})", fontsize=8, y=1.0)
            ax.tick_params(labelsize=7)
            _category_ticks(ax, hm)
            bars[id(ax)] = fig.colorbar(image, cax=fig.add_axes((0, 0, 1, 1)))
            bars[id(ax)].ax.tick_params(labelsize=7)
    present = [ax for row in grid for ax in row if ax is not None]
    y_room = max((_ytick_room(ax, hm) for ax in present), default=0.0)
    x_room = max((_xtick_height(ax, hm) for ax in present), default=0.0) + TICK
    title_room = line_height(8) + TITLE_PAD + 4 * PT
    width = (fig_w - 2 * EDGE - cols * (y_room + bar_room) - (cols - 1) * GAP) / cols
    top = EDGE + line_height(10) + 2 * PT
    height = (fig_h - top - EDGE - n_rows * (title_room + x_room)) / n_rows
    for r, row in enumerate(grid):
        for c, ax in enumerate(row):
            if ax is not None:
                left = EDGE + y_room + c * (width + GAP + y_room + bar_room)
                bottom = fig_h - top - (r + 1) * (title_room + height + x_room) + x_room
                set_axes_box(ax, fig_w, fig_h, left, bottom, width, height)
                set_axes_box(bars[id(ax)].ax, fig_w, fig_h, left + width + GAP, bottom, 0.12, height)
    fig.suptitle(_with_value(hm), fontsize=10, y=1 - EDGE / fig_h, va="top")
    return fig


def _with_value(hm: Heatmap) -> str:
    """The figure's title, with what the colour shows when the panels do not say it."""
    return f"{hm.title}: {hm.value_label}" if hm.value_label else hm.title


def _mosaic(hm: Heatmap, splits: List[str], panels: List[str], vmax: Dict[str, float], max_cols: int,
            dpi: float) -> Figure:
    """Many small panels without ticks, each on its own linear scale, a row per split."""
    cols = min(len(panels), max_cols)
    rows_per_split = math.ceil(len(panels) / cols)
    n_rows = rows_per_split * max(len(splits), 1)
    bar_room = 1.1  # the shared colour bar on the right, its ticks and its label
    fig_w, fig_h = 1.7 * cols + 0.4 + bar_room, 1.75 * n_rows + 0.6
    fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
    # the grid subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.55 / fig_h, wspace=0.08, hspace=0.25) gave
    cell_w = 0.96 * (fig_w - bar_room) / (cols + 0.08 * (cols - 1))
    cell_h = (0.98 * fig_h - 0.55) / (n_rows + 0.25 * (n_rows - 1))
    cmap, frame = colormaps[CMAP], max(1, round(0.8 * dpi / 72))
    for si, s in enumerate(splits):
        for pi, p in enumerate(panels):
            data = hm.maps[s].get(p)
            if data is None:
                continue
            row, col = si * rows_per_split + pi // cols, pi % cols
            x0, y_top = 0.02 * fig_w + col * 1.08 * cell_w, fig_h - 0.55 - row * 1.25 * cell_h
            px0, py0 = round(x0 * dpi), round((y_top - cell_h) * dpi)
            pw, ph = round((x0 + cell_w) * dpi) - px0, round(y_top * dpi) - py0
            rgba = cmap(Normalize(vmin=0, vmax=vmax[p] or 1.0)(np.asarray(data, dtype=float)), bytes=True)
            fig.add_artist(_Panel(rgba if hm.y_up else rgba[::-1], px0, py0, pw, ph, frame))
            fig.text((x0 + cell_w / 2) / fig_w, (y_top + TITLE_PAD) / fig_h, f"{hm.panel_title(p)} ({s})", fontsize=8,
                     ha="center", va="baseline")
    # each panel is coloured on its own scale (0 to its largest value): one bar says so for all
    from matplotlib.cm import ScalarMappable

    bar_h = min(fig_h - 0.55 - 0.3, 2.6)
    cax = fig.add_axes((0, 0, 1, 1))
    set_axes_box(cax, fig_w, fig_h, fig_w - bar_room + 0.15, fig_h - 0.55 - bar_h, 0.12, bar_h)
    bar = fig.colorbar(ScalarMappable(norm=Normalize(0, 1), cmap=cmap), cax=cax, ticks=[0, 0.5, 1])
    bar.ax.set_yticklabels(["0", "half", "max"], fontsize=7)
    label = f"{hm.value_label}, share of the panel's largest value" if hm.value_label else "share of the panel's largest value"
    bar.set_label(label, fontsize=7)
    fig.suptitle(hm.title, fontsize=10, y=1 - EDGE / fig_h, va="top")  # the default y=0.98 lands on tall mosaics
    return fig


class _Panel(Artist):
    """A heatmap panel put on the canvas as pixels: ``rgba`` (row 0 at the bottom, as on the canvas)
    scaled to ``width`` x ``height`` by nearest neighbour, framed as axes spines were, its bottom-left
    corner at pixel ``(x, y)``. What ``figimage`` does, without its resampling pass; the scaled pixels
    exist only while the panel is drawn."""

    def __init__(self, rgba: np.ndarray, x: int, y: int, width: int, height: int, frame: int):
        super().__init__()
        self.rgba, self.x, self.y, self.width, self.height, self.frame = rgba, x, y, width, height, frame

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        pixels, f = _nearest(self.rgba, self.height, self.width), self.frame
        black = np.array([0, 0, 0, 255], dtype=np.uint8)
        pixels[:f], pixels[-f:], pixels[:, :f], pixels[:, -f:] = black, black, black, black
        gc = renderer.new_gc()
        renderer.draw_image(gc, self.x, self.y, pixels)
        gc.restore()


def _nearest(rgba: np.ndarray, height: int, width: int) -> np.ndarray:
    """``rgba`` scaled to ``height`` x ``width`` pixels by nearest neighbour (pixel centres)."""
    h, w = rgba.shape[:2]
    rows = np.minimum(((np.arange(height) + 0.5) * h / height).astype(np.intp), h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * w / width).astype(np.intp), w - 1)
    return rgba[rows][:, cols]


def _room(label: str, size: float) -> float:
    return line_height(size) + LABEL_PAD if label else 0.0


def _ytick_room(ax, hm: Heatmap) -> float:
    if not ax.axison:
        return 0.0
    return max_width(tick_labels(ax.yaxis), 6 if hm.y_categories else 7) + TICK


def _xtick_height(ax, hm: Heatmap) -> float:
    if not ax.axison:
        return 0.0
    if hm.x_categories:
        return max_height(tick_labels(ax.xaxis), 6, 60)
    return line_height(7)


def _axis_range(edges, categories) -> tuple:
    """Data range of an axis: category cells sit at 0, 1, 2...; numeric cells span their edges."""
    if categories:
        return -0.5, len(categories) - 0.5
    if edges is not None:
        return float(edges[0]), float(edges[-1])
    return None


def _extent(hm: Heatmap):
    x = _axis_range(hm.x_edges, hm.x_categories)
    y = _axis_range(hm.y_edges, hm.y_categories)
    if x is None or y is None:
        return None
    return (x[0], x[1], y[0], y[1]) if hm.y_up else (x[0], x[1], y[1], y[0])


def _category_ticks(ax, hm: Heatmap) -> None:
    if hm.x_categories:
        n = len(hm.x_categories)
        step = max(1, math.ceil(n / MAX_CATEGORY_LABELS))
        ax.set_xticks(np.arange(n)[::step])
        ax.set_xticklabels(hm.x_categories[::step], rotation=60, ha="right", fontsize=6)
    if hm.y_categories:
        n = len(hm.y_categories)
        step = max(1, math.ceil(n / MAX_CATEGORY_LABELS))
        ax.set_yticks(np.arange(n)[::step])
        ax.set_yticklabels(hm.y_categories[::step], fontsize=6)
