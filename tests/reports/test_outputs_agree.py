"""TensorBoard, TXT and JSON show the same numbers: read the run folder back with TensorBoard's
own ``EventMultiplexer`` (one run per split, plus the run of no split)."""
from __future__ import annotations

import json
import math

import pytest
from conftest import segmentation_raw_batches
from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

from data_gradients import SegmentationAnalysisManager
from data_gradients.reports.formatting import fmt
from data_gradients.reports.markdown import feature_text
from data_gradients.reports.tensorboard_writer import HEADLINE, SUMMARY_TAG

GUIDANCE = {"scalars": 0, "tensors": 0, "images": 0, "histograms": 0}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("logs")
    return SegmentationAnalysisManager(
        segmentation_raw_batches(0), segmentation_raw_batches(1, n_batches=3), num_classes=4, ignore_labels=[255],
        class_names=["sky", "road", "car", "person"], samples_to_visualize=3, log_dir=log_dir, verbose=False,
    ).run()


@pytest.fixture(scope="module")
def runs(report):
    """{"": the run of no split, "train": ..., "val": ...} as TensorBoard reads them."""
    mux = EventMultiplexer(size_guidance=GUIDANCE)
    mux.AddRunsFromDirectory(str(report.run_dir))
    mux.Reload()
    return {"" if name == "." else name: mux.GetAccumulator(name) for name in mux.Runs()}


def text_of(acc, tag):
    return acc.Tensors(tag)[0].tensor_proto.string_val[0].decode()


def test_one_run_per_split_and_one_for_no_split(report, runs):
    # the split runs, the run of no split, and the HParams session with its headline runs
    assert set(runs) == {"", "train", "val", "headline", "headline/train", "headline/val"}
    for split in ("train", "val"):  # the stream series are no metric of the session: they live apart
        assert not [t for t in runs[split].Tags()["scalars"] if t.startswith(HEADLINE + "/")]
        assert all(t.startswith(HEADLINE + "/") for t in runs[f"headline/{split}"].Tags()["scalars"])


def test_every_scalar_in_tensorboard_equals_json_and_txt(report, runs):
    js = json.loads(report.outputs["json"].read_text())
    txt = report.outputs["txt"].read_text()
    expected = {(f, name, split): v for f, d in js["features"].items() for name, per in d["scalars"].items()
                for split, v in per.items() if v is not None}
    assert len(expected) >= 20
    written = {(split, tag) for split in ("train", "val") for tag in runs[f"headline/{split}"].Tags()["scalars"]}
    assert written == {(s, f"{HEADLINE}/{f}/{n}") for f, n, s in expected}
    for (feature, name, split), value in expected.items():
        (event,) = runs[f"headline/{split}"].Scalars(f"{HEADLINE}/{feature}/{name}")
        assert math.isclose(event.value, value, rel_tol=1e-6, abs_tol=1e-6), (feature, name, split, event.value, value)
        section = txt.split(f"({feature}) ==", 1)[1]
        row = next(line for line in section.splitlines() if line.split() and line.split()[0] == name)
        col = report.split_names.index(split)
        assert row.split()[1 + col] == fmt(value)
        # the Markdown table of the text tab shows the same string in the same column
        md = text_of(runs[""], f"{feature}/tables/text_summary")
        md_row = next(line for line in md.splitlines() if line.startswith(f"| {name} |"))
        assert [c.strip() for c in md_row.strip("|").split("|")][1 + col] == fmt(value)


def test_text_tab_has_every_feature_findings_first(report, runs):
    tags = runs[""].Tags()["tensors"]
    text_tags = sorted(t for t in tags if t.endswith("/text_summary"))
    assert text_tags[0] == f"{SUMMARY_TAG}/text_summary"  # sorts first
    for result in report.results.values():
        assert text_of(runs[""], f"{result.name}/tables/text_summary") == feature_text(result, report.split_names)
    summary = text_of(runs[""], f"{SUMMARY_TAG}/text_summary")
    assert summary.index("summary") < summary.index("## Findings")
    for finding in report.findings:
        assert finding.title in summary


def test_splits_share_scalar_and_histogram_tags(runs):
    train, val = runs["train"].Tags(), runs["val"].Tags()
    # headline numbers of one split only (e.g. "images also in train") are the exception: see above
    stream = [{t for t in tags["scalars"] if not t.startswith(HEADLINE)} for tags in (train, val)]
    assert stream[0] == stream[1] and len(stream[0]) >= 5
    assert len(set(runs["headline/train"].Tags()["scalars"]) & set(runs["headline/val"].Tags()["scalars"])) > 20
    assert set(train["histograms"]) == set(val["histograms"])
    assert "image_brightness/mean_brightness" in train["histograms"]
    assert {"stream_order/mean_brightness", "stream_order/class_share/sky"} <= set(train["scalars"])


def test_histograms_are_as_counted(report, runs):
    hist = next(h for h in report["image_brightness"].histograms if h.key == "mean_brightness")
    for split in ("train", "val"):
        (event,) = runs[split].Histograms("image_brightness/mean_brightness")
        assert event.histogram_value.bucket == list(hist.counts[split].astype(float))
        assert event.histogram_value.num == report.splits[split].samples
    values = runs["train"].Histograms("color_distribution/channel_R")[0].histogram_value
    assert values.bucket_limit[-1] == 255 and values.max <= 255  # a 0-255 value ends at 255


def test_stream_scalars_step_by_images_read(report, runs):
    steps = [e.step for e in runs["train"].Scalars("stream_order/mean_brightness")]
    assert steps == sorted(steps) and steps[-1] == report.splits["train"].samples
    # the Distributions tab has a real x-axis: the brightness distribution per window of the stream
    windows = runs["train"].Histograms("stream_order/brightness")
    assert [e.step for e in windows] == steps and sum(e.histogram_value.num for e in windows) == steps[-1]


def test_hparams_session_names_the_configuration(report, runs):
    from tensorboard.plugins.hparams import metadata

    content = runs["headline"].SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
    start = metadata.parse_session_start_info_plugin_data(content)
    assert start.hparams["task"].string_value == "segmentation"
    assert start.hparams["num_classes"].number_value == 4
    assert start.hparams["samples.train"].number_value == report.splits["train"].samples


def test_figures_and_samples_are_written(report, runs):
    figure_count = sum(len(r.histograms) + len(r.heatmaps) for r in report.results.values())
    assert len(runs[""].Tags()["images"]) == figure_count
    assert all(t.endswith("/figure") for t in runs[""].Tags()["images"])
    for split in ("train", "val"):
        assert len(runs[split].Tags()["images"]) == 3  # sample pictures of the split, in its run
