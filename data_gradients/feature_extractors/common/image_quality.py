"""Image quality, per image: dark, overexposed, low information, blurry, grayscale stored as RGB.

Every score is read from the 64 x 64 thumbnails shared with the perceptual hash
(:mod:`.thumbnails`: area averages, aspect not kept), so it costs a few microseconds per image
after the one pass over the pixels, and it does not depend on the resolution. The limits are
named thresholds (``thresholds={"dark_image": 0.25, ...}`` on any manager):

- ``dark_image`` 0.32: an image is dark when the 99th percentile of its perceived brightness
  ``sqrt(0.241 R^2 + 0.691 G^2 + 0.068 B^2) / 255`` is below it: almost no pixel is bright.
  Measure and limit are cleanvision's ("dark", threshold 0.32 on the 99th percentile);
- ``overexposed_image`` 0.95: overexposed when the 5th percentile is above it: almost no pixel
  is dark. cleanvision's "light" (score 1 - 5th percentile, threshold 0.05);
- ``low_information_image`` 3.0: low information (a blank, nearly flat or low-contrast frame)
  when the entropy of the grey thumbnail's 256-level histogram is below 3 bits, i.e. as if it
  used fewer than 8 grey levels. cleanvision's "low information" (entropy x 0.1 below 0.3);
- ``blurry_image`` 0.4: blurry when the sharpness, the standard deviation of the 4-neighbour
  Laplacian of the grey thumbnail divided by the thumbnail's own standard deviation (its
  contrast, at least 1 level), is below it. The issue's measure (variance of the Laplacian of a
  downscaled grey image) made independent of exposure and contrast: cleanvision's edge
  standard deviation, not normalised, also calls dark and low-contrast images blurry. The
  limit is ours, measured on the demo images: blurred with sigma = 3, the 128 x 160 street
  scenes score 0.06-0.26 (originals 0.28-1.1) and 97% of the 64 x 64 shapes fall below 0.4; at
  256 px a sigma of 3 is 0.75 thumbnail pixels and 93% of the detection images fall below (their
  smooth originals: 10% below); sharp scikit-image photos score 0.59-3.6, the soft studio
  ``clock`` photo 0.29;
- ``grayscale_tolerance`` 3: grayscale stored as RGB when no thumbnail pixel has channels more
  than 3 levels apart (JPEG chroma rounding leaves 1-2 levels). cleanvision requires exact
  equality, which a JPEG re-save of a grey image breaks.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Dict

import cv2
import numpy as np

from data_gradients.batch import ImageBatch, pixel_kernels
from data_gradients.feature_extractors.base import FeatureExtractor, keep_smallest
from data_gradients.feature_extractors.common.thumbnails import grey_thumbnails, table_sums_to_uint8
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Finding, Histogram
from data_gradients.thresholds import declare, threshold

MAX_IDS = 20  # sample ids kept per check and split: the smallest ones
_W = np.array([0.241, 0.691, 0.068], dtype=np.float32)  # cleanvision's perceived brightness weights
_LEVELS = np.arange(256, dtype=np.float32)
_SQUARES = [(w * _LEVELS) * _LEVELS for w in _W]  # float32 (w * v) * v per channel
_VALUES = np.arange(256, dtype=np.int64)

# check -> (score key, histogram title, x label, bin edges, threshold name, default, flagged when score is "below"/"above",
#           finding title, why)
CHECKS = {
    "dark": ("brightness_p99", "Brightness of the brightest pixels (99th percentile)", "perceived brightness (0-1)",
             np.linspace(0.0, 1.0, 51), "dark_image", 0.32, "below", "Dark images",
             "almost no pixel of these images is bright: underexposed or black frames; the model sees little"),
    "overexposed": ("brightness_p5", "Brightness of the darkest pixels (5th percentile)", "perceived brightness (0-1)",
                    np.linspace(0.0, 1.0, 51), "overexposed_image", 0.95, "above", "Overexposed images",
                    "almost no pixel of these images is dark: washed-out or white frames"),
    "low_information": ("entropy", "Information (entropy of the grey levels)", "entropy (bits)",
                        np.linspace(0.0, 8.0, 65), "low_information_image", 3.0, "below", "Low-information images",
                        "nearly flat, blank or very low-contrast images carry little for the model to learn"),
    "blurry": ("sharpness", "Sharpness (Laplacian / contrast of a 64 x 64 thumbnail)", "sharpness",
               np.linspace(0.0, 4.0, 81), "blurry_image", 0.4, "below", "Blurry images",
               "out of focus or motion-blurred images, or images upscaled from a much smaller one"),
    "grayscale": ("channel_spread", "Largest difference between colour channels", "levels (0-255)",
                  np.linspace(0.0, 256.0, 65), "grayscale_tolerance", 3.0, "atmost", "Grayscale images stored as RGB",
                  "the three channels are equal: grey images in a colour dataset (a camera mode, a conversion), "
                  "or a whole grey dataset paying for three channels"),
}
_DOCS = {
    "dark_image": "an image is dark when the 99th percentile of its perceived brightness (0-1) is below this "
                  "(cleanvision's default 0.32)",
    "overexposed_image": "an image is overexposed when the 5th percentile of its perceived brightness (0-1) is above "
                         "this (cleanvision's 'light': 1 - 0.05)",
    "low_information_image": "an image has low information when the entropy of its grey levels is below this many bits "
                             "(cleanvision's 0.3 x 10)",
    "blurry_image": "an image is blurry when its sharpness (Laplacian std / grey std on a 64 x 64 thumbnail) is below "
                    "this (measured on the demo images blurred with sigma 3)",
    "grayscale_tolerance": "an RGB image counts as grayscale when its channels differ by at most this many levels "
                           "(0-255) in every pixel of its 64 x 64 thumbnail",
}
for _spec in CHECKS.values():
    declare(_spec[4], _spec[5], _DOCS[_spec[4]], minimum=0.0, maximum=float(_spec[3][-1]))


def quality_scores(planes: np.ndarray, grey: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-image scores (float64, (N,)) from (N, 3, S, S) channel and (N, S, S) grey uint8 thumbnails.

    Brightness percentiles are read from each image's perceived brightness rounded to 256 levels
    (the smallest level whose cumulative count reaches the share: numpy's "inverted_cdf"
    percentile of the rounded levels, i.e. the level of that rank in the sorted levels), from
    per-image histograms of the levels; every sum is of integers, so exact. The counts come from one
    compiled pass per thumbnail (:func:`~data_gradients.batch.pixel_kernels.image_scores`, which computes the
    same float32 brightness 4 pixels a vector: 0.012-0.014 ms per thumbnail on an Intel Xeon (Ice Lake), one
    thread), else from a few OpenCV and numpy calls for the whole batch; the scores are computed from them alike.
    """
    n, side = len(grey), grey.shape[-1]
    p, m = side * side, max(side - 2, 0) ** 2  # pixels, and inner pixels (those with a Laplacian)
    if pixel_kernels.KERNELS is not None and n:  # the same integer counts in one compiled pass per thumbnail
        levels, counts, lap_sums, most = pixel_kernels.image_scores(planes, grey, _W)
        cum = np.cumsum(levels, axis=1)
        lap_s1, lap_s2 = lap_sums[:, 0], lap_sums[:, 1]
    else:
        cum = np.cumsum(image_histograms(perceived_levels(planes.reshape(n, 3, p))), axis=1)
        counts = image_histograms(grey.reshape(n, p))
        # the 4-neighbour Laplacian: OpenCV's ksize=1 kernel is its negative (same standard deviation);
        # rows 1..S-2 of a thumbnail read only its own rows, so the batch is one tall image
        lap = cv2.Laplacian(grey.reshape(n * side, side), cv2.CV_16S, ksize=1).reshape(n, side, side)[:, 1:-1, 1:-1]
        lap = lap.reshape(n, -1).astype(np.int32)
        lap_s1, lap_s2 = lap.sum(axis=1, dtype=np.int64), (lap * lap).sum(axis=1, dtype=np.int64)
        flat = planes.reshape(n, 3, p)
        most = (np.maximum(np.maximum(flat[:, 0], flat[:, 1]), flat[:, 2])
                - np.minimum(np.minimum(flat[:, 0], flat[:, 1]), flat[:, 2])).max(axis=1, initial=0)
    share = counts / p
    logs = np.log2(np.where(counts > 0, share, 1.0))
    lap_std = _std(m, lap_s1, lap_s2)
    grey_std = _std(p, counts @ _VALUES, counts @ (_VALUES * _VALUES))
    return {
        "brightness_p99": np.argmax(cum >= int(np.ceil(0.99 * p)), axis=1) / 255.0,
        "brightness_p5": np.argmax(cum >= int(np.ceil(0.05 * p)), axis=1) / 255.0,
        "entropy": -(share * logs).sum(axis=1) + 0.0,
        "sharpness": lap_std / np.maximum(grey_std, 1.0),
        "channel_spread": np.asarray(most).astype(np.float64),
    }


