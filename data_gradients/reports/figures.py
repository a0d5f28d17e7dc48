"""Matplotlib figures for histograms and heatmaps, train and val side by side.

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot state), so they can
be drawn without global side effects, and without a layout engine: margins come from the
measured size of the labels (see ``figure_layout``). Heatmaps are in ``heatmap_figures``;
drawing them to PNG once for every writer is ``rendering``. Importing this module imports
matplotlib: only the writers do, when they write.
"""
from __future__ import annotations

import math
from typing import List

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from data_gradients.reports.figure_layout import (
    EDGE,
    FIGURE_DPI,
    LABEL_PAD,
    TICK,
    TITLE_PAD,
    line_height,
    max_height,
    max_width,
    rotated_left_overhang,
    set_axes_box,
    text_box,
    tick_labels,
)
from data_gradients.results import FeatureResult, Histogram, is_value_bins

__all__ = ["FIGURE_DPI", "histogram_figure", "make_figure", "plot_items", "release", "split_color", "split_colors"]

# six colours told apart in print and by most colour-blind readers: blue, orange, green, purple, red, teal
PALETTE = ["#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#0f9fb5"]
SPLIT_COLORS = {"train": PALETTE[0], "val": PALETTE[1]}
MAX_CATEGORY_LABELS = 24
FONT = 10.0  # matplotlib's default size of titles, axis labels and tick labels here


def split_colors(splits) -> dict:
    """A colour per split, distinct for up to six: train blue and val orange wherever they are, the
    other splits the remaining colours in order (then the palette again)."""
    splits = list(splits)
    free = [c for c in PALETTE if c not in {SPLIT_COLORS[s] for s in splits if s in SPLIT_COLORS}]
    out, k = {}, 0
    for s in splits:
        if s in SPLIT_COLORS:
            out[s] = SPLIT_COLORS[s]
        else:
            out[s] = free[k] if k < len(free) else PALETTE[k % len(PALETTE)]
            k += 1
    return out


def split_color(split: str, i: int, splits=None) -> str:
    """The colour of ``split``, the ``i``-th of ``splits`` (default: ``i`` other splits before it)."""
    if splits is None:
        splits = [f"\0{k}" for k in range(i)] + [split]
    return split_colors(splits)[split]


def _plain_number(x: float, _pos=None) -> str:
    return f"{x:g}"


