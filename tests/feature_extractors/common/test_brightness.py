import numpy as np
import pytest

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.common.brightness import BIN_EDGES, ImageBrightness

CTX = AnalysisContext(task="segmentation", num_classes=2, class_ids=(0, 1))


def feed(ext, images, split="train", first_id=0):
    masks = [np.zeros(np.asarray(im).shape[-2:], dtype=np.int64) for im in images]
    for b in SegmentationBatchBuilder(2, (0, 1), ()).build(images, masks, first_id):
        ext.update(b, split)
    return ext


def gray(values, h=5, w=7):
    v = np.asarray(values, dtype=np.uint8)
    return np.broadcast_to(v[:, None, None, None], (len(v), 3, h, w)).copy()


GRAYS = [10, 50, 51, 100, 204, 205, 255]


def test_gray_images_known_mean_std_and_shares():
    res = feed(ImageBrightness(CTX), gray(GRAYS)).compute()
    v = np.array(GRAYS, dtype=np.float64)
    assert res.scalars["mean_brightness"]["train"] == pytest.approx(v.mean(), abs=1e-9)
    assert res.scalars["std_brightness"]["train"] == pytest.approx(v.std(), abs=1e-9)
    assert res.scalars["share_dark_images"]["train"] == 2 / 7  # 10 and 50 (< 51)
    assert res.scalars["share_bright_images"]["train"] == 2 / 7  # 205 and 255 (> 204)


def test_histogram_bins():
    res = feed(ImageBrightness(CTX), gray(GRAYS)).compute()
    (hist,) = res.histograms
    assert len(hist.bin_edges) == 65 and hist.bin_edges[0] == 0 and hist.bin_edges[-1] == 255
    expected = np.zeros(64, dtype=np.int64)
    for v in GRAYS:  # bin width 255/64 = 3.984; 255 closes the last bin
        expected[min(int(v * 64 // 255), 63)] += 1
    assert hist.counts["train"].tolist() == expected.tolist()
    assert expected[63] == 1 and expected[2] == 1  # 255 -> 63, 10 -> 2
    assert np.histogram(GRAYS, BIN_EDGES)[0].tolist() == expected.tolist()


def test_luma_weights_on_pure_colours():
    imgs = np.zeros((3, 3, 4, 4), dtype=np.uint8)
    for c in range(3):
        imgs[c, c] = 255
    ext = feed(ImageBrightness(CTX), imgs)
    mean = ext.compute().scalars["mean_brightness"]["train"]
    assert mean == pytest.approx(255 * (0.299 + 0.587 + 0.114) / 3, abs=1e-5)
    assert ext.state("train").dark[:4].tolist() == [0, 0, 1, 0]  # pure blue (image 2): 0.114 * 255 = 29 < 51
    share = next(s for s in ext.compute().series if s.key == "share_dark_images")  # along the stream
    assert share.headline and share.values["train"]["share_dark_images"].tolist() == [0.0, 0.0, 1 / 3]


def test_constant_split_has_zero_std_and_different_sizes_weigh_equally():
    ext = ImageBrightness(CTX)
    feed(ext, gray([80, 80], h=3, w=3))
    feed(ext, gray([80], h=30, w=40), first_id=2)
    feed(ext, gray([0], h=2, w=2), split="val")
    feed(ext, gray([200], h=50, w=50), split="val", first_id=1)
    res = ext.compute()
    assert res.scalars["std_brightness"]["train"] == 0.0
    assert res.scalars["mean_brightness"]["train"] == 80.0
    assert res.scalars["mean_brightness"]["val"] == 100.0  # per-image mean, not per-pixel
    assert res.scalars["std_brightness"]["val"] == 100.0


def test_batched_merged_and_single_agree_exactly():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (10, 3, 6, 6), dtype=np.uint8)
    single = feed(ImageBrightness(CTX), imgs).compute()
    batched = ImageBrightness(CTX)
    for i in range(0, 10, 3):
        feed(batched, imgs[i:i + 3], first_id=i)
    merged = feed(ImageBrightness(CTX), imgs[6:], first_id=6).merge(feed(ImageBrightness(CTX), imgs[:6]))
    for other in (batched.compute(), merged.compute()):
        assert other.scalars == single.scalars
        assert other.histograms[0].counts["train"].tolist() == single.histograms[0].counts["train"].tolist()
