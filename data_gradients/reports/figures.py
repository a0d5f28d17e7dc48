"""Matplotlib figures for histograms and heatmaps, train and val side by side.

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot state), so the
TensorBoard and PDF writers can render them without global side effects.
"""
from __future__ import annotations

import math
from typing import Dict, List

import numpy as np
from matplotlib.colors import Normalize, PowerNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from data_gradients.results import FeatureResult, Heatmap, Histogram

SPLIT_COLORS = {"train": "#2b6cb0", "val": "#dd6b20"}
_FALLBACK = ["#2f855a", "#805ad5", "#c53030"]
MAX_CATEGORY_LABELS = 24


def split_color(split: str, i: int) -> str:
    return SPLIT_COLORS.get(split, _FALLBACK[i % len(_FALLBACK)])


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


def histogram_figure(h: Histogram, width: float = 7.0) -> Figure:
    """Bars per split: categories side by side, or numeric bins as outlined steps."""
    splits = list(h.counts)
    fig = Figure(figsize=(width, 3.2), layout="constrained")
    ax = fig.add_subplot()
    values = {s: (h.shares(s) if h.normalize else np.asarray(h.counts[s], dtype=float)) for s in splits}
    if h.categories is not None:
        n = len(h.categories)
        x = np.arange(n)
        bar_w = 0.8 / max(len(splits), 1)
        for i, s in enumerate(splits):
            ax.bar(x + (i - (len(splits) - 1) / 2) * bar_w, values[s], bar_w, label=s, color=split_color(s, i))
        step = max(1, math.ceil(n / MAX_CATEGORY_LABELS))
        ax.set_xticks(x[::step])
        labels = h.categories[::step]
        rotate = len(labels) > 8 or max((len(c) for c in labels), default=0) > 8
        ax.set_xticklabels(labels, rotation=45 if rotate else 0, ha="right" if rotate else "center", fontsize=8)
        ax.set_xlim(-0.6, n - 0.4)
    else:
        edges = np.asarray(h.bin_edges, dtype=float)
        lo, hi = _visible_range(edges, list(values.values()))
        for i, s in enumerate(splits):
            ax.stairs(values[s][lo:hi], edges[lo:hi + 1], label=s, color=split_color(s, i), linewidth=1.6,
                      fill=len(splits) == 1, alpha=0.9)
        if h.log_x:
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(_plain_number))
            if edges[hi] / max(edges[lo], 1e-300) > 30:
                ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                ax.xaxis.set_minor_formatter(NullFormatter())
            else:  # less than a decade or two: label the minor ticks too
                ax.xaxis.set_minor_formatter(FuncFormatter(_plain_number))
                ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.set_xlim(edges[lo], edges[hi])
    ax.set_title(h.title, fontsize=10)
    ax.set_xlabel(h.x_label)
    ax.set_ylabel(h.y_label)
    ax.grid(axis="y", alpha=0.3)
    if splits:
        ax.legend(fontsize=8, frameon=False)
    return fig


