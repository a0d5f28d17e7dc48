"""COCO: an instances JSON plus an image folder, read with pycocotools."""
from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

import numpy as np
import torch

from data_gradients.datasets.base import (
    FileDataset,
    image_tensor,
    list_images,
    mask_dtype,
    read_image,
    unreadable_image,
)
from data_gradients.errors import ConfigurationError

PathLike = Union[str, Path]


class COCODataset(FileDataset):
    """COCO detection or instance segmentation from ``annotation_file`` (instances JSON) and ``image_dir``.

    Args:
        annotation_file: the instances JSON (``instances_train2017.json``).
        image_dir: the folder holding the images named by the JSON's ``file_name``.
        task: ``"detection"``: samples ``(image, boxes)`` with boxes an (n, 5) float32 tensor of rows
            ``class, x1, y1, x2, y2`` in pixels; ``"segmentation"``: samples ``(image, mask)``, the
            instance polygons / RLEs rasterised (pycocotools) into one H,W class-id mask, 0 =
            background and category k (in the order of the category ids) = k + 1; where instances
            overlap, **the later annotation in the file wins**.
        include_crowd: also read ``iscrowd`` annotations (skipped by default, as COCO's evaluation does).

    Classes are the JSON's categories sorted by id (``class_names``), so ids with gaps (COCO's 1..90)
    become 0..79. Images are 3,H,W uint8 tensors. Found when constructed and listed in ``problems``:
    an empty or unreadable annotation file (no sample), images of the JSON missing from the folder
    (no sample), images of the folder missing from the JSON (no sample), annotations with an unknown
    category id and (segmentation) polygons with fewer than 3 points (the annotation or polygon is
    left out, the sample is analysed). Boxes outside the image are kept: the managers list them.
    """

    def __init__(self, annotation_file: PathLike, image_dir: PathLike, *, task: str = "detection",
                 include_crowd: bool = False):
        super().__init__()
        if task not in ("detection", "segmentation"):
            raise ConfigurationError(f"`task` of a COCO dataset must be 'detection' or 'segmentation', got {task!r}")
        self.task, self.include_crowd = task, include_crowd
        self.annotation_file, self.image_dir = Path(annotation_file), Path(image_dir)
        if not self.annotation_file.is_file():
            raise ConfigurationError(f"`annotation_file`={str(annotation_file)!r} is not a file")
        if not self.image_dir.is_dir():
            raise ConfigurationError(f"`image_dir`={str(image_dir)!r} is not a folder")
        self.skipped_crowd = 0
        self.annotations: List[Any] = []  # per sample: (n, 5) boxes, or [(class, segmentation), ...]
        self.sizes: List[Tuple[int, int]] = []  # per sample: (height, width) of the JSON
        self.sample_kwargs = {"bbox_format": "xyxy", "normalized_boxes": False, "label_first": True} \
            if task == "detection" else {}
        self._read()

    def _read(self) -> None:
        from pycocotools.coco import COCO

        if self.annotation_file.stat().st_size == 0:
            self.problem("empty_annotation", self.annotation_file, detail="the annotation file is empty")
            return
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
                coco = COCO(str(self.annotation_file))
        except Exception as e:  # malformed JSON
            self.problem("bad_annotation", self.annotation_file, detail=f"{type(e).__name__}: {e}")
            return
        images = coco.dataset.get("images") or []
        if not images:
            self.problem("empty_annotation", self.annotation_file, detail="the annotation file lists no image")
        categories = sorted(coco.dataset.get("categories") or [], key=lambda c: c["id"])
        contiguous = {c["id"]: k for k, c in enumerate(categories)}
        names = [str(c.get("name", c["id"])) for c in categories]
        self.class_names = names if self.task == "detection" else ["background"] + names
        listed = set()
        for info in images:
            path = self.image_dir / info["file_name"]
            listed.add(os.path.normpath(str(path)))
            if not path.is_file():
                self.problem("orphan_label", path, detail=f"image id {info['id']} of {self.annotation_file.name} "
                                                          "has no file in the image folder")
                continue
            self._add_sample(str(path), info, coco.imgToAnns.get(info["id"], []), contiguous)
        for path in list_images(self.image_dir):
            if os.path.normpath(str(path)) not in listed:
                self.problem("missing_label", path, detail=f"not in {self.annotation_file.name}")

    def _add_sample(self, path: str, info: Dict[str, Any], anns: List[Dict[str, Any]], contiguous: Dict[int, int]):
        index = len(self.paths)
        kept = []
        for ann in anns:
            if ann.get("iscrowd", 0) and not self.include_crowd:
                self.skipped_crowd += 1
                continue
            cls = contiguous.get(ann.get("category_id"))
            if cls is None:
                self.problem("unknown_category", path, index,
                             f"annotation {ann.get('id')}: category_id {ann.get('category_id')!r} is not a category")
                continue
            item = self._annotation(ann, cls, path, index, info)
            if item is not None:
                kept.append(item)
        self.paths.append(path)
        self.sizes.append((int(info.get("height", 0)), int(info.get("width", 0))))
        if self.task == "detection":
            self.annotations.append(np.asarray(kept, dtype=np.float32).reshape(-1, 5))
        else:
            self.annotations.append(kept)

    def _annotation(self, ann: Dict[str, Any], cls: int, path: str, index: int, info: Dict[str, Any]) -> Any:
        """The kept form of one annotation (a box row, or (class + 1, segmentation)); None when it is left out."""
        where = f"annotation {ann.get('id')}"
        if self.task == "detection":
            box = ann.get("bbox")
            if not _numbers(box) or len(box) != 4:
                self.problem("bad_annotation", path, index, f"{where}: bbox {box!r} is not 4 numbers")
                return None
            x, y, w, h = (float(v) for v in box)
            return cls, x, y, x + w, y + h
        segmentation = ann.get("segmentation")
        if isinstance(segmentation, list):
            polygons = []
            for polygon in segmentation:
                if not _numbers(polygon) or len(polygon) % 2:
                    self.problem("bad_annotation", path, index, f"{where}: a polygon that is not x, y pairs of numbers")
                elif len(polygon) < 6:
                    self.problem("short_polygon", path, index, f"{where}: a polygon with {len(polygon) // 2} points")
                else:
                    polygons.append(polygon)
            return (cls + 1, polygons) if polygons else None
        size = [int(info.get("height", -1)), int(info.get("width", -1))]
        if not isinstance(segmentation, dict) or "counts" not in segmentation or list(segmentation.get("size", [])) != size:
            self.problem("bad_annotation", path, index, f"{where}: a segmentation that is neither polygons nor an RLE "
                                                        f"of the image's size {size}")
            return None
        return cls + 1, segmentation

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        index = self._index(index)
        image = read_image(self.paths[index])
        if self.task == "detection":
            boxes = torch.from_numpy(self.annotations[index])
            return (unreadable_image(), boxes[:0]) if image is None else (image_tensor(image), boxes)
        if image is None:
            return unreadable_image(), torch.zeros((0, 0), dtype=torch.uint8)
        return image_tensor(image), torch.from_numpy(self._mask(index, *image.shape[:2]))

    def _mask(self, index: int, h: int, w: int) -> np.ndarray:
        from pycocotools import mask as mask_utils

        mask = np.zeros((h, w), dtype=mask_dtype(len(self.class_names)))
        with warnings.catch_warnings():  # pycocotools' decode and numpy 2's copy keyword
            warnings.simplefilter("ignore", DeprecationWarning)
            for cls, segmentation in self.annotations[index]:  # in file order: the later annotation wins
                if isinstance(segmentation, list):
                    rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, h, w))
                elif isinstance(segmentation.get("counts"), list):
                    rle = mask_utils.frPyObjects(segmentation, h, w)
                else:
                    rle = segmentation
                decoded = mask_utils.decode(rle)
                if decoded.shape == mask.shape:  # an RLE of the JSON's size, on an image of another size: left out
                    mask[decoded > 0] = cls
        return mask


def _numbers(values: Any) -> bool:
    return isinstance(values, (list, tuple)) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
