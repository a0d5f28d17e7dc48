"""Image size and brightness per class: does a class look different for reasons other than its content?

Per image, the mean luma (0.299 R + 0.587 G + 0.114 B) is summed exactly in integers
(fixed point, 2**-16 luma), so batching and merge order never change a number. Each
image counts once for every class it is labelled with.
"""
from __future__ import annotations

from typing import List

import numpy as np

from data_gradients.batch.classification import ClassificationBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.common.brightness import LUMA_WEIGHTS
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Finding, Heatmap, Table
from data_gradients.thresholds import declare, threshold

N_BINS = 32
BIN_EDGES = np.linspace(0.0, 255.0, N_BINS + 1)
FIXED_POINT_BITS = 16
SHORTCUT_BRIGHTNESS = 0.15 * 255  # a class this much darker/brighter than the rest is flagged
SHORTCUT_SIZE = 0.25  # ... or with images this much (relative) wider/taller than the rest
SHORTCUT_BRIGHTNESS_SHARE = declare(
    "class_shortcut_brightness", SHORTCUT_BRIGHTNESS / 255, "difference between the mean brightness of a class's images "
    "and that of the other images, as a share of the 0-255 range, above which the class is flagged", minimum=0, maximum=1)
SHORTCUT_SIZE_SHARE = declare(
    "class_shortcut_size", SHORTCUT_SIZE, "relative difference between the mean image size (sqrt of mean width x mean "
    "height) of a class's images and that of the other images, above which the class is flagged", minimum=0)
_BIG = np.iinfo(np.int64).max


