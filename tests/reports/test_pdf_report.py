"""The PDF report: content from the same numbers as the JSON, escaping, and graceful
degradation when wkhtmltopdf is missing or too slow."""
from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
import time

import pytest
from conftest import segmentation_raw_batches

from data_gradients import SegmentationAnalysisManager
from data_gradients.reports.formatting import fmt
from data_gradients.reports.json_writer import JsonWriter
from data_gradients.reports.pdf import HtmlWriter, PdfWriter
from data_gradients.reports.pdf.pdf_writer import is_complete_pdf
from data_gradients.reports.txt_writer import TxtWriter

needs_wkhtmltopdf = pytest.mark.skipif(shutil.which("wkhtmltopdf") is None or shutil.which("pdftotext") is None,
                                       reason="wkhtmltopdf and pdftotext are installed by ./dev setup")
EVIL_CLASS = "<img src=x onerror=alert(1)>"
EVIL_FRAME = '<iframe src="file:///etc/passwd">'
EVIL_KEY = "<b>mask</b>"


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def page_text(path, page: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def fake_wkhtmltopdf(folder, body: str):
    """An executable named wkhtmltopdf running ``body`` (sh); ``$out`` is the output path it was given."""
    fake = folder / "wkhtmltopdf"
    fake.write_text('#!/bin/sh\nfor out; do :; done\n' + body + "\n")
    fake.chmod(0o755)
    return str(fake)


def page_count(path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def as_dicts(batches):
    return [{"image": images, EVIL_KEY: masks} for images, masks in batches]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return SegmentationAnalysisManager(
        as_dicts(segmentation_raw_batches(0)), as_dicts(segmentation_raw_batches(1, n_batches=3)), num_classes=4,
        ignore_labels=[255], class_names=["road", EVIL_CLASS, EVIL_FRAME, "sky"], images_key="image",
        labels_key=EVIL_KEY, report_title="Review <b>bold</b> & co", log_dir=tmp_path_factory.mktemp("logs"),
        verbose=False,
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
    assert EVIL_KEY in text and EVIL_KEY not in html
    assert "root:x:0:0" not in text


@needs_wkhtmltopdf
def test_pages_are_numbered_and_writing_is_fast(report):
    pages = page_count(report.outputs["pdf"])
    assert f"1 / {pages}" in page_text(report.outputs["pdf"], 1)
    assert f"{pages} / {pages}" in page_text(report.outputs["pdf"], pages)
    assert report.write_s < 10  # all outputs, every default feature


@needs_wkhtmltopdf
def test_no_figure_is_cut_and_no_title_is_left_alone(report):
    """Each figure prints whole on one page; a feature's title shares the page with its first figure."""
    pdf, page = report.outputs["pdf"], report.outputs["html"].read_text()
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    image_pages = [int(line.split()[0]) for line in listing.splitlines()[2:]]
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(image_pages) == len(sources)  # a figure split over two pages would print as two images
    page_of = dict(zip(sources, image_pages))
    texts = [page_text(pdf, i) for i in range(1, page_count(pdf) + 1)]
    checked = 0
    for feature in page.split('<div class="feature keep">')[1:]:
        title = html_lib.unescape(re.search(r"<h3>(.*?)</h3>", feature).group(1))
        first = re.match(r'\s*<h3>.*?</h3>\s*<p class="description">.*?</p>\s*<div class="figure keep"><img src="([^"]+)"',
                         feature, re.S)
        if first:
            title_pages = [i for i, t in enumerate(texts, 1) if i > 1 and title in t.splitlines()]
            assert page_of[first.group(1)] in title_pages, (title, title_pages, page_of[first.group(1)])
            checked += 1
    assert checked >= 3


def test_timeout_kills_a_hanging_wkhtmltopdf(tmp_path):
    writers = [TxtWriter(), HtmlWriter(), PdfWriter(timeout_s=0.5, wkhtmltopdf=fake_wkhtmltopdf(tmp_path, "exec sleep 30"))]
    start = time.perf_counter()
    report = SegmentationAnalysisManager(
        segmentation_raw_batches(0, n_batches=1), num_classes=4, ignore_labels=[255], log_dir=tmp_path,
        verbose=False, writers=writers, features=["image_brightness"],
    ).run()
    assert time.perf_counter() - start < 10
    assert "pdf" not in report.outputs and report.outputs["html"].exists() and report.outputs["txt"].exists()
    assert len(report.warnings) == 1 and "did not finish within 0.5 s" in report.warnings[0]
    assert not list(report.run_dir.glob("*.pdf"))


def test_exit_code_1_with_a_complete_pdf_is_a_success(tmp_path):
    """wkhtmltopdf exits 1 after refusing a blocked load but still prints: the file decides."""
    from pypdf import PdfWriter as PdfFile

    blank = tmp_path / "blank.pdf"
    doc = PdfFile()
    doc.add_blank_page(595, 842)
    doc.add_metadata({"/Title": "x" * 2000})  # over the size floor of a real PDF
    with open(blank, "wb") as f:
        doc.write(f)
    fake = fake_wkhtmltopdf(tmp_path, f'cp {blank} "$out"\necho "Warning: Blocked access to file" >&2\nexit 1')
    report = SegmentationAnalysisManager(
        segmentation_raw_batches(0, n_batches=1), num_classes=4, ignore_labels=[255], log_dir=tmp_path,
        verbose=False, writers=[HtmlWriter(), PdfWriter(wkhtmltopdf=fake)], features=["image_brightness"],
    ).run()
    assert report.warnings == [] and is_complete_pdf(report.outputs["pdf"])


def test_a_truncated_pdf_is_not_kept(tmp_path):
    fake = fake_wkhtmltopdf(tmp_path, 'printf "%%PDF-1.4\\n" > "$out"\nhead -c 4000 /dev/zero >> "$out"\nexit 1')
    report = SegmentationAnalysisManager(
        segmentation_raw_batches(0, n_batches=1), num_classes=4, ignore_labels=[255], log_dir=tmp_path,
        verbose=False, writers=[HtmlWriter(), PdfWriter(wkhtmltopdf=fake)], features=["image_brightness"],
    ).run()
    assert "pdf" not in report.outputs and not list(report.run_dir.glob("*.pdf"))
    assert len(report.warnings) == 1 and "wkhtmltopdf failed" in report.warnings[0]


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


class MarkerWriter:
    """A writer after the PDF: leaves a file wkhtmltopdf (fake) can see; or interrupts the writing."""

    name = "marker"

    def __init__(self, interrupt_after=None):
        self.interrupt_after = interrupt_after  # a file to wait for (at most 10 s), then Ctrl-C

    def write(self, report):
        if self.interrupt_after is not None:
            deadline = time.monotonic() + 10
            while not self.interrupt_after.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            raise KeyboardInterrupt
        path = report.run_dir / "marker"
        path.write_text("written")
        return path


def blank_pdf(path):
    from pypdf import PdfWriter as PdfFile

    doc = PdfFile()
    doc.add_blank_page(595, 842)
    doc.add_metadata({"/Title": "x" * 2000})  # over the size floor of a real PDF
    with open(path, "wb") as f:
        doc.write(f)
    return path


def analysed(tmp_path):
    return SegmentationAnalysisManager(
        segmentation_raw_batches(0, n_batches=1), num_classes=4, ignore_labels=[255], log_dir=tmp_path,
        verbose=False, writers=[], features=["image_brightness"],
    ).run()


def test_wkhtmltopdf_runs_while_the_next_writers_write(tmp_path):
    from data_gradients.reports.writers import write_all

    report = analysed(tmp_path)
    blank = blank_pdf(tmp_path / "blank.pdf")
    # it prints only once the writer after it has written (at most ~10 s): run one after the other, no PDF
    fake = fake_wkhtmltopdf(tmp_path, f'for i in $(seq 100); do [ -f "{report.run_dir}/marker" ] && break; sleep 0.1; done\n'
                                      f'[ -f "{report.run_dir}/marker" ] && cp {blank} "$out"')
    write_all(report, [HtmlWriter(), PdfWriter(wkhtmltopdf=fake), MarkerWriter()])
    assert report.warnings == [] and is_complete_pdf(report.outputs["pdf"]) and report.outputs["marker"].exists()
    assert list(report.outputs) == ["html", "marker", "pdf"]
    assert "written after this report" in report.outputs["html"].read_text()  # the HTML names the marker


def test_interrupted_writing_stops_wkhtmltopdf(tmp_path):
    import os

    from data_gradients.reports.writers import write_all

    report = analysed(tmp_path)
    pid = tmp_path / "pid"
    fake = fake_wkhtmltopdf(tmp_path, f'echo $$ > {pid}.tmp && mv {pid}.tmp {pid}\nexec sleep 30')
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        write_all(report, [HtmlWriter(), PdfWriter(wkhtmltopdf=fake), MarkerWriter(interrupt_after=pid)])
    assert time.perf_counter() - start < 15 and pid.exists()
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(int(pid.read_text()), 0)
    assert not list(report.run_dir.glob("*.pdf"))
