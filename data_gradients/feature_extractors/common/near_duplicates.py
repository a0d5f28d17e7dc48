"""Near-duplicate images inside a split, and near copies of reference images in the other splits
(leakage that survives a JPEG re-save, a resize or a brightness change).

Each image is reduced to a 64-bit DCT perceptual hash (:mod:`.perceptual_hash`, from the grey
thumbnail shared with the image-quality checks). Two images are near duplicates when their
hashes differ in at most ``near_duplicate_radius`` bits (default :data:`RADIUS`); groups are the
connected components of that relation inside a split. Leakage: an image of another split within
the radius of a reference-split image (``context.reference``, usually train), listed with both
sample ids. Byte-identical copies are near duplicates too (distance 0); the ``duplicates``
feature reports them on their own.

Default radius 4, from the precision / recall table of ``bench/bench_near_duplicates.py`` (20
photos shipped with scikit-image and matplotlib): at 4 bits every JPEG q60-90 re-save, 0.5-2x
resize and +-10% brightness change of a photo is found, and no pair of different photos or of
non-overlapping tiles of one photo (the closest are 16 and 18 bits apart); crops of 5% move
further: 8% of them are within 4 bits, half within 10 (a radius that caught most would also pair
unrelated images at scale: about 10^4 false pairs per 10^6 spread-out hashes at radius 10, 0.07
at radius 4). The
multi-index search (:mod:`.hash_index`) over 10^6 hashes takes 12-24 s at radius 4 and grows
about 20-fold per 2 bits beyond.

State per split: the (hash, sample id) pairs of at most :data:`MAX_IMAGES` images (16 bytes per
image: 8 of hash, 8 of id; 32 MB for 2 million), the smallest sample ids kept as in
``duplicates``, so merging and batching never change the result.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from data_gradients.batch import ImageBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.common.duplicates import HashIndex
from data_gradients.feature_extractors.common.hash_index import MAX_PAIRS, components, near_pairs
from data_gradients.feature_extractors.common.perceptual_hash import phash_from_grey
from data_gradients.feature_extractors.common.thumbnails import grey_thumbnails
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Finding, Table
from data_gradients.sample_id import format_sample_id, sample_id_cell
from data_gradients.thresholds import declare, threshold

MAX_IMAGES = 2_000_000  # hashed images kept per split (16 bytes each)
MAX_GROUPS = 20  # groups listed per split
MAX_IDS_PER_GROUP = 10  # sample ids listed per group
MAX_LEAKS = 20  # leaked images listed per split
RADIUS = 4

RADIUS_NAME = declare(
    "near_duplicate_radius", RADIUS,
    "largest Hamming distance (bits of 64) between the perceptual hashes of two near-duplicate images; "
    "4 keeps JPEG re-saves, 0.5-2x resizes and +-10% brightness changes of a photo and no pair of different "
    "photos (bench/bench_near_duplicates.py); above 6 the search slows down sharply on large splits",
    minimum=0, maximum=16)


@register_feature
class NearDuplicates(FeatureExtractor):
    name = "near_duplicates"
    title = "Near-duplicate images"
    description = (
        "Images that look the same after a JPEG re-save, a resize or a small brightness change (64-bit perceptual "
        "hashes within a few bits), inside a split and between the reference split and the others. Near copies in "
        "train weigh some scenes more; a near copy of a train image in validation is leakage, as an exact one is."
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
        hashes = phash_from_grey(grey_thumbnails(batch).grey)
        st.index.add(hashes[wanted], ids[wanted])

    def compute(self):
        res = self.new_result()
        splits = self.splits
        radius = int(threshold(self.context, RADIUS_NAME))
        arrays = {s: self.state(s).index.arrays() for s in splits}
        all_hashes = np.concatenate([arrays[s][0] for s in splits]) if splits else np.zeros(0, np.uint64)
        unique, inverse = np.unique(all_hashes, return_inverse=True)
        pairs = near_pairs(unique, radius)
        by_split, start = {}, 0
        for s in splits:
            n = len(arrays[s][1])
            by_split[s] = (inverse[start:start + n].reshape(-1), arrays[s][1])  # (unique index, sample id)
            start += n
        rows, found, ids_listed, text = [], {}, {}, []
        for s in splits:
            u, ids = by_split[s]
            groups, n_images = _groups(len(unique), pairs, u, ids)
            st = self.state(s)
            res.scalars.setdefault("images_hashed", {})[s] = len(ids)
            res.scalars.setdefault("unchecked_images", {})[s] = int(st.images) - len(ids)
            res.scalars.setdefault("near_duplicate_groups", {})[s] = len(groups)
            res.scalars.setdefault("images_in_near_duplicate_groups", {})[s] = n_images
            for g, members in enumerate(groups[:MAX_GROUPS], start=1):
                more = f" (+{len(members) - MAX_IDS_PER_GROUP} more)" if len(members) > MAX_IDS_PER_GROUP else ""
                rows.append([s, g, len(members), ", ".join(format_sample_id(i) for i in members[:MAX_IDS_PER_GROUP]) + more])
            if groups:
                found[s] = n_images
                ids_listed[s] = [int(i) for g in groups for i in g[:MAX_IDS_PER_GROUP]][:MAX_IDS_PER_GROUP * 2]
                shown = "; ".join("(" + ", ".join(format_sample_id(i) for i in g[:MAX_IDS_PER_GROUP]) + ")" for g in groups[:5])
                text.append(f"{s}: {len(groups)} group(s), {n_images} images, e.g. {shown}")
        res.tables.append(Table(key="near_duplicate_groups",
                                title=f"Groups of near-duplicate images (first {MAX_GROUPS} per split)",
                                columns=["split", "group", "images", "sample ids"], rows=rows))
        if found:
            res.findings.append(Finding(
                key="near_duplicates", title="Near-duplicate images", severity="warning",
                message=f"images within {radius} bits of each other's perceptual hash inside a split (exact copies "
                        "included): " + " | ".join(text),
                why="re-saved, resized or re-exposed copies weigh some scenes more than others in training and in the "
                    "metrics; keep one of each group unless the repetition is intended",
                counts=found, sample_ids=ids_listed,
            ))
        res.findings += self._leakage(res, len(unique), pairs, by_split, splits, radius)
        if pairs.skipped or pairs.truncated:
            res.findings.append(Finding(
                key="near_duplicate_search_incomplete", title="Near-duplicate search incomplete", severity="info",
                message=f"{pairs.skipped} hashes shared hash blocks with too many others to be compared"
                        + (f"; the search stopped at {MAX_PAIRS} pairs" if pairs.truncated else ""),
                why="near duplicates among very similar images may be missing", counts={},
            ))
        res.data["near_duplicate_radius"] = radius
        return res

    def _leakage(self, res, n_unique: int, pairs, by_split: Dict[str, Tuple[np.ndarray, np.ndarray]], splits,
                 radius: int) -> List[Finding]:
        """Images of each other split within ``radius`` of a reference-split image, with the closest one's id."""
        ref = self.context.reference
        if ref not in by_split:
            return []
        ref_u, ref_ids = by_split[ref]
        first_ref = np.full(n_unique, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_ref, ref_u, ref_ids)  # smallest reference id of each hash
        present = first_ref < np.iinfo(np.int64).max
        # (hash, reference hash, distance) links: the hash itself, and both directions of each near pair
        own = np.flatnonzero(present)
        src = np.concatenate([own, pairs.i, pairs.j])
        dst = np.concatenate([own, pairs.j, pairs.i])
        dist = np.concatenate([np.zeros(len(own), np.int64), pairs.distance, pairs.distance])
        ok = present[dst]
        src, dst, dist = src[ok], dst[ok], dist[ok]
        order = np.lexsort((first_ref[dst], dist, src))  # per hash: closest, then smallest reference id
        src, dst, dist = src[order], dst[order], dist[order]
        first = np.r_[True, src[1:] != src[:-1]]
        best_ref = np.full(n_unique, -1, dtype=np.int64)
        best_dist = np.zeros(n_unique, dtype=np.int64)
        best_ref[src[first]], best_dist[src[first]] = first_ref[dst[first]], dist[first]
        rows, counts, sample_ids, examples = [], {}, {}, []
        for s in splits:
            if s == ref:
                continue
            u, ids = by_split[s]
            leaked = best_ref[u] >= 0
            counts[s] = int(leaked.sum())
            res.scalars.setdefault(f"images_near_{ref}", {})[s] = counts[s]
            if not counts[s]:
                continue
            lu, lids = u[leaked][:MAX_LEAKS], ids[leaked][:MAX_LEAKS]
            sample_ids[s] = [int(i) for i in lids]
            sample_ids[ref] = sorted(set(sample_ids.get(ref, [])) | {int(best_ref[k]) for k in lu})[:MAX_LEAKS]
            for k, i in zip(lu, lids):
                rows.append([s, sample_id_cell(int(i)), sample_id_cell(int(best_ref[k])), int(best_dist[k])])
            examples.append(f"{s}: {counts[s]} of {len(ids)} images ({counts[s] / max(len(ids), 1):.1%}), e.g. {s} sample "
                            f"{format_sample_id(int(lids[0]))} ~ {ref} sample {format_sample_id(int(best_ref[lu[0]]))}")
        res.tables.append(Table(key="near_leakage", title=f"Images near a {ref} image (first {MAX_LEAKS} per split)",
                                columns=["split", "sample id", f"closest {ref} sample id", "distance (bits)"], rows=rows))
        if not any(counts.values()):
            return []
        return [Finding(
            key=f"{ref}_near_leakage", title=f"Near copies of {ref} images in other splits (leakage)", severity="error",
            area="splits",
            message=f"images within {radius} bits of a {ref} image's perceptual hash (exact copies included): "
                    + " | ".join(examples),
            why="a re-saved or resized copy of a training image in validation is still the same picture: validation "
                "scores are optimistic; remove the copies from one of the splits",
            counts={s: n for s, n in counts.items() if n}, sample_ids=sample_ids,
        )]


def _groups(n_unique: int, pairs, u: np.ndarray, ids: np.ndarray) -> Tuple[List[np.ndarray], int]:
    """Groups (sorted sample ids, ordered by their smallest id) of the images ``ids`` with hashes ``u``:
    connected components of "same hash or a near pair", of two images or more; and the images in them."""
    if len(ids) < 2:
        return [], 0
    present = np.zeros(n_unique, dtype=bool)
    present[u] = True
    both = present[pairs.i] & present[pairs.j]
    labels = components(n_unique, pairs.i[both], pairs.j[both])[u]
    order = np.lexsort((ids, labels))
    lab, sid = labels[order], ids[order]
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    sizes = np.diff(np.r_[starts, len(lab)])
    multi = sizes >= 2
    g_starts, g_sizes = starts[multi], sizes[multi]
    by_first = np.argsort(sid[g_starts], kind="stable")
    return [sid[a:a + k] for a, k in zip(g_starts[by_first], g_sizes[by_first])], int(g_sizes.sum())
