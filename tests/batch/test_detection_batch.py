"""The detection builder: label layouts, box formats, inference, bad boxes, image groups."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst

from data_gradients.batch import DetectionBatch, DetectionBatchBuilder
from data_gradients.batch.detection import BOX_PROBLEMS
from data_gradients.errors import BatchFormatError, ConfigurationError

H, W = 60, 80
# class, x1, y1, x2, y2 in pixels; image 1 has no box
BOXES = [
    [[0, 10, 5, 30, 25], [2, 40, 20, 80, 60], [1, 0, 0, 12, 8]],
    [],
    [[1, 5, 5, 75, 55]],
]


def builder(**kw) -> DetectionBatchBuilder:
    kw.setdefault("bbox_format", "xyxy")
    kw.setdefault("normalized_boxes", False)
    ignore = kw.pop("ignore", ())
    return DetectionBatchBuilder(3, [c for c in range(3) if c not in ignore], ignore, **kw)


def images(n=3, h=H, w=W):
    return torch.zeros((n, 3, h, w), dtype=torch.uint8)


def build_one(labels, imgs=None, **kw) -> DetectionBatch:
    out = builder(**kw).build(images() if imgs is None else imgs, labels, first_sample_id=0)
    assert len(out) == 1
    return out[0]


def canonical(b: DetectionBatch):
    return b.boxes.tolist(), b.box_classes.tolist(), b.box_image.tolist(), b.boxes_per_image.tolist()


EXPECTED = (
    [[10, 5, 30, 25], [40, 20, 80, 60], [0, 0, 12, 8], [5, 5, 75, 55]],
    [0, 2, 1, 1],
    [0, 0, 0, 2],
    [3, 0, 1],
)


def rows(per_image, fmt="xyxy", normalized=False, label_first=True):
    """The reference boxes rewritten in another format / scale / column order."""
    out = []
    for r in per_image:
        a = np.asarray(r, dtype=np.float64).reshape(-1, 5)
        c, x1, y1, x2, y2 = a.T
        if fmt == "xywh":
            coords = np.stack([x1, y1, x2 - x1, y2 - y1], 1)
        elif fmt == "cxcywh":
            coords = np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], 1)
        else:
            coords = np.stack([x1, y1, x2, y2], 1)
        if normalized:
            coords = coords / np.array([W, H, W, H])
        out.append(np.column_stack([c, coords]) if label_first else np.column_stack([coords, c]))
    return out


def padded(per_image, max_boxes=5, pad="zero"):
    out = np.zeros((len(per_image), max_boxes, 5))
    for i, r in enumerate(per_image):
        out[i, :len(r)] = r
        if pad == "minus_one":
            out[i, len(r):, 0] = -1
            out[i, len(r):, 1:] = 7.0  # coordinates of padding rows do not matter
    return torch.from_numpy(out)


# ------------------------------------------------------------------ layouts
@pytest.mark.parametrize("layout", ["tensors", "arrays", "python", "padded_zero", "padded_minus_one", "dicts",
                                    "batch_dict_lists", "batch_dict_padded"])
def test_every_layout_gives_the_same_boxes(layout):
    per_image = rows(BOXES)
    labels = {
        "tensors": [torch.from_numpy(r).float() for r in per_image],
        "arrays": per_image,
        "python": [r.tolist() for r in per_image],
        "padded_zero": padded(per_image),
        "padded_minus_one": padded(per_image, pad="minus_one"),
        "dicts": [{"boxes": torch.from_numpy(r[:, 1:]), "labels": torch.from_numpy(r[:, 0]).long()} for r in per_image],
        "batch_dict_lists": {"boxes": [r[:, 1:] for r in per_image], "labels": [r[:, 0] for r in per_image]},
        "batch_dict_padded": {"boxes": padded(per_image)[..., 1:], "labels": padded(per_image, pad="minus_one")[..., 0]},
    }[layout]
    assert canonical(build_one(labels)) == EXPECTED


def test_class_last_column():
    b = build_one([torch.from_numpy(r) for r in rows(BOXES, label_first=False)], label_first=False)
    assert canonical(b) == EXPECTED


def test_single_image_batch_takes_a_2d_array():
    b = build_one(np.array(BOXES[0], dtype=np.float32), imgs=images(1))
    assert b.boxes.tolist() == EXPECTED[0][:3] and b.boxes_per_image.tolist() == [3]


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
@pytest.mark.parametrize("normalized", [False, True])
def test_every_format_and_scale_gives_the_same_boxes(fmt, normalized):
    b = build_one(rows(BOXES, fmt, normalized), bbox_format=fmt, normalized_boxes=normalized)
    got = canonical(b)
    assert np.allclose(got[0], EXPECTED[0]) and got[1:] == EXPECTED[1:]


@settings(max_examples=40, deadline=None)
@given(hst.lists(hst.tuples(hst.integers(0, 2), hst.floats(0, W - 2), hst.floats(0, H - 2), hst.floats(1, 40),
                            hst.floats(1, 40)), min_size=0, max_size=12),
       hst.sampled_from(["xyxy", "xywh", "cxcywh"]), hst.booleans(), hst.booleans())
def test_format_layout_and_scale_round_trip(boxes, fmt, normalized, label_first):
    ref = [[[c, x, y, min(x + w, W), min(y + h, H)] for c, x, y, w, h in boxes]]
    want = build_one(np.asarray(ref[0]).reshape(-1, 5), imgs=images(1))
    got = build_one(rows(ref, fmt, normalized, label_first)[0], imgs=images(1), bbox_format=fmt,
                    normalized_boxes=normalized, label_first=label_first)
    assert np.allclose(got.boxes, want.boxes, atol=1e-9)
    assert got.box_classes.tolist() == want.box_classes.tolist()
    assert got.box_problems.tolist() == want.box_problems.tolist()


# ---------------------------------------------------------------- inference
def many_boxes(seed=0, n=40):
    """Boxes spread over the whole image, some touching the borders: formats tell apart."""
    rng = np.random.default_rng(seed)
    x1, y1 = rng.uniform(0, W - 10, n), rng.uniform(0, H - 10, n)
    x2, y2 = np.minimum(x1 + rng.uniform(5, 40, n), W), np.minimum(y1 + rng.uniform(5, 30, n), H)
    x1[:4], x2[4:8] = 0, W
    return [np.column_stack([rng.integers(0, 3, n), x1, y1, x2, y2])]


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
@pytest.mark.parametrize("normalized", [False, True])
def test_format_and_scale_are_inferred_and_noted(fmt, normalized):
    ref = many_boxes()
    b = builder(bbox_format=None, normalized_boxes=None)
    (out,) = b.build(images(1), rows(ref, fmt, normalized), 0)
    assert (b.bbox_format, b.normalized_boxes) == (fmt, normalized)
    assert b.describe() == {"bbox_format": fmt, "bbox_format_inferred": True, "normalized_boxes": normalized,
                            "normalized_boxes_inferred": True, "label_first": True}
    notes = " ".join(sorted(b.notes))
    assert f"boxes read as {fmt!r}" in notes
    assert ("normalised" if normalized else "pixels") in notes
    want = build_one(ref[0], imgs=images(1))
    assert np.allclose(out.boxes, want.boxes)


def test_ambiguous_format_names_the_argument():
    with pytest.raises(ConfigurationError, match="`bbox_format` cannot be inferred.*bbox_format='xyxy'"):
        builder(bbox_format=None).build(images(1), [np.array([[0, 10, 10, 20, 20]])], 0)


def test_ambiguous_scale_names_the_argument():
    with pytest.raises(ConfigurationError, match="`normalized_boxes` cannot be inferred.*normalized_boxes=True"):
        builder(normalized_boxes=None).build(images(1, 8, 8), [np.array([[0, 0.1, 0.2, 1.5, 0.9]])], 0)


def test_coordinates_slightly_above_one_are_normalised_boxes_past_the_border():
    b = builder(normalized_boxes=None)
    (out,) = b.build(images(1), [np.array([[0, 0.5, 0.5, 1.25, 0.75], [1, 0.1, 0.1, 0.2, 0.2]])], 0)
    assert b.normalized_boxes is True and any("passing the image border" in n for n in b.notes)
    assert out.boxes.tolist() == [[40, 30, W, 45], [8, 6, 16, 12]]
    assert out.problem_counts("partly_outside").tolist() == [1]


def test_given_options_are_not_inferred_and_batches_without_boxes_wait():
    b = builder(bbox_format=None, normalized_boxes=None)
    (empty,) = b.build(images(2), [np.zeros((0, 5)), []], 0)
    assert b.bbox_format is None and empty.boxes.shape == (0, 4) and empty.boxes_per_image.tolist() == [0, 0]
    b.build(images(1), rows(many_boxes()), 2)
    assert b.bbox_format == "xyxy"
    fixed = builder()
    fixed.build(images(1), rows(many_boxes()), 0)
    assert fixed.notes == set() and fixed.describe()["bbox_format_inferred"] is False


def test_class_column_on_the_wrong_side_is_refused():
    ref = rows(many_boxes(), label_first=False)
    ref[0][:, :4] += 0.37  # fractional coordinates in what label_first=True reads as the class
    with pytest.raises(ConfigurationError, match="pass label_first=False"):
        builder().build(images(1), ref, 0)


# ---------------------------------------------------------------- bad boxes
def test_bad_boxes_are_counted_per_kind_and_excluded():
    nan, inf = float("nan"), float("inf")
    labels = [np.array([
        [0, nan, 1, 5, 5],  # nonfinite
        [0, 1, 1, inf, 5],  # nonfinite
        [5, 1, 1, 5, 5],  # class out of range
        [-2, 1, 1, 5, 5],  # class out of range
        [1.5, 1, 1, 5, 5],  # fractional class: out of range
        [1, 5, 5, 5, 9],  # zero width
        [1, 9, 9, 5, 12],  # negative width
        [2, W, 0, W + 9, 9],  # entirely outside (touches the right border from outside)
        [2, -20, -20, -1, -1],  # entirely outside
        [2, -5, 50, 10, H + 7],  # partly outside: clipped, kept
        [0, 1, 1, 5, 5],  # fine
    ])]
    b = build_one(labels, imgs=images(1))
    assert dict(zip(BOX_PROBLEMS, b.box_problems[0].tolist())) == {
        "nonfinite": 2, "class_out_of_range": 3, "degenerate": 2, "fully_outside": 2, "partly_outside": 1}
    assert b.problem_counts("degenerate").tolist() == [2]
    assert b.boxes.tolist() == [[0, 50, 10, H], [1, 1, 5, 5]]
    assert b.box_classes.tolist() == [2, 0] and b.boxes_per_image.tolist() == [2]
    assert b.box_widths.tolist() == [10, 4] and b.box_heights.tolist() == [10, 4]


def test_ignored_classes_are_dropped_without_a_trace():
    labels = [np.array([[1, 1, 1, 5, 5], [1, float("nan"), 1, 5, 5], [0, 1, 1, 5, 5]])]
    b = build_one(labels, imgs=images(1), ignore=(1,))
    assert b.box_classes.tolist() == [0] and b.box_problems.sum() == 0


def test_images_of_different_sizes_become_separate_batches():
    imgs = [torch.zeros(3, 20, 30), torch.zeros(3, 40, 40), torch.zeros(3, 20, 30)]
    labels = [np.array([[0, 1, 1, 5, 5]]), np.array([[1, 2, 2, 39, 39], [2, 0, 0, 50, 10]]), np.zeros((0, 5))]
    small, big = builder().build(imgs, labels, first_sample_id=10)
    assert small.sample_ids.tolist() == [10, 12] and big.sample_ids.tolist() == [11]
    assert small.boxes.tolist() == [[1, 1, 5, 5]] and small.box_image.tolist() == [0]
    assert small.boxes_per_image.tolist() == [1, 0] and small.images.shape == (2, 3, 20, 30)
    assert big.boxes.tolist() == [[2, 2, 39, 39], [0, 0, 40, 10]] and big.box_image.tolist() == [0, 0]
    assert big.problem_counts("partly_outside").tolist() == [1]


# ------------------------------------------------------------------- errors
@pytest.mark.parametrize("labels, message", [
    ([np.zeros((2, 4)), np.zeros((0, 5)), np.zeros((0, 5))], r"`labels\[0\]` must have shape \(n, 5\).*got shape \(2, 4\)"),
    (np.zeros((3, 4)), r"a 2-D label array \(n, 5\) fits a batch of one image|detection labels must be"),
    (np.zeros((3, 2, 4)), r"padded detection labels must have shape \(N, max_boxes, 5\), got shape \(3, 2, 4\)"),
    ([{"boxes": np.zeros((2, 4)), "labels": np.zeros(3)}] * 3, r"'boxes' \(n, 4\) and 'labels' \(n,\) of the same n"),
    ([{"bbox": np.zeros((2, 4))}] * 3, r"needs one of the keys \['boxes', 'bboxes'\]"),
    ("boxes", "detection labels must be a list"),
])
def test_unreadable_labels_say_what_arrived(labels, message):
    with pytest.raises(BatchFormatError, match=message):
        builder().build(images(), labels, 0)


def test_batch_size_mismatch():
    with pytest.raises(BatchFormatError, match="3 images .* labels for 2 images"):
        builder().build(images(), [np.zeros((0, 5))] * 2, 0)


@pytest.mark.parametrize("kw, message", [
    ({"bbox_format": "xyzz"}, "`bbox_format` must be one of ['xyxy', 'xywh', 'cxcywh'] or None (infer), got 'xyzz'"),
    ({"normalized_boxes": 1}, "`normalized_boxes` must be True, False or None (infer), got 1"),
    ({"label_first": "yes"}, "`label_first` must be True (class in column 0) or False (column 4), got 'yes'"),
])
def test_bad_options_are_refused_up_front(kw, message):
    with pytest.raises(ConfigurationError) as e:
        builder(**kw)
    assert message in str(e.value)


def test_class_counts_are_built_once_per_batch_and_follow_replaced_boxes():
    b = build_one([torch.tensor(x, dtype=torch.float32).reshape(-1, 5) for x in BOXES])
    counts = b.class_counts(3)
    assert counts.tolist() == [[1, 1, 1], [0, 0, 0], [0, 1, 0]]
    assert b.class_counts(3) is counts and not counts.flags.writeable
    assert b.class_counts(4).tolist() == [[1, 1, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0]]
    b.box_classes = np.array([2, 2, 2, 0])
    assert b.class_counts(3).tolist() == [[0, 0, 3], [0, 0, 0], [1, 0, 0]]


def reference_problems(counted_ids: np.ndarray, xyxy: np.ndarray, classes: np.ndarray, w: int, h: int):
    """The first implementation of the problem codes (np.select over the kinds in order)."""
    eps = 1e-3
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(xyxy).all(axis=1)
        whole = np.isfinite(classes) & (classes == np.rint(classes))
        class_ids = np.where(whole, classes, -1).astype(np.int64)
        n_ids = len(counted_ids)
        counted = (class_ids >= 0) & (class_ids < n_ids) & counted_ids[np.clip(class_ids, 0, max(n_ids - 1, 0))]
        x1, y1, x2, y2 = xyxy.T
        degenerate = (x2 <= x1) | (y2 <= y1)
        fully = (x2 <= 0) | (y2 <= 0) | (x1 >= w) | (y1 >= h)
        partly = (x1 < -eps) | (y1 < -eps) | (x2 > w + eps) | (y2 > h + eps)
    problem = np.select([~finite, ~counted, degenerate, fully, partly], [0, 1, 2, 3, 4], default=-1)
    return problem.astype(np.int64), class_ids


@pytest.mark.parametrize("seed", range(5))
def test_problem_codes_are_the_same_as_with_the_reference(seed):
    rng = np.random.default_rng(seed)
    m = 400
    xyxy = rng.choice([-20.0, -1e-4, 0.0, 0.5, 10.0, 39.9, 40.0, 40.0005, 55.0, 80.0, 81.0, np.nan, np.inf], size=(m, 4))
    classes = rng.choice([0.0, 1.0, 2.0, 2.5, 3.0, 4.0, -1.0, np.nan, np.inf, 1e6], size=m)
    xyxy[:5], classes[:5] = [0.5, 0.5, 10.0, 10.0], 4.0  # a few good boxes
    b = DetectionBatchBuilder(5, [0, 2, 4], [1], bbox_format="xyxy", normalized_boxes=False)
    got = b._problems(xyxy, classes, W, 40)
    want = reference_problems(b._counted, xyxy, classes, W, 40)
    assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    assert set(got[0].tolist()) == {-1, 0, 1, 2, 3, 4}


def test_zero_size_images_are_an_unreadable_batch_without_boxes():
    items = [torch.zeros(3, H, W, dtype=torch.uint8), torch.zeros(3, H, 0, dtype=torch.uint8)]
    labels = [torch.tensor([[0, 1., 1, 9, 9]]), torch.tensor([[1, 1., 1, 9, 9], [2, 2., 2, 5, 5]])]
    ok, empty = builder().build(items, labels, first_sample_id=3)
    assert ok.boxes_per_image.tolist() == [1] and ok.sample_ids.tolist() == [3]
    assert empty.unreadable and empty.sample_ids.tolist() == [4] and len(empty.boxes) == 0
    assert empty.boxes_per_image.tolist() == [0] and empty.box_problems.tolist() == [[0] * len(BOX_PROBLEMS)]


def test_an_image_without_pixels_does_not_decide_the_inferred_scale():
    b = builder(normalized_boxes=None)
    items = [torch.zeros(3, 0, 5, dtype=torch.uint8), torch.zeros(3, H, W, dtype=torch.uint8)]
    b.build(items, [torch.tensor([[0, 0.2, 0.2, 1.5, 1.5]]), torch.tensor([[0, 0.1, 0.1, 1.5, 1.9]])], first_sample_id=0)
    assert b.normalized_boxes is True  # as pixels, the boxes would lie in the top-left 2 x 2 pixels of a 60 x 80 image
