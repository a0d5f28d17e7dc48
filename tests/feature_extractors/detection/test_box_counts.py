"""Known answers for boxes per image and images without boxes."""
import pytest
from detection_helpers import batch, context

from data_gradients.feature_extractors.detection.box_counts import MAX_COUNT, DetectionBoxCounts


def test_counts_per_image_and_background_images():
    ex = DetectionBoxCounts(context())
    ex.update(batch([[[0, 1, 1, 5, 5], [1, 2, 2, 9, 9]], [], [[2, 0, 0, 3, 3]] * 3]), "train")
    res = ex.compute()
    hist = res.histograms[0].counts["train"]
    assert hist[0] == 1 and hist[2] == 1 and hist[3] == 1 and hist.sum() == 3
    assert res.scalars["boxes"]["train"] == 5
    assert res.scalars["mean_boxes_per_image"]["train"] == pytest.approx(5 / 3)
    assert res.scalars["max_boxes_per_image"]["train"] == 3
    assert res.scalars["images_without_boxes"]["train"] == 1
    assert res.scalars["share_images_without_boxes"]["train"] == pytest.approx(1 / 3)


def test_invalid_boxes_do_not_count_and_many_boxes_go_to_the_last_bin():
    ex = DetectionBoxCounts(context())
    crowded = [[0, 1, 1, 2, 2]] * (MAX_COUNT + 7)
    ex.update(batch([crowded, [[0, 5, 5, 5, 9], [7, 1, 1, 2, 2]]]), "val")  # zero width, class out of range
    res = ex.compute()
    hist = res.histograms[0].counts["val"]
    assert hist[MAX_COUNT] == 1 and hist[0] == 1
    assert res.scalars["max_boxes_per_image"]["val"] == MAX_COUNT + 7
    assert res.scalars["images_without_boxes"]["val"] == 1
