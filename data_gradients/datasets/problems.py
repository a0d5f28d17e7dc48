"""The kinds of bad files the readers find, and what each means for a model."""
from __future__ import annotations

# kind -> (title, severity, why it matters and what the reader did)
PROBLEM_KINDS = {
    "missing_label": (
        "Images without a label file", "warning",
        "an image with no annotation is either a background image or a lost label file; YOLO reads it as an image "
        "without objects (its convention, the sample is analysed), the other formats cannot analyse it (no sample).",
    ),
    "orphan_label": (
        "Label files without an image", "warning",
        "an annotation whose image is missing is usually a failed copy or a renamed image; those labels never reach "
        "training. No sample was made of it.",
    ),
    "empty_annotation": (
        "Empty annotation files", "warning",
        "an empty label file is YOLO's way of saying 'no object', elsewhere it is a broken export; the image was "
        "analysed as holding no object (an empty COCO JSON gives no sample at all).",
    ),
    "bad_annotation": (
        "Malformed annotation files or rows", "error",
        "the file or row could not be parsed (not XML / JSON, or a row that is not a class followed by coordinate "
        "pairs); training code crashes on it or skips it silently. It was left out.",
    ),
    "unknown_category": (
        "Annotations of an unknown category", "error",
        "a category id or class name that is not among the dataset's categories indexes outside the model's "
        "classes (a crash, or a silently wrong class). The annotation was left out.",
    ),
    "short_polygon": (
        "Polygons with fewer than 3 points", "warning",
        "a polygon of one or two points has no area: rasterised it is empty or a line. It was left out; the rest of "
        "the sample was analysed.",
    ),
}

#: rows per kind and split in the report's table of bad files (the counts are complete)
MAX_LISTED = 50
