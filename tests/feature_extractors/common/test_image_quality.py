"""Image quality: blurred (sigma 3), darkened and grayscale copies of demo images are flagged, their
originals are not; scores equal slow references; thresholds are settable."""
import cv2
import numpy as np
import pytest
from scipy.stats import entropy

from data_gradients.batch import ImageBatch
from data_gradients.context import AnalysisContext
from data_gradients.demo.classification_data import render_classification_sample
from data_gradients.demo.datasets import render_sample
from data_gradients.feature_extractors.common.image_quality import ImageQuality, quality_scores
from data_gradients.feature_extractors.common.thumbnails import compute_thumbnails

CTX = AnalysisContext(task="segmentation", num_classes=6, class_ids=tuple(range(6)))
CHECKS = ("dark", "overexposed", "low_information", "blurry", "grayscale")


def demo_images(kind, n=12):
    if kind == "segmentation":
        return [render_sample(0, "train", i, (128, 160))[0] for i in range(n)]
    return [render_classification_sample(0, "train", i)[0] for i in range(n) if i != 3]  # 3: a dark "ring"


COPIES = {
    "blurry": lambda im: cv2.GaussianBlur(im, (0, 0), 3),
    "dark": lambda im: (im // 4).astype(np.uint8),
    "grayscale": lambda im: np.repeat(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2),
    "overexposed": lambda im: np.clip(im.astype(np.int32) + 230, 0, 255).astype(np.uint8),
    "low_information": lambda im: np.full_like(im, 120) + (im > 128).astype(np.uint8) * 3,
}


def feed(images, ctx=CTX, split="train"):
    ex = ImageQuality(ctx)
    batch = np.stack([np.ascontiguousarray(im.transpose(2, 0, 1)) for im in images])
    ex.update(ImageBatch(images=batch, sample_ids=np.arange(len(images)), nonfinite_pixels=np.zeros(len(images), np.int64),
                         source_channels=3), split)
    return ex.compute()


@pytest.mark.parametrize("kind", ["segmentation", "classification"])
def test_originals_are_clean_and_each_copy_is_flagged(kind):
    originals = demo_images(kind)
    res = feed(originals)
    assert {c: res.scalars[f"{c}_images"]["train"] for c in CHECKS} == dict.fromkeys(CHECKS, 0)
    assert res.findings == []
    for check, make in COPIES.items():
        res = feed([make(im) for im in originals])
        assert res.scalars[f"{check}_images"]["train"] == len(originals), check
        finding = next(f for f in res.findings if f.key == f"{check}_images")
        assert finding.sample_ids["train"] == list(range(len(originals)))[:20]


def test_scores_equal_slow_references():
    rng = np.random.default_rng(0)
    images = list(rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)) + demo_images("segmentation", 3)
    thumbs = compute_thumbnails(np.stack([np.ascontiguousarray(cv2.resize(im, (160, 128)).transpose(2, 0, 1))
                                          for im in images]))
    scores = quality_scores(thumbs.planes, thumbs.grey)
    for i in range(len(images)):
        rgb = thumbs.planes[i].astype(np.float64)
        perceived = np.sqrt(0.241 * rgb[0] ** 2 + 0.691 * rgb[1] ** 2 + 0.068 * rgb[2] ** 2)
        levels = np.rint(perceived)  # float64 here, float32 there: a level may differ where the value is k + 1/2
        for key, q in (("brightness_p99", 99), ("brightness_p5", 5)):
            assert abs(scores[key][i] * 255 - np.percentile(levels, q, method="inverted_cdf")) <= 1
            assert abs(scores[key][i] * 255 - np.percentile(perceived, q, method="inverted_cdf")) <= 0.5 + 1e-4
        counts = np.bincount(thumbs.grey[i].reshape(-1), minlength=256)
        assert scores["entropy"][i] == pytest.approx(entropy(counts, base=2), rel=1e-12)
        grey = thumbs.grey[i].astype(np.float64)
        lap = cv2.Laplacian(grey, cv2.CV_64F, ksize=1)[1:-1, 1:-1]
        assert scores["sharpness"][i] == pytest.approx(lap.std() / max(grey.std(), 1.0), rel=1e-9)
        assert scores["channel_spread"][i] == np.ptp(thumbs.planes[i].astype(int), axis=0).max()


def test_thresholds_in_force_decide():
    images = [COPIES["dark"](im) for im in demo_images("segmentation", 4)]
    assert feed(images).scalars["dark_images"]["train"] == 4
    lenient = AnalysisContext(task="segmentation", num_classes=6, class_ids=tuple(range(6)),
                              thresholds=(("dark_image", 0.05),))
    res = feed(images, lenient)
    assert res.scalars["dark_images"]["train"] == 0
    hist = next(h for h in res.histograms if h.key == "brightness_p99")
    assert hist.counts["train"].sum() == 4 and len(hist.bin_edges) == 51
