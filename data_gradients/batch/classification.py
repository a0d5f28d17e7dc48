"""Canonical classification batch and its builder (validation happens here, once).

Accepted labels, per batch:

- single-label (``multi_label=False``): class ids ``(N,)`` / ``(N, 1)`` / a scalar for one
  image (ints, or floats holding ints), or one-hot / soft rows ``(N, C)`` with
  C = ``n_label_ids`` (argmax; a row with no value above 0.5 has no label);
- multi-label (``multi_label=True``): binary rows ``(N, num_classes)`` (bool, 0/1 ints, or
  probabilities, positive above 0.5); ``(num_classes,)`` for one image.

Whatever the input, the batch holds ``labels`` as an (N, n_label_ids) bool multi-hot
matrix indexed by label id: single-label rows have at most one True. Ignored ids (and 0
in the binary case, where 0 is the negative class) are dropped; ids that are neither a
class nor ignored are counted per sample in ``out_of_range_labels``, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Number
from typing import Any, Iterable, List, Set

import numpy as np

from data_gradients.batch.arrays import describe, group_by_shape, images_to_nchw, is_array_like, to_numpy
from data_gradients.batch.images import ImageBatch, check_images, image_fields
from data_gradients.errors import BatchFormatError

NOTE_SEVERAL_IN_ONE_HOT = ("single-label one-hot rows with several classes set were found; the first largest was "
                           "used: pass multi_label=True if an image can have several classes")


@dataclass
class ClassificationBatch(ImageBatch):
    """Images plus ``labels`` (N, n_label_ids) bool: ``labels[i, c]`` is True when sample i
    has counted class c. ``out_of_range_labels[i]`` counts label values of sample i that are
    neither a class id nor ignored (NaN, unknown ids, multi-label entries outside 0..1).
    ``multi_label`` tells whether the labels came as multi-label rows."""

    labels: np.ndarray = None  # type: ignore[assignment]
    out_of_range_labels: np.ndarray = None  # type: ignore[assignment]
    multi_label: bool = False


class ClassificationBatchBuilder:
    """Validates raw (images, labels) and returns canonical batches, one per image size."""

    def __init__(self, num_classes: int, class_ids: Iterable[int], ignore_labels: Iterable[int],
                 multi_label: bool = False):
        self.num_classes = num_classes
        self.multi_label = bool(multi_label)
        self.n_label_ids = 2 if num_classes == 1 else num_classes
        self.class_ids = np.array(sorted(class_ids), dtype=np.int64)
        uncounted = set(int(i) for i in ignore_labels)
        if num_classes == 1:
            uncounted.add(0)  # binary: 0 is the negative class, never counted
        self.uncounted = np.array(sorted(uncounted), dtype=np.int64)
        self.counted = np.zeros(self.n_label_ids, dtype=bool)
        self.counted[self.class_ids[(self.class_ids >= 0) & (self.class_ids < self.n_label_ids)]] = True
        # multi-label column j is label id j; binary: the single column is id 1
        self.columns = np.array([1], dtype=np.int64) if num_classes == 1 else np.arange(num_classes, dtype=np.int64)
        self.notes: Set[str] = set()

    # -------------------------------------------------------------------- public
    def build(self, images: Any, labels: Any, first_sample_id: int) -> List[ClassificationBatch]:
        raw = self._labels_array(labels)
        n_hint = 1 if raw.ndim == 0 else int(raw.shape[0])
        try:
            imgs = images_to_nchw(images, torch_layout=False, n_hint=n_hint)
        except (TypeError, ValueError) as e:
            raise BatchFormatError(f"`images` could not be read as images: {e}; got {describe(images)}") from None
        rows = self._rows(raw, len(imgs), labels)
        check_images(imgs, first_sample_id)
        multi_hot, out_of_range, fractional = self._multi_hot(rows)
        out = []
        for idx in group_by_shape(imgs):
            fields = image_fields(imgs, idx, first_sample_id, self.notes)
            if fields.get("unreadable"):  # no pixel: the samples are only counted, their labels are not read
                out.append(ClassificationBatch(**fields, labels=np.zeros((len(idx), self.n_label_ids), dtype=bool),
                                               out_of_range_labels=np.zeros(len(idx), dtype=np.int64),
                                               multi_label=self.multi_label))
                continue
            out.append(ClassificationBatch(
                **fields,
                non_integer_labels=None if fractional is None or not fractional[idx].any() else fractional[idx],
                labels=multi_hot[idx],
                out_of_range_labels=out_of_range[idx],
                multi_label=self.multi_label,
            ))
        return out

    # ------------------------------------------------------------------- parsing
    @staticmethod
    def _labels_array(labels: Any) -> np.ndarray:
        """Labels as one numpy array (scalars, lists of scalars or of rows, tensors)."""
        try:
            if is_array_like(labels):
                return to_numpy(labels)
            if isinstance(labels, (Number, np.generic)) and not isinstance(labels, complex):
                return np.asarray(labels)
            if isinstance(labels, (list, tuple)) and labels:
                return np.stack([to_numpy(x) if is_array_like(x) else np.asarray(x) for x in labels])
        except (TypeError, ValueError) as e:
            raise BatchFormatError(f"`labels` could not be read as class labels: {e}; got {describe(labels)}") from None
        raise BatchFormatError(
            "`labels` must be class ids (an int per image), one-hot rows or multi-label rows as a tensor, "
            f"array or list, got {describe(labels)}"
        )

    def _rows(self, raw: np.ndarray, n: int, labels: Any) -> np.ndarray:
        """(N,) ids or (N, C) rows, checked against the number of images."""
        if raw.dtype.kind not in "biuf":
            raise BatchFormatError(f"`labels` must be numeric or bool, got {describe(labels)}")
        width = len(self.columns) if self.multi_label else self.n_label_ids
        if raw.ndim == 0:
            rows = raw.reshape(1)
        elif raw.ndim == 1:
            # N ids, or one image's row (one-hot / multi-label) when there is a single image
            if n == 1 and raw.shape[0] == width and (self.multi_label or raw.shape[0] != 1):
                rows = raw.reshape(1, width)
            elif self.multi_label and width == 1:
                rows = raw.reshape(-1, 1)
            else:
                rows = raw
        elif raw.ndim == 2 and raw.shape[1] == 1 and not self.multi_label:
            rows = raw[:, 0]
        elif raw.ndim == 2:
            rows = raw
        else:
            raise BatchFormatError(
                f"classification labels must have rank 1 (N ids) or 2 (N rows), got {describe(labels)}")
        if self.multi_label and rows.ndim == 1:
            raise BatchFormatError(
                f"multi_label=True expects binary rows of shape (N, {width}) (one column per class), "
                f"got {describe(labels)}")
        if rows.ndim == 2 and rows.shape[1] != width:
            kind = "multi-label" if self.multi_label else "one-hot"
            raise BatchFormatError(
                f"{kind} labels must have {width} columns (num_classes={self.num_classes}), got {describe(labels)}")
        if rows.shape[0] != n:
            raise BatchFormatError(
                f"images and labels disagree on the batch size: {n} images but {rows.shape[0]} labels "
                f"({describe(labels)})")
        return rows

    def _multi_hot(self, rows: np.ndarray):
        """(N, n_label_ids) bool, (N,) out-of-range counts and (N,) int64 counts of non-integer
        ids that were rounded (None when the labels are not ids or hold none)."""
        n = rows.shape[0]
        out = np.zeros((n, self.n_label_ids), dtype=bool)
        if self.multi_label:
            return (*self._from_multi_label(rows, out), None)
        fractional = None
        if rows.ndim == 2:
            ids, bad, unlabelled = self._one_hot_ids(rows)
        else:
            ids, bad, fractional = self._ids(rows)
            unlabelled = np.zeros(n, dtype=bool)
        ok = (ids >= 0) & (ids < self.n_label_ids) & ~bad & ~unlabelled
        ok[ok] = self.counted[ids[ok]]
        out[np.flatnonzero(ok), ids[ok]] = True
        out_of_range = bad | ~(ok | unlabelled | np.isin(ids, self.uncounted))
        return out, out_of_range.astype(np.int64), fractional

    def _ids(self, rows: np.ndarray):
        """Integer ids, a NaN/inf flag and a count of non-integer values (rounded to the nearest
        integer, halves to even: 2.5 -> 2) per sample; None when every value is whole."""
        if rows.dtype.kind == "f":
            f = rows.astype(np.float64)
            bad = ~np.isfinite(f)
            if self.num_classes == 1 and not bad.any() and f.size and f.min() >= 0 and f.max() <= 1:
                return (f > 0.5).astype(np.int64), bad, None  # binary probabilities
            f = np.where(bad, -1, f)
            rounded = np.rint(f)
            fractional = rounded != f
            # ids beyond int64 are out of range whatever they are: clipped before the cast (no overflow)
            ids = np.clip(rounded, -2.0 ** 62, 2.0 ** 62).astype(np.int64)
            return ids, bad, fractional.astype(np.int64) if fractional.any() else None
        if rows.dtype == np.uint64:  # ids above int64 would wrap around to negative ones
            return np.minimum(rows, np.uint64(2 ** 62)).astype(np.int64), np.zeros(rows.shape[0], dtype=bool), None
        return rows.astype(np.int64), np.zeros(rows.shape[0], dtype=bool), None

    def _one_hot_ids(self, rows: np.ndarray):
        """Argmax ids of one-hot / soft rows, a NaN flag and a no-class-on flag per row."""
        f = rows.astype(np.float64)
        bad = np.isnan(f).any(axis=1)
        f = np.where(np.isnan(f), -np.inf, f)
        if ((f > 0.5).sum(axis=1) > 1).any():
            self.notes.add(NOTE_SEVERAL_IN_ONE_HOT)
        unlabelled = (f.max(axis=1) <= 0.5) & ~bad  # no class on: unlabelled, not an error
        return f.argmax(axis=1).astype(np.int64), bad, unlabelled

    def _from_multi_label(self, rows: np.ndarray, out: np.ndarray):
        if rows.dtype == np.bool_:
            positive, invalid = rows, np.zeros(rows.shape, dtype=bool)
        else:
            f = rows.astype(np.float64)
            invalid = ~np.isfinite(f) | (f < 0) | (f > 1)
            positive = (f > 0.5) & ~invalid
        keep = self.counted[self.columns]
        out[:, self.columns[keep]] = positive[:, keep]
        invalid = invalid & ~np.isin(self.columns, self.uncounted)[None, :]
        return out, invalid.sum(axis=1).astype(np.int64)
