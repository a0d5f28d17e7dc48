"""Bad data: non-finite pixels, out-of-range label ids, empty masks; images without pixels, pixel values
that contradict their type, label values that are not whole numbers; counted with sample ids."""
from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from data_gradients.batch import ImageBatch
from data_gradients.batch.images import IMAGE_PROBLEMS
from data_gradients.feature_extractors.base import FeatureExtractor, keep_smallest
from data_gradients.feature_extractors.registry import register_feature
from data_gradients.feature_extractors.stream_windows import add_counts
from data_gradients.results import Finding

MAX_IDS = 20  # sample ids kept per problem and split: the smallest ids, whatever the batching

# problem key -> (scalar name, title, severity, why it matters to a model)
PROBLEMS = {
    "nonfinite": (
        "images_with_nonfinite_pixels", "Images with NaN or infinite pixels", "error",
        "NaN/inf inputs turn activations and the loss into NaN and silently ruin training; "
        "they were set to 0 for this analysis.",
    ),
    "out_of_range": (
        "masks_with_out_of_range_ids", "Masks with out-of-range label ids", "error",
        "label ids that are neither a class nor ignored crash the loss (index out of bounds) or "
        "train on garbage; they were not counted in the label statistics.",
    ),
    "empty": (
        "empty_masks", "Empty masks", "warning",
        "masks with no labelled class pixel teach the model only background (or nothing); many of them "
        "often mean broken label files or a wrong ignore label.",
    ),
}

# the checks of labels, not pixels: the summary counts them under "labels"
LABEL_PROBLEMS = {"out_of_range": "labels", "empty": "labels", "non_integer_labels": "labels"}

# findings only (no scalar: they appear when the data has them). key -> (title, severity, rule and why)
OTHER_PROBLEMS = {
    "unreadable": (
        "Unreadable or empty images", "error",
        "an image without pixels (height or width 0) is a broken file or a crop gone wrong; training code "
        "crashes on it or learns from nothing. These samples and their labels took no part in any statistic.",
    ),
    "sixteen_bit_low": (
        "16-bit images holding 8-bit values?", "warning",
        "16-bit images (uint16 / int16, PIL mode I;16) are scaled by their type, 0..65535 to 0..255 (value // 257), "
        "whatever their values, so every image of a split is read the same way; these have no value above 255, "
        "so they came out nearly black: if they hold 8-bit data, convert them to uint8.",
    ),
    "wide_int_16_bit": (
        "32/64-bit integer images read as 16-bit", "info",
        "integer images of 32 or 64 bits (PIL mode I) carry no pixel scale: each one whose values all stay within "
        "0..255 is read as 8-bit, each one with a larger value as 16-bit (0..65535 scaled to 0..255, value // 257). "
        "Pass uint8 or uint16 images to have them read by their type.",
    ),
    "float_0_255": (
        "Float images with values above 1", "warning",
        "float images are read as 0..1 (scaled by 255); each image with a value above 1 was read as 0..255 instead "
        "(image by image, never by its neighbours' values). A dark 0..255 image whose values stay below 1 cannot be "
        "told from a 0..1 one: pass float images in one range, or uint8.",
    ),
    "negative": (
        "Images with negative values", "warning",
        "negative values were clipped to 0 (normalised tensors?): brightness and colour statistics of these images "
        "are not those of the pictures; pass the images before normalisation.",
    ),
    "above_range": (
        "Images with values above their type's range", "warning",
        "float values above 255 and integer values above 65535 were clipped (saturated) to white.",
    ),
    "non_integer_labels": (
        "Label values that are not whole numbers", "warning",
        "class ids and mask values must be whole numbers; these were rounded to the nearest integer, halves to even "
        "(2.5 -> 2). Fractional mask values usually come from a mask resized with bilinear or bicubic "
        "interpolation (resize masks with nearest-neighbour); the rounded class may not be the one meant.",
    ),
}


