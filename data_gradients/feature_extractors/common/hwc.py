"""A new HWC array from a CHW image, the way the sample pictures store and draw images."""
from __future__ import annotations

import cv2
import numpy as np


def hwc_copy(image_chw: np.ndarray) -> np.ndarray:
    """(H, W, C) copy of a (C, H, W) image, never a view of it (a kept sample must not hold its batch).

    Three uint8 planes are interleaved by ``cv2.merge``, about twice as fast as numpy's strided copy
    (``transpose(1, 2, 0).copy()``, which every other image goes through); the bytes are the same."""
    c, h, w = image_chw.shape
    if c == 3 and h and w and image_chw.dtype == np.uint8:
        return cv2.merge([np.ascontiguousarray(plane) for plane in image_chw])
    return image_chw.transpose(1, 2, 0).copy()
