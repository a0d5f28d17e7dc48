"""Boxes per class, share of images containing each class, classes per image (detection)."""
from __future__ import annotations

import numpy as np

from data_gradients.batch import DetectionBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.class_findings import missing_class_findings
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Histogram, Table

MAX_CLASSES_PER_IMAGE = 30  # classes per image: bins 0..29 and "30 or more"
CLASSES_EDGES = np.arange(MAX_CLASSES_PER_IMAGE + 2, dtype=np.float64)  # bin k = [k, k+1): exactly k classes


def presence(batch: DetectionBatch, n_ids: int) -> np.ndarray:
    """(N, n_ids) number of boxes of each class in each image of the batch (shared by the batch's
    class features: computed once)."""
    return batch.class_counts(n_ids)


@register_feature
class DetectionClassFrequency(FeatureExtractor):
    name = "detection_class_frequency"
    title = "Class frequency"
    description = (
        "Share of all boxes that belong to each class, share of images containing each class at least once, "
        "and the number of distinct classes per image. Rare classes are learned poorly; a class missing "
        "from one split cannot be learned or evaluated there."
    )
    tasks = ("detection",)
    group = "labels"

    def setup(self) -> None:
        n = self.context.n_label_ids
        self.add_state("boxes", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("images_with", np.zeros(n, dtype=np.int64), "sum")
        # per window of the stream
        self.add_state("classes_per_image", np.zeros(MAX_CLASSES_PER_IMAGE + 1, dtype=np.int64), "windows")
        self.add_state("images", 0, "sum")

    def update(self, batch: DetectionBatch, split: str) -> None:
        if len(batch) == 0:
            return
        per_image = presence(batch, self.context.n_label_ids)
        windows = self.stream_windows(batch, split)
        st = self.state(split)
        st.boxes += per_image.sum(axis=0)
        present = per_image > 0
        st.images_with += present.sum(axis=0)
        distinct = np.minimum(present.sum(axis=1), MAX_CLASSES_PER_IMAGE)
        add_counts(st.classes_per_image, windows, distinct)
        st.images += len(batch)

    def compute(self):
        res = self.new_result()
        ids, names, splits = list(self.context.class_ids), self.context.names, self.splits
        res.histograms.append(Histogram(
            key="box_share", title="Share of boxes per class", x_label="class",
            counts={s: self.state(s).boxes[ids].copy() for s in splits}, categories=names, y_label="share of boxes",
        ))
        image_share = {s: self.state(s).images_with[ids] / max(self.state(s).images, 1) for s in splits}
        res.histograms.append(Histogram(
            key="image_share", title="Share of images containing each class", x_label="class",
            counts=image_share, categories=names, y_label="share of images", normalize=False,
        ))
        res.histograms.append(Histogram(
            key="classes_per_image", title="Distinct classes per image", bin_edges=CLASSES_EDGES.copy(),
            x_label=f"classes in the image (last bin: {MAX_CLASSES_PER_IMAGE} or more)", y_label="share of images",
            **self.stream_histogram(splits, lambda st: st.classes_per_image),
        ))
        rows = []
        for i, (cid, name) in enumerate(zip(ids, names)):
            row = [cid, name]
            for s in splits:
                st = self.state(s)
                total = max(int(st.boxes[ids].sum()), 1)
                row += [int(st.boxes[cid]), float(st.boxes[cid] / total), float(image_share[s][i])]
            rows.append(row)
        cols = ["id", "class"] + [f"{c} ({s})" for s in splits for c in ("boxes", "box share", "image share")]
        res.tables.append(Table(key="per_class", title="Boxes and images per class", columns=cols, rows=rows))
        for s in splits:
            st = self.state(s)
            res.scalars.setdefault("classes_present", {})[s] = int((st.boxes[ids] > 0).sum())
            centres = np.arange(MAX_CLASSES_PER_IMAGE + 1)
            res.scalars.setdefault("mean_classes_per_image", {})[s] = float(
                (st.classes_per_image.sum(axis=0) * centres).sum() / max(int(st.images), 1))
        res.findings += missing_class_findings({s: self.state(s).boxes for s in splits}, ids, names, "box",
                                               self.context.reference)
        return res

