"""Where each class lies in the image: mean coverage on a fixed grid (segmentation)."""
from __future__ import annotations

from typing import ClassVar, Tuple

import numpy as np

from data_gradients.batch import SegmentationBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Heatmap


@register_feature
class SegmentationClassHeatmap(FeatureExtractor):
    """Per class, the mean over images of the share of each grid cell covered by the class.

    Cell ``(gy, gx)`` of an H x W image holds the rows ``y`` with ``y * G // H == gy`` and
    the columns ``x`` with ``x * G // W == gx``, so images of any size map onto the same
    G x G grid. An image smaller than G in a dimension leaves some cells without pixels;
    such an image does not count for those cells (hence a per-cell image count).
    """

    name = "segmentation_class_heatmap"
    title = "Class location heatmap"
    description = (
        "For each class, how much of each region of the image it covers on average (image resized to a "
        "fixed grid; 1 = always fully covered). A class stuck to one region (sky at the top, road at the "
        "bottom) lets a model learn position instead of appearance; flips and crops will change it."
    )
    tasks = ("segmentation",)
    group = "labels"

    grid: ClassVar[int] = 32

    def setup(self) -> None:
        g = self.grid
        self.add_state("coverage_sum", np.zeros((self.context.n_label_ids, g, g), dtype=np.float64), "sum")
        self.add_state("cell_images", np.zeros((g, g), dtype=np.int64), "sum")
        self.add_state("images", 0, "sum")

    def _cells(self, h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
        """(H, W) grid cell index of each pixel and (G*G,) pixel count of each cell."""
        g = self.grid
        cy = np.arange(h, dtype=np.int64) * g // h
        cx = np.arange(w, dtype=np.int64) * g // w
        cell_pixels = np.outer(np.bincount(cy, minlength=g), np.bincount(cx, minlength=g)).ravel()
        return cy[:, None] * g + cx[None, :], cell_pixels

    def update(self, batch: SegmentationBatch, split: str) -> None:
        n, h, w = batch.masks.shape
        if n == 0:
            return
        g2 = self.grid * self.grid
        n_ids = self.context.n_label_ids
        cell, cell_pixels = self._cells(h, w)
        # one bincount over (class, cell) for the whole batch: all samples share H, W, so
        # the sum over samples of (pixels / cell pixels) is (summed pixels) / cell pixels.
        # Not-counted pixels (-1) land in the first G*G slots, which are dropped.
        idx = batch.masks.astype(np.int64)
        idx += 1
        idx *= g2
        idx += cell
        counts = np.bincount(idx.ravel(), minlength=(n_ids + 1) * g2)[g2:].reshape(n_ids, g2)
        filled = cell_pixels > 0
        share = np.zeros((n_ids, g2), dtype=np.float64)
        share[:, filled] = counts[:, filled] / cell_pixels[filled]
        st = self.state(split)
        st.coverage_sum += share.reshape(n_ids, self.grid, self.grid)
        st.cell_images += n * filled.reshape(self.grid, self.grid)
        st.images += n

    def compute(self):
        res = self.new_result()
        edges = np.linspace(0.0, 1.0, self.grid + 1)
        maps = {}
        for s in self.splits:
            st = self.state(s)
            mean = st.coverage_sum / np.maximum(st.cell_images, 1)
            maps[s] = {name: np.clip(mean[cid], 0.0, 1.0) for cid, name in zip(self.context.class_ids, self.context.names)}
        res.heatmaps.append(Heatmap(
            key="coverage", title="Where each class lies (mean coverage per cell)", maps=maps,
            x_label="x / image width", y_label="y / image height (top = 0)",
            x_edges=edges, y_edges=edges, value_label="mean share of cell covered",
        ))
        res.data = {"grid": self.grid}
        return res
