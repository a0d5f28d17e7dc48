"""Known answers for boxes per class, image shares, classes per image (detection)."""
import pytest
from detection_helpers import batch, context

from data_gradients.feature_extractors.detection.class_frequency import DetectionClassFrequency


def test_box_counts_image_shares_and_classes_per_image():
    ex = DetectionClassFrequency(context(names={0: "cat", 1: "dog", 2: "bird"}))
    ex.update(batch([[[0, 1, 1, 5, 5], [0, 2, 2, 6, 6], [1, 0, 0, 9, 9]], [[1, 3, 3, 8, 8]], [], [[0, 1, 1, 4, 4]]]),
              "train")
    res = ex.compute()
    box_share, image_share, per_image = res.histograms
    assert box_share.categories == ["cat", "dog", "bird"]
    assert box_share.counts["train"].tolist() == [3, 2, 0]
    assert image_share.counts["train"].tolist() == pytest.approx([0.5, 0.5, 0.0])
    assert per_image.counts["train"][:3].tolist() == [1, 2, 1]  # 0, 1 and 2 distinct classes
    assert res.tables[0].rows[0] == [0, "cat", 3, pytest.approx(0.6), 0.5]
    assert res.scalars["classes_present"] == {"train": 2}
    assert res.scalars["mean_classes_per_image"]["train"] == pytest.approx(1.0)
    assert [f.key for f in res.findings] == ["empty_classes"]
    assert "bird" in res.findings[0].message


def test_class_missing_from_one_split_is_a_finding():
    ex = DetectionClassFrequency(context())
    ex.update(batch([[[0, 1, 1, 5, 5], [1, 1, 1, 5, 5], [2, 1, 1, 5, 5]]]), "train")
    ex.update(batch([[[0, 1, 1, 5, 5]]]), "val")
    res = ex.compute()
    keys = {f.key: f for f in res.findings}
    assert set(keys) == {"classes_missing_val"}
    assert keys["classes_missing_val"].counts == {"val": 2}
    assert res.histograms[0].counts["val"].tolist() == [1, 0, 0]


def test_ignored_classes_are_not_shown():
    ctx = context(num_classes=3, ignore=(1,))
    ex = DetectionClassFrequency(ctx)
    ex.update(batch([[[0, 1, 1, 5, 5], [1, 1, 1, 5, 5], [2, 1, 1, 5, 5]]], ignore=(1,)), "train")
    res = ex.compute()
    assert res.histograms[0].categories == ["0", "2"]
    assert res.histograms[0].counts["train"].tolist() == [1, 1]
    assert res.findings == []
