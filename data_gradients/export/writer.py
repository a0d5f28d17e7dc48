"""Writing selected samples of canonical batches: per sample a folder with ``image.png``, ``overlay.png``
and ``meta.json``; for detection a COCO JSON of the exported samples per split.

Layout under the export folder::

    <split>/<sample id>/image.png, overlay.png, meta.json
    <split>/coco.json          (detection: images, annotations, categories of the exported samples)
    index.json                 (every exported sample: split, id, folder)

Labels are those of the canonical batch: ignored classes are already gone (masks -1, boxes dropped),
and names are the run's (ids when class names are hidden).
"""
from __future__ import annotations

import collections
import json
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional

import numpy as np

from data_gradients.batch import ClassificationBatch, DetectionBatch, SegmentationBatch
from data_gradients.export.overlay import classification_overlay, detection_overlay, segmentation_overlay
from data_gradients.export.selectors import BatchInfo, Selector
from data_gradients.png import encode_png
from data_gradients.sample_id import format_sample_id

PNG_LEVEL = 1  # fast: samples are for looking at, not archiving (~20 ms for 640x480, ~400 KB)
PNG_THREADS = 2  # OpenCV encodes without the GIL: two pictures at once
MAX_PENDING = 8  # pictures waiting to be encoded at most (each a copy: ~1 MB at 640x480)


def sample_folder_name(sample_id: int) -> str:
    return format_sample_id(sample_id).replace(":", "-")


def write_png(path: Path, rgb: np.ndarray) -> None:
    path.write_bytes(encode_png(rgb, PNG_LEVEL))


