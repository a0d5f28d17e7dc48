"""Erosion sensitivity per class: share of objects that vanish under a 3x3 erosion (segmentation).

An object is an 8-connected component of one class; it vanishes when no pixel of it has
all 8 neighbours in the class, i.e. it is nowhere thicker than 2 pixels (a thin line, a
tiny speck, a 2-px border strip). Pixels outside the image count as background, so the
image edge erodes like any other boundary. Such objects disappear with one pooling step
or a 2x downscale and are what a segmentation model misses first.

Speed: per class, the tile of the images containing it (see :mod:`class_masks`) gets one
``cv2.connectedComponents`` and one ``cv2.erode`` call; surviving components are read off
the labels under the eroded pixels with numpy. No loop over objects.
"""
from __future__ import annotations

from typing import List

import cv2
import numpy as np

from data_gradients.batch import SegmentationBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.segmentation.class_masks import class_binary, class_tiles
from data_gradients.results import Finding, Histogram, Table

KERNEL = np.ones((3, 3), dtype=np.uint8)
FLAG_SHARE = 0.5  # a class with at least this share of vanishing objects is flagged...
FLAG_MIN_OBJECTS = 10  # ... when it has at least this many objects in the split


def vanishing_components(binary: np.ndarray):
    """(components, vanished components, rows of ``binary`` where something survives) of a
    binary uint8 image; pixels outside it count as background."""
    n_lab, labels = cv2.connectedComponents(binary, connectivity=8, ltype=cv2.CV_32S)
    eroded = cv2.erode(binary, KERNEL, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    kept = eroded.view(bool)
    survives = np.zeros(n_lab, dtype=bool)
    survives[labels[kept]] = True
    return n_lab - 1, int((~survives[1:]).sum()), kept.any(axis=1)


@register_feature
class SegmentationErosion(FeatureExtractor):
    name = "segmentation_erosion"
    title = "Objects lost by a small erosion"
    description = (
        "Share of the objects (8-connected regions of one class) that vanish entirely under a 3x3 erosion: "
        "structures nowhere thicker than 2 pixels. They disappear with one pooling step or a 2x downscale, so "
        "a model at reduced resolution cannot see them; a class made mostly of them needs full resolution, "
        "thicker labels or a loss that does not ignore them."
    )
    tasks = ("segmentation",)
    group = "labels"

    def setup(self) -> None:
        n = self.context.n_label_ids
        self.add_state("components", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("vanished", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("images_with", np.zeros(n, dtype=np.int64), "sum")
        self.add_state("images_all_vanish", np.zeros(n, dtype=np.int64), "sum")

    def update(self, batch: SegmentationBatch, split: str) -> None:
        if len(batch) == 0:
            return
        n_ids = self.context.n_label_ids
        tile, presence = class_tiles(batch, n_ids)
        st = self.state(split)
        for c in np.flatnonzero(presence.any(axis=0)):
            images = np.flatnonzero(presence[:, c])
            binary, image_of_row = class_binary(tile, images, int(c))
            total, vanished, row_survives = vanishing_components(binary)
            st.components[c] += total
            st.vanished[c] += vanished
            st.images_with[c] += len(images)
            st.images_all_vanish[c] += len(images) - len(np.unique(image_of_row[row_survives]))

    def compute(self):
        res = self.new_result()
        ids = list(self.context.class_ids)
        names = self.context.names
        splits = self.splits
        shares = {s: self.state(s).vanished[ids] / np.maximum(self.state(s).components[ids], 1) for s in splits}
        res.histograms.append(Histogram(
            key="vanishing_share", title="Share of objects that vanish under a 3x3 erosion", x_label="class",
            counts=shares, categories=names, y_label="share of the class's objects", normalize=False,
        ))
        res.tables.append(self._class_table(ids, names, splits))
        for s in splits:
            st = self.state(s)
            total = int(st.components[ids].sum())
            res.scalars.setdefault("objects", {})[s] = total
            res.scalars.setdefault("vanishing_objects", {})[s] = int(st.vanished[ids].sum())
            res.scalars.setdefault("share_vanishing", {})[s] = float(st.vanished[ids].sum() / total) if total else None
        res.findings += self._flag(ids, names, splits)
        return res

    def _class_table(self, ids, names, splits) -> Table:
        rows = []
        for cid, name in zip(ids, names):
            row = [cid, name]
            for s in splits:
                st = self.state(s)
                k, v, im = int(st.components[cid]), int(st.vanished[cid]), int(st.images_with[cid])
                row += [k, v, v / k if k else None, int(st.images_all_vanish[cid]) / im if im else None]
            rows.append(row)
        cols = ["id", "class"] + [f"{c} ({s})" for s in splits for c in (
            "objects", "vanishing", "share vanishing", "share of its images where it all vanishes")]
        return Table(key="per_class", title="Objects lost by a 3x3 erosion, per class", columns=cols, rows=rows)

    def _flag(self, ids, names, splits) -> List[Finding]:
        counts, parts = {}, []
        for s in splits:
            st = self.state(s)
            hits = [f"{name} ({int(st.vanished[c])} of {int(st.components[c])})" for c, name in zip(ids, names)
                    if st.components[c] >= FLAG_MIN_OBJECTS and st.vanished[c] >= FLAG_SHARE * st.components[c]]
            if hits:
                counts[s] = len(hits)
                parts.append(f"{s}: {', '.join(hits)}")
        if not counts:
            return []
        return [Finding(
            key="thin_classes", title="Classes made mostly of thin or tiny objects", severity="warning",
            message=f"at least {FLAG_SHARE:.0%} of the objects vanish under a 3x3 erosion: " + "; ".join(parts),
            why="objects at most 2 px thick disappear at reduced resolution; the model will miss them unless "
                "trained and evaluated at full resolution or with thicker labels",
            counts=counts,
        )]
