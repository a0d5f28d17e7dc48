"""Pascal VOC: detection from the ``Annotations`` XMLs, segmentation from the ``SegmentationClass`` PNGs."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from data_gradients.datasets.base import (
    FileDataset,
    as_tensor,
    by_stem,
    image_tensor,
    list_images,
    read_image,
    read_label_image,
    unreadable_image,
)
from data_gradients.errors import ConfigurationError

VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
               "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")


def voc_colormap(n: int = 256) -> np.ndarray:
    """(n, 3) uint8: VOC's palette (colour of class id k), for colour masks saved without the palette."""
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for k in range(n):
        c, r, g, b = k, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[k] = (r, g, b)
    return cmap


class VOCDataset(FileDataset):
    """Pascal VOC under ``root`` (the folder holding ``JPEGImages``, ``Annotations``, ``SegmentationClass``,
    ``ImageSets``; e.g. ``VOCdevkit/VOC2012``).

    Args:
        root: the VOC folder.
        task: ``"detection"``: samples ``(image, boxes)``, boxes (n, 5) float32 rows ``class, xmin, ymin,
            xmax, ymax`` in pixels as written in the XML; ``"segmentation"``: samples ``(image, mask)``,
            the mask the ``SegmentationClass`` PNG's palette indices (0 = background, 1..20 the classes,
            255 = boundaries and "difficult": ignored, ``ignore_labels=[255]``).
        image_set: the name of a list in ``ImageSets/Main`` (detection) or ``ImageSets/Segmentation``
            (``"train"``, ``"val"``...); None reads every annotation file.
        class_names: detection class names (default: VOC's 20, in VOC's order).

    Found when constructed and listed in ``problems``: an annotation without an image and an image
    (of the list) without an annotation (no sample), empty or malformed XMLs (the sample is analysed
    without boxes), objects whose name is not a class (left out). A mask that cannot be decoded
    makes the sample unreadable.
    """

    def __init__(self, root: Union[str, Path], *, task: str = "detection", image_set: Optional[str] = None,
                 class_names: Sequence[str] = VOC_CLASSES):
        super().__init__()
        if task not in ("detection", "segmentation"):
            raise ConfigurationError(f"`task` of a VOC dataset must be 'detection' or 'segmentation', got {task!r}")
        self.root, self.task, self.image_set = Path(root), task, image_set
        if not (self.root / "JPEGImages").is_dir():
            raise ConfigurationError(f"`root`={str(root)!r} must hold the VOC folders (JPEGImages/ not found)")
        images = by_stem(list_images(self.root / "JPEGImages", recursive=False))
        label_dir = self.root / ("Annotations" if task == "detection" else "SegmentationClass")
        suffix = ".xml" if task == "detection" else ".png"
        labels = {p.stem: p for p in sorted(label_dir.glob(f"*{suffix}"))} if label_dir.is_dir() else {}
        if image_set is not None:
            list_file = self.root / "ImageSets" / ("Main" if task == "detection" else "Segmentation") / f"{image_set}.txt"
            if not list_file.is_file():
                raise ConfigurationError(f"`image_set`={image_set!r}: {list_file} is not a file")
            stems = [line.split()[0] for line in list_file.read_text().splitlines() if line.strip()]
        else:
            stems = sorted(labels)
            for stem in sorted(set(images) - set(labels)):
                self.problem("missing_label", images[stem], detail=f"no {label_dir.name}/{stem}{suffix}")
        if task == "detection":
            self.class_names = [str(c) for c in class_names]
            self.sample_kwargs = {"bbox_format": "xyxy", "normalized_boxes": False, "label_first": True}
        else:
            self.class_names = ["background", *VOC_CLASSES]
            self.ignore_labels = [255]
        self._ids = {name: k for k, name in enumerate(self.class_names)}
        self.labels: List[str] = []
        self.boxes: List[np.ndarray] = []
        for stem in stems:
            label, image = labels.get(stem), images.get(stem)
            if image is None:
                self.problem("orphan_label", label or (label_dir / f"{stem}{suffix}"),
                             detail=f"no JPEGImages/{stem}.jpg" + ("" if label else " nor annotation"))
                continue
            if label is None:
                self.problem("missing_label", image, detail=f"no {label_dir.name}/{stem}{suffix}")
                continue
            self.paths.append(str(image))
            self.labels.append(str(label))
            if task == "detection":
                self.boxes.append(self._parse(label, len(self.paths) - 1))

    def _parse(self, xml_path: Path, index: int) -> np.ndarray:
        if xml_path.stat().st_size == 0:
            self.problem("empty_annotation", xml_path, index, "the annotation file is empty")
            return np.zeros((0, 5), dtype=np.float32)
        try:
            root = ET.parse(xml_path).getroot()
            rows = []
            for obj in root.iter("object"):
                name = (obj.findtext("name") or "").strip()
                if name not in self._ids:
                    self.problem("unknown_category", xml_path, index, f"object name {name!r} is not a class")
                    continue
                box = obj.find("bndbox")
                rows.append([self._ids[name]] + [float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")])
        except (ET.ParseError, AttributeError, TypeError, ValueError) as e:
            self.problem("bad_annotation", xml_path, index, f"{type(e).__name__}: {e}")
            return np.zeros((0, 5), dtype=np.float32)
        return np.asarray(rows, dtype=np.float32).reshape(-1, 5)

    def label_path(self, index: int) -> str:
        """The annotation file (XML or PNG) of sample ``index``."""
        return self.labels[index]

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        index = self._index(index)
        image = read_image(self.paths[index])
        if self.task == "detection":
            boxes = torch.from_numpy(self.boxes[index])
            return (unreadable_image(), boxes[:0]) if image is None else (image_tensor(image), boxes)
        mask = read_label_image(self.labels[index])
        if mask is None:
            mask = _colour_mask(self.labels[index])
        if image is None or mask is None or mask.shape != image.shape[:2]:
            return unreadable_image(), torch.zeros((0, 0), dtype=torch.uint8)
        return image_tensor(image), as_tensor(mask.astype(np.uint8, copy=False))


def _colour_mask(path: str) -> Optional[np.ndarray]:
    """Class ids of an RGB mask painted with VOC's palette (unknown colours: 255, ignored)."""
    rgb = read_image(path)
    if rgb is None:
        return None
    cmap = voc_colormap().astype(np.int64)
    lookup = {int(code): k for k, code in enumerate((cmap[:, 0] << 16) | (cmap[:, 1] << 8) | cmap[:, 2])}
    pixels = rgb.astype(np.int64)
    codes, inverse = np.unique((pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2], return_inverse=True)
    ids = np.array([lookup.get(int(c), 255) for c in codes], dtype=np.uint8)
    return ids[inverse].reshape(rgb.shape[:2])
