"""Known answers of the drift ranking, through the real managers on the demo datasets."""
import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance
from torch.utils.data import DataLoader, Dataset

from data_gradients import ClassificationAnalysisManager, DetectionAnalysisManager, SegmentationAnalysisManager
from data_gradients.demo.classification_data import CLASSIFICATION_CLASS_NAMES, SyntheticClassificationDataset
from data_gradients.demo.datasets import DEMO_CLASS_NAMES, SyntheticSegmentationDataset
from data_gradients.demo.detection_data import DETECTION_CLASS_NAMES, SyntheticDetectionDataset, detection_collate
from data_gradients.drift.distances import bin_centres

N_TRAIN = {"segmentation": 48, "detection": 48, "classification": 192}
SETUP = {
    "segmentation": (SegmentationAnalysisManager, SyntheticSegmentationDataset,
                     dict(num_classes=6, class_names=DEMO_CLASS_NAMES, ignore_labels=[0])),
    "detection": (DetectionAnalysisManager, SyntheticDetectionDataset,
                  dict(num_classes=len(DETECTION_CLASS_NAMES), class_names=DETECTION_CLASS_NAMES)),
    "classification": (ClassificationAnalysisManager, SyntheticClassificationDataset,
                       dict(num_classes=len(CLASSIFICATION_CLASS_NAMES), class_names=CLASSIFICATION_CLASS_NAMES)),
}
#: two classes each task's val split loses (seg: person, sign; det: car, bicycle; cls: square, triangle)
DROPPED = {"segmentation": (3, 4), "detection": (1, 2), "classification": (1, 2)}


class Darkened(Dataset):
    def __init__(self, ds, factor):
        self.ds, self.factor = ds, factor

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        image, label = self.ds[i]
        if image.dtype == torch.uint8:
            return (image.float() * self.factor).round().to(torch.uint8), label
        return image * self.factor, label  # float in 0..1


class WithoutClasses(Dataset):
    """Seg: the classes' pixels become background (ignored); det: their boxes are dropped; cls: their images."""

    def __init__(self, ds, task, drop):
        self.ds, self.task, self.drop = ds, task, list(drop)
        self.index = [i for i in range(len(ds)) if task != "classification" or int(ds[i][1]) not in self.drop]

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        image, label = self.ds[self.index[i]]
        if self.task == "segmentation":
            label = label.clone()
            label[torch.isin(label, torch.tensor(self.drop))] = 0
        elif self.task == "detection":
            label = label[~torch.isin(label[:, 0], torch.tensor(self.drop, dtype=label.dtype))]
        return image, label


def run(task, train, val, tmp_path):
    manager, _, kwargs = SETUP[task]
    collate = detection_collate if task == "detection" else None
    loaders = {s: DataLoader(d, batch_size=16, collate_fn=collate) for s, d in (("train", train), ("val", val))}
    return manager(splits=loaders, log_dir=tmp_path, verbose=False, samples_to_visualize=0, writers=[], workers=1,
                   **kwargs).run()


def train_set(task, n=None):
    return SETUP[task][1](n or N_TRAIN[task], split="train", seed=0)


@pytest.mark.parametrize("task", list(SETUP))
def test_identical_splits_give_zero(task, tmp_path):
    data = train_set(task)
    drift = run(task, data, data, tmp_path).results["drift"]
    rows = drift.data["rows"]
    assert len(rows) >= 6
    for r in rows:
        assert r["js"] <= 1e-12 and abs(r["psi"]) <= 1e-12 and (r["w1_normalised"] or 0.0) <= 1e-12, r
    assert not drift.findings


@pytest.mark.parametrize("task", list(SETUP))
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


@pytest.mark.parametrize("task", list(SETUP))
def test_a_val_split_missing_two_classes_ranks_class_frequency_first(task, tmp_path):
    data = train_set(task)
    drift = run(task, data, WithoutClasses(data, task, DROPPED[task]), tmp_path).results["drift"]
    top = drift.data["rows"][0]
    assert top["feature"] == f"{task}_class_frequency"
    names = SETUP[task][2]["class_names"]
    assert top["missing_classes"] == [names[c] for c in DROPPED[task]]
    assert top["reading"] == "missing from val: " + ", ".join(names[c] for c in DROPPED[task])


@pytest.mark.parametrize("task", list(SETUP))
def test_values_equal_scipy_on_the_reports_histograms(task, tmp_path):
    _, dataset, _ = SETUP[task]
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
    manager, _, kwargs = SETUP["classification"]
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
    manager, _, kwargs = SETUP["classification"]
    loaders = {s: DataLoader(d, batch_size=64) for s, d in (("train", data), ("val", data), ("test", Darkened(data, 0.6)))}
    drift = manager(splits=loaders, log_dir=tmp_path, verbose=False, samples_to_visualize=0, writers=[], workers=1,
                    **kwargs).run().results["drift"]
    rows = drift.data["rows"]
    assert {r["split"] for r in rows} == {"val", "test"}
    assert max(r["js"] for r in rows if r["split"] == "val") <= 1e-12
    assert rows[0]["split"] == "test" and drift.scalars["largest_js_distance"]["test"] > 0.8
    assert all(set(f.counts) == {"test"} for f in drift.findings) and drift.findings
