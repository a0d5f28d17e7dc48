"""YOLO: ``images/`` and ``labels/`` folders of one text file per image, and a ``data.yaml``."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch

from data_gradients.datasets.base import (
    IMAGE_EXTENSIONS,
    FileDataset,
    image_tensor,
    list_images,
    mask_dtype,
    read_image,
    unreadable_image,
)
from data_gradients.errors import ConfigurationError

PathLike = Union[str, Path]


def label_path_of(image: PathLike) -> Path:
    """YOLO's convention: the last ``images`` folder of the path becomes ``labels``, the suffix ``.txt``."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    text = str(image)
    if sa in text:
        text = sb.join(text.rsplit(sa, 1))
    return Path(os.path.splitext(text)[0] + ".txt")


class YOLODataset(FileDataset):
    """YOLO detection or segmentation labels: one ``labels/<name>.txt`` per ``images/<name>.jpg``.

    Args:
        images: a folder of images (searched recursively), a list of them, or a ``.txt`` file listing
            image paths (relative paths are relative to the list's folder).
        task: ``"detection"``: rows ``class cx cy w h`` (fractions of the image; a polygon row becomes
            its bounding box); samples ``(image, boxes)`` with boxes (n, 5) float32 rows ``class, x1, y1,
            x2, y2`` in pixels. ``"segmentation"``: rows ``class x1 y1 x2 y2 ...`` (a polygon, fractions
            of the image) rasterised in file order (the later polygon wins) into an H,W mask of
            0 = background and class k = k + 1.
        class_names: names of the classes (``data.yaml``'s ``names``); or ``num_classes`` without names.

    Use :meth:`from_yaml` for a ``data.yaml``. Found when constructed and listed in ``problems``:
    an image without a label file (analysed as an image without objects, YOLO's convention), a
    label file without an image (no sample), an empty label file (analysed as without objects),
    a class id that is not a class, a polygon with fewer than 3 points and a malformed row (left out).
    """

    def __init__(self, images: Union[PathLike, Sequence[PathLike]], *, task: str = "detection",
                 class_names: Optional[Sequence[str]] = None, num_classes: Optional[int] = None):
        super().__init__()
        if task not in ("detection", "segmentation"):
            raise ConfigurationError(f"`task` of a YOLO dataset must be 'detection' or 'segmentation', got {task!r}")
        if class_names is None and num_classes is None:
            raise ConfigurationError("a YOLO dataset needs `class_names` (data.yaml's names) or `num_classes`")
        names = [str(n) for n in class_names] if class_names is not None else [str(k) for k in range(int(num_classes))]
        self.task, self.n_yolo_classes = task, len(names)
        self.class_names = names if task == "detection" else ["background", *names]
        if task == "detection":
            self.sample_kwargs = {"bbox_format": "xyxy", "normalized_boxes": False, "label_first": True}
        self.labels: List[Any] = []  # per sample: (n, 5) normalised class, cx, cy, w, h; or [(class, (k, 2))]
        sources = [images] if isinstance(images, (str, os.PathLike)) else list(images)
        folders = []
        for source in sources:
            source = Path(source)
            if source.is_dir():
                folders.append(source)
                files = list_images(source)
            elif source.is_file() and source.suffix == ".txt":
                files = _listed_images(source)
            else:
                raise ConfigurationError(f"`images`={str(source)!r} is neither a folder nor a .txt list of images")
            for f in files:
                self._add(f)
        self._orphans(folders)

    @classmethod
    def from_yaml(cls, data_yaml: PathLike, split: str = "train", *, task: str = "detection") -> "YOLODataset":
        """The ``split`` (``train``, ``val``, ``test``) of a ``data.yaml``, with its ``names``."""
        config = read_data_yaml(data_yaml)
        if not config.get(split):
            raise ConfigurationError(f"{data_yaml} has no {split!r} split (keys: {', '.join(map(str, config))})")
        root = Path(config.get("path") or Path(data_yaml).parent)
        if not root.is_absolute():
            root = Path(data_yaml).parent / root
        entries = config[split] if isinstance(config[split], list) else [config[split]]
        return cls([root / str(e) for e in entries], task=task, class_names=yaml_names(config))

    def _add(self, image: Path) -> None:
        index = len(self.paths)
        self.paths.append(str(image))
        label = label_path_of(image)
        rows: List[Any] = []
        if not label.is_file():
            self.problem("missing_label", image, index, f"no {label}")
        else:
            try:
                text = label.read_text(errors="replace")
                if not text.strip():
                    self.problem("empty_annotation", label, index, "the label file is empty")
            except OSError as e:
                self.problem("bad_annotation", label, index, f"cannot be read: {e.strerror or e}")
                text = ""
            for n, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    row = self._row(line.split(), label, index, n)
                    if row is not None:
                        rows.append(row)
        if self.task == "detection":
            self.labels.append(np.asarray(rows, dtype=np.float32).reshape(-1, 5))
        else:
            self.labels.append(rows)

    def _row(self, fields: List[str], label: Path, index: int, line: int) -> Any:
        try:
            values = [float(v) for v in fields]
        except ValueError:
            values = []
        if len(values) < 3 or len(values) % 2 == 0:
            self.problem("bad_annotation", label, index, f"line {line}: not a class followed by coordinate pairs")
            return None
        cls = values[0]
        if cls != int(cls) or not 0 <= cls < self.n_yolo_classes:
            self.problem("unknown_category", label, index, f"line {line}: class {fields[0]} is not a class")
            return None
        points = np.asarray(values[1:], dtype=np.float32).reshape(-1, 2)
        if self.task == "detection":
            if len(values) == 5:
                return values
            lo, hi = points.min(axis=0), points.max(axis=0)
            return [cls, *((lo + hi) / 2), *(hi - lo)]
        if len(points) < 3:
            self.problem("short_polygon", label, index, f"line {line}: a polygon with {len(points)} points")
            return None
        return int(cls) + 1, points

    def _orphans(self, folders: List[Path]) -> None:
        """Label files under the labels folders of ``folders`` that have no image."""
        labelled = {os.path.normpath(str(label_path_of(p))) for p in self.paths}
        for folder in folders:
            labels = label_path_of(folder / "x.jpg").parent
            if labels == folder or not labels.is_dir():
                continue
            for txt in sorted(labels.rglob("*.txt")):
                if os.path.normpath(str(txt)) not in labelled:
                    self.problem("orphan_label", txt, detail="no image of this name in " + str(folder))

    def label_path(self, index: int) -> str:
        """The label file of sample ``index`` (it may not exist)."""
        return str(label_path_of(self.paths[index]))

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        index = self._index(index)
        image = read_image(self.paths[index])
        if image is None:
            no_label = torch.zeros((0, 5)) if self.task == "detection" else torch.zeros((0, 0), dtype=torch.uint8)
            return unreadable_image(), no_label
        h, w = image.shape[:2]
        if self.task == "detection":
            rows = self.labels[index]
            boxes = np.empty_like(rows)
            boxes[:, 0] = rows[:, 0]
            boxes[:, 1] = (rows[:, 1] - rows[:, 3] / 2) * w
            boxes[:, 2] = (rows[:, 2] - rows[:, 4] / 2) * h
            boxes[:, 3] = (rows[:, 1] + rows[:, 3] / 2) * w
            boxes[:, 4] = (rows[:, 2] + rows[:, 4] / 2) * h
            return image_tensor(image), torch.from_numpy(boxes)
        mask = np.zeros((h, w), dtype=mask_dtype(len(self.class_names)))
        for cls, points in self.labels[index]:
            pixels = np.round(points * np.array([w, h], dtype=np.float32)).astype(np.int32)
            cv2.fillPoly(mask, [pixels], int(cls))
        return image_tensor(image), torch.from_numpy(mask)


def _listed_images(list_file: Path) -> List[Path]:
    out = []
    for line in list_file.read_text().splitlines():
        line = line.strip()
        if line and os.path.splitext(line)[1].lower() in IMAGE_EXTENSIONS:
            p = Path(line)
            out.append(p if p.is_absolute() else list_file.parent / p)
    return out


def read_data_yaml(path: PathLike) -> Dict[str, Any]:
    import yaml

    try:
        config = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigurationError(f"cannot read the data.yaml {str(path)!r}: {e}") from None
    if not isinstance(config, dict):
        raise ConfigurationError(f"{str(path)!r} must be a YAML mapping with names and splits")
    return config


def yaml_names(config: Dict[str, Any]) -> List[str]:
    """``names`` as a list (YOLO allows a list or a dict id -> name); else ``nc`` numbered names."""
    names = config.get("names")
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names)]
    if isinstance(names, list):
        return [str(n) for n in names]
    if "nc" in config:
        return [str(k) for k in range(int(config["nc"]))]
    raise ConfigurationError("the data.yaml gives neither `names` nor `nc`")
