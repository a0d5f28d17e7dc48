"""Boxes per image and images without boxes (detection)."""
from __future__ import annotations

import numpy as np

from data_gradients.batch import DetectionBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Histogram

MAX_COUNT = 100  # boxes per image: one bin per count 0..99, then one bin ">= 100"
COUNT_EDGES = np.arange(MAX_COUNT + 2, dtype=np.float64)  # bin k = [k, k+1): exactly k boxes


@register_feature
class DetectionBoxCounts(FeatureExtractor):
    name = "detection_box_counts"
    title = "Boxes per image"
    description = (
        "Number of valid boxes in each image, and images without any box (background images). Crowded "
        "images need enough detection slots (anchors, queries, max detections); a split with a different "
        "count distribution or far more background images is not like the others."
    )
    tasks = ("detection",)
    group = "labels"

    def setup(self) -> None:
        self.add_state("per_image_hist", np.zeros(MAX_COUNT + 1, dtype=np.int64), "windows")
        self.add_state("images", 0, "sum")
        self.add_state("boxes", 0, "sum")
        self.add_state("max_boxes", 0, "max")

    def update(self, batch: DetectionBatch, split: str) -> None:
        counts = np.asarray(batch.boxes_per_image, dtype=np.int64)
        if counts.size == 0:
            return
        windows = self.stream_windows(batch, split)
        st = self.state(split)
        add_counts(st.per_image_hist, windows, np.minimum(counts, MAX_COUNT))
        st.images += int(counts.size)
        st.boxes += int(counts.sum())
        st.max_boxes = max(int(st.max_boxes), int(counts.max()))

    def compute(self):
        res = self.new_result()
        splits = self.splits
        res.histograms.append(Histogram(
            key="boxes_per_image", title="Boxes per image", bin_edges=COUNT_EDGES.copy(),
            x_label=f"boxes in the image (last bin: {MAX_COUNT} or more)", y_label="share of images",
            **self.stream_histogram(splits, lambda st: st.per_image_hist),
        ))
        for s in splits:
            st = self.state(s)
            n = max(int(st.images), 1)
            empty = int(st.per_image_hist[:, 0].sum())
            values = {
                "images": int(st.images), "boxes": int(st.boxes), "mean_boxes_per_image": st.boxes / n,
                "max_boxes_per_image": int(st.max_boxes), "images_without_boxes": empty,
                "share_images_without_boxes": empty / n,
            }
            for key, value in values.items():
                res.scalars.setdefault(key, {})[s] = value
        return res
