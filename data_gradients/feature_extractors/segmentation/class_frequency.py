"""Class pixel share and share of images containing each class (segmentation)."""
from __future__ import annotations

import numpy as np

from data_gradients.batch import SegmentationBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.class_findings import missing_class_findings
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Histogram, Table


@register_feature
class SegmentationClassFrequency(FeatureExtractor):
    name = "segmentation_class_frequency"
    title = "Class frequency"
    description = (
        "Share of all labelled pixels that belong to each class, and share of images in which each class "
        "appears at least once. A class with a large image share but a tiny pixel share is made of small "
        "objects; a class missing from one split cannot be learned or evaluated there."
    )
    tasks = ("segmentation",)
    group = "labels"

    def setup(self) -> None:
        n = self.context.n_label_ids
        self.add_state("pixels", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("images_with", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("images", 0, "sum")

    def update(self, batch: SegmentationBatch, split: str) -> None:
        # pixels per (image, class): summed run lengths, from the batch's shared view
        per_image = batch.view.class_pixels(self.context.n_label_ids)
        st = self.state(split)
        st.pixels += per_image.sum(axis=0)
        st.images_with += (per_image > 0).sum(axis=0)
        st.images += len(batch)

    def compute(self):
        res = self.new_result()
        ids = list(self.context.class_ids)
        names = self.context.names
        splits = self.splits
        res.histograms.append(Histogram(
            key="pixel_share", title="Share of labelled pixels per class", x_label="class",
            counts={s: self.state(s).pixels[ids] for s in splits}, categories=names,
        ))
        image_share = {s: self.state(s).images_with[ids] / max(self.state(s).images, 1) for s in splits}
        res.histograms.append(Histogram(
            key="image_share", title="Share of images containing each class", x_label="class",
            counts=image_share, categories=names, y_label="share of images", normalize=False,
        ))
        rows = []
        for i, (cid, name) in enumerate(zip(ids, names)):
            row = [cid, name]
            for s in splits:
                st = self.state(s)
                total = max(int(st.pixels[ids].sum()), 1)
                row += [int(st.pixels[cid]), float(st.pixels[cid] / total), float(image_share[s][i])]
            rows.append(row)
        cols = ["id", "class"] + [f"{c} ({s})" for s in splits for c in ("pixels", "pixel share", "image share")]
        res.tables.append(Table(key="per_class", title="Pixels and images per class", columns=cols, rows=rows))
        for s in splits:
            present = int((self.state(s).pixels[ids] > 0).sum())
            res.scalars.setdefault("classes_present", {})[s] = present
        res.findings += missing_class_findings({s: self.state(s).pixels for s in splits}, ids, names, "labelled pixel",
                                               self.context.reference)
        return res

