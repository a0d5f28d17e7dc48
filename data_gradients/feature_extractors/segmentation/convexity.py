"""Convexity of objects per class: perimeter of the convex hull over the perimeter (segmentation).

An object is an 8-connected component of one class. Its perimeter is the length of its
outer contour plus the contours of its holes (OpenCV ``findContours`` with
``RETR_CCOMP``, through pixel centres, diagonal steps counting sqrt(2)); the hull is the
convex hull of the outer contour. Convexity is 1 for convex shapes and falls for
concave, ragged or holed ones (a ring of radii R > r scores R / (R + r)). Digitisation:
axis-aligned rectangles score exactly 1, a filled disk about 0.95 (the 8-direction
contour is a little longer than the circle); an object of one or two pixels scores 1.

Speed: no contour is traced. The components come from the batch's shared view (runs of
the masks joined by union-find) and so does the perimeter: OpenCV's contours are the
boundary of the union of the convex hulls of the object's pixel centres in every 2x2
window, so their total length is a sum of local terms that the runs give in O(runs)
(see :func:`run_perimeters`). The hull is that of the run end points, for all objects at
once (see :func:`run_hull_lengths`). An
object whose convexity lands within 1e-9 of a histogram bin edge is recomputed from its
own contours (:func:`component_convexity`), so bins never differ from OpenCV's by rounding.
"""
from __future__ import annotations

from typing import List, Sequence

import cv2
import numpy as np

from data_gradients.batch import SegmentationBatch, run_kernels
from data_gradients.batch.segmentation_view import SegmentationView
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
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


def run_perimeters(view: SegmentationView) -> np.ndarray:
    """Length of the contours (outer and holes, as OpenCV traces them) of every component of ``view``.

    Contour steps join 8-adjacent pixel centres. An axis step between two pixels of the
    object is walked 2 - (number of the two 2x2 windows beside it holding a third object
    pixel) times; a diagonal step once in a window of 3 object pixels, twice in one of 2
    diagonal pixels. Summed over runs: the horizontal steps of a run are walked twice, less
    once per column pair covered from above or below. Runs [a, b] above [c, d] sharing
    columns: of their two end windows, an end where a == c (b == d) holds one vertical step
    walked once, otherwise one diagonal step of a 3-pixel window; runs touching only at a
    corner hold a 2-pixel diagonal window: two diagonal steps.
    """
    r, comp = view.runs, view.run_component
    k = len(view.components["cls"])
    x0, x1 = r["x0"], r["x1"]
    if view.compiled:  # the same whole numbers of steps, counted by a compiled loop
        axis, diag = run_kernels.perimeter_counts(comp, k, x0, x1, view.pairs4, view.pairs_diag)
        return axis.astype(np.float64) + diag.astype(np.float64) * np.sqrt(2.0)
    axis, diag = np.zeros(k), np.zeros(k)
    axis += np.bincount(comp, weights=2 * (x1 - x0), minlength=k)
    u, low = view.pairs4
    a, b, c, d = view.pairs4_columns
    covered = (np.maximum(np.minimum(d - 1, b) - np.maximum(c, a - 1) + 1, 0)
               + np.maximum(np.minimum(b - 1, d) - np.maximum(a, c - 1) + 1, 0))
    ends = (a != c).astype(np.int64) + (b != d)  # ends with a diagonal step; the others have a vertical one
    owner = comp[u]
    axis += np.bincount(owner, weights=2 - ends - covered, minlength=k)
    diag += np.bincount(owner, weights=ends, minlength=k)
    diag += 2 * np.bincount(comp[view.pairs_diag[0]], minlength=k)
    return axis + diag * np.sqrt(2.0)


def run_hull_lengths(view: SegmentationView) -> np.ndarray:
    """Perimeter of the convex hull of the pixel centres of every component of ``view``.

    A component covers every row from its top to its bottom, so its hull is bounded by its
    top and bottom rows and by the convex parts of its left chain (leftmost pixel of each
    row) and right chain. A chain point that is not outside the segment joining its
    neighbours is no hull vertex: such points are dropped, all chains at once, until none is left.
    """
    r, comp, cp = view.runs, view.run_component, view.components
    height = cp["height"]
    if height.size == 0:
        return np.zeros(0)
    if view.compiled:  # the same chains and sums, by a compiled loop
        ends, right, left = run_kernels.hull_parts(comp, r["row"], r["x0"], r["x1"], cp["top"], height)
        return ends.astype(np.float64) + right + left
    offset = np.concatenate(([0], np.cumsum(height)[:-1]))
    slot = (offset - cp["top"])[comp] + r["row"]  # (component, row) -> one slot per row of each component
    total = int(height.sum())
    left, right = np.full(total, view.w, dtype=r["x0"].dtype), np.full(total, -1, dtype=r["x1"].dtype)
    np.minimum.at(left, slot, r["x0"])  # ufunc.at is fast only when the dtypes agree
    np.maximum.at(right, slot, r["x1"])
    # int32 chains (half the bytes of each pass) when the products of the convexity test, at most W x H, fit
    ctype = np.int32 if view.w * view.h < 2**31 else np.int64
    left, right = left.astype(ctype, copy=False), right.astype(ctype, copy=False)
    y = (np.arange(total) - np.repeat(offset, height)).astype(ctype)
    first = np.zeros(total, dtype=bool)
    first[offset] = True
    out = (right[offset].astype(np.int64) - left[offset] + right[offset + height - 1] - left[offset + height - 1]).astype(
        np.float64)
    # the right chains, then the left ones mirrored (x -> -x): all bulge to the right
    chains = _convex_chain_lengths(np.concatenate((right, -left)), np.concatenate((y, y)), np.concatenate((first, first)))
    return out + chains[:len(height)] + chains[len(height):]


