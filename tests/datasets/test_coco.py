import numpy as np
import pytest
from pycocotools import mask as mask_utils

from data_gradients import DetectionAnalysisManager, SegmentationAnalysisManager
from data_gradients.datasets import COCODataset, make_loader
from data_gradients.errors import ConfigurationError


def test_detection_samples_classes_and_bad_files(tmp_path, files):
    data = files.coco(tmp_path)
    ds = COCODataset(data.annotations, data.images)
    assert len(ds) == 5 and ds.class_names == data.class_names
    assert [ds.sample_path(i) for i in range(len(ds))] == data.paths
    assert files.kinds(ds.problems) == data.problems
    by_kind = {p.kind: p for p in ds.problems}
    assert by_kind["orphan_label"].path == data.missing and by_kind["orphan_label"].index is None
    assert by_kind["missing_label"].path == data.extra
    assert by_kind["unknown_category"].index == 1 and "99" in by_kind["unknown_category"].detail
    image, boxes = ds[0]
    assert tuple(image.shape) == (3, 20, 30) and str(image.dtype) == "torch.uint8"
    np.testing.assert_array_equal(boxes.numpy(), [[0, 1, 2, 11, 7], [1, 2, 2, 6, 6]])
    np.testing.assert_array_equal(ds[1][1].numpy(), [[0, 25, 10, 45, 15]])  # the unknown category left out
    assert len(ds[2][1]) == 0 and ds.skipped_crowd == 1
    image, boxes = ds[data.truncated_index]
    assert tuple(image.shape) == (3, 0, 0) and len(boxes) == 0
    assert ds.manager_kwargs() == {"num_classes": 2, "class_names": ["cat", "dog"], "bbox_format": "xyxy",
                                   "normalized_boxes": False, "label_first": True}


def test_crowd_annotations_are_read_when_asked(tmp_path, files):
    data = files.coco(tmp_path)
    ds = COCODataset(data.annotations, data.images, include_crowd=True)
    np.testing.assert_array_equal(ds[2][1].numpy(), [[1, 0, 0, 30, 20]])
    seg = COCODataset(data.annotations, data.images, task="segmentation", include_crowd=True)
    assert (seg[2][1].numpy() == 2).all()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools under numpy 2
def test_segmentation_masks_later_annotation_wins(tmp_path, files):
    data = files.coco(tmp_path)
    ds = COCODataset(data.annotations, data.images, task="segmentation")
    assert ds.class_names == ["background", "cat", "dog"]
    assert files.kinds(ds.problems) == data.seg_problems
    mask = ds[0][1].numpy()
    tri = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([[1, 1, 10, 1, 10, 10]], 20, 30)))
    square = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([[2, 2, 12, 2, 12, 12, 2, 12]], 20, 30)))
    expected = np.zeros((20, 30), np.uint8)
    expected[tri > 0] = 1
    expected[square > 0] = 2
    np.testing.assert_array_equal(mask, expected)
    assert ((tri > 0) & (square > 0)).any() and ((tri > 0) & (square == 0)).any()  # both cases are tested
    assert (ds[1][1].numpy() == 0).all()  # unknown category and short polygon both left out
    assert (ds[2][1].numpy() == 0).all()  # crowd skipped


def test_empty_and_malformed_annotation_files_are_findings(tmp_path, files):
    files.image(tmp_path / "images" / "a.png")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    ds = COCODataset(empty, tmp_path / "images")
    assert len(ds) == 0 and files.kinds(ds.problems) == {"empty_annotation": 1}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert files.kinds(COCODataset(bad, tmp_path / "images").problems) == {"bad_annotation": 1}
    with pytest.raises(ConfigurationError, match="annotation_file"):
        COCODataset(tmp_path / "nope.json", tmp_path / "images")


def test_run_lists_every_bad_file_with_its_path(tmp_path, files):
    data = files.coco(tmp_path / "data")
    ds = COCODataset(data.annotations, data.images)
    loader = make_loader(ds, batch_size=2, workers=2)  # the truncated image is decoded in a worker process
    report = DetectionAnalysisManager(loader, **ds.manager_kwargs(), log_dir=tmp_path / "logs", writers=[],
                                      verbose=False, workers=1).run()
    assert report.splits["train"].samples == 5
    unreadable = next(f for f in report.results["data_quality"].findings if f.key == "unreadable")
    assert unreadable.sample_ids == {"train": [data.truncated_index]}
    assert unreadable.sample_paths == {"train": [data.paths[data.truncated_index]]}
    outside = next(f for f in report.results["detection_box_quality"].findings if f.key == "partly_outside")
    assert outside.sample_ids["train"] == [1] and outside.sample_paths["train"] == [data.paths[1]]
    files_result = report.results["dataset_files"]
    assert files_result.group == "quality"
    found = {f.key: f for f in files_result.findings}
    assert {k: f.counts["train"] for k, f in found.items()} == data.problems
    assert found["unknown_category"].sample_ids == {"train": [1]}
    assert found["unknown_category"].sample_paths == {"train": [data.paths[1]]}
    assert data.missing in found["orphan_label"].message and data.extra in found["missing_label"].message
    assert {row[2] for row in files_result.tables[0].rows} == {data.missing, data.extra, data.paths[1]}
    assert files_result.scalars["unknown_category_files"] == {"train": 1}


def test_segmentation_run_counts_the_short_polygon(tmp_path, files):
    data = files.coco(tmp_path / "data")
    ds = COCODataset(data.annotations, data.images, task="segmentation")
    report = SegmentationAnalysisManager(make_loader(ds, batch_size=3, workers=0), **ds.manager_kwargs(),
                                         log_dir=tmp_path / "logs", writers=[], verbose=False).run()
    found = {f.key: f for f in report.results["dataset_files"].findings}
    assert found["short_polygon"].counts == {"train": 1} and found["short_polygon"].sample_ids == {"train": [1]}


def test_malformed_annotations_are_findings_not_crashes(tmp_path, files):
    import json
    files.image(tmp_path / "im" / "a.png", 8, 8)
    anns = [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2], "segmentation": [["x"] * 6]},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": "oops", "segmentation": [[1, 1, 5, 1, 5]]},
            {"id": 3, "image_id": 1, "category_id": 1, "segmentation": {"counts": [0, 30], "size": [5, 6]}},
            {"id": 4, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "segmentation": [[1, 1, 6, 1, 6, 6]]}]
    doc = {"images": [{"id": 1, "file_name": "a.png", "height": 8, "width": 8}], "annotations": anns,
           "categories": [{"id": 1, "name": "x"}]}
    (tmp_path / "ann.json").write_text(json.dumps(doc))
    det = COCODataset(tmp_path / "ann.json", tmp_path / "im")
    assert files.kinds(det.problems) == {"bad_annotation": 3}  # 3 numbers, a string, no bbox
    np.testing.assert_array_equal(det[0][1].numpy(), [[0, 1, 1, 3, 3]])
    seg = COCODataset(tmp_path / "ann.json", tmp_path / "im", task="segmentation")
    assert files.kinds(seg.problems) == {"bad_annotation": 3}  # not numbers, odd length, an RLE of another size
    assert seg[0][1].numpy().sum() > 0
