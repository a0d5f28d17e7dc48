"""Small loader batches joined into larger ones before they are analysed.

Each feature pays a fixed cost per batch it reads (a few OpenCV and numpy calls, some Python),
so a loader of small batches of small images spent more in those than in the pixels: 256 x 256
images in batches of 8 took ~1.7x the time per image of batches of 64. The reader hands its
canonical batches to a :class:`Coalescer`, which copies consecutive small ones of a split
(:func:`~data_gradients.batch.concat.joinable`) into one buffer, up to :data:`MAX_BYTES` of
images or :data:`MAX_SAMPLES` samples, and submits them as one batch
(:func:`~data_gradients.batch.concat.concat_samples`). Results do not change: every feature gives
the same result whatever the batching (the extractor harness proves it; float sums up to rounding).

Only batches of at most a quarter of :data:`MAX_BYTES` are joined: the copy costs as much as it
saves from there on (640 x 480 detection in batches of 8, 7.4 MB, was ~10 % slower joined in
pairs), and a 720p batch (22 MB for 8 images) is large already. The copy lets go of the loader's
batch at once (the reader's memory rule: nothing of batch k is held while the loader makes
batch k + 1), and the buffer is reused once no joined batch refers to it.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from data_gradients.batch.concat import concat_samples, joinable
from data_gradients.batch.segmentation import SegmentationBatch
from data_gradients.managers.pipeline import InterruptedAfterBatch

MAX_BYTES = 8 << 20  # image bytes of a joined batch (40 images of 256 x 256 RGB)
MAX_SAMPLES = 256  # samples of a joined batch: bounds its per-sample arrays for tiny images
JOINED_AT_LEAST = 4  # a batch is joined when this many of it fit in MAX_BYTES: up to 2 MB (10 images of 256 x 256)


class Coalescer:
    """Joins consecutive small canonical batches of one split; ``submit(batch)`` gets the joined ones.

    ``add(batch)`` takes a canonical batch (and may submit); ``flush()`` submits what is pending
    (at the end of the split, and before an error goes on, so that every sample read is analysed).
    A Ctrl-C raised while ``add`` submits leaves the new batch pending, for that last ``flush()``.
    """

    def __init__(self, submit: Callable[[Any], None], max_bytes: Optional[int] = None, max_samples: Optional[int] = None):
        self.submit = submit
        self.max_bytes = MAX_BYTES if max_bytes is None else max_bytes
        self.max_samples = MAX_SAMPLES if max_samples is None else max_samples
        self.pending: List[Any] = []
        self._images: Optional[np.ndarray] = None  # the buffer the pending images are copied into
        self._labels: Optional[np.ndarray] = None  # and their uint8 segmentation labels
        self._rows = 0
        self._spare: Dict[str, np.ndarray] = {}  # the last buffer of each kind, reused once nothing refers to it
        self._unheld = 0

    @property
    def pending_samples(self) -> int:
        return self._rows

    def add(self, batch: Any) -> None:
        per_image = batch.images[0].nbytes if len(batch) else 0
        capacity = min(self.max_samples, self.max_bytes // per_image) if per_image else 0
        small = len(batch) > 0 and not batch.unreadable and len(batch) * JOINED_AT_LEAST <= capacity
        if self.pending and (not small or self._images is None or self._rows + len(batch) > len(self._images)
                             or not joinable(self.pending[-1], batch)):  # (no buffer: a batch held after Ctrl-C)
            try:
                self.flush()
            except InterruptedAfterBatch:  # Ctrl-C after the flushed batch: this one is analysed on the way out
                self.pending, self._rows = [batch], len(batch)
                raise
        if not small:
            self.submit(batch)
            return
        if not self.pending:
            self._images = self._buffer("images", (capacity,) + batch.images.shape[1:], batch.images.dtype)
            source = getattr(batch, "label_source", None)
            self._labels = None if source is None else self._buffer("labels", (capacity,) + source[0].shape[1:],
                                                                     source[0].dtype)
        self.pending.append(self._take(batch))

    def _buffer(self, kind: str, shape: tuple, dtype: np.dtype) -> np.ndarray:
        """The last buffer of this kind again when nothing else refers to it any more (numpy views hold
        their base: no joined batch, nor anything kept from one, is alive), else a new one. Reused, its
        pages are not faulted in again for every joined batch."""
        old = self._spare.get(kind)
        if old is not None and old.shape == shape and old.dtype == dtype and sys.getrefcount(old) <= self._unheld:
            return old
        new = self._spare[kind] = np.empty(shape, dtype=dtype)
        # the count of a buffer only this coalescer holds, measured as above (the dict, a local name, the
        # call's argument): counted, not assumed, as interpreters count differently
        self._unheld = sys.getrefcount(new)
        return new

    def _take(self, batch: Any) -> Any:
        """``batch`` with its images (and uint8 labels) moved into the buffers' next rows."""
        rows = slice(self._rows, self._rows + len(batch))
        self._rows += len(batch)
        images = self._images[rows]
        images[...] = batch.images
        images.flags.writeable = False
        batch.images = images
        if isinstance(batch, SegmentationBatch) and batch.label_source is not None:
            labels = self._labels[rows]
            labels[...] = batch.label_source[0]
            flagged = batch.__dict__.get("_flagged")
            batch.label_source = (labels, batch.label_source[1])
            if flagged is not None:
                batch.__dict__["_flagged"] = (labels, flagged[1])
            batch.__dict__.pop("_view", None)  # built on the old labels (an export may have read it)
        return batch

    def flush(self) -> None:
        if not self.pending:
            return
        batches, self.pending = self.pending, []
        self._images = self._labels = None
        self._rows = 0
        joined = concat_samples(batches)
        joined.images.flags.writeable = False
        self.submit(joined)
