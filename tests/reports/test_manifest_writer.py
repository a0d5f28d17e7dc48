"""manifest.tsv: written by default, one line per sample, its header agreeing with summary.json."""
from __future__ import annotations

import json

from export_helpers import FileLikeSegmentation, seg_batches

from data_gradients import SegmentationAnalysisManager
from data_gradients.export.manifest import read_manifest
from data_gradients.reports.json_writer import JsonWriter
from data_gradients.reports.manifest_writer import ManifestWriter
from data_gradients.reports.writers import default_writers


def test_the_manifest_writer_is_a_default_writer():
    assert any(isinstance(w, ManifestWriter) for w in default_writers())


def test_manifest_lists_every_sample_and_agrees_with_the_json(tmp_path):
    ds = FileLikeSegmentation(7)
    report = SegmentationAnalysisManager(seg_batches(ds.images, ds.masks, 3), seg_batches(ds.images[:2], ds.masks[:2]),
                                         num_classes=3, log_dir=tmp_path, verbose=False,
                                         writers=[JsonWriter(), ManifestWriter()]).run()
    path = report.outputs["manifest"]
    assert path == report.run_dir / "manifest.tsv"
    m = read_manifest(report.run_dir)
    summary = json.loads(report.outputs["json"].read_text())["features"]["fingerprint"]["data"]
    for split, n in (("train", 7), ("val", 2)):
        s = m.splits[split]
        assert s.complete and s.samples == n and s.ids == [str(i) for i in range(n)]
        assert s.fingerprint == summary["fingerprint"][split] and summary["samples"][split] == n
        assert all(len(h) == 32 for h in s.images + s.labels) and s.paths == [""] * n
    assert m.splits["train"].images[:2] == m.splits["val"].images  # the same images hash alike
    assert summary["manifest_samples"] == {"train": 7, "val": 2}
    assert m.splits["train"].images[0] not in report.outputs["json"].read_text()  # the JSON holds no per-sample hash


def test_no_manifest_without_the_fingerprint_feature(tmp_path):
    ds = FileLikeSegmentation(3)
    report = SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), num_classes=3, log_dir=tmp_path,
                                         verbose=False, writers=[ManifestWriter()],
                                         exclude_features=["fingerprint"]).run()
    assert "manifest" not in report.outputs and not (report.run_dir / "manifest.tsv").exists()


def test_the_report_cover_shows_each_splits_fingerprint(tmp_path):
    from data_gradients.reports.pdf import HtmlWriter

    ds = FileLikeSegmentation(4)
    report = SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), seg_batches(ds.images[:1], ds.masks[:1]),
                                         num_classes=3, log_dir=tmp_path, verbose=False, writers=[HtmlWriter()],
                                         features=["fingerprint"]).run()
    html = report.outputs["html"].read_text()
    cover = html.split('<div class="cover">', 1)[1].split("<h2>", 1)[0]
    for split, digest in report.results["fingerprint"].data["fingerprint"].items():
        assert f'Fingerprint {split}</td><td><code class="fingerprint">{digest}</code>' in cover
