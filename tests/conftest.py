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


@pytest.fixture(autouse=True)
def _private_resolver_cache(tmp_path_factory, monkeypatch):
    """Batch-resolver answers remembered by the developer's own runs never reach a test."""
    monkeypatch.setenv("DATA_GRADIENTS_CACHE_DIR", str(tmp_path_factory.mktemp("resolver_cache")))


@pytest.fixture
def python_ctrl_c():
    """Python's own Ctrl-C handler for the test, as in an interactive session: a process started in the
    background by a shell (as CI may start the suite) inherits SIGINT ignored, and then gets none."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="module", params=["compiled", "numpy"])
def run_path(request):
    """The module's tests once with the compiled loops over mask runs (:mod:`data_gradients.batch.run_kernels`)
    and once with numpy's ways, which must give the same results (module scope: hypothesis' tests take no
    per-test fixture). Use with ``pytestmark = pytest.mark.usefixtures("run_path")``."""
    from data_gradients.batch import run_kernels

    kernels = _one_way(run_kernels, "_run_kernels", request.param)
    yield request.param
    run_kernels.KERNELS = kernels


@pytest.fixture(scope="module", params=["compiled", "opencv"])
def pixel_path(request):
    """The module's tests once with the compiled loops over image pixels (:mod:`data_gradients.batch.pixel_kernels`)
    and once with the OpenCV and numpy ways, which must give the same bytes. Use with
    ``pytestmark = pytest.mark.usefixtures("pixel_path")``."""
    from data_gradients.batch import pixel_kernels

    kernels = _one_way(pixel_kernels, "_pixel_kernels", request.param)
    yield request.param
    pixel_kernels.KERNELS = kernels


def _one_way(wrapper, extension: str, way: str):
    """Switch ``wrapper`` (a module with a ``KERNELS`` attribute) to ``way``: "compiled" checks that its extension
    is there, any other way sets ``KERNELS`` to None. Returns the previous ``KERNELS``, to be put back."""
    kernels = wrapper.KERNELS
    if way == "compiled":
        assert kernels is not None, (f"the C extension data_gradients.batch.{extension} is not built (or is stale): "
                                     "install a C compiler and the Python headers, then ./dev setup")
    else:
        wrapper.KERNELS = None
    return kernels


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 (tests that start servers or process groups bind only there)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def detection_raw_batches(seed: int = 0, num_classes: int = 4, n_batches: int = 6, batch_size: int = 3,
                          sizes=((24, 32), (16, 16)), max_boxes: int = 6) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    """(images, padded (N, max_boxes, 5) ``class, x1, y1, x2, y2`` pixel boxes) with bad boxes and padding."""
    rng = np.random.default_rng(seed)
    batches = []
    for b in range(n_batches):
        h, w = sizes[b % len(sizes)]
        images = torch.from_numpy(rng.random((batch_size, 3, h, w), dtype=np.float32))
        labels = np.zeros((batch_size, max_boxes, 5), dtype=np.float32)  # all-zero rows are padding
        for i in range(batch_size):
            n = int(rng.integers(0 if b == 2 else 1, max_boxes - 1))
            x1, y1 = rng.uniform(0, w - 2, n), rng.uniform(0, h - 2, n)
            x2, y2 = x1 + rng.uniform(1, w / 2, n), y1 + rng.uniform(1, h / 2, n)  # may pass the border
            labels[i, :n] = np.column_stack([rng.integers(0, num_classes, n), x1, y1, x2, y2])
            labels[i, n:n + 1, 0] = -1  # explicit padding row
        if b == 1:
            labels[0, 0, 1] = float("nan")
            labels[1, 0, 0] = num_classes + 1  # class out of range
            labels[2, 0, 3] = labels[2, 0, 1]  # zero width
        if b == 3:
            labels[0, 0, 1:] = [w + 1, 0, w + 5, 4]  # entirely outside
            labels[1, 1] = labels[1, 0]  # a duplicate box
        batches.append((images, torch.from_numpy(labels)))
    return batches


def detection_task_data(seed: int = 0):
    from data_gradients.batch import DetectionBatchBuilder

    num_classes = 4
    ids = tuple(range(num_classes))
    ctx = AnalysisContext(task="detection", num_classes=num_classes, class_ids=ids,
                          class_names={i: f"class{i}" for i in ids}, samples_to_visualize=4, seed=seed)
    builder = DetectionBatchBuilder(num_classes, ids, (), bbox_format="xyxy", normalized_boxes=False)
    return ctx, builder, detection_raw_batches(seed, num_classes)


TASK_DATA["detection"] = detection_task_data


def classification_raw_batches(seed: int = 0, num_classes: int = 4, n_batches: int = 6, batch_size: int = 4,
                               sizes=((24, 32), (16, 16)), multi_label: bool = True):
    """(images, labels): multi-hot float rows (N, num_classes), or int ids (N,) when not ``multi_label``;
    with a NaN pixel, bad label values and exact duplicate images inside and across batches."""
    rng = np.random.default_rng(seed)
    batches = []
    for b in range(n_batches):
        h, w = sizes[b % len(sizes)]
        images = torch.from_numpy(rng.integers(0, 256, (batch_size, 3, h, w)).astype(np.float32) / 255)
        if multi_label:
            labels = torch.from_numpy((rng.random((batch_size, num_classes)) < 0.4).astype(np.float32))
        else:
            labels = torch.from_numpy(rng.integers(0, num_classes, batch_size))
        if b >= 2:
            images[1] = batches[b - 2][0][0]  # a copy of an image two batches earlier (same size)
        if b == 1:
            images[0, 0, 0, 0] = float("nan")
            images[2] = images[3]  # a duplicate inside the batch
            if multi_label:
                labels[1, 0] = 2.0  # not a 0/1 entry: out of range
                labels[2, 1] = float("nan")
            else:
                labels[1] = num_classes + 1
        batches.append((images, labels))
    return batches


def classification_task_data(seed: int = 0):
    from data_gradients.batch import ClassificationBatchBuilder

    num_classes = 4
    ids = tuple(range(num_classes))
    ctx = AnalysisContext(task="classification", num_classes=num_classes, class_ids=ids,
                          class_names={i: f"class{i}" for i in ids}, samples_to_visualize=3, seed=seed)
    builder = ClassificationBatchBuilder(num_classes, ids, (), multi_label=True)
    return ctx, builder, classification_raw_batches(seed, num_classes)


TASK_DATA["classification"] = classification_task_data
