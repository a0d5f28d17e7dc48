"""Known answers of the drift ranking, through the real managers on the demo datasets."""
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance
from torch.utils.data import DataLoader

from data_gradients.demo.detection_data import detection_collate
from data_gradients.demo.shifted import DEMO_TASKS, DROPPED, Darkened, WithoutClasses
from data_gradients.drift.distances import bin_centres

N_TRAIN = {"segmentation": 48, "detection": 48, "classification": 192}


def run(task, train, val, tmp_path):
    manager, _, kwargs = DEMO_TASKS[task]
    collate = detection_collate if task == "detection" else None
    loaders = {s: DataLoader(d, batch_size=16, collate_fn=collate) for s, d in (("train", train), ("val", val))}
    return manager(splits=loaders, log_dir=tmp_path, verbose=False, samples_to_visualize=0, writers=[], workers=1,
                   **kwargs).run()


def train_set(task, n=None):
    return DEMO_TASKS[task][1](n or N_TRAIN[task], split="train", seed=0)


@pytest.mark.parametrize("task", list(DEMO_TASKS))
def test_identical_splits_give_zero(task, tmp_path):
    data = train_set(task)
    drift = run(task, data, data, tmp_path).results["drift"]
    rows = drift.data["rows"]
    assert len(rows) >= 6
    for r in rows:
        assert r["js"] <= 1e-12 and abs(r["psi"]) <= 1e-12 and (r["w1_normalised"] or 0.0) <= 1e-12, r
    assert not drift.findings


@pytest.mark.parametrize("task", list(DEMO_TASKS))
def test_a_darkened_val_split_ranks_brightness_first(task, tmp_path):
    data = train_set(task)
    drift = run(task, data, Darkened(data, 0.6), tmp_path).results["drift"]
    rows = drift.data["rows"]
    assert "brightness" in rows[0]["statistic_title"].lower(), rows[0]
    first_other = next(i for i, r in enumerate(rows) if "brightness" not in r["statistic_title"].lower())
    at = next(i for i, r in enumerate(rows) if r["feature"] == "image_brightness")
    assert at < first_other
    brightness = rows[at]
    assert brightness["js"] > 0.8
    assert brightness["reading"].startswith("val lower")
    assert any(f.key == "drift_error" and "Mean brightness" in f.message for f in drift.findings)


@pytest.mark.parametrize("task", list(DEMO_TASKS))
def test_a_val_split_missing_two_classes_ranks_class_frequency_first(task, tmp_path):
    data = train_set(task)
    drift = run(task, data, WithoutClasses(data, task, DROPPED[task]), tmp_path).results["drift"]
    top = drift.data["rows"][0]
    assert top["feature"] == f"{task}_class_frequency"
    names = DEMO_TASKS[task][2]["class_names"]
    assert top["missing_classes"] == [names[c] for c in DROPPED[task]]
    assert top["reading"] == "missing from val: " + ", ".join(names[c] for c in DROPPED[task])


@pytest.mark.parametrize("task", list(DEMO_TASKS))
def test_values_equal_scipy_on_the_reports_histograms(task, tmp_path):
    _, dataset, _ = DEMO_TASKS[task]
    report = run(task, train_set(task), dataset(N_TRAIN[task] // 2, split="val", seed=0), tmp_path)
    rows = report.results["drift"].data["rows"]
    assert rows
    for r in rows:
        h = next(h for h in report.results[r["feature"]].histograms if h.key == r["statistic"])
        p, q = h.counts["train"], h.counts["val"]
        assert r["js"] == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9, abs=1e-12)
        if h.bin_edges is not None:
            centres, span = bin_centres(h.bin_edges, log=h.log_x)
            assert r["w1"] == pytest.approx(wasserstein_distance(centres, centres, p, q), rel=1e-9, abs=1e-12)
            assert r["w1_normalised"] == pytest.approx(r["w1"] / span, rel=1e-12)
    assert [r["js"] for r in rows if not r["missing_classes"]] == sorted(
        (r["js"] for r in rows if not r["missing_classes"]), reverse=True)


def test_drift_is_in_the_json_and_txt_outputs(tmp_path):
    from data_gradients.reports.writers import default_writers

    data = train_set("classification")
    manager, _, kwargs = DEMO_TASKS["classification"]
    loaders = {"train": DataLoader(data, batch_size=64), "val": DataLoader(Darkened(data, 0.6), batch_size=64)}
    report = manager(splits=loaders, log_dir=tmp_path, verbose=False, samples_to_visualize=0, workers=1,
                     writers=[w for w in default_writers() if w.name in ("json", "txt")], **kwargs).run()
    import json

    js = json.loads(report.outputs["json"].read_text())
    assert js["features"]["drift"]["data"]["rows"][0]["feature"] == report.results["drift"].data["rows"][0]["feature"]
    assert "Biggest differences from train" in report.outputs["txt"].read_text()
    assert np.isclose(js["config"]["thresholds"]["drift_warning"], 0.3)


def test_every_split_is_compared_with_the_reference_through_the_manager(tmp_path):
    data = train_set("classification")
    manager, _, kwargs = DEMO_TASKS["classification"]
    loaders = {s: DataLoader(d, batch_size=64) for s, d in (("train", data), ("val", data), ("test", Darkened(data, 0.6)))}
    drift = manager(splits=loaders, log_dir=tmp_path, verbose=False, samples_to_visualize=0, writers=[], workers=1,
                    **kwargs).run().results["drift"]
    rows = drift.data["rows"]
    assert {r["split"] for r in rows} == {"val", "test"}
    assert max(r["js"] for r in rows if r["split"] == "val") <= 1e-12
    assert rows[0]["split"] == "test" and drift.scalars["largest_js_distance"]["test"] > 0.8
    assert all(set(f.counts) == {"test"} for f in drift.findings) and drift.findings
