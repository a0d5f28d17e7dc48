"""Known answers for class pixel counts and image shares."""
import numpy as np
import pytest

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.segmentation.class_frequency import SegmentationClassFrequency

IGNORE = 255


def make(masks, num_classes=3, ignore=(IGNORE,), names=None, first_id=0):
    masks = np.asarray(masks, dtype=np.int64)
    class_ids = tuple(c for c in range(num_classes) if c not in ignore) if num_classes > 1 else (1,)
    images = np.zeros((*masks.shape, 3), dtype=np.uint8)
    (batch,) = SegmentationBatchBuilder(num_classes, class_ids, ignore).build(images, masks, first_id)
    ctx = AnalysisContext(task="segmentation", num_classes=num_classes, class_ids=class_ids, class_names=names or {})
    return ctx, batch


def two_images():
    a = np.zeros((4, 4), dtype=np.int64)  # class 0: 10 px, class 1: 4 px, ignored: 2 px
    a[0, :2] = IGNORE
    a[2:, 2:] = 1
    b = np.full((4, 4), 2)  # class 2: 16 px
    return [a, b]


def test_pixel_counts_and_image_shares():
    ctx, batch = make(two_images(), names={0: "road", 1: "car", 2: "sky"})
    ex = SegmentationClassFrequency(ctx)
    ex.update(batch, "train")
    st = ex.state("train")
    assert st.pixels.tolist() == [10, 4, 16]
    assert st.images_with.tolist() == [1, 1, 1]
    assert st.images == 2
    res = ex.compute()
    pixel_share, image_share = res.histograms
    assert pixel_share.categories == ["road", "car", "sky"]
    assert pixel_share.counts["train"].tolist() == [10, 4, 16]
    assert pixel_share.shares("train").tolist() == pytest.approx([10 / 30, 4 / 30, 16 / 30])
    assert image_share.counts["train"].tolist() == [0.5, 0.5, 0.5]
    assert res.tables[0].rows == [
        [0, "road", 10, pytest.approx(10 / 30), 0.5],
        [1, "car", 4, pytest.approx(4 / 30), 0.5],
        [2, "sky", 16, pytest.approx(16 / 30), 0.5],
    ]
    assert res.scalars["classes_present"] == {"train": 3}


def test_splits_are_kept_apart():
    ctx, batch = make(two_images())
    ex = SegmentationClassFrequency(ctx)
    ex.update(batch, "train")
    _, only_zero = make([np.zeros((2, 3))])
    ex.update(only_zero, "val")
    res = ex.compute()
    assert res.histograms[0].counts["val"].tolist() == [6, 0, 0]
    assert res.histograms[1].counts["val"].tolist() == [1.0, 0.0, 0.0]
    assert res.scalars["classes_present"] == {"train": 3, "val": 1}
    assert res.tables[0].columns[2:] == ["pixels (train)", "pixel share (train)", "image share (train)",
                                         "pixels (val)", "pixel share (val)", "image share (val)"]


def test_ignored_and_out_of_range_pixels_are_never_counted():
    m = np.array([[0, 0, 1, 1],
                  [2, 2, 7, 7],  # 7: out of range for 3 classes
                  [IGNORE, 1, 1, 1]])
    ctx, batch = make([m], ignore=(0, IGNORE))  # class 0 is ignored too
    assert ctx.class_ids == (1, 2)
    ex = SegmentationClassFrequency(ctx)
    ex.update(batch, "train")
    assert ex.state("train").pixels.tolist() == [0, 5, 2]
    res = ex.compute()
    assert res.histograms[0].counts["train"].tolist() == [5, 2]
    assert [row[:3] for row in res.tables[0].rows] == [[1, "1", 5], [2, "2", 2]]


def test_binary_task_background_is_not_a_class():
    m = np.zeros((5, 5), dtype=np.int64)
    m[1:3, 1:4] = 1
    ctx, batch = make([m, np.zeros((5, 5))], num_classes=1, ignore=())
    ex = SegmentationClassFrequency(ctx)
    ex.update(batch, "train")
    assert ex.state("train").pixels.tolist() == [0, 6]
    res = ex.compute()
    assert res.tables[0].rows == [[1, "1", 6, 1.0, 0.5]]


def test_batches_add_up():
    masks = np.random.default_rng(0).choice([0, 1, 2, IGNORE], size=(5, 6, 7))
    ctx, whole = make(masks)
    _, part1 = make(masks[:2])
    _, part2 = make(masks[2:], first_id=2)
    one, two = SegmentationClassFrequency(ctx), SegmentationClassFrequency(ctx)
    one.update(whole, "train")
    two.update(part1, "train")
    two.update(part2, "train")
    expected = [(masks == c).sum() for c in range(3)]
    assert one.state("train").pixels.tolist() == expected
    assert two.state("train").pixels.tolist() == expected
    assert one.state("train").images_with.tolist() == two.state("train").images_with.tolist()
    assert one.state("train").images_with.tolist() == [int((masks == c).any(axis=(1, 2)).sum()) for c in range(3)]
