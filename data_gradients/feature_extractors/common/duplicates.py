"""Exact duplicate images inside a split, and images shared between train and the other splits.

Each image is reduced to a 64-bit hash of its decoded pixels (the canonical uint8 RGB array the
loader yielded) and its shape: see :mod:`~data_gradients.feature_extractors.common.image_hash`.
With n images the chance that two different images share a hash is about n^2 / 2^65 (3e-8 for
a million).

State per split: the (hash, sample id) pairs of at most :data:`MAX_IMAGES` images, as
numpy arrays (16 bytes per image, so 32 MB for a full split of 2 million images, which
covers ImageNet's 1.28 M). Beyond the cap the images with the smallest sample ids are
kept (the first ones read); the others are counted as unchecked and the report says so.
Keeping the smallest ids makes the state independent of batching and merge order.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from data_gradients.batch import ImageBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.common.image_hash import batch_image_digests, image_hashes
from data_gradients.feature_extractors.common.sample_rows import SampleRows
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Finding, Table
from data_gradients.sample_id import format_sample_id, sample_id_cell

__all__ = ["Duplicates", "HashIndex", "duplicate_groups", "image_hashes"]

MAX_IMAGES = 2_000_000  # hashed images kept per split (16 bytes each)
MAX_GROUPS = 20  # duplicate groups listed per split
MAX_IDS_PER_GROUP = 10  # sample ids listed per group
MAX_LEAKS = 20  # leaked images listed per split


def HashIndex(cap: int = MAX_IMAGES) -> SampleRows:
    """(8-byte hash, sample id) of up to ``cap`` images, the smallest sample ids kept (``a + b`` merges)."""
    return SampleRows(cap, (), np.uint64)


def image_hashes_of(batch: ImageBatch) -> np.ndarray:
    """(N,) uint64 :func:`image_hashes` of the batch's images, from the batch's shared digests."""
    return np.ascontiguousarray(batch_image_digests(batch)[:, :8]).view("<u8").reshape(-1).astype(np.uint64)


def duplicate_groups(hashes: np.ndarray, ids: np.ndarray) -> Tuple[List[np.ndarray], int, int]:
    """Groups of ids sharing a hash, ordered by their smallest id: (first groups, groups, images in groups)."""
    if len(ids) < 2:
        return [], 0, 0
    order = np.lexsort((ids, hashes))
    h, i = hashes[order], ids[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    sizes = np.diff(np.r_[starts, len(h)])
    dup = sizes >= 2
    g_starts, g_sizes = starts[dup], sizes[dup]
    by_first = np.argsort(i[g_starts], kind="stable")[:MAX_GROUPS]
    groups = [i[s:s + k] for s, k in zip(g_starts[by_first], g_sizes[by_first])]
    return groups, int(dup.sum()), int(g_sizes.sum())


@register_feature
class Duplicates(FeatureExtractor):
    name = "duplicates"
    title = "Duplicate images"
    description = (
        "Images whose decoded pixels are exactly identical, inside a split and between train and the other "
        "splits. Duplicates inside train weigh some images more than others; a validation image that is also "
        "in train (leakage) makes validation scores optimistic."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "quality"

    def setup(self) -> None:
        self.add_state("index", HashIndex(MAX_IMAGES), "sum")
        self.add_state("images", 0, "sum")

    def update(self, batch: ImageBatch, split: str) -> None:
        st = self.state(split)
        st.images += len(batch)
        ids = np.asarray(batch.sample_ids, dtype=np.int64)
        wanted = st.index.wanted(ids)
        if not wanted.any():
            return
        hashes = image_hashes_of(batch)  # computed once per batch, shared with the fingerprint
        st.index.add(hashes if wanted.all() else hashes[wanted], ids[wanted])

    def compute(self):
        res = self.new_result()
        splits = self.splits
        arrays = {s: self.state(s).index.arrays() for s in splits}
        group_rows, dup_counts, dup_ids, dup_text = [], {}, {}, []
        for s in splits:
            groups, n_groups, n_images = duplicate_groups(*arrays[s])
            st = self.state(s)
            scalars = {
                "images_hashed": len(arrays[s][1]),
                "unchecked_images": int(st.images) - len(arrays[s][1]),
                "duplicate_groups": n_groups,
                "images_in_duplicate_groups": n_images,
                "redundant_copies": n_images - n_groups,
            }
            for name, value in scalars.items():
                res.scalars.setdefault(name, {})[s] = value
            for g, members in enumerate(groups, start=1):
                shown = ", ".join(format_sample_id(i) for i in members[:MAX_IDS_PER_GROUP])
                more = f" (+{len(members) - MAX_IDS_PER_GROUP} more)" if len(members) > MAX_IDS_PER_GROUP else ""
                group_rows.append([s, g, len(members), shown + more])
            if n_groups:
                dup_counts[s] = n_images
                dup_ids[s] = [int(i) for g in groups for i in g[:MAX_IDS_PER_GROUP]][:MAX_IDS_PER_GROUP * 2]
                listed = "; ".join("(" + ", ".join(format_sample_id(i) for i in g[:MAX_IDS_PER_GROUP]) + ")" for g in groups[:5])
                dup_text.append(f"{s}: {n_groups} group(s), {n_images} images, e.g. {listed}")
        res.tables.append(Table(key="duplicate_groups", title=f"Groups of identical images (first {MAX_GROUPS} per split)",
                                columns=["split", "group", "images", "sample ids"], rows=group_rows))
        if dup_counts:
            res.findings.append(Finding(
                key="duplicates", title="Exact duplicate images", severity="warning",
                message="identical images inside a split: " + " | ".join(dup_text),
                why="copies weigh some images more than others in training and in the metrics; remove them unless "
                    "the repetition is intended",
                counts=dup_counts, sample_ids=dup_ids,
            ))
        res.findings += self._leakage(res, arrays, splits)
        unchecked = {s: int(self.state(s).images) - len(arrays[s][1]) for s in splits}
        if any(unchecked.values()):
            res.findings.append(Finding(
                key="unchecked", title="Images not checked for duplicates", severity="info",
                message=f"only the first {MAX_IMAGES} images of a split are hashed; "
                        + ", ".join(f"{s}: {n} unchecked" for s, n in unchecked.items() if n),
                why="duplicates among the unchecked images are not reported", counts=unchecked,
            ))
        return res

    def _leakage(self, res, arrays: Dict[str, Tuple[np.ndarray, np.ndarray]], splits) -> List[Finding]:
        """Images of each other split that are also in the reference split (train), with the ids of their copies."""
        ref = self.context.reference
        if ref not in arrays:
            return []
        train_hashes, train_ids = arrays[ref]
        order = np.argsort(train_hashes, kind="stable")
        sorted_hashes, ids_by_hash = train_hashes[order], train_ids[order]
        rows, counts, sample_ids, examples = [], {}, {}, []
        for s in splits:
            if s == ref:
                continue
            hashes, ids = arrays[s]
            at = np.minimum(np.searchsorted(sorted_hashes, hashes), max(len(sorted_hashes) - 1, 0))
            leaked = sorted_hashes[at] == hashes if len(sorted_hashes) else np.zeros(len(hashes), dtype=bool)
            counts[s] = int(leaked.sum())
            res.scalars.setdefault(f"images_also_in_{ref}", {})[s] = counts[s]
            if not counts[s]:
                continue
            sample_ids[s] = [int(i) for i in ids[leaked][:MAX_LEAKS]]
            train_copies: List[int] = []
            for h, i in zip(hashes[leaked][:MAX_LEAKS], ids[leaked][:MAX_LEAKS]):
                lo, hi = np.searchsorted(sorted_hashes, h, side="left"), np.searchsorted(sorted_hashes, h, side="right")
                copies = sorted(int(t) for t in ids_by_hash[lo:hi])
                train_copies += copies[:1]
                rows.append([s, sample_id_cell(i), ", ".join(format_sample_id(t) for t in copies[:MAX_IDS_PER_GROUP])])
            sample_ids.setdefault(ref, [])
            sample_ids[ref] = sorted(set(sample_ids[ref]) | set(train_copies))[:MAX_LEAKS]
            share = counts[s] / max(len(ids), 1)
            examples.append(f"{s}: {counts[s]} of {len(ids)} images ({share:.1%}), e.g. {s} sample "
                            f"{format_sample_id(sample_ids[s][0])} = {ref} sample {format_sample_id(train_copies[0])}")
        res.tables.append(Table(key="leakage", title=f"Images also in {ref} (first {MAX_LEAKS} per split)",
                                columns=["split", "sample id", f"{ref} sample ids"], rows=rows))
        if not any(counts.values()):
            return []
        return [Finding(
            key=f"{ref}_leakage", title=f"Images shared with {ref} (leakage)", severity="error", area="splits",
            message=f"exact copies of {ref} images in other splits: " + " | ".join(examples),
            why="the model is evaluated on images it was trained on, so validation scores are optimistic; "
                "remove the copies from one of the splits",
            counts={s: n for s, n in counts.items() if n}, sample_ids=sample_ids,
        )]
