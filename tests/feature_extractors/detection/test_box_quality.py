"""Bad boxes are counted per kind with sample ids, and left out of the statistics."""
import numpy as np
from detection_helpers import batch, context

from data_gradients.feature_extractors.detection.box_quality import DetectionBoxQuality

NAN = float("nan")


def test_every_kind_is_counted_with_sample_ids():
    ex = DetectionBoxQuality(context())
    b = batch([
        [[0, NAN, 1, 5, 5], [0, 1, 1, 5, 5]],  # id 20: non-finite
        [[7, 1, 1, 5, 5], [0.5, 1, 1, 5, 5]],  # id 21: class 7 and a fractional class: out of range
        [[1, 5, 5, 5, 9], [1, 6, 6, 4, 9]],  # id 22: zero and negative width
        [[2, 120, 0, 130, 10]],  # id 23: entirely outside (image is 100 x 100)
        [[2, -5, 90, 10, 110]],  # id 24: partly outside: clipped and kept
        [],  # id 25: background image
    ], first_id=20)
    assert b.boxes_per_image.tolist() == [1, 0, 0, 0, 1, 0]
    ex.update(b, "train")
    res = ex.compute()
    s = {k: v["train"] for k, v in res.scalars.items()}
    assert s == {"valid_boxes": 2, "nonfinite_boxes": 1, "class_out_of_range_boxes": 2, "degenerate_boxes": 2,
                 "fully_outside_boxes": 1, "partly_outside_boxes": 1, "images_without_boxes": 4}
    f = {x.key: x for x in res.findings}
    assert f["nonfinite"].sample_ids == {"train": [20]} and f["nonfinite"].severity == "error"
    assert f["class_out_of_range"].counts == {"train": 1} and "2 boxes" in f["class_out_of_range"].message
    assert f["degenerate"].sample_ids == {"train": [22]}
    assert f["fully_outside"].sample_ids == {"train": [23]}
    assert f["partly_outside"].sample_ids == {"train": [24]} and f["partly_outside"].severity == "warning"
    assert f["no_boxes"].sample_ids == {"train": [21, 22, 23, 25]} and f["no_boxes"].severity == "info"


def test_clean_data_has_no_findings_and_ids_are_capped():
    ex = DetectionBoxQuality(context())
    ex.update(batch([[[0, 1, 1, 5, 5]]] * 3), "train")
    assert ex.compute().findings == []
    ex.update(batch([[[0, NAN, 1, 5, 5]]] * 30, first_id=100), "val")
    finding, no_boxes = ex.compute().findings
    assert no_boxes.key == "no_boxes" and no_boxes.counts == {"train": 0, "val": 30}
    assert finding.counts == {"train": 0, "val": 30}
    assert finding.sample_ids["val"] == list(range(100, 120))
    assert np.isclose(ex.compute().scalars["nonfinite_boxes"]["val"], 30)


def test_boxes_that_contradict_their_declared_scale_are_findings_per_image():
    from data_gradients.batch import DetectionBatchBuilder

    def build(normalized, per_image, first_id=0, h=100, w=100):
        b = DetectionBatchBuilder(3, (0, 1, 2), (), bbox_format="xyxy", normalized_boxes=normalized)
        labels = [np.asarray(rows, dtype=np.float64).reshape(-1, 5) for rows in per_image]
        (out,) = b.build(np.zeros((len(per_image), 3, h, w), np.uint8), labels, first_sample_id=first_id)
        return out

    ex = DetectionBoxQuality(context())
    pixels = build(False, [[[0, 0.1, 0.2, 0.5, 0.6]], [[0, 10, 10, 50, 50]], [[1, 0.1, 0.1, 0.3, 0.3], [0, 2, 2, 9, 9]],
                           [], [[0, NAN, 0.1, 0.2, 0.2], [1, 0.5, 0.5, 0.9, 1.0]]], first_id=30)
    assert pixels.box_scale_mismatch.tolist() == [1, 0, 0, 0, 1]
    ex.update(pixels, "train")
    normalised = build(True, [[[0, 0.1, 0.1, 0.4, 0.4]], [[2, 12, 5, 40, 60]]], first_id=40)
    assert normalised.box_scale_mismatch.tolist() == [0, 2]
    ex.update(normalised, "val")
    res = ex.compute()
    f = {x.key: x for x in res.findings}
    assert f["looks_normalised"].sample_ids == {"train": [30, 34], "val": []}
    assert f["looks_normalised"].counts == {"train": 2, "val": 0} and f["looks_normalised"].severity == "warning"
    assert "normalized_boxes=True" in f["looks_normalised"].why
    assert f["looks_pixels"].sample_ids == {"train": [], "val": [41]} and "normalized_boxes=False" in f["looks_pixels"].why
    assert "scale" not in " ".join(res.scalars)  # findings only: the scalars are those of before
    clean = build(False, [[[0, 0.5, 0.5, 0.9, 0.9]]], h=8, w=8)  # a tiny image: sub-pixel boxes are plausible
    assert clean.box_scale_mismatch is None


def test_scale_findings_merge_like_one_extractor():
    from data_gradients.batch import DetectionBatchBuilder

    rows = [[[0, 0.1, 0.2, 0.5, 0.6]], [[0, 10, 10, 50, 50]]] * 3
    b = DetectionBatchBuilder(3, (0, 1, 2), (), bbox_format="xyxy", normalized_boxes=False)
    labels = [np.asarray(r, dtype=np.float64).reshape(-1, 5) for r in rows]
    images = np.zeros((6, 3, 50, 50), np.uint8)
    (whole,) = b.build(images, labels, first_sample_id=0)
    single = DetectionBoxQuality(context())
    single.update(whole, "train")
    parts = [DetectionBoxQuality(context()) for _ in range(2)]
    for ex, lo in zip(parts, (0, 3)):
        (part,) = b.build(images[lo:lo + 3], labels[lo:lo + 3], first_sample_id=lo)
        ex.update(part, "train")
    merged = parts[1].merge(parts[0]).compute()
    assert merged.findings == single.compute().findings
    assert [f.sample_ids["train"] for f in merged.findings if f.key == "looks_normalised"] == [[0, 2, 4]]
