"""Example datasets written to disk in COCO layout (the demo's run from files, the CLI benchmark).

Deterministic for a seed: coloured rectangles on a noisy background, each one a box annotation
(and a rectangle polygon) of one of a few categories.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Sequence, Tuple, Union

import cv2
import numpy as np

EXAMPLE_CATEGORIES = ("car", "person", "bicycle", "dog")


def render_example(seed: int, index: int, size: Tuple[int, int], n_categories: int, max_objects: int):
    """(H,W,3 uint8 RGB image, [(category index, x, y, w, h), ...]) of example ``index``."""
    rng = np.random.default_rng([seed, index])
    h, w = size
    image = rng.integers(40, 90, size=(h, w, 3), dtype=np.uint8)
    image[:] = cv2.GaussianBlur(image, (0, 0), 3)
    objects = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        bw, bh = int(rng.integers(w // 16, w // 3)), int(rng.integers(h // 16, h // 3))
        x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
        cls = int(rng.integers(0, n_categories))
        colour = [int(c) for c in rng.integers(100, 256, size=3)]
        cv2.rectangle(image, (x, y), (x + bw - 1, y + bh - 1), colour, thickness=-1)
        objects.append((cls, x, y, bw, bh))
    return image, objects


def write_coco_example(root: Union[str, Path], n: int, *, split: str = "train", size: Tuple[int, int] = (480, 640),
                       seed: int = 0, categories: Sequence[str] = EXAMPLE_CATEGORIES, max_objects: int = 10,
                       quality: int = 90) -> Tuple[Path, Path]:
    """Write ``n`` JPEGs to ``root/images/<split>/`` and ``root/annotations/instances_<split>.json``;
    returns (annotation file, image folder). Category ids are 1, 2, ... (COCO's are 1-based).
    Files already written with the same parameters are kept."""
    root = Path(root)
    images_dir, ann_dir = root / "images" / split, root / "annotations"
    ann_file = ann_dir / f"instances_{split}.json"
    params = {"n": n, "size": list(size), "seed": seed, "categories": list(categories), "max_objects": max_objects,
              "quality": quality}
    if ann_file.is_file() and json.loads(ann_file.read_text()).get("info", {}).get("params") == params:
        return ann_file, images_dir
    images_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    images: List[dict] = []
    annotations: List[dict] = []
    for i in range(n):
        image, objects = render_example(seed, i, size, len(categories), max_objects)
        name = f"{i:06d}.jpg"
        cv2.imwrite(str(images_dir / name), image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        images.append({"id": i + 1, "file_name": name, "height": size[0], "width": size[1]})
        for cls, x, y, bw, bh in objects:
            polygon = [x, y, x + bw, y, x + bw, y + bh, x, y + bh]
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": cls + 1,
                                "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0,
                                "segmentation": [[float(v) for v in polygon]]})
    coco = {"info": {"description": "data_gradients example", "params": params}, "images": images,
            "annotations": annotations,
            "categories": [{"id": k + 1, "name": name} for k, name in enumerate(categories)]}
    ann_file.write_text(json.dumps(coco))
    return ann_file, images_dir
