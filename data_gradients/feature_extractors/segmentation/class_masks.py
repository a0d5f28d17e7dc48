"""Shared helpers for per-class work on a segmentation batch.

``label_tile`` stacks the batch's masks into one tall image (value = class id + 1, 0 =
nothing) with a zero row under every sample; a zero row never lets a component, a
contour or an erosion cross from one sample into the next, so ONE OpenCV call covers
the batch for each class. ``class_presence`` tells which classes each image contains,
so a class's binary image (``class_binary``) only holds the images, and within them the
rows and columns, that contain it.

``class_tiles(batch, n_ids)`` returns both and caches them on the batch object (a batch
is not changed once built), so the convexity, erosion and co-occurrence extractors
build them once per batch between them. The cache entry holds the masks array it was
made from and is ignored if ``batch.masks`` is replaced.
"""
from __future__ import annotations

from typing import Any, Tuple

import cv2
import numpy as np


def label_tile(masks: np.ndarray, n_ids: int) -> np.ndarray:
    """(N, H+1, W) array of class id + 1 (0 = not counted, and the separator row below each sample).

    uint8 up to 254 classes, uint16 up to 65534 (both work with OpenCV), int32 beyond.
    """
    n, h, w = masks.shape
    dtype = np.uint8 if n_ids < 255 else np.uint16 if n_ids < 65535 else np.int32
    tile = np.zeros((n, h + 1, w), dtype=dtype)
    np.add(masks, 1, out=tile[:, :h], casting="unsafe")
    return tile


def class_presence(labels: np.ndarray, n_ids: int) -> np.ndarray:
    """(N, n_ids) bool: image i contains class c, from (N, ...) arrays of class id + 1."""
    n = labels.shape[0]
    if labels.dtype in (np.uint8, np.uint16):
        flat = labels.reshape(n, -1)
        bins = n_ids + 1
        hist = np.stack([cv2.calcHist([flat[i:i + 1]], [0], None, [bins], [0, bins]).reshape(-1) for i in range(n)])
        return hist[:, 1:] > 0
    offsets = (np.arange(n, dtype=np.int64) * (n_ids + 1))[:, None]
    counts = np.bincount((labels.reshape(n, -1).astype(np.int64) + offsets).ravel(), minlength=n * (n_ids + 1))
    return counts.reshape(n, n_ids + 1)[:, 1:] > 0


def class_binary(tile: np.ndarray, images: np.ndarray, class_id: int) -> Tuple[np.ndarray, np.ndarray]:
    """The 0/1 uint8 image of ``class_id`` in the samples ``images`` of the tile, cropped, and
    the batch index of the sample each of its rows comes from.

    Rows without the class are dropped except the first one after each run of rows with
    it, and empty columns on the left and right are cut: what is left still separates
    every component, contour and erosion as the full tile would, on less area (a class
    filling a tenth of the images costs about a tenth).
    """
    sub = tile if len(images) == tile.shape[0] else tile[images]
    rows_per_image, width = sub.shape[1], sub.shape[2]
    binary = (sub == class_id + 1).view(np.uint8).reshape(-1, width)
    filled = binary.any(axis=1)
    keep = filled.copy()
    keep[1:] |= filled[:-1]  # the row under a run of filled rows stays, as a separator
    rows = np.flatnonzero(keep)
    if len(rows) < 0.8 * len(keep):
        binary = binary[rows]
    else:
        rows = np.arange(len(keep))
    columns = np.flatnonzero(binary.any(axis=0))
    if len(columns) and columns[-1] - columns[0] + 1 < 0.8 * width:
        binary = binary[:, columns[0]:columns[-1] + 1]
    return np.ascontiguousarray(binary), np.asarray(images)[rows // rows_per_image]


def class_tiles(batch: Any, n_ids: int) -> Tuple[np.ndarray, np.ndarray]:
    """(label tile, class presence) of a segmentation batch, computed once per batch."""
    cache = batch.__dict__.setdefault("_class_tiles", {})
    entry = cache.get(n_ids)
    if entry is None or entry[0] is not batch.masks:
        tile = label_tile(batch.masks, n_ids)
        entry = cache[n_ids] = (batch.masks, tile, class_presence(tile, n_ids))
    return entry[1], entry[2]
