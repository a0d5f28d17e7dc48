"""Text for the plots: DejaVu Sans (shipped in ``fonts/``, with its licence) rasterised by Pillow's
FreeType, measured and drawn in pixels.

A figure's strings repeat (tick labels, split names, titles across figures), so every string is
rasterised once per size and rotation (cached) and then only blended onto the canvas. Sizes are
given in points and turned into pixels at the figure's resolution (:data:`DPI`).
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import List, Tuple

import numpy as np

DPI = 150  # pixels per inch of every figure: sharp when printed, still light in TensorBoard
FONT_FILE = Path(__file__).with_name("fonts") / "DejaVuSans.ttf"
LINE_SPACING = 1.2  # distance between the baselines of two lines, in line heights
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"


def px(points: float) -> float:
    """Points to pixels at :data:`DPI`."""
    return points * DPI / 72.0


@lru_cache(maxsize=32)
def _font(size_pt: float):
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT_FILE), size=px(size_pt), layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=32)
def line_height(size_pt: float) -> int:
    """Height in pixels of one line of text at ``size_pt`` (ascent + descent of the font)."""
    ascent, descent = _font(size_pt).getmetrics()
    return ascent + descent


@lru_cache(maxsize=16384)
def text_width(text: str, size_pt: float) -> float:
    """Width in pixels of the widest line of ``text``."""
    font = _font(size_pt)
    return max((font.getlength(line) for line in str(text).split("\n")), default=0.0)


def text_box(text: str, size_pt: float, rotation: float = 0.0) -> Tuple[float, float]:
    """Width and height in pixels of the box around ``text`` rotated by ``rotation`` degrees
    (counter-clockwise); (0, 0) for an empty string."""
    lines = str(text).split("\n")
    if not any(lines):
        return 0.0, 0.0
    w = text_width(text, size_pt)
    h = line_height(size_pt) * (1 + LINE_SPACING * (len(lines) - 1))
    if rotation:
        a = math.radians(rotation)
        w, h = w * abs(math.cos(a)) + h * abs(math.sin(a)), w * abs(math.sin(a)) + h * abs(math.cos(a))
    return w, h


@lru_cache(maxsize=1024)  # a few kB each: tick labels, split and class names repeat across a report's plots
def text_mask(text: str, size_pt: float, rotation: float = 0.0) -> np.ndarray:
    """Coverage (uint8, 255 = ink) of ``text`` at ``size_pt``, lines centred on each other, rotated by
    ``rotation`` degrees counter-clockwise; its shape is the text's box. Read-only (it is shared)."""
    from PIL import Image, ImageDraw

    lines = str(text).split("\n")
    font, height = _font(size_pt), line_height(size_pt)
    width = max(1, math.ceil(text_width(text, size_pt)))
    rows = max(1, math.ceil(height * (1 + LINE_SPACING * (len(lines) - 1))))
    image = Image.new("L", (width, rows), 0)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        x = (width - font.getlength(line)) / 2
        draw.text((x, i * height * LINE_SPACING), line, font=font, fill=255, anchor="la")
    if rotation:
        image = image.rotate(rotation, resample=Image.BICUBIC, expand=True)
    mask = np.asarray(image)
    mask.flags.writeable = False
    return mask


def fit(text: str, size: float, width: float, max_lines: int = 1) -> str:
    """``text`` broken at spaces into at most ``max_lines`` lines no wider than ``width`` pixels at
    ``size`` points; what still does not fit is cut short with an ellipsis."""
    lines: List[str] = []
    for word in str(text).split(" "):
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [" ".join(lines[max_lines - 1:])]
    return "\n".join(shorten(line, size, width) for line in lines)


def shorten(line: str, size: float, width: float) -> str:
    """``line`` cut short with an ellipsis to be no wider than ``width`` pixels."""
    if text_width(line, size) <= width:
        return line
    lo, hi = 0, len(line)  # the longest prefix that fits with the ellipsis
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(line[:mid].rstrip() + ELLIPSIS, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return line[:lo].rstrip() + ELLIPSIS
