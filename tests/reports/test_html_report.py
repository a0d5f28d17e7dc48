"""The HTML report (the PDF's source): sections and their order, the same numbers as the
JSON, figures from the run folder only, escaping of user text, banners. No wkhtmltopdf needed."""
from __future__ import annotations

import html as html_lib
import json
import re

import pytest
from conftest import segmentation_raw_batches
from PIL import Image

from data_gradients import SegmentationAnalysisManager
from data_gradients.feature_extractors import FeatureExtractor, register_feature, unregister_feature
from data_gradients.reports.formatting import fmt
from data_gradients.reports.json_writer import JsonWriter
from data_gradients.reports.pdf import HtmlWriter
from data_gradients.reports.pdf.html_writer import figure_width_pct, template_environment
from data_gradients.reports.txt_writer import TxtWriter

EVIL_CLASS = "<img src=x onerror=alert(1)>"
EVIL_FRAME = '<iframe src="file:///etc/passwd">'
EVIL_KEY = "<b>mask</b>"


def visible_text(page: str) -> str:
    """What a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def run(tmp_path, batches=None, **kwargs):
    kwargs.setdefault("writers", [TxtWriter(), JsonWriter(), HtmlWriter()])
    return SegmentationAnalysisManager(
        batches if batches is not None else segmentation_raw_batches(0, n_batches=3), num_classes=4,
        ignore_labels=[255], log_dir=tmp_path, verbose=False, **kwargs,
    ).run()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run(tmp_path_factory.mktemp("logs"), segmentation_raw_batches(0), val_data=segmentation_raw_batches(1, n_batches=3),
               class_names=["road", EVIL_CLASS, EVIL_FRAME, "sky"], report_title="Review <b>bold</b> & co")


@pytest.fixture(scope="module")
def page(report):
    return report.outputs["html"].read_text(encoding="utf-8")


def test_sections_come_in_the_report_order(report, page):
    text = visible_text(page)
    order = ["Date", "Findings", "Image statistics", "Label statistics: masks", "Appendix: configuration"]
    positions = [text.index(title, text.index("How to read this report") if i else 0) for i, title in enumerate(order)]
    assert positions == sorted(positions)
    # every image and label feature has its title, description and key numbers in its own section
    image_at, labels_at, appendix_at = (text.index(t, positions[1]) for t in ("Image statistics", "Label statistics",
                                                                             "Appendix: configuration"))
    for result in report.results.values():
        if result.group not in ("image", "labels"):
            continue
        start, end = (image_at, labels_at) if result.group == "image" else (labels_at, appendix_at)
        assert start < text.index(result.title, start) < end, result.name
        assert " ".join(result.description.split()) in text


def test_html_shows_the_json_numbers_as_the_txt_formats_them(report, page):
    text = visible_text(page)
    js = json.loads(report.outputs["json"].read_text())
    splits, checked = list(js["splits"]), 0
    for feature in js["features"].values():
        if feature["group"] == "samples":
            continue
        for stat, per_split in feature["scalars"].items():
            cells = " ".join([stat, *(fmt(per_split.get(s)) for s in splits)])
            assert cells in text, cells  # one table row: name then one value per split
            checked += 1
    for f in js["findings"]:
        assert html_lib.unescape(f["title"]) in text and " ".join(f["why"].split()) in text
    assert checked >= 10


def test_figures_come_from_the_run_folder_at_print_resolution(report, page):
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sources, "no figure in the report"
    for src in sources:
        assert src.startswith("figures/") and ".." not in src and ":" not in src
        path = report.run_dir / src
        with Image.open(path) as img:
            assert round(img.info["dpi"][0]) == 150
            assert img.width >= 750  # >= 5 inches at 150 dpi: sharp when printed, readable in a TensorBoard card
    # nothing else is loaded: no other src/href, no script, frame, stylesheet link or CSS url()
    assert set(re.findall(r'(?:src|href)="([^"]*)"', page)) == set(sources)
    assert not re.search(r"<(script|iframe|link|object|embed)\b|url\(", page, re.I)


def test_user_text_is_escaped(report, page):
    assert EVIL_CLASS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<iframe" not in page and "&lt;iframe src=&#34;file:///etc/passwd&#34;&gt;" in page
    assert "<b>bold</b>" not in page and "Review &lt;b&gt;bold&lt;/b&gt; &amp; co" in page
    assert EVIL_CLASS in visible_text(page) and EVIL_FRAME in visible_text(page)


def test_key_paths_are_escaped_in_the_appendix(tmp_path):
    batches = [{"image": images, EVIL_KEY: masks} for images, masks in segmentation_raw_batches(0, n_batches=2)]
    report = run(tmp_path, batches, images_key="image", labels_key=EVIL_KEY, features=["image_brightness"])
    page = report.outputs["html"].read_text()
    assert EVIL_KEY not in page and html_lib.escape(EVIL_KEY) in page
    assert "batch_extraction.labels" in visible_text(page) and EVIL_KEY in visible_text(page)


def test_environment_escapes_and_refuses_undefined_names():
    env = template_environment()
    assert env.autoescape is True
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ missing }}").render()
    assert env.from_string("{{ x }}").render(x="<a>") == "&lt;a&gt;"


def test_hidden_and_censored_names_never_reach_the_html(tmp_path):
    hidden = run(tmp_path, class_names=["bg_secret", "secret_b", "secret_c", "secret_d"], hide_class_names=True)
    page = hidden.outputs["html"].read_text()
    assert "secret" not in page and "class names hidden" in visible_text(page)
    censored = SegmentationAnalysisManager(
        segmentation_raw_batches(0, n_batches=2), num_classes=4, ignore_labels=[0, 255], log_dir=tmp_path,
        verbose=False, class_names=["zz_censored", "road", "car", "sky"], writers=[HtmlWriter()],
    ).run()
    text = visible_text(censored.outputs["html"].read_text())
    assert "zz_censored" not in text and "road" in text and "ignored label ids: 0, 255" in text


def test_partial_run_has_a_banner_on_the_cover(tmp_path):
    report = run(tmp_path, segmentation_raw_batches(0), max_batches=2, features=["image_brightness"])
    text = visible_text(report.outputs["html"].read_text())
    cover = text[: text.index("How to read this report")]
    assert "PARTIAL REPORT: stopped after max_batches=2" in cover and "(partial: not read to the end)" in cover


@pytest.fixture
def failing_feature():
    @register_feature
    class Broken(FeatureExtractor):
        name = "test_broken_feature"
        title = "Broken statistic"
        description = "Always fails."
        tasks = ("segmentation",)
        group = "labels"

        def update(self, batch, split):
            raise RuntimeError("boom <b>")

        def compute(self):  # pragma: no cover - never reached
            return self.new_result()

    yield Broken.name
    unregister_feature(Broken.name)


def test_failed_feature_is_announced_and_the_rest_is_kept(tmp_path, failing_feature):
    report = run(tmp_path, features=["image_brightness", failing_feature])
    page = report.outputs["html"].read_text()
    text = visible_text(page)
    cover = text[: text.index("How to read this report")]
    assert "1 feature failed" in cover and failing_feature in cover
    assert "This feature failed, so its statistics are missing: RuntimeError in update()" in text
    assert "boom <b>" in text and "boom <b>" not in page
    assert "Image brightness" in text and "mean_brightness" in text


def test_no_quality_check_means_no_clean_bill_of_health(tmp_path):
    text = visible_text(run(tmp_path, features=["image_brightness"]).outputs["html"].read_text())
    assert "no data-quality check ran" in text


def test_figure_width_keeps_tall_figures_on_one_page():
    assert figure_width_pct(480, 1050) == pytest.approx(100 * 0.85 * 1050 / 150 * 25.4 / 180, abs=0.1)
    assert figure_width_pct(600, 3000) == 100.0  # wider than the text: fit the width
    tall = figure_width_pct(4000, 1500)  # a tall grid of panels
    assert 180 * tall / 100 * 4000 / 1500 <= 215.5  # printed height (mm) fits the page

