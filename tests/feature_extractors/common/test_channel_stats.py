import pickle

import numpy as np
import pytest

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.common.channel_stats import ImageChannelStats, normalize_line

CTX = AnalysisContext(task="segmentation", num_classes=3, class_ids=(0, 1, 2))


def batches(images, first_id=0):
    masks = [np.zeros(np.asarray(im).shape[-2:], dtype=np.int64) for im in images]
    return SegmentationBatchBuilder(3, (0, 1, 2), ()).build(images, masks, first_id)


def feed(ext, images, split="train", first_id=0):
    for b in batches(images, first_id):
        ext.update(b, split)
    return ext


def constant_images(values, h=8, w=6):
    """(N,3,H,W) uint8 where image i has channel values values[i] = (r, g, b)."""
    v = np.asarray(values, dtype=np.uint8)
    return np.broadcast_to(v[:, :, None, None], (len(v), 3, h, w)).copy()


def test_constant_images_give_exact_mean_and_std():
    values = [(0, 10, 255), (100, 20, 255), (200, 30, 255), (50, 40, 255)]
    res = feed(ImageChannelStats(CTX), constant_images(values)).compute()
    v = np.array(values, dtype=np.float64) / 255
    for c, ch in enumerate("RGB"):
        assert res.scalars[f"mean_{ch}"]["train"] == pytest.approx(v[:, c].mean(), abs=1e-15)
        assert res.scalars[f"std_{ch}"]["train"] == pytest.approx(v[:, c].std(), abs=1e-15)
    assert res.scalars["std_B"]["train"] == 0.0  # no cancellation error on constant data


def test_half_black_half_white_gives_half_and_half():
    img = np.zeros((1, 3, 4, 4), dtype=np.uint8)
    img[..., :2] = 255
    res = feed(ImageChannelStats(CTX), img).compute()
    table = next(t for t in res.tables if t.key == "normalisation")
    assert table.rows == [["train", "Normalize(mean=[0.500, 0.500, 0.500], std=[0.500, 0.500, 0.500])"]]


def test_matches_numpy_over_two_sizes_and_two_splits():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (5, 3, 16, 24), dtype=np.uint8)
    b = rng.integers(0, 256, (3, 3, 40, 8), dtype=np.uint8)
    ext = ImageChannelStats(CTX)
    feed(ext, list(a) + list(b))
    feed(ext, a[:2], split="val")
    res = ext.compute()
    pixels = np.concatenate([a.transpose(1, 0, 2, 3).reshape(3, -1), b.transpose(1, 0, 2, 3).reshape(3, -1)], axis=1)
    ref = pixels.astype(np.float64) / 255
    for c, ch in enumerate("RGB"):
        assert res.scalars[f"mean_{ch}"]["train"] == pytest.approx(ref[c].mean(), rel=1e-12)
        assert res.scalars[f"std_{ch}"]["train"] == pytest.approx(ref[c].std(), rel=1e-12)
    val = a[:2].transpose(1, 0, 2, 3).reshape(3, -1).astype(np.float64) / 255
    assert res.scalars["mean_G"]["val"] == pytest.approx(val[1].mean(), rel=1e-12)
    assert [r[0] for r in res.tables[0].rows] == ["train", "val"]


def test_channel_sums_are_exact_on_a_large_plane():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (1, 3, 2048, 1536), dtype=np.uint8)
    st = feed(ImageChannelStats(CTX), img).state("train")
    flat = img.reshape(3, -1)
    assert [int(x) for x in st.sum] == [int(x) for x in flat.sum(axis=1, dtype=np.int64)]
    assert [int(x) for x in st.sumsq] == [int(x) for x in np.square(flat, dtype=np.uint32).sum(axis=1, dtype=np.int64)]
    assert st.pixels == 2048 * 1536


def test_source_channels_are_counted():
    ext = ImageChannelStats(CTX)
    feed(ext, np.zeros((2, 1, 4, 4), dtype=np.uint8))  # grayscale N,1,H,W
    feed(ext, np.zeros((3, 4, 4, 4), dtype=np.uint8), first_id=2)  # RGBA
    feed(ext, np.zeros((1, 3, 4, 4), dtype=np.uint8), first_id=5)
    table = next(t for t in ext.compute().tables if t.key == "source_channels")
    assert table.rows == [["train", "1", 2], ["train", "3", 1], ["train", "4", 3]]


def test_batched_merged_and_single_agree_exactly():
    rng = np.random.default_rng(3)
    imgs = rng.integers(0, 256, (12, 3, 8, 8), dtype=np.uint8)
    single = feed(ImageChannelStats(CTX), imgs).compute()
    batched = ImageChannelStats(CTX)
    for i in range(0, 12, 5):
        feed(batched, imgs[i:i + 5], first_id=i)
    a, b = feed(ImageChannelStats(CTX), imgs[:7]), feed(ImageChannelStats(CTX), imgs[7:], first_id=7)
    merged = pickle.loads(pickle.dumps(b)).merge(a)
    assert batched.compute().scalars == single.scalars == merged.compute().scalars
    merged.reset()
    assert merged.splits == ()


def test_normalize_line_format():
    assert normalize_line(np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])) == (
        "Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])")


def test_sums_do_not_overflow_int64():
    ext = feed(ImageChannelStats(CTX), np.full((1, 3, 1024, 1024), 255, dtype=np.uint8))
    for _ in range(30):  # 2**30 megapixel images: sum of squares ~7e19 > int64 max
        ext.merge(pickle.loads(pickle.dumps(ext)))
    assert int(ext.state("train").sumsq[0]) == 255**2 * 1024**2 * 2**30
    res = ext.compute()
    assert res.scalars["mean_R"]["train"] == 1.0 and res.scalars["std_R"]["train"] == 0.0