def perceived_levels(rgb: np.ndarray) -> np.ndarray:
    """(N, P) uint8 ``min(rint(sqrt(0.241 R^2 + 0.691 G^2 + 0.068 B^2)), 255)`` of (N, 3, P) uint8 pixels, the
    float32 terms ``(w * v) * v`` read from 256-entry tables and added in the order R, G, B (the same float32
    operations as the elementwise formula: tests compare all 2**24 colours), a cache-sized chunk at a time
    (:func:`table_sums_to_uint8`)."""
    return table_sums_to_uint8(rgb, _SQUARES, _rounded_root)


def _rounded_root(total: np.ndarray, out: np.ndarray) -> None:
    cv2.convertScaleAbs(cv2.sqrt(total, dst=total), dst=out)  # rounded half to even (as np.rint), saturated at 255


def image_histograms(values: np.ndarray) -> np.ndarray:
    """(N, 256) int64 counts of the levels of each row of (N, P) uint8 ``values``: per 256 rows, one
    OpenCV joint histogram of (level, row index), the index read from a cached (256, P) uint8 table
    (float32 counts, exact far beyond a thumbnail's pixels)."""
    n, p = values.shape
    out = np.empty((n, 256), dtype=np.int64)
    index = _row_index(p)
    for a in range(0, n, 256):
        m = min(n, a + 256) - a
        hist = cv2.calcHist([values[a:a + m], index[:m]], [0, 1], None, [256, m], [0, 256, 0, m])
        out[a:a + m] = hist.T
    return out


