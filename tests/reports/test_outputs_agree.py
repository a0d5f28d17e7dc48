"""TensorBoard, TXT and JSON show the same numbers: read the event file back."""
from __future__ import annotations

import json
import math

import pytest
from conftest import segmentation_raw_batches
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from data_gradients import SegmentationAnalysisManager
from data_gradients.reports.formatting import fmt, render_feature


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("logs")
    return SegmentationAnalysisManager(
        segmentation_raw_batches(0), segmentation_raw_batches(1, n_batches=3), num_classes=4, ignore_labels=[255],
        class_names=["sky", "road", "car", "person"], samples_to_visualize=3, log_dir=log_dir, verbose=False,
    ).run()


@pytest.fixture(scope="module")
def events(report):
    ea = EventAccumulator(str(report.run_dir), size_guidance={"scalars": 0, "tensors": 0, "images": 0, "histograms": 0})
    ea.Reload()
    return ea


def test_every_scalar_in_tensorboard_equals_json_and_txt(report, events):
    js = json.loads(report.outputs["json"].read_text())
    txt = report.outputs["txt"].read_text()
    tags = set(events.Tags()["scalars"])
    expected = {(f, name, split): v for f, d in js["features"].items() for name, per in d["scalars"].items()
                for split, v in per.items() if v is not None}
    assert len(expected) >= 20
    assert {f"{f}/{n}/{s}" for f, n, s in expected} == tags
    for (feature, name, split), value in expected.items():
        tb = events.Scalars(f"{feature}/{name}/{split}")[0].value
        assert math.isclose(tb, value, rel_tol=1e-6, abs_tol=1e-6), (feature, name, split, tb, value)
        section = txt.split(f"({feature}) ==", 1)[1]
        row = next(line for line in section.splitlines() if line.split() and line.split()[0] == name)
        col = report.split_names.index(split)
        assert row.split()[1 + col] == fmt(value)


def test_tensorboard_text_is_the_txt_section(report, events):
    txt = report.outputs["txt"].read_text()
    text_tags = [t for t in events.Tags()["tensors"] if t.endswith("/summary/text_summary")]
    assert len(text_tags) == len(report.results)
    for result in report.results.values():
        raw = events.Tensors(f"{result.name}/summary/text_summary")[0].tensor_proto.string_val[0].decode()
        shown = "\n".join(line[4:] for line in raw.splitlines())
        assert shown == render_feature(result, report.split_names)
        assert shown in txt


def test_figures_histograms_and_samples_are_written(report, events):
    tags = events.Tags()
    figure_count = sum(len(r.histograms) + len(r.heatmaps) for r in report.results.values())
    sample_images = sum(len(v) for r in report.results.values() for g in r.images for v in g.images.values())
    assert sample_images == 6  # 3 per split
    assert len(tags["images"]) == figure_count + sample_images
    assert any(t.startswith("image_brightness/") for t in tags["histograms"])
