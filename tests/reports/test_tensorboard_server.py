"""The real ``tensorboard --logdir`` on 127.0.0.1 serves what the writer wrote: runs, plugins, and the
tags of scalars, histograms, text and hparams, through its HTTP data API. Every wait is bounded."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, segmentation_raw_batches

from data_gradients import SegmentationAnalysisManager
from data_gradients.reports.tensorboard_writer import HEADLINE, SUMMARY_TAG

STARTUP_S = 90.0
REPORTS = {}
REQUEST_S = 30.0


def get(url: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=REQUEST_S) as r:
        return json.loads(r.read().decode())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("tb_logs")
    report = SegmentationAnalysisManager(
        segmentation_raw_batches(0), segmentation_raw_batches(1, n_batches=3), num_classes=4, ignore_labels=[255],
        samples_to_visualize=2, log_dir=log_dir, verbose=False,
    ).run()
    # a second version of the dataset, analysed into the same folder: one more HParams row
    other = SegmentationAnalysisManager(
        segmentation_raw_batches(2, n_batches=4), segmentation_raw_batches(3, n_batches=2), num_classes=4,
        ignore_labels=[255], samples_to_visualize=0, log_dir=log_dir, report_title="version 2", verbose=False,
        features=["image_brightness", "stream_order"],
    ).run()
    exe = Path(sys.executable).with_name("tensorboard")
    port = free_port()
    proc = subprocess.Popen([str(exe), "--logdir", str(log_dir), "--host", "127.0.0.1", "--port", str(port),
                             "--reload_interval", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            try:
                if get(f"{url}/data/runs"):
                    break
            except (OSError, urllib.error.URLError, json.JSONDecodeError):
                pass
            assert time.monotonic() < deadline, f"tensorboard did not serve the runs within {STARTUP_S} s"
            time.sleep(0.25)
        run = report.run_dir.relative_to(log_dir).as_posix()
        REPORTS[url] = report
        REPORTS[url + "/other"] = other
        yield url, run
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def server_report(server):
    return REPORTS[server[0]]


def test_runs_are_the_splits_and_the_run_of_no_split(server):
    url, run = server
    other = REPORTS[url + "/other"].run_dir.relative_to(REPORTS[url].run_dir.parent.parent).as_posix()
    expected = [r + suffix for r in (run, other)
                for suffix in ("", "/train", "/val", "/headline", "/headline/train", "/headline/val")]
    assert sorted(get(f"{url}/data/runs")) == sorted(expected)


def test_dashboards_with_data_are_enabled(server):
    url, _ = server
    plugins = get(f"{url}/data/plugins_listing")
    for name in ("scalars", "histograms", "text", "images", "hparams", "timeseries"):
        assert plugins[name]["enabled"], name


def test_scalars_and_histograms_overlay_the_splits(server):
    url, run = server
    scalars = get(f"{url}/data/plugin/scalars/tags")
    histograms = get(f"{url}/data/plugin/histograms/tags")
    for split in ("train", "val"):
        assert "stream_order/mean_brightness" in scalars[f"{run}/{split}"]
        assert f"{HEADLINE}/mean_brightness" in scalars[f"{run}/headline/{split}"]
        assert "image_brightness/mean_brightness" in histograms[f"{run}/{split}"]
    assert run not in scalars  # the run of no split has no one-dot charts
    # the Distributions tab: the brightness distribution at each window of the stream, not one step
    query = urllib.parse.urlencode({"run": f"{run}/train", "tag": "image_brightness/mean_brightness"})
    steps = [point[1] for point in get(f"{url}/data/plugin/distributions/distributions?{query}")]
    assert len(steps) >= 2 and steps == sorted(steps) and steps[-1] == server_report(server).splits["train"].samples


def test_text_cards_start_with_the_findings(server):
    url, run = server
    tags = get(f"{url}/data/plugin/text/tags")[run]
    assert sorted(tags)[0] == f"{SUMMARY_TAG}/text_summary"
    assert "image_brightness/tables/text_summary" in tags


def test_hparams_has_the_session_with_its_configuration(server):
    url, run = server
    experiment = get(f"{url}/data/plugin/hparams/experiment", {"experimentName": ""})
    names = {h["name"] for h in experiment["hparamInfos"]}
    assert {"dataset", "task", "num_classes", "samples.train", "samples.val"} <= names
    groups = get(f"{url}/data/plugin/hparams/session_groups",
                 {"experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE",
                                                             "STATUS_RUNNING"],
                  "colParams": [], "startIndex": 0, "sliceSize": 10, "includeMetrics": True})
    by_session = {s["name"]: g for g in groups["sessionGroups"] for s in g["sessions"]}
    assert len(by_session) == 2 and f"{run}/headline" in by_session  # one row per analysis, to compare versions
    for name, group in by_session.items():
        report = server_report(server) if name == f"{run}/headline" else REPORTS[url + "/other"]
        metrics = {(m["name"]["group"], m["name"]["tag"]): m["value"] for m in group["metricValues"]}
        assert metrics and all(tag.startswith(HEADLINE + "/") for _, tag in metrics)  # no stream series columns
        for split in ("train", "val"):  # the headline numbers, read from each split's headline run
            value = metrics[(split, f"{HEADLINE}/mean_brightness")]  # the last step: the whole split
            assert value == pytest.approx(report.scalar("image_brightness", "mean_brightness", split), rel=1e-6)
