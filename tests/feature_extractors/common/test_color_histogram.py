"""Known answers for the per-channel colour distribution."""
import numpy as np
import pytest

from data_gradients.batch import ImageBatch
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.common.color_histogram import ColorDistribution

CTX = AnalysisContext(task="segmentation", num_classes=2, class_ids=(0, 1))


def batch(images):
    n = len(images)
    return ImageBatch(images=np.asarray(images, np.uint8), sample_ids=np.arange(n),
                      nonfinite_pixels=np.zeros(n, np.int64), source_channels=3)


# odd planes: counted by OpenCV; even ones by the compiled pass where it is built (224 x 224: the three planes of an
# image together; 1280 x 720 planes are over that way's limit: plane by plane)
@pytest.mark.parametrize("shape", [(7, 11), (8, 12), (224, 224), (720, 1280)])
def test_counts_every_value_of_every_channel_exactly(shape):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 3, *shape), dtype=np.uint8)
    images[1, :, : shape[0] // 2] = 200  # a flat region: the same pair counted many times in a row
    ex = ColorDistribution(CTX)
    ex.update(batch(images[:2]), "train")
    ex.update(batch(images[2:]), "train")
    got = ex.state("train").counts
    for ch in range(3):
        assert got[ch].tolist() == np.bincount(images[:, ch].ravel(), minlength=256).tolist()


def test_result_histograms_and_clipping_scalars():
    img = np.zeros((1, 3, 2, 2), dtype=np.uint8)
    img[0, 0] = [[0, 255], [255, 255]]  # R: one 0, three 255
    img[0, 1] = 128
    img[0, 2] = [[0, 0], [10, 20]]
    ex = ColorDistribution(CTX)
    ex.update(batch(img), "train")
    ex.update(batch(img), "val")
    res = ex.compute()
    assert [h.key for h in res.histograms] == ["channel_R", "channel_G", "channel_B"]
    r = res.histograms[0]
    assert r.bin_edges[0] == 0 and r.bin_edges[-1] == 256 and len(r.counts["train"]) == 256
    assert r.counts["train"][255] == 3 and r.counts["val"][0] == 1
    assert res.scalars["share_at_0_R"]["train"] == pytest.approx(0.25)
    assert res.scalars["share_at_255_R"]["train"] == pytest.approx(0.75)
    assert res.scalars["median_G"]["train"] == 128
    assert res.scalars["median_B"]["train"] == 0
    assert res.scalars["share_at_255_G"]["val"] == 0
