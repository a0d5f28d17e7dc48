"""What resizing to common input sizes does to small boxes (detection).

A box of w x h pixels in an image whose longer side is L becomes, after resizing the
longer side to S (aspect ratio kept), a box of area w * h * (S / L)^2. It counts as
smaller than T x T when that area is below T^2 (COCO's small objects: area < 32^2).
The standard sizes are counted exactly; the row at the median image size is read from a
fine log histogram of sqrt(w * h) / L (exact when all images share one longer side).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from data_gradients.batch import DetectionBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Table

INPUT_SIZES = (320, 416, 512, 640, 1024)
THRESHOLDS = (8, 16, 32)
REL_EDGES = np.logspace(-5, 0, 501)  # sqrt(w*h) / longer side, 100 bins per decade
MAX_SIDE = 8192  # longer sides are counted exactly up to here (one overflow bin beyond)


@register_feature
class DetectionResizeImpact(FeatureExtractor):
    name = "detection_resize_impact"
    title = "Small boxes after resizing"
    description = (
        "Share of boxes that would end up smaller than 8x8, 16x16 and 32x32 pixels (by area; below 32x32 is "
        "COCO's 'small object') when each image is resized so that its longer side equals a common square "
        "input size, keeping the aspect ratio (letterbox). Boxes far below 8x8 carry almost no signal."
    )
    tasks = ("detection",)
    group = "labels"

    def setup(self) -> None:
        self.add_state("boxes", 0, "sum")
        self.add_state("below_original", np.zeros(len(THRESHOLDS), dtype=np.int64), "sum")
        self.add_state("below", np.zeros((len(INPUT_SIZES), len(THRESHOLDS)), dtype=np.int64), "sum")
        self.add_state("rel_hist", np.zeros(len(REL_EDGES) - 1, dtype=np.int64), "sum")
        self.add_state("longer_sides", np.zeros(MAX_SIDE + 1, dtype=np.int64), "sum")

    def update(self, batch: DetectionBatch, split: str) -> None:
        st = self.state(split)
        longer = max(batch.height, batch.width)
        st.longer_sides[min(longer, MAX_SIDE)] += len(batch)
        if len(batch.boxes) == 0:
            return
        area = batch.box_widths * batch.box_heights
        t2 = np.array(THRESHOLDS, dtype=np.float64) ** 2
        sizes2 = np.array(INPUT_SIZES, dtype=np.float64) ** 2
        st.boxes += len(area)
        st.below_original += (area[:, None] < t2[None, :]).sum(axis=0)
        # area * (S / L)^2 < T^2, multiplied out so integer boxes compare exactly
        st.below += (area[:, None, None] * sizes2[None, :, None] < t2[None, None, :] * longer**2).sum(axis=0)
        rel = np.sqrt(area) / longer
        st.rel_hist += np.bincount(np.minimum(np.maximum(np.searchsorted(REL_EDGES, rel, side="right") - 1, 0),
                                              len(REL_EDGES) - 2),
                                   minlength=len(REL_EDGES) - 1)

    def median_side(self, split: str) -> Optional[int]:
        sides = self.state(split).longer_sides
        total = int(sides.sum())
        return int(np.searchsorted(np.cumsum(sides), total / 2.0)) if total else None

    def shares_at(self, split: str, side: int) -> np.ndarray:
        """Shares below each threshold after resizing the longer side to ``side`` (histogram based)."""
        st = self.state(split)
        if st.boxes == 0:
            return np.full(len(THRESHOLDS), np.nan)
        if int((st.longer_sides > 0).sum()) == 1 and int(np.argmax(st.longer_sides)) == side:
            return st.below_original / st.boxes  # every image already has this longer side: exact
        cum = np.concatenate([[0], np.cumsum(st.rel_hist)]).astype(np.float64)
        log_edges = np.log10(REL_EDGES)
        x = np.log10(np.array(THRESHOLDS, dtype=np.float64) / side)
        below = np.interp(x, log_edges, cum)  # counts below x, linear in log space inside a bin
        return below / st.boxes

    def compute(self):
        res = self.new_result()
        splits = self.splits
        shares = {}
        for s in splits:
            st = self.state(s)
            n = max(int(st.boxes), 1)
            rows = {"original size": st.below_original / n}
            rows.update({str(size): st.below[i] / n for i, size in enumerate(INPUT_SIZES)})
            median = self.median_side(s)
            rows["median longer side"] = self.shares_at(s, median) if median else np.full(len(THRESHOLDS), np.nan)
            shares[s] = rows
            for j, t in enumerate(THRESHOLDS):
                res.scalars.setdefault(f"share_below_{t}px_at_640", {})[s] = float(rows["640"][j]) if st.boxes else None
            res.scalars.setdefault("share_below_32px_original", {})[s] = float(rows["original size"][-1]) if st.boxes else None
            res.scalars.setdefault("median_longer_side", {})[s] = median
        labels = ["original size"] + [str(s) for s in INPUT_SIZES] + ["median longer side"]
        table_rows = []
        for label in labels:
            name = label if label in ("original size", "median longer side") else f"{label} x {label}"
            if label == "median longer side":
                name += " (" + ", ".join(f"{s}: {self.median_side(s)}" for s in splits) + "; approx.)"
            row = [name]
            for s in splits:
                row += [_num(v) for v in shares[s][label]]
            table_rows.append(row)
        cols = ["input size (longer side)"] + [f"< {t}x{t} ({s})" for s in splits for t in THRESHOLDS]
        res.tables.append(Table(key="small_boxes", title="Share of boxes below 8x8 / 16x16 / 32x32 px after resizing",
                                columns=cols, rows=table_rows))
        res.data = {"input_sizes": list(INPUT_SIZES), "thresholds_px": list(THRESHOLDS),
                    "shares": {s: {k: [_num(v) for v in vals] for k, vals in shares[s].items()} for s in splits}}
        return res


def _num(v: float) -> Optional[float]:
    return None if np.isnan(v) else float(v)
