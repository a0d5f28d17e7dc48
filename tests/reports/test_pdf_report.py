"""The PDF report: content from the same numbers as the JSON, escaping, and graceful
degradation when wkhtmltopdf is missing or too slow."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import segmentation_raw_batches

from data_gradients import SegmentationAnalysisManager
from data_gradients.reports.formatting import fmt
from data_gradients.reports.json_writer import JsonWriter
from data_gradients.reports.pdf import HtmlWriter, PdfWriter
from data_gradients.reports.txt_writer import TxtWriter

needs_wkhtmltopdf = pytest.mark.skipif(shutil.which("wkhtmltopdf") is None or shutil.which("pdftotext") is None,
                                       reason="wkhtmltopdf and pdftotext are installed by ./dev setup")
EVIL_CLASS = "<img src=x onerror=alert(1)>"
EVIL_FRAME = '<iframe src="file:///etc/passwd">'


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def page_count(path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return SegmentationAnalysisManager(
        segmentation_raw_batches(0), segmentation_raw_batches(1, n_batches=3), num_classes=4, ignore_labels=[255],
        class_names=["road", EVIL_CLASS, EVIL_FRAME, "sky"], report_title="Review <b>bold</b> & co",
        log_dir=tmp_path_factory.mktemp("logs"), verbose=False,
    ).run()


@needs_wkhtmltopdf
def test_pdf_holds_every_section_and_the_json_numbers(report):
    assert report.outputs["pdf"].exists() and report.outputs["html"].exists()
    assert report.outputs["pdf"].parent == report.outputs["html"].parent == report.run_dir
    text = " ".join(pdf_text(report.outputs["pdf"]).split())
    for title in ("Findings", "Image statistics", "Label statistics", "Appendix: configuration"):
        assert title in text
    js = json.loads(report.outputs["json"].read_text())
    for name, feature in js["features"].items():
        if feature["group"] in ("image", "labels"):
            assert feature["title"] in text, feature["title"]
        for stat, per_split in feature["scalars"].items():
            if feature["group"] == "samples":
                continue
            values = [fmt(v) for v in per_split.values()]
            assert f"{stat} " in text, stat
            assert all(v in text for v in values), (name, stat, values)
    for f in js["findings"]:
        assert f["title"] in text
    assert 4 <= page_count(report.outputs["pdf"]) <= 40


@needs_wkhtmltopdf
def test_user_text_is_escaped_and_no_local_file_is_read(report):
    html = report.outputs["html"].read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and EVIL_CLASS not in html
    assert "&lt;iframe" in html and "<iframe" not in html
    assert "Review &lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    text = pdf_text(report.outputs["pdf"])
    assert EVIL_CLASS in text and "iframe src=" in text
    assert "Review <b>bold</b> & co" in text
    assert "root:x:0:0" not in text


def test_html_is_written_and_missing_wkhtmltopdf_is_one_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no wkhtmltopdf on PATH
    report = SegmentationAnalysisManager(
        segmentation_raw_batches(0, n_batches=2), num_classes=4, ignore_labels=[255], log_dir=tmp_path,
        verbose=False, features=["segmentation_class_frequency", "image_brightness"],
    ).run()
    assert "pdf" not in report.outputs and not (report.run_dir / "report.pdf").exists()
    for key in ("txt", "json", "tensorboard", "html"):
        assert report.outputs[key].exists()
    assert len(report.warnings) == 1
    assert "wkhtmltopdf was not found" in report.warnings[0] and "apt-get install wkhtmltopdf" in report.warnings[0]
    assert "Class frequency" in report.outputs["html"].read_text()


@needs_wkhtmltopdf
def test_timeout_keeps_the_other_outputs(tmp_path):
    writers = [TxtWriter(), JsonWriter(), HtmlWriter(), PdfWriter(timeout_s=0.001)]
    report = SegmentationAnalysisManager(
        segmentation_raw_batches(0, n_batches=2), num_classes=4, ignore_labels=[255], log_dir=tmp_path,
        verbose=False, writers=writers,
    ).run()
    assert "pdf" not in report.outputs and report.outputs["html"].exists() and report.outputs["txt"].exists()
    assert any("did not finish within" in w for w in report.warnings)


def test_failing_wkhtmltopdf_is_a_warning(tmp_path):
    fake = tmp_path / "wkhtmltopdf"
    fake.write_text("#!/bin/sh\necho 'Exit with code 1 due to network error: ContentNotFoundError' >&2\nexit 1\n")
    fake.chmod(0o755)
    writers = [HtmlWriter(), PdfWriter(wkhtmltopdf=str(fake))]
    report = SegmentationAnalysisManager(
        segmentation_raw_batches(0, n_batches=1), num_classes=4, ignore_labels=[255], log_dir=tmp_path,
        verbose=False, writers=writers, features=["image_brightness"],
    ).run()
    assert "pdf" not in report.outputs
    assert report.warnings == [w for w in report.warnings if "ContentNotFoundError" in w] and len(report.warnings) == 1


@needs_wkhtmltopdf
def test_partial_and_failed_runs_say_so_on_the_first_page(tmp_path):
    report = SegmentationAnalysisManager(
        segmentation_raw_batches(0), num_classes=4, ignore_labels=[255], log_dir=tmp_path, verbose=False,
        max_batches=2, features=["segmentation_class_frequency", "image_brightness"],
    ).run()
    first_page = subprocess.run(["pdftotext", "-l", "1", str(report.outputs["pdf"]), "-"], capture_output=True,
                                text=True, check=True).stdout
    assert "PARTIAL REPORT" in first_page and "max_batches=2" in first_page


@needs_wkhtmltopdf
def test_hidden_and_censored_class_names_stay_out_of_the_pdf(tmp_path):
    report = SegmentationAnalysisManager(
        segmentation_raw_batches(0, n_batches=2), num_classes=4, ignore_labels=[0, 255], log_dir=tmp_path,
        verbose=False, class_names=["zz_censored", "secret_b", "secret_c", "secret_d"], hide_class_names=True,
    ).run()
    text = pdf_text(report.outputs["pdf"]) + report.outputs["html"].read_text()
    assert "secret" not in text and "zz_censored" not in text
    censored = SegmentationAnalysisManager(
        segmentation_raw_batches(0, n_batches=2), num_classes=4, ignore_labels=[0, 255], log_dir=tmp_path,
        verbose=False, class_names=["zz_censored", "road", "car", "sky"],
    ).run()
    text = pdf_text(censored.outputs["pdf"])
    assert "zz_censored" not in text and "road" in text
