import numpy as np
import pytest

from data_gradients import SegmentationAnalysisManager
from data_gradients.datasets import VOC_CLASSES, VOCDataset, make_loader
from data_gradients.datasets.voc import voc_colormap
from data_gradients.errors import ConfigurationError


def xml(objects, filename="x.jpg"):
    body = "".join(f"<object><name>{n}</name><difficult>0</difficult><bndbox><xmin>{a}</xmin><ymin>{b}</ymin>"
                   f"<xmax>{c}</xmax><ymax>{d}</ymax></bndbox></object>" for n, a, b, c, d in objects)
    return f"<annotation><filename>{filename}</filename><size><width>30</width><height>20</height></size>{body}</annotation>"


def write_detection(root, files):
    for stem in ("a", "b", "c", "d", "noxml"):
        files.jpeg(root / "JPEGImages" / f"{stem}.jpg", seed=len(stem))
    ann = root / "Annotations"
    ann.mkdir(parents=True)
    (ann / "a.xml").write_text(xml([("dog", 1, 2, 10, 12), ("person", 3, 4, 5, 6)]))
    (ann / "b.xml").write_text(xml([("unicorn", 1, 1, 4, 4), ("cat", 2, 2, 8, 9)]))
    (ann / "c.xml").write_text("")  # empty
    (ann / "d.xml").write_text("<annotation><object>")  # malformed
    (ann / "noimage.xml").write_text(xml([("cat", 1, 1, 2, 2)]))
    sets = root / "ImageSets" / "Main"
    sets.mkdir(parents=True)
    (sets / "train.txt").write_text("a\nb\nnoimage\n")


def test_detection_from_xml(tmp_path, files):
    write_detection(tmp_path, files)
    ds = VOCDataset(tmp_path)  # every XML
    assert len(ds) == 4 and ds.class_names == list(VOC_CLASSES)
    assert [ds.sample_path(i) for i in range(4)] == [str(tmp_path / "JPEGImages" / f"{s}.jpg") for s in "abcd"]
    assert files.kinds(ds.problems) == {"unknown_category": 1, "empty_annotation": 1, "bad_annotation": 1,
                                        "orphan_label": 1, "missing_label": 1}
    dog, person, cat = (VOC_CLASSES.index(n) for n in ("dog", "person", "cat"))
    np.testing.assert_array_equal(ds[0][1].numpy(), [[dog, 1, 2, 10, 12], [person, 3, 4, 5, 6]])
    np.testing.assert_array_equal(ds[1][1].numpy(), [[cat, 2, 2, 8, 9]])
    assert len(ds[2][1]) == 0 and len(ds[3][1]) == 0 and tuple(ds[2][0].shape) == (3, 20, 30)
    by_kind = {p.kind: p for p in ds.problems}
    assert by_kind["empty_annotation"].index == 2 and by_kind["bad_annotation"].index == 3
    assert by_kind["missing_label"].path == str(tmp_path / "JPEGImages" / "noxml.jpg")
    assert by_kind["orphan_label"].path == str(tmp_path / "Annotations" / "noimage.xml")


def test_detection_image_set(tmp_path, files):
    write_detection(tmp_path, files)
    ds = VOCDataset(tmp_path, image_set="train")
    assert len(ds) == 2 and files.kinds(ds.problems) == {"unknown_category": 1, "orphan_label": 1}
    with pytest.raises(ConfigurationError, match="image_set"):
        VOCDataset(tmp_path, image_set="nope")


def test_segmentation_palette_ids_and_255_ignored(tmp_path, files):
    ids = np.zeros((20, 30), np.uint8)
    ids[2:8, 3:9] = 15  # person
    ids[10:14, 10:20] = 12
    ids[8, :] = 255  # boundary
    files.jpeg(tmp_path / "JPEGImages" / "a.jpg")
    files.palette_png(tmp_path / "SegmentationClass" / "a.png", ids)
    rgb = voc_colormap()[ids]  # the same mask saved as colours
    from PIL import Image
    Image.fromarray(rgb).save(tmp_path / "SegmentationClass" / "b.png")
    files.jpeg(tmp_path / "JPEGImages" / "b.jpg")
    files.jpeg(tmp_path / "JPEGImages" / "c.jpg")
    files.garbage(tmp_path / "SegmentationClass" / "c.png")
    ds = VOCDataset(tmp_path, task="segmentation")
    assert len(ds) == 3 and ds.class_names[0] == "background" and ds.num_classes == 21
    assert ds.manager_kwargs()["ignore_labels"] == [255]
    np.testing.assert_array_equal(ds[0][1].numpy(), ids)
    np.testing.assert_array_equal(ds[1][1].numpy(), ids)
    assert tuple(ds[2][0].shape) == (3, 0, 0)  # a mask that cannot be decoded: unreadable
    report = SegmentationAnalysisManager(make_loader(ds, workers=0), **ds.manager_kwargs(), writers=[],
                                         log_dir=tmp_path / "logs", verbose=False).run()
    unreadable = next(f for f in report.results["data_quality"].findings if f.key == "unreadable")
    assert unreadable.sample_paths == {"train": [str(tmp_path / "JPEGImages" / "c.jpg")]}
    assert "dataset_files" in report.results and not report.results["dataset_files"].findings
