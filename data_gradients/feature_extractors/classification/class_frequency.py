"""Images per class, label cardinality (multi-label) and bad label ids (classification)."""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from data_gradients.batch.classification import ClassificationBatch
from data_gradients.feature_extractors.base import FeatureExtractor, keep_smallest
from data_gradients.feature_extractors.class_findings import missing_class_findings
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Finding, Histogram, Table

MAX_CARDINALITY_BIN = 10  # labels per image: bins 0..9 and "10 or more"
CARDINALITY_EDGES = np.arange(MAX_CARDINALITY_BIN + 2, dtype=np.float64)  # bin k = [k, k+1): exactly k labels
MAX_IDS = 20  # sample ids kept per problem and split: the smallest ids, whatever the batching


@register_feature
class ClassificationClassFrequency(FeatureExtractor):
    name = "classification_class_frequency"
    title = "Class frequency"
    description = (
        "Number of images labelled with each class and its share of all labels. Strong imbalance means the "
        "model sees rare classes too seldom (consider re-sampling or loss weights); a class missing from a "
        "split cannot be learned or evaluated there. Multi-label data also shows the labels per image."
    )
    tasks = ("classification",)
    group = "labels"

    def setup(self) -> None:
        self.add_state("images_with", np.zeros(self.context.n_label_ids, dtype=np.int64), "sum")
        self.add_state("images", 0, "sum")
        self.add_state("cardinality", np.zeros(MAX_CARDINALITY_BIN + 1, dtype=np.int64), "windows")  # per window
        self.add_state("multi_label", 0, "max")
        self.add_state("out_of_range_samples", 0, "sum")
        self.add_state("out_of_range_values", 0, "sum")
        self.add_state("out_of_range_ids", [], "smallest", cap=MAX_IDS)

    def update(self, batch: ClassificationBatch, split: str) -> None:
        windows = self.stream_windows(batch, split)
        st = self.state(split)
        per_image = batch.labels.sum(axis=1)
        st.images_with += batch.labels.sum(axis=0)
        st.images += len(batch)
        add_counts(st.cardinality, windows, np.minimum(per_image, MAX_CARDINALITY_BIN))
        st.multi_label = max(st.multi_label, int(batch.multi_label))
        bad = np.asarray(batch.out_of_range_labels) > 0
        if bad.any():
            ids = np.asarray(batch.sample_ids)[bad].tolist()
            st.out_of_range_samples += len(ids)
            st.out_of_range_values += int(np.sum(batch.out_of_range_labels))
            st.out_of_range_ids = keep_smallest(st.out_of_range_ids, [(i, i) for i in ids], MAX_IDS)

    def compute(self):
        res = self.new_result()
        ids = list(self.context.class_ids)
        names = self.context.names
        splits = self.splits
        multi = any(self.state(s).multi_label for s in splits)
        res.histograms.append(Histogram(
            key="class_share", title="Share of labels per class", x_label="class",
            counts={s: self.state(s).images_with[ids].copy() for s in splits}, categories=names,
            y_label="share of labels",
        ))
        if multi:
            res.histograms.append(Histogram(
                key="label_cardinality", title="Labels per image", bin_edges=CARDINALITY_EDGES.copy(),
                x_label=f"classes in the image (last bin: {MAX_CARDINALITY_BIN} or more)", y_label="share of images",
                **self.stream_histogram(splits, lambda st: st.cardinality),
            ))
        res.tables.append(self._class_table(ids, names, splits))
        for s in splits:
            st = self.state(s)
            counts = st.images_with[ids]
            present = counts[counts > 0]
            scalars = {
                "images": int(st.images),
                "classes_present": int(present.size),
                "imbalance_ratio": float(present.max() / present.min()) if present.size else None,
                "images_without_label": int(st.cardinality[:, 0].sum()),
            }
            if multi:
                scalars["mean_labels_per_image"] = float(counts.sum() / max(int(st.images), 1))
            for name, value in scalars.items():
                res.scalars.setdefault(name, {})[s] = value
        res.findings += missing_class_findings({s: self.state(s).images_with for s in splits}, ids, names,
                                               "labelled image", self.context.reference)
        res.findings += self._out_of_range(splits)
        return res

    def _class_table(self, ids, names, splits) -> Table:
        rows = []
        for cid, name in zip(ids, names):
            row = [cid, name]
            for s in splits:
                st = self.state(s)
                n = int(st.images_with[cid])
                row += [n, n / max(int(st.images_with[ids].sum()), 1), n / max(int(st.images), 1)]
            rows.append(row)
        cols = ["id", "class"] + [f"{c} ({s})" for s in splits for c in ("images", "label share", "image share")]
        return Table(key="per_class", title="Images per class", columns=cols, rows=rows)

    def _out_of_range(self, splits) -> List[Finding]:
        counts: Dict[str, int] = {s: int(self.state(s).out_of_range_samples) for s in splits}
        if sum(counts.values()) == 0:
            return []
        values = sum(int(self.state(s).out_of_range_values) for s in splits)
        per_split = ", ".join(f"{s}: {counts[s]} of {int(self.state(s).images)}" for s in splits)
        return [Finding(
            key="out_of_range", title="Labels with out-of-range class ids", severity="error",
            message=f"{sum(counts.values())} images carry {values} label values that are neither a class id "
                    f"nor ignored ({per_split})",
            why="such labels crash the loss (index out of bounds) or train on garbage; they were not counted "
                "in the class statistics",
            counts=counts, sample_ids={s: [int(i) for i, _ in self.state(s).out_of_range_ids] for s in splits},
        )]
