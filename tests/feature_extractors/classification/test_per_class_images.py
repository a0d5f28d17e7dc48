"""Known answers for size and brightness per class."""
import numpy as np
import pytest

from data_gradients.batch import ClassificationBatchBuilder
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.classification.per_class_images import N_BINS, ClassificationPerClassImages

C = 3


def ctx():
    return AnalysisContext(task="classification", num_classes=C, class_ids=tuple(range(C)),
                           class_names={0: "a", 1: "b", 2: "c"})


def batch(values, labels, h=4, w=6, multi_label=False):
    """Images of constant grey levels ``values`` (luma = the value)."""
    images = np.repeat(np.asarray(values, dtype=np.uint8)[:, None, None, None], 3, axis=1) * np.ones((1, 1, h, w), np.uint8)
    return ClassificationBatchBuilder(C, range(C), (), multi_label).build(images, np.asarray(labels), 0)[0]


def test_mean_size_and_brightness_per_class():
    ex = ClassificationPerClassImages(ctx())
    ex.update(batch([10, 20, 200], [0, 0, 1]), "train")
    ex.update(batch([30], [0], h=8, w=2), "train")
    res = ex.compute()
    rows = {r[1]: r for r in res.tables[0].rows}
    assert rows["a"][2:8] == [3, pytest.approx((6 + 6 + 2) / 3), pytest.approx((4 + 4 + 8) / 3), pytest.approx(20.0),
                             "4x2", "8x6"]
    assert rows["b"][2:5] == [1, 6.0, 4.0] and rows["b"][5] == pytest.approx(200.0)
    assert rows["c"][2:] == [0, None, None, None, None, None]
    # brightness distribution per class on 32 fixed bins of 0-255 (a heatmap row per class)
    heat = res.heatmaps[0].maps["train"]["brightness"]
    expected = np.bincount(np.array([10, 20, 30]) * N_BINS // 255, minlength=N_BINS)
    assert heat[0].tolist() == pytest.approx((expected / 3).tolist())
    assert heat.shape == (C, N_BINS) and heat[0].sum() == pytest.approx(1.0) and heat[2].sum() == 0
    assert res.scalars["class_brightness_range"] == {"train": pytest.approx(180.0)}


def test_multi_label_images_count_for_each_class_and_shortcut_finding():
    ex = ClassificationPerClassImages(ctx())
    rows = [[1, 1, 0]] + [[1, 0, 0]] * 3 + [[0, 1, 0]] * 3 + [[0, 0, 1]]
    ex.update(batch([100] * 7 + [10], rows, multi_label=True), "train")
    res = ex.compute()
    by_class = {r[1]: r[2] for r in res.tables[0].rows}
    assert by_class == {"a": 4, "b": 4, "c": 1}
    # a: 100 vs 77.5 for the images without a (within the threshold); c: 10 vs 100
    (finding,) = res.findings
    assert finding.key == "class_shortcuts" and finding.counts == {"train": 1}
    assert "c (train: brightness 10 vs 100)" in finding.message


def test_brightness_is_exact_for_non_uniform_images():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 3, 7, 9), dtype=np.uint8)
    b = ClassificationBatchBuilder(C, range(C), ()).build(images, np.array([0, 1, 2, 0, 1]), 0)[0]
    ex = ClassificationPerClassImages(ctx())
    ex.update(b, "train")
    luma = (images.astype(np.float64) * np.array([0.299, 0.587, 0.114])[None, :, None, None]).sum(axis=1).mean(axis=(1, 2))
    got = {r[0]: r[5] for r in ex.compute().tables[0].rows}
    assert got[0] == pytest.approx((luma[0] + luma[3]) / 2, abs=1e-4)
    assert got[2] == pytest.approx(luma[2], abs=1e-4)