@lru_cache(maxsize=8)
def _row_index(p: int) -> np.ndarray:
    """(256, p) uint8: row i holds i."""
    index = np.repeat(np.arange(256, dtype=np.uint8)[:, None], p, axis=1)
    index.flags.writeable = False
    return index


def _std(m: int, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Population standard deviations of ``m`` integers from their exact int64 sums ``s1`` and sums of squares ``s2``."""
    return np.sqrt((m * s2 - s1 * s1).astype(np.float64)) / m


def flagged(scores: Dict[str, np.ndarray], context) -> Dict[str, np.ndarray]:
    """(N,) bool per check: the scores past the thresholds in force."""
    out = {}
    for check, (key, _, _, _, name, _, side, _, _) in CHECKS.items():
        limit = threshold(context, name)
        s = scores[key]
        out[check] = s < limit if side == "below" else (s > limit if side == "above" else s <= limit)
    return out


@register_feature
class ImageQuality(FeatureExtractor):
    name = "image_quality"
    title = "Image quality"
    description = (
        "Per-image checks on a 64 x 64 thumbnail: dark, overexposed, low information (nearly flat), blurry, and "
        "grayscale images stored as RGB, with the distribution of each score and the first sample ids of the images "
        "past each threshold (cleanvision's measures and defaults where they fit)."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "quality"

    def setup(self) -> None:
        self.add_state("images", 0, "sum")
        for check, spec in CHECKS.items():
            self.add_state(f"{check}_histogram", np.zeros(len(spec[3]) - 1, dtype=np.int64), "windows")
            self.add_state(f"{check}_images", 0, "windows")  # flagged images per window of the stream
            self.add_state(f"{check}_ids", [], "smallest", cap=MAX_IDS)

    def update(self, batch: ImageBatch, split: str) -> None:
        if len(batch) == 0:
            return
        thumbs = grey_thumbnails(batch)
        scores = quality_scores(thumbs.planes, thumbs.grey)
        bad = flagged(scores, self.context)
        windows = self.stream_windows(batch, split)
        st = self.state(split)
        st.images += len(batch)
        ids = np.asarray(batch.sample_ids, dtype=np.int64)
        for check, spec in CHECKS.items():
            edges = spec[3]
            bins = np.searchsorted(edges, scores[spec[0]], side="right") - 1
            np.minimum(np.maximum(bins, 0, out=bins), len(edges) - 2, out=bins)  # np.clip, without its overhead
            add_counts(getattr(st, f"{check}_histogram"), windows, bins)
            if bad[check].any():
                hit = ids[bad[check]].tolist()
                add_counts(getattr(st, f"{check}_images"), windows[bad[check]])
                setattr(st, f"{check}_ids", keep_smallest(getattr(st, f"{check}_ids"), [(i, i) for i in hit], MAX_IDS))

    def compute(self):
        res = self.new_result()
        splits = self.splits
        for check, (key, title, x_label, edges, name, _, side, f_title, why) in CHECKS.items():
            res.histograms.append(Histogram(
                key=key, title=title, x_label=x_label, y_label="share of images", bin_edges=edges.copy(),
                **self.stream_histogram(splits, lambda st, check=check: getattr(st, f"{check}_histogram")),
            ))
            counts = {s: int(getattr(self.state(s), f"{check}_images").sum()) for s in splits}
            words = side.replace("atmost", "at most")
            res.series.append(self.headline_series(
                splits, f"{check}_images", f"{f_title}: images with {key} {words} the threshold, among the images read so far",
                "images", lambda st, check=check: getattr(st, f"{check}_images")))
            for s in splits:
                res.scalars.setdefault(f"{check}_images", {})[s] = counts[s]
            if not any(counts.values()):
                continue
            limit = threshold(self.context, name)
            rule = {"below": f"{key} below {limit:g}", "above": f"{key} above {limit:g}",
                    "atmost": f"{key} at most {limit:g}"}[side]
            per_split = ", ".join(f"{s}: {n} of {int(self.state(s).images)}" for s, n in counts.items() if n)
            res.findings.append(Finding(
                key=f"{check}_images", title=f_title, severity="info" if check == "grayscale" else "warning",
                message=f"{sum(counts.values())} images with {rule} ({per_split}); threshold `{name}`",
                why=why, counts={s: n for s, n in counts.items() if n},
                sample_ids={s: [int(i) for i, _ in getattr(self.state(s), f"{check}_ids")] for s in splits if counts[s]},
            ))
        return res
