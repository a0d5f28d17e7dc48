import numpy as np
import pytest

from data_gradients import DetectionAnalysisManager
from data_gradients.datasets import YOLODataset, make_loader
from data_gradients.errors import ConfigurationError


def write_yolo(root, files, split="train"):
    images, labels = root / "images" / split, root / "labels" / split
    for stem in ("a", "b", "c", "d", "e"):
        files.image(images / f"{stem}.png", 20, 40, seed=ord(stem))
    labels.mkdir(parents=True)
    (labels / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n1 0.25 0.25 0.1 0.2\n")
    (labels / "b.txt").write_text("1 0.1 0.1 0.9 0.1 0.9 0.9\n7 0.5 0.5 0.1 0.1\n0 0.1 0.1 0.2 0.2\n")  # unknown class 7
    (labels / "c.txt").write_text("")  # empty
    (labels / "d.txt").write_text("0 0.5 zero 0.1 0.1\n")  # malformed
    # e.png has no label file
    (labels / "orphan.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (root / "data.yaml").write_text(f"path: .\ntrain: images/{split}\nnames:\n  0: car\n  1: bus\n")
    return images


def test_detection_rows_to_pixel_boxes(tmp_path, files):
    images = write_yolo(tmp_path, files)
    ds = YOLODataset.from_yaml(tmp_path / "data.yaml", "train")
    assert len(ds) == 5 and ds.class_names == ["car", "bus"]
    assert [ds.sample_path(i) for i in range(5)] == [str(images / f"{s}.png") for s in "abcde"]
    assert files.kinds(ds.problems) == {"unknown_category": 1, "empty_annotation": 1, "bad_annotation": 1,
                                        "missing_label": 1, "orphan_label": 1}
    np.testing.assert_allclose(ds[0][1].numpy(), [[0, 10, 5, 30, 15], [1, 8, 3, 12, 7]], atol=1e-5)
    # a polygon row becomes its bounding box; the 2-point row is a box in detection
    np.testing.assert_allclose(ds[1][1].numpy(), [[1, 4, 2, 36, 18], [0, 0, 0, 8, 4]], atol=1e-5)
    assert len(ds[2][1]) == len(ds[3][1]) == len(ds[4][1]) == 0
    missing = next(p for p in ds.problems if p.kind == "missing_label")
    assert missing.index == 4 and missing.path == str(images / "e.png")


def test_segmentation_polygons_rasterised(tmp_path, files):
    write_yolo(tmp_path, files)
    ds = YOLODataset.from_yaml(tmp_path / "data.yaml", "train", task="segmentation")
    assert ds.class_names == ["background", "car", "bus"]
    # rows of a: 5 values = 2 points, too short for a polygon; b: one triangle kept, 2-point row too short
    assert files.kinds(ds.problems)["short_polygon"] == 3
    mask = ds[1][1].numpy()
    assert mask.shape == (20, 40) and set(np.unique(mask)) == {0, 2}
    assert mask[15, 30] == 2 and mask[15, 5] == 0  # inside / outside the triangle (4,2) (36,2) (36,18)
    assert (ds[0][1].numpy() == 0).all()


def test_folder_list_and_names_required(tmp_path, files):
    images = write_yolo(tmp_path, files)
    listing = tmp_path / "train.txt"
    listing.write_text("images/train/a.png\nimages/train/b.png\n")
    ds = YOLODataset(listing, class_names=["car", "bus"])
    assert len(ds) == 2 and files.kinds(ds.problems) == {"unknown_category": 1}
    with pytest.raises(ConfigurationError, match="class_names"):
        YOLODataset(images)
    with pytest.raises(ConfigurationError, match="no 'val' split"):
        YOLODataset.from_yaml(tmp_path / "data.yaml", "val")


def test_run_reports_paths_of_label_problems(tmp_path, files):
    write_yolo(tmp_path / "d", files)
    ds = YOLODataset.from_yaml(tmp_path / "d" / "data.yaml", "train")
    report = DetectionAnalysisManager(make_loader(ds, batch_size=2, workers=0), **ds.manager_kwargs(), writers=[],
                                      log_dir=tmp_path / "logs", verbose=False).run()
    found = {f.key: f for f in report.results["dataset_files"].findings}
    assert found["missing_label"].sample_ids == {"train": [4]}
    assert found["missing_label"].sample_paths == {"train": [ds.sample_path(4)]}
    assert found["orphan_label"].counts == {"train": 1} and "orphan.txt" in found["orphan_label"].message
    assert report.splits["train"].samples == 5
