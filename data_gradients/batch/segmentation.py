"""Canonical segmentation batch and its builder (validation happens here, once)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Set, Tuple

import cv2
import numpy as np

from data_gradients.batch.arrays import count_images, describe, group_by_shape, images_to_nchw, masks_to_list
from data_gradients.batch.images import ImageBatch, check_images, image_fields, stack_group
from data_gradients.batch.segmentation_view import SegmentationView
from data_gradients.errors import BatchFormatError


@dataclass
class SegmentationBatch(ImageBatch):
    """Images plus ``masks`` (N, H, W) int32 holding a counted class id, or -1 where the
    pixel is ignored, background of a binary task, unlabelled, or out of range.
    ``out_of_range_pixels[i]`` counts label values of sample i that are neither a class
    id nor ignored.

    When the loader gave uint8 labels, the builder keeps them with a 256-entry table label ->
    id or -1 (``label_source``) and ``masks`` is only looked up on first use: the segmentation
    features read the labels through :attr:`view` (a quarter of the bytes), so most batches
    never build the int32 masks."""

    masks: np.ndarray = None  # type: ignore[assignment]
    #: counted lazily from uint8 labels (see :func:`_get_out_of_range`)
    out_of_range_pixels: np.ndarray = None  # type: ignore[assignment]
    #: (uint8 labels, 256-entry int32 table label -> id or -1) with ``masks == table[labels]``, set by
    #: the builder after construction. Not a dataclass field: a copy (``dataclasses.replace``) reads
    #: ``masks`` and does not carry it, and setting ``masks`` drops it, so it never describes other masks.
    label_source = None

    @property
    def mask_shape(self) -> Tuple[int, int, int]:
        """(N, H, W) of ``masks``, known without building them."""
        source = self.label_source
        return tuple(source[0].shape) if source is not None else tuple(self.masks.shape)

    def sample_mask(self, i: int) -> np.ndarray:
        """(H, W) int32 mask of sample ``i`` (looked up alone when the batch's masks were not built)."""
        masks = self.__dict__.get("_masks")
        if masks is not None or self.label_source is None:
            return self.masks[i]
        labels, table = self.label_source
        return cv2.LUT(labels[i], table) if labels[i].size else np.zeros(labels.shape[1:], dtype=np.int32)

    @property
    def view(self) -> SegmentationView:
        """Runs, components and erosion survival of ``masks``, built lazily once per batch and
        shared by the segmentation features (rebuilt if ``masks`` is replaced)."""
        key = self.label_source if self.label_source is not None else self.__dict__.get("_masks")
        cached = self.__dict__.get("_view")
        if cached is None or cached[0] is not key:
            source = self.label_source
            view = SegmentationView(None, source) if source is not None else SegmentationView(self.masks)
            cached = self.__dict__["_view"] = (key, view)
        return cached[1]

    def known_label_values(self) -> Optional[np.ndarray]:
        """(256,) bool: the uint8 label values present, when the batch's view has already found its runs
        (cheap then: one mark per run); else None (finding them would cost a pass over the labels)."""
        cached = self.__dict__.get("_view")
        if self.label_source is None or cached is None or cached[0] is not self.label_source:
            return None
        view = cached[1]
        return view.label_values() if "_all_runs" in view.__dict__ else None


def _get_masks(batch: SegmentationBatch) -> np.ndarray:
    masks = batch.__dict__.get("_masks")
    source = batch.__dict__.get("label_source")
    if masks is None and source is not None:
        labels, table = source
        if labels.size:
            masks = cv2.LUT(labels.reshape(-1, labels.shape[-1]), table).reshape(labels.shape)
        else:
            masks = np.zeros(labels.shape, dtype=np.int32)
        batch.__dict__["_masks"] = masks
    return masks


def _set_masks(batch: SegmentationBatch, masks: np.ndarray) -> None:
    batch.__dict__["_masks"] = masks
    if masks is not None:  # masks given (or replaced): the labels no longer describe them
        batch.__dict__["label_source"] = None


def _get_out_of_range(batch: SegmentationBatch) -> np.ndarray:
    """(N,) int64 out-of-range label values per sample. From uint8 labels (``batch.__dict__["_flagged"]`` =
    (labels, (256,) bool flagged values)) they are counted on first read: from the runs of the batch's view when
    it has found them on these labels (one mark per run), else by OpenCV over the labels (:func:`_count_flagged`)."""
    counts = batch.__dict__.get("_out_of_range")
    flagged = batch.__dict__.get("_flagged")
    if counts is None and flagged is not None:
        labels, values = flagged
        cached = batch.__dict__.get("_view")
        view = cached[1] if cached is not None else None
        if view is not None and view.lookup is not None and view.lookup[0] is labels and "_all_runs" in view.__dict__:
            counts = view.label_pixels(values)
        else:
            counts = _count_flagged(labels, values)
        batch.__dict__["_out_of_range"] = counts
        batch.__dict__["_flagged"] = None
    return counts


def _set_out_of_range(batch: SegmentationBatch, counts: np.ndarray) -> None:
    batch.__dict__["_out_of_range"] = counts
    batch.__dict__["_flagged"] = None


# ``masks`` stays a dataclass field (constructor argument, repr, equality) backed by a property,
# so masks looked up from uint8 labels are only built when a feature reads them; likewise the
# out-of-range counts of uint8 labels are only counted when read (mostly from the view's runs)
SegmentationBatch.masks = property(_get_masks, _set_masks)  # type: ignore[assignment]
SegmentationBatch.out_of_range_pixels = property(_get_out_of_range, _set_out_of_range)  # type: ignore[assignment]


class SegmentationBatchBuilder:
    """Validates raw (images, labels) and returns canonical batches, one per image size."""

    def __init__(self, num_classes: int, class_ids: Iterable[int], ignore_labels: Iterable[int]):
        self.num_classes = num_classes
        self.class_ids = np.array(sorted(class_ids), dtype=np.int64)
        uncounted = set(int(i) for i in ignore_labels)
        if num_classes == 1:
            uncounted.add(0)  # binary: 0 is background, never a class
        self.uncounted = np.array(sorted(uncounted), dtype=np.int64)
        # uint8 labels: label -> counted id or -1, and the label values that are out of range (neither a class
        # nor uncounted); over all 256 values, so no min and max of the labels are needed
        self.u8_table = np.full(256, -1, dtype=np.int32)
        known = self.class_ids[(self.class_ids >= 0) & (self.class_ids <= 255)]
        self.u8_table[known] = known
        self.u8_flagged = self.u8_table < 0
        self.u8_flagged[self.uncounted[(self.uncounted >= 0) & (self.uncounted <= 255)]] = False
        self.u8_table.flags.writeable = self.u8_flagged.flags.writeable = False  # shared by every batch
        self.notes: Set[str] = set()
        self.mask_layout: Optional[str] = None  # "ids" or "one_hot", as read last (see masks_to_list)

    def build(self, images: Any, labels: Any, first_sample_id: int) -> List[SegmentationBatch]:
        try:
            masks = masks_to_list(labels, n_channels=self.num_classes, n_images=count_images(images),
                                  layout=self.mask_layout)
        except (TypeError, ValueError) as e:
            raise BatchFormatError(f"`labels` could not be read as segmentation masks: {e}; got {describe(labels)}") from None
        try:
            hw = masks[0].shape[-2:] if masks else None
            imgs = images_to_nchw(images, torch_layout=False, n_hint=len(masks), hw_hint=hw)
        except (TypeError, ValueError) as e:
            raise BatchFormatError(f"`images` could not be read as images: {e}; got {describe(images)}") from None
        if len(imgs) != len(masks):
            raise BatchFormatError(
                f"images and labels disagree on the batch size: {len(imgs)} images ({describe(images)}) "
                f"but {len(masks)} masks ({describe(labels)})"
            )
        check_images(imgs, first_sample_id)
        for i, (im, m) in enumerate(zip(imgs, masks)):
            if m.dtype.kind not in "biuf":
                raise BatchFormatError(f"masks must hold class ids (int, bool or float), sample {first_sample_id + i} "
                                       f"has dtype {m.dtype}")
            if im.shape[-2:] != m.shape[-2:]:
                raise BatchFormatError(
                    f"image and mask sizes disagree for sample {first_sample_id + i}: image H,W = "
                    f"{tuple(im.shape[-2:])}, mask H,W = {tuple(m.shape[-2:])}"
                )
        if masks:
            self.mask_layout = "one_hot" if masks[0].ndim == 3 else "ids"
        out = []
        for idx in group_by_shape(imgs):
            # masks of one image size may still differ in rank (ids vs one-hot): group those too
            for sub in _split_by(idx, [masks[i].shape for i in idx]):
                out.append(self._canonical(imgs, masks, sub, first_sample_id))
        return out

    def _canonical(self, imgs, masks, idx: List[int], first_sample_id: int) -> SegmentationBatch:
        fields = image_fields(imgs, idx, first_sample_id, self.notes)
        if fields.get("unreadable"):  # no pixel: the samples are only counted, their masks are not read
            h, w = imgs[idx[0]].shape[1:]
            return SegmentationBatch(**fields, masks=np.full((len(idx), h, w), -1, dtype=np.int32),
                                     out_of_range_pixels=np.zeros(len(idx), dtype=np.int64))
        ids, out_of_range, lookup, fractional = self._labels_and_source(stack_group(masks, idx), lazy=True)
        batch = SegmentationBatch(**fields, non_integer_labels=fractional, masks=ids, out_of_range_pixels=out_of_range)
        batch.label_source = lookup
        if out_of_range is None:  # uint8 labels with possible out-of-range values: counted when read
            batch.__dict__["_flagged"] = (lookup[0], self.u8_flagged)
        return batch

    def _labels(self, m: np.ndarray):
        """(ids, out-of-range pixels per sample) of raw labels ``m``."""
        return self._labels_and_source(m)[:2]

    def _labels_and_source(self, m: np.ndarray, lazy: bool = False):
        """(ids, out-of-range pixels per sample, uint8 lookup or None, non-integer pixels per sample or None).

        ``lazy``: when uint8 labels are looked up, return ids None (the batch builds them from the lookup), and
        out-of-range pixels None when some label value is out of range (the batch counts them when read)."""
        n = m.shape[0]
        fractional = None
        one_hot = m.ndim == 4
        if one_hot:  # one-hot / soft N,C,H,W
            f = m.astype(np.float32, copy=False)
            ids = f.argmax(axis=1).astype(np.int64)
            ids[f.max(axis=1) <= 0.5] = -1  # no channel is on: unlabelled
        elif np.issubdtype(m.dtype, np.floating):
            # NaN: -1; inf and ids beyond int32: out of range whatever the classes (no overflowing cast)
            f = np.clip(np.nan_to_num(m.astype(np.float32), nan=-1.0), -2.0 ** 31, 2.0 ** 31)
            if self.num_classes == 1 and float(f.max(initial=0)) <= 1.0:
                ids = (f > 0.5).astype(np.int64)  # soft binary mask
            else:
                rounded = np.rint(f)  # halves to even; fractional values (a bilinear resize?) are counted
                fractional = (rounded != f).reshape(n, -1).sum(axis=1)
                fractional = fractional.astype(np.int64) if fractional.any() else None
                ids = rounded.astype(np.int64)
        elif m.dtype == np.bool_:
            ids = m.view(np.uint8)
        else:
            ids = m  # any integer dtype: looked up as it is, no widening copy
        if ids.dtype == np.uint8 and ids.size:  # tables over all 256 values (values absent change nothing)
            lookup = (ids, self.u8_table)
            out_ids = None if lazy else cv2.LUT(ids.reshape(-1, ids.shape[-1]), self.u8_table).reshape(ids.shape)
            if not self.u8_flagged.any():
                return out_ids, np.zeros(n, dtype=np.int64), lookup, fractional
            return out_ids, None if lazy else _count_flagged(ids, self.u8_flagged), lookup, fractional
        lo, hi = int(ids.min()), int(ids.max())
        if hi - min(lo, -1) + 1 > 1 << 20:  # ids too spread for lookup tables
            ids = ids.astype(np.int64, copy=False)
            valid = np.isin(ids, self.class_ids)
            oor = ~valid & ~np.isin(ids, self.uncounted) & ~((ids == -1) & one_hot)
            out_ids = np.where(valid, ids, -1).astype(np.int32)
            return out_ids, oor.reshape(n, -1).sum(axis=1).astype(np.int64), None, fractional
        # lookup tables over [lo, hi]: value -> counted id or -1; value -> out of range
        offset = -lo if lo < 0 else 0
        counted = np.full(hi + offset + 1, -1, dtype=np.int32)
        known = self.class_ids[(self.class_ids >= lo) & (self.class_ids <= hi)]
        counted[known + offset] = known
        bad = counted < 0
        if lo > 0:
            bad[:lo] = False  # values below lo do not occur in this batch
        unc = self.uncounted[(self.uncounted >= lo) & (self.uncounted <= hi)]
        bad[unc + offset] = False
        if one_hot and lo <= -1:
            bad[offset - 1] = False  # -1 = no channel on: unlabelled, not an error
        index = ids if offset == 0 else ids.astype(np.int64) + offset
        out_ids = counted[index]
        if not bad.any():
            return out_ids, np.zeros(n, dtype=np.int64), None, fractional  # no out-of-range value can be present
        return out_ids, bad[index].reshape(n, -1).sum(axis=1).astype(np.int64), None, fractional


def _count_flagged(labels: np.ndarray, flagged: np.ndarray) -> np.ndarray:
    """(N,) int64: pixels of each sample of uint8 ``labels`` (N, H, W) whose value v has ``flagged[v]`` (values
    beyond ``flagged`` are not flagged). The flagged values are a few ranges (typically the ids between the
    classes and 255): OpenCV marks each range (``inRange``) and counts the marks, per sample only when the
    batch has any; many ranges take a table lookup instead."""
    n = labels.shape[0]
    rows = labels.reshape(-1, labels.shape[-1])
    edges = np.flatnonzero(np.diff(np.concatenate(([False], flagged, [False])).view(np.int8)))
    ranges = edges.reshape(-1, 2).tolist()  # [first, end) of each run of flagged values
    if len(ranges) > 2:
        table = np.zeros(256, dtype=np.uint8)
        table[: len(flagged)] = flagged
        marks = [cv2.LUT(rows, table)]
    else:
        marks = [cv2.inRange(rows, first, end - 1) for first, end in ranges]
    counts = np.zeros(n, dtype=np.int64)
    for marked in marks:
        if cv2.countNonZero(marked):
            counts += [cv2.countNonZero(sample) for sample in marked.reshape(n, -1, marked.shape[-1])]
    return counts


def _split_by(idx: List[int], keys: List[tuple]) -> List[List[int]]:
    groups: dict = {}
    for i, k in zip(idx, keys):
        groups.setdefault(k, []).append(i)
    return list(groups.values())
