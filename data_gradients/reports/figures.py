"""Matplotlib figures for histograms and heatmaps, train and val side by side.

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot state), so the
TensorBoard and PDF writers can render them without global side effects.
"""
from __future__ import annotations

import math
from typing import Dict, List

import numpy as np
from matplotlib.figure import Figure

from data_gradients.results import Heatmap, Histogram

SPLIT_COLORS = {"train": "#2b6cb0", "val": "#dd6b20"}
_FALLBACK = ["#2f855a", "#805ad5", "#c53030"]


def split_color(split: str, i: int) -> str:
    return SPLIT_COLORS.get(split, _FALLBACK[i % len(_FALLBACK)])


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
        ax.set_xticks(x)
        rotate = n > 8 or max((len(c) for c in h.categories), default=0) > 8
        ax.set_xticklabels(h.categories, rotation=45 if rotate else 0, ha="right" if rotate else "center", fontsize=8)
    else:
        edges = np.asarray(h.bin_edges, dtype=float)
        for i, s in enumerate(splits):
            ax.stairs(values[s], edges, label=s, color=split_color(s, i), linewidth=1.6,
                      fill=len(splits) == 1, alpha=0.9)
        if h.log_x:
            ax.set_xscale("log")
    ax.set_title(h.title, fontsize=10)
    ax.set_xlabel(h.x_label)
    ax.set_ylabel(h.y_label)
    ax.grid(axis="y", alpha=0.3)
    if splits:
        ax.legend(fontsize=8, frameon=False)
    return fig


def heatmap_figure(hm: Heatmap, max_cols: int = 6) -> Figure:
    """One row of panels per split (wrapped after ``max_cols``); one shared colour scale per panel."""
    splits = list(hm.maps)
    panels: List[str] = list(dict.fromkeys(p for s in splits for p in hm.maps[s]))
    cols = min(max(len(panels), 1), max_cols)
    rows_per_split = max(math.ceil(len(panels) / cols), 1)
    n_rows = rows_per_split * max(len(splits), 1)
    fig = Figure(figsize=(1.9 * cols + 0.8, 1.9 * n_rows + 0.6), layout="constrained")
    axes = fig.subplots(n_rows, cols, squeeze=False)
    vmax: Dict[str, float] = {p: max(float(np.max(hm.maps[s][p])) if p in hm.maps[s] else 0.0 for s in splits) for p in panels}
    extent = None
    if hm.x_edges is not None and hm.y_edges is not None:
        extent = (float(hm.x_edges[0]), float(hm.x_edges[-1]), float(hm.y_edges[-1]), float(hm.y_edges[0]))
    image = None
    for si, s in enumerate(splits):
        for pi, p in enumerate(panels):
            ax = axes[si * rows_per_split + pi // cols][pi % cols]
            data = hm.maps[s].get(p)
            if data is None:
                ax.axis("off")
                continue
            image = ax.imshow(data, cmap="magma", vmin=0, vmax=vmax[p] or 1.0, extent=extent, aspect="auto",
                              interpolation="nearest")
            ax.set_title(f"{p} ({s})" if len(panels) > 1 else s, fontsize=8)
            ax.tick_params(labelsize=6)
        for k in range(len(panels), rows_per_split * cols):
            axes[si * rows_per_split + k // cols][k % cols].axis("off")
    if image is not None and len(panels) == 1:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label=hm.value_label)
    fig.suptitle(hm.title, fontsize=10)
    return fig
