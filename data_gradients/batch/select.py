"""A canonical batch restricted to some of its samples (e.g. without a sampler's padding)."""
from __future__ import annotations

import dataclasses
from typing import TypeVar

import numpy as np

from data_gradients.batch.detection import DetectionBatch

B = TypeVar("B")
#: DetectionBatch fields with one row per box, not per image
PER_BOX = ("boxes", "box_classes", "box_image")


def select_samples(batch: B, keep: np.ndarray) -> B:
    """A new batch of the same type holding the samples where ``keep`` (bool, one per sample) is True.

    Every array field with one row per sample is indexed; detection boxes follow their
    image and get its new index. Cached per-batch views are not carried over.
    """
    keep = np.asarray(keep, dtype=bool)
    n = len(batch)
    if keep.shape != (n,):
        raise ValueError(f"`keep` must be ({n},) bool, got shape {keep.shape}")
    rows = np.flatnonzero(keep)
    changes = {}
    source = getattr(batch, "label_source", None)  # segmentation labels not looked up yet: kept so
    if source is not None:
        changes["masks"] = None
    for f in dataclasses.fields(batch):
        if f.name in changes:
            continue
        value = getattr(batch, f.name)
        if f.name in PER_BOX or not isinstance(value, np.ndarray) or value.ndim == 0 or value.shape[0] != n:
            continue
        changes[f.name] = value[rows]
    if isinstance(batch, DetectionBatch):
        box_rows = keep[batch.box_image]
        new_index = np.cumsum(keep) - 1
        changes.update(boxes=batch.boxes[box_rows], box_classes=batch.box_classes[box_rows],
                       box_image=new_index[batch.box_image[box_rows]])
    out = dataclasses.replace(batch, **changes)
    if source is not None:
        out.label_source = (source[0][rows], source[1])
    return out
