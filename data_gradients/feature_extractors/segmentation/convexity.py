"""Convexity of objects per class: perimeter of the convex hull over the perimeter (segmentation).

An object is an 8-connected component of one class. Its perimeter is the length of its
outer contour plus the contours of its holes (OpenCV ``findContours`` with
``RETR_CCOMP``, through pixel centres, diagonal steps counting sqrt(2)); the hull is the
convex hull of the outer contour. Convexity is 1 for convex shapes and falls for
concave, ragged or holed ones (a ring of radii R > r scores R / (R + r)). Digitisation:
axis-aligned rectangles score exactly 1, a filled disk about 0.95 (the 8-direction
contour is a little longer than the circle); an object of one or two pixels scores 1.

Speed: per class, one ``findContours`` call on the tile of the images containing the
class (see :mod:`class_masks`); contour and hull lengths are computed for all contours at
once with numpy. The only loop over objects is one ``cv2.convexHull`` call per contour of
more than three points (no vectorised hull exists in numpy/OpenCV).
"""
from __future__ import annotations

from typing import List, Sequence

import cv2
import numpy as np

from data_gradients.batch import SegmentationBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.segmentation.class_masks import class_binary, class_tiles
from data_gradients.results import Heatmap, Histogram, Table

N_BINS = 20
BIN_EDGES = np.linspace(0.0, 1.0, N_BINS + 1)
NON_CONVEX_BELOW = 0.8  # share of objects below this convexity is reported per class


def closed_lengths(polygons: Sequence[np.ndarray]) -> np.ndarray:
    """Perimeter of each closed polygon (all (m, 1, 2) as OpenCV gives them, or all (m, 2)), all at once."""
    if len(polygons) == 0:
        return np.zeros(0)
    sizes = np.fromiter((len(p) for p in polygons), dtype=np.int64, count=len(polygons))
    pts = np.concatenate(polygons).reshape(-1, 2).astype(np.float64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    nxt = np.arange(1, len(pts) + 1)
    nxt[starts + sizes - 1] = starts  # the last point of a polygon joins its first
    d = pts[nxt] - pts
    return np.add.reduceat(np.hypot(d[:, 0], d[:, 1]), starts)


def component_convexity(binary: np.ndarray) -> np.ndarray:
    """Convexity of every 8-connected component of a binary uint8 image (any order)."""
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return np.zeros(0)
    parent = hierarchy[0][:, 3]
    lengths = closed_lengths(contours)
    outer = np.flatnonzero(parent < 0)  # RETR_CCOMP: outer borders on top, holes below their component
    owner = np.where(parent < 0, np.arange(len(contours)), parent)
    perimeter = np.bincount(owner, weights=lengths, minlength=len(contours))[outer]
    hull_length = lengths[outer].copy()  # polygons of <= 3 points are their own hull
    big = [i for i, k in enumerate(outer.tolist()) if len(contours[k]) > 3]
    if big:
        hull_length[big] = closed_lengths([cv2.convexHull(contours[outer[i]]) for i in big])
    with np.errstate(invalid="ignore", divide="ignore"):
        convexity = np.where(perimeter > 0, hull_length / perimeter, 1.0)
    return np.clip(convexity, 0.0, 1.0)


def convexity_bins(values: np.ndarray) -> np.ndarray:
    """Bin index on :data:`BIN_EDGES`; 1.0 goes to the last bin."""
    return np.minimum((values * N_BINS).astype(np.int64), N_BINS - 1)


@register_feature
class SegmentationConvexity(FeatureExtractor):
    name = "segmentation_convexity"
    title = "Object convexity"
    description = (
        "Convexity of each object (8-connected region of one class): perimeter of its convex hull over its "
        "perimeter, holes included. 1 = convex (a box, a disk scores ~0.95); low values = ragged, concave "
        "or holed shapes (a ring with radii R > r scores R / (R + r)). Low-convexity classes have detailed "
        "boundaries that downscaling and coarse models lose."
    )
    tasks = ("segmentation",)
    group = "labels"

    def setup(self) -> None:
        n = self.context.n_label_ids
        self.add_state("hist", np.zeros((n, N_BINS), dtype=np.int64), "sum")
        self.add_state("convexity_sum", np.zeros(n, dtype=np.float64), "sum")

    def update(self, batch: SegmentationBatch, split: str) -> None:
        if len(batch) == 0:
            return
        n_ids = self.context.n_label_ids
        tile, presence = class_tiles(batch, n_ids)
        st = self.state(split)
        for c in np.flatnonzero(presence.any(axis=0)):
            binary, _ = class_binary(tile, np.flatnonzero(presence[:, c]), int(c))
            values = component_convexity(binary)
            st.hist[c] += np.bincount(convexity_bins(values), minlength=N_BINS)
            st.convexity_sum[c] += float(values.sum())

    def compute(self):
        res = self.new_result()
        ids = list(self.context.class_ids)
        splits = self.splits
        res.histograms.append(Histogram(
            key="convexity", title="Object convexity (all classes)", x_label="convex hull perimeter / perimeter",
            counts={s: self.state(s).hist[ids].sum(axis=0) for s in splits}, bin_edges=BIN_EDGES.copy(),
            y_label="share of objects",
        ))
        maps = {}
        for s in splits:
            hist = self.state(s).hist[ids].astype(np.float64)
            maps[s] = {"convexity": hist / np.maximum(hist.sum(axis=1, keepdims=True), 1)}
        res.heatmaps.append(Heatmap(
            key="convexity_by_class", title="Object convexity per class", maps=maps,
            x_label="convex hull perimeter / perimeter", y_label="class", x_edges=BIN_EDGES.copy(),
            y_edges=np.arange(len(ids) + 1, dtype=np.float64), value_label="share of the class's objects",
            y_categories=list(self.context.names),
        ))
        res.tables.append(self._class_table(ids, splits))
        below = int(round(NON_CONVEX_BELOW * N_BINS))
        for s in splits:
            st = self.state(s)
            total = int(st.hist[ids].sum())
            res.scalars.setdefault("objects", {})[s] = total
            res.scalars.setdefault("mean_convexity", {})[s] = float(st.convexity_sum[ids].sum() / total) if total else None
            res.scalars.setdefault(f"share_below_{NON_CONVEX_BELOW}", {})[s] = (
                float(st.hist[ids][:, :below].sum() / total) if total else None)
        return res

    def _class_table(self, ids: List[int], splits) -> Table:
        below = int(round(NON_CONVEX_BELOW * N_BINS))
        rows = []
        for cid, name in zip(ids, self.context.names):
            row = [cid, name]
            for s in splits:
                st = self.state(s)
                k = int(st.hist[cid].sum())
                row += [k, float(st.convexity_sum[cid] / k) if k else None,
                        float(st.hist[cid, :below].sum() / k) if k else None]
            rows.append(row)
        cols = ["id", "class"] + [f"{c} ({s})" for s in splits
                                  for c in ("objects", "mean convexity", f"share < {NON_CONVEX_BELOW}")]
        return Table(key="per_class", title="Object convexity per class", columns=cols, rows=rows)
