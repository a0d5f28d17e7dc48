"""Erosion sensitivity per class: share of objects that vanish under a 3x3 erosion (segmentation).

An object is an 8-connected component of one class; it vanishes when no pixel of it has
all 8 neighbours in the class, i.e. it is nowhere thicker than 2 pixels (a thin line, a
tiny speck, a 2-px border strip). Pixels outside the image count as background, so the
image edge erodes like any other boundary. Such objects disappear with one pooling step
or a 2x downscale and are what a segmentation model misses first.

Speed: components and their survival come from the batch's shared view
(:mod:`data_gradients.batch.segmentation_view`): a run survives when the runs of its
class above and below cover some column x with x-1..x+1; a component survives when one
of its runs does. No pixel pass of its own, no loop over classes or objects.
"""
from __future__ import annotations

from typing import List

import numpy as np

from data_gradients.batch import SegmentationBatch
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Finding, Histogram, Table
from data_gradients.thresholds import declare, threshold

FLAG_SHARE = 0.5  # a class with at least this share of vanishing objects is flagged...
FLAG_MIN_OBJECTS = 10  # ... when it has at least this many objects in the split
THIN_SHARE = declare("thin_class_share", FLAG_SHARE, "share of a class's objects in a split that vanish under a 3x3 "
                     "erosion at or above which the class is flagged as made of thin or tiny objects", minimum=0, maximum=1)
THIN_MIN_OBJECTS = declare("thin_class_min_objects", FLAG_MIN_OBJECTS, "objects a class must have in a split before "
                           "its share of vanishing objects is compared with thin_class_share", minimum=0)


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
        view = batch.view
        comp, survives = view.components, view.component_survives
        st = self.state(split)
        st.components += np.bincount(comp["cls"], minlength=n_ids)[:n_ids]
        st.vanished += np.bincount(comp["cls"][~survives], minlength=n_ids)[:n_ids]
        present = view.class_pixels(n_ids) > 0
        # image i keeps something of class c: one of its components of class c survives
        kept = np.zeros((len(batch), n_ids), dtype=bool)
        kept[comp["image"][survives], comp["cls"][survives]] = True
        st.images_with += present.sum(axis=0)
        st.images_all_vanish += (present & ~kept).sum(axis=0)

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
        share, min_objects = threshold(self.context, THIN_SHARE), threshold(self.context, THIN_MIN_OBJECTS)
        for s in splits:
            st = self.state(s)
            hits = [f"{name} ({int(st.vanished[c])} of {int(st.components[c])})" for c, name in zip(ids, names)
                    if st.components[c] >= min_objects and st.vanished[c] >= share * st.components[c]]
            if hits:
                counts[s] = len(hits)
                parts.append(f"{s}: {', '.join(hits)}")
        if not counts:
            return []
        return [Finding(
            key="thin_classes", title="Classes made mostly of thin or tiny objects", severity="warning",
            message=f"at least {share:.0%} of the objects vanish under a 3x3 erosion: " + "; ".join(parts),
            why="objects at most 2 px thick disappear at reduced resolution; the model will miss them unless "
                "trained and evaluated at full resolution or with thicker labels",
            counts=counts,
        )]
