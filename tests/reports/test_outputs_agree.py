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


def test_every_headline_number_in_tensorboard_equals_json_and_txt(report, runs):
    """The headline numbers along the stream end at the split's numbers: the same in TensorBoard, the
    JSON and the TXT."""
    js = json.loads(report.outputs["json"].read_text())
    txt = report.outputs["txt"].read_text()
    series = {(name, split): (feature, values) for feature, d in js["features"].items() for s in d["series"]
              if s["headline"] for split, per_name in s["values"].items() for name, values in per_name.items()}
    written = {(tag.split("/", 1)[1], split) for split in ("train", "val") for tag in runs[f"headline/{split}"].Tags()["scalars"]}
    assert written == set(series)
    assert {"mean_brightness", "classes_seen", "objects_per_image", "share_dark_images", "blurry_images"} <= {
        n for n, _ in written}
    for (name, split), (_, values) in series.items():
        events = runs[f"headline/{split}"].Scalars(f"{HEADLINE}/{name}")
        assert len(events) >= 2 and events[-1].step == report.splits[split].samples
        assert [e.value for e in events] == pytest.approx(values, rel=1e-6)
    # the last value is the split's number: the feature's scalar of that name, or these
    same = {"mean_brightness": ("image_brightness", "mean_brightness"),
            "classes_seen": ("segmentation_class_frequency", "classes_present")}
    checked = 0
    for (name, split), (feature, values) in series.items():
        feature, scalar = same.get(name, (feature, name))
        if scalar not in js["features"][feature]["scalars"]:
            continue
        value = js["features"][feature]["scalars"][scalar][split]
        assert math.isclose(values[-1], value, rel_tol=1e-12), (name, split)
        assert math.isclose(runs[f"headline/{split}"].Scalars(f"{HEADLINE}/{name}")[-1].value, value, rel_tol=1e-6)
        section = txt.split(f"({feature}) ==", 1)[1]
        row = next(line for line in section.splitlines() if line.split() and line.split()[0] == scalar)
        assert row.split()[1 + report.split_names.index(split)] == fmt(value)
        checked += 1
    assert checked >= 2 * 9


def test_every_number_of_the_json_is_in_the_txt_and_the_text_tab(report, runs):
    js = json.loads(report.outputs["json"].read_text())
    txt = report.outputs["txt"].read_text()
    expected = {(f, name, split): v for f, d in js["features"].items() for name, per in d["scalars"].items()
                for split, v in per.items() if v is not None}
    assert len(expected) >= 20
    for (feature, name, split), value in expected.items():
        section = txt.split(f"({feature}) ==", 1)[1]
        row = next(line for line in section.splitlines() if line.split() and line.split()[0] == name)
        col = report.split_names.index(split)
        assert row.split()[1 + col] == fmt(value)
        # the Markdown table of the text tab shows the same string in the same column
        md = text_of(runs[""], f"{feature}/tables/text_summary")
        md_row = next(line for line in md.splitlines() if line.startswith(f"| {name} |"))
        assert [c.strip() for c in md_row.strip("|").split("|")][1 + col] == fmt(value)


def test_no_chart_of_one_dot(runs):
    """Every scalar and histogram has a real x-axis: several steps (the windows of the stream)."""
    for name, acc in runs.items():
        tags = acc.Tags()
        for tag in tags["scalars"]:
            assert len(acc.Scalars(tag)) >= 2, (name, tag)
        for tag in tags["histograms"]:
            assert len(acc.Histograms(tag)) >= 2, (name, tag)


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
    assert set(train["scalars"]) == set(val["scalars"]) and len(train["scalars"]) >= 5
    assert set(runs["headline/train"].Tags()["scalars"]) == set(runs["headline/val"].Tags()["scalars"])
    assert set(train["histograms"]) == set(val["histograms"]) and len(train["histograms"]) >= 12
    assert "image_brightness/mean_brightness" in train["histograms"]
    assert {"stream_order/mean_brightness", "stream_order/class_share/sky"} <= set(train["scalars"])


def filled(histogram):
    return [(limit, count) for limit, count in zip(histogram.bucket_limit, histogram.bucket) if count]


def expected(edges, counts):
    return [(float(limit), float(count)) for limit, count in zip(edges[1:], counts) if count]


def test_histograms_build_up_along_the_stream_to_the_counts(report, runs):
    hist = next(h for h in report["image_brightness"].histograms if h.key == "mean_brightness")
    for split in ("train", "val"):
        events = runs[split].Histograms("image_brightness/mean_brightness")
        assert [e.step for e in events] == hist.stream_steps[split].tolist()
        # each step counts the images read so far; the last is the split, exactly as counted
        assert [e.histogram_value.num for e in events] == hist.stream_steps[split].tolist()
        # every filled bucket with its right edge (runs of empty buckets are written as one)
        assert filled(events[-1].histogram_value) == expected(hist.bin_edges, hist.counts[split])
        assert filled(events[0].histogram_value) == expected(hist.bin_edges, hist.stream_counts[split][0])
        assert sum(events[-1].histogram_value.bucket) == report.splits[split].samples


def test_stream_scalars_step_by_images_read(report, runs):
    steps = [e.step for e in runs["train"].Scalars("stream_order/mean_brightness")]
    assert steps == sorted(steps) and steps[-1] == report.splits["train"].samples and len(steps) >= 2


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
