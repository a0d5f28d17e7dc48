import numpy as np

from data_gradients.batch import ImageBatch, SegmentationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.common.data_quality import DataQuality

CTX = AnalysisContext(task="segmentation", num_classes=3, class_ids=(0, 1, 2))


def feed(ext, images, masks, split="train", first_id=0):
    for b in SegmentationBatchBuilder(3, (0, 1, 2), (255,)).build(images, masks, first_id):
        ext.update(b, split)
    return ext


def clean(n, h=4, w=5):
    return np.full((n, 3, h, w), 0.5, dtype=np.float32), np.ones((n, h, w), dtype=np.int64)


def finding(res, key):
    return next(f for f in res.findings if f.key == key)


def test_clean_data_has_zero_counts_and_no_findings():
    res = feed(DataQuality(CTX), *clean(4)).compute()
    assert res.findings == []
    for name in ("images_with_nonfinite_pixels", "masks_with_out_of_range_ids", "empty_masks",
                 "nonfinite_pixels", "out_of_range_pixels"):
        assert res.scalars[name] == {"train": 0}


def test_nan_and_inf_pixels_counted_with_sample_ids():
    images, masks = clean(5)
    images[1, 0, 0, 0] = np.nan
    images[3, 2, 1, :3] = np.inf
    ext = DataQuality(CTX)
    feed(ext, images, masks, first_id=100)
    feed(ext, *clean(2), split="val")
    res = ext.compute()
    assert res.scalars["images_with_nonfinite_pixels"] == {"train": 2, "val": 0}
    assert res.scalars["nonfinite_pixels"] == {"train": 4, "val": 0}
    f = finding(res, "nonfinite")
    assert f.severity == "error" and f.counts == {"train": 2, "val": 0} and f.total == 2
    assert f.sample_ids == {"train": [101, 103], "val": []}
    assert f.why and "\n" not in f.why and "2 of 5" in f.message
    assert [x.key for x in res.findings] == ["nonfinite"]


def test_out_of_range_ids_and_empty_masks():
    images, masks = clean(5)
    masks[2, 0, :3] = 7  # 3 out-of-range pixels
    masks[4, 1, 1] = -5  # 1 out-of-range pixel
    masks[0] = 255  # only ignored pixels: empty
    masks[3] = 9  # nothing counted, all out of range: both problems
    res = feed(DataQuality(CTX), images, masks, first_id=10).compute()
    assert res.scalars["masks_with_out_of_range_ids"] == {"train": 3}
    assert res.scalars["out_of_range_pixels"] == {"train": 3 + 1 + 20}
    assert res.scalars["empty_masks"] == {"train": 2}
    oor, empty = finding(res, "out_of_range"), finding(res, "empty")
    assert oor.sample_ids == {"train": [12, 13, 14]} and oor.severity == "error"
    assert empty.sample_ids == {"train": [10, 13]} and empty.severity == "warning"
    assert "24 pixels" in oor.message


def test_binary_background_only_mask_is_empty():
    ctx = AnalysisContext(task="segmentation", num_classes=1, class_ids=(1,))
    masks = np.zeros((3, 4, 4), dtype=np.int64)
    masks[1, 2, 2] = 1
    ext = DataQuality(ctx)
    for b in SegmentationBatchBuilder(1, (1,), ()).build(np.zeros((3, 3, 4, 4), np.uint8), masks, 0):
        ext.update(b, "train")
    assert finding(ext.compute(), "empty").sample_ids == {"train": [0, 2]}


def test_ids_are_the_smallest_twenty_whatever_the_order():
    images, masks = clean(30)
    masks[:] = 255
    forward, backward = DataQuality(CTX), DataQuality(CTX)
    for i in range(0, 30, 4):
        feed(forward, images[i:i + 4], masks[i:i + 4], first_id=i)
    for i in reversed(range(0, 30, 4)):
        feed(backward, images[i:i + 4], masks[i:i + 4], first_id=i)
    for ext in (forward, backward):
        f = finding(ext.compute(), "empty")
        assert f.counts == {"train": 30} and f.sample_ids == {"train": list(range(20))}


def test_merge_equals_single():
    images, masks = clean(8)
    images[5, 1, 0, 0] = np.nan
    masks[[1, 6]] = 255
    single = feed(DataQuality(CTX), images, masks).compute()
    a = feed(DataQuality(CTX), images[4:], masks[4:], first_id=4)
    merged = a.merge(feed(DataQuality(CTX), images[:4], masks[:4])).compute()
    assert merged.scalars == single.scalars and merged.findings == single.findings


def test_image_only_batches_report_only_pixels():
    ctx = AnalysisContext(task="classification", num_classes=3, class_ids=(0, 1, 2))
    batch = ImageBatch(images=np.zeros((3, 3, 4, 4), np.uint8), sample_ids=np.arange(3),
                       nonfinite_pixels=np.array([0, 2, 0]), source_channels=3)
    ext = DataQuality(ctx)
    ext.update(batch, "train")
    res = ext.compute()
    assert set(res.scalars) == {"images_with_nonfinite_pixels", "nonfinite_pixels"}
    assert finding(res, "nonfinite").sample_ids == {"train": [1]}


