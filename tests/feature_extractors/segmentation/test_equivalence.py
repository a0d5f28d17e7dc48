"""The run-based label features give exactly what the per-class OpenCV implementations gave.

The reference below is the previous implementation (one OpenCV call per class on a
tile of the batch: connectedComponents, erode, findContours; bincount over pixels for
frequencies and the heatmap), kept here as the oracle. Every extractor's state after
``update`` must match it: counts exactly, float sums to 1e-12 relative.
"""
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.classes import counted_class_ids
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.segmentation.class_frequency import SegmentationClassFrequency
from data_gradients.feature_extractors.segmentation.components import AREA_EDGES, MAX_COUNT_BIN, SIZE_BINS, SegmentationComponents
from data_gradients.feature_extractors.segmentation.convexity import (
    N_BINS,
    SegmentationConvexity,
    component_convexity,
    convexity_bins,
)
from data_gradients.feature_extractors.segmentation.cooccurrence import SegmentationCooccurrence
from data_gradients.feature_extractors.segmentation.erosion import SegmentationErosion
from data_gradients.feature_extractors.segmentation.heatmap import SegmentationClassHeatmap

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from street_scenes import street_scene  # noqa: E402

pytestmark = pytest.mark.usefixtures("run_path")  # compiled loops over runs, and numpy's ways

KERNEL = np.ones((3, 3), dtype=np.uint8)
FEATURES = (SegmentationClassFrequency, SegmentationComponents, SegmentationClassHeatmap, SegmentationConvexity,
            SegmentationErosion, SegmentationCooccurrence)


# ------------------------------------------------------------------ the reference (previous implementation)
def ref_state(name: str, masks: np.ndarray, n_ids: int, grid: int = 32) -> dict:
    n, h, w = masks.shape
    out = {}
    per_image = np.stack([np.bincount(m[m >= 0].ravel(), minlength=n_ids)[:n_ids] for m in masks])
    if name == "segmentation_class_frequency":
        out = {"pixels": per_image.sum(0), "images_with": (per_image > 0).sum(0), "images": n}
    elif name == "segmentation_cooccurrence":
        p = (per_image > 0).astype(np.int64)
        out = {"pairs": p.T @ p, "images": n}
    elif name == "segmentation_class_heatmap":
        cy, cx = np.arange(h) * grid // h, np.arange(w) * grid // w
        cell = cy[:, None] * grid + cx[None, :]
        cell_pixels = np.outer(np.bincount(cy, minlength=grid), np.bincount(cx, minlength=grid)).ravel()
        idx = (masks.astype(np.int64) + 1) * grid * grid + cell
        counts = np.bincount(idx.ravel(), minlength=(n_ids + 1) * grid * grid)[grid * grid:].reshape(n_ids, -1)
        filled = cell_pixels > 0
        share = np.zeros(counts.shape)
        share[:, filled] = counts[:, filled] / cell_pixels[filled]
        out = {"coverage_sum": share.reshape(n_ids, grid, grid), "cell_images": n * filled.reshape(grid, grid), "images": n}
    else:
        out = _ref_objects(name, masks, n_ids)
    return out


