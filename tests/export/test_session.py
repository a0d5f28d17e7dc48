"""export= on the managers: samples written during the run, into the run folder, only when asked."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from export_helpers import FileLikeSegmentation, seg_batches
from torch.utils.data import DataLoader

from data_gradients import ClassificationAnalysisManager, DetectionAnalysisManager, SegmentationAnalysisManager
from data_gradients.errors import ConfigurationError
from data_gradients.export import selectors as sel
from data_gradients.export.session import Export
from data_gradients.results import FeatureResult, Finding

FAST = dict(verbose=False, writers=[], features=["fingerprint"])


def exported(folder, split="train"):
    return sorted(int(p.name) for p in (folder / split).iterdir() if p.is_dir())


@pytest.mark.parametrize("workers", [1, 2])
def test_export_during_the_run_lands_in_the_run_folder(tmp_path, workers):
    ds = FileLikeSegmentation(10)
    report = SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), seg_batches(ds.images[:4], ds.masks[:4]),
                                         num_classes=3, log_dir=tmp_path, workers=workers,
                                         export=sel.first_n_samples(2) | sel.samples({"train": [9]}), **FAST).run()
    folder = report.outputs["export"]
    assert folder == report.run_dir / "export"
    assert exported(folder) == [0, 1, 9]
    assert exported(folder, "val") == [0, 1]
    assert [p.name for p in tmp_path.iterdir()] == [report.run_dir.parent.name]  # no staging folder left behind
    assert report.config["export"] == {"criteria": "any_of(first_n_samples(2), samples({'train': [9]}))",
                                       "folder": str(folder), "samples": 5}
    meta = json.loads((folder / "train" / "9" / "meta.json").read_text())
    assert meta["stream_position"] == 9 and meta["dataset_index"] is None and meta["path"] is None
    assert {"image.png", "overlay.png", "meta.json"} <= {p.name for p in (folder / "train" / "9").iterdir()}


def test_nothing_is_exported_unless_asked(tmp_path):
    ds = FileLikeSegmentation(4)
    report = SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), num_classes=3, log_dir=tmp_path, **FAST).run()
    assert "export" not in report.outputs
    assert not (report.run_dir / "export").exists()
    assert [p.name for p in tmp_path.iterdir()] == [report.run_dir.parent.name]


def test_a_shuffled_dataloader_exports_by_dataset_index_with_paths(tmp_path):
    ds = FileLikeSegmentation(12)
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=torch.Generator().manual_seed(3))
    report = SegmentationAnalysisManager(loader, num_classes=3, log_dir=tmp_path, export=sel.samples([3, 11]),
                                         **FAST).run()
    folder = report.outputs["export"]
    assert exported(folder) == [3, 11]
    meta = json.loads((folder / "train" / "11" / "meta.json").read_text())
    assert meta["dataset_index"] == 11 and meta["path"] == "/data/images/0011.png"
    image = torch.from_numpy(ds.images[11]).permute(1, 2, 0).numpy()
    import cv2
    assert (cv2.imread(str(folder / "train" / "11" / "image.png"))[..., ::-1] == image).all()


def test_random_samples_during_the_run_uses_the_loaders_length(tmp_path):
    ds = FileLikeSegmentation(12)
    report = SegmentationAnalysisManager(DataLoader(ds, batch_size=4), num_classes=3, log_dir=tmp_path,
                                         export=sel.random_samples(3, seed=5), **FAST).run()
    chosen = exported(report.outputs["export"])
    assert len(chosen) == 3
    assert chosen == sorted(sel.random_samples(3, seed=5).positions("train", 12).tolist())


def test_export_to_a_folder_of_ones_choice(tmp_path):
    ds = FileLikeSegmentation(4)
    target = tmp_path / "mine"
    report = SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), num_classes=3, log_dir=tmp_path / "logs",
                                         export=Export(sel.first_n_batches(1), out_dir=target), **FAST).run()
    assert report.outputs["export"] == target
    assert exported(target) == [0, 1, 2, 3]
    assert not (report.run_dir / "export").exists()


def test_detection_export_during_the_run_writes_coco(tmp_path):
    images = torch.zeros((2, 3, 50, 60), dtype=torch.uint8)
    labels = [torch.tensor([[0, 5.0, 6.0, 20.0, 30.0], [1, 1.0, 1.0, 4.0, 4.0]]), torch.zeros((0, 5))]
    report = DetectionAnalysisManager([(images, labels)], num_classes=2, class_names=["cat", "dog"], ignore_labels=[1],
                                      bbox_format="xyxy", normalized_boxes=False, log_dir=tmp_path,
                                      export=sel.first_n_samples(5), **FAST).run()
    coco = json.loads((report.outputs["export"] / "train" / "coco.json").read_text())
    assert [c["name"] for c in coco["categories"]] == ["cat"]  # the ignored class stays hidden
    assert [a["bbox"] for a in coco["annotations"]] == [[5.0, 6.0, 15.0, 24.0]]
    assert len(coco["images"]) == 2


def test_classification_hidden_names_stay_hidden(tmp_path):
    images = torch.zeros((3, 3, 8, 8), dtype=torch.uint8)
    report = ClassificationAnalysisManager([(images, torch.tensor([0, 1, 2]))], num_classes=3,
                                           class_names=["cat", "dog", "fox"], hide_class_names=True, log_dir=tmp_path,
                                           export=sel.samples([1]), **FAST).run()
    meta = json.loads((report.outputs["export"] / "train" / "1" / "meta.json").read_text())
    assert meta["labels"] == {"classes": [{"id": 1, "name": "1"}]}
    assert "dog" not in (report.outputs["export"] / "train" / "1" / "meta.json").read_text()


def _report_with_a_finding():
    class R:
        findings = [Finding("x", "X", "", "", counts={"train": 1}, sample_ids={"train": [1]})]
        results = {"f": FeatureResult("f", "F", "", "quality")}
    return R()


@pytest.mark.parametrize("export, match", [
    ("first 10", "must be a selector"),
    ([], "must be a selector"),
    (sel.from_findings(_report_with_a_finding()), "no report yet"),
    (sel.random_samples(2), "random_samples needs each split's size"),
])
def test_bad_export_arguments_fail_at_construction(tmp_path, export, match):
    ds = FileLikeSegmentation(4)
    with pytest.raises(ConfigurationError, match=match):
        SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), num_classes=3, log_dir=tmp_path, export=export,
                                    **FAST)
    assert not any(p.name.startswith(".export") for p in tmp_path.iterdir())


def test_ids_are_unchanged_by_export(tmp_path):
    ds = FileLikeSegmentation(8)
    kw = dict(num_classes=3, log_dir=tmp_path, verbose=False, writers=[])
    plain = SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), **kw).run()
    with_export = SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), export=sel.every_n_samples(2), **kw).run()
    for name, result in plain.results.items():
        assert result.scalars == with_export.results[name].scalars, name
    assert np.array_equal(plain.results["fingerprint"].manifest["train"][1],
                          with_export.results["fingerprint"].manifest["train"][1])


def test_each_run_of_a_manager_exports_into_its_own_run_folder(tmp_path):
    ds = FileLikeSegmentation(6)
    manager = SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), num_classes=3, log_dir=tmp_path,
                                          export=sel.samples([4]), **FAST)
    first, second = manager.run(), manager.run()
    assert first.outputs["export"] != second.outputs["export"]
    for report in (first, second):
        index = json.loads((report.outputs["export"] / "index.json").read_text())
        assert index["samples"] == [{"split": "train", "sample_id": "4", "folder": "train/4"}]
    assert len([p for p in tmp_path.iterdir()]) == 1  # no staging folder left


def test_an_empty_out_dir_is_refused(tmp_path):
    ds = FileLikeSegmentation(2)
    with pytest.raises(ConfigurationError, match="out_dir"):
        SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), num_classes=3, log_dir=tmp_path,
                                    export=Export(sel.first_n_samples(1), out_dir=""), **FAST)


def test_an_export_that_cannot_be_written_is_a_warning_and_the_analysis_goes_on(tmp_path):
    ds = FileLikeSegmentation(6)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    report = SegmentationAnalysisManager(seg_batches(ds.images, ds.masks), num_classes=3, log_dir=tmp_path / "logs",
                                         export=Export(sel.first_n_samples(2), out_dir=blocker / "sub"), **FAST).run()
    assert report.splits["train"].samples == 6 and not report.partial
    assert any(w.startswith("export stopped at train batch 0") for w in report.warnings)


def test_unreadable_samples_are_exported_as_meta_only(tmp_path):
    images = torch.zeros((2, 3, 0, 5), dtype=torch.uint8)
    masks = torch.zeros((2, 0, 5), dtype=torch.int64)
    report = SegmentationAnalysisManager([(images, masks)], num_classes=3, log_dir=tmp_path,
                                         export=sel.first_n_samples(1), **FAST).run()
    folder = report.outputs["export"] / "train" / "0"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["unreadable"] is True and meta["files"] == {}
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json"]
