"""The dataset's fingerprint per split, and the manifest behind it (every sample's image and label hash).

Per sample: a 32-byte digest of its image (the decoded pixels and shape, shared with the duplicates
feature: :func:`~data_gradients.feature_extractors.common.image_hash.batch_image_digests`) and one of
its labels as the analysis reads them (:func:`label_digests`), combined into the sample's content hash
``h = SHA-256("dg-sample-v1" | image digest | label digest)``.

The split's fingerprint is ``sum(h) mod 2**256`` with the sample count. A sum does not depend on the
order of the samples nor on how producers' states are merged (a shuffled loader, several workers or
ranks give the same value), and it is a multiset hash: adding a sample k times adds k * h. XOR would
also be order-independent but cancels pairs: two copies of a sample XOR to zero, so a dataset with a
duplicated sample added (or a duplicated pair removed) would keep its fingerprint. Changing one pixel
or one label changes that sample's ``h`` and so the sum (except with probability about 2**-256).

Labels are hashed as the analysis reads them: segmentation masks of counted ids (-1 for ignored,
background of a binary task, unlabelled and out-of-range pixels) with the count of out-of-range
pixels; detection boxes kept (clipped to the image, classes and coordinates in pixels) with the
count of bad boxes of each kind; classification multi-hot rows with the count of out-of-range
labels. So relabelling between two ignored or two out-of-range values does not change them.

State per split: the 256-bit sum and the count (fixed size), plus the manifest: id (8 bytes) and
16 bytes of the image digest and of the label digest (32 bytes) of each sample, at most
:data:`MAX_MANIFEST` samples (80 MB): beyond it the smallest sample ids are kept, like the duplicates
index; the fingerprint and count still cover every sample.
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict, Optional, Tuple

import cv2
import numpy as np

from data_gradients.batch import ClassificationBatch, DetectionBatch, ImageBatch, SegmentationBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.common.image_hash import batch_image_digests, image_digests
from data_gradients.feature_extractors.common.sample_rows import SampleRows
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Table

MAX_MANIFEST = 2_000_000  # samples listed in the manifest per split (40 bytes of state each)
HASH_BYTES = 16  # bytes of the image and of the label digest kept in the manifest
MOD = 1 << 256


def mask_digests(batch: SegmentationBatch) -> np.ndarray:
    """(N, 32) uint8 digests of each sample's mask of counted ids (-1 = not counted).

    A mask whose ids are all below 255 is hashed as one byte per pixel, ``id + 1`` (the common case;
    when the loader gave uint8 labels these bytes come from one 256-entry lookup, and the int32
    masks are never built); any other mask as its int32 ids, 4 bytes per pixel, with a leading
    channel that tells the two apart. Either way the bytes depend only on the mask's ids, not on the
    type the loader used."""
    n, h, w = batch.mask_shape
    source = batch.label_source
    if source is not None and int(source[1].max()) < 255:
        labels, table = source
        if labels.size and _maps_to_itself(labels, table, batch.known_label_values()):  # bytes id + 1 = int8 labels + 1
            return image_digests(labels[:, None], offset=1)
        small = cv2.LUT(labels.reshape(-1, w), (table + 1).astype(np.uint8)).reshape(n, 1, h, w) if labels.size \
            else np.zeros((n, 1, h, w), dtype=np.uint8)
        return image_digests(small)
    masks = np.ascontiguousarray(batch.masks, dtype=np.int32)
    fits = masks.reshape(n, -1).max(axis=1, initial=-1) < 255
    out = np.empty((n, 32), dtype=np.uint8)
    if fits.any():
        out[fits] = image_digests((masks[fits] + 1).astype(np.uint8)[:, None])
    if not fits.all():
        wide = masks[~fits].view(np.uint8).reshape(-1, 1, h, 4 * w)
        out[~fits] = image_digests(np.concatenate([np.zeros_like(wide), wide], axis=1))  # 2 channels: int32 ids
    return out


def _maps_to_itself(labels: np.ndarray, table: np.ndarray, present: Optional[np.ndarray] = None) -> bool:
    """Whether every label value that can be present maps to itself read as int8 (ids 0..126 to
    themselves, 255 to -1: ignored or out of range): then the bytes ``table[labels] + 1`` are
    ``int8(labels) + 1``, without wrap-around. "Can be present": the values marked in ``present``
    ((256,) bool, when the batch's view knows them), else those within both the uint8 and the int8
    range of the labels (the common case, ids 0..k-1 as they are and 255 ignored, passes with any
    subset of the classes present). Either way the digests are the same: this only picks the faster
    of two ways to hash the same bytes."""
    if present is not None:
        values = np.flatnonzero(present)
    else:
        lo, hi, lo8, hi8 = _ranges(labels)
        values = np.arange(lo, hi + 1)
        signed = values - 256 * (values > 127)
        values = values[(signed >= lo8) & (signed <= hi8)]
    signed = values - 256 * (values > 127)
    return 127 not in values and bool((table[values] == signed).all())


def _ranges(labels: np.ndarray) -> Tuple[int, int, int, int]:
    """(min, max) of uint8 ``labels`` and of them read as int8 (OpenCV's one-pass min and max when rows are contiguous)."""
    if labels.flags.c_contiguous:
        rows = labels.reshape(-1, labels.shape[-1])
        lo, hi = cv2.minMaxLoc(rows)[:2]
        lo8, hi8 = cv2.minMaxLoc(rows.view(np.int8))[:2]
        return int(lo), int(hi), int(lo8), int(hi8)
    signed = labels.view(np.int8)
    return int(labels.min()), int(labels.max()), int(signed.min()), int(signed.max())


def label_digests(batch: ImageBatch) -> np.ndarray:
    """(N, 32) uint8: a digest of each sample's labels as the analysis reads them (see the module doc)."""
    n = len(batch)
    if isinstance(batch, SegmentationBatch):
        content = mask_digests(batch)
        extra = [np.asarray(batch.out_of_range_pixels, dtype="<i8")]
        tag = b"seg"
    elif isinstance(batch, DetectionBatch):
        starts = np.searchsorted(batch.box_image, np.arange(n + 1))  # boxes are sorted by image
        boxes = np.ascontiguousarray(batch.boxes, dtype="<f8")
        classes = np.ascontiguousarray(batch.box_classes, dtype="<i8")
        problems = np.ascontiguousarray(batch.box_problems, dtype="<i8")
        out = []
        for i in range(n):
            a, b = starts[i], starts[i + 1]
            out.append(hashlib.sha256(b"det" + classes[a:b].tobytes() + boxes[a:b].tobytes()
                                      + problems[i].tobytes()).digest())
        return np.frombuffer(b"".join(out), dtype=np.uint8).reshape(n, 32)
    elif isinstance(batch, ClassificationBatch):
        content = np.ascontiguousarray(batch.labels, dtype=np.uint8)
        extra = [np.asarray(batch.out_of_range_labels, dtype="<i8")]
        tag = b"cls"
    else:
        content, extra, tag = np.zeros((n, 0), dtype=np.uint8), [], b"none"
    return row_digests(tag, [content] + [np.ascontiguousarray(e, dtype="<i8").reshape(n, 1).view(np.uint8) for e in extra])


def row_digests(tag: bytes, parts) -> np.ndarray:
    """(N, 32) uint8: SHA-256 of ``tag`` followed by row i of each of the (N, k) uint8 ``parts``, for each i: the
    messages laid out as one (N, len) matrix, each row hashed where it lies (no bytes object per sample)."""
    n = len(parts[0]) if parts else 0
    head = np.frombuffer(tag, dtype=np.uint8)
    rows = np.concatenate([np.broadcast_to(head, (n, len(head)))] + list(parts), axis=1)
    sha = hashlib.sha256
    return np.frombuffer(b"".join([sha(row).digest() for row in rows]), dtype=np.uint8).reshape(n, 32)


def sample_sum(image: np.ndarray, label: np.ndarray) -> int:
    """``sum(h) mod 2**256`` of the samples whose (N, 32) image and label digests are given: each ``h`` read as a
    big-endian integer, summed as 32-bit limbs (exact in uint64 for fewer than 2**32 samples) and carried once."""
    h = row_digests(b"dg-sample-v1", [np.asarray(image, dtype=np.uint8), np.asarray(label, dtype=np.uint8)])
    limbs = h.view(">u4").astype(np.uint64).sum(axis=0)  # 8 limbs, most significant first
    total = 0
    for limb in limbs.tolist():
        total = (total << 32) + limb
    return total % MOD


def manifest_index(cap: int = MAX_MANIFEST) -> SampleRows:
    """(16 bytes of image digest then 16 of label digest, sample id) of up to ``cap`` samples, the
    smallest ids kept, ties by the hashes' bytes (``a + b`` merges)."""
    return SampleRows(cap, (2 * HASH_BYTES,), np.uint8)


@register_feature
class Fingerprint(FeatureExtractor):
    name = "fingerprint"
    title = "Dataset fingerprint"
    description = (
        "A 256-bit digest of every sample's image and labels per split, independent of the order the loader "
        "yields them: the same data gives the same fingerprint, one changed pixel or label gives another. The run "
        "folder's manifest.tsv lists each sample's hashes; `data-gradients diff RUN_A RUN_B` compares two runs."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "dataset"  # its own section of the report; the PDF cover shows the fingerprints too
    reads_unreadable = True  # every sample read is part of the dataset

    def setup(self) -> None:
        self.add_state("digest", 0, "sum")
        self.add_state("samples", 0, "sum")
        self.add_state("manifest", manifest_index(MAX_MANIFEST), "sum")

    def update(self, batch: ImageBatch, split: str) -> None:
        st = self.state(split)
        images, labels = batch_image_digests(batch), label_digests(batch)
        st.digest = (st.digest + sample_sum(images, labels)) % MOD
        st.samples += len(batch)
        st.manifest.add(np.concatenate([images[:, :HASH_BYTES], labels[:, :HASH_BYTES]], axis=1), batch.sample_ids)

    def compute(self):
        res = self.new_result()
        rows, fingerprints, samples, listed = [], {}, {}, {}
        manifest: Dict[str, Any] = {}
        for s in self.splits:
            st = self.state(s)
            fingerprints[s] = f"{st.digest % MOD:064x}"
            samples[s] = int(st.samples)
            hashes, ids = st.manifest.arrays()
            listed[s] = len(ids)
            manifest[s] = (ids, hashes)
            rows.append([s, samples[s], fingerprints[s]])
        res.tables.append(Table(key="fingerprint", title="Dataset fingerprint (SHA-256 of every sample, summed)",
                                columns=["split", "samples", "fingerprint"], rows=rows))
        res.data = {"fingerprint": fingerprints, "samples": samples, "manifest_samples": listed,
                    "manifest_cap": MAX_MANIFEST}
        res.manifest = manifest  # not a field: the manifest writer reads it, the JSON holds only the digests
        return res
