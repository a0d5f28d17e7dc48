"""Which classes appear together in an image (detection)."""
from __future__ import annotations

import numpy as np

from data_gradients.batch import DetectionBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.detection.class_frequency import presence
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Heatmap, Table

TOP_PAIRS = 20


@register_feature
class DetectionClassCooccurrence(FeatureExtractor):
    name = "detection_class_cooccurrence"
    title = "Class co-occurrence"
    description = (
        "How often two classes appear in the same image. Cell (row a, column b) of the conditional matrix is "
        "the share of images with class a that also contain class b. Classes that (almost) always come "
        "together let a model use one as a shortcut for the other; pairs never seen together in train are "
        "a risk if they meet in deployment."
    )
    tasks = ("detection",)
    group = "labels"

    def setup(self) -> None:
        n = self.context.n_label_ids
        self.add_state("together", np.zeros((n, n), dtype=np.int64), "sum")  # diagonal: images with the class
        self.add_state("images", 0, "sum")

    def update(self, batch: DetectionBatch, split: str) -> None:
        if len(batch) == 0:
            return
        present = (presence(batch, self.context.n_label_ids) > 0).astype(np.int64)
        st = self.state(split)
        st.together += present.T @ present
        st.images += len(batch)

    def compute(self):
        res = self.new_result()
        ids, names, splits = list(self.context.class_ids), self.context.names, self.splits
        grid = np.ix_(ids, ids)
        edges = np.arange(len(ids) + 1) - 0.5  # cell k centred on k: the k-th counted class
        joint, conditional = {}, {}
        for s in splits:
            st = self.state(s)
            m = st.together[grid].astype(np.float64)
            joint[s] = {"images with both": m / max(int(st.images), 1)}
            conditional[s] = {"P(column | row)": m / np.maximum(np.diag(m)[:, None], 1.0)}
        axis = "class"
        res.heatmaps.append(Heatmap(
            key="joint", title="Share of images containing both classes", maps=joint, x_label=axis, y_label=axis,
            x_edges=edges, y_edges=edges, value_label="share of images",
            x_categories=names, y_categories=names,
        ))
        res.heatmaps.append(Heatmap(
            key="conditional", title="Share of images with the row class that also contain the column class",
            maps=conditional, x_label=axis, y_label=axis, x_edges=edges, y_edges=edges, value_label="share",
            x_categories=names, y_categories=names,
        ))
        res.tables.append(self._top_pairs(ids, names, splits))
        res.data = {"classes": names, "together": {s: self.state(s).together[grid].tolist() for s in splits}}
        return res

    def _top_pairs(self, ids, names, splits) -> Table:
        """The most frequent pairs (by images, summed over splits) with their shares per split."""
        n = len(ids)
        upper = np.triu_indices(n, k=1)
        total = sum(self.state(s).together[np.ix_(ids, ids)] for s in splits) if splits else np.zeros((n, n))
        order = np.lexsort((upper[1], upper[0], -np.asarray(total)[upper]))[:TOP_PAIRS]
        rows = []
        for k in order:
            a, b = int(upper[0][k]), int(upper[1][k])
            if total[a, b] == 0:
                break
            row = [f"{names[a]} + {names[b]}"]
            for s in splits:
                t = self.state(s).together
                ca, cb, both = int(t[ids[a], ids[a]]), int(t[ids[b], ids[b]]), int(t[ids[a], ids[b]])
                row += [both, both / ca if ca else None, both / cb if cb else None]
            rows.append(row)
        cols = ["pair (a + b)"] + [f"{c} ({s})" for s in splits for c in ("images with both", "P(b | a)", "P(a | b)")]
        return Table(key="top_pairs", title=f"Most frequent class pairs (top {TOP_PAIRS})", columns=cols, rows=rows)
