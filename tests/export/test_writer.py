"""Writing exported samples: files per sample, meta.json, and the COCO round trip through pycocotools."""
from __future__ import annotations

import json

import cv2
import numpy as np
from detection_helpers import batch as detection_batch
from pycocotools.coco import COCO

from data_gradients.batch import ClassificationBatchBuilder, SegmentationBatchBuilder
from data_gradients.export import selectors as sel
from data_gradients.export.writer import SampleWriter

ROWS = [
    [[0, 10.25, 20.5, 60.75, 70.0], [2, 5.0, 5.0, 30.0, 15.5], [1, 0.0, 80.0, 99.0, 100.0]],  # class 1 is ignored
    [],
    [[2, 33.3, 44.4, 77.7, 88.8]],
]


def read_png(path):
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]


def test_detection_export_round_trips_through_pycocotools_exactly(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 3, 100, 120), dtype=np.uint8)
    b = detection_batch(ROWS, h=100, w=120, first_id=40, ignore=(1,), images=images)
    names = {0: "person", 2: "dog"}  # class 1 is ignored: not among the run's names
    writer = SampleWriter(tmp_path / "ex", sel.samples([40, 41, 42]), "detection", names, class_ids=[0, 2])
    assert writer.add("train", 0, b) == 3
    out = writer.finish()
    coco = COCO(str(out / "train" / "coco.json"))
    assert sorted(c["name"] for c in coco.loadCats(coco.getCatIds())) == ["dog", "person"]
    by_sample = {img["sample_id"]: img for img in coco.loadImgs(coco.getImgIds())}
    assert sorted(by_sample) == ["40", "41", "42"]
    for j, sample in enumerate(["40", "41", "42"]):
        img = by_sample[sample]
        assert (img["width"], img["height"]) == (120, 100)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))
        mine = b.boxes[b.box_image == j]
        classes = b.box_classes[b.box_image == j]
        assert [a["category_id"] for a in anns] == classes.tolist()
        assert [a["bbox"] for a in anns] == [[x1, y1, x2 - x1, y2 - y1] for x1, y1, x2, y2 in mine.tolist()]
        assert 1 not in [a["category_id"] for a in anns]  # the ignored class stays hidden
        # the exported image is the canonical image, bit for bit
        assert (read_png(out / "train" / sample / img["file_name"].split("/")[-1]) == images[j].transpose(1, 2, 0)).all()
    meta = json.loads((out / "train" / "40" / "meta.json").read_text())
    assert meta["split"] == "train" and meta["sample_id"] == "40" and meta["stream_position"] == 0
    assert [(x["name"], x["xyxy"]) for x in meta["labels"]["boxes"]] == [("person", [10.25, 20.5, 60.75, 70.0]),
                                                                          ("dog", [5.0, 5.0, 30.0, 15.5])]
    assert json.loads((out / "index.json").read_text())["samples"][0] == {"split": "train", "sample_id": "40",
                                                                          "folder": "train/40"}
    overlay = read_png(out / "train" / "40" / "overlay.png")
    assert overlay[20, 10:60].tolist() == [[255, 0, 0]] * 50  # the top edge of the first box, in red


def test_segmentation_meta_lists_counted_classes_only_with_their_pixels(tmp_path):
    masks = np.zeros((2, 20, 30), dtype=np.int64)
    masks[0, :5] = 255  # ignored
    masks[0, 5:8] = 2
    masks[1] = 1
    images = np.zeros((2, 3, 20, 30), dtype=np.uint8)
    (b,) = SegmentationBatchBuilder(3, (0, 1, 2), (255,)).build(images, masks, first_sample_id=0)
    writer = SampleWriter(tmp_path, sel.first_n_samples(1), "segmentation", {0: "0", 1: "1", 2: "2"},
                          findings_of=lambda s, i: [{"key": "empty"}] if i == 0 else [])
    writer.add("val", 0, b)
    writer.finish()
    meta = json.loads((tmp_path / "val" / "0" / "meta.json").read_text())
    assert meta["labels"]["classes"] == [{"id": 0, "name": "0", "pixels": 12 * 30}, {"id": 2, "name": "2", "pixels": 90}]
    assert meta["findings"] == [{"key": "empty"}]
    assert not (tmp_path / "val" / "1").exists()
    overlay = read_png(tmp_path / "val" / "0" / "overlay.png")
    assert overlay[:5, :30].max() == 0  # ignored pixels are not painted


def test_classification_meta_and_hidden_names(tmp_path):
    images = np.zeros((2, 3, 16, 16), dtype=np.uint8)
    (b,) = ClassificationBatchBuilder(4, (0, 1, 2, 3), ()).build(images, np.array([3, 1]), first_sample_id=7)
    writer = SampleWriter(tmp_path, sel.samples([8]), "classification", {i: str(i) for i in range(4)},
                          path_of=lambda s, i: f"/data/{i}.png", ids_are_indices=lambda s: True)
    writer.add("train", 0, b)
    writer.finish()
    meta = json.loads((tmp_path / "train" / "8" / "meta.json").read_text())
    assert meta["labels"] == {"classes": [{"id": 1, "name": "1"}]}
    assert meta["dataset_index"] == 8 and meta["path"] == "/data/8.png"
    assert not (tmp_path / "train" / "coco.json").exists()
