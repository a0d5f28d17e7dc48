"""The detection manager end to end on tiny data: outputs, inference notes, layouts, arguments."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from conftest import detection_raw_batches
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from data_gradients import DetectionAnalysisManager
from data_gradients.errors import ConfigurationError
from data_gradients.feature_extractors import registered_features
from data_gradients.reports.formatting import fmt
from data_gradients.reports.json_writer import JsonWriter
from data_gradients.reports.txt_writer import TxtWriter

DETECTION = [n for n in registered_features("detection") if n.startswith("detection_")]


def run(tmp_path, train=None, val=None, **kw):
    kw.setdefault("num_classes", 4)
    kw.setdefault("writers", [TxtWriter(), JsonWriter()])  # TensorBoard is checked once, on the module report
    kw.setdefault("samples_to_visualize", 2)
    train = detection_raw_batches(0) if train is None else train
    return DetectionAnalysisManager(train, val, log_dir=tmp_path, verbose=False, **kw).run()


def label_numbers(report):
    """Every number of the detection features (pictures aside), for comparing runs."""
    js = json.loads(report.outputs["json"].read_text())
    return {n: {k: v for k, v in js["features"][n].items() if k != "images"} for n in DETECTION}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return DetectionAnalysisManager(
        detection_raw_batches(0), detection_raw_batches(1, n_batches=3), num_classes=4, bbox_format="xyxy",
        normalized_boxes=False, class_names=["cat", "dog", "bird", "fish"], samples_to_visualize=2,
        log_dir=tmp_path_factory.mktemp("logs"), verbose=False,
    ).run()


def test_every_output_is_written_without_failures(report):
    assert set(DETECTION) <= set(report.results)
    assert report.failed_features == {} and report.warnings == []
    assert {"txt", "json", "tensorboard"} <= set(report.outputs)
    js = json.loads(report.outputs["json"].read_text())
    assert js["task"] == "detection"
    assert js["config"]["boxes"] == {"bbox_format": "xyxy", "bbox_format_inferred": False, "normalized_boxes": False,
                                     "normalized_boxes_inferred": False, "label_first": True}
    assert report.splits["train"].samples == 18 and report.splits["val"].samples == 9
    keys = {f.key for f in report.findings}
    assert {"nonfinite", "class_out_of_range", "degenerate", "fully_outside", "no_boxes", "duplicate_boxes"} <= keys
    txt = report.outputs["txt"].read_text()
    for name in DETECTION:
        assert f"({name}) ==" in txt


def test_tensorboard_numbers_equal_json_and_txt_and_pictures_are_there(report):
    guidance = {"scalars": 0, "images": 0, "tensors": 0, "histograms": 0}
    ea = EventAccumulator(str(report.run_dir), size_guidance=guidance)  # the run of no split: figures
    ea.Reload()
    runs = {s: EventAccumulator(str(report.run_dir / s), size_guidance=guidance) for s in ("train", "val")}
    headline = {s: EventAccumulator(str(report.run_dir / "headline" / s), size_guidance=guidance) for s in ("train", "val")}
    for run in [*runs.values(), *headline.values()]:  # one run per split (sample pictures) and its headline numbers
        run.Reload()
    js = json.loads(report.outputs["json"].read_text())
    txt = report.outputs["txt"].read_text()
    checked = 0
    for feature in DETECTION:
        for name, per_split in js["features"][feature]["scalars"].items():
            for split, value in per_split.items():
                if value is None:
                    continue
                section = txt.split(f"({feature}) ==", 1)[1]
                row = next(line for line in section.splitlines() if line.split() and line.split()[0] == name)
                assert row.split()[1 + list(per_split).index(split)] == fmt(value)
                checked += 1
    assert checked >= 40
    for split in ("train", "val"):  # boxes per image along the stream end at the split's number
        boxes = headline[split].Scalars("0_headline/objects_per_image")
        value = js["features"]["detection_box_counts"]["scalars"]["mean_boxes_per_image"][split]
        assert len(boxes) >= 2 and math.isclose(boxes[-1].value, value, rel_tol=1e-6)
        area = js["features"]["detection_box_sizes"]["histograms"][0]
        assert area["key"] == "area"
        written = runs[split].Histograms("detection_box_sizes/area")[-1].histogram_value
        assert [c for c in written.bucket if c] == [float(c) for c in area["counts"][split] if c]  # empty runs merged
    images = [t for run in runs.values() for t in run.Tags()["images"] if t.startswith("detection_samples/")]
    assert len(images) == 4  # 2 per split
    figures = set(ea.Tags()["images"])
    for tag in ("detection_class_heatmap/coverage", "detection_overlap/max_iou_same_class",
                "detection_class_cooccurrence/conditional", "detection_box_sizes/size"):
        assert f"{tag}/figure" in figures


def test_inferred_format_is_stated_in_the_report(tmp_path):
    rng = np.random.default_rng(3)
    batches = []
    for _ in range(2):
        x1, y1 = rng.uniform(0, 60, (4, 10)), rng.uniform(0, 40, (4, 10))
        w, h = rng.uniform(4, 60, (4, 10)), rng.uniform(4, 40, (4, 10))
        cx, cy = np.minimum(x1 + w / 2, 80), np.minimum(y1 + h / 2, 60)
        labels = np.stack([rng.integers(0, 4, (4, 10)), cx / 80, cy / 60, w / 80, h / 60], -1)  # YOLO style
        labels[:, 0, 1:] = [0.05, 0.5, 0.1, 0.4]  # touching the left border: rules out xywh
        batches.append((torch.rand(4, 3, 60, 80), torch.from_numpy(labels).float()))
    r = run(tmp_path, train=batches, features=DETECTION)
    assert r.failed_features == {}
    assert any("boxes read as 'cxcywh'" in n for n in r.notes) and any("normalised" in n for n in r.notes)
    cfg = json.loads(r.outputs["json"].read_text())["config"]["boxes"]
    assert cfg["bbox_format"] == "cxcywh" and cfg["normalized_boxes"] is True and cfg["bbox_format_inferred"] is True
    assert "boxes read as 'cxcywh'" in r.outputs["txt"].read_text()


def test_ambiguous_first_batch_is_a_clear_error(tmp_path):
    batches = [(torch.rand(1, 3, 50, 50), [torch.tensor([[0, 10.0, 10, 20, 20]])])]
    with pytest.raises(ConfigurationError, match="`bbox_format` cannot be inferred"):
        run(tmp_path, train=batches)


def test_same_boxes_written_differently_give_the_same_report(tmp_path):
    ref = run(tmp_path, bbox_format="xyxy", normalized_boxes=False, features=DETECTION)
    as_dicts, as_cxcywh = [], []
    for images, labels in detection_raw_batches(0):
        keep = [(lab[:, 0] != -1) & (lab != 0).any(dim=1) for lab in labels]  # drop the padding rows
        as_dicts.append((list(images), [{"boxes": lab[k, 1:], "labels": lab[k, 0]} for lab, k in zip(labels, keep)]))
        rows = []
        for lab, k in zip(labels, keep):
            c, x1, y1, x2, y2 = lab[k].double().unbind(1)
            h, w = images.shape[-2:]
            rows.append(torch.stack([(x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h, c], 1))
        as_cxcywh.append((images, rows))
    dicts = run(tmp_path, train=as_dicts, bbox_format="xyxy", normalized_boxes=False, features=DETECTION)
    yolo = run(tmp_path, train=as_cxcywh, bbox_format="cxcywh", normalized_boxes=True, label_first=False,
               features=DETECTION)
    want = label_numbers(ref)
    for other in (dicts, yolo):
        got = label_numbers(other)
        for name in DETECTION:
            assert_close(got[name], want[name], name)


def assert_close(a, b, path):
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


def test_single_class_boxes_are_class_zero(tmp_path):
    batches = [(torch.rand(2, 3, 32, 32), [torch.tensor([[0, 1.0, 1, 9, 9], [0, 20, 20, 30, 31]]), torch.zeros(0, 5)])]
    r = run(tmp_path, train=batches, num_classes=1, class_names=["person"], bbox_format="xyxy",
            normalized_boxes=False, features=["detection_class_frequency", "detection_box_quality"])
    rows = r.results["detection_class_frequency"].tables[0].rows
    assert rows == [[0, "person", 2, 1.0, 0.5]]
    assert r.scalar("detection_box_quality", "class_out_of_range_boxes", "train") == 0


@pytest.mark.parametrize("kw, message", [
    ({"bbox_format": "yolo"}, "`bbox_format` must be one of ['xyxy', 'xywh', 'cxcywh'] or None (infer), got 'yolo'"),
    ({"normalized_boxes": "yes"}, "`normalized_boxes` must be True, False or None (infer), got 'yes'"),
    ({"label_first": None}, "`label_first` must be True (class in column 0) or False (column 4), got None"),
    ({"num_classes": 0}, "`num_classes` must be a positive int, got 0"),
])
def test_bad_arguments_name_the_argument(tmp_path, kw, message):
    kw.setdefault("num_classes", 3)
    with pytest.raises(ConfigurationError) as e:
        DetectionAnalysisManager([], log_dir=tmp_path, verbose=False, **kw)
    assert message in str(e.value)


def test_demo_data_runs_end_to_end(tmp_path):
    from data_gradients.demo.detection_data import DETECTION_CLASS_NAMES, detection_demo_loaders

    train, val = detection_demo_loaders(n_train=64, n_val=16, batch_size=8)
    r = run(tmp_path, train, val, num_classes=10, class_names=DETECTION_CLASS_NAMES)
    assert r.failed_features == {} and r.warnings == []
    assert any("boxes read as 'xyxy'" in n for n in r.notes)
    keys = {f.key for f in r.findings}
    assert {"nonfinite", "degenerate", "fully_outside", "class_out_of_range", "no_boxes"} <= keys
    assert r.scalar("image_brightness", "mean_brightness", "val") < r.scalar("image_brightness", "mean_brightness", "train")
    assert r.scalar("detection_box_sizes", "mean_area_pct", "val") < r.scalar("detection_box_sizes", "mean_area_pct", "train")
