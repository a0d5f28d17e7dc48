"""A seeded uniform sample of images per class, one picture grid per class (TensorBoard pictures)."""
from __future__ import annotations

import math
from typing import List

import cv2
import numpy as np

from data_gradients.batch import pixel_kernels
from data_gradients.batch.classification import ClassificationBatch
from data_gradients.feature_extractors.base import FeatureExtractor, keep_smallest
from data_gradients.feature_extractors.common.area_resize import area_resize, exact
from data_gradients.feature_extractors.common.area_resize import compiled as area_compiled
from data_gradients.feature_extractors.common.hwc import hwc_copy
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.sample_reservoir import sample_keys
from data_gradients.results import ImageGrid

THUMBNAIL_SIDE = 96  # longest side of a stored sample; larger images are shrunk, never enlarged
MAX_CLASSES_SHOWN = 32  # grids for the first classes only: memory <= classes x samples x 27 KB per split
GRID_COLUMNS = 5
GAP = 2  # pixels between cells
BACKGROUND = 40  # grey level of the gaps and of the letterbox


def thumbnail(image_chw: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """HWC uint8 copy of an image with the longest side at most ``side`` (OpenCV's area resize)."""
    return thumbnails(image_chw[None], side)[0]


def thumbnails(images: np.ndarray, side: int = THUMBNAIL_SIDE, index=None) -> List[np.ndarray]:
    """:func:`thumbnail` of each (C, H, W) image of ``images`` (N, C, H, W uint8), or of ``images[index]``.

    3-channel images are shrunk plane by plane, all their planes together (:func:`area_resize`:
    OpenCV's bytes, each channel computed alone by it too), where that is exact, and interleaved by
    :func:`hwc_copy`: several times faster than numpy's strided copy into HWC and OpenCV's generic
    3-channel resize. Picked images whose shrink is compiled (:func:`.area_resize.compiled`) are read where
    they lie, the others copied out at most ~16 MB at a time. Always new arrays: a kept sample never holds
    the batch."""
    n, c, h, w = images.shape
    index = list(range(n)) if index is None else [int(i) for i in index]
    scale = side / max(h, w, 1)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if c == 3 and h and w and scale < 1 and area_compiled(h, w, size[1], size[0]):
        small = pixel_kernels.shrink_picked(images, index, 0, size[1], size[0])
        return [hwc_copy(p) for p in small.reshape(len(index), 3, size[1], size[0])]
    per = max(1, (1 << 24) // max(images[0].nbytes, 1)) if n else 1
    out = []
    for a in range(0, len(index), per):
        picked = images[index[a:a + per]]
        m = len(picked)
        if c == 3 and h and w and scale < 1 and exact(h, w, size[1], size[0]):
            small = area_resize(np.ascontiguousarray(picked).reshape(m * 3 * h, w), m * 3, size[1], size[0])
            out += [hwc_copy(p) for p in small.reshape(m, 3, size[1], size[0])]
        else:
            copies = [hwc_copy(image) for image in picked]
            out += copies if scale >= 1 else [cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in copies]
    return out


def mosaic(images: List[np.ndarray], columns: int = GRID_COLUMNS) -> np.ndarray:
    """Images centred in square cells (as large as the largest image), ``columns`` per row, on grey."""
    side = max([max(img.shape[:2]) for img in images] + [1])
    cols = max(1, min(columns, len(images)))
    rows = max(1, math.ceil(len(images) / cols))
    out = np.full((rows * side + (rows - 1) * GAP, cols * side + (cols - 1) * GAP, 3), BACKGROUND, dtype=np.uint8)
    for i, img in enumerate(images):
        h, w = img.shape[:2]
        y = (i // cols) * (side + GAP) + (side - h) // 2
        x = (i % cols) * (side + GAP) + (side - w) // 2
        out[y:y + h, x:x + w] = img
    return out


@register_feature
class ClassificationSamples(FeatureExtractor):
    name = "classification_samples"
    title = "Sample images per class"
    description = (
        "A few images of each class per split, drawn uniformly at random (seeded, so the same ones every run). "
        "Look for mislabelled images, classes that are told apart by the background, and splits that differ."
    )
    tasks = ("classification",)
    group = "samples"

    def setup(self) -> None:
        self.k = max(int(self.context.samples_to_visualize), 0)
        self.shown = [int(c) for c in self.context.class_ids[:MAX_CLASSES_SHOWN]]
        for cid in self.shown:
            # (key, (sample_id, thumbnail HWC)) with the k smallest seeded hash keys among the class's images
            self.add_state(f"reservoir_{cid}", [], "smallest", cap=max(self.k, 1))

    def update(self, batch: ClassificationBatch, split: str) -> None:
        if self.k == 0 or len(batch) == 0:
            return
        st = self.state(split)
        ids = np.asarray(batch.sample_ids)
        keys = sample_keys(self, split, ids)
        reservoirs = [getattr(st, f"reservoir_{cid}") for cid in self.shown]
        thresholds = np.array([r[-1][0] if len(r) >= self.k else np.inf for r in reservoirs], dtype=np.float64)
        # (image, shown class) pairs that would enter the class's reservoir: rare once it is full
        enter = batch.labels[:, self.shown] & (keys[:, None] < thresholds[None, :])
        entering = {}  # class column -> the (at most k) images with the smallest keys that would enter
        for j in np.flatnonzero(enter.any(axis=0)):
            candidates = np.flatnonzero(enter[:, j])
            entering[j] = candidates[np.argsort(keys[candidates], kind="stable")][:self.k].tolist()
        needed = sorted({i for rows in entering.values() for i in rows})
        # one thumbnail per image, shared by all its classes, made for the batch's entering images together
        thumbs = dict(zip(needed, thumbnails(batch.images, index=needed)))
        for j, rows in entering.items():
            new = [(float(keys[i]), (int(ids[i]), thumbs[i])) for i in rows]
            setattr(st, f"reservoir_{self.shown[j]}", keep_smallest(reservoirs[j], new, self.k))

    def compute(self):
        res = self.new_result()
        if self.k == 0:
            return res
        images, captions, sample_ids = {}, {}, {}
        for s in self.splits:
            st = self.state(s)
            images[s], captions[s], sample_ids[s] = [], [], {}
            for cid in self.shown:
                picks = sorted((payload for _, payload in getattr(st, f"reservoir_{cid}")), key=lambda p: p[0])
                if picks:
                    images[s].append(mosaic([img for _, img in picks]))
                    captions[s].append(f"class {cid} {self.context.name_of(cid)}")
                    sample_ids[s][str(cid)] = [i for i, _ in picks]
        res.data = {"sample_ids": sample_ids}
        if any(images.values()):
            res.images.append(ImageGrid(key="samples", title="Sample images per class", images=images,
                                        captions=captions))
        return res