@register_feature
class ClassificationPerClassImages(FeatureExtractor):
    name = "classification_per_class_images"
    title = "Image size and brightness per class"
    description = (
        "Mean image width, height and brightness (mean luma, 0-255) of the images of each class. A class "
        "whose images are much darker, brighter, larger or smaller than the others gives the model a "
        "shortcut: it can learn the camera or the lighting instead of the object."
    )
    tasks = ("classification",)
    group = "image"

    def setup(self) -> None:
        n = self.context.n_label_ids
        self.add_state("images", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("width_sum", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("height_sum", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("min_width", np.full(n, _BIG, dtype=np.int64), "min")
        self.add_state("max_width", np.zeros(n, dtype=np.int64), "max")
        self.add_state("min_height", np.full(n, _BIG, dtype=np.int64), "min")
        self.add_state("max_height", np.zeros(n, dtype=np.int64), "max")
        self.add_state("brightness_sum", np.zeros(n, dtype=np.int64), "sum")  # fixed point
        self.add_state("brightness_hist", np.zeros((n, N_BINS), dtype=np.int64), "sum")
        self.add_state("all_images", 0, "sum")
        self.add_state("all_width_sum", 0, "sum")
        self.add_state("all_height_sum", 0, "sum")
        self.add_state("all_brightness_sum", 0, "sum")

    def update(self, batch: ClassificationBatch, split: str) -> None:
        n, h, w = len(batch), batch.height, batch.width
        if n == 0:
            return
        n_ids = self.context.n_label_ids
        sums = batch.pixel_stats.sums  # (N, 3) exact, shared with the other image features
        scale = 1000 * max(h * w, 1)
        luma_k = sums @ LUMA_WEIGHTS  # 1000 x summed luma, exact
        fixed = ((luma_k << FIXED_POINT_BITS) + scale // 2) // scale
        bins = np.minimum(luma_k * N_BINS // (255 * scale), N_BINS - 1)
        labels = batch.labels
        per_class = labels.sum(axis=0).astype(np.int64)
        has = per_class > 0
        st = self.state(split)
        st.images += per_class
        st.width_sum += per_class * w
        st.height_sum += per_class * h
        st.min_width = np.minimum(st.min_width, np.where(has, w, _BIG))
        st.max_width = np.maximum(st.max_width, np.where(has, w, 0))
        st.min_height = np.minimum(st.min_height, np.where(has, h, _BIG))
        st.max_height = np.maximum(st.max_height, np.where(has, h, 0))
        st.brightness_sum += labels.T.astype(np.int64) @ fixed
        rows, cls = np.nonzero(labels)
        st.brightness_hist += np.bincount(cls * N_BINS + bins[rows], minlength=n_ids * N_BINS).reshape(n_ids, N_BINS)
        st.all_images += n
        st.all_width_sum += n * w
        st.all_height_sum += n * h
        st.all_brightness_sum += int(fixed.sum())

    def compute(self):
        res = self.new_result()
        ids = list(self.context.class_ids)
        names = self.context.names
        splits = self.splits
        unit = float(1 << FIXED_POINT_BITS)
        rows = []
        for cid, name in zip(ids, names):
            row = [cid, name]
            for s in splits:
                st = self.state(s)
                k = int(st.images[cid])
                row += [k] + ([st.width_sum[cid] / k, st.height_sum[cid] / k, st.brightness_sum[cid] / k / unit,
                               f"{st.min_height[cid]}x{st.min_width[cid]}", f"{st.max_height[cid]}x{st.max_width[cid]}"]
                              if k else [None, None, None, None, None])
            rows.append(row)
        cols = ["id", "class"] + [f"{c} ({s})" for s in splits for c in (
            "images", "mean width", "mean height", "mean brightness", "smallest HxW", "largest HxW")]
        res.tables.append(Table(key="per_class", title="Size and brightness per class", columns=cols, rows=rows))
        maps = {}
        for s in splits:
            hist = self.state(s).brightness_hist[ids].astype(np.float64)
            maps[s] = {"brightness": hist / np.maximum(hist.sum(axis=1, keepdims=True), 1)}
        res.heatmaps.append(Heatmap(
            key="brightness_by_class", title="Brightness of the images of each class",
            maps=maps, x_label="mean luma (0-255)", y_label="class", x_edges=BIN_EDGES.copy(),
            y_edges=np.arange(len(ids) + 1, dtype=np.float64), value_label="share of the class's images",
            y_categories=list(names),
        ))
        for s in splits:
            means = [self.state(s).brightness_sum[c] / self.state(s).images[c] / unit for c in ids if self.state(s).images[c]]
            res.scalars.setdefault("class_brightness_range", {})[s] = float(max(means) - min(means)) if means else None
        res.findings += self._shortcuts(ids, names, splits, unit)
        return res

    def _shortcuts(self, ids, names, splits, unit) -> List[Finding]:
        """Classes whose images differ from the other images in brightness or size (train split first)."""
        flagged, counts = [], {}
        max_brightness = threshold(self.context, SHORTCUT_BRIGHTNESS_SHARE) * 255
        max_size = threshold(self.context, SHORTCUT_SIZE_SHARE)
        for s in splits:
            st = self.state(s)
            hits = []
            for cid, name in zip(ids, names):
                k, rest = int(st.images[cid]), int(st.all_images) - int(st.images[cid])
                if k == 0 or rest <= 0:
                    continue
                b = st.brightness_sum[cid] / k / unit
                b_rest = (st.all_brightness_sum - int(st.brightness_sum[cid])) / rest / unit
                w_rest = (st.all_width_sum - int(st.width_sum[cid])) / rest
                h_rest = (st.all_height_sum - int(st.height_sum[cid])) / rest
                size = (st.width_sum[cid] / k) * (st.height_sum[cid] / k)  # mean width x mean height
                size_rest = w_rest * h_rest
                why = []
                if abs(b - b_rest) > max_brightness:
                    why.append(f"brightness {b:.0f} vs {b_rest:.0f}")
                if size_rest > 0 and abs(np.sqrt(size / size_rest) - 1) > max_size:
                    why.append(f"mean size {st.height_sum[cid] / k:.0f}x{st.width_sum[cid] / k:.0f} vs "
                               f"{h_rest:.0f}x{w_rest:.0f}")
                if why:
                    hits.append(f"{name} ({s}: {', '.join(why)})")
            counts[s] = len(hits)
            flagged += hits
        if not flagged:
            return []
        return [Finding(
            key="class_shortcuts", title="Classes whose images look different", severity="info",
            message=f"{len(flagged)} class/split pair(s) differ from the other images: {'; '.join(flagged)}",
            why="a model can learn the brightness or the image size of a class instead of its content, and then "
                "fail on images of that class taken differently",
            counts=counts,
        )]
