import numpy as np

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.common.resolution import ASPECT_EDGES, ImageResolution, aspect_bin

CTX = AnalysisContext(task="segmentation", num_classes=2, class_ids=(0, 1))


def feed(ext, sizes, split="train", first_id=0):
    """One sample per (h, w) in ``sizes``, all in one loader batch."""
    images = [np.zeros((3, h, w), dtype=np.uint8) for h, w in sizes]
    masks = [np.zeros((h, w), dtype=np.int64) for h, w in sizes]
    for b in SegmentationBatchBuilder(2, (0, 1), ()).build(images, masks, first_id):
        ext.update(b, split)
    return ext


SIZES = [(32, 130)] * 3 + [(70, 20)] * 2  # (H, W)


def test_two_resolutions_counted_exactly():
    ext = feed(ImageResolution(CTX), SIZES)
    assert ext.state("train").resolutions == {"32x130": 3, "70x20": 2}
    res = ext.compute()
    (table,) = res.tables
    assert table.rows == [["train", 1, "32x130", 3, 0.6], ["train", 2, "70x20", 2, 0.4]]
    sc = {k: v["train"] for k, v in res.scalars.items()}
    assert sc["images"] == 5 and sc["distinct_resolutions"] == 2
    assert (sc["min_width"], sc["max_width"], sc["min_height"], sc["max_height"]) == (20, 130, 32, 70)
    assert sc["mean_width"] == (3 * 130 + 2 * 20) / 5 and sc["mean_height"] == (3 * 32 + 2 * 70) / 5


def test_histograms_on_fixed_edges():
    res = feed(ImageResolution(CTX), SIZES).compute()
    hists = {h.key: h for h in res.histograms}
    width = hists["width"]
    assert len(width.bin_edges) == 66 and width.bin_edges[1] == 64 and np.isfinite(width.bin_edges).all()
    assert width.counts["train"][2] == 3 and width.counts["train"][0] == 2  # 130 // 64 = 2, 20 // 64 = 0
    assert hists["height"].counts["train"][0] == 3 and hists["height"].counts["train"][1] == 2
    aspect = hists["aspect_ratio"]
    assert aspect.log_x and np.isfinite(aspect.bin_edges).all()
    assert len(aspect.bin_edges) == len(aspect.counts["train"]) + 1 == 35
    assert aspect.counts["train"][33] == 3  # 130 / 32 > 4: overflow
    assert aspect.counts["train"][aspect_bin(20, 70)] == 2
    edges = aspect.bin_edges
    k = aspect_bin(20, 70)
    assert edges[k] <= 20 / 70 < edges[k + 1]


def test_aspect_bin_boundaries():
    assert ASPECT_EDGES[16] == 1.0 and ASPECT_EDGES[0] == 0.25 and ASPECT_EDGES[-1] == 4.0
    assert aspect_bin(10, 10) == 17  # [1, 2**(1/8))
    assert aspect_bin(4, 16) == 1 and aspect_bin(16, 4) == 32  # 1/4 and 4 are inside
    assert aspect_bin(1, 5) == 0 and aspect_bin(5, 1) == 33
    assert aspect_bin(19, 20) == 16 and aspect_bin(9, 10) == 15  # 2**(-1/8) = 0.917


def test_overflow_bins_cover_the_data():
    res = feed(ImageResolution(CTX), [(1, 5000), (5, 5)]).compute()
    width = next(h for h in res.histograms if h.key == "width")
    assert width.counts["train"][-1] == 1 and width.bin_edges[-2] == 4096 and width.bin_edges[-1] == 5001
    height = next(h for h in res.histograms if h.key == "height")
    assert height.bin_edges[-1] == 4096 + 64  # no overflow data: one empty step past 4096
    aspect = next(h for h in res.histograms if h.key == "aspect_ratio")
    assert aspect.bin_edges[-1] == 5000.0 and aspect.counts["train"][-1] == 1


def test_counter_is_capped(monkeypatch):
    from data_gradients.feature_extractors.common import resolution

    monkeypatch.setattr(resolution, "MAX_RESOLUTIONS", 2)
    ext = feed(ImageResolution(CTX), [(4, 4), (5, 5), (6, 6), (7, 7), (4, 4)])
    # the keys kept are those of smallest stable hash (order-independent): here 7x7 and 4x4
    assert ext.state("train").resolutions == {"4x4": 2, "7x7": 1, "other": 2}
    res = ext.compute()
    assert [r[2] for r in res.tables[0].rows] == ["4x4", "7x7"]
    assert res.scalars["images"]["train"] == 5


def test_splits_batches_and_merge_agree():
    one = feed(ImageResolution(CTX), SIZES)
    feed(one, [(8, 8)], split="val")
    parts = [feed(ImageResolution(CTX), [s], first_id=i) for i, s in enumerate(SIZES)]
    merged = parts[0]
    for p in parts[1:]:
        merged.merge(p)
    merged.merge(feed(ImageResolution(CTX), [(8, 8)], split="val"))
    a, b = one.compute(), merged.compute()
    assert a.scalars == b.scalars and a.tables == b.tables
    assert a.scalars["mean_width"]["val"] == 8
    for ha, hb in zip(a.histograms, b.histograms):
        assert ha.bin_edges.tolist() == hb.bin_edges.tolist()
        assert all(ha.counts[s].tolist() == hb.counts[s].tolist() for s in ("train", "val"))