def _ref_objects(name, masks, n_ids):
    n, h, w = masks.shape
    cls_, image, area, width, height, vanished, conv = [], [], [], [], [], [], []
    for i in range(n):
        for c in range(n_ids):
            binary = (masks[i] == c).astype(np.uint8)
            if not binary.any():
                continue
            k, lab, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=cv2.CV_32S)
            eroded = cv2.erode(binary, KERNEL, borderType=cv2.BORDER_CONSTANT, borderValue=0).view(bool)
            survives = np.zeros(k, dtype=bool)
            survives[lab[eroded]] = True
            cls_ += [c] * (k - 1)
            image += [i] * (k - 1)
            area += stats[1:, cv2.CC_STAT_AREA].tolist()
            width += stats[1:, cv2.CC_STAT_WIDTH].tolist()
            height += stats[1:, cv2.CC_STAT_HEIGHT].tolist()
            vanished.append((c, int((~survives[1:]).sum()), not survives[1:].any()))
            conv.append((c, component_convexity(binary)))
    cls_ = np.asarray(cls_, dtype=np.int64)
    present = np.zeros((n, n_ids), dtype=bool)
    for i, c in zip(image, cls_):
        present[i, c] = True
    if name == "segmentation_components":
        per_image = np.bincount(np.asarray(image, dtype=np.int64), minlength=n)
        pct = np.asarray(area) * (100.0 / (h * w))
        n_area = len(AREA_EDGES) - 1
        abin = np.clip(np.searchsorted(AREA_EDGES, pct, side="right") - 1, 0, n_area - 1)
        wx = np.minimum(np.asarray(width, dtype=np.int64) * SIZE_BINS // w, SIZE_BINS - 1)
        hy = np.minimum(np.asarray(height, dtype=np.int64) * SIZE_BINS // h, SIZE_BINS - 1)
        return {
            "per_image_hist": np.bincount(np.minimum(per_image, MAX_COUNT_BIN), minlength=MAX_COUNT_BIN + 1),
            "components": np.bincount(cls_, minlength=n_ids),
            "area_hist": np.bincount(cls_ * n_area + abin, minlength=n_ids * n_area).reshape(n_ids, n_area),
            "area_pct_sum": np.bincount(cls_, weights=pct, minlength=n_ids),
            "size_hist": np.bincount(hy * SIZE_BINS + wx, minlength=SIZE_BINS ** 2).reshape(SIZE_BINS, SIZE_BINS),
            "images": n,
        }
    if name == "segmentation_erosion":
        out = {k: np.zeros(n_ids, dtype=np.int64) for k in ("components", "vanished", "images_with", "images_all_vanish")}
        out["components"] = np.bincount(cls_, minlength=n_ids)
        for c, v, gone in vanished:
            out["vanished"][c] += v
            out["images_with"][c] += 1
            out["images_all_vanish"][c] += int(gone)
        return out
    hist, total = np.zeros((n_ids, N_BINS), dtype=np.int64), np.zeros(n_ids)
    for c, values in conv:
        hist[c] += np.bincount(convexity_bins(values), minlength=N_BINS)
        total[c] += values.sum()
    return {"hist": hist, "convexity_sum": total}


# ------------------------------------------------------------------ masks
def x_crossings(rng, h, w, k):
    """Blocks [[A, B], [B, A]] (each class connected only across the other's diagonal) over noise."""
    m = rng.integers(-1, k, (h, w))
    for _ in range(max(1, h * w // 20)):
        y, x = int(rng.integers(0, h - 1)), int(rng.integers(0, w - 1))
        a, b = rng.choice(k, 2, replace=False)
        m[y:y + 2, x:x + 2] = [[a, b], [b, a]]
    return m


def shapes(rng, h, w, k):
    """Rings (holes, objects inside holes), lines 1-2 px thick, specks, diagonals, border objects."""
    m = np.full((h, w), -1, dtype=np.int32)
    for _ in range(int(rng.integers(2, 10))):
        c = int(rng.integers(0, k))
        kind = int(rng.integers(0, 6))
        x, y = int(rng.integers(-2, w + 2)), int(rng.integers(-2, h + 2))
        if kind == 0:
            cv2.circle(m, (x, y), int(rng.integers(2, max(3, min(h, w) // 2))), c, int(rng.integers(1, 3)))
        elif kind == 1:
            cv2.line(m, (x, y), (int(rng.integers(0, w)), int(rng.integers(0, h))), c, int(rng.integers(1, 3)))
        elif kind == 2:
            m[min(max(y, 0), h - 1), min(max(x, 0), w - 1)] = c
        elif kind == 3:
            cv2.rectangle(m, (x, y), (x + int(rng.integers(0, w)), y + int(rng.integers(0, h))), c, -1)
        elif kind == 4:
            for d in range(int(rng.integers(1, 8))):
                if 0 <= y + d < h and 0 <= x + d < w:
                    m[y + d, x + d] = c
        else:
            pts = rng.integers(0, [w, h], (int(rng.integers(3, 8)), 2)).astype(np.int32)
            cv2.fillPoly(m, [pts], c)
    return m


def batches():
    rng = np.random.default_rng(12345)
    out = []
    for _ in range(40):  # noise: every pattern of touching classes, 1-px objects
        n, h, w, k = int(rng.integers(1, 4)), int(rng.integers(1, 14)), int(rng.integers(1, 14)), int(rng.integers(1, 5))
        out.append(("noise", rng.integers(-1, k, (n, h, w)), k))
    for _ in range(20):
        n, h, w, k = int(rng.integers(1, 4)), int(rng.integers(2, 12)), int(rng.integers(2, 12)), int(rng.integers(2, 4))
        out.append(("x-crossings", np.stack([x_crossings(rng, h, w, k) for _ in range(n)]), k))
    for _ in range(30):
        n, h, w, k = int(rng.integers(1, 4)), int(rng.integers(8, 40)), int(rng.integers(8, 40)), int(rng.integers(1, 4))
        out.append(("shapes", np.stack([shapes(rng, h, w, k) for _ in range(n)]), k))
    # objects on the last row of one sample and the first row of the next (separator rows)
    m = np.full((3, 5, 6), -1)
    m[0, -2:, :] = 0
    m[1, :1, :] = 0
    m[1, -1, ::2] = 1
    m[2, 0, 1::2] = 1
    out.append(("separators", m, 2))
    out.append(("many classes", rng.integers(-1, 300, (2, 9, 11)), 300))
    out.append(("empty", np.full((2, 4, 5), -1), 3))
    out.append(("full", np.zeros((2, 4, 5), dtype=np.int64), 1))
    scenes = np.stack([street_scene(i, size=(72, 128))[1] for i in range(3)]).astype(np.int64)
    out.append(("street scenes", np.where(scenes == 255, -1, scenes), 19))
    return out


CASES = batches()


# masks as int64 ids (-1 not counted), and as uint8 labels where the ids fit (255 ignored, the rest out of range)
RAW = [(i, raw) for i in range(len(CASES)) for raw in (("int64", "uint8") if CASES[i][2] <= 250 else ("int64",))]


@pytest.mark.parametrize("feature", FEATURES, ids=[f.name for f in FEATURES])
@pytest.mark.parametrize("case, raw", RAW, ids=[f"{CASES[i][0]}-{i}-{raw}" for i, raw in RAW])
def test_state_equals_reference(feature, case, raw):
    _, masks, n_ids = CASES[case]
    masks, n_ids = np.asarray(masks, dtype=np.int64), max(n_ids, 2)  # num_classes=1 is the binary task: below
    ids = tuple(range(n_ids))
    ctx = AnalysisContext(task="segmentation", num_classes=n_ids, class_ids=ids)
    images = np.zeros((*masks.shape, 3), dtype=np.uint8)
    if raw == "uint8":  # uint8 labels: the view finds runs on them; 255 ignored, n_ids..254 out of range
        spare = np.random.default_rng(case).integers(n_ids, 255, masks.shape)
        labels = np.where(masks >= 0, masks, np.where(spare % 2 == 0, 255, spare)).astype(np.uint8)
        (batch,) = SegmentationBatchBuilder(n_ids, ids, (255,)).build(images, labels, 0)
        assert batch.view.lookup is not None
    else:
        (batch,) = SegmentationBatchBuilder(n_ids, ids, (-1,)).build(images, masks, 0)
        assert batch.view.lookup is None
    ex = feature(ctx)
    for other in FEATURES:  # the other features first: the shared view must not depend on who built it
        if other is not feature:
            other(ctx).update(batch, "train")
    ex.update(batch, "train")
    got = ex.split_totals("train")
    want = ref_state(feature.name, batch.masks, n_ids)
    assert set(want) <= set(got)
    for key, value in want.items():
        if np.asarray(value).dtype.kind == "f":
            np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-12, err_msg=key)
        else:
            np.testing.assert_array_equal(got[key], value, err_msg=key)


@pytest.mark.parametrize("num_classes, ignore", [(1, ()), (4, (0,)), (4, (255,)), (300, (255,))])
def test_binary_and_ignored_labels_match_the_reference(num_classes, ignore):
    rng = np.random.default_rng(num_classes)
    raw = rng.integers(0, max(num_classes, 2), (3, 17, 23))
    raw[:, :3, :3] = 255
    ids = counted_class_ids(num_classes, ignore)
    n_ids = 2 if num_classes == 1 else num_classes
    ctx = AnalysisContext(task="segmentation", num_classes=num_classes, class_ids=ids)
    (batch,) = SegmentationBatchBuilder(num_classes, ids, ignore).build(np.zeros((3, 17, 23, 3), np.uint8), raw, 0)
    for feature in FEATURES:
        ex = feature(ctx)
        ex.update(batch, "val")
        got = ex.split_totals("val")
        for key, value in ref_state(feature.name, batch.masks, n_ids).items():
            np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-12, err_msg=f"{feature.name}.{key}")