def test_empty_masks_are_found_whichever_pixel_is_the_only_counted_one():
    masks = np.full((6, 40, 7), 255, dtype=np.uint8)  # 255 ignored: only the pixels set below count
    masks[0, 0, 0] = 0
    masks[1, 17, 3] = 2
    masks[2] = 1
    masks[4, 39, 6] = 0  # the last pixel
    masks[5, 16, 0] = 1
    images = np.zeros((6, 3, 40, 7), dtype=np.uint8)
    res = feed(DataQuality(CTX), images, masks).compute()
    assert finding(res, "empty").sample_ids == {"train": [3]}
    rng = np.random.default_rng(3)
    sparse = np.where(rng.random((50, 33, 5)) < 0.002, 0, 255).astype(np.uint8)
    for labels in (sparse, sparse.astype(np.int64)):  # looked up from uint8 labels, or int masks given whole
        res = feed(DataQuality(CTX), np.zeros((50, 3, 33, 5), dtype=np.uint8), labels).compute()
        expected = np.flatnonzero(sparse.reshape(50, -1).min(axis=1) == 255).tolist()
        assert res.scalars["empty_masks"]["train"] == len(expected)
        assert finding(res, "empty").sample_ids["train"] == expected[:len(finding(res, "empty").sample_ids["train"])]


# ------------------------------------------------- images without pixels, values against their type, labels
def classification_batches(first_id=0, n_repeat=1):
    """Built by the real builder: per sample, one problem or none (ids first_id + ...)."""
    from data_gradients.batch import ClassificationBatchBuilder

    u16 = lambda v: np.full((1, 4, 4), v, dtype=np.uint16)  # noqa: E731
    items = [np.full((1, 4, 4), 9, np.uint8), u16(200), u16(9000), np.full((1, 4, 4), 300.0), np.full((1, 4, 4), -1.0),
             np.zeros((1, 0, 4), np.uint8), np.full((1, 4, 4), 0.5)] * n_repeat
    labels = [0, 1, 2, 1, 0, 1, 2.5] * n_repeat
    builder = ClassificationBatchBuilder(3, (0, 1, 2), ())
    return builder.build(items, np.asarray(labels, dtype=np.float64), first_sample_id=first_id)


def test_unreadable_images_type_contradictions_and_non_integer_labels_are_findings():
    ctx = AnalysisContext(task="classification", num_classes=3, class_ids=(0, 1, 2))
    ext = DataQuality(ctx)
    for b in classification_batches(first_id=100):
        ext.update(b, "train")
    res = ext.compute()
    got = {f.key: (f.sample_ids["train"], f.counts, f.severity) for f in res.findings}
    assert got == {
        "unreadable": ([105], {"train": 1}, "error"),
        "sixteen_bit_low": ([101], {"train": 1}, "warning"),
        "float_0_255": ([103], {"train": 1}, "warning"),
        "negative": ([104], {"train": 1}, "warning"),
        "above_range": ([103], {"train": 1}, "warning"),
        "non_integer_labels": ([106], {"train": 1}, "warning"),
    }
    assert set(res.scalars) == {"images_with_nonfinite_pixels", "nonfinite_pixels"}  # findings only, no new scalar
    messages = {f.key: f.message for f in res.findings}
    assert messages["unreadable"].startswith("1 images have no pixel") and "train: 1 of 7" in messages["unreadable"]
    assert "1 label values" in messages["non_integer_labels"] and "halves to even" in messages["non_integer_labels"]
    whys = {f.key: f.why for f in res.findings}
    assert "value // 257" in whys["sixteen_bit_low"] and "2.5 -> 2" in whys["non_integer_labels"]


def test_the_new_findings_merge_like_one_extractor_whatever_the_batching():
    ctx = AnalysisContext(task="classification", num_classes=3, class_ids=(0, 1, 2))
    single = DataQuality(ctx)
    for b in classification_batches(n_repeat=4):
        single.update(b, "train")
    parts = [DataQuality(ctx) for _ in range(4)]
    for k, ext in enumerate(parts):
        for b in classification_batches(first_id=7 * k):
            ext.update(b, "train")
    merged = parts[3].merge(parts[1]).merge(parts[0]).merge(parts[2]).compute()
    want = single.compute()
    assert merged.findings == want.findings and merged.scalars == want.scalars
    assert next(f for f in want.findings if f.key == "unreadable").sample_ids == {"train": [5, 12, 19, 26]}


def test_non_integer_mask_values_are_counted_per_sample():
    images, masks = clean(3)
    masks = masks.astype(np.float32)
    masks[0, 0, :2] = 1.5  # 2 fractional pixels
    masks[2, 3, 4] = 0.25  # 1
    res = feed(DataQuality(CTX), images, masks, first_id=7).compute()
    f = finding(res, "non_integer_labels")
    assert f.sample_ids == {"train": [7, 9]} and "3 label values" in f.message


def test_statistics_never_see_an_unreadable_batch_and_data_quality_counts_it():
    from data_gradients.feature_extractors.common.brightness import ImageBrightness
    from data_gradients.feature_extractors.common.split_sizes import SplitSizes

    ctx = AnalysisContext(task="classification", num_classes=3, class_ids=(0, 1, 2))
    unreadable, seen = ImageBatch(images=np.zeros((2, 3, 0, 4), np.uint8), sample_ids=np.array([3, 4]),
                                  nonfinite_pixels=np.zeros(2, np.int64), source_channels=3, unreadable=True), []

    class Counting(ImageBrightness):  # a subclass of a subclass is skipped too
        def update(self, batch, split):
            seen.append(len(batch))
            super().update(batch, split)

    extractors = [ImageBrightness(ctx), Counting(ctx), SplitSizes(ctx), DataQuality(ctx)]
    for ext in extractors:
        ext.update(unreadable, "train")
    assert seen == [] and extractors[0].splits == () and extractors[1].splits == ()
    assert extractors[2].compute().scalars["samples"]["train"] == 2  # they were read all the same
    assert finding(extractors[3].compute(), "unreadable").sample_ids == {"train": [3, 4]}
