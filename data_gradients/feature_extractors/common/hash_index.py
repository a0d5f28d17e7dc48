"""All pairs of 64-bit hashes within a Hamming radius, by multi-index search (never all pairs).

The 64 bits are cut into ``radius + 1`` blocks. Two hashes that differ in at most ``radius``
bits leave at least one block untouched (pigeonhole), so every such pair shares a block value
exactly. For each block the hashes are sorted by that block; hashes of one run of equal
values are the candidates, checked with a popcount of their XOR. A pair found in block ``b``
is kept only when it shares no earlier block, so each pair comes out once.

Cost: with ``n`` spread-out hashes and blocks of ``64 / (radius + 1)`` bits, about
``(radius + 1) n^2 / 2^(65 / (radius + 1))`` candidates: 4 x 10^8 at n = 10^6 and radius 4
(``bench/bench_near_duplicates.py`` times it), but 10^10 at radius 6, which is why the radius
stays small. The candidates of a block are bounded by :data:`MAX_CANDIDATES` over the number
of blocks: past it (a degenerate set, where many different hashes share block values, or a large
radius), the longest runs are left out and their hashes counted, so the search stays bounded.
"""
from __future__ import annotations

from typing import List, NamedTuple

import numpy as np

from data_gradients.feature_extractors.common.perceptual_hash import popcount

MAX_CANDIDATES = 1_000_000_000  # candidate pairs checked at most, over all blocks (~30 s)
MAX_PAIRS = 5_000_000  # pairs returned at most (24 bytes each); the search stops there


class Pairs(NamedTuple):
    """Indices ``i < j`` into the searched array, their Hamming distance, how many hashes sat in
    runs too long to search, and whether the search stopped at :data:`MAX_PAIRS` pairs."""

    i: np.ndarray
    j: np.ndarray
    distance: np.ndarray
    skipped: int
    truncated: bool = False


def blocks(radius: int) -> List[tuple]:
    """(shift, mask) of the ``radius + 1`` blocks of 64 bits, sizes differing by at most one."""
    m = radius + 1
    sizes = [64 // m + (1 if k < 64 % m else 0) for k in range(m)]
    out, shift = [], 0
    for size in sizes:
        out.append((shift, (1 << size) - 1))
        shift += size
    return out


def near_pairs(hashes: np.ndarray, radius: int) -> Pairs:
    """Every pair of ``hashes`` (distinct positions) within Hamming distance ``radius`` (0..63)."""
    hashes = np.asarray(hashes, dtype=np.uint64)
    if not 0 <= radius < 64:
        raise ValueError(f"`radius` must be in 0..63, got {radius}")
    parts_i: List[np.ndarray] = []
    parts_j: List[np.ndarray] = []
    parts_d: List[np.ndarray] = []
    skipped, found = 0, 0
    spec = blocks(radius)
    for b, (shift, mask) in enumerate(spec):
        if found >= MAX_PAIRS:
            break
        keys = (hashes >> np.uint64(shift)) & np.uint64(mask)
        order = np.argsort(keys, kind="stable")
        sorted_keys, sorted_hashes = keys[order], hashes[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        runs = np.diff(np.r_[starts, len(keys)])
        too_long = _over_budget(runs, MAX_CANDIDATES // len(spec))
        if too_long.any():  # leave those runs out: their keys no longer compare equal to a neighbour
            skipped += int(runs[too_long].sum())
            run_id = np.repeat(np.arange(len(runs)), runs)
            sorted_keys = np.where(too_long[run_id], np.arange(len(keys), dtype=np.uint64) | np.uint64(1 << 63),
                                   sorted_keys)
            runs = np.where(too_long, 1, runs)
        longest = int(runs.max(initial=1))
        for d in range(1, longest):
            same = np.flatnonzero(sorted_keys[d:] == sorted_keys[:-d])
            if len(same) == 0:
                break
            x = sorted_hashes[same] ^ sorted_hashes[same + d]
            dist = popcount(x)
            keep = dist <= radius
            for shift_e, mask_e in spec[:b]:  # found already in an earlier block
                keep &= ((x >> np.uint64(shift_e)) & np.uint64(mask_e)) != 0
            if keep.any():
                a, c = order[same[keep]], order[same[keep] + d]
                parts_i.append(np.minimum(a, c))
                parts_j.append(np.maximum(a, c))
                parts_d.append(dist[keep])
                found += len(parts_d[-1])
                if found >= MAX_PAIRS:
                    break
    if not parts_i:
        empty = np.zeros(0, dtype=np.int64)
        return Pairs(empty, empty.copy(), empty.copy(), skipped, found >= MAX_PAIRS)
    i, j, d = np.concatenate(parts_i), np.concatenate(parts_j), np.concatenate(parts_d)
    order = np.lexsort((j, i))
    return Pairs(i[order].astype(np.int64), j[order].astype(np.int64), d[order], skipped, found >= MAX_PAIRS)


def _over_budget(runs: np.ndarray, budget: int) -> np.ndarray:
    """(R,) bool: the longest runs to leave out so that the candidate pairs of the others fit ``budget``."""
    pairs = runs * (runs - 1) // 2
    out = np.zeros(len(runs), dtype=bool)
    total = int(pairs.sum())
    if total <= budget:
        return out
    longest = np.argsort(-runs, kind="stable")
    left = total - np.cumsum(pairs[longest])  # candidates left after leaving out the first k + 1 runs
    out[longest[:int(np.argmax(left <= budget)) + 1]] = True
    return out


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """(n,) label of each node: the smallest node of its connected component under edges (i, j)."""
    labels = np.arange(n, dtype=np.int64)
    if len(i) == 0:
        return labels
    while True:
        low = np.minimum(labels[i], labels[j])
        before = labels.copy()
        np.minimum.at(labels, i, low)
        np.minimum.at(labels, j, low)
        labels = labels[labels]  # pointer jumping
        if np.array_equal(labels, before):
            return labels
