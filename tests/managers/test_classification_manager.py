"""The classification manager end to end on tiny data: formats, findings, outputs, bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import classification_raw_batches

from data_gradients import ClassificationAnalysisManager
from data_gradients.demo.classification_data import CLASSIFICATION_CLASS_NAMES, classification_demo_loaders
from data_gradients.errors import BatchFormatError, ConfigurationError

LIGHT = ["classification_class_frequency", "duplicates", "data_quality"]


def run(tmp_path, train, val=None, **kw):
    kw.setdefault("num_classes", 4)
    return ClassificationAnalysisManager(train, val, log_dir=tmp_path, verbose=False, **kw).run()


def test_demo_data_end_to_end(tmp_path):
    train, val = classification_demo_loaders(n_train=160, n_val=70, batch_size=32)
    report = run(tmp_path, train, val, num_classes=10, class_names=CLASSIFICATION_CLASS_NAMES, samples_to_visualize=2)
    assert report.failed_features == {} and report.warnings == []
    assert set(report.outputs) >= {"txt", "json", "tensorboard"}
    assert report.splits["train"].samples == 160 and report.splits["val"].samples == 70
    freq = report["classification_class_frequency"]
    counts = freq.histograms[0].counts["train"]
    assert counts.sum() == 160 and counts[0] > counts[5] > 0  # imbalanced by design
    dup = report["duplicates"]
    assert dup.scalars["duplicate_groups"]["train"] == 2  # train 50 = 0, 151 = 101
    assert dup.scalars["images_also_in_train"]["val"] == 2  # val 7 = train 0, val 60 = train 1
    leak = next(f for f in report.findings if f.key == "train_leakage")
    assert leak.sample_ids["val"] == [7, 60]
    shortcut = next(f for f in report.findings if f.key == "class_shortcuts")
    assert "ring" in shortcut.message  # ring images are darker by design
    assert len(report["classification_samples"].images[0].images["train"]) == 10
    summary = json.loads(report.outputs["json"].read_text())
    assert summary["config"]["multi_label"] is False and summary["task"] == "classification"
    text = report.outputs["txt"].read_text()
    assert "Images shared with train (leakage)" in text and "Exact duplicate images" in text


def test_multi_label_and_bad_labels(tmp_path):
    batches = classification_raw_batches(0, num_classes=4)
    report = run(tmp_path, batches, multi_label=True, features=LIGHT + ["classification_per_class_images"])
    assert report.failed_features == {}
    freq = report["classification_class_frequency"]
    assert "label_cardinality" in [h.key for h in freq.histograms]
    oor = next(f for f in report.findings if f.key == "out_of_range")
    assert oor.counts == {"train": 2} and oor.sample_ids["train"] == [5, 6]
    nan = next(f for f in report.findings if f.key == "nonfinite")
    assert nan.sample_ids["train"] == [4, 13]  # 13 is a copy of 4
    dup = report["duplicates"]
    assert dup.scalars["duplicate_groups"]["train"] == 5  # 4 copies across batches + 1 inside batch 1


def test_single_label_ids_and_dict_batches(tmp_path):
    batches = classification_raw_batches(1, num_classes=4, multi_label=False)
    plain = run(tmp_path, batches, features=LIGHT)
    dicts = [{"img": im, "target": {"label": lb}} for im, lb in batches]
    keyed = run(tmp_path, dicts, features=LIGHT, images_key="img", labels_key="target.label")
    a = plain["classification_class_frequency"].tables[0].rows
    assert a == keyed["classification_class_frequency"].tables[0].rows
    assert sum(r[2] for r in a) == 6 * 4 - 1  # one label out of range


def test_one_hot_labels_give_the_same_report(tmp_path):
    ids = [torch.from_numpy(np.random.default_rng(i).integers(0, 4, 5)) for i in range(3)]
    images = [torch.from_numpy(np.random.default_rng(10 + i).integers(0, 256, (5, 3, 8, 8), dtype=np.uint8))
              for i in range(3)]
    by_id = run(tmp_path, list(zip(images, ids)), features=LIGHT)
    one_hot = run(tmp_path, [(im, torch.eye(4)[i]) for im, i in zip(images, ids)], features=LIGHT)
    name = "classification_class_frequency"
    assert by_id[name].tables[0].rows == one_hot[name].tables[0].rows


@pytest.mark.parametrize("kwargs, message", [
    ({"multi_label": "yes"}, "`multi_label` must be True or False, got 'yes'"),
    ({"num_classes": 0}, "`num_classes` must be a positive int, got 0"),
    ({"features": ["segmentation_components"]}, "does not apply to task 'classification'"),
])
def test_bad_arguments(tmp_path, kwargs, message):
    kwargs.setdefault("num_classes", 3)
    with pytest.raises((ConfigurationError, KeyError)) as e:
        ClassificationAnalysisManager([], log_dir=tmp_path, verbose=False, **kwargs)
    assert message in str(e.value)


def test_labels_of_the_wrong_width_raise(tmp_path):
    bad = [(torch.zeros(2, 3, 4, 4), torch.zeros(2, 7))]
    with pytest.raises(BatchFormatError, match="one-hot labels must have 4 columns"):
        run(tmp_path, bad)
