"""A seeded uniform sample of images with their masks overlaid (TensorBoard pictures)."""
from __future__ import annotations

from typing import Optional, Tuple

import cv2
import numpy as np

from data_gradients.batch import SegmentationBatch
from data_gradients.feature_extractors.common.area_resize import area_resize
from data_gradients.feature_extractors.common.hwc import hwc_copy
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.sample_reservoir import SampleReservoir

THUMBNAIL_SIDE = 256  # longest side of a stored sample, in pixels
ALPHA = 0.5  # weight of the class colour over the image
# 20 well separated colours (RGB); ids beyond are given seeded random colours
_BASE_PALETTE = np.array([
    [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
    [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
    [0, 128, 128], [220, 190, 255], [170, 110, 40], [255, 250, 200], [128, 0, 0],
    [170, 255, 195], [128, 128, 0], [255, 215, 180], [0, 0, 128], [128, 128, 128],
], dtype=np.uint8)


def palette(n: int) -> np.ndarray:
    """(n, 3) uint8 RGB colours, the same for a class id in every run and split."""
    if n <= len(_BASE_PALETTE):
        return _BASE_PALETTE[:max(n, 0)].copy()
    extra = np.random.default_rng(0).integers(0, 256, size=(n - len(_BASE_PALETTE), 3), dtype=np.uint8)
    return np.concatenate([_BASE_PALETTE, extra])


def thumbnail(image_chw: np.ndarray, mask: np.ndarray, side: int = THUMBNAIL_SIDE,
              table: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """(HWC uint8 image, HW int32 mask) with the longest side at most ``side`` (never upscaled).

    ``table``: (256,) int32, when ``mask`` holds uint8 labels whose ids are ``table[mask]``: the labels are
    reduced first and looked up after (nearest neighbour picks the same pixels whatever their type, so the
    ids are those of the looked-up full mask, at a 25th of the lookups for a 720p mask).
    Always new arrays: a stored sample must not keep the batch (or a reused loader buffer) alive.
    """
    h, w = mask.shape
    scale = side / max(h, w, 1)
    if scale >= 1:
        return hwc_copy(image_chw), _ids(mask, table)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # cv2 wants (width, height)
    # the contiguous CHW planes reduced first (cv2.resize INTER_AREA's bytes), the small result interleaved
    small = area_resize(np.ascontiguousarray(image_chw).reshape(3 * h, w), 3, size[1], size[0])
    image = hwc_copy(small.reshape(3, size[1], size[0]))
    if table is None:
        mask = np.ascontiguousarray(mask, dtype=np.int32)
    small_mask = cv2.resize(np.ascontiguousarray(mask), size, interpolation=cv2.INTER_NEAREST)
    return image, _ids(small_mask, table)


def _ids(mask: np.ndarray, table: Optional[np.ndarray]) -> np.ndarray:
    """A new int32 array: ``mask`` itself, or ``table[mask]`` of uint8 labels."""
    if table is None:
        return mask.astype(np.int32, copy=True)
    return cv2.LUT(mask, table) if mask.size else np.zeros(mask.shape, dtype=np.int32)


def with_legend(image: np.ndarray, entries, colours: np.ndarray) -> np.ndarray:
    """``image`` with a white strip below naming each ``(class id, name)`` in its colour."""
    if not entries:
        return image
    font, scale, pad = cv2.FONT_HERSHEY_SIMPLEX, 0.4, 4
    width = image.shape[1]
    lines, x, row = [[]], pad, 0
    for cid, name in entries:  # wrap the legend over as many lines as the width needs
        text_w = cv2.getTextSize(name, font, scale, 1)[0][0]
        if x + 14 + text_w > width and lines[-1]:
            lines.append([])
            x = pad
        lines[-1].append((cid, name, x))
        x += 14 + text_w + 10
    line_h = 16
    strip = np.full((line_h * len(lines) + pad, width, 3), 255, dtype=np.uint8)
    for row, line in enumerate(lines):
        y = pad + row * line_h
        for cid, name, x in line:
            colour = tuple(int(v) for v in colours[cid])
            cv2.rectangle(strip, (x, y + 2), (x + 10, y + 12), colour, -1)
            cv2.putText(strip, name, (x + 14, y + 11), font, scale, (30, 30, 30), 1, cv2.LINE_AA)
    return np.concatenate([image, strip], axis=0)


def overlay(image: np.ndarray, mask: np.ndarray, colours: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """``image`` blended with the colour of each pixel's class; pixels with id -1 (or beyond the
    palette) are left as they are."""
    coloured = (mask >= 0) & (mask < len(colours))
    if not coloured.any():
        return image.copy()
    paint = colours[np.where(coloured, mask, 0)]
    blended = cv2.addWeighted(image, 1.0 - alpha, paint, alpha, 0.0)
    return np.where(coloured[..., None], blended, image)


@register_feature
class SegmentationSamples(SampleReservoir):
    name = "segmentation_samples"
    title = "Sample images with masks"
    description = (
        "A few images per split, drawn uniformly at random (seeded, so the same ones every run), with each "
        "class painted in its own colour. Look for masks that are shifted, incomplete or use the wrong ids."
    )
    tasks = ("segmentation",)
    grid_title = "Images with their masks"

    def payload(self, batch: SegmentationBatch, index: int) -> Tuple:
        source = batch.label_source  # uint8 labels whose int32 masks were not built: reduced, then looked up
        if source is not None and batch.__dict__.get("_masks") is None and source[1].shape == (256,):
            return thumbnail(batch.images[index], source[0][index], table=source[1])
        return thumbnail(batch.images[index], batch.sample_mask(index))

    def picture(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        colours = palette(self.context.n_label_ids)
        return with_legend(overlay(image, mask, colours), self._present(mask), colours)

    def _present(self, mask: np.ndarray):
        """(id, name) of the counted classes visible in a thumbnail, for its legend."""
        ids = np.unique(mask)
        return [(int(c), self.context.name_of(int(c))) for c in ids if c >= 0 and c in self.context.class_ids]
