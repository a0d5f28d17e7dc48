"""Every accepted label format yields the same multi-hot matrix; bad batches raise errors naming
what arrived; bad label values are counted, never guessed."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from data_gradients.batch import ClassificationBatch, ClassificationBatchBuilder
from data_gradients.batch.classification import NOTE_SEVERAL_IN_ONE_HOT
from data_gradients.errors import BatchFormatError

N, H, W, C = 4, 6, 8, 5
IDS = np.array([0, 3, 1, 4])


def builder(num_classes=C, ignore=(), multi_label=False):
    ids = (1,) if num_classes == 1 else tuple(i for i in range(num_classes) if i not in ignore)
    return ClassificationBatchBuilder(num_classes, ids, ignore, multi_label=multi_label)


def build_one(images, labels, **kw) -> ClassificationBatch:
    out = builder(**kw).build(images, labels, first_sample_id=10)
    assert len(out) == 1
    return out[0]


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (N, H, W, 3), dtype=np.uint8)


def expected_multi_hot(ids, width=C):
    out = np.zeros((len(ids), width), dtype=bool)
    out[np.arange(len(ids)), ids] = True
    return out


LABEL_FORMATS = {
    "tensor ids": lambda ids: torch.from_numpy(ids),
    "tensor (N, 1) ids": lambda ids: torch.from_numpy(ids)[:, None],
    "list of ints": lambda ids: [int(i) for i in ids],
    "list of 0-d tensors": lambda ids: [torch.tensor(int(i)) for i in ids],
    "float ids": lambda ids: ids.astype(np.float32),
    "one-hot tensor": lambda ids: torch.eye(C)[torch.from_numpy(ids)],
    "one-hot int array": lambda ids: np.eye(C, dtype=np.int64)[ids],
    "soft labels (label smoothing)": lambda ids: np.eye(C)[ids] * 0.9 + 0.1 / C,
}


@pytest.mark.parametrize("fmt", list(LABEL_FORMATS))
def test_label_formats_give_the_same_multi_hot(images, fmt):
    b = build_one(images, LABEL_FORMATS[fmt](IDS))
    assert b.labels.dtype == np.bool_ and b.labels.shape == (N, C)
    np.testing.assert_array_equal(b.labels, expected_multi_hot(IDS))
    np.testing.assert_array_equal(b.out_of_range_labels, [0, 0, 0, 0])
    np.testing.assert_array_equal(b.sample_ids, [10, 11, 12, 13])
    assert not b.multi_label
    np.testing.assert_array_equal(b.images, images.transpose(0, 3, 1, 2))


def test_images_as_pil_list_and_float_tensor(images):
    pil = build_one([Image.fromarray(x) for x in images], IDS)
    flt = build_one(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255, IDS)
    np.testing.assert_array_equal(pil.images, flt.images)
    np.testing.assert_array_equal(pil.labels, flt.labels)


def test_single_image_with_scalar_id_or_one_hot_row(images):
    by_id = build_one(torch.from_numpy(images[0]).permute(2, 0, 1), 3)
    by_row = build_one(images[0], np.eye(C)[3])
    for b in (by_id, by_row):
        assert b.images.shape == (1, 3, H, W)
        np.testing.assert_array_equal(b.labels, expected_multi_hot([3]))


def test_ignored_ids_are_dropped_and_unknown_ids_counted(images):
    labels = np.array([255, 2, 7, -1])
    b = build_one(images, labels, ignore=(255,))
    np.testing.assert_array_equal(b.labels.sum(axis=1), [0, 1, 0, 0])
    assert b.labels[1, 2]
    np.testing.assert_array_equal(b.out_of_range_labels, [0, 0, 1, 1])


def test_an_ignored_class_id_is_not_a_column(images):
    b = build_one(images, IDS, ignore=(3,))
    assert not b.labels[:, 3].any()  # the column exists (indexed by id) but is never set
    np.testing.assert_array_equal(b.labels.sum(axis=1), [1, 0, 1, 1])
    np.testing.assert_array_equal(b.out_of_range_labels, [0, 0, 0, 0])


def test_nan_label_is_out_of_range(images):
    b = build_one(images, np.array([0.0, np.nan, 2.0, 1.0]))
    np.testing.assert_array_equal(b.out_of_range_labels, [0, 1, 0, 0])
    np.testing.assert_array_equal(b.labels.sum(axis=1), [1, 0, 1, 1])


def test_one_hot_rows_without_a_class_are_unlabelled_not_errors(images):
    rows = np.eye(C)[IDS]
    rows[2] = 0
    rows[3, 0] = np.nan
    b = build_one(images, rows)
    np.testing.assert_array_equal(b.labels.sum(axis=1), [1, 1, 0, 0])
    np.testing.assert_array_equal(b.out_of_range_labels, [0, 0, 0, 1])


def test_several_classes_in_a_single_label_row_are_noted(images):
    bld = builder()
    rows = np.eye(C)[IDS]
    rows[0, 4] = 1
    b = bld.build(images, rows, 0)[0]
    assert NOTE_SEVERAL_IN_ONE_HOT in bld.notes
    assert b.labels[0].sum() == 1  # still one class per row in single-label mode


def test_multi_label_rows(images):
    rows = np.array([[1, 0, 0, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [0, 2, 0, -1, 1]])
    b = build_one(images, torch.from_numpy(rows), multi_label=True, ignore=(4,))
    assert b.multi_label
    np.testing.assert_array_equal(b.labels, [[1, 0, 0, 1, 0], [0] * 5, [1, 1, 1, 1, 0], [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(b.out_of_range_labels, [0, 0, 0, 2])  # 2 and -1 are not 0/1 entries


def test_multi_label_probabilities_and_bools(images):
    probs = np.array([[0.9, 0.2, 0.6, 0.0, 0.51]] * N)
    bools = probs > 0.5
    a = build_one(images, probs, multi_label=True)
    b = build_one(images, bools, multi_label=True)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.labels[0], [1, 0, 1, 0, 1])


def test_binary_task_counts_only_the_positive_class(images):
    b = build_one(images, np.array([0, 1, 1, 3]), num_classes=1)
    assert b.labels.shape == (N, 2)
    np.testing.assert_array_equal(b.labels[:, 1], [0, 1, 1, 0])
    assert not b.labels[:, 0].any()
    np.testing.assert_array_equal(b.out_of_range_labels, [0, 0, 0, 1])
    probs = build_one(images, np.array([0.1, 0.9, 0.7, 0.2], dtype=np.float32), num_classes=1)
    np.testing.assert_array_equal(probs.labels[:, 1], [0, 1, 1, 0])
    column = build_one(images, np.array([[1], [0], [0], [1]]), num_classes=1, multi_label=True)
    np.testing.assert_array_equal(column.labels[:, 1], [1, 0, 0, 1])


def test_images_of_different_sizes_are_grouped(images):
    small = np.zeros((H // 2, W // 2, 3), dtype=np.uint8)
    out = builder().build([images[0], small, images[1]], [1, 2, 3], first_sample_id=0)
    assert [b.images.shape[2:] for b in out] == [(H, W), (H // 2, W // 2)]
    np.testing.assert_array_equal(out[0].sample_ids, [0, 2])
    np.testing.assert_array_equal(out[1].sample_ids, [1])
    np.testing.assert_array_equal(out[0].labels, expected_multi_hot([1, 3]))


@pytest.mark.parametrize(
    "labels, kw, message",
    [
        (np.zeros((N, 3)), {}, r"one-hot labels must have 5 columns \(num_classes=5\), got numpy.ndarray of shape \(4, 3\)"),
        (np.zeros((N, 3)), {"multi_label": True}, "multi-label labels must have 5 columns"),
        (np.zeros(N), {"multi_label": True}, r"multi_label=True expects binary rows of shape \(N, 5\)"),
        (np.zeros(N + 1), {}, "images and labels disagree on the batch size: 4 images but 5 labels"),
        (np.zeros((N, 2, 2)), {}, "must have rank 1 .* or 2"),
        (["a", "b", "c", "d"], {}, "must be numeric or bool"),
        ({"label": 1}, {}, "`labels` must be class ids"),
    ],
)
def test_bad_labels_say_what_arrived(images, labels, kw, message):
    with pytest.raises(BatchFormatError, match=message):
        builder(**{k: v for k, v in kw.items()}).build(images, labels, 0)


def test_bad_images_say_what_arrived():
    with pytest.raises(BatchFormatError, match="`images` could not be read as images"):
        builder().build(np.zeros((2, 3, 4, 5, 6)), [0, 1], 0)


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.integers(-3, C + 2), min_size=1, max_size=6))
def test_ids_one_hot_and_multi_label_agree(ids):
    """Any ids: the id, one-hot and multi-label forms give the same counted classes."""
    ids = np.array(ids)
    images = np.zeros((len(ids), 3, 2, 2), dtype=np.uint8)
    by_id = builder(ignore=(-3,)).build(images, ids, 0)[0]
    valid = (ids >= 0) & (ids < C)
    assert by_id.labels.sum() == valid.sum()
    np.testing.assert_array_equal(by_id.out_of_range_labels, ~valid & (ids != -3))
    rows = np.zeros((len(ids), C))
    rows[np.flatnonzero(valid), ids[valid]] = 1
    for multi in (False, True):
        b = builder(multi_label=multi).build(images, rows, 0)[0]
        np.testing.assert_array_equal(b.labels, by_id.labels)


def test_non_integer_ids_are_rounded_halves_to_even_and_counted_per_sample():
    b = build_one(np.zeros((4, 3, H, W), np.uint8), np.array([0.0, 2.5, 3.5, 1.2]))
    assert b.labels.argmax(axis=1).tolist() == [0, 2, 4, 1]
    assert b.non_integer_labels.tolist() == [0, 1, 1, 1]
    assert build_one(np.zeros((2, 3, H, W), np.uint8), np.array([1.0, 3.0])).non_integer_labels is None
    # binary probabilities and one-hot / soft rows are thresholded or argmaxed by rule, not rounded
    assert build_one(np.zeros((2, 3, H, W), np.uint8), np.array([0.2, 0.7]), num_classes=1).non_integer_labels is None
    assert build_one(np.zeros((2, 3, H, W), np.uint8), np.full((2, C), 0.3)).non_integer_labels is None


def test_zero_size_images_are_an_unreadable_batch_whose_labels_are_not_read():
    items = [np.zeros((3, H, W), np.uint8), np.zeros((3, 0, W), np.uint8), np.zeros((3, H, W), np.uint8)]
    ok, empty = builder().build(items, np.array([1, 99, 2.5]), first_sample_id=5)
    assert ok.sample_ids.tolist() == [5, 7] and ok.out_of_range_labels.tolist() == [0, 0]
    assert ok.non_integer_labels.tolist() == [0, 1] and not ok.unreadable
    assert empty.unreadable and empty.sample_ids.tolist() == [6] and empty.images.shape == (1, 3, 0, W)
    assert empty.labels.shape == (1, C) and not empty.labels.any() and empty.out_of_range_labels.tolist() == [0]