@register_feature
class DataQuality(FeatureExtractor):
    name = "data_quality"
    title = "Data quality"
    description = (
        "Counts of samples with bad data: images with NaN or infinite pixels, segmentation masks with label "
        "ids outside the classes and ignore labels, and masks with no labelled pixel; images without pixels, "
        "pixel values that contradict the image's type and label values that are not whole numbers, when "
        "found. Each problem lists the first sample ids so they can be inspected."
    )
    tasks = ("segmentation", "detection", "classification")
    group = "quality"
    reads_unreadable = True

    def setup(self) -> None:
        self.add_state("images", 0, "sum")
        self.add_state("masks", 0, "sum")
        for key in PROBLEMS:  # per window of the stream: a headline number along it
            self.add_state(f"{key}_samples", 0, "windows")
            self.add_state(f"{key}_ids", [], "smallest", cap=MAX_IDS)
        self.add_state("nonfinite_pixels", 0, "sum")
        self.add_state("out_of_range_pixels", 0, "sum")
        for key in OTHER_PROBLEMS:
            self.add_state(f"{key}_samples", 0, "sum")
            self.add_state(f"{key}_ids", [], "smallest", cap=MAX_IDS)
        self.add_state("non_integer_values", 0, "sum")

    def update(self, batch: ImageBatch, split: str) -> None:
        st = self.state(split)
        st.images += len(batch)
        if getattr(batch, "unreadable", False):  # only counted: no pixel, no label was read
            self._count(st, "unreadable", batch, np.ones(len(batch), dtype=bool))
            return
        windows = self.stream_windows(batch, split)
        problems = getattr(batch, "image_problems", None)
        if problems is not None:
            for col in np.flatnonzero(problems.any(axis=0)).tolist():
                self._count(st, IMAGE_PROBLEMS[col], batch, problems[:, col], windows)
        fractional = getattr(batch, "non_integer_labels", None)
        if fractional is not None:
            self._count(st, "non_integer_labels", batch, np.asarray(fractional) > 0, windows)
            st.non_integer_values += int(np.sum(fractional))
        self._count(st, "nonfinite", batch, np.asarray(batch.nonfinite_pixels) > 0, windows)
        st.nonfinite_pixels += int(np.sum(batch.nonfinite_pixels))
        if not hasattr(batch, "mask_shape"):  # image-only task
            return
        st.masks += len(batch)
        # a mask without a counted pixel is empty (the view's pixels per image and class, shared with the
        # segmentation features); read first: out-of-range labels are then counted from the view's runs
        empty = batch.view.counted_pixels() == 0
        self._count(st, "out_of_range", batch, np.asarray(batch.out_of_range_pixels) > 0, windows)
        st.out_of_range_pixels += int(np.sum(batch.out_of_range_pixels))
        self._count(st, "empty", batch, empty, windows)

    @staticmethod
    def _count(st, key: str, batch: ImageBatch, bad: np.ndarray, windows: Optional[np.ndarray] = None) -> None:
        if not bad.any():
            return
        ids = np.asarray(batch.sample_ids)[bad].tolist()
        if key in PROBLEMS:  # counted per window of the stream
            add_counts(getattr(st, f"{key}_samples"), windows[bad])
        else:
            setattr(st, f"{key}_samples", getattr(st, f"{key}_samples") + len(ids))
        # (key, payload) = (sample id, sample id): keeps the smallest ids, independent of merge order
        setattr(st, f"{key}_ids", keep_smallest(getattr(st, f"{key}_ids"), [(i, i) for i in ids], MAX_IDS))

    def compute(self):
        res = self.new_result()
        splits = self.splits
        with_masks = self.context.task == "segmentation" or any(self.state(s).masks for s in splits)
        keys = list(PROBLEMS) if with_masks else ["nonfinite"]
        for key in keys:
            scalar, title, severity, why = PROBLEMS[key]
            counts: Dict[str, int] = {s: int(getattr(self.state(s), f"{key}_samples").sum()) for s in splits}
            for s in splits:
                res.scalars.setdefault(scalar, {})[s] = counts[s]
            res.series.append(self.headline_series(splits, scalar, f"{title}, among the images read so far", "images",
                                                   lambda st, key=key: getattr(st, f"{key}_samples")))
            if key != "empty":
                pixels = f"{key}_pixels"
                for s in splits:
                    res.scalars.setdefault(pixels, {})[s] = int(getattr(self.state(s), pixels))
            if sum(counts.values()) == 0:
                continue
            ids: Dict[str, List[int]] = {s: [int(i) for i, _ in getattr(self.state(s), f"{key}_ids")] for s in splits}
            res.findings.append(Finding(
                key=key, title=title, message=self._message(key, counts), why=why,
                counts=counts, sample_ids=ids, severity=severity, area=LABEL_PROBLEMS.get(key),
            ))
        for key, (title, severity, why) in OTHER_PROBLEMS.items():
            counts = {s: int(getattr(self.state(s), f"{key}_samples")) for s in splits}
            if sum(counts.values()) == 0:
                continue
            ids = {s: [int(i) for i, _ in getattr(self.state(s), f"{key}_ids")] for s in splits}
            res.findings.append(Finding(key=key, title=title, message=self._other_message(key, counts), why=why,
                                        counts=counts, sample_ids=ids, severity=severity, area=LABEL_PROBLEMS.get(key)))
        return res

    def _other_message(self, key: str, counts: Dict[str, int]) -> str:
        per_split = ", ".join(f"{s}: {n} of {int(self.state(s).images)}" for s, n in counts.items())
        total = sum(counts.values())
        if key == "unreadable":
            return f"{total} images have no pixel (height or width 0) and were left out of every statistic ({per_split})"
        if key == "non_integer_labels":
            values = sum(int(self.state(s).non_integer_values) for s in counts)
            return (f"{total} samples hold {values} label values that are not whole numbers, rounded to the nearest "
                    f"integer, halves to even ({per_split})")
        return f"{total} images: {OTHER_PROBLEMS[key][0].lower()} ({per_split})"

    def _message(self, key: str, counts: Dict[str, int]) -> str:
        per_split = ", ".join(f"{s}: {n} of {self._total(s, key)}" for s, n in counts.items())
        if key == "nonfinite":
            pixels = sum(int(self.state(s).nonfinite_pixels) for s in counts)
            return f"{sum(counts.values())} images contain {pixels} NaN/inf values ({per_split})"
        if key == "out_of_range":
            pixels = sum(int(self.state(s).out_of_range_pixels) for s in counts)
            return f"{sum(counts.values())} masks contain {pixels} pixels with out-of-range label ids ({per_split})"
        return f"{sum(counts.values())} masks have no labelled class pixel ({per_split})"

    def _total(self, split: str, key: str) -> int:
        st = self.state(split)
        return int(st.images if key == "nonfinite" else st.masks)
