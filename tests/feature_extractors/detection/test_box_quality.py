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
