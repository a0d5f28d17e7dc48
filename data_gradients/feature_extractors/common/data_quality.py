"""Bad data: non-finite pixels, out-of-range label ids, empty masks; counted with sample ids."""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from data_gradients.batch import ImageBatch
from data_gradients.feature_extractors.base import FeatureExtractor, keep_smallest
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Finding

MAX_IDS = 20  # sample ids kept per problem and split: the smallest ids, whatever the batching
ROW_STEP = 16  # rows of a mask read first when looking for empty masks

# problem key -> (scalar name, title, severity, why it matters to a model)
PROBLEMS = {
    "nonfinite": (
        "images_with_nonfinite_pixels", "Images with NaN or infinite pixels", "error",
        "NaN/inf inputs turn activations and the loss into NaN and silently ruin training; "
        "they were set to 0 for this analysis.",
    ),
    "out_of_range": (
        "masks_with_out_of_range_ids", "Masks with out-of-range label ids", "error",
        "label ids that are neither a class nor ignored crash the loss (index out of bounds) or "
        "train on garbage; they were not counted in the label statistics.",
    ),
    "empty": (
        "empty_masks", "Empty masks", "warning",
        "masks with no labelled class pixel teach the model only background (or nothing); many of them "
        "often mean broken label files or a wrong ignore label.",
    ),
}


def empty_masks(masks: np.ndarray) -> np.ndarray:
    """(N,) True where an (N, H, W) mask has no counted pixel (every id is -1, counted ids are >= 0).

    Every 16th row is read first: a mask with a counted pixel there is not empty (nearly all
    masks), so only the others are read whole.
    """
    empty = masks[:, ::ROW_STEP].max(axis=(1, 2), initial=-1) < 0
    for i in np.flatnonzero(empty):
        empty[i] = masks[i].max(initial=-1) < 0
    return empty


@register_feature
class DataQuality(FeatureExtractor):
    name = "data_quality"
    title = "Data quality"
    description = (
        "Counts of samples with bad data: images with NaN or infinite pixels, segmentation masks with label "
        "ids outside the classes and ignore labels, and masks with no labelled pixel. Each problem lists "
        "the first sample ids so they can be inspected."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "quality"

    def setup(self) -> None:
        self.add_state("images", 0, "sum")
        self.add_state("masks", 0, "sum")
        for key in PROBLEMS:
            self.add_state(f"{key}_samples", 0, "sum")
            self.add_state(f"{key}_ids", [], "smallest", cap=MAX_IDS)
        self.add_state("nonfinite_pixels", 0, "sum")
        self.add_state("out_of_range_pixels", 0, "sum")

    def update(self, batch: ImageBatch, split: str) -> None:
        st = self.state(split)
        st.images += len(batch)
        self._count(st, "nonfinite", batch, np.asarray(batch.nonfinite_pixels) > 0)
        st.nonfinite_pixels += int(np.sum(batch.nonfinite_pixels))
        if getattr(batch, "masks", None) is None:  # image-only task
            return
        st.masks += len(batch)
        self._count(st, "out_of_range", batch, np.asarray(batch.out_of_range_pixels) > 0)
        st.out_of_range_pixels += int(np.sum(batch.out_of_range_pixels))
        self._count(st, "empty", batch, empty_masks(batch.masks))

    @staticmethod
    def _count(st, key: str, batch: ImageBatch, bad: np.ndarray) -> None:
        if not bad.any():
            return
        ids = np.asarray(batch.sample_ids)[bad].tolist()
        setattr(st, f"{key}_samples", getattr(st, f"{key}_samples") + len(ids))
        # (key, payload) = (sample id, sample id): keeps the smallest ids, independent of merge order
        setattr(st, f"{key}_ids", keep_smallest(getattr(st, f"{key}_ids"), [(i, i) for i in ids], MAX_IDS))

    def compute(self):
        res = self.new_result()
        splits = self.splits
        with_masks = self.context.task == "segmentation" or any(self.state(s).masks for s in splits)
        keys = list(PROBLEMS) if with_masks else ["nonfinite"]
        for key in keys:
            scalar, title, severity, why = PROBLEMS[key]
            counts: Dict[str, int] = {s: int(getattr(self.state(s), f"{key}_samples")) for s in splits}
            for s in splits:
                res.scalars.setdefault(scalar, {})[s] = counts[s]
            if key != "empty":
                pixels = f"{key}_pixels"
                for s in splits:
                    res.scalars.setdefault(pixels, {})[s] = int(getattr(self.state(s), pixels))
            if sum(counts.values()) == 0:
                continue
            ids: Dict[str, List[int]] = {s: [int(i) for i, _ in getattr(self.state(s), f"{key}_ids")] for s in splits}
            res.findings.append(Finding(
                key=key, title=title, message=self._message(key, counts), why=why,
                counts=counts, sample_ids=ids, severity=severity,
            ))
        return res

    def _message(self, key: str, counts: Dict[str, int]) -> str:
        per_split = ", ".join(f"{s}: {n} of {self._total(s, key)}" for s, n in counts.items())
        if key == "nonfinite":
            pixels = sum(int(self.state(s).nonfinite_pixels) for s in counts)
            return f"{sum(counts.values())} images contain {pixels} NaN/inf values ({per_split})"
        if key == "out_of_range":
            pixels = sum(int(self.state(s).out_of_range_pixels) for s in counts)
            return f"{sum(counts.values())} masks contain {pixels} pixels with out-of-range label ids ({per_split})"
        return f"{sum(counts.values())} masks have no labelled class pixel ({per_split})"

    def _total(self, split: str, key: str) -> int:
        st = self.state(split)
        return int(st.images if key == "nonfinite" else st.masks)
