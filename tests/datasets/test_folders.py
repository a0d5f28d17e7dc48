import numpy as np
import pytest

from data_gradients import ClassificationAnalysisManager
from data_gradients.datasets import ClassFolderDataset, MaskFolderDataset, make_loader
from data_gradients.errors import ConfigurationError


def test_mask_folders_paired_by_stem(tmp_path, files):
    pixels = files.image(tmp_path / "images" / "a.png", 20, 30, seed=1)
    ids = np.random.default_rng(0).integers(0, 3, size=(20, 30)).astype(np.uint8)
    files.palette_png(tmp_path / "masks" / "a.png", ids)
    files.image(tmp_path / "images" / "sub" / "b.png", 20, 30, seed=2)
    files.palette_png(tmp_path / "masks" / "b.png", ids)
    files.image(tmp_path / "images" / "c.png", 20, 30, seed=3)  # no mask
    files.palette_png(tmp_path / "masks" / "d.png", ids)  # no image
    files.image(tmp_path / "images" / "e.png", 20, 30, seed=4)
    files.palette_png(tmp_path / "masks" / "e.png", ids[:10])  # another size
    files.image(tmp_path / "images" / "f.png", 20, 30, seed=5)
    files.garbage(tmp_path / "masks" / "f.png")
    ds = MaskFolderDataset(tmp_path / "images", tmp_path / "masks", num_classes=3, ignore_labels=[255])
    assert len(ds) == 4 and files.kinds(ds.problems) == {"missing_label": 1, "orphan_label": 1}
    assert ds.sample_path(1) == str(tmp_path / "images" / "sub" / "b.png")
    assert ds.label_path(0) == str(tmp_path / "masks" / "a.png")
    image, mask = ds[0]
    np.testing.assert_array_equal(image.permute(1, 2, 0).numpy(), pixels)
    np.testing.assert_array_equal(mask.numpy(), ids)
    assert tuple(ds[2][0].shape) == (3, 0, 0) and tuple(ds[3][0].shape) == (3, 0, 0)
    assert ds.manager_kwargs() == {"num_classes": 3, "class_names": ["0", "1", "2"], "ignore_labels": [255]}
    with pytest.raises(ConfigurationError, match="num_classes"):
        MaskFolderDataset(tmp_path / "images", tmp_path / "masks")


def test_sixteen_bit_masks_keep_their_ids(tmp_path, files):
    from PIL import Image
    files.image(tmp_path / "images" / "a.png", 4, 5)
    ids = np.arange(20, dtype=np.uint16).reshape(4, 5) * 100
    (tmp_path / "masks").mkdir()
    Image.fromarray(ids).save(tmp_path / "masks" / "a.png")
    mask = MaskFolderDataset(tmp_path / "images", tmp_path / "masks", num_classes=2000)[0][1]
    np.testing.assert_array_equal(mask.numpy(), ids)


def test_class_folders(tmp_path, files):
    for k in range(3):
        files.image(tmp_path / "cat" / f"{k}.png", 10 + k, 12, seed=k)
    files.image(tmp_path / "dog" / "deep" / "x.jpg", 8, 8)
    files.truncated(tmp_path / "dog" / "broken.jpg")
    (tmp_path / "bird").mkdir()
    (tmp_path / "notes.txt").write_text("not a class")
    ds = ClassFolderDataset(tmp_path)
    assert ds.class_names == ["bird", "cat", "dog"] and len(ds) == 5
    assert ds.targets == [1, 1, 1, 2, 2]
    assert ds.sample_path(3) == str(tmp_path / "dog" / "broken.jpg")
    image, label = ds[3]
    assert tuple(image.shape) == (3, 0, 0) and label == 2
    report = ClassificationAnalysisManager(make_loader(ds, batch_size=2, workers=1), **ds.manager_kwargs(),
                                           writers=[], log_dir=tmp_path / "logs", verbose=False).run()
    unreadable = next(f for f in report.results["data_quality"].findings if f.key == "unreadable")
    assert unreadable.sample_ids == {"train": [3]} and unreadable.sample_paths == {"train": [ds.sample_path(3)]}
    assert report.splits["train"].samples == 5
    with pytest.raises(ConfigurationError, match="no class folder"):
        ClassFolderDataset(tmp_path / "bird")
