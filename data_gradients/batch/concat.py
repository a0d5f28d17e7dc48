"""Canonical batches of one split joined into one (the inverse of :func:`.select.select_samples`).

Every feature's result is the same whatever the batching (the extractor harness proves it), so
small loader batches can be analysed as one larger batch: a feature's per-batch cost (a few
OpenCV and numpy calls, some Python) is then paid once per joined batch instead of once per
loader batch. :func:`joinable` says whether two batches can be joined, :func:`concat_samples`
joins them.
"""
from __future__ import annotations

import dataclasses
from typing import Any, List, Sequence

import numpy as np

from data_gradients.batch.detection import DetectionBatch
from data_gradients.batch.segmentation import SegmentationBatch
from data_gradients.batch.select import PER_BOX

#: fields joined by their own rule, not as per-sample rows (segmentation's are properties over lazy state)
_SPECIAL = {"masks", "out_of_range_pixels", *PER_BOX}


def joinable(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` can be one batch: same type and image size, readable, the same values
    of every field that is not per sample (channels as loaded, multi-label), per-sample arrays of the
    same row shape and type, optional ones present in both or in neither; segmentation labels kept
    the same way (uint8 labels with the same lookup table, or int32 masks)."""
    if type(a) is not type(b) or a.images.shape[1:] != b.images.shape[1:] or a.unreadable or b.unreadable:
        return False
    for f in dataclasses.fields(a):
        if f.name in _SPECIAL:
            continue
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if isinstance(va, np.ndarray) or isinstance(vb, np.ndarray):
            if va is None or vb is None or va.shape[1:] != vb.shape[1:] or va.dtype != vb.dtype:
                return False
        elif va is not vb and va != vb:
            return False
    if isinstance(a, SegmentationBatch):
        return _labels_joinable(a, b)
    if isinstance(a, DetectionBatch):
        return a.boxes.dtype == b.boxes.dtype and a.box_classes.dtype == b.box_classes.dtype
    return True


def _labels_joinable(a: SegmentationBatch, b: SegmentationBatch) -> bool:
    sa, sb = a.label_source, b.label_source
    if (sa is None) != (sb is None):
        return False
    if sa is not None:  # uint8 labels, looked up by one table
        if sa[0].shape[1:] != sb[0].shape[1:] or sa[0].dtype != sb[0].dtype:
            return False
        if not (sa[1] is sb[1] or (sa[1].shape == sb[1].shape and np.array_equal(sa[1], sb[1]))):
            return False
        fa, fb = a.__dict__.get("_flagged"), b.__dict__.get("_flagged")
        return fa is None or fb is None or fa[1] is fb[1] or np.array_equal(fa[1], fb[1])
    ma, mb = a.__dict__.get("_masks"), b.__dict__.get("_masks")
    return ma is not None and mb is not None and ma.shape[1:] == mb.shape[1:] and ma.dtype == mb.dtype


def join_rows(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """The rows of ``arrays`` one after the other: a view when they are consecutive rows of one
    array (batches copied into one buffer one after the other), else a new array."""
    first = arrays[0]
    if len(arrays) == 1:
        return first
    base = first.base
    if isinstance(base, np.ndarray) and first.ndim == base.ndim and first.flags.c_contiguous and base.flags.c_contiguous:
        start = first.__array_interface__["data"][0]
        end = start
        for a in arrays:
            if a.base is not base or a.dtype != base.dtype or a.shape[1:] != base.shape[1:] or not a.flags.c_contiguous \
                    or a.__array_interface__["data"][0] != end:
                break
            end += a.nbytes
        else:
            offset = start - base.__array_interface__["data"][0]
            rows, row_bytes = sum(len(a) for a in arrays), base.strides[0]
            if row_bytes and offset % row_bytes == 0:
                return base[offset // row_bytes:offset // row_bytes + rows]
    return np.concatenate(arrays)


def concat_samples(batches: List[Any]) -> Any:
    """One batch of the type of ``batches`` (pairwise :func:`joinable`) holding their samples in order.

    Per-sample arrays are joined row after row (without a copy when they are consecutive rows of one
    buffer, :func:`join_rows`); detection boxes follow their image, whose index is shifted by the
    samples before it; segmentation uint8 labels stay labels (looked up, and their out-of-range
    values counted, only when a feature reads them). Cached per-batch views are not carried over."""
    first = batches[0]
    if len(batches) == 1:
        return first
    changes = {}
    for f in dataclasses.fields(first):
        if f.name in _SPECIAL:
            continue
        value = getattr(first, f.name)
        if isinstance(value, np.ndarray):
            changes[f.name] = join_rows([getattr(b, f.name) for b in batches])
    if isinstance(first, DetectionBatch):
        offsets = np.cumsum([0] + [len(b) for b in batches[:-1]])
        changes.update(boxes=np.concatenate([b.boxes for b in batches]),
                       box_classes=np.concatenate([b.box_classes for b in batches]),
                       box_image=np.concatenate([b.box_image + off for b, off in zip(batches, offsets)]))
    if not isinstance(first, SegmentationBatch):
        return dataclasses.replace(first, **changes)
    source = first.label_source
    if source is None:  # int32 masks, counts already made
        return dataclasses.replace(first, **changes, masks=join_rows([b.masks for b in batches]),
                                   out_of_range_pixels=join_rows([b.out_of_range_pixels for b in batches]))
    labels = join_rows([b.label_source[0] for b in batches])
    flagged = [b.__dict__.get("_flagged") for b in batches]
    lazy = all(f is not None for f in flagged)  # no batch counted its out-of-range labels yet: nor does this one
    counts = None if lazy else join_rows([b.out_of_range_pixels for b in batches])
    out = dataclasses.replace(first, **changes, masks=None, out_of_range_pixels=counts)
    out.label_source = (labels, source[1])
    if lazy:
        out.__dict__["_flagged"] = (labels, flagged[0][1])
    return out
