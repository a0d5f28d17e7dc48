"""report.export_samples: a second pass over re-iterable data, or direct indexing of a Dataset."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from export_helpers import FileLikeSegmentation, seg_batches
from torch.utils.data import DataLoader

from data_gradients import DetectionAnalysisManager, SegmentationAnalysisManager
from data_gradients.errors import ConfigurationError
from data_gradients.export import selectors as sel

FAST = dict(verbose=False, writers=[])


def exported(folder, split="train"):
    return sorted(int(p.name) for p in (folder / split).iterdir() if p.is_dir())


def test_second_pass_over_a_list_of_batches(tmp_path):
    ds = FileLikeSegmentation(10)
    data = seg_batches(ds.images, ds.masks)
    report = SegmentationAnalysisManager(data, num_classes=3, log_dir=tmp_path, **FAST).run()
    folder = report.export_samples(data, sel.first_n_batches(1) | sel.samples([9]))
    assert folder == report.run_dir / "export"
    assert exported(folder) == [0, 1, 2, 3, 9]
    again = report.export_samples(data, sel.samples([5]))
    assert again == report.run_dir / "export-2" and exported(again) == [5]
    other = report.export_samples({"train": data}, sel.samples([6]), out_dir=tmp_path / "x")
    assert exported(other) == [6]


def test_a_generator_is_a_clear_error(tmp_path):
    ds = FileLikeSegmentation(4)
    report = SegmentationAnalysisManager(iter(seg_batches(ds.images, ds.masks)), num_classes=3, log_dir=tmp_path,
                                         **FAST).run()
    with pytest.raises(ConfigurationError, match="one-shot iterator"):
        report.export_samples((b for b in seg_batches(ds.images, ds.masks)), sel.first_n_samples(1))
    with pytest.raises(ConfigurationError, match="not a split"):
        report.export_samples({"test": seg_batches(ds.images, ds.masks)}, sel.first_n_samples(1))


def test_a_dataset_is_indexed_directly_reading_only_the_selected_samples(tmp_path):
    ds = FileLikeSegmentation(12)
    report = SegmentationAnalysisManager(DataLoader(ds, batch_size=5, shuffle=True), num_classes=3, log_dir=tmp_path,
                                         **FAST).run()
    ds.reads.clear()
    folder = report.export_samples(ds, sel.samples([2, 7, 40]) | sel.every_n_samples(100))
    assert sorted(ds.reads) == [0, 2, 7]  # every_n_samples(100) is index 0; 40 is past the end
    assert exported(folder) == [0, 2, 7]
    meta = json.loads((folder / "train" / "7" / "meta.json").read_text())
    assert meta["dataset_index"] == 7 and meta["path"] == "/data/images/0007.png"
    assert meta["labels"]["classes"][0]["pixels"] == int((ds.masks[7] == 0).sum())


def test_findings_that_flagged_a_sample_are_in_its_meta(tmp_path):
    ds = FileLikeSegmentation(8)
    ds.masks[3, :4, :4] = 200  # out of range
    ds.masks[5] = 255  # ignored: an empty mask
    data = seg_batches(ds.images, ds.masks)
    report = SegmentationAnalysisManager(data, num_classes=3, ignore_labels=[255], log_dir=tmp_path, **FAST).run()
    keys = {f.key for f in report.findings}
    folder = report.export_samples(data, sel.from_findings(report))
    flagged = {int(i) for f in report.findings for i in f.sample_ids.get("train", [])}
    assert set(exported(folder)) == flagged and {3, 5} <= flagged
    meta3 = json.loads((folder / "train" / "3" / "meta.json").read_text())
    assert meta3["findings"] and all(f["key"] in keys for f in meta3["findings"])
    assert any(f["feature"] == "data_quality" for f in meta3["findings"])


def test_the_same_batch_extraction_as_the_run_key_paths_and_box_format(tmp_path):
    images = torch.zeros((3, 3, 40, 50), dtype=torch.uint8)
    boxes = [torch.tensor([[0.1, 0.2, 0.5, 0.6, 1.0]]), torch.tensor([[0.0, 0.0, 0.5, 0.5, 0.0]]), torch.zeros((0, 5))]
    data = [{"pixels": images, "target": {"rows": boxes}}]
    report = DetectionAnalysisManager(data, num_classes=2, images_key="pixels", labels_key="target.rows",
                                      label_first=False, normalized_boxes=True, bbox_format="xyxy",
                                      log_dir=tmp_path, **FAST).run()
    folder = report.export_samples(data, sel.samples([0]))
    coco = json.loads((folder / "train" / "coco.json").read_text())
    (ann,) = coco["annotations"]
    assert ann["category_id"] == 1
    assert np.allclose(ann["bbox"], [5.0, 8.0, 20.0, 16.0])


def test_a_report_from_another_process_is_refused_clearly(tmp_path):
    import pickle

    ds = FileLikeSegmentation(4)
    data = seg_batches(ds.images, ds.masks)
    report = SegmentationAnalysisManager(data, num_classes=3, log_dir=tmp_path, **FAST).run()
    clone = pickle.loads(pickle.dumps(report))
    with pytest.raises(ConfigurationError, match="needs the run that made this report"):
        clone.export_samples(data, sel.first_n_samples(1))
