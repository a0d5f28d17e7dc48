"""Class co-occurrence: in how many images two classes appear together (segmentation).

Per batch, which classes each image contains ((N, classes) bool, from the pixels per image
and class of the batch's shared view), then one matrix product ``P.T @ P`` adds the pair
counts; the diagonal is the number of images containing each class.
"""
from __future__ import annotations

from typing import List

import numpy as np

from data_gradients.batch import SegmentationBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Heatmap, Table

MAX_MATRIX_TABLE = 30  # full matrix as a table up to this many classes; the heatmap always shows all
TOP_PAIRS = 20


@register_feature
class SegmentationCooccurrence(FeatureExtractor):
    name = "segmentation_cooccurrence"
    title = "Class co-occurrence"
    description = (
        "Number of images in which two classes appear together (diagonal: images containing the class). "
        "Classes that almost always appear together let a model use one as a cue for the other (context "
        "bias); classes that never meet in training may be confused when they do."
    )
    tasks = ("segmentation",)
    group = "labels"

    def setup(self) -> None:
        n = self.context.n_label_ids
        self.add_state("pairs", np.zeros((n, n), dtype=np.int64), "sum")
        self.add_state("images", 0, "sum")

    def update(self, batch: SegmentationBatch, split: str) -> None:
        n = len(batch)
        if n == 0:
            return
        present = (batch.view.class_pixels(self.context.n_label_ids) > 0).astype(np.int64)
        st = self.state(split)
        st.pairs += present.T @ present
        st.images += n

    def compute(self):
        res = self.new_result()
        ids = list(self.context.class_ids)
        names = self.context.names
        splits = self.splits
        maps = {}
        for s in splits:
            st = self.state(s)
            m = st.pairs[np.ix_(ids, ids)].astype(np.float64)
            diag = np.diag(m)
            maps[s] = {
                "both / images": m / max(int(st.images), 1),  # share of all images with both classes
                "P(column | row)": m / np.maximum(diag, 1)[:, None],  # share of the row class's images
            }
        edges = np.arange(len(ids) + 1, dtype=np.float64)
        res.heatmaps.append(Heatmap(
            key="cooccurrence", title="Class co-occurrence", maps=maps,
            x_label="class", y_label="class", x_edges=edges, y_edges=edges,
            value_label="share of images", x_categories=names, y_categories=names,
            panel_titles={"both / images": "both classes, share of all images",
                          "P(column | row)": "column class, share of the row class's images"},
        ))
        if len(ids) <= MAX_MATRIX_TABLE:
            for s in splits:
                m = self.state(s).pairs[np.ix_(ids, ids)]
                res.tables.append(Table(
                    key=f"matrix_{s}", title=f"Images containing both classes ({s}; diagonal: images with the class)",
                    columns=["class"] + names, rows=[[name] + [int(v) for v in row] for name, row in zip(names, m)],
                ))
        res.tables.append(self._top_pairs(ids, names, splits))
        for s in splits:
            m = self.state(s).pairs[np.ix_(ids, ids)]
            upper = np.triu(m, 1)
            res.scalars.setdefault("class_pairs_seen_together", {})[s] = int((upper > 0).sum())
        res.data = {"class_ids": ids, "pairs": {s: self.state(s).pairs[np.ix_(ids, ids)] for s in splits}}
        return res

    def _top_pairs(self, ids: List[int], names: List[str], splits) -> Table:
        rows = []
        for s in splits:
            m = self.state(s).pairs[np.ix_(ids, ids)]
            a, b = np.triu_indices(len(ids), 1)
            together = m[a, b]
            order = np.lexsort((b, a, -together))[:TOP_PAIRS]
            for k in order:
                i, j, n = int(a[k]), int(b[k]), int(together[k])
                if n == 0:
                    break
                rows.append([s, names[i], names[j], n, n / max(int(m[i, i]), 1), n / max(int(m[j, j]), 1)])
        return Table(key="top_pairs", title=f"Classes most often together (top {TOP_PAIRS} pairs per split)",
                     columns=["split", "class A", "class B", "images with both", "share of A's images",
                              "share of B's images"], rows=rows)
