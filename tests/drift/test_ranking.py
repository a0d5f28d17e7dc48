"""The ranked drift result on hand-made results: what is compared, the order, the findings."""
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from data_gradients.context import AnalysisContext
from data_gradients.drift import drift_result, drift_rows, with_drift
from data_gradients.results import FeatureResult, Histogram
from data_gradients.thresholds import resolve_thresholds


def _ctx(splits=("train", "val"), **thresholds):
    return AnalysisContext(task="classification", num_classes=3, class_ids=(0, 1, 2), splits=tuple(splits),
                           reference=splits[0], thresholds=resolve_thresholds(thresholds))


def _result(name, *histograms, failed=False):
    return FeatureResult(name=name, title=name.replace("_", " ").capitalize(), description="", group="image",
                         histograms=list(histograms), error="boom" if failed else None)


def _numeric(key, train, **others):
    counts = {"train": np.asarray(train), **{s: np.asarray(c) for s, c in others.items()}}
    return Histogram(key=key, title=key, x_label="value", counts=counts,
                     bin_edges=np.linspace(0, 255, len(train) + 1))


def _classes(train, **others):
    counts = {"train": np.asarray(train), **{s: np.asarray(c) for s, c in others.items()}}
    return Histogram(key="class_share", title="Share of images per class", x_label="class", counts=counts,
                     categories=["cat", "dog", "bird"])


def test_identical_splits_give_zero_everywhere_and_no_finding():
    h = _numeric("brightness", [10, 20, 30, 0], val=[20, 40, 60, 0])
    res = drift_result({"b": _result("b", h), "c": _result("classification_class_frequency", _classes(
        [5, 5, 2], val=[10, 10, 4]))}, _ctx())
    rows = res.data["rows"]
    assert len(rows) == 2 and not res.findings
    for r in rows:
        assert r["js"] == 0.0 and r["psi"] == 0.0 and (r["w1_normalised"] in (None, 0.0))


def test_rows_are_ranked_by_js_and_match_scipy():
    small = _numeric("small", [100, 100, 100, 100], val=[110, 100, 90, 100])
    large = _numeric("large", [400, 0, 0, 0], val=[0, 0, 0, 400])
    res = drift_result({"a": _result("a", small), "b": _result("b", large)}, _ctx())
    rows = res.data["rows"]
    assert [r["statistic"] for r in rows] == ["large", "small"]
    assert rows[1]["js"] == pytest.approx(jensenshannon([100] * 4, [110, 100, 90, 100], base=2), rel=1e-12)
    assert rows[0]["js"] == pytest.approx(1.0) and rows[0]["w1_normalised"] == pytest.approx(0.75)
    table = res.tables[0]
    assert table.columns[:3] == ["feature", "statistic", "split"] and table.rows[0][3] == rows[0]["js"]
    assert res.scalars["largest_js_distance"] == {"val": rows[0]["js"]}
    # all of each split in one 64-wide bin: the reading names the bins, not the mean of their centres
    assert rows[0]["reading"] == "val higher: value mostly in 191-255 vs 0-63.8 in train"
    assert "val lower: value averages" in rows[1]["reading"]  # spread over the bins: the mean of the centres


def test_a_class_missing_from_a_split_ranks_first():
    darker = _numeric("brightness", [400, 0, 0, 0], val=[0, 0, 0, 400])
    classes = _classes([50, 30, 20], val=[60, 40, 0])
    rows = drift_rows({"image_brightness": _result("image_brightness", darker),
                       "classification_class_frequency": _result("classification_class_frequency", classes)}, "train")
    assert rows[0].feature == "classification_class_frequency"
    assert rows[0].missing_classes == ["bird"] and rows[0].reading == "missing from val: bird"
    assert rows[0].js < rows[1].js


def test_what_is_left_out():
    shares_per_class = Histogram(key="image_share", title="t", x_label="class", categories=["a", "b"],
                                 counts={"train": np.array([0.5, 0.9]), "val": np.array([0.9, 0.1])}, normalize=False)
    empty_val = _numeric("empty", [1, 2], val=[0, 0])
    one_split = _numeric("alone", [1, 2])
    fine = _numeric("fine", [1, 2], val=[2, 1])
    results = {"a": _result("a", shares_per_class, empty_val, one_split, fine),
               "broken": _result("broken", _numeric("x", [1, 2], val=[2, 1]), failed=True)}
    assert [r.statistic for r in drift_rows(results, "train")] == ["fine"]


