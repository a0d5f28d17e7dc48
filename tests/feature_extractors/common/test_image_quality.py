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
from data_gradients.feature_extractors.common.image_quality import ImageQuality, perceived_levels, quality_scores
from data_gradients.feature_extractors.common.thumbnails import compute_thumbnails

pytestmark = pytest.mark.usefixtures("pixel_path")  # compiled pixel loops and OpenCV ways alike

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


W32 = np.array([0.241, 0.691, 0.068], dtype=np.float32)


def numpy_scores(planes, grey):
    """The scores elementwise in numpy, one array per step (the earlier implementation, the oracle of the faster one)."""
    n, p = len(grey), grey[0].size
    rgb = planes.reshape(n, 3, p).astype(np.float32)
    perceived = np.sqrt(W32[0] * rgb[:, 0] * rgb[:, 0] + W32[1] * rgb[:, 1] * rgb[:, 1] + W32[2] * rgb[:, 2] * rgb[:, 2])
    levels = np.minimum(np.rint(perceived), 255).astype(np.int64)

    def histograms(values):
        keys = values + (np.arange(n, dtype=np.int64) * 256)[:, None]
        return np.bincount(keys.reshape(-1), minlength=n * 256).reshape(n, 256)

    def std(x):
        v = x.reshape(len(x), -1)
        s1, s2 = v.sum(axis=1, dtype=np.int64), (v * v).sum(axis=1, dtype=np.int64)
        return np.sqrt((v.shape[1] * s2 - s1 * s1).astype(np.float64)) / v.shape[1]

    cum = np.cumsum(histograms(levels), axis=1, dtype=np.int32)
    counts = histograms(grey.reshape(n, p).astype(np.int64))
    share = counts / p
    logs = np.log2(np.where(counts > 0, share, 1.0))
    g = grey.astype(np.int32)
    lap = 4 * g[:, 1:-1, 1:-1] - g[:, :-2, 1:-1] - g[:, 2:, 1:-1] - g[:, 1:-1, :-2] - g[:, 1:-1, 2:]
    spread = planes.reshape(n, 3, p).max(axis=1) - planes.reshape(n, 3, p).min(axis=1)
    return {
        "brightness_p99": np.argmax(cum >= int(np.ceil(0.99 * p)), axis=1) / 255.0,
        "brightness_p5": np.argmax(cum >= int(np.ceil(0.05 * p)), axis=1) / 255.0,
        "entropy": -(share * logs).sum(axis=1) + 0.0,
        "sharpness": std(lap) / np.maximum(std(g), 1.0),
        "channel_spread": spread.max(axis=1).astype(np.float64),
    }


def test_perceived_levels_equal_the_float32_formula_for_every_colour():
    rgb = np.empty((256, 3, 65536), np.uint8)  # image r holds every (g, b) with red r: all 2**24 colours
    rgb[:, 0] = np.arange(256, dtype=np.uint8)[:, None]
    rgb[:, 1] = np.repeat(np.arange(256, dtype=np.uint8), 256)[None]
    rgb[:, 2] = np.tile(np.arange(256, dtype=np.uint8), 256)[None]
    f = rgb.astype(np.float32)
    perceived = np.sqrt(W32[0] * f[:, 0] * f[:, 0] + W32[1] * f[:, 1] * f[:, 1] + W32[2] * f[:, 2] * f[:, 2])
    assert (perceived - np.floor(perceived) == 0.5).any()  # ties exist: rounding half to even is exercised
    assert np.array_equal(perceived_levels(rgb), np.minimum(np.rint(perceived), 255).astype(np.uint8))


def test_scores_equal_the_elementwise_numpy_scores_exactly():
    rng = np.random.default_rng(5)
    checker = (np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8)  # the largest Laplacian
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (40 * 3 * 64, 64), dtype=np.uint8), (7, 7), 2).reshape(40, 3, 64, 64)
    for planes in (rng.integers(0, 256, (64, 3, 64, 64), dtype=np.uint8), smooth,
                   rng.integers(0, 3, (20, 3, 64, 64), dtype=np.uint8), np.zeros((2, 3, 64, 64), np.uint8),
                   np.full((3, 3, 64, 64), 255, np.uint8), np.repeat(checker[None, None], 3, axis=1),
                   rng.integers(0, 256, (1, 3, 64, 64), dtype=np.uint8)):
        luma = np.einsum("nchw,c->nhw", planes.astype(np.int32), np.array([299, 587, 114], np.int32))
        for grey in (((luma + 500) // 1000).astype(np.uint8), np.ascontiguousarray(planes[:, 0][::-1])):
            ours, reference = quality_scores(planes, grey), numpy_scores(planes, grey)
            assert ours.keys() == reference.keys()
            for key in ours:
                assert ours[key].dtype == reference[key].dtype and np.array_equal(ours[key], reference[key]), key


def test_image_histograms_count_each_row_in_batches_of_256_rows():
    from data_gradients.feature_extractors.common.image_quality import image_histograms

    rng = np.random.default_rng(8)
    for n, p in ((1, 1), (3, 4096), (300, 37), (513, 5)):
        values = rng.integers(0, 256, (n, p), dtype=np.uint8)
        values[-1] = 255
        want = np.stack([np.bincount(row, minlength=256) for row in values])
        got = image_histograms(values)
        assert got.dtype == np.int64 and np.array_equal(got, want), (n, p)
