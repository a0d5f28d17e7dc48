"""The proof: the same data read from files by a reader and given by a Python loader make the same report."""
import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from data_gradients import ClassificationAnalysisManager, DetectionAnalysisManager, SegmentationAnalysisManager
from data_gradients.datasets import ClassFolderDataset, COCODataset, MaskFolderDataset, make_loader
from data_gradients.reports.json_writer import JsonWriter

SIZES = [(24, 32)] * 5 + [(16, 20)] * 4  # two image sizes


def _numbers(value, path=""):
    """Every number (and string) of a JSON document by its path."""
    if isinstance(value, dict):
        return {k: v for key in value for k, v in _numbers(value[key], f"{path}/{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _numbers(item, f"{path}[{i}]").items()}
    return {path: value}


def _same_report(a, b):
    ja, jb = (json.loads((r.run_dir / "summary.json").read_text()) for r in (a, b))
    assert ja["splits"] == jb["splits"] and ja["notes"] == jb["notes"]
    assert "dataset_files" in ja["features"] and "dataset_files" not in jb["features"]
    del ja["features"]["dataset_files"]
    na, nb = _numbers(ja["features"]), _numbers(jb["features"])
    paths = {k for k in na if "/sample_paths/" in k}  # the files beside the ids: only the reader knows them
    assert all(isinstance(na[k], str) and na[k] for k in paths) and not any("/sample_paths/" in k for k in nb)
    na = {k: v for k, v in na.items() if k not in paths}
    assert na.keys() == nb.keys()
    assert len([v for v in na.values() if isinstance(v, (int, float))]) > 200
    for key, va in na.items():
        if isinstance(va, float):
            assert va == pytest.approx(nb[key], rel=1e-12, abs=1e-12), key
        else:
            assert va == nb[key], key
    fa = {k: v for k, v in _numbers(ja["findings"]).items() if "/sample_paths/" not in k}
    assert fa == _numbers(jb["findings"])
    return len(paths)


def _images(rng):
    return [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for h, w in SIZES]


def _run(manager_cls, data, tmp_path, name, **kwargs):
    return manager_cls(data, **kwargs, log_dir=tmp_path / name, writers=[JsonWriter()], verbose=False, workers=1,
                       samples_to_visualize=2).run()


def test_segmentation_mask_folders(tmp_path):
    rng = np.random.default_rng(0)
    images, masks = _images(rng), [rng.integers(0, 4, size=s, dtype=np.uint8) for s in SIZES]
    masks[3][:] = 0  # an empty mask: a finding both ways
    for i, (im, m) in enumerate(zip(images, masks)):
        (tmp_path / "im").mkdir(exist_ok=True), (tmp_path / "ma").mkdir(exist_ok=True)
        Image.fromarray(im).save(tmp_path / "im" / f"{i:02d}.png")
        Image.fromarray(m).save(tmp_path / "ma" / f"{i:02d}.png")
    ds = MaskFolderDataset(tmp_path / "im", tmp_path / "ma", num_classes=4)
    from_files = _run(SegmentationAnalysisManager, make_loader(ds, batch_size=4, workers=2), tmp_path, "files",
                      **ds.manager_kwargs(), ignore_labels=[0])
    batches = [(torch.from_numpy(np.stack(images[i:j])).permute(0, 3, 1, 2), torch.from_numpy(np.stack(masks[i:j])))
               for i, j in ((0, 4), (4, 5), (5, 9))]  # one size per batch, NCHW
    from_python = _run(SegmentationAnalysisManager, _IndexedLoader(batches), tmp_path, "python", num_classes=4,
                       class_names=["0", "1", "2", "3"], ignore_labels=[0])
    assert _same_report(from_files, from_python) > 0  # the empty mask is listed with its file


def test_detection_coco(tmp_path):
    rng = np.random.default_rng(1)
    images = _images(rng)
    boxes = []
    doc = {"images": [], "annotations": [], "categories": [{"id": 5, "name": "a"}, {"id": 9, "name": "b"}]}
    (tmp_path / "im").mkdir()
    for i, im in enumerate(images):
        Image.fromarray(im).save(tmp_path / "im" / f"{i}.png")
        doc["images"].append({"id": i, "file_name": f"{i}.png", "height": im.shape[0], "width": im.shape[1]})
        rows = []
        for _ in range(int(rng.integers(0, 4))):
            x, y, w, h = (int(v) for v in rng.integers(0, 12, size=4))
            cls = int(rng.integers(0, 2))
            doc["annotations"].append({"id": len(doc["annotations"]) + 1, "image_id": i, "category_id": (5, 9)[cls],
                                       "bbox": [x, y, w + 1, h + 1], "iscrowd": 0})
            rows.append([cls, x, y, x + w + 1, y + h + 1])
        boxes.append(np.asarray(rows, dtype=np.float32).reshape(-1, 5))
    (tmp_path / "ann.json").write_text(json.dumps(doc))
    ds = COCODataset(tmp_path / "ann.json", tmp_path / "im")
    from_files = _run(DetectionAnalysisManager, make_loader(ds, batch_size=3, workers=0), tmp_path, "files",
                      **ds.manager_kwargs())
    batches = [([torch.from_numpy(images[k]).permute(2, 0, 1) for k in range(i, min(i + 3, 9))],
                [torch.from_numpy(boxes[k]) for k in range(i, min(i + 3, 9))]) for i in range(0, 9, 3)]
    from_python = _run(DetectionAnalysisManager, _IndexedLoader(batches), tmp_path, "python", num_classes=2,
                       class_names=["a", "b"], bbox_format="xyxy", normalized_boxes=False)
    _same_report(from_files, from_python)


def test_classification_class_folders(tmp_path):
    rng = np.random.default_rng(2)
    images, labels = _images(rng), [0, 2, 1, 1, 0, 2, 2, 0, 1]
    for i, (im, y) in enumerate(zip(images, labels)):
        (tmp_path / "c" / "abc"[y]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(im).save(tmp_path / "c" / "abc"[y] / f"{i}.png")
    ds = ClassFolderDataset(tmp_path / "c")
    order = np.argsort(labels, kind="stable")  # the reader's order: class folders, then file names
    from_files = _run(ClassificationAnalysisManager, make_loader(ds, batch_size=4, workers=0), tmp_path, "files",
                      **ds.manager_kwargs())
    batches = [([torch.from_numpy(images[k]) for k in order[i:i + 4]], torch.tensor([labels[k] for k in order[i:i + 4]]))
               for i in range(0, 9, 4)]  # lists of HWC images
    from_python = _run(ClassificationAnalysisManager, _IndexedLoader(batches), tmp_path, "python", num_classes=3,
                       class_names=["a", "b", "c"])
    _same_report(from_files, from_python)


class _IndexedLoader(DataLoader):
    """A Python loader of ready batches whose sample ids are dataset indices 0..n-1, as the reader's."""

    def __init__(self, batches):
        self.batches = batches
        sizes = [len(b[1]) for b in batches]
        starts = np.cumsum([0] + sizes)
        super().__init__(list(range(int(starts[-1]))), batch_sampler=[list(range(s, s + n)) for s, n in zip(starts, sizes)],
                         collate_fn=lambda idx: self.batches[next(k for k, s in enumerate(starts) if s == idx[0])])
