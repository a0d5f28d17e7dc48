"""Per-channel pixel mean and std of a split: the normalisation constants for training."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from data_gradients.batch import ImageBatch
from data_gradients.feature_extractors.base import FeatureExtractor, merge_counter
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Table

CHANNELS = ("R", "G", "B")
MAX_CHANNEL_KEYS = 16  # distinct source channel counts kept (1, 3 and 4 in practice)


def mean_std(total: np.ndarray, total_sq: np.ndarray, count: int) -> Tuple[np.ndarray, np.ndarray]:
    """Mean and population std of values in 0..255, scaled to 0..1, from exact integer sums.

    The variance numerator ``count * sum(x^2) - sum(x)^2`` is formed in Python integers
    (no cancellation error), then divided once.
    """
    if count <= 0:
        nan = np.full(len(total), np.nan)
        return nan, nan.copy()
    means = np.array([int(s) / count for s in total]) / 255.0
    var = np.array([(count * int(q) - int(s) ** 2) / count**2 for s, q in zip(total, total_sq)])
    return means, np.sqrt(np.maximum(var, 0.0)) / 255.0


def normalize_line(means: np.ndarray, stds: np.ndarray, digits: int = 3) -> str:
    """``Normalize(mean=[...], std=[...])`` ready to paste into a torchvision transform."""
    fmt = lambda v: "[" + ", ".join(f"{x:.{digits}f}" for x in v) + "]"  # noqa: E731
    return f"Normalize(mean={fmt(means)}, std={fmt(stds)})"


@register_feature
class ImageChannelStats(FeatureExtractor):
    name = "image_channel_stats"
    title = "Channel mean and std"
    description = (
        "Mean and standard deviation of each colour channel over every pixel of the split, on a 0-1 scale: "
        "the constants to normalise inputs with (use the train split's). Very different values between "
        "splits mean the splits were captured or processed differently."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "image"

    def setup(self) -> None:
        # object arrays of Python ints: exact and unbounded (int64 would overflow near 1.4e14 pixels)
        self.add_state("sum", np.zeros(3, dtype=object), "sum")
        self.add_state("sumsq", np.zeros(3, dtype=object), "sum")
        self.add_state("pixels", 0, "sum")
        self.add_state("source_channels", {}, "counter", cap=MAX_CHANNEL_KEYS)

    def update(self, batch: ImageBatch, split: str) -> None:
        pixels = batch.pixel_stats  # exact integer sums, shared with the other image features
        st = self.state(split)
        st.sum = st.sum + pixels.sums.sum(axis=0).astype(object)
        st.sumsq = st.sumsq + pixels.channel_sums_of_squares.astype(object)
        st.pixels += len(batch) * batch.height * batch.width
        st.source_channels = merge_counter(st.source_channels, [(int(batch.source_channels), len(batch))],
                                          MAX_CHANNEL_KEYS)

    def compute(self):
        res = self.new_result()
        norm_rows, channel_rows = [], []
        for s in self.splits:
            st = self.state(s)
            means, stds = mean_std(st.sum, st.sumsq, int(st.pixels))
            for ch, m, sd in zip(CHANNELS, means, stds):
                res.scalars.setdefault(f"mean_{ch}", {})[s] = float(m)
                res.scalars.setdefault(f"std_{ch}", {})[s] = float(sd)
            norm_rows.append([s, normalize_line(means, stds)])
            for channels, n in sorted(st.source_channels.items(), key=lambda kv: str(kv[0])):
                channel_rows.append([s, str(channels), int(n)])
        res.tables.append(Table(key="normalisation", title="Normalisation constants (0-1 scale)",
                                columns=["split", "transform"], rows=norm_rows))
        res.tables.append(Table(key="source_channels", title="Channels per image as loaded",
                                columns=["split", "channels", "images"], rows=channel_rows))
        return res
