"""diff_runs: one relabelled sample, one replaced image, one removed and one added are each reported exactly."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from export_helpers import FileLikeSegmentation, seg_batches
from torch.utils.data import DataLoader

import data_gradients
from data_gradients import SegmentationAnalysisManager
from data_gradients.errors import ConfigurationError
from data_gradients.export.manifest import SplitManifest, read_manifest, write_manifest
from data_gradients.export.run_diff import SampleRef, diff_runs
from data_gradients.reports.manifest_writer import ManifestWriter

KW = dict(num_classes=3, verbose=False, features=["fingerprint"], writers=[ManifestWriter()])


def changed_copy(ds: FileLikeSegmentation) -> FileLikeSegmentation:
    """Sample 2 relabelled, sample 5's image replaced, sample 7 removed, a new sample added at the end."""
    new = FileLikeSegmentation(len(ds), seed=99)
    images, masks, paths = ds.images.copy(), ds.masks.copy(), list(ds.paths)
    masks[2, 0, :5] = (masks[2, 0, :5] + 1) % 3
    images[5] = 255 - images[5]
    keep = [i for i in range(len(ds)) if i != 7]
    new.images = np.concatenate([images[keep], new.images[:1]])
    new.masks = np.concatenate([masks[keep], new.masks[:1]])
    new.paths = [paths[i] for i in keep] + ["/data/images/new.png"]
    return new


def run(tmp_path, data, name):
    return SegmentationAnalysisManager(data, log_dir=tmp_path / name, **KW).run()


def test_by_content_each_change_is_reported_exactly(tmp_path):
    a = FileLikeSegmentation(10)
    b = changed_copy(a)
    ra = run(tmp_path, seg_batches(a.images, a.masks), "a")
    rb = run(tmp_path, seg_batches(b.images, b.masks), "b")
    diff = data_gradients.diff_runs(ra.run_dir, rb.run_dir)
    d = diff.splits["train"]
    assert d.matched_by == "content"
    assert [(x.id, y.id) for x, y in d.label_changed] == [("2", "2")]
    assert [(x.id, y.id) for x, y in d.image_changed] == [("5", "5")]
    assert [x.id for x in d.removed] == ["7"]
    assert [x.id for x in d.added] == ["9"]  # the new sample is the 10th of B's stream
    assert d.unchanged == 7 and d.counts() == {"added": 1, "removed": 1, "label_changed": 1, "image_changed": 1,
                                               "unchanged": 7}
    assert d.fingerprint_a != d.fingerprint_b and not diff.identical
    text = diff.summary()
    assert "added: 1 (first: 9)" in text and "removed: 1 (first: 7)" in text
    assert "labels changed, same image: 1 (first: 2)" in text and "image changed: 1 (first: 5)" in text


def test_by_path_each_change_is_reported_with_its_path(tmp_path):
    a = FileLikeSegmentation(10)
    b = changed_copy(a)
    ra = run(tmp_path, DataLoader(a, batch_size=3, shuffle=True), "a")
    rb = run(tmp_path, DataLoader(b, batch_size=4), "b")
    d = diff_runs(ra.run_dir / "manifest.tsv", rb.run_dir).splits["train"]
    assert d.matched_by == "path"
    assert d.label_changed == [(SampleRef("2", "/data/images/0002.png"), SampleRef("2", "/data/images/0002.png"))]
    assert d.image_changed == [(SampleRef("5", "/data/images/0005.png"), SampleRef("5", "/data/images/0005.png"))]
    assert d.removed == [SampleRef("7", "/data/images/0007.png")]
    assert d.added == [SampleRef("9", "/data/images/new.png")]
    assert d.unchanged == 7


def test_the_same_data_shuffled_is_identical(tmp_path):
    a = FileLikeSegmentation(9)
    ra = run(tmp_path, DataLoader(a, batch_size=2, shuffle=True), "a")
    rb = run(tmp_path, DataLoader(a, batch_size=4, shuffle=True), "b")
    diff = diff_runs(ra.run_dir, rb.run_dir)
    assert diff.identical and diff.splits["train"].unchanged == 9
    assert json.loads(json.dumps(diff.to_dict()))["identical"] is True


def test_a_split_in_one_run_only_is_all_added_or_removed(tmp_path):
    a = FileLikeSegmentation(4)
    ra = SegmentationAnalysisManager(seg_batches(a.images, a.masks), seg_batches(a.images[:2], a.masks[:2]),
                                     log_dir=tmp_path / "a", **KW).run()
    rb = SegmentationAnalysisManager(seg_batches(a.images, a.masks), log_dir=tmp_path / "b", **KW).run()
    diff = diff_runs(ra.run_dir, rb.run_dir)
    assert [x.id for x in diff.splits["val"].removed] == ["0", "1"]
    assert diff.splits["train"].identical
    back = diff_runs(rb.run_dir, ra.run_dir)
    assert [x.id for x in back.splits["val"].added] == ["0", "1"]


def test_manifest_round_trip_with_escaped_paths(tmp_path):
    s = SplitManifest("train", samples=3, listed=2, fingerprint="ab" * 32)
    buf = io.StringIO()
    rows = [("train", "0", "00" * 16, "11" * 16, "/a\tb\\c"), ("train", "1:5", "22" * 16, "33" * 16, "")]
    write_manifest(buf, [s], iter(rows))
    (tmp_path / "manifest.tsv").write_text(buf.getvalue())
    m = read_manifest(tmp_path)
    t = m.splits["train"]
    assert (t.samples, t.listed, t.fingerprint) == (3, 2, "ab" * 32) and not t.complete
    assert t.ids == ["0", "1:5"] and t.paths == ["/a\tb\\c", ""] and t.labels == ["11" * 16, "33" * 16]


def test_missing_or_foreign_manifests_are_configuration_errors(tmp_path):
    with pytest.raises(ConfigurationError, match="no manifest"):
        diff_runs(tmp_path, tmp_path)
    (tmp_path / "manifest.tsv").write_text("hello\n")
    with pytest.raises(ConfigurationError, match="not a data_gradients manifest"):
        diff_runs(tmp_path, tmp_path)
