"""Label structures of a segmentation batch that several features need, built lazily, once per batch.

Everything here derives from the horizontal *runs* of the masks: a run is a maximal
stretch of one class id in one row of one image (``-1``, not counted, makes no run).
A 1280x720 street scene has ~13 000 runs instead of 0.92 M pixels, so after one pass
over the pixels (the run starts) every statistic costs O(runs):

* pixels per image and class: the run lengths, summed;
* run pairs of adjacent rows of one image with the same class: ``pairs4`` share a column
  (4-adjacent), ``pairs_diag`` only touch at a corner; both come from merges of sorted run
  starts (the row above is a partition of the columns into runs; :mod:`run_ops`);
* 8-connected components (objects): union-find over the runs joined by those pairs,
  vectorised (each run hooked to the run above its first column, the rest by rounds of
  hooking roots to the smallest root they touch and pointer jumping);
* survival of a 3x3 erosion (pixels outside the image count as background): a pixel of
  run R survives when its row above and below hold the class over its columns x-1..x+1,
  i.e. when an interval ``[max(a, c) + 1, min(b, d) - 1]`` of a pair (R, run above)
  meets such an interval of a pair (R, run below).

Where the C extension is built (:mod:`run_kernels`), compiled loops give the same results in a
few passes: one scan of the masks for the runs, one merge per pair of rows for the pairs and the
erosion survival, a sequential union-find; the numpy ways below stay for the rest.

The view belongs to the batch (:attr:`SegmentationBatch.view`); features read it and
never change it.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from data_gradients.batch import run_kernels, run_ops


class _once:
    """Like ``functools.cached_property`` without its lock: before Python 3.12 that lock is one per
    property for all instances, so worker threads building views of different batches would wait
    for each other. Each view belongs to one batch, read by one thread."""

    def __init__(self, fn):
        self.fn, self.name, self.__doc__ = fn, fn.__name__, fn.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)  # later reads find the instance attribute first
        return value


class SegmentationView:
    """Runs, run pairs, components and erosion survival of ``masks`` (N, H, W) int, -1 = not counted."""

    def __init__(self, masks: Optional[np.ndarray], lookup: Optional[Tuple[np.ndarray, np.ndarray]] = None):
        """``lookup``: optional (uint8 labels, table label -> id or -1) with ``masks == table[labels]``;
        runs are then found on the labels (a quarter of the bytes) and ``masks`` may be None.
        Counted runs are the same either way: counted ids are their own labels, and splitting a
        run of not counted pixels changes nothing counted."""
        if masks is None and lookup is None:
            raise ValueError("SegmentationView needs masks or a label lookup")
        self.masks = masks
        self.lookup = lookup
        self.n, self.h, self.w = masks.shape if masks is not None else lookup[0].shape

    @property
    def compiled(self) -> bool:
        """Whether the compiled loops (:mod:`run_kernels`) take the runs' pairs, components and erosion here (and
        convexity and the heatmap in their features): built, and the batch is below 2**31 pixels (int32 runs)."""
        return run_kernels.KERNELS is not None and self._all_runs["row"].dtype == np.int32

    # ------------------------------------------------------------------ runs
    @_once
    def _all_runs(self) -> Dict[str, np.ndarray]:
        """Every run of the (N*H, W) image, counted or not: ``row``, ``x0``, ``x1``, ``value`` (and ``label`` from a
        lookup); ``start`` (flat index) from numpy's scan, the counted runs (:attr:`runs`) under ``counted`` from the
        compiled one.

        Indices are int32 when the batch has fewer than 2**31 pixels (half the memory traffic of int64).
        """
        shape = (self.n * self.h, self.w)
        size = shape[0] * shape[1]
        itype = np.int32 if size < 2**31 - 1 else np.int64
        if size == 0:
            empty = np.zeros(0, dtype=itype)
            return {"start": empty, "row": empty, "x0": empty, "x1": empty, "value": empty}
        if run_kernels.KERNELS is not None and itype is np.int32:  # one compiled scan, counted runs apart
            if self.lookup is not None and self.lookup[1].dtype == np.int32 and self.lookup[1].shape == (256,):
                return run_kernels.mask_runs(self.lookup[0].reshape(shape), self.h, self.lookup[1])
            if self.lookup is None and self.masks.dtype == np.int32:
                return run_kernels.mask_runs(self.masks.reshape(shape), self.h)
        starts = run_ops.scratch("starts", shape)
        starts[:, 0] = 1
        value = None
        flat = None if self.lookup is not None else self.masks.reshape(shape)
        if self.lookup is not None:  # the uint8 labels masks were looked up from: compared as they are
            labels = np.ascontiguousarray(self.lookup[0]).reshape(shape)
            run_ops.differ(labels, starts)
            start, row, x0 = run_ops.nonzero_cells(starts, itype)
            label, table = labels.ravel()[start], self.lookup[1]  # the labels starting runs, looked up
            if table.dtype == np.int32 and table.shape == (256,):  # by OpenCV: numpy would widen them first
                value = cv2.LUT(label.reshape(1, -1), table).reshape(-1)
            else:
                value = table[label]
            value = value.astype(itype, copy=False)
        elif flat.dtype == np.int32:  # the canonical batch: id + 1 as uint8 (saturating), compared by OpenCV
            small = cv2.convertScaleAbs(flat, dst=run_ops.scratch("small", flat.shape), alpha=1, beta=1)
            run_ops.differ(small, starts)
            start, row, x0 = run_ops.nonzero_cells(starts, itype)
            value = small.ravel()[start].astype(itype)
            if (value == 255).any():  # an id too large for uint8: compare the ids themselves
                value = None
            else:
                value -= 1
        if value is None:  # (only when masks were given: a lookup always sets value)
            np.not_equal(flat[:, 1:], flat[:, :-1], out=starts.view(bool)[:, 1:])
            start, row, x0 = run_ops.nonzero_cells(starts, itype)
            value = flat.ravel()[start].astype(itype)
        x1 = np.empty_like(x0)  # a run ends before the next one starts: runs never cross a row end
        x1[:-1] = start[1:] - row[:-1] * itype(self.w) - 1
        x1[-1] = self.w - 1
        out = {"start": start, "row": row, "x0": x0, "x1": x1, "value": value}
        if self.lookup is not None:
            out["label"] = label
        return out

    def label_values(self) -> Optional[np.ndarray]:
        """(256,) bool: the uint8 label values present in the batch (every pixel lies in a run, and a run holds
        the value at its start), or None when the view was built from masks, not from a label lookup."""
        if self.lookup is None:
            return None
        present = np.zeros(256, dtype=bool)
        present[self._all_runs["label"]] = True
        return present

    def label_pixels(self, flagged: np.ndarray) -> np.ndarray:
        """(N,) int64: pixels of each image whose uint8 label value v has ``flagged[v]`` ((256,) bool), summed
        over the runs (a run holds the label at its start); views built from a label lookup only."""
        if self.lookup is None:
            raise ValueError("label_pixels needs a view built from a label lookup")
        if self.n * self.h * self.w == 0:
            return np.zeros(self.n, dtype=np.int64)
        a = self._all_runs
        hit = np.flatnonzero(flagged[a["label"]])
        if hit.size == 0:
            return np.zeros(self.n, dtype=np.int64)
        image = a["row"][hit] // a["row"].dtype.type(self.h)
        counts = np.bincount(image, weights=a["x1"][hit] - a["x0"][hit] + 1, minlength=self.n)
        return counts.astype(np.int64)  # whole numbers below 2**53: exact

    @_once
    def runs(self) -> Dict[str, np.ndarray]:
        """Counted runs in raster order: ``row`` (image * H + y), ``x0``, ``x1`` (inclusive), ``cls``, ``image``."""
        a = self._all_runs
        if "counted" in a:  # found by the compiled scan
            return a["counted"]
        keep = np.flatnonzero(a["value"] >= 0)
        row = a["row"][keep]
        return {"row": row, "x0": a["x0"][keep], "x1": a["x1"][keep], "cls": a["value"][keep],
                "image": row // row.dtype.type(self.h) if self.h else row}

    def class_pixels(self, n_ids: int) -> np.ndarray:
        """(N, n_ids) int64: pixels of each class in each image."""
        return self._class_pixels[:, :n_ids] if self._class_pixels.shape[1] >= n_ids else np.pad(
            self._class_pixels, ((0, 0), (0, n_ids - self._class_pixels.shape[1])))

    def counted_pixels(self) -> np.ndarray:
        """(N,) int64: counted pixels of each image."""
        return self._class_pixels.sum(axis=1)

    @_once
    def _class_pixels(self) -> np.ndarray:
        r = self.runs
        k = int(r["cls"].max()) + 1 if r["cls"].size else 0
        counts = np.bincount(r["image"] * k + r["cls"], weights=r["x1"] - r["x0"] + 1, minlength=self.n * k)
        return counts.astype(np.int64).reshape(self.n, k)

    # ------------------------------------------------------------------ pairs of runs in adjacent rows
    @_once
    def _pairs(self) -> Dict[str, np.ndarray]:
        if self.compiled:  # one merge of each pair of rows' counted runs
            r = self.runs
            return run_kernels.run_pairs(r["row"], r["x0"], r["x1"], r["cls"], self.h)
        a = self._all_runs
        start, row, x0, value = a["start"], a["row"], a["x0"], a["value"]
        itype = start.dtype.type
        n_all = len(start)
        counted = value >= 0
        all_counted = bool(counted.all())
        index = None if all_counted else np.cumsum(counted) - 1  # index among the counted runs
        y = row - row // itype(self.h) * itype(self.h)  # row % h: numpy's remainder is ~5x its floor division
        # every run below the first row of its image: the run above containing its first column; and for
        # every run, how many runs start before the pixel below its first one (one merge for both)
        above, before = run_ops.merge_counts(start, start - itype(self.w))
        lower = np.flatnonzero(y != 0)  # index arrays stay intp: numpy converts any other index dtype first
        upper = above[lower]
        x0_lower = x0[lower]
        same_start = x0[upper] == x0_lower
        # 4-adjacent pairs: one per piece of the common refinement of the two rows, found at the
        # piece's first column: a run start of the lower row (upper, lower), or of the upper row only
        # (k, the lower run containing x0[k]: no run starts below x0[k], so it is the last run starting
        # before that pixel, `before[k] - 1`)
        tied = np.zeros(n_all, dtype=bool)
        tied[upper[same_start]] = True
        ups = np.flatnonzero(~tied & (y != self.h - 1) & counted)
        downs = before[ups] - 1
        # corner-only pairs exist where both rows start a run at the same column x >= 1:
        # (upper run ending at x-1, lower run starting at x) and (upper starting at x, lower ending at x-1)
        corner = np.flatnonzero(same_start & (x0_lower >= 1))
        corner_low, corner_up = lower[corner], upper[corner]

        def same_class(u, low):  # the candidate pairs whose runs hold the same counted id
            vu = value[u]
            keep = np.flatnonzero((vu == value[low]) & (vu >= 0))
            return u[keep], low[keep]

        out = {}
        for key, parts in (("pairs4", (same_class(upper, lower), same_class(ups, downs))),
                           ("pairs_diag", (same_class(corner_up - 1, corner_low), same_class(corner_up, corner_low - 1)))):
            u, low = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
            out[key] = (u, low) if all_counted else (index[u], index[low])
            out[key + "_first"] = len(parts[0][0])
        return out

    @property
    def pairs4(self):
        """(upper, lower) indices into :attr:`runs` of same-class runs of adjacent rows sharing a column."""
        return self._pairs["pairs4"]

    @property
    def pairs_diag(self):
        """(upper, lower) indices into :attr:`runs` of same-class runs of adjacent rows touching at a corner only."""
        return self._pairs["pairs_diag"]

    @_once
    def pairs4_columns(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x0, x1 of the upper run, x0, x1 of the lower run) of every pair of :attr:`pairs4` (gathered once:
        erosion survival and the contour lengths of convexity both read them)."""
        r, (u, low) = self.runs, self.pairs4
        return r["x0"][u], r["x1"][u], r["x0"][low], r["x1"][low]

    # ------------------------------------------------------------------ components and erosion
    @property
    def run_component(self) -> np.ndarray:
        """Component index of every counted run; components are numbered in raster order of their first run."""
        return self._run_components[0]

    @_once
    def _run_components(self) -> Tuple[np.ndarray, np.ndarray]:
        """(component of every counted run, first run of every component); components are numbered in
        raster order of their first run.

        Union-find over the run pairs: each run hooked to the run of its class above its first column
        (the first pairs of :attr:`pairs4`: one per run at most, always an earlier run), then pointer
        jumping, leaves trees rooted at their smallest run; the pairs that still join two trees (a U
        shape, a run starting under another class: ~10% of them at 720p) are resolved over the trees
        alone, not over every run."""
        n_runs = len(self.runs["row"])
        if self.compiled:
            return run_kernels.run_components(n_runs, self.pairs4, self.pairs_diag)
        u = np.concatenate([self.pairs4[0], self.pairs_diag[0]])
        v = np.concatenate([self.pairs4[1], self.pairs_diag[1]])
        first = self._pairs["pairs4_first"]
        parent = np.arange(n_runs)
        parent[v[:first]] = u[:first]
        parent = run_ops.roots(parent)
        roots = np.flatnonzero(parent == np.arange(n_runs))  # the smallest run of each tree, in raster order
        tree = np.zeros(n_runs, dtype=np.intp)
        tree[roots] = np.arange(len(roots))
        tree = tree[parent]
        a, b = tree[u], tree[v]
        differ = np.flatnonzero(a != b)
        if differ.size == 0:
            return tree, roots
        merged = run_ops.union(np.arange(len(roots)), a[differ], b[differ])  # roots: the smallest tree = the smallest run
        tops = np.flatnonzero(merged == np.arange(len(roots)))
        number = np.zeros(len(roots), dtype=np.intp)
        number[tops] = np.arange(len(tops))
        return number[merged][tree], roots[tops]

    @_once
    def components(self) -> Dict[str, np.ndarray]:
        """Per component: ``cls``, ``image``, ``area``, ``width``, ``height`` (pixels), ``top`` / ``bottom`` rows."""
        r, (comp, first) = self.runs, self._run_components
        k = len(first)
        first = first.astype(np.int64, copy=False)
        if self.compiled:
            area, left, right, bottom = run_kernels.component_boxes(comp, k, r["row"], r["x0"], r["x1"])
            top = r["row"][first].astype(np.int64)
            return {"cls": r["cls"][first].astype(np.int64), "image": r["image"][first].astype(np.int64),
                    "area": area, "width": right - left + 1, "height": bottom - top + 1, "top": top,
                    "bottom": bottom, "first_run": first}
        bottom = np.full(k, -1, dtype=r["row"].dtype)  # ufunc.at is fast only when the dtypes agree
        left = np.full(k, self.w, dtype=r["x0"].dtype)
        right = np.full(k, -1, dtype=r["x1"].dtype)
        np.maximum.at(bottom, comp, r["row"])
        np.minimum.at(left, comp, r["x0"])
        np.maximum.at(right, comp, r["x1"])
        bottom, left, right = bottom.astype(np.int64), left.astype(np.int64), right.astype(np.int64)
        top = r["row"][first]
        area = np.bincount(comp, weights=r["x1"] - r["x0"] + 1, minlength=k).astype(np.int64)
        return {"cls": r["cls"][first].astype(np.int64), "image": r["image"][first].astype(np.int64), "area": area,
                "width": right - left + 1, "height": bottom - top + 1, "top": top.astype(np.int64), "bottom": bottom,
                "first_run": first}

    @_once
    def run_survives(self) -> np.ndarray:
        """bool per counted run: some pixel of it survives a 3x3 erosion of its class."""
        r = self.runs
        if self.compiled:  # found with the pairs
            return self._pairs["survives"]
        low = self.pairs4[1]
        a, b, c, d = self.pairs4_columns
        lo = np.maximum(a, c) + 1
        hi = np.minimum(b, d) - 1
        ok = np.flatnonzero(lo <= hi)  # indices: one scan of the mask for the three arrays
        low, lo, hi = low[ok], lo[ok], hi[ok]
        # flat positions of the intervals in the lower run's row, and in the upper run's row (one row up)
        base = r["row"][low] * self.w
        s, e = base + lo, base + hi
        # the intervals are disjoint, so their starts, their ends (and their runs) sort alike, each by itself
        # (two sorted parts: a merge); for the lower run, from above: start, end and run
        s.sort(kind="stable")
        e.sort(kind="stable")
        low = np.sort(low, kind="stable")
        # the same intervals seen from the upper run: one row up, sorted as they are
        below_start, below_end = s - self.w, e - self.w
        k = run_ops.merge_counts(s, below_end, strict=True)  # below_end < s, i.e. searchsorted(below_end, s, "left")
        hit = np.flatnonzero(k < len(below_end))
        hit = hit[below_start[k[hit]] <= e[hit]]
        out = np.zeros(len(r["row"]), dtype=bool)
        out[low[hit]] = True
        return out

    @_once
    def component_survives(self) -> np.ndarray:
        """bool per component: some pixel of it survives a 3x3 erosion of its class."""
        out = np.zeros(len(self.components["cls"]), dtype=bool)
        out[self.run_component[self.run_survives]] = True
        return out
