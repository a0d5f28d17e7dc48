"""Connected components (objects) per class: how many, how large, what shape (segmentation).

Speed: per batch, the masks are tiled vertically into one image with a zero row between
samples, so each class needs ONE ``cv2.connectedComponents`` call (8-connectivity) for
the whole batch, cropped to the class's bounding box in the tiled image; a zero row never
joins components of different samples. Component statistics are not read from OpenCV's
stats pass (about 4x slower: it also walks the background) but from the horizontal runs
of the tiled mask, found once per batch: a run is a maximal stretch of one class in one
row, it lies inside one component, and a component's area and bounding box follow from
its runs with ``bincount`` / ``ufunc.at``. The only Python loop is over the classes
present in the batch.
"""
from __future__ import annotations

import cv2
import numpy as np

from data_gradients.batch import SegmentationBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.histograms import histogram_median
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Heatmap, Histogram, Table

MAX_COUNT_BIN = 50  # components per image: bins 0..49 and "50+"
AREA_EDGES = np.logspace(-3, 2, 31)  # component area in % of the image: 0.001% .. 100%, 30 log bins
SIZE_BINS = 20  # width x height relative to the image, 20 x 20 cells over [0, 1]


@register_feature
class SegmentationComponents(FeatureExtractor):
    name = "segmentation_components"
    title = "Objects (connected components)"
    description = (
        "Objects are the 8-connected regions of one class in a mask. Shown: objects per image, object area as "
        "a share of the image (log scale) and object width x height relative to the image. Many tiny objects "
        "are hard to segment and easily lost by downscaling; a class whose objects fill the image is context."
    )
    tasks = ("segmentation",)
    group = "labels"

    def setup(self) -> None:
        n = self.context.n_label_ids
        self.add_state("per_image_hist", np.zeros(MAX_COUNT_BIN + 1, dtype=np.int64), "sum")
        self.add_state("components", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("area_hist", np.zeros((n, len(AREA_EDGES) - 1), dtype=np.int64), "sum")
        self.add_state("area_pct_sum", np.zeros(n, dtype=np.float64), "sum")
        self.add_state("size_hist", np.zeros((SIZE_BINS, SIZE_BINS), dtype=np.int64), "sum")  # rows: height
        self.add_state("images", 0, "sum")

    def update(self, batch: SegmentationBatch, split: str) -> None:
        n, h, w = batch.masks.shape
        if n == 0:
            return
        comp = _components(batch.masks, self.context.n_label_ids)
        st = self.state(split)
        st.images += n
        per_image = np.bincount(comp["image"], minlength=n)
        st.per_image_hist += np.bincount(np.minimum(per_image, MAX_COUNT_BIN), minlength=MAX_COUNT_BIN + 1)
        if comp["cls"].size == 0:
            return
        n_ids = self.context.n_label_ids
        st.components += np.bincount(comp["cls"], minlength=n_ids)
        pct = comp["area"] * (100.0 / (h * w))
        st.area_pct_sum += np.bincount(comp["cls"], weights=pct, minlength=n_ids)
        n_area = len(AREA_EDGES) - 1
        abin = np.clip(np.searchsorted(AREA_EDGES, pct, side="right") - 1, 0, n_area - 1)
        st.area_hist += np.bincount(comp["cls"] * n_area + abin, minlength=n_ids * n_area).reshape(n_ids, n_area)
        # integer cell of w/W and h/H on [0, 1]; a full-width object goes to the last cell
        wx = np.minimum(comp["width"] * SIZE_BINS // w, SIZE_BINS - 1)
        hy = np.minimum(comp["height"] * SIZE_BINS // h, SIZE_BINS - 1)
        st.size_hist += np.bincount(hy * SIZE_BINS + wx, minlength=SIZE_BINS**2).reshape(SIZE_BINS, SIZE_BINS)

    def compute(self):
        res = self.new_result()
        ids = list(self.context.class_ids)
        splits = self.splits
        res.histograms.append(Histogram(
            key="components_per_image", title="Objects per image (all classes)", x_label="objects in the image",
            counts={s: self.state(s).per_image_hist.copy() for s in splits},
            categories=[str(i) for i in range(MAX_COUNT_BIN)] + [f"{MAX_COUNT_BIN}+"], y_label="share of images",
        ))
        res.histograms.append(Histogram(
            key="area_share", title="Object area (all classes)", x_label="object area (% of the image)",
            counts={s: self.state(s).area_hist[ids].sum(axis=0) for s in splits},
            bin_edges=AREA_EDGES.copy(), y_label="share of objects", log_x=True,
        ))
        edges = np.linspace(0.0, 1.0, SIZE_BINS + 1)
        maps = {}
        for s in splits:
            hist = self.state(s).size_hist
            maps[s] = {"all classes": hist / max(int(hist.sum()), 1)}
        res.heatmaps.append(Heatmap(
            key="size", title="Object width x height relative to the image (all classes)", maps=maps,
            x_label="object width / image width", y_label="object height / image height",
            x_edges=edges, y_edges=edges, value_label="share of objects", y_up=True,
        ))
        res.tables.append(self._class_table(ids, splits))
        for s in splits:
            st = self.state(s)
            total = int(st.components[ids].sum())
            res.scalars.setdefault("total_components", {})[s] = total
            res.scalars.setdefault("mean_components_per_image", {})[s] = total / max(st.images, 1)
        return res

    def _class_table(self, ids, splits) -> Table:
        rows = []
        for cid, name in zip(ids, self.context.names):
            counts, means, medians = [], [], []
            for s in splits:
                st = self.state(s)
                k = int(st.components[cid])
                counts.append(k)
                means.append(float(st.area_pct_sum[cid] / k) if k else None)
                medians.append(histogram_median(st.area_hist[cid], AREA_EDGES, log=True))
            rows.append([cid, name, *counts, *means, *medians])
        cols = (["id", "class"] + [f"components ({s})" for s in splits] + [f"mean area % ({s})" for s in splits]
                + [f"median area % approx. ({s})" for s in splits])
        return Table(key="per_class", title="Objects per class", columns=cols, rows=rows)


def _components(masks: np.ndarray, n_ids: int) -> dict:
    """8-connected components of every class in a (N, H, W) mask (-1 = not counted).

    Returns arrays with one entry per component: ``cls``, ``image`` (index in the batch),
    ``area`` (pixels), ``width`` and ``height`` (bounding box, pixels).
    """
    n, h, w = masks.shape
    dtype = np.uint8 if n_ids < 255 else np.int32
    tiled = np.zeros((n, h + 1, w), dtype=dtype)  # value = class id + 1, 0 = nothing
    np.add(masks, 1, out=tiled[:, :h], casting="unsafe")
    tiled = tiled.reshape(n * (h + 1), w)
    # horizontal runs: a run starts at column 0 and wherever the value changes
    starts = np.empty(tiled.shape, dtype=bool)
    starts[:, 0] = True
    np.not_equal(tiled[:, 1:], tiled[:, :-1], out=starts[:, 1:])
    start = np.flatnonzero(starts)
    end = np.append(start[1:], tiled.size) - 1  # runs never cross a row end (column 0 starts one)
    value = tiled.ravel()[start].astype(np.int64)
    keep = value > 0
    start, end, value = start[keep], end[keep], value[keep]
    row = start // w
    x0, x1 = start - row * w, end - row * w
    order = np.argsort(value.astype(tiled.dtype), kind="stable")  # runs grouped by class
    per_value = np.bincount(value)
    bounds = np.concatenate(([0], np.cumsum(per_value)))  # runs of value v: order[bounds[v]:bounds[v + 1]]
    run_comp = np.empty(value.size, dtype=np.int64)  # global component index of every run
    binary = np.empty(tiled.size, dtype=bool)  # buffers reused by every class: fewer page faults
    labels = np.empty(tiled.size, dtype=np.int32)
    cls_of_comp, offset = [], 0
    for v in np.flatnonzero(per_value):
        sel = order[bounds[v]:bounds[v + 1]]
        # crop to the bounding box of class v in the tiled image (rows: runs are in raster order)
        r0, r1 = int(row[sel[0]]), int(row[sel[-1]]) + 1
        c0, c1 = int(x0[sel].min()), int(x1[sel].max()) + 1
        shape = (r1 - r0, c1 - c0)
        crop = binary[: shape[0] * shape[1]].reshape(shape)
        np.equal(tiled[r0:r1, c0:c1], v, out=crop)
        n_lab, lab = cv2.connectedComponents(crop.view(np.uint8), labels[: crop.size].reshape(shape),
                                             connectivity=8, ltype=cv2.CV_32S)
        run_comp[sel] = lab[row[sel] - r0, x0[sel] - c0] - 1 + offset
        cls_of_comp.append(np.full(n_lab - 1, v - 1, dtype=np.int64))
        offset += n_lab - 1
    big = np.iinfo(np.int64).max
    top, bottom = np.full(offset, big), np.full(offset, -1)
    left, right = np.full(offset, big), np.full(offset, -1)
    np.minimum.at(top, run_comp, row)
    np.maximum.at(bottom, run_comp, row)
    np.minimum.at(left, run_comp, x0)
    np.maximum.at(right, run_comp, x1)
    area = np.bincount(run_comp, weights=x1 - x0 + 1, minlength=offset).astype(np.int64)
    return {
        "cls": np.concatenate(cls_of_comp) if cls_of_comp else np.zeros(0, dtype=np.int64),
        "image": top // (h + 1),
        "area": area,
        "width": right - left + 1,
        "height": bottom - top + 1,
    }