def heatmap_figure(hm: Heatmap, max_cols: int = 6) -> Figure:
    """Panels per split. One panel (e.g. width x height): the splits side by side.
    Several panels (e.g. one per class): a row per split, wrapped after ``max_cols``."""
    splits = list(hm.maps)
    panels: List[str] = list(dict.fromkeys(p for s in splits for p in hm.maps[s]))
    single = len(panels) <= 1
    labelled = bool(hm.x_categories or hm.y_categories) and len(panels) <= 4
    if single:
        cols, rows_per_split = max(len(splits), 1), 1
        n_rows = 1
        size = 3.4 if not hm.x_categories else min(0.28 * len(hm.x_categories) + 1.8, 5.5)
        fig = Figure(figsize=(size * cols + 1.0, size + 0.7), layout="constrained")
    elif labelled:
        # a few matrices whose axes are classes: keep the names, let the layout engine place them
        cols = min(len(panels), 2)
        rows_per_split = math.ceil(len(panels) / cols)
        n_rows = rows_per_split * max(len(splits), 1)
        side = min(0.28 * max(len(hm.x_categories or []), len(hm.y_categories or [])) + 1.6, 4.2)
        fig = Figure(figsize=(side * cols + 0.6, side * n_rows + 0.6), layout="constrained")
    else:
        cols = min(len(panels), max_cols)
        rows_per_split = math.ceil(len(panels) / cols)
        n_rows = rows_per_split * max(len(splits), 1)
        # many small panels: fixed margins and no ticks (the layout engine would cost ~1 s here)
        fig = Figure(figsize=(1.7 * cols + 0.4, 1.75 * n_rows + 0.6))
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.55 / (1.75 * n_rows + 0.6),
                            wspace=0.08, hspace=0.25)
    axes = fig.subplots(n_rows, cols, squeeze=False)
    vmax: Dict[str, float] = {p: max(float(np.max(hm.maps[s][p])) if p in hm.maps[s] else 0.0 for s in splits)
                              for p in panels}
    extent = _extent(hm)
    image = None
    for si, s in enumerate(splits):
        for pi, p in enumerate(panels):
            ax = axes[0][si] if single else axes[si * rows_per_split + pi // cols][pi % cols]
            data = hm.maps[s].get(p)
            if data is None:
                ax.axis("off")
                continue
            # one panel = a distribution, often skewed: a square-root scale shows its tail
            norm = (PowerNorm(0.5, vmin=0, vmax=vmax[p] or 1.0) if single
                    else Normalize(vmin=0, vmax=vmax[p] or 1.0))
            image = ax.imshow(data, cmap="magma", norm=norm, extent=extent, aspect="auto",
                              interpolation="nearest", origin="lower" if hm.y_up else "upper")
            ax.set_title(s if single else f"{p} ({s})", fontsize=9 if single else 8)
            if single or labelled:
                ax.tick_params(labelsize=7)
                _category_ticks(ax, hm)
            else:
                ax.set_xticks([])
                ax.set_yticks([])
            if single:
                ax.set_xlabel(hm.x_label, fontsize=8)
                if si == 0:
                    ax.set_ylabel(hm.y_label, fontsize=8)
        if not single:
            for k in range(len(panels), rows_per_split * cols):
                axes[si * rows_per_split + k // cols][k % cols].axis("off")
    if image is not None and single:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.85,
                     label=f"{hm.value_label} (square-root scale)".strip())
    fig.suptitle(hm.title, fontsize=10)
    return fig


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


FIGURE_DPI = 150  # sharp when printed, still light in TensorBoard


def plot_items(result: FeatureResult) -> List[tuple]:
    """``(tag, item)`` for every plot of a result; the tag is ``"feature/key"``."""
    return [(f"{result.name}/{item.key}", item) for item in [*result.histograms, *result.heatmaps]]


def make_figure(item) -> Figure:
    fig = histogram_figure(item) if isinstance(item, Histogram) else heatmap_figure(item)
    fig.set_dpi(FIGURE_DPI)
    return fig


def figure_rgb(fig: Figure) -> np.ndarray:
    """The pixels of a figure that has been drawn on an Agg canvas (draws it if not)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    if getattr(canvas, "renderer", None) is None:
        canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def release(fig: Figure) -> None:
    """Free a figure's artists and canvas now: figures hold reference cycles, and waiting
    for the garbage collector let a report's worth of canvases pile up (~100+ MB)."""
    fig.clear()
    fig.canvas = None  # drops the Agg renderer and its pixel buffer


def rendered_plot(store: Dict[str, np.ndarray], tag: str, item) -> np.ndarray:
    """The RGB image of a plot, drawn on first use and kept in ``store``."""
    if tag not in store:
        fig = make_figure(item)
        store[tag] = figure_rgb(fig)
        release(fig)
    return store[tag]
