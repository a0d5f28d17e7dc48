"""Figure margins from measured text, instead of a layout engine.

Matplotlib's constrained layout finds margins by laying out every tick label of every
axes, twice, for each figure: about half the cost of drawing one. Our figures have a
fixed shape (a title, axis labels, tick labels, an optional colorbar), so the margins
are computed here from the font metrics of the very strings that will be drawn: one
FreeType measurement per distinct string (cached), no artist, no draw pass.

All lengths are in inches; matplotlib's default sizes (ticks 3.5 pt long with a 3.5 pt
pad, axis labels 4 pt from the tick labels, titles 6 pt above the axes) are used.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import List, Sequence, Tuple

FIGURE_DPI = 150  # sharp when printed, still light in TensorBoard
PT = 1.0 / 72.0
EDGE = 5 * PT  # blank border around the figure
TICK = 7 * PT  # tick length + pad between tick and label
LABEL_PAD = 4 * PT
TITLE_PAD = 6 * PT


@lru_cache(maxsize=1)
def _renderer():
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(1, 1, 72)  # 72 dpi: one pixel = one point


@lru_cache(maxsize=16)
def _font(size: float):
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=size)


@lru_cache(maxsize=16)
def line_height(size: float) -> float:
    """Height of one line of text at ``size`` points (matplotlib sizes lines on "lp")."""
    return _renderer().get_text_width_height_descent("lp", _font(size), ismath=False)[1] * PT


@lru_cache(maxsize=16384)
def text_box(text: str, size: float, rotation: float = 0.0) -> Tuple[float, float]:
    """Width and height of the box around ``text`` at ``size`` points rotated by ``rotation`` degrees."""
    lines = str(text).split("\n")
    if not any(lines):
        return 0.0, 0.0
    renderer, font = _renderer(), _font(size)
    w = max(renderer.get_text_width_height_descent(line, font, ismath=False)[0] for line in lines) * PT
    h = line_height(size) * (1 + 1.2 * (len(lines) - 1))
    if rotation:
        a = math.radians(rotation)
        w, h = w * abs(math.cos(a)) + h * abs(math.sin(a)), w * abs(math.sin(a)) + h * abs(math.cos(a))
    return w, h


def max_width(texts: Sequence[str], size: float, rotation: float = 0.0) -> float:
    return max((text_box(t, size, rotation)[0] for t in texts), default=0.0)


def max_height(texts: Sequence[str], size: float, rotation: float = 0.0) -> float:
    return max((text_box(t, size, rotation)[1] for t in texts), default=0.0)


def tick_labels(axis, minor: bool = False) -> List[str]:
    """The labels ``axis`` will draw (ticks inside its view interval), as the formatter writes them."""
    locator = axis.get_minor_locator() if minor else axis.get_major_locator()
    formatter = axis.get_minor_formatter() if minor else axis.get_major_formatter()
    lo, hi = sorted(axis.get_view_interval())
    eps = 1e-9 * max(abs(hi - lo), 1e-300)
    locs = [v for v in locator() if lo - eps <= v <= hi + eps]
    return [s for s in formatter.format_ticks(locs) if s]


def rotated_left_overhang(labels: Sequence[str], positions: Sequence[float], size: float, rotation: float) -> float:
    """How far right-aligned rotated labels reach left of the axes, given each label's anchor
    ``position`` (inches from the axes' left edge)."""
    reach = [text_box(t, size, rotation)[0] - p for t, p in zip(labels, positions)]
    return max(reach + [0.0])


def set_axes_box(ax, fig_w: float, fig_h: float, left: float, bottom: float, width: float, height: float) -> None:
    """Place ``ax`` at a box given in inches from the figure's bottom-left corner."""
    ax.set_position([left / fig_w, bottom / fig_h, max(width, 0.05) / fig_w, max(height, 0.05) / fig_h])
