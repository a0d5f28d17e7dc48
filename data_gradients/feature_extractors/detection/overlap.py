"""Box overlap: largest IoU of each box with another box of its image (detection).

Pairs are formed only inside an image: for an image with n boxes, its n * n ordered
pairs (self pairs get IoU 0). All pairs of a batch are built and scored at once with
numpy; batches with more than :data:`MAX_PAIRS` pairs are scored in chunks of boxes,
so memory stays bounded even for very crowded images. Batches of at most 45 boxes score the
(M, M) matrix of all their pairs instead (fewer numpy calls), pairs across images set to 0.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from data_gradients.batch import DetectionBatch
from data_gradients.feature_extractors.base import FeatureExtractor, keep_smallest
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Finding, Histogram, Table
from data_gradients.thresholds import declare, threshold

IOU_EDGES = np.linspace(0.0, 1.0, 21)  # 0.05 wide bins; IoU 1 goes to the last bin
CROWD_IOU = 0.5  # boxes of one class overlapping this much are hard to keep apart after NMS
DUPLICATE_IOU = 0.9  # boxes of one class overlapping this much are probably annotated twice
DUPLICATE_BOX_IOU = declare("duplicate_box_iou", DUPLICATE_IOU, "IoU of a box with another box of the same class in its "
                            "image at or above which the box is flagged as a possible duplicate", minimum=0, maximum=1)
MAX_PAIRS = 1 << 21
DENSE_PAIRS = 1 << 11  # up to 45 boxes in a batch: all pairs of the batch as one matrix (faster below that)
MAX_IDS = 20


def max_iou(boxes: np.ndarray, classes: np.ndarray, image: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(M,) largest IoU of each box with any other box of its image, and with another box of
    its image and class (0 when there is none). ``image`` must be sorted."""
    m = len(boxes)
    if m == 0:
        return np.zeros(0), np.zeros(0)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    if m * m <= DENSE_PAIRS:  # every pair of the batch at once; pairs across images count as IoU 0
        return _dense_max_iou(boxes, area, classes, image)
    best_any, best_same = np.zeros(m), np.zeros(m)
    counts = np.bincount(image)
    start = np.cumsum(counts) - counts
    partners = counts[image]  # pairs of each box: one per box of its image, itself included
    ends = np.cumsum(partners)
    lo = 0
    while lo < m:  # chunks of whole boxes with at most MAX_PAIRS pairs (at least one box)
        hi = max(int(np.searchsorted(ends, ends[lo] - partners[lo] + MAX_PAIRS, side="right")), lo + 1)
        p = partners[lo:hi]
        first = np.repeat(np.arange(lo, hi), p)
        seg = np.cumsum(p) - p  # start of each box's pairs in this chunk
        second = start[image[first]] + np.arange(len(first)) - np.repeat(seg, p)
        a, b = boxes[first], boxes[second]
        iw = np.maximum(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0.0)
        ih = np.maximum(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0.0)
        inter = iw * ih
        iou = inter / (area[first] + area[second] - inter)
        iou[first == second] = 0.0
        best_any[lo:hi] = np.maximum.reduceat(iou, seg)
        best_same[lo:hi] = np.maximum.reduceat(np.where(classes[first] == classes[second], iou, 0.0), seg)
        lo = hi
    return best_any, best_same


def _dense_max_iou(boxes: np.ndarray, area: np.ndarray, classes: np.ndarray, image: np.ndarray):
    """:func:`max_iou` on the (M, M) matrix of all pairs (the same IoU of each pair, bit for bit)."""
    x1, y1, x2, y2 = boxes.T
    iw = np.maximum(np.minimum(x2[:, None], x2[None]) - np.maximum(x1[:, None], x1[None]), 0.0)
    ih = np.maximum(np.minimum(y2[:, None], y2[None]) - np.maximum(y1[:, None], y1[None]), 0.0)
    inter = iw * ih
    iou = inter / (area[:, None] + area[None] - inter)
    iou[image[:, None] != image[None]] = 0.0
    np.fill_diagonal(iou, 0.0)
    best_any = iou.max(axis=1)
    iou[classes[:, None] != classes[None]] = 0.0
    return best_any, iou.max(axis=1)


def iou_bin(iou: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(np.searchsorted(IOU_EDGES, iou, side="right") - 1, 0), len(IOU_EDGES) - 2)


