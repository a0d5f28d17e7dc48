"""Box area (% of the image) per class, relative width x height, aspect ratio (detection)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from data_gradients.batch import DetectionBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.histograms import histogram_median as shared_median
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Heatmap, Histogram, Table

AREA_EDGES = np.logspace(-3, 2, 31)  # box area in % of the image: 0.001% .. 100%, 30 log bins
SIZE_BINS = 20  # width x height relative to the image: 20 x 20 cells over [0, 1]
ASPECT_EDGES = 2.0 ** (np.arange(-24, 25) / 8.0)  # width / height: 1/8 .. 8, 8 bins per octave; 1 is an edge


def log_bin(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value on ``edges``; values beyond the ends go to the outer bins."""
    return np.minimum(np.maximum(np.searchsorted(edges, values, side="right") - 1, 0), len(edges) - 2)


def histogram_median(counts: np.ndarray, edges: np.ndarray) -> Optional[float]:
    """Median estimated from a log-binned histogram (geometric interpolation in the middle bin)."""
    return shared_median(counts, edges, log=True)


@register_feature
class DetectionBoxSizes(FeatureExtractor):
    name = "detection_box_sizes"
    title = "Box sizes and shapes"
    description = (
        "Box area as a share of the image (log scale, per class), box width x height relative to the image, "
        "and box aspect ratio (width / height). Tiny boxes are hard to detect and lost by downscaling; "
        "anchor or query priors should cover the sizes and aspect ratios seen here."
    )
    tasks = ("detection",)
    group = "labels"

    def setup(self) -> None:
        n = self.context.n_label_ids
        self.add_state("boxes", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("area_hist", np.zeros((n, len(AREA_EDGES) - 1), dtype=np.int64), "sum")
        self.add_state("area_pct_sum", np.zeros(n, dtype=np.float64), "sum")
        self.add_state("log2_aspect_sum", np.zeros(n, dtype=np.float64), "sum")
        self.add_state("aspect_hist", np.zeros(len(ASPECT_EDGES) - 1, dtype=np.int64), "windows")
        # the boxes of the classes shown (area_hist[ids] summed), per window of the stream
        self.add_state("area_stream", np.zeros(len(AREA_EDGES) - 1, dtype=np.int64), "windows")
        self._shown = self.context.shown_ids
        self.add_state("size_hist", np.zeros((SIZE_BINS, SIZE_BINS), dtype=np.int64), "sum")  # rows: height

    def update(self, batch: DetectionBatch, split: str) -> None:
        windows = self.stream_windows(batch, split)
        if len(batch.boxes) == 0:
            return
        n_ids = self.context.n_label_ids
        h, w, cls = batch.height, batch.width, batch.box_classes
        bw, bh = batch.box_widths, batch.box_heights
        box_windows = windows[batch.box_image]
        st = self.state(split)
        st.boxes += np.bincount(cls, minlength=n_ids)
        pct = bw * bh * (100.0 / (h * w))
        st.area_pct_sum += np.bincount(cls, weights=pct, minlength=n_ids)
        n_area = len(AREA_EDGES) - 1
        area_bin = log_bin(pct, AREA_EDGES)
        st.area_hist += np.bincount(cls * n_area + area_bin, minlength=n_ids * n_area).reshape(n_ids, n_area)
        shown = self._shown[cls]
        add_counts(st.area_stream, box_windows[shown], area_bin[shown])
        aspect = bw / bh
        st.log2_aspect_sum += np.bincount(cls, weights=np.log2(aspect), minlength=n_ids)
        add_counts(st.aspect_hist, box_windows, log_bin(aspect, ASPECT_EDGES))
        # cell of w/W and h/H on [0, 1]; a full-width box goes to the last cell
        wx = np.minimum((bw / w * SIZE_BINS).astype(np.int64), SIZE_BINS - 1)
        hy = np.minimum((bh / h * SIZE_BINS).astype(np.int64), SIZE_BINS - 1)
        st.size_hist += np.bincount(hy * SIZE_BINS + wx, minlength=SIZE_BINS**2).reshape(SIZE_BINS, SIZE_BINS)

    def compute(self):
        res = self.new_result()
        ids, splits = list(self.context.class_ids), self.splits
        res.histograms.append(Histogram(
            key="area", title="Box area (all classes)", bin_edges=AREA_EDGES.copy(), log_x=True,
            x_label="box area (% of the image; outer bins include beyond 0.001% and 100%)", y_label="share of boxes",
            **self.stream_histogram(splits, lambda st: st.area_stream),
        ))
        res.histograms.append(Histogram(
            key="aspect_ratio", title="Box aspect ratio (all classes)", bin_edges=ASPECT_EDGES.copy(), log_x=True,
            x_label="box width / height (outer bins include beyond 1/8 and 8)", y_label="share of boxes",
            **self.stream_histogram(splits, lambda st: st.aspect_hist),
        ))
        edges = np.linspace(0.0, 1.0, SIZE_BINS + 1)
        maps = {s: {"all classes": self.state(s).size_hist / max(int(self.state(s).size_hist.sum()), 1)} for s in splits}
        res.heatmaps.append(Heatmap(
            key="size", title="Box width x height relative to the image (all classes)", maps=maps,
            x_label="box width / image width", y_label="box height / image height",
            x_edges=edges, y_edges=edges, value_label="share of boxes", y_up=True,
        ))
        res.heatmaps.append(Heatmap(
            key="area_per_class", title="Box area per class (share of the class's boxes per area bin)",
            maps={s: {"area by class": self._per_class_area(s, ids)} for s in splits},
            x_label="log10 of box area (% of the image)", y_label="class",
            x_edges=np.log10(AREA_EDGES), y_edges=np.arange(len(ids) + 1) - 0.5, value_label="share of the class's boxes",
            y_categories=list(self.context.names),
        ))
        res.tables.append(self._class_table(ids, splits))
        for s in splits:
            st = self.state(s)
            total = int(st.boxes[ids].sum())
            res.scalars.setdefault("mean_area_pct", {})[s] = float(st.area_pct_sum[ids].sum() / total) if total else None
            res.scalars.setdefault("median_area_pct_approx", {})[s] = histogram_median(st.area_hist[ids].sum(axis=0), AREA_EDGES)
        res.data = {"area_edges_pct": AREA_EDGES.tolist(), "area_hist_per_class": {
            s: {self.context.name_of(c): self.state(s).area_hist[c].tolist() for c in ids} for s in splits}}
        return res

    def _per_class_area(self, split: str, ids) -> np.ndarray:
        hist = self.state(split).area_hist[ids].astype(np.float64)
        return hist / np.maximum(hist.sum(axis=1, keepdims=True), 1.0)

    def _class_table(self, ids, splits) -> Table:
        rows = []
        for cid, name in zip(ids, self.context.names):
            cells = {"boxes": [], "mean": [], "median": [], "aspect": []}
            for s in splits:
                st = self.state(s)
                k = int(st.boxes[cid])
                cells["boxes"].append(k)
                cells["mean"].append(float(st.area_pct_sum[cid] / k) if k else None)
                cells["median"].append(histogram_median(st.area_hist[cid], AREA_EDGES))
                cells["aspect"].append(float(2.0 ** (st.log2_aspect_sum[cid] / k)) if k else None)
            rows.append([cid, name, *cells["boxes"], *cells["mean"], *cells["median"], *cells["aspect"]])
        cols = (["id", "class"] + [f"boxes ({s})" for s in splits] + [f"mean area % ({s})" for s in splits]
                + [f"median area % approx. ({s})" for s in splits] + [f"geometric mean w/h ({s})" for s in splits])
        return Table(key="per_class", title="Box size per class", columns=cols, rows=rows)