def _convex_chain_lengths(x, y, first) -> np.ndarray:
    """Length of the convex (bulging right) part of every chain; chains start where ``first``, points in row order
    (first on consecutive rows)."""
    unit = True  # first pass: neighbours one row apart, so the test is 2 x <= x_prev + x_next
    while len(x) > 2:
        inner = ~(first[1:-1] | first[2:])  # neither the first nor the last point of its chain
        if unit:
            drop = 2 * x[1:-1] <= x[:-2] + x[2:]
        else:
            drop = (x[1:-1] - x[:-2]) * (y[2:] - y[:-2]) <= (x[2:] - x[:-2]) * (y[1:-1] - y[:-2])
        drop &= inner
        if unit:
            unit = False
        elif not drop.any():
            break
        keep = np.ones(len(x), dtype=bool)
        np.logical_not(drop, out=keep[1:-1])
        kept = np.flatnonzero(keep)  # one scan of the mask for the three arrays (a boolean index scans it each time)
        x, y, first = x[kept], y[kept], first[kept]
    owner = np.cumsum(first) - 1
    step = np.hypot(np.diff(x).astype(np.float64), np.diff(y).astype(np.float64))
    within = ~first[1:]
    return np.bincount(owner[1:][within], weights=step[within], minlength=int(owner[-1]) + 1 if len(owner) else 0)


def view_convexity(view: SegmentationView) -> np.ndarray:
    """Convexity of every component of ``view`` (the values :func:`component_convexity` gives)."""
    perimeter = run_perimeters(view)
    hull_length = run_hull_lengths(view)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.clip(np.where(perimeter > 0, hull_length / perimeter, 1.0), 0.0, 1.0)
    z = values * N_BINS
    edge = np.rint(z)
    for i in np.flatnonzero((np.abs(z - edge) < 1e-9) & (edge >= 1) & (edge < N_BINS)).tolist():
        values[i] = component_convexity(_component_binary(view, i))[0]  # exact, as OpenCV's contours give it
    return values


def _component_binary(view: SegmentationView, i: int) -> np.ndarray:
    """The binary image of component ``i`` alone, with a one-pixel empty margin."""
    r, cp = view.runs, view.components
    runs = np.flatnonzero(view.run_component == i)
    top, left = int(cp["top"][i]), int(r["x0"][runs].min())
    binary = np.zeros((int(cp["height"][i]) + 2, int(cp["width"][i]) + 2), dtype=np.uint8)
    for row, a, b in zip((r["row"][runs] - top + 1).tolist(), (r["x0"][runs] - left + 1).tolist(),
                         (r["x1"][runs] - left + 2).tolist()):
        binary[row, a:b] = 1
    return binary


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
        # the objects of the classes shown, per window of the stream
        self.add_state("stream", np.zeros(N_BINS, dtype=np.int64), "windows")
        self._shown = self.context.shown_ids

    def update(self, batch: SegmentationBatch, split: str) -> None:
        if len(batch) == 0:
            return
        n_ids = self.context.n_label_ids
        view = batch.view
        values, cls = view_convexity(view), view.components["cls"]
        windows = self.stream_windows(batch, split)
        st = self.state(split)
        bins = convexity_bins(values)
        st.hist += np.bincount(cls * N_BINS + bins, minlength=n_ids * N_BINS)[:n_ids * N_BINS].reshape(n_ids, N_BINS)
        shown = (cls < n_ids) & self._shown[np.minimum(cls, n_ids - 1)]
        add_counts(st.stream, windows[view.components["image"][shown]], bins[shown])
        st.convexity_sum += np.bincount(cls, weights=values, minlength=n_ids)[:n_ids]

    def compute(self):
        res = self.new_result()
        ids = list(self.context.class_ids)
        splits = self.splits
        res.histograms.append(Histogram(
            key="convexity", title="Object convexity (all classes)", x_label="convex hull perimeter / perimeter",
            bin_edges=BIN_EDGES.copy(), y_label="share of objects",
            **self.stream_histogram(splits, lambda st: st.stream),
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
