"""Tiny datasets on disk, written by the tests, with the bad files each test counts.

``files`` (a fixture) gives the writers: ``image(path, h, w, seed)``, ``truncated(path)``,
``coco(tmp_path)`` and the expected content of what they wrote.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image


def image(path: Path, h: int = 20, w: int = 30, seed: int = 0) -> np.ndarray:
    """Write a random RGB image (PNG: lossless, so the pixels are known); returns them."""
    pixels = np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return pixels


def jpeg(path: Path, h: int = 20, w: int = 30, seed: int = 0) -> None:
    pixels = np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=90)


def truncated(path: Path, h: int = 40, w: int = 60) -> None:
    """A JPEG cut in the middle of its data (PIL refuses it)."""
    jpeg(path, h, w, seed=99)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not an image at all" * 10)


def palette_png(path: Path, ids: np.ndarray) -> None:
    """A palette ("P") PNG whose indices are ``ids``."""
    im = Image.fromarray(ids.astype(np.uint8), mode="P")
    im.putpalette([v for k in range(256) for v in (k, 255 - k, (7 * k) % 256)])
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)


def coco(root: Path) -> SimpleNamespace:
    """COCO detection files with one bad file of each kind. Images 1..4 and 6 are listed and exist (6 is
    truncated); image 5 is listed but missing; ``extra.png`` is in the folder only."""
    images_dir = root / "images"
    for k in (1, 2, 3, 4):
        image(images_dir / f"{k}.png", 20, 30, seed=k)
    truncated(images_dir / "6.jpg")
    image(images_dir / "extra.png", 10, 10, seed=7)
    tri = [1, 1, 10, 1, 10, 10]
    anns = [
        {"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 10, 5], "iscrowd": 0, "segmentation": [tri]},
        {"id": 2, "image_id": 1, "category_id": 7, "bbox": [2, 2, 4, 4], "iscrowd": 0,
         "segmentation": [[2, 2, 12, 2, 12, 12, 2, 12]]},  # overlaps 1: wins where they overlap
        {"id": 3, "image_id": 2, "category_id": 99, "bbox": [1, 1, 3, 3], "iscrowd": 0, "segmentation": [tri]},
        {"id": 4, "image_id": 2, "category_id": 3, "bbox": [25, 10, 20, 5], "iscrowd": 0,  # partly outside
         "segmentation": [[1, 1, 5, 5]]},  # a polygon of 2 points
        {"id": 5, "image_id": 3, "category_id": 7, "bbox": [0, 0, 30, 20], "iscrowd": 1,
         "segmentation": {"size": [20, 30], "counts": [0, 600]}},  # crowd: skipped unless asked
        {"id": 6, "image_id": 5, "category_id": 3, "bbox": [1, 1, 2, 2], "iscrowd": 0, "segmentation": [tri]},
    ]
    listed = [{"id": k, "file_name": f"{k}.png", "height": 20, "width": 30} for k in (1, 2, 3, 4, 5)]
    listed.append({"id": 6, "file_name": "6.jpg", "height": 40, "width": 60})
    doc = {"images": listed, "annotations": anns,
           "categories": [{"id": 7, "name": "dog"}, {"id": 3, "name": "cat"}]}
    ann = root / "instances.json"
    ann.write_text(json.dumps(doc))
    return SimpleNamespace(
        annotations=ann, images=images_dir,
        paths=[str(images_dir / n) for n in ("1.png", "2.png", "3.png", "4.png", "6.jpg")],
        class_names=["cat", "dog"],  # by category id: 3 then 7
        problems={"orphan_label": 1, "missing_label": 1, "unknown_category": 1},
        seg_problems={"orphan_label": 1, "missing_label": 1, "unknown_category": 1, "short_polygon": 1},
        truncated_index=4, missing=str(images_dir / "5.png"), extra=str(images_dir / "extra.png"),
    )


def kinds(problems) -> dict:
    out: dict = {}
    for p in problems:
        out[p.kind] = out.get(p.kind, 0) + 1
    return out


@pytest.fixture
def files():
    return SimpleNamespace(image=image, jpeg=jpeg, truncated=truncated, garbage=garbage, palette_png=palette_png,
                           coco=coco, kinds=kinds)
