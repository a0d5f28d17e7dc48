"""Where each class lies in the image: mean coverage on a fixed grid (segmentation)."""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from data_gradients.batch import SegmentationBatch, run_kernels
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

    Speed: the pixels per (class, cell) are summed from the horizontal runs of the batch's
    shared view (:mod:`data_gradients.batch.segmentation_view`), not from the pixels.
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

    def _cell_pixels(self, h: int, w: int) -> np.ndarray:
        """(G*G,) pixel count of each grid cell of an H x W image."""
        g = self.grid
        cy = np.arange(h, dtype=np.int64) * g // h
        cx = np.arange(w, dtype=np.int64) * g // w
        return np.outer(np.bincount(cy, minlength=g), np.bincount(cx, minlength=g)).ravel()

    def update(self, batch: SegmentationBatch, split: str) -> None:
        n, h, w = batch.mask_shape
        if n == 0:
            return
        g, g2 = self.grid, self.grid * self.grid
        n_ids = self.context.n_label_ids
        cell_pixels = self._cell_pixels(h, w)
        # all samples share H, W, so the sum over samples of (pixels / cell pixels) is
        # (summed pixels) / cell pixels: the pixels of each (class, cell) of the batch, from its runs
        if batch.view.compiled:
            counts = run_kernels.cell_counts(batch.view.runs, n_ids, g, h, w).reshape(n_ids, g2)
        else:
            counts = _run_cell_counts(batch.view.runs, n_ids, g, h, w).reshape(n_ids, g2)
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


def _run_cell_counts(runs, n_ids: int, g: int, h: int, w: int) -> np.ndarray:
    """(n_ids, G, G) int64 pixels of each class in each grid cell, summed over the runs' images.

    A run (one row, columns x0..x1) lies in one grid row; it covers its first and last grid
    columns partly and those between fully: partial counts go straight to their cell, full
    ones through a difference array along the grid columns, times the cell width.
    """
    width = np.bincount(np.arange(w, dtype=np.int64) * g // w, minlength=g)
    row = runs["row"] - runs["row"] // h * h  # the row in its image (numpy's remainder is ~5x its floor division)
    # (class, grid row) -> a line of g + 1 slots; intp, as numpy's bincount converts int32 keys slowly
    key = ((runs["cls"] * g + row * g // h) * (g + 1)).astype(np.intp)
    x0, x1 = runs["x0"], runs["x1"]
    c0, c1 = x0 * g // w, x1 * g // w  # grid columns of the run's ends (arithmetic, no gathers)
    size = n_ids * g * (g + 1)
    many = np.flatnonzero(c0 != c1)
    km, c0m, c1m = key[many], c0[many], c1[many]
    # grid column c starts at column ceil(c * w / g); the partial counts are integers, so their float sums are exact
    ends = np.minimum(x1, (c0 * w + w + g - 1) // g - 1)  # the run's last column in its first grid column
    part = (np.bincount(key + c0, weights=ends - x0 + 1, minlength=size)
            + np.bincount(km + c1m, weights=x1[many] - (c1m * w + g - 1) // g + 1, minlength=size))
    full = np.bincount(km + c0m + 1, minlength=size) - np.bincount(km + c1m, minlength=size)
    full = np.cumsum(full.reshape(n_ids * g, g + 1), axis=1)[:, :g] * width
    counts = part.reshape(n_ids * g, g + 1)[:, :g].astype(np.int64) + full
    return counts.reshape(n_ids, g, g)
