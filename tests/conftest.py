"""Seeded synthetic data shared by the tests.

``TASK_DATA[task](seed)`` returns ``(context, builder, raw_batches)`` where raw batches
are (images, labels) pairs a loader could yield, including two image sizes.
Task modules register their own factory here.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np
import pytest
import torch

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.classes import counted_class_ids
from data_gradients.context import AnalysisContext


def blob_masks(rng: np.random.Generator, n: int, h: int, w: int, num_classes: int) -> np.ndarray:
    """Masks made of a few filled rectangles and circles of random classes (not noise)."""
    masks = np.zeros((n, h, w), dtype=np.int32)
    for i in range(n):
        for _ in range(int(rng.integers(1, 6))):
            c = int(rng.integers(0, num_classes))
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            if rng.random() < 0.5:
                cv2.rectangle(masks[i], (x, y), (x + int(rng.integers(1, w // 3)), y + int(rng.integers(1, h // 3))), c, -1)
            else:
                cv2.circle(masks[i], (x, y), int(rng.integers(1, max(2, min(h, w) // 4))), c, -1)
    return masks.astype(np.int64)


def segmentation_raw_batches(seed: int = 0, num_classes: int = 4, n_batches: int = 6,
                             batch_size: int = 3, sizes=((24, 32), (16, 16))) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    rng = np.random.default_rng(seed)
    batches = []
    for b in range(n_batches):
        h, w = sizes[b % len(sizes)]
        images = torch.from_numpy(rng.random((batch_size, 3, h, w), dtype=np.float32))
        masks = torch.from_numpy(blob_masks(rng, batch_size, h, w, num_classes))
        if b == 1:
            images[0, 0, 0, 0] = float("nan")
            masks[1, :2, :2] = num_classes + 2  # out of range
        if b == 2:
            masks[2] = 255  # fully ignored: an empty mask
        batches.append((images, masks))
    return batches


def segmentation_task_data(seed: int = 0):
    num_classes, ignore = 4, (255,)
    ids = counted_class_ids(num_classes, ignore)
    ctx = AnalysisContext(task="segmentation", num_classes=num_classes, class_ids=ids,
                          class_names={i: f"class{i}" for i in range(num_classes)}, samples_to_visualize=4, seed=seed)
    builder = SegmentationBatchBuilder(num_classes, ids, ignore)
    return ctx, builder, segmentation_raw_batches(seed, num_classes)


TASK_DATA: Dict[str, Callable] = {"segmentation": segmentation_task_data}


def canonical_batches(builder, raw_batches):
    """Build canonical batches with consecutive sample ids, like the manager does."""
    out, next_id = [], 0
    for images, labels in raw_batches:
        built = builder.build(images, labels, first_sample_id=next_id)
        next_id += sum(len(b) for b in built)
        out.extend(built)
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def isclose_tree(a, b, rel=1e-9, path="result"):
    """Assert two JSON-like trees are equal, floats up to ``rel``."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            isclose_tree(a[k], b[k], rel, f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: lengths {len(a)} != {len(b) if isinstance(b, list) else b}"
        for i, (x, y) in enumerate(zip(a, b)):
            isclose_tree(x, y, rel, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"
