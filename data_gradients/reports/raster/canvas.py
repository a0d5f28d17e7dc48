"""An RGB picture drawn with numpy: rectangles and axis-aligned lines on whole pixels (what the
plots' bars, steps, frames, ticks and grids are made of, as crisp as matplotlib drew them), text
(:mod:`.text`) and images, then encoded once as PNG.

Coordinates are pixels from the top-left corner, as floats, rounded to whole pixels. Transparency
is only ever needed over white in our plots, so a colour with ``alpha`` is mixed with white once
(:func:`on_white`) instead of blended pixel by pixel. :meth:`Canvas.region` gives a canvas on a
rectangle of this one (a view, so what is drawn there is clipped to it).
"""
from __future__ import annotations

import math
from typing import List, Optional, Tuple, Union

import numpy as np

from data_gradients.png import encode_png
from data_gradients.reports.raster.text import DPI, text_mask

Color = Union[str, Tuple[int, int, int]]
PNG_COMPRESS_LEVEL = 3  # zlib level: the default 6 takes ~1.35x the time for 5-15% smaller files


def rgb(color: Color) -> Tuple[int, int, int]:
    """``"#rrggbb"`` or an (r, g, b) tuple as an (r, g, b) tuple of ints."""
    if isinstance(color, str):
        value = color.lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    return tuple(int(c) for c in color)  # type: ignore[return-value]


def on_white(color: Color, alpha: float) -> Tuple[int, int, int]:
    """``color`` at opacity ``alpha`` over white."""
    return tuple(int(round(c * alpha + 255 * (1 - alpha))) for c in rgb(color))  # type: ignore[return-value]


class Canvas:
    """``pixels``: (height, width, 3) uint8 RGB, white when made. ``placed`` lists every text drawn,
    as (text, left, top, right, bottom) in the pixels of the whole picture (for checks and tests);
    a :meth:`region` shares it, ``origin`` being where the region lies in the whole picture."""

    def __init__(self, width: int, height: int, pixels: Optional[np.ndarray] = None,
                 origin: Tuple[int, int] = (0, 0), placed: Optional[List[Tuple[str, float, float, float, float]]] = None):
        self.pixels = np.full((int(height), int(width), 3), 255, dtype=np.uint8) if pixels is None else pixels
        self.origin = origin
        self.placed = [] if placed is None else placed

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    def region(self, x0: float, y0: float, x1: float, y1: float) -> "Canvas":
        """A canvas drawing into the pixels of [x0, x1) x [y0, y1) of this one (rounded to whole pixels)."""
        x0, y0 = max(whole(x0), 0), max(whole(y0), 0)
        x1, y1 = min(whole(x1), self.width), min(whole(y1), self.height)
        return Canvas(0, 0, pixels=self.pixels[y0:max(y1, y0), x0:max(x1, x0)],
                      origin=(self.origin[0] + x0, self.origin[1] + y0), placed=self.placed)

    # ------------------------------------------------------------------ shapes
    def fill(self, x0: float, y0: float, x1: float, y1: float, color: Color) -> None:
        """An axis-aligned rectangle, filled, on whole pixels (edges rounded to the nearest)."""
        xa, ya = max(whole(x0), 0), max(whole(y0), 0)
        xb, yb = min(whole(x1), self.width), min(whole(y1), self.height)
        if xb > xa and yb > ya:
            self.pixels[ya:yb, xa:xb] = rgb(color)

    def hline(self, x0: float, x1: float, y: float, width: float, color: Color) -> None:
        """A horizontal line ``width`` pixels thick (at least one), centred on ``y``."""
        w = max(1, int(round(width)))
        top = whole(y - w / 2)
        self.fill(x0, top, x1, top + w, color)

    def vline(self, x: float, y0: float, y1: float, width: float, color: Color) -> None:
        """A vertical line ``width`` pixels thick (at least one), centred on ``x``."""
        w = max(1, int(round(width)))
        left = whole(x - w / 2)
        self.fill(left, y0, left + w, y1, color)

    def frame(self, x0: float, y0: float, x1: float, y1: float, width: float, color: Color) -> None:
        """The outline of a rectangle, drawn inside [x0, x1] x [y0, y1]."""
        w = max(1, int(round(width)))
        self.fill(x0, y0, x1, y0 + w, color)
        self.fill(x0, y1 - w, x1, y1, color)
        self.fill(x0, y0, x0 + w, y1, color)
        self.fill(x1 - w, y0, x1, y1, color)

    # ------------------------------------------------------------------ text and pictures
    def text(self, x: float, y: float, text: str, size: float, color: Color = (0, 0, 0), ha: str = "left",
             va: str = "top", rotation: float = 0.0) -> None:
        """``text`` at ``size`` points with its box aligned on (x, y): ``ha`` left / center / right,
        ``va`` top / center / bottom (of the box around the rotated text)."""
        if not str(text):
            return
        mask = text_mask(str(text), float(size), float(rotation))
        h, w = mask.shape
        left = x - {"left": 0.0, "center": w / 2, "right": w}[ha]
        top = y - {"top": 0.0, "center": h / 2, "bottom": h}[va]
        self.blend(whole(left), whole(top), mask, color)
        ox, oy = self.origin
        self.placed.append((str(text), left + ox, top + oy, left + w + ox, top + h + oy))

    def blend(self, left: int, top: int, mask: np.ndarray, color: Color) -> None:
        """``color`` painted through ``mask`` (uint8 coverage) with its top-left corner at (left, top)."""
        h, w = mask.shape
        xa, ya, xb, yb = max(left, 0), max(top, 0), min(left + w, self.width), min(top + h, self.height)
        if xb <= xa or yb <= ya:
            return
        cover = mask[ya - top:yb - top, xa - left:xb - left, None].astype(np.uint16)
        region = self.pixels[ya:yb, xa:xb]
        ink = np.asarray(rgb(color), dtype=np.uint16)
        region[...] = ((region * (255 - cover) + ink * cover + 127) // 255).astype(np.uint8)

    def paste(self, left: int, top: int, image: np.ndarray) -> None:
        """An (h, w, 3) uint8 RGB image with its top-left corner at (left, top), clipped to the canvas."""
        h, w = image.shape[:2]
        xa, ya, xb, yb = max(left, 0), max(top, 0), min(left + w, self.width), min(top + h, self.height)
        if xb > xa and yb > ya:
            self.pixels[ya:yb, xa:xb] = image[ya - top:yb - top, xa - left:xb - left]

    def png(self) -> bytes:
        """The picture as PNG, with its resolution (:data:`DPI`) recorded."""
        return encode_png(self.pixels, PNG_COMPRESS_LEVEL, DPI)


def whole(v: float) -> int:
    """The nearest whole pixel, halves up (Python's ``round`` goes to even, so 8.5 and 9.5 would
    both round to a different side)."""
    return math.floor(v + 0.5)
