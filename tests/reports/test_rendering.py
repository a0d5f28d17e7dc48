"""Plots are drawn once for every writer, the same PNG whatever the number of workers, and
writing loads jinja2, TensorBoard, pdfkit and pypdf only when it runs, and never matplotlib."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import segmentation_raw_batches

from data_gradients import SegmentationAnalysisManager
from data_gradients.reports import rendering
from data_gradients.reports.json_writer import JsonWriter
from data_gradients.reports.pdf import HtmlWriter
from data_gradients.reports.rendering import RenderedPlot, render_plots, report_plots
from data_gradients.reports.tensorboard_writer import TensorBoardWriter
from data_gradients.reports.txt_writer import TxtWriter
from data_gradients.reports.writers import write_all

WRITERS = [TxtWriter, JsonWriter, TensorBoardWriter, HtmlWriter]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A finished report, not written yet."""
    return SegmentationAnalysisManager(
        segmentation_raw_batches(0), segmentation_raw_batches(1, n_batches=3), num_classes=4, ignore_labels=[255],
        log_dir=tmp_path_factory.mktemp("logs"), verbose=False, writers=[],
    ).run()


def written(report, tmp_path, workers):
    report.figure_images.clear()
    report.outputs.clear()
    report.run_dir = tmp_path / f"workers{workers}"
    report.run_dir.mkdir()
    write_all(report, [w() for w in WRITERS], workers=workers)
    return dict(report.figure_images)


def test_every_plot_is_drawn_once_for_all_writers(report, tmp_path, monkeypatch):
    drawn = []
    real = rendering.render_plot
    monkeypatch.setattr(rendering, "render_plot", lambda item: drawn.append(item.key) or real(item))
    plots = written(report, tmp_path, workers=1)
    assert len(drawn) == len(report_plots(report)) == len(plots) >= 10
    assert all(isinstance(p, RenderedPlot) and p.png.startswith(b"\x89PNG") for p in plots.values())
    # the HTML's figure files are those very PNGs
    for index, (tag, _) in enumerate(report_plots(report)):
        name = tag.split("/")[0]
        files = sorted((report.run_dir / "figures").glob(f"{name}__*.png"))
        assert any(f.read_bytes() == plots[tag].png for f in files), tag


@pytest.mark.parametrize("mode", ["processes", "threads"])
def test_workers_draw_the_same_pngs_and_write_the_same_outputs(report, tmp_path, mode, monkeypatch):
    one = written(report, tmp_path, workers=1)
    txt, js = (report.run_dir / "summary.txt").read_text(), json.loads((report.run_dir / "summary.json").read_text())
    report.figure_images.clear()
    render_plots(report, workers=3, mode=mode)
    assert {t: p.png for t, p in report.figure_images.items()} == {t: p.png for t, p in one.items()}
    two = written(report, tmp_path, workers=2)
    assert {t: p.png for t, p in two.items()} == {t: p.png for t, p in one.items()}
    assert (report.run_dir / "summary.txt").read_text() == txt
    assert json.loads((report.run_dir / "summary.json").read_text()) == js
    assert list(report.figure_images) == [tag for tag, _ in report_plots(report)]  # in report order


@pytest.mark.skipif(not rendering._can_fork(), reason="forked workers exist only where fork does")
def test_a_dying_worker_loses_no_plot(report, monkeypatch):
    parent, real = os.getpid(), rendering.render_plot

    def render_or_die(item):
        if os.getpid() != parent:
            os._exit(3)  # a child that dies on its first plot
        return real(item)

    monkeypatch.setattr(rendering, "render_plot", render_or_die)
    report.figure_images.clear()
    render_plots(report, workers=2, mode="processes")
    assert list(report.figure_images) == [tag for tag, _ in report_plots(report)]
    assert all(p.png.startswith(b"\x89PNG") for p in report.figure_images.values())


@pytest.mark.parametrize("workers", [1, 2])
def test_a_plot_that_cannot_be_drawn_costs_only_itself(report, tmp_path, workers):
    import copy

    import numpy as np

    from data_gradients.results import Heatmap

    broken = copy.deepcopy(report)
    feature = next(r for r in broken.results.values() if r.heatmaps)
    feature.heatmaps.append(Heatmap(key="broken", title="Broken", maps={"train": {"a": np.zeros(3)}}))  # 1-D
    plots = written(broken, tmp_path, workers=workers)
    tag = f"{feature.name}/broken"
    assert plots[tag] is None and sum(p is not None for p in plots.values()) == len(plots) - 1
    assert [w for w in broken.warnings if tag in w] == [next(w for w in broken.warnings if "could not be drawn" in w)]
    assert set(broken.outputs) == {"txt", "json", "tensorboard", "html"}
    assert "Broken" not in (broken.run_dir / "report.html").read_text()  # no figure without its picture


def test_workers_must_be_a_positive_int(report):
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            write_all(report, [], workers=bad)


def test_writing_loads_its_libraries_only_when_it_runs(tmp_path):
    """Importing the package and building a manager with the default writers loads none of the
    writers' libraries (~40 MB); running it does. Nothing imports matplotlib (the plots are drawn by
    ``reports.raster``): ~0.3 s of CPU and ~30 MB that every run used to pay."""
    heavy = ["matplotlib", "jinja2", "tensorboard", "pdfkit", "pypdf", "torch.utils.tensorboard"]
    code = f"""
import sys, json
sys.path.insert(0, {os.path.join(os.path.dirname(__file__), '..')!r})
from conftest import segmentation_raw_batches
from data_gradients import SegmentationAnalysisManager
m = SegmentationAnalysisManager(segmentation_raw_batches(0, n_batches=1), num_classes=4, ignore_labels=[255],
                                log_dir={str(tmp_path)!r}, verbose=False)
before = [n for n in {heavy!r} if n in sys.modules]
m.run()
after = [n for n in {heavy!r} if n in sys.modules]
print(json.dumps([before, after]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == []
    assert {"jinja2", "tensorboard"} <= set(after) and "matplotlib" not in after
