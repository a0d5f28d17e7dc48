"""Export and manifest with a dataset read from files: paths in meta.json and manifest.tsv, the dataset indexed
directly after the run with the run's collate function."""
from __future__ import annotations

import json

import cv2
import numpy as np
from pycocotools.coco import COCO

from data_gradients import DetectionAnalysisManager
from data_gradients.datasets import COCODataset
from data_gradients.datasets.loader import make_loader
from data_gradients.export import selectors as sel
from data_gradients.export.manifest import read_manifest
from data_gradients.reports.manifest_writer import ManifestWriter


def write_coco(root):
    images = root / "images"
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k in (1, 2, 3):
        cv2.imwrite(str(images / f"{k}.png"), rng.integers(0, 256, (40, 50, 3), dtype=np.uint8))
    anns = [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1.5, 2.0, 10.0, 5.25], "iscrowd": 0},
            {"id": 2, "image_id": 2, "category_id": 7, "bbox": [20.0, 10.0, 15.0, 20.0], "iscrowd": 0},
            {"id": 3, "image_id": 2, "category_id": 3, "bbox": [40.0, 30.0, 30.0, 30.0], "iscrowd": 0}]  # partly out
    doc = {"images": [{"id": k, "file_name": f"{k}.png", "height": 40, "width": 50} for k in (1, 2, 3)],
           "annotations": anns, "categories": [{"id": 3, "name": "cat"}, {"id": 7, "name": "dog"}]}
    (root / "instances.json").write_text(json.dumps(doc))
    return COCODataset(root / "instances.json", images)


def test_paths_reach_meta_and_manifest_and_the_dataset_is_indexed_after_the_run(tmp_path):
    ds = write_coco(tmp_path / "data")
    report = DetectionAnalysisManager(make_loader(ds, batch_size=2, workers=0), **ds.manager_kwargs(),
                                      log_dir=tmp_path / "logs", writers=[ManifestWriter()], verbose=False,
                                      export=sel.samples([1])).run()
    meta = json.loads((report.outputs["export"] / "train" / "1" / "meta.json").read_text())
    assert meta["path"] == ds.sample_path(1) and meta["dataset_index"] == 1
    manifest = read_manifest(report.run_dir).splits["train"]
    assert manifest.paths == [ds.sample_path(i) for i in range(3)] and manifest.has_paths

    flagged = sel.from_findings(report, keys=["partly_outside"])
    folder = report.export_samples(ds, flagged)  # indexed directly, collated as by the run's DataLoader
    assert [p.name for p in (folder / "train").iterdir() if p.is_dir()] == ["1"]
    meta = json.loads((folder / "train" / "1" / "meta.json").read_text())
    assert any(f["key"] == "partly_outside" for f in meta["findings"])
    coco = COCO(str(folder / "train" / "coco.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert sorted((names[a["category_id"]], a["bbox"]) for a in anns) == [("cat", [40.0, 30.0, 10.0, 10.0]),
                                                                          ("dog", [20.0, 10.0, 15.0, 20.0])]
