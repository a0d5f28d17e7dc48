"""Connected components (objects) per class: how many, how large, what shape (segmentation).

Speed: the components come from the batch's shared view (:mod:`data_gradients.batch.segmentation_view`):
8-connected components of every class at once, labelled on the horizontal runs of the
masks (union-find over runs of adjacent rows), with area and bounding box summed from
their runs. The erosion and convexity features read the same labelling.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from data_gradients.batch import SegmentationBatch
from data_gradients.batch.segmentation_view import SegmentationView
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.histograms import histogram_median
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Heatmap, Histogram, Table

MAX_COUNT_BIN = 50  # components per image: bins 0..49 and "50 or more"
COUNT_EDGES = np.arange(MAX_COUNT_BIN + 2, dtype=np.float64)  # bin k = [k, k+1): exactly k objects
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
        # per window of the stream: objects per image, and the area of the objects of the classes shown
        self.add_state("per_image_hist", np.zeros(MAX_COUNT_BIN + 1, dtype=np.int64), "windows")
        self.add_state("area_stream", np.zeros(len(AREA_EDGES) - 1, dtype=np.int64), "windows")
        self._shown = self.context.shown_ids
        self.add_state("components", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("area_hist", np.zeros((n, len(AREA_EDGES) - 1), dtype=np.int64), "sum")
        self.add_state("area_pct_sum", np.zeros(n, dtype=np.float64), "sum")
        self.add_state("size_hist", np.zeros((SIZE_BINS, SIZE_BINS), dtype=np.int64), "sum")  # rows: height
        self.add_state("images", 0, "sum")

    def update(self, batch: SegmentationBatch, split: str) -> None:
        n, h, w = batch.mask_shape
        if n == 0:
            return
        comp = _components(None, self.context.n_label_ids, batch.view)
        windows = self.stream_windows(batch, split)
        st = self.state(split)
        st.images += n
        per_image = np.bincount(comp["image"], minlength=n)
        add_counts(st.per_image_hist, windows, np.minimum(per_image, MAX_COUNT_BIN))
        if comp["cls"].size == 0:
            return
        n_ids = self.context.n_label_ids
        st.components += np.bincount(comp["cls"], minlength=n_ids)
        pct = comp["area"] * (100.0 / (h * w))
        st.area_pct_sum += np.bincount(comp["cls"], weights=pct, minlength=n_ids)
        n_area = len(AREA_EDGES) - 1
        abin = np.clip(np.searchsorted(AREA_EDGES, pct, side="right") - 1, 0, n_area - 1)
        st.area_hist += np.bincount(comp["cls"] * n_area + abin, minlength=n_ids * n_area).reshape(n_ids, n_area)
        shown = self._shown[comp["cls"]]
        add_counts(st.area_stream, windows[comp["image"][shown]], abin[shown])
        # integer cell of w/W and h/H on [0, 1]; a full-width object goes to the last cell
        wx = np.minimum(comp["width"] * SIZE_BINS // w, SIZE_BINS - 1)
        hy = np.minimum(comp["height"] * SIZE_BINS // h, SIZE_BINS - 1)
        st.size_hist += np.bincount(hy * SIZE_BINS + wx, minlength=SIZE_BINS**2).reshape(SIZE_BINS, SIZE_BINS)

    def compute(self):
        res = self.new_result()
        ids = list(self.context.class_ids)
        splits = self.splits
        res.histograms.append(Histogram(
            key="components_per_image", title="Objects per image (all classes)", bin_edges=COUNT_EDGES.copy(),
            x_label=f"objects in the image (last bin: {MAX_COUNT_BIN} or more)", y_label="share of images",
            **self.stream_histogram(splits, lambda st: st.per_image_hist),
        ))
        res.histograms.append(Histogram(
            key="area_share", title="Object area (all classes)", x_label="object area (% of the image)",
            bin_edges=AREA_EDGES.copy(), y_label="share of objects", log_x=True,
            **self.stream_histogram(splits, lambda st: st.area_stream),
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


def _components(masks: Optional[np.ndarray], n_ids: int, view: Optional[SegmentationView] = None) -> dict:
    """8-connected components of every class in a (N, H, W) mask (-1 = not counted).

    Returns arrays with one entry per component: ``cls``, ``image`` (index in the batch),
    ``area`` (pixels), ``width`` and ``height`` (bounding box, pixels).
    """
    comp = (view if view is not None else SegmentationView(masks)).components
    return {k: comp[k] for k in ("cls", "image", "area", "width", "height")}