class SampleWriter:
    """Writes the samples ``criteria`` selects. ``path_of(split, sample_id)`` gives a file path or None;
    ``findings_of(split, sample_id)`` the findings that flagged a sample (dicts)."""

    def __init__(self, out_dir: Path, criteria: Selector, task: str, class_names: Dict[int, str], *,
                 class_ids: Optional[List[int]] = None, path_of: Optional[Callable] = None,
                 findings_of: Optional[Callable] = None, ids_are_indices: Optional[Callable] = None):
        self.out_dir, self.criteria, self.task = Path(out_dir), criteria, task
        self.names = {int(k): str(v) for k, v in class_names.items()}
        self.class_ids = sorted(self.names) if class_ids is None else list(class_ids)
        self.path_of = path_of or (lambda split, i: None)
        self.findings_of = findings_of or (lambda split, i: [])
        self.ids_are_indices = ids_are_indices or (lambda split: False)
        self.exported: List[Dict[str, Any]] = []
        self._coco: Dict[str, Dict[str, list]] = {}
        self._pool: Optional[ThreadPoolExecutor] = None
        self._pending: Deque[Future] = collections.deque()

    def _png(self, path: Path, rgb: np.ndarray) -> None:
        """Write a PNG in the encoding threads (at most MAX_PENDING waiting); errors surface in ``finish``."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(PNG_THREADS, thread_name_prefix="data_gradients-png")
        while len(self._pending) >= MAX_PENDING:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(write_png, path, rgb))

    def add(self, split: str, batch_index: int, batch: Any, split_size: Optional[int] = None) -> int:
        """Export the wanted samples of one canonical batch; returns how many."""
        ids = np.asarray(batch.sample_ids, dtype=np.int64)
        positions = batch.stream_positions if batch.stream_positions is not None else np.arange(len(ids))
        info = BatchInfo(split, int(batch_index), ids, np.asarray(positions, dtype=np.int64), split_size)
        wanted = np.flatnonzero(self.criteria.select(info))
        for j in wanted:
            self._write_sample(split, batch, int(j), int(info.positions[j]))
        return len(wanted)

    def _write_sample(self, split: str, batch: Any, j: int, position: int) -> None:
        sample_id = int(batch.sample_ids[j])
        folder = self.out_dir / split / sample_folder_name(sample_id)
        folder.mkdir(parents=True, exist_ok=True)
        image = np.ascontiguousarray(np.transpose(batch.images[j], (1, 2, 0)))
        unreadable = image.size == 0  # an image without pixels: no picture, the meta says so
        if unreadable:
            labels, files = {}, {}
        else:
            labels, overlay = self._labels(batch, j, image)
            files = {"image": "image.png", "overlay": "overlay.png"}
            self._png(folder / "image.png", image)
            self._png(folder / "overlay.png", overlay)
        flagged = list(self.criteria.flagged_by(split, sample_id))
        findings = self.findings_of(split, sample_id)
        findings += [{"key": k} for k in flagged if all(f.get("key") != k for f in findings)]
        path = self.path_of(split, sample_id)
        meta = {"split": split, "sample_id": format_sample_id(sample_id),
                "dataset_index": sample_id if self.ids_are_indices(split) else None,
                "stream_position": position, "path": None if path is None else str(path),
                "width": int(image.shape[1]), "height": int(image.shape[0]), "task": self.task,
                "labels": labels, "findings": findings, "files": files, "unreadable": unreadable}
        (folder / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        self.exported.append({"split": split, "sample_id": meta["sample_id"], "folder": f"{split}/{folder.name}"})
        if isinstance(batch, DetectionBatch) and not unreadable:
            self._add_coco(split, folder.name, image, labels["boxes"], sample_id, meta["path"])

    def _labels(self, batch: Any, j: int, image: np.ndarray):
        name = lambda c: self.names.get(int(c), str(int(c)))  # noqa: E731
        if isinstance(batch, SegmentationBatch):
            mask = batch.masks[j]
            counts = np.bincount(mask.reshape(-1) + 1)[1:]  # ids are >= -1
            labels = {"classes": [{"id": int(c), "name": name(c), "pixels": int(counts[c])} for c in np.flatnonzero(counts)]}
            return labels, segmentation_overlay(image, mask, self.names)
        if isinstance(batch, DetectionBatch):
            sel = batch.box_image == j
            boxes, classes = batch.boxes[sel], batch.box_classes[sel]
            labels = {"boxes": [{"class_id": int(c), "name": name(c), "xyxy": [float(v) for v in b]}
                                for b, c in zip(boxes, classes)]}
            return labels, detection_overlay(image, boxes, classes, self.names)
        if isinstance(batch, ClassificationBatch):
            ids = [int(c) for c in np.flatnonzero(batch.labels[j])]
            return {"classes": [{"id": c, "name": name(c)} for c in ids]}, classification_overlay(image, ids, self.names)
        return {}, image.copy()

    def _add_coco(self, split: str, folder: str, image: np.ndarray, boxes: list, sample_id: int, path) -> None:
        coco = self._coco.setdefault(split, {"images": [], "annotations": []})
        image_id = len(coco["images"]) + 1
        coco["images"].append({"id": image_id, "file_name": f"{folder}/image.png", "width": int(image.shape[1]),
                               "height": int(image.shape[0]), "sample_id": format_sample_id(sample_id),
                               **({"path": path} if path else {})})
        for b in boxes:
            x1, y1, x2, y2 = b["xyxy"]
            w, h = x2 - x1, y2 - y1
            coco["annotations"].append({"id": len(coco["annotations"]) + 1, "image_id": image_id,
                                        "category_id": b["class_id"], "bbox": [x1, y1, w, h], "area": w * h,
                                        "iscrowd": 0})

    def finish(self) -> Path:
        """Wait for the pictures, write the COCO files and the index; returns the export folder."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        categories = [{"id": int(c), "name": self.names.get(int(c), str(int(c)))} for c in self.class_ids]
        for split, coco in self._coco.items():
            doc = {"info": {"description": f"data_gradients export of split {split}"}, "images": coco["images"],
                   "annotations": coco["annotations"], "categories": categories}
            (self.out_dir / split / "coco.json").write_text(json.dumps(doc) + "\n", encoding="utf-8")
        (self.out_dir / "index.json").write_text(json.dumps({"samples": self.exported}, indent=1) + "\n", encoding="utf-8")
        return self.out_dir
