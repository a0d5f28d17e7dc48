"""Known answers for the box location heatmap."""
import numpy as np
import pytest
from detection_helpers import batch, context

from data_gradients.feature_extractors.detection.heatmap import DetectionClassHeatmap, cell_overlap


def test_cell_overlap_is_the_covered_share_of_each_cell():
    got = cell_overlap(np.array([0.0, 0.125]), np.array([0.5, 0.375]), 4)
    assert got.tolist() == [[1.0, 1.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]]


def test_quarter_box_and_mean_over_images():
    ex = DetectionClassHeatmap(context())
    g = ex.grid
    # 64 x 64 images: cell = 2 x 2 px. Image 0: class 1 covers the top-left quarter; image 1: no box
    ex.update(batch([[[1, 0, 0, 32, 32]], []], h=64, w=64), "train")
    res = ex.compute()
    maps = res.heatmaps[0].maps["train"]
    expected = np.zeros((g, g))
    expected[: g // 2, : g // 2] = 0.5  # covered in one image of two
    assert np.allclose(maps["1"], expected)
    assert np.allclose(maps["0"], 0.0)
    assert np.allclose(maps["all classes"], expected)


def test_partial_cells_overlapping_boxes_and_image_size_independence():
    ex = DetectionClassHeatmap(context())
    # box from x=1 to 3, y=0 to 2 in a 64 x 64 image: half of cells (0, 0) and (0, 1)
    ex.update(batch([[[0, 1, 0, 3, 2], [0, 1, 0, 3, 2]]], h=64, w=64), "a")
    cov = ex.compute().heatmaps[0].maps["a"]["0"]
    assert cov[0, 0] == pytest.approx(1.0) and cov[0, 1] == pytest.approx(1.0)  # two boxes: 0.5 + 0.5
    assert cov.sum() == pytest.approx(2.0)
    # the left half of a 32 x 64 image and of a 128 x 128 image map to the same cells
    ex2 = DetectionClassHeatmap(context())
    ex2.update(batch([[[2, 0, 0, 32, 32]]], h=32, w=64), "x")
    ex2.update(batch([[[2, 0, 0, 64, 128]]], h=128, w=128), "y")
    maps = ex2.compute().heatmaps[0].maps
    assert np.allclose(maps["x"]["2"], maps["y"]["2"])
    assert maps["x"]["2"][:, : ex2.grid // 2].min() == pytest.approx(1.0)
