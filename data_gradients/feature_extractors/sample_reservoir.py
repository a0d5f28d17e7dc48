"""Base of the sample-picture extractors: a seeded uniform reservoir of per-sample payloads."""
from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from data_gradients.feature_extractors.base import FeatureExtractor, keep_smallest
from data_gradients.results import ImageGrid
from data_gradients.sample_id import format_sample_id

_MASK = (1 << 64) - 1


def sample_keys(extractor: FeatureExtractor, split: str, sample_ids) -> np.ndarray:
    """``extractor.sample_key(split, i)`` for every id, bit for bit, in vectorised uint64 numpy
    (the same splitmix64 steps, wrapping mod 2**64; the final uint64 -> float64 conversion
    rounds to nearest like Python's int / float)."""
    split_code = sum(ord(c) << (8 * (i % 7)) for i, c in enumerate(split))
    offset = (int(extractor.context.seed) * 0x9E3779B97F4A7C15 + split_code * 0xBF58476D1CE4E5B9) & _MASK
    with np.errstate(over="ignore"):
        x = np.asarray(sample_ids, dtype=np.int64).astype(np.uint64) + np.uint64(offset)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x.astype(np.float64) / 2.0**64


class SampleReservoir(FeatureExtractor):
    """Keeps ``samples_to_visualize`` samples per split, drawn uniformly by seeded keys
    (independent of batching and merge order). Subclasses say what to keep of a sample
    (``payload``: small copies, never views of the batch) and how to draw it (``picture``)."""

    group = "samples"
    grid_title = "Sample images"

    def setup(self) -> None:
        self.k = max(int(self.context.samples_to_visualize), 0)
        # (key, (sample_id, *payload)) with the k smallest seeded keys
        self.add_state("reservoir", [], "smallest", cap=self.k)

    def payload(self, batch: Any, index: int) -> Tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def picture(self, *payload: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, batch: Any, split: str) -> None:
        if self.k == 0 or len(batch) == 0:
            return
        st = self.state(split)
        ids = np.asarray(batch.sample_ids).tolist()
        candidates = self.reservoir_candidates(st.reservoir, split, ids, self.k)
        if candidates:  # only samples that enter the reservoir get a payload (a thumbnail)
            new = [(key, (int(ids[j]), *self.payload(batch, j))) for key, j in candidates]
            st.reservoir = keep_smallest(st.reservoir, new, self.k)

    def compute(self):
        res = self.new_result()
        if self.k == 0:
            return res
        images, captions = {}, {}
        for s in self.splits:
            picks = sorted((payload for _, payload in self.state(s).reservoir), key=lambda p: p[0])
            images[s] = [self.picture(*p[1:]) for p in picks]
            captions[s] = [f"sample {format_sample_id(p[0])}" for p in picks]
        if any(images.values()):
            res.images.append(ImageGrid(key="samples", title=self.grid_title, images=images, captions=captions))
        return res
