"""Bad boxes (non-finite, wrong class, no area, outside the image) and background images, with sample ids."""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from data_gradients.batch import DetectionBatch
from data_gradients.batch.detection import BOX_PROBLEMS, SCALE_MISMATCHES
from data_gradients.feature_extractors.base import FeatureExtractor, keep_smallest
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.results import Finding

MAX_IDS = 20  # sample ids kept per problem and split: the smallest ids, whatever the batching
_FORMAT_HINT = "many of them usually mean a wrong `bbox_format`, `normalized_boxes` or `label_first`"

# problem key -> (title, severity, what was done and why it matters)
PROBLEMS = {
    "nonfinite": ("Boxes with NaN or infinite coordinates", "error",
                  "NaN/inf coordinates turn the box loss into NaN and silently ruin training; these boxes were "
                  "left out of the statistics."),
    "class_out_of_range": ("Boxes with out-of-range class ids", "error",
                           "class ids outside 0..num_classes-1 (and not ignored), or not whole numbers (1.5: never "
                           "rounded), crash the loss or train on garbage; these boxes were left out of the statistics."),
    "degenerate": ("Boxes with zero or negative width or height", "error",
                   "boxes without area give NaN/inf in IoU and regression losses; they were left out of the "
                   f"statistics; {_FORMAT_HINT}."),
    "fully_outside": ("Boxes entirely outside the image", "error",
                      "a box with no pixel in the image is a target the model cannot see; they were left out of "
                      f"the statistics; {_FORMAT_HINT}."),
    "partly_outside": ("Boxes partly outside the image", "warning",
                       "they were clipped to the image for the statistics (training pipelines usually clip too); "
                       f"a few are common, {_FORMAT_HINT}."),
    "looks_normalised": ("Boxes that look normalised though read as pixels", "warning",
                         "every coordinate of these images' boxes is within 0..1, so as pixels each box lies in the "
                         "image's top-left pixel and the box sizes and positions are meaningless; pass "
                         "normalized_boxes=True if the coordinates are fractions of the image width and height."),
    "looks_pixels": ("Boxes that look like pixels though read as normalised", "warning",
                     "a coordinate of these images' boxes is above 2, so as fractions of the image size the boxes "
                     "reach far outside it (counted as outside the image above); pass normalized_boxes=False if "
                     "the coordinates are pixels."),
    "no_boxes": ("Images without boxes", "info",
                 "background images are valid and help against false positives; a large share, or a share "
                 "that differs between splits, deserves a look (missing label files?)."),
}


@register_feature
class DetectionBoxQuality(FeatureExtractor):
    name = "detection_box_quality"
    title = "Box quality"
    description = (
        "Counts of bad boxes, by kind: non-finite coordinates, class ids out of range, zero or negative size, "
        "entirely outside the image (all left out of the other statistics) and partly outside the image "
        "(clipped and kept); plus images without any valid box. Each lists the first sample ids."
    )
    tasks = ("detection",)
    group = "quality"

    def setup(self) -> None:
        self.add_state("images", 0, "sum")
        self.add_state("valid_boxes", 0, "sum")
        for key in PROBLEMS:
            self.add_state(f"{key}_count", 0, "sum")  # boxes (images for no_boxes)
            self.add_state(f"{key}_images", 0, "sum")
            self.add_state(f"{key}_ids", [], "smallest", cap=MAX_IDS)

    def update(self, batch: DetectionBatch, split: str) -> None:
        st = self.state(split)
        st.images += len(batch)
        st.valid_boxes += int(np.sum(batch.boxes_per_image))
        mismatch = getattr(batch, "box_scale_mismatch", None)
        mismatch = np.zeros(len(batch), dtype=np.int8) if mismatch is None else np.asarray(mismatch)
        per_image = np.column_stack([batch.box_problems, mismatch == 1, mismatch == 2,
                                     np.asarray(batch.boxes_per_image) == 0]).astype(np.int64)
        keys = (*BOX_PROBLEMS, *SCALE_MISMATCHES, "no_boxes")
        for col in np.flatnonzero(per_image.any(axis=0)).tolist():  # only the kinds this batch has
            key, counts = keys[col], per_image[:, col]
            ids = np.asarray(batch.sample_ids)[counts > 0].tolist()
            setattr(st, f"{key}_count", getattr(st, f"{key}_count") + int(counts.sum()))
            setattr(st, f"{key}_images", getattr(st, f"{key}_images") + len(ids))
            setattr(st, f"{key}_ids", keep_smallest(getattr(st, f"{key}_ids"), [(i, i) for i in ids], MAX_IDS))

    def compute(self):
        res = self.new_result()
        splits = self.splits
        for s in splits:
            st = self.state(s)
            res.scalars.setdefault("valid_boxes", {})[s] = int(st.valid_boxes)
            for key in BOX_PROBLEMS:
                res.scalars.setdefault(f"{key}_boxes", {})[s] = int(getattr(st, f"{key}_count"))
            res.scalars.setdefault("images_without_boxes", {})[s] = int(st.no_boxes_count)
        for key, (title, severity, why) in PROBLEMS.items():
            # a finding counts images (its sample ids are images); the message gives the boxes
            images: Dict[str, int] = {s: int(getattr(self.state(s), f"{key}_images")) for s in splits}
            if sum(images.values()) == 0:
                continue
            ids: Dict[str, List[int]] = {s: [int(i) for i, _ in getattr(self.state(s), f"{key}_ids")] for s in splits}
            res.findings.append(Finding(key=key, title=title, message=self._message(key, splits), why=why, area="labels",
                                        counts=images, sample_ids=ids, severity=severity))
        return res

    def _message(self, key: str, splits) -> str:
        images = {s: int(getattr(self.state(s), f"{key}_images")) for s in splits}
        per_split = ", ".join(f"{s}: {n} of {int(self.state(s).images)}" for s, n in images.items())
        if key == "no_boxes":
            return f"{sum(images.values())} images have no valid box ({per_split})"
        if key in SCALE_MISMATCHES:
            return f"{sum(images.values())} images: {PROBLEMS[key][0].lower()} ({per_split})"
        boxes = {s: int(getattr(self.state(s), f"{key}_count")) for s in splits}
        per_split = ", ".join(f"{s}: {boxes[s]} boxes in {images[s]} images" for s in splits)
        return f"{sum(boxes.values())} boxes {PROBLEMS[key][0].split(' ', 1)[1]} ({per_split})"
