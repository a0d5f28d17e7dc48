"""Small per-image thumbnails shared by the perceptual hash and the image-quality checks.

Each image of a canonical batch (N, 3, H, W uint8) is reduced once per batch to a
:data:`SIZE` x :data:`SIZE` thumbnail of each channel (area averages, ``cv2.INTER_AREA``) and
a grey thumbnail (integer BT.601 luma of the channel thumbnails). The aspect ratio is not kept:
every image gives the same grid, so the scores read from it do not depend on the resolution.

Reading the full-resolution pixels is the cost, so the reduction reads as little as it can, and
the whole batch goes through a few calls (:func:`compute_thumbnails`):

1. rows are taken with a step (the largest divisor of H up to ``H // (4 * SIZE)``: at least 4
   rows are averaged per thumbnail row; a 720p image is read on every 2nd row), a strided view
   OpenCV reads without a copy;
2. 2 x 2 area means (OpenCV's fastest resize) while both sides stay at least ``SIZE`` (an odd
   side loses its last row or column first): with the compiled pixel loops, all of them in one pass
   that writes only the last (the same bytes: ``(a + b + c + d + 2) >> 2`` each step);
3. an area resize of that (``SIZE`` to ``2 * SIZE - 1`` rows) to ``SIZE`` x ``SIZE`` (OpenCV's bytes,
   computed by :func:`.area_resize.area_resize` in vectorised calls where that is provably the same).
   Images smaller than ``SIZE`` go straight to step 3 (enlarged). With the compiled pixel loops, where
   that step's exact area means are theirs (:func:`.area_resize.compiled`: 224 x 224, 640 x 480 and
   1280 x 720 images among others), steps 2 and 3 are one pass per plane
   (:func:`~data_gradients.batch.pixel_kernels.shrink`): the halved plane is still in cache for its area means.

With the compiled loops, the first halving is made by the batch's pixel counting pass, right after it counts
each plane (:meth:`~data_gradients.batch.images.PixelStats.halved`; the row step and the halvings are planned in
:mod:`data_gradients.batch.thumbnail_plan`), and the thumbnails go on from it: the image features read the
full-resolution pixels one time fewer.

An image's thumbnail does not depend on its batch (see :func:`compute_thumbnails`). The result
is cached on the batch (``batch.__dict__["_grey_thumbs"]``) the way ``ImageBatch.pixel_stats``
is, and rebuilt if ``batch.images`` is replaced.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from data_gradients.batch import pixel_kernels
from data_gradients.batch.thumbnail_plan import ROWS_PER_CELL, SIZE, halvings, row_step  # noqa: F401 - also read from here
from data_gradients.feature_extractors.common.area_resize import area_resize
from data_gradients.feature_extractors.common.area_resize import compiled as area_compiled

CHUNK_PIXELS = 1 << 16  # thumbnail pixels per pass of the grey conversion (two 256 KB float32 buffers)
LUMA = np.array([299, 587, 114], dtype=np.int32)  # ITU-R BT.601 x 1000, as image_brightness
_LUMA_TABLES = [(int(k) * np.arange(256) + (500 if c == 0 else 0)).astype(np.float32) for c, k in enumerate(LUMA)]


@dataclass(frozen=True)
class Thumbnails:
    """``planes``: (N, 3, SIZE, SIZE) uint8 channel thumbnails; ``grey``: (N, SIZE, SIZE) uint8
    luma of them (``(299 R + 587 G + 114 B + 500) // 1000``)."""

    planes: np.ndarray
    grey: np.ndarray


def compute_thumbnails(images: np.ndarray, size: int = SIZE, halved: Optional[np.ndarray] = None) -> Thumbnails:
    """:class:`Thumbnails` of (N, 3, H, W) uint8 images, in a few calls for the whole batch.

    The N * 3 planes are one tall (N * 3 * H, W) image: rows are taken with a step that divides H,
    then halved (2 x 2 area means) :func:`halvings` times: with the compiled pixel loops, all the
    halvings in one pass that writes only the result (:func:`~data_gradients.batch.pixel_kernels.halve`), and
    the last area resize in the same pass where its exact means are compiled too (:func:`.area_resize.compiled`,
    :func:`~data_gradients.batch.pixel_kernels.shrink`); else one OpenCV call for the batch each (H even: no
    cell crosses from one plane into the next; an odd H is cut by one row plane by plane first; an odd width
    loses its last column). A last area resize to (N * 3 * size, size) has the same row scale for every plane,
    so the planes' borders fall on cell borders. Each plane's thumbnail is what it would be alone, whatever the
    batch.

    ``halved``: the first of those halvings already made, (N * 3, rows // 2, W // 2) uint8, as the batch's counting
    pass leaves it (:meth:`~data_gradients.batch.images.PixelStats.halved`); the compiled loops go on from it
    (the same bytes: each halving reads only the one before).
    """
    n, _, h, w = images.shape
    if n == 0 or h == 0 or w == 0:
        planes = np.zeros((n, 3, size, size), dtype=np.uint8)
    else:
        step = row_step(h, size)
        rows, cols = h // step, w
        times = halvings(rows, cols, size)
        hr, hc = rows >> times, cols >> times
        if halved is not None and times and pixel_kernels.KERNELS is not None:
            if halved.shape != (n * 3, rows // 2, cols // 2):
                raise ValueError(f"compute_thumbnails: halved planes {halved.shape} for images {images.shape}")
            view, times = halved, times - 1
        else:
            view = np.ascontiguousarray(images).reshape(n * 3, h, w)[:, ::step]
        if pixel_kernels.KERNELS is not None and ((hr, hc) == (size, size) or area_compiled(hr, hc, size, size)):
            planes = pixel_kernels.shrink(view, times, size, size).reshape(n, 3, size, size)  # one pass a plane
        else:
            if pixel_kernels.KERNELS is not None:
                tall = (pixel_kernels.halve(view, times) if times else np.ascontiguousarray(view)).reshape(n * 3 * hr, hc)
                rows, cols = hr, hc
            else:
                tall, rows, cols = _opencv_halvings(images, step, times)
            if (rows, cols) != (size, size):  # cv2.resize INTER_AREA, in vectorised calls where that is exact
                tall = area_resize(tall, n * 3, size, size)
            planes = tall.reshape(n, 3, size, size)
    return Thumbnails(planes, grey_of(planes))


def _opencv_halvings(images: np.ndarray, step: int, times: int):
    """``(tall, rows, cols)``: the rows of (N, 3, H, W) ``images`` taken with ``step``, halved ``times`` times by
    ``cv2.resize`` calls for the whole batch, stacked (N * 3 * rows, cols). Only a first halving meets odd rows
    (:func:`halvings`): it goes plane by plane, each plane's last row left out."""
    n, _, h, w = images.shape
    rows, cols = h // step, w
    tall = np.ascontiguousarray(images).reshape(n * 3 * h, w)[::step]
    for _ in range(times):
        cols -= cols % 2
        if rows % 2:
            stack = tall.reshape(n * 3, rows, w)
            half = np.empty((n * 3, rows // 2, cols // 2), dtype=np.uint8)
            for k in range(n * 3):
                cv2.resize(stack[k, :rows - 1, :cols], (cols // 2, rows // 2), dst=half[k], interpolation=cv2.INTER_AREA)
            tall = half.reshape(-1, cols // 2)
        else:
            tall = cv2.resize(tall[:, :cols], (cols // 2, n * 3 * rows // 2), interpolation=cv2.INTER_AREA)
        rows, cols = rows // 2, cols // 2
    return tall, rows, cols


def grey_of(planes: np.ndarray) -> np.ndarray:
    """(N, S, S) uint8 ``(299 R + 587 G + 114 B + 500) // 1000`` of (N, 3, S, S) uint8 planes.

    The terms come from 256-entry float32 tables (OpenCV's LUT) and are added in float32: every
    value is an integer below 2**24, so exact; the quotient by 1000 is IEEE-rounded and never
    reaches the next integer (a remainder of at least 1/1000 stays far above float32's spacing
    below 256), so truncating it is the floor. A test compares all 2**24 colours."""
    n, _, h, w = planes.shape
    if planes.size == 0:
        return np.zeros((n, h, w), dtype=np.uint8)
    if pixel_kernels.KERNELS is not None:  # the integer formula itself, one compiled loop
        return pixel_kernels.grey(planes)
    rgb = np.ascontiguousarray(planes).reshape(n, 3, h * w)
    return table_sums_to_uint8(rgb, _LUMA_TABLES, _floor_thousandths).reshape(n, h, w)


def _floor_thousandths(total: np.ndarray, out: np.ndarray) -> None:
    out[...] = np.divide(total, np.float32(1000), out=total)  # the unsafe cast truncates, as astype(np.uint8)


def table_sums_to_uint8(rgb: np.ndarray, tables, finish) -> np.ndarray:
    """(N, P) uint8: ``finish(total, out)`` of the float32 sums ``tables[0][R] + tables[1][G] + tables[2][B]``
    (added in that order) of (N, 3, P) uint8 pixels. :data:`CHUNK_PIXELS` pixels at a time go through two reused
    float32 buffers that stay in the core's cache (fresh batch-sized temporaries cost twice as much);
    ``finish`` writes the uint8 values of a chunk's sums into ``out`` (it may overwrite ``total``)."""
    n, _, p = rgb.shape
    out = np.empty((n, p), dtype=np.uint8)
    rows = max(1, CHUNK_PIXELS // max(p, 1))
    total, term = np.empty((min(n, rows), p), dtype=np.float32), np.empty((min(n, rows), p), dtype=np.float32)
    for a in range(0, n, rows):
        m = min(n, a + rows) - a
        t, u = total[:m], term[:m]
        cv2.LUT(rgb[a:a + m, 0], tables[0], dst=t)
        cv2.add(t, cv2.LUT(rgb[a:a + m, 1], tables[1], dst=u), dst=t)
        cv2.add(t, cv2.LUT(rgb[a:a + m, 2], tables[2], dst=u), dst=t)
        finish(t, out[a:a + m])
    return out


def plane_thumbnail(plane: np.ndarray, size: int = SIZE) -> np.ndarray:
    """(size, size) thumbnail of one (H, W) uint8 plane, as :func:`compute_thumbnails` makes it."""
    return compute_thumbnails(np.repeat(plane[None, None], 3, axis=1), size).planes[0, 0]


def grey_thumbnails(batch) -> Thumbnails:
    """The :class:`Thumbnails` of ``batch.images``, built once per batch and shared by the features
    that read them (near duplicates, image quality)."""
    cached = batch.__dict__.get("_grey_thumbs")
    if cached is None or cached[0] is not batch.images:
        images = batch.images
        counted = getattr(batch, "counted_halving", None)  # the first halving, where the counting pass made it
        halved = counted(row_step(images.shape[2])) if counted is not None and images.ndim == 4 else None
        cached = batch.__dict__["_grey_thumbs"] = (images, compute_thumbnails(images, halved=halved))
    return cached[1]