def _visible_range(edges: np.ndarray, values: List[np.ndarray]) -> tuple:
    """Bins worth showing: from the first to the last non-empty bin, with a margin."""
    nonzero = np.nonzero(np.any(np.stack(values) > 0, axis=0))[0] if values else []
    if len(nonzero) == 0:
        return 0, len(edges) - 1
    lo, hi = int(nonzero[0]), int(nonzero[-1]) + 1
    margin = max(1, (hi - lo) // 10)
    return max(lo - margin, 0), min(hi + margin, len(edges) - 1)


def _steps(ax, values: np.ndarray, edges: np.ndarray, **kwargs) -> None:
    """``ax.stairs(values, edges, baseline=0, ...)``, with the data limits given as the outline's corners:
    ``add_patch`` would walk every segment of the outline to find them (~10 ms for 256 bins)."""
    patch = StepPatch(values, edges, baseline=0, **kwargs)
    ax.add_artist(patch)  # still one of ax.patches: the legend finds it
    patch.sticky_edges.y.append(0)
    finite = values[np.isfinite(values)]
    if len(edges) and len(finite):
        ax.update_datalim([(edges[0], min(finite.min(), 0)), (edges[-1], max(finite.max(), 0))])


def _bars(ax, centers: np.ndarray, heights: np.ndarray, width: float, **kwargs) -> None:
    """Bars as one filled step patch (zero-height steps between them): one artist instead of one per bar."""
    edges = np.empty(2 * len(centers))
    edges[0::2], edges[1::2] = centers - width / 2, centers + width / 2
    values = np.zeros(max(2 * len(centers) - 1, 0))
    values[0::2] = heights
    _steps(ax, values, edges, fill=True, linewidth=0, **kwargs)


def histogram_figure(h: Histogram, width: float = 5.2, dpi: float = FIGURE_DPI) -> Figure:
    """Bars per split: categories side by side, or numeric bins as outlined steps."""
    splits = list(h.counts)
    fig_w, fig_h = width, 3.0  # narrow enough to read in a TensorBoard card (~350-500 px wide)
    fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
    ax = fig.add_subplot()
    values = {s: (h.shares(s) if h.normalize else np.asarray(h.counts[s], dtype=float)) for s in splits}
    colors = split_colors(splits)
    left_reach = right_reach = 0.0  # how far the x tick labels stick out of the axes
    if h.categories is not None:
        n = len(h.categories)
        x = np.arange(n)
        bar_w = 0.8 / max(len(splits), 1)
        for i, s in enumerate(splits):
            _bars(ax, x + (i - (len(splits) - 1) / 2) * bar_w, values[s], bar_w, label=s, color=colors[s])
        step = max(1, math.ceil(n / MAX_CATEGORY_LABELS))
        ax.set_xticks(x[::step])
        labels = [str(c) for c in h.categories[::step]]
        rotate = len(labels) > 8 or max((len(c) for c in labels), default=0) > 8
        ax.set_xticklabels(labels, rotation=45 if rotate else 0, ha="right" if rotate else "center", fontsize=8)
        ax.set_xlim(-0.6, n - 0.4)
        xtick_h = max_height(labels, 8, 45 if rotate else 0)
        axes_w = fig_w * 0.85  # close enough to place the labels' reach
        positions = [(k + 0.6) / max(n + 0.2, 1) * axes_w for k in x[::step]]
        if rotate:
            left_reach = rotated_left_overhang(labels, positions, 8, 45)
        elif labels:
            left_reach = text_box(labels[0], 8)[0] / 2 - positions[0]
            right_reach = text_box(labels[-1], 8)[0] / 2 - (axes_w - positions[-1])
    else:
        edges = np.asarray(h.bin_edges, dtype=float)
        lo, hi = _visible_range(edges, list(values.values()))
        value_bins = not h.log_x and is_value_bins(edges)
        if value_bins:  # bin v holds the integer value v: drawn centred on v, so 0-255 ends at 255
            edges = edges - 0.5
        for i, s in enumerate(splits):
            _steps(ax, values[s][lo:hi], edges[lo:hi + 1], label=s, color=colors[s], linewidth=1.6,
                   fill=len(splits) == 1, alpha=0.9)
        minor_labels = False
        if h.log_x:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(_plain_number))
            if edges[hi] / max(edges[lo], 1e-300) > 30:
                ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                ax.xaxis.set_minor_formatter(NullFormatter())
            else:  # less than a decade or two: label the minor ticks too
                ax.xaxis.set_minor_formatter(FuncFormatter(_plain_number))
                ax.tick_params(axis="x", which="minor", labelsize=7)
                minor_labels = True
        ax.set_xlim(edges[lo], edges[hi])
        if value_bins:  # counts and pixel values: whole numbers only
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if value_bins and edges[hi] == 255.5:
            ticks = [t for t in ax.get_xticks() if edges[lo] <= t <= 255 and 255 - t >= 20] + [255]
            ax.set_xticks(ticks)
            ax.xaxis.set_major_formatter(FuncFormatter(_plain_number))
        xtick_h = line_height(FONT) if not minor_labels else max(line_height(FONT), line_height(7))
        last = tick_labels(ax.xaxis)[-1:] or [""]
        right_reach = text_box(last[0], FONT)[0] / 2
    ax.autoscale_view()
    ax.set_title(h.title, fontsize=10, y=1.0)  # a fixed position: no search for overlapping tick labels
    ax.grid(axis="y", alpha=0.3)
    if splits:
        ax.legend(fontsize=8, frameon=False)
    right = EDGE + max(right_reach, 0.0)
    top = EDGE + line_height(10) + TITLE_PAD
    ytick_w = 0.0
    for _ in range(3):  # the y ticks depend on the axes' height: measured again once it is set
        measured = max_width(tick_labels(ax.yaxis), FONT)
        left = EDGE + max(_label_room(h.y_label) + max(measured, ytick_w) + TICK, left_reach)
        width = fig_w - left - right
        centre = left + width / 2  # the x label is centred on the axes: wrapped to stay in the figure
        x_label = wrap_to_width(h.x_label, FONT, 2 * min(centre - EDGE, fig_w - EDGE - centre))
        bottom = EDGE + _label_room(x_label) + xtick_h + TICK
        height = fig_h - bottom - top
        set_axes_box(ax, fig_w, fig_h, left, bottom, width, height)
        if measured <= ytick_w:
            break
        ytick_w = measured
    axis_labels(ax, x_label, h.y_label, FONT, xtick_h + TICK, ytick_w + TICK, width, height)
    return fig


def wrap_to_width(text: str, size: float, width: float) -> str:
    """``text`` broken at spaces into lines no wider than ``width`` inches at ``size`` points."""
    lines: List[str] = []
    for word in str(text).split(" "):
        if lines and text_box(f"{lines[-1]} {word}", size)[0] <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def axis_labels(ax, x_label: str, y_label: str, size: float, below: float, beside: float, width: float,
                height: float) -> None:
    """Axis labels at fixed places, ``below`` / ``beside`` (inches) the axes of ``width`` x ``height``:
    matplotlib would otherwise measure every tick label of the axis again to place them."""
    if x_label:
        ax.set_xlabel(x_label, fontsize=size)
        ax.xaxis.set_label_coords(0.5, -(below + LABEL_PAD) / height)
    if y_label:
        ax.set_ylabel(y_label, fontsize=size)
        ax.yaxis.set_label_coords(-(beside + LABEL_PAD) / width, 0.5)


def _label_room(label: str, size: float = FONT) -> float:
    """Room an axis label (one line or more) takes beside its tick labels (nothing when there is no label)."""
    return text_box(label, size)[1] + LABEL_PAD if label else 0.0


def plot_items(result: FeatureResult) -> List[tuple]:
    """``(tag, item)`` for every plot of a result; the tag is ``"feature/key"``."""
    return [(f"{result.name}/{item.key}", item) for item in [*result.histograms, *result.heatmaps]]


def make_figure(item, dpi: float = FIGURE_DPI) -> Figure:
    if isinstance(item, Histogram):
        return histogram_figure(item, dpi=dpi)
    from data_gradients.reports.heatmap_figures import heatmap_figure

    return heatmap_figure(item, dpi=dpi)


def release(fig: Figure) -> None:
    """Free a figure's pixels now: figures hold reference cycles, and waiting for the garbage
    collector let a report's worth of canvases pile up (~100+ MB). What is left (artists) is small."""
    for artist in fig.artists:  # the panels of a mosaic (arrays shown in axes are the small result arrays)
        artist.remove()
    fig.canvas = None  # drops the Agg renderer and its pixel buffer