@register_feature
class DetectionOverlap(FeatureExtractor):
    name = "detection_overlap"
    title = "Box overlap"
    description = (
        "For each box, the largest IoU (intersection over union) with another box in the same image: with "
        "any box, and with a box of the same class. Many same-class overlaps mean crowded scenes where NMS "
        f"suppresses true objects; a same-class IoU >= {DUPLICATE_IOU} usually means one object annotated twice."
    )
    tasks = ("detection",)
    group = "labels"

    def setup(self) -> None:
        n, bins = self.context.n_label_ids, len(IOU_EDGES) - 1
        self.add_state("hist_any", np.zeros(bins, dtype=np.int64), "windows")  # per window of the stream
        self.add_state("hist_same", np.zeros(bins, dtype=np.int64), "windows")
        self.add_state("boxes", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("crowded", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("duplicates", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("overlapping", 0, "sum")
        self.add_state("duplicate_images", 0, "sum")
        self.add_state("duplicate_ids", [], "smallest", cap=MAX_IDS)

    def update(self, batch: DetectionBatch, split: str) -> None:
        windows = self.stream_windows(batch, split)
        if len(batch.boxes) == 0:
            return
        order = np.argsort(batch.box_image, kind="stable")
        boxes, cls, image = batch.boxes[order], batch.box_classes[order], batch.box_image[order]
        best_any, best_same = max_iou(boxes, cls, image)
        n_ids = self.context.n_label_ids
        st = self.state(split)
        add_counts(st.hist_any, windows[image], iou_bin(best_any))
        add_counts(st.hist_same, windows[image], iou_bin(best_same))
        st.boxes += np.bincount(cls, minlength=n_ids)
        st.crowded += np.bincount(cls[best_same >= CROWD_IOU], minlength=n_ids)
        dup = best_same >= threshold(self.context, DUPLICATE_BOX_IOU)
        st.overlapping += int((best_any > 0).sum())
        if dup.any():
            st.duplicates += np.bincount(cls[dup], minlength=n_ids)
            ids = np.asarray(batch.sample_ids)[np.unique(image[dup])].tolist()
            st.duplicate_images += len(ids)
            st.duplicate_ids = keep_smallest(st.duplicate_ids, [(i, i) for i in ids], MAX_IDS)

    def compute(self):
        res = self.new_result()
        ids, splits = list(self.context.class_ids), self.splits
        for key, attr, title in (("max_iou_any", "hist_any", "Largest IoU with another box (any class)"),
                                 ("max_iou_same_class", "hist_same", "Largest IoU with another box of the same class")):
            res.histograms.append(Histogram(
                key=key, title=title, x_label="largest IoU of the box (0 = overlaps nothing)", y_label="share of boxes",
                bin_edges=IOU_EDGES.copy(), **self.stream_histogram(splits, lambda st, attr=attr: getattr(st, attr)),
            ))
        rows = []
        for cid, name in zip(ids, self.context.names):
            row = [cid, name]
            for s in splits:
                st = self.state(s)
                k = int(st.boxes[cid])
                row += [k, float(st.crowded[cid] / k) if k else None, int(st.duplicates[cid])]
            rows.append(row)
        cols = ["id", "class"] + [f"{c} ({s})" for s in splits
                                  for c in ("boxes", f"share same-class IoU >= {CROWD_IOU}", "possible duplicates")]
        res.tables.append(Table(key="per_class", title="Overlap per class", columns=cols, rows=rows))
        for s in splits:
            st = self.state(s)
            total = int(st.boxes[ids].sum())
            values = {
                "share_boxes_overlapping": st.overlapping / total if total else None,
                "share_same_class_iou_ge_0.5": float(st.crowded[ids].sum() / total) if total else None,
                "possible_duplicate_boxes": int(st.duplicates[ids].sum()),
            }
            for key, value in values.items():
                res.scalars.setdefault(key, {})[s] = value
        boxes = {s: int(self.state(s).duplicates[ids].sum()) for s in splits}
        images = {s: int(self.state(s).duplicate_images) for s in splits}  # a finding counts images
        if sum(boxes.values()):
            per_split = ", ".join(f"{s}: {boxes[s]} boxes in {images[s]} images" for s in splits)
            res.findings.append(Finding(
                key="duplicate_boxes", title="Possible duplicate boxes", severity="warning",
                message=f"{sum(boxes.values())} boxes have a box of the same class with IoU >= "
                        f"{threshold(self.context, DUPLICATE_BOX_IOU):g} ({per_split})",
                why=("an object annotated twice teaches the model to predict duplicates that NMS then removes, and "
                     "makes one of them a false negative in evaluation"),
                counts=images, sample_ids={s: [int(i) for i, _ in self.state(s).duplicate_ids] for s in splits},
            ))
        return res
