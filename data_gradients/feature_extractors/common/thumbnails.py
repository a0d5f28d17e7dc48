"""Small per-image thumbnails shared by the perceptual hash and the image-quality checks.

Each image of a canonical batch (N, 3, H, W uint8) is reduced once per batch to a
:data:`SIZE` x :data:`SIZE` thumbnail of each channel (area averages, ``cv2.INTER_AREA``) and
a grey thumbnail (integer BT.601 luma of the channel thumbnails). The aspect ratio is not kept:
every image gives the same grid, so the scores read from it do not depend on the resolution.

Reading the full-resolution pixels is the cost, so the reduction reads as little as it can:

1. rows are taken with a step of ``H // (4 * SIZE)`` (at least 4 rows are averaged per
   thumbnail row: a 720p image is read on every 2nd row), a strided view OpenCV reads
   without a copy;
2. an area resize by whole factors (OpenCV's fast path): ``H' // f_y`` x ``W // f_x`` with
   ``f = size // SIZE``; the rows and columns past a whole multiple (fewer than ``f``, so less
   than 1/SIZE of the image) are left out, split evenly between both borders;
3. an area resize of that small image (``SIZE`` to ``2 * SIZE - 1`` per side) to
   ``SIZE`` x ``SIZE``. Images smaller than ``SIZE`` go straight to step 3 (enlarged).

Every step works on one image at a time, so an image's thumbnail does not depend on its
batch. The result is cached on the batch (``batch.__dict__["_grey_thumbs"]``) the way
``ImageBatch.pixel_stats`` is, and rebuilt if ``batch.images`` is replaced.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SIZE = 64  # thumbnail side, pixels
ROWS_PER_CELL = 4  # rows read (at least) per thumbnail row
LUMA = np.array([299, 587, 114], dtype=np.int32)  # ITU-R BT.601 x 1000, as image_brightness


@dataclass(frozen=True)
class Thumbnails:
    """``planes``: (N, 3, SIZE, SIZE) uint8 channel thumbnails; ``grey``: (N, SIZE, SIZE) uint8
    luma of them (``(299 R + 587 G + 114 B + 500) // 1000``)."""

    planes: np.ndarray
    grey: np.ndarray


def plane_thumbnail(plane: np.ndarray, size: int = SIZE) -> np.ndarray:
    """(size, size) uint8 area-average thumbnail of one (H, W) uint8 plane (see the module docstring)."""
    h, w = plane.shape
    if h >= size and w >= size:
        step = max(1, h // (ROWS_PER_CELL * size))
        if step > 1:
            plane = plane[::step]
            h = plane.shape[0]
        fy, fx = h // size, w // size
        if fy > 1 or fx > 1:
            out_h, out_w = h // fy, w // fx
            y0, x0 = (h - out_h * fy) // 2, (w - out_w * fx) // 2
            plane = cv2.resize(plane[y0:y0 + out_h * fy, x0:x0 + out_w * fx], (out_w, out_h),
                               interpolation=cv2.INTER_AREA)
    if plane.shape != (size, size):
        plane = cv2.resize(plane, (size, size), interpolation=cv2.INTER_AREA)
    return plane


def compute_thumbnails(images: np.ndarray, size: int = SIZE) -> Thumbnails:
    """:class:`Thumbnails` of (N, 3, H, W) uint8 images."""
    n = len(images)
    planes = np.empty((n, 3, size, size), dtype=np.uint8)
    if n and images.shape[2] and images.shape[3]:
        for i in range(n):
            for c in range(3):
                planes[i, c] = plane_thumbnail(images[i, c], size)
    else:
        planes[:] = 0
    luma = np.einsum("nchw,c->nhw", planes.astype(np.int32), LUMA)
    grey = ((luma + 500) // 1000).astype(np.uint8)
    return Thumbnails(planes, grey)


def grey_thumbnails(batch) -> Thumbnails:
    """The :class:`Thumbnails` of ``batch.images``, built once per batch and shared by the features
    that read them (near duplicates, image quality)."""
    cached = batch.__dict__.get("_grey_thumbs")
    if cached is None or cached[0] is not batch.images:
        cached = batch.__dict__["_grey_thumbs"] = (batch.images, compute_thumbnails(batch.images))
    return cached[1]