def test_every_split_is_compared_with_the_reference():
    h = _numeric("v", [10, 10, 0], val=[10, 10, 0], test=[0, 10, 10])
    ctx = _ctx(("train", "val", "test"))
    rows = drift_result({"a": _result("a", h)}, ctx).data["rows"]
    assert [(r["split"], r["js"] > 0) for r in rows] == [("test", True), ("val", False)]


def test_findings_follow_the_thresholds_and_the_noise_gate():
    big = _numeric("big", [1000, 1000, 0, 0], val=[0, 1000, 1000, 0])  # JS 0.59, thousands of counts
    medium = _numeric("medium", [1000, 1000, 0, 0], val=[1000, 1000, 300, 300])  # JS ~0.34
    tiny_sample = _numeric("tiny", [3, 3, 0, 0], val=[0, 3, 3, 0])  # JS 0.59 from 6 counts: noise
    results = {"a": _result("a", big, medium, tiny_sample)}
    res = drift_result(results, _ctx())
    by_key = {f.key: f for f in res.findings}
    assert set(by_key) == {"drift_error", "drift_warning"}
    assert by_key["drift_error"].severity == "error" and by_key["drift_error"].counts == {"val": 1}
    assert "big" in by_key["drift_error"].message and "tiny" not in by_key["drift_error"].message
    assert by_key["drift_warning"].counts == {"val": 1} and "medium" in by_key["drift_warning"].message
    # user thresholds: a higher error limit turns the error into a warning; a lenient noise gate lets tiny in
    res = drift_result(results, _ctx(drift_error=0.9))
    assert [f.key for f in res.findings] == ["drift_warning"] and res.findings[0].counts == {"val": 2}
    res = drift_result(results, _ctx(drift_noise_p=1.0))
    assert {f.key: f.counts for f in res.findings}["drift_error"] == {"val": 2}
    # a lower warning limit flags what the default does not
    small = _numeric("small", [1000, 1000, 0, 0], val=[1000, 1000, 100, 0])
    assert not drift_result({"a": _result("a", small)}, _ctx()).findings
    assert [f.key for f in drift_result({"a": _result("a", small)}, _ctx(drift_warning=0.1)).findings] == ["drift_warning"]


def test_with_drift_adds_one_result_only_when_there_are_splits_to_compare():
    results = {"a": _result("a", _numeric("v", [1, 2], val=[2, 1]))}
    out = with_drift(results, _ctx())
    assert list(out) == ["a", "drift"] and out["drift"].group == "splits"
    assert out["drift"].title == "Biggest differences from train"
    assert with_drift(results, _ctx(("train",))) is results
    assert "drift" not in results  # the input is not changed


def test_a_failing_comparison_costs_only_the_drift_result():
    broken = Histogram(key="v", title="v", x_label="v", bin_edges=np.arange(4.0),
                       counts={"train": np.array([1, 2, 3]), "val": np.array([1, 2])})  # val on other bins
    results = {"a": _result("a", broken)}
    out = with_drift(results, _ctx())
    assert out["drift"].failed and "ValueError" in out["drift"].error
    assert out["a"] is results["a"]


def test_a_split_inside_one_wide_bin_is_read_as_that_bin_not_as_its_centre():
    # heights of 128 px in a 128-192 bin: a mean of bin centres would say 160
    edges = np.array([0, 64, 128, 192, 256], dtype=np.float64)
    h = Histogram(key="height", title="height", x_label="height (px)", bin_edges=edges,
                  counts={"train": np.array([0, 0, 40, 0]), "val": np.array([0, 0, 10, 0])})
    row = drift_result({"r": _result("image_resolution", h)}, _ctx()).data["rows"][0]
    assert row["reading"] == "val same: height (px) mostly in 128-192 vs 128-192 in train"
    assert "160" not in row["reading"]
