"""Where each class lies in the image: box coverage on a fixed grid (detection)."""
from __future__ import annotations

import numpy as np

from data_gradients.batch import DetectionBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Heatmap


def cell_overlap(lo: np.ndarray, hi: np.ndarray, grid: int) -> np.ndarray:
    """(M, grid) share of each of ``grid`` equal cells of [0, 1] covered by the intervals [lo, hi]."""
    edges = np.arange(grid + 1, dtype=np.float64) / grid
    inside = np.minimum(hi[:, None], edges[None, 1:]) - np.maximum(lo[:, None], edges[None, :-1])
    return np.maximum(inside, 0.0) * grid


@register_feature
class DetectionClassHeatmap(FeatureExtractor):
    """Per class, the mean over images of how many of its boxes cover each grid cell.

    Boxes (already clipped to the image) are mapped to a G x G grid over the image, so
    images of any size share the grid. A box covering a quarter of a cell adds 0.25 to it;
    overlapping boxes add up, so a value is the mean number of the class's boxes covering
    a point of the cell (below 1 it reads as the share of images where the cell is covered).
    """

    name = "detection_class_heatmap"
    title = "Box location heatmap"
    description = (
        "For each class, how densely its boxes cover each region of the image, averaged over all images "
        "(image mapped to a fixed grid; 1 = one box over that spot in every image). A class stuck to one "
        "region lets a model learn position instead of appearance; flips and crops will change it."
    )
    tasks = ("detection",)
    group = "labels"

    grid: int = 32

    def setup(self) -> None:
        g = self.grid
        self.add_state("coverage_sum", np.zeros((self.context.n_label_ids, g, g), dtype=np.float64), "sum")
        self.add_state("images", 0, "sum")

    def update(self, batch: DetectionBatch, split: str) -> None:
        st = self.state(split)
        st.images += len(batch)
        if len(batch.boxes) == 0:
            return
        w, h = float(batch.width), float(batch.height)
        ox = cell_overlap(batch.boxes[:, 0] / w, batch.boxes[:, 2] / w, self.grid)  # (M, G) columns
        oy = cell_overlap(batch.boxes[:, 1] / h, batch.boxes[:, 3] / h, self.grid)  # (M, G) rows
        present, inverse = np.unique(batch.box_classes, return_inverse=True)
        # per present class: sum over its boxes of outer(oy, ox), as one batched matrix product
        weights = np.zeros((len(present), len(inverse)), dtype=np.float64)
        weights[inverse, np.arange(len(inverse))] = 1.0
        rows = weights[:, :, None] * oy[None]  # (C, M, G)
        st.coverage_sum[present] += np.matmul(rows.transpose(0, 2, 1), ox)  # (C, G, G)

    def compute(self):
        res = self.new_result()
        edges = np.linspace(0.0, 1.0, self.grid + 1)
        maps = {}
        ids = list(self.context.class_ids)
        for s in self.splits:
            st = self.state(s)
            mean = st.coverage_sum / max(int(st.images), 1)
            maps[s] = {"all classes": mean[ids].sum(axis=0)}
            maps[s].update({name: mean[cid] for cid, name in zip(ids, self.context.names)})
        res.heatmaps.append(Heatmap(
            key="coverage", title="Where the boxes of each class lie (mean box coverage per cell)", maps=maps,
            x_label="x / image width", y_label="y / image height (top = 0)",
            x_edges=edges, y_edges=edges, value_label="mean boxes covering the cell",
        ))
        res.data = {"grid": self.grid}
        return res
