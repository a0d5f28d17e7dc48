"""Known answers for box area per class, relative width x height and aspect ratio."""
import numpy as np
import pytest
from detection_helpers import batch, context

from data_gradients.feature_extractors.detection.box_sizes import (
    AREA_EDGES,
    ASPECT_EDGES,
    SIZE_BINS,
    DetectionBoxSizes,
    histogram_median,
    log_bin,
)


def test_area_aspect_and_size_cells():
    ex = DetectionBoxSizes(context())
    # 100 x 200 image (H x W): a 50 x 25 box of class 0 (area 1250 px = 6.25%), a 20 x 40 box of class 1 (4%)
    ex.update(batch([[[0, 0, 0, 50, 25], [1, 100, 10, 120, 50]]], h=100, w=200), "train")
    st = ex.state("train")
    assert st.boxes.tolist() == [1, 1, 0]
    assert st.area_pct_sum.tolist() == pytest.approx([6.25, 4.0, 0.0])
    assert st.area_hist[0, log_bin(np.array([6.25]), AREA_EDGES)[0]] == 1
    assert st.area_hist.sum() == 2
    # aspect 2 and 0.5 are exact edges: they open the bins [2, 2^(9/8)) and [0.5, 2^(-7/8))
    assert st.aspect_hist.sum(axis=0)[np.flatnonzero(ASPECT_EDGES == 2.0)[0]] == 1
    assert st.aspect_hist.sum(axis=0)[np.flatnonzero(ASPECT_EDGES == 0.5)[0]] == 1
    # w/W = 0.25 -> column 5; h/H = 0.25 -> row 5. w/W = 0.1 -> column 2; h/H = 0.4 -> row 8
    assert st.size_hist[5, 5] == 1 and st.size_hist[8, 2] == 1 and st.size_hist.sum() == 2
    res = ex.compute()
    rows = {r[0]: r for r in res.tables[0].rows}
    assert rows[0][1:5] == ["0", 1, pytest.approx(6.25), pytest.approx(6.25, rel=0.2)]
    assert rows[0][5] == pytest.approx(2.0) and rows[1][5] == pytest.approx(0.5)
    assert rows[2][2] == 0 and rows[2][3] is None
    assert res.scalars["mean_area_pct"]["train"] == pytest.approx(5.125)
    assert res.heatmaps[0].maps["train"]["all classes"].sum() == pytest.approx(1.0)


def test_full_image_box_goes_to_the_last_cell_and_geometric_mean_aspect():
    ex = DetectionBoxSizes(context())
    ex.update(batch([[[2, 0, 0, 64, 32], [2, 0, 0, 16, 32]]], h=32, w=64), "train")
    st = ex.state("train")
    assert st.size_hist[SIZE_BINS - 1, SIZE_BINS - 1] == 1  # the whole image
    assert st.area_pct_sum[2] == pytest.approx(100.0 + 25.0)
    res = ex.compute()
    row = [r for r in res.tables[0].rows if r[0] == 2][0]
    assert row[-1] == pytest.approx(1.0)  # sqrt(2 * 0.5)


def test_histogram_median_interpolates_inside_the_middle_bin():
    edges = np.array([1.0, 10.0, 100.0])
    assert histogram_median([0, 4], edges) == pytest.approx(10 ** 1.5)
    assert histogram_median([2, 2], edges) == pytest.approx(10.0)
    assert histogram_median([0, 0], edges) is None
