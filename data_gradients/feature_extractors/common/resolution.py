"""Image resolutions: most common sizes, width/height/aspect-ratio distributions."""
from __future__ import annotations

import numpy as np

from data_gradients.batch import ImageBatch
from data_gradients.feature_extractors.base import FeatureExtractor, merge_counter
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Histogram, Table

MAX_RESOLUTIONS = 1000  # distinct "HxW" keys kept; the rest is counted under "other"
TOP_RESOLUTIONS = 10
SIZE_STEP, SIZE_MAX = 64, 4096
SIZE_EDGES = np.arange(0, SIZE_MAX + 1, SIZE_STEP)  # 64 bins, then one overflow bin >= 4096
# W/H on log2-spaced edges, 8 bins per octave from 1/4 to 4 (1.0 is an exact edge),
# plus one underflow and one overflow bin
ASPECT_EDGES = 2.0 ** (np.arange(-16, 17) / 8.0)
_BIG = np.iinfo(np.int64).max


def aspect_bin(width: int, height: int) -> int:
    """Index into the 34 aspect-ratio bins: 0 = below 1/4, 1..32 = core bins, 33 = above 4."""
    ratio = width / max(height, 1)
    if ratio == ASPECT_EDGES[-1]:
        return len(ASPECT_EDGES) - 1  # 4 closes the last core bin
    return int(np.searchsorted(ASPECT_EDGES, ratio, side="right"))


@register_feature
class ImageResolution(FeatureExtractor):
    name = "image_resolution"
    title = "Image resolution"
    description = (
        "Image sizes (height x width in pixels) and aspect ratios (width / height). Many different sizes "
        "mean resizing or cropping decides what the model sees; sizes or shapes that differ between "
        "splits mean the validation images are not like the training images."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "image"

    def setup(self) -> None:
        self.add_state("resolutions", {}, "counter", cap=MAX_RESOLUTIONS)
        # per window of the stream
        self.add_state("widths", np.zeros(len(SIZE_EDGES), dtype=np.int64), "windows")
        self.add_state("heights", np.zeros(len(SIZE_EDGES), dtype=np.int64), "windows")
        self.add_state("aspects", np.zeros(len(ASPECT_EDGES) + 1, dtype=np.int64), "windows")
        self.add_state("images", 0, "sum")
        self.add_state("width_sum", 0, "sum")
        self.add_state("height_sum", 0, "sum")
        self.add_state("min_width", _BIG, "min")
        self.add_state("max_width", 0, "max")
        self.add_state("min_height", _BIG, "min")
        self.add_state("max_height", 0, "max")
        self.add_state("min_aspect", np.inf, "min")
        self.add_state("max_aspect", 0.0, "max")

    def update(self, batch: ImageBatch, split: str) -> None:
        n, h, w = len(batch), batch.height, batch.width
        if n == 0:
            return
        st = self.state(split)
        st.resolutions = merge_counter(st.resolutions, [(f"{h}x{w}", n)], MAX_RESOLUTIONS)
        windows = self.stream_windows(batch, split)  # one size per batch: each image counts in its window
        for target, b in ((st.widths, min(w // SIZE_STEP, len(SIZE_EDGES) - 1)),
                          (st.heights, min(h // SIZE_STEP, len(SIZE_EDGES) - 1)), (st.aspects, aspect_bin(w, h))):
            add_counts(target, windows, np.full(n, b))
        st.images += n
        st.width_sum += n * w
        st.height_sum += n * h
        st.min_width, st.max_width = min(st.min_width, w), max(st.max_width, w)
        st.min_height, st.max_height = min(st.min_height, h), max(st.max_height, h)
        ratio = w / max(h, 1)
        st.min_aspect, st.max_aspect = min(st.min_aspect, ratio), max(st.max_aspect, ratio)

    def compute(self):
        res = self.new_result()
        splits = self.splits
        states = [self.state(s) for s in splits]
        # the overflow bins get finite outer edges that cover the data (writers need finite numbers)
        top_w = max([int(st.max_width) + 1 for st in states] + [SIZE_MAX + SIZE_STEP])
        top_h = max([int(st.max_height) + 1 for st in states] + [SIZE_MAX + SIZE_STEP])
        step = 2.0 ** (1 / 8)
        lo = min([float(st.min_aspect) for st in states] + [ASPECT_EDGES[0] / step])
        hi = max([float(st.max_aspect) for st in states] + [ASPECT_EDGES[-1] * step])
        for key, title, label, edges, attr in (
            ("width", "Image width", f"width (px; last bin >= {SIZE_MAX})", np.append(SIZE_EDGES, top_w), "widths"),
            ("height", "Image height", f"height (px; last bin >= {SIZE_MAX})", np.append(SIZE_EDGES, top_h), "heights"),
            ("aspect_ratio", "Aspect ratio (width / height)", "width / height (outer bins: beyond 1/4 and 4)",
             np.concatenate([[lo], ASPECT_EDGES, [hi]]), "aspects"),
        ):
            res.histograms.append(Histogram(
                key=key, title=title, x_label=label, bin_edges=edges.astype(np.float64),
                y_label="share of images", log_x=key == "aspect_ratio",
                **self.stream_histogram(splits, lambda st, attr=attr: getattr(st, attr)),
            ))
        rows = []
        for s, st in zip(splits, states):
            n = max(int(st.images), 1)
            ranked = sorted(((k, c) for k, c in st.resolutions.items() if k != "other"), key=lambda kv: (-kv[1], kv[0]))
            for rank, (k, c) in enumerate(ranked[:TOP_RESOLUTIONS], start=1):
                rows.append([s, rank, k, int(c), c / n])
            scalars = {
                "images": int(st.images),
                "distinct_resolutions": len(ranked),
                "min_width": int(st.min_width), "max_width": int(st.max_width),
                "min_height": int(st.min_height), "max_height": int(st.max_height),
                "mean_width": st.width_sum / n, "mean_height": st.height_sum / n,
            }
            for name, value in scalars.items():
                res.scalars.setdefault(name, {})[s] = value
        res.tables.append(Table(key="top_resolutions", title=f"Most common resolutions (top {TOP_RESOLUTIONS})",
                                columns=["split", "rank", "height x width", "images", "share of images"], rows=rows))
        return res
