"""Per-image brightness (mean luma): distribution, mean, std, dark and bright shares."""
from __future__ import annotations

from typing import List, Tuple

import numpy as np

from data_gradients.batch import ImageBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Histogram

N_BINS = 64
BIN_EDGES = np.linspace(0.0, 255.0, N_BINS + 1)
LUMA_WEIGHTS = np.array([299, 587, 114], dtype=np.int64)  # ITU-R BT.601 x 1000: integer, exact
DARK_BELOW = 51  # 20% of 255
BRIGHT_ABOVE = 204  # 80% of 255
FIXED_POINT_BITS = 20  # per-image brightness is summed as an integer in units of 2**-20 luma


def image_luma(batch: ImageBatch) -> Tuple[np.ndarray, int, List[int]]:
    """``(luma_k, scale, fixed)`` of each image: its luma summed over the pixels x 1000 (an integer, so
    bins and thresholds are decided exactly against ``value * scale``), ``scale`` = 1000 x pixels, and
    its mean luma in fixed point (units of 2**-FIXED_POINT_BITS, rounded) as Python ints."""
    luma_k = batch.pixel_stats.sums @ LUMA_WEIGHTS  # (N, 3) exact sums, shared with the other image features
    scale = 1000 * max(batch.height * batch.width, 1)
    return luma_k, scale, [((int(v) << FIXED_POINT_BITS) + scale // 2) // scale for v in luma_k.tolist()]


@register_feature
class ImageBrightness(FeatureExtractor):
    name = "image_brightness"
    title = "Image brightness"
    description = (
        "Mean luma (0.299 R + 0.587 G + 0.114 B, 0-255) of each image. A split much darker or brighter "
        "than another, or many very dark (< 20%) or very bright (> 80%) images, means lighting or "
        "exposure the model may not generalise across."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "image"

    def setup(self) -> None:
        self.add_state("histogram", np.zeros(N_BINS, dtype=np.int64), "windows")  # per window of the stream
        # Python ints: exact, so merge order and batching never change mean or std
        self.add_state("sum", 0, "sum")
        self.add_state("sumsq", 0, "sum")
        self.add_state("images", 0, "sum")
        self.add_state("dark", 0, "windows")  # images per window of the stream
        self.add_state("bright", 0, "windows")

    def update(self, batch: ImageBatch, split: str) -> None:
        if len(batch) == 0:
            return
        luma_k, scale, fixed = image_luma(batch)
        bins = np.minimum(luma_k * N_BINS // (255 * scale), N_BINS - 1)
        windows = self.stream_windows(batch, split)  # first: it may widen (replace) the windowed states
        st = self.state(split)
        add_counts(st.histogram, windows, bins)
        st.sum += sum(fixed)
        st.sumsq += sum(v * v for v in fixed)
        st.images += len(batch)
        for target, hit in ((st.dark, luma_k < DARK_BELOW * scale), (st.bright, luma_k > BRIGHT_ABOVE * scale)):
            add_counts(target, windows[hit])

    def compute(self):
        res = self.new_result()
        splits = self.splits
        res.histograms.append(Histogram(
            key="mean_brightness", title="Mean brightness of the images", x_label="mean luma (0-255)",
            bin_edges=BIN_EDGES.copy(), y_label="share of images",
            **self.stream_histogram(splits, lambda st: st.histogram),
        ))
        for s in splits:
            st = self.state(s)
            n = max(int(st.images), 1)
            unit = float(1 << FIXED_POINT_BITS)
            # population variance of per-image brightness, numerator exact in integers
            var = (n * st.sumsq - st.sum * st.sum) / (n * n) / unit**2
            res.scalars.setdefault("mean_brightness", {})[s] = st.sum / n / unit
            res.scalars.setdefault("std_brightness", {})[s] = float(np.sqrt(var))
            res.scalars.setdefault("share_dark_images", {})[s] = int(st.dark.sum()) / n
            res.scalars.setdefault("share_bright_images", {})[s] = int(st.bright.sum()) / n
        res.series += [self.headline_series(splits, key, title, "share of the images read", lambda st, a=attr: getattr(st, a),
                                            per_image=True) for key, attr, title in (
            ("share_dark_images", "dark", f"Share of dark images (mean luma < {DARK_BELOW}) among the images read so far"),
            ("share_bright_images", "bright",
             f"Share of bright images (mean luma > {BRIGHT_ABOVE}) among the images read so far"))]
        return res
