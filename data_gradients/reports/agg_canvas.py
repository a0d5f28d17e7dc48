"""An Agg canvas that draws a text it has drawn before as one cached bitmap.

Matplotlib >= 3.11 lays a text out with FreeType and draws it glyph by glyph, in Python, every
time (~0.4 ms to measure a short label, ~1 ms to draw it, and again in the next figure). Our
figures repeat their texts: the same tick labels, split names, axis labels and class names, in
every figure a process draws. Here a text is laid out once per process and its glyphs are
composed once into one coverage bitmap (a "sprite"), which is then blended at the text's
position, rounded to whole pixels (as matplotlib < 3.11 placed every text), by the same Agg
call that blends a glyph. Its size is measured once per process too.

What is drawn does not depend on what was cached before: a sprite is always made the same way
(glyphs at the origin), so a plot drawn by any process or thread, first or last, gives the same
pixels. The caches hold numpy arrays and numbers only (no FreeType object), so a forked child
may keep what its parent had.
Mathtext and TeX, and matplotlib versions without the per-glyph layout, take matplotlib's path.

The canvas also keeps its renderer (its pixel buffer) for the next figure of the same size,
when that buffer is small: histograms all have one size.
"""
from __future__ import annotations

import math
import threading
from typing import Dict, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font

MAX_SPRITES = 4096  # ~2 kB each: a few MB at most, then the cache starts again
MAX_KEPT_PIXELS = 2_000_000  # renderers kept for reuse: histogram-sized (780 x 450), not a 100-class mosaic

_SPRITES: Dict[tuple, Tuple[np.ndarray, int, int]] = {}  # key -> (coverage, left, top): top-left from the anchor
_EXTENTS: Dict[tuple, Tuple[float, float, float]] = {}  # key -> (width, height, descent) in pixels
_HEIGHTS: Dict[tuple, tuple] = {}  # (fonts, size, dpi) -> (ascent, descent, line gap) in pixels
_KEPT = threading.local()  # per thread: (size, renderer) kept for the next figure of that size


def clear_caches() -> None:
    """Forget every sprite, extent and kept renderer (of this thread)."""
    _SPRITES.clear()
    _EXTENTS.clear()
    _HEIGHTS.clear()
    _KEPT.__dict__.clear()


def _per_glyph_layout() -> bool:
    """Matplotlib lays out and draws text glyph by glyph (3.11 and later)."""
    from matplotlib.ft2font import FT2Font

    return hasattr(RendererAgg, "_draw_text_glyphs_and_boxes") and hasattr(FT2Font, "_layout")


class SpriteRenderer(RendererAgg):
    """``RendererAgg`` whose plain texts are drawn from cached sprites and measured once."""

    _enabled = _per_glyph_layout()

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath or not self._enabled:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (s, tuple(fontManager._find_fonts_by_props(prop)), prop.get_size_in_points(), self.dpi,
               get_hinting_flag())
        extent = _EXTENTS.get(key)
        if extent is None:
            extent = _EXTENTS[key] = super().get_text_width_height_descent(s, prop, ismath)
        return extent

    def _get_font_height_metrics(self, prop):
        """The font's ascent, descent and line gap from its tables, which ``Text._get_layout`` (>= 3.11)
        reads for every text unless the renderer gives them: here once per font and size."""
        key = (tuple(fontManager._find_fonts_by_props(prop)), prop.get_size_in_points(), self.dpi)
        metrics = _HEIGHTS.get(key)
        if metrics is None:
            metrics = _HEIGHTS[key] = _height_metrics(*key)
        return metrics

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath or not self._enabled:
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        fonts = tuple(fontManager._find_fonts_by_props(prop))
        key = (s, fonts, prop.get_size_in_points(), self.dpi, float(angle), get_hinting_flag(),
               bool(gc.get_antialiased()), None if features is None else tuple(features),
               language if language is None or isinstance(language, str) else tuple(map(tuple, language)))
        sprite = _SPRITES.get(key)
        if sprite is None:
            if len(_SPRITES) >= MAX_SPRITES:
                _SPRITES.clear()
            sprite = _SPRITES[key] = _make_sprite(fonts, s, prop.get_size_in_points(), self.dpi, angle, key[5],
                                                  key[6], features, language)
        coverage, left, top = sprite
        if coverage.size == 0:
            return
        # the anchor on whole pixels (y up from the bottom, as FreeType counts); Agg's y is downwards
        x0, y0 = round(x), round(self.height - y)
        self._renderer.draw_text_image(coverage, x0 + left, int(self.height) - (y0 + top) + coverage.shape[0], 0, gc)


def _height_metrics(fonts, size: float, dpi: float) -> tuple:
    """What ``matplotlib.text.Text._get_layout`` computes from the first font's OS/2 or hhea table."""
    font = get_font(list(fonts))
    for table_name, gap_key, ascent_key, descent_key in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                                         ("hhea", "lineGap", "ascent", "descent")):
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        scale = 1 / font.get_sfnt_table("head")["unitsPerEm"] * size * dpi / 72
        return table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale
    return None, None, None


def _make_sprite(fonts, s: str, size: float, dpi: float, angle: float, flags, antialiased: bool, features,
                 language) -> Tuple[np.ndarray, int, int]:
    """The glyphs of ``s`` drawn with their origin at (0, 0), as ``RendererAgg`` draws each glyph,
    composed into one coverage bitmap; returns it with the pixel offset of its top-left corner
    (x to the right, y up)."""
    from matplotlib.ft2font import RenderMode

    font = get_font(list(fonts))
    font.clear()
    font.set_size(size, dpi)
    items = font._layout(s, flags=flags, features=features, language=language)
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
    glyphs = []
    for item in items:
        ft = item.ft_object
        ft.set_size(size, dpi)
        ft._set_transform(matrix, [round(0x40 * (item.x * cos - item.y * sin)), round(0x40 * (item.x * sin + item.y * cos))])
        bitmap = ft._render_glyph(item.glyph_index, flags, RenderMode.NORMAL if antialiased else RenderMode.MONO)
        buffer = np.array(bitmap.buffer, dtype=np.uint8, copy=True)
        if not antialiased:
            buffer *= 0xFF
        if buffer.size:
            glyphs.append((buffer, bitmap.left, bitmap.top))
    if not glyphs:
        return np.zeros((0, 0), dtype=np.uint8), 0, 0
    left = min(g[1] for g in glyphs)
    top = max(g[2] for g in glyphs)
    right = max(g[1] + g[0].shape[1] for g in glyphs)
    bottom = min(g[2] - g[0].shape[0] for g in glyphs)
    coverage = np.zeros((top - bottom, right - left), dtype=np.uint8)
    for buffer, gx, gy in glyphs:
        rows, cols = buffer.shape
        window = coverage[top - gy:top - gy + rows, gx - left:gx - left + cols]
        np.maximum(window, buffer, out=window)
    return coverage, left, top


class SpriteCanvas(FigureCanvasAgg):
    """``FigureCanvasAgg`` drawing with a ``SpriteRenderer``, reused across figures of one size."""

    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            kept_key, renderer = getattr(_KEPT, "renderer", (None, None))
            if kept_key != key:
                renderer = SpriteRenderer(w, h, self.figure.dpi)
                if w * h <= MAX_KEPT_PIXELS:  # one size at a time, per thread: a figure owns it while drawn
                    _KEPT.renderer = (key, renderer)
            self.renderer, self._lastKey = renderer, key
        return self.renderer
