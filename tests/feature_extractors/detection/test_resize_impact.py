"""Known answers for the share of small boxes after resizing to common input sizes."""
import numpy as np
import pytest
from detection_helpers import batch, context

from data_gradients.feature_extractors.detection.resize_impact import INPUT_SIZES, DetectionResizeImpact


def rows_by_size(res, split_cols=slice(1, 4)):
    return {r[0].split(" (")[0]: r[split_cols] for r in res.tables[0].rows}


def test_exact_thresholds_after_resizing_the_longer_side():
    ex = DetectionResizeImpact(context())
    # 100 x 200 image: longer side 200. A 10 x 10 box (area 100) and a 40 x 40 box (area 1600)
    ex.update(batch([[[0, 0, 0, 10, 10], [1, 50, 50, 90, 90]]], h=100, w=200), "train")
    res = ex.compute()
    rows = rows_by_size(res)
    assert rows["original size"] == [0.0, 0.5, 0.5]  # 100 < 16^2 and < 32^2, not < 8^2
    # x1.6 -> the small box becomes exactly 16 x 16: not below 16x16 (strict), below 32x32
    assert rows["320 x 320"] == [0.0, 0.0, 0.5]
    assert rows["640 x 640"] == [0.0, 0.0, 0.0]  # 32 x 32: exactly the COCO line, not small
    assert rows["1024 x 1024"] == [0.0, 0.0, 0.0]
    # every image has longer side 200: the median row is exact and equals the original size
    assert res.scalars["median_longer_side"]["train"] == 200
    assert rows["median longer side"] == rows["original size"]
    assert res.scalars["share_below_32px_at_640"]["train"] == 0.0
    assert res.scalars["share_below_32px_original"]["train"] == 0.5
    assert list(INPUT_SIZES) == res.data["input_sizes"] and len(res.tables[0].rows) == len(INPUT_SIZES) + 2


def test_downscaling_makes_boxes_small_and_median_row_is_approximate():
    ex = DetectionResizeImpact(context())
    # 2000 x 2000 image: a 64 x 64 box becomes 10.24 x 10.24 at 320 and 32.768 at 1024
    ex.update(batch([[[0, 0, 0, 64, 64]]], h=2000, w=2000), "train")
    ex.update(batch([[[0, 0, 0, 30, 30]]] * 2, h=100, w=50), "train")  # longer side 100
    res = ex.compute()
    rows = rows_by_size(res)
    assert rows["320 x 320"] == [0.0, pytest.approx(1 / 3), pytest.approx(1 / 3)]
    assert rows["1024 x 1024"] == [0.0, 0.0, 0.0]
    assert res.scalars["median_longer_side"]["train"] == 100
    # at the median (100): the 2000-px image's box is 3.2 px (< 8); the 30 px boxes stay 30 px (< 32)
    assert rows["median longer side"] == [pytest.approx(1 / 3, abs=0.02), pytest.approx(1 / 3, abs=0.02),
                                          pytest.approx(1.0, abs=0.02)]


def test_no_boxes_gives_empty_shares():
    ex = DetectionResizeImpact(context())
    ex.update(batch([[]]), "val")
    res = ex.compute()
    assert res.scalars["share_below_32px_at_640"]["val"] is None
    assert all(v is None for v in res.tables[0].rows[-1][1:])
    assert np.isfinite(res.scalars["median_longer_side"]["val"])
