"""Known answers for class co-occurrence in images."""
import numpy as np
import pytest

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.batch.segmentation_view import SegmentationView
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.segmentation.cooccurrence import SegmentationCooccurrence

IGNORE = 255


def make(class_sets, num_classes=3, size=4):
    masks = np.full((len(class_sets), size, size), IGNORE, dtype=np.int64)
    for i, classes in enumerate(class_sets):
        for k, c in enumerate(classes):
            masks[i, k, :] = c
    ids = tuple(range(num_classes))
    images = np.zeros((*masks.shape, 3), dtype=np.uint8)
    (batch,) = SegmentationBatchBuilder(num_classes, ids, (IGNORE,)).build(images, masks, 0)
    return AnalysisContext(task="segmentation", num_classes=num_classes, class_ids=ids,
                           class_names={0: "a", 1: "b", 2: "c"}), batch


def test_pair_counts_and_shares():
    ctx, batch = make([{0, 1}, {1, 2}, {0, 1, 2}, set()])
    ex = SegmentationCooccurrence(ctx)
    ex.update(batch, "train")
    res = ex.compute()
    expected = [[2, 2, 1], [2, 3, 2], [1, 2, 2]]
    assert res.data["pairs"]["train"].tolist() == expected
    matrix = next(t for t in res.tables if t.key == "matrix_train")
    assert matrix.columns == ["class", "a", "b", "c"]
    assert matrix.rows == [["a", 2, 2, 1], ["b", 2, 3, 2], ["c", 1, 2, 2]]
    maps = res.heatmaps[0].maps["train"]
    assert maps["both / images"][0, 1] == pytest.approx(0.5)
    assert maps["P(column | row)"][2, 0] == pytest.approx(0.5)
    top = next(t for t in res.tables if t.key == "top_pairs").rows
    assert top[0] == ["train", "a", "b", 2, 1.0, pytest.approx(2 / 3)]
    assert [r[1:3] for r in top] == [["a", "b"], ["b", "c"], ["a", "c"]]
    assert res.scalars["class_pairs_seen_together"] == {"train": 3}


def test_class_presence_dtypes_agree():
    rng = np.random.default_rng(0)
    labels = rng.integers(-1, 5, (5, 7, 9))
    expected = np.stack([np.isin(np.arange(5), labels[i]) for i in range(5)])
    for dtype in (np.int8, np.int16, np.int32, np.int64):
        got = SegmentationView(labels.astype(dtype)).class_pixels(5) > 0
        np.testing.assert_array_equal(got, expected)
