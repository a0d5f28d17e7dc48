"""Distribution of pixel values per colour channel (R, G, B), 256 exact bins per split.

The counts come from the batch's shared pixel statistics (``ImageBatch.pixel_stats``: exact
``cv2.calcHist`` counts, also read by brightness and channel statistics). They are not kept per
window of the stream (a distribution of pixels, not of images: a batch that spans windows would be
counted twice), so TensorBoard shows them as a figure, not in its Distributions tab.
"""
from __future__ import annotations

import numpy as np

from data_gradients.batch import ImageBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Histogram

CHANNELS = ("R", "G", "B")
N_BINS = 256
BIN_EDGES = np.arange(N_BINS + 1, dtype=np.float64)  # bin v holds the value v


@register_feature
class ColorDistribution(FeatureExtractor):
    name = "color_distribution"
    title = "Colour distribution"
    description = (
        "Share of pixels at each value (0-255) in each colour channel. Peaks at 0 or 255 mean clipped shadows "
        "or highlights; channels that differ between splits mean different cameras, white balance or "
        "processing; a narrow range means low contrast."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "image"

    def setup(self) -> None:
        self.add_state("counts", np.zeros((len(CHANNELS), N_BINS), dtype=np.int64), "sum")

    def update(self, batch: ImageBatch, split: str) -> None:
        if len(batch) == 0:
            return
        st = self.state(split)
        st.counts += batch.pixel_stats.channel_histograms

    def compute(self):
        res = self.new_result()
        splits = self.splits
        for ch, name in enumerate(CHANNELS):
            res.histograms.append(Histogram(
                key=f"channel_{name}", title=f"{name} channel values", x_label=f"{name} value (0-255)",
                counts={s: self.state(s).counts[ch].copy() for s in splits}, bin_edges=BIN_EDGES.copy(),
                y_label="share of pixels",
            ))
        for s in splits:
            counts = self.state(s).counts
            total = max(int(counts[0].sum()), 1)
            for ch, name in enumerate(CHANNELS):
                res.scalars.setdefault(f"share_at_0_{name}", {})[s] = int(counts[ch, 0]) / total
                res.scalars.setdefault(f"share_at_255_{name}", {})[s] = int(counts[ch, -1]) / total
                # the smallest value with at least half of the pixels at or below it
                res.scalars.setdefault(f"median_{name}", {})[s] = int(np.searchsorted(np.cumsum(counts[ch]), total / 2))
        return res
