"""How an image of H x W pixels is read on its way to the :data:`SIZE` x :data:`SIZE` thumbnails that the
near-duplicate and image-quality features share (made in
:mod:`data_gradients.feature_extractors.common.thumbnails`): which rows are read, and how many 2 x 2 halvings
come before the last area resize.

It lives beside the canonical batch because the batch's pixel counting pass
(:class:`~data_gradients.batch.images.PixelStats`) makes the first of those halvings while each plane is in
cache (:func:`first_halving_step`), and the thumbnails start from it.
"""
from __future__ import annotations

SIZE = 64  # thumbnail side, pixels
ROWS_PER_CELL = 4  # rows read (at least) per thumbnail row


def row_step(h: int, size: int = SIZE) -> int:
    """The step the rows of an image ``h`` rows tall are read with: the largest divisor of ``h`` up to
    ``h // (ROWS_PER_CELL * size)`` (1 at least), so that at least :data:`ROWS_PER_CELL` rows are averaged per
    thumbnail row (a 720p image is read on every 2nd row)."""
    at_most = h // (ROWS_PER_CELL * size)
    for d in range(max(1, min(at_most, h)), 1, -1):
        if h % d == 0:
            return d
    return 1


def halvings(rows: int, cols: int, size: int = SIZE) -> int:
    """How many 2 x 2 halvings planes of ``rows`` x ``cols`` (after the row step) take on the way to ``size``: a
    first one even with odd rows (the last row left out), then more while the rows are even, both sides staying
    at least ``size``."""
    times = 0
    if rows % 2 and rows // 2 >= size and cols // 2 >= size:
        rows, cols, times = rows // 2, cols // 2, 1
    while rows % 2 == 0 and rows // 2 >= size and cols // 2 >= size:
        rows, cols, times = rows // 2, cols // 2, times + 1
    return times


def first_halving_step(h: int, w: int, size: int = SIZE) -> int:
    """The row step of an H x W image whose thumbnail starts with a halving (its rows ``2 y step`` and
    ``(2 y + 1) step`` averaged in 2 x 2 cells), else 0 (an image too small to be halved)."""
    if h == 0 or w == 0:
        return 0
    step = row_step(h, size)
    return step if halvings(h // step, w, size) else 0
