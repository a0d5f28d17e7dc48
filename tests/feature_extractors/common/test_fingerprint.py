"""Fingerprint: order-independent, mergeable, sensitive to one pixel or one label; the manifest behind it."""
from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
import torch
from conftest import TASK_DATA, canonical_batches
from detection_helpers import batch as detection_batch
from export_helpers import seg_batches

from data_gradients import SegmentationAnalysisManager
from data_gradients.feature_extractors.common import fingerprint as fp
from data_gradients.feature_extractors.common.duplicates import image_hashes_of
from data_gradients.feature_extractors.common.image_hash import batch_image_digests, image_digests, image_hashes


def run_fingerprint(task, raw, order=None):
    ctx, builder, _ = TASK_DATA[task]()
    ext = fp.Fingerprint(ctx)
    batches = canonical_batches(builder, raw)
    for b in (batches if order is None else [batches[i] for i in order]):
        ext.update(b, "train")
    return ext.compute()


@pytest.mark.parametrize("task", ["segmentation", "detection", "classification"])
def test_order_and_batching_do_not_change_the_fingerprint(task):
    _, _, raw = TASK_DATA[task]()
    base = run_fingerprint(task, raw).data
    assert base["samples"]["train"] == sum(len(images) for images, _ in raw)
    assert len(base["fingerprint"]["train"]) == 64
    assert run_fingerprint(task, raw, order=list(range(len(raw)))[::-1]).data["fingerprint"] == base["fingerprint"]


def test_a_shuffled_run_gives_the_same_fingerprint_and_one_pixel_or_label_another(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 3, 16, 20), dtype=np.uint8)
    masks = rng.integers(0, 3, (12, 16, 20))
    kw = dict(num_classes=3, log_dir=tmp_path, verbose=False, writers=[], features=["fingerprint"])

    def digest(im, mk, size=4):
        return SegmentationAnalysisManager(seg_batches(im, mk, size), **kw).run().results["fingerprint"].data["fingerprint"]

    base = digest(images, masks)
    perm = rng.permutation(12)
    assert digest(images[perm], masks[perm], size=5) == base
    pixel = images.copy()
    pixel[7, 1, 3, 4] ^= 1
    assert digest(pixel, masks) != base
    label = masks.copy()
    label[2, 0, 0] = (label[2, 0, 0] + 1) % 3
    assert digest(images, label) != base


def test_the_sum_counts_duplicates_where_xor_would_cancel_them():
    image = np.zeros((2, 32), dtype=np.uint8)
    label = np.ones((2, 32), dtype=np.uint8)
    one = fp.sample_sum(image[:1], label[:1])
    assert fp.sample_sum(image, label) == (2 * one) % fp.MOD != 0


def test_merge_equals_one_extractor_and_the_manifest_keeps_the_smallest_ids_beyond_the_cap(monkeypatch):
    ctx, builder, raw = TASK_DATA["segmentation"]()
    batches = canonical_batches(builder, raw)
    single = fp.Fingerprint(ctx)
    a, b = fp.Fingerprint(ctx), fp.Fingerprint(ctx)
    for k, batch in enumerate(batches):
        single.update(batch, "train")
        (a if k % 2 else b).update(batch, "train")
    merged, alone = a.merge(b).compute(), single.compute()
    assert merged.data == alone.data
    for x, y in zip(merged.manifest["train"], alone.manifest["train"]):
        assert np.array_equal(x, y)
    ids, hashes = merged.manifest["train"]
    assert ids.tolist() == sorted(ids.tolist()) and len(ids) == merged.data["samples"]["train"]
    assert hashes.shape == (len(ids), 32)
    small = fp.manifest_index(cap=5)
    for batch in batches[::-1]:
        small.add(np.zeros((len(batch), 32), dtype=np.uint8), batch.sample_ids)
    assert small.arrays()[1].tolist() == [0, 1, 2, 3, 4]


def test_manifest_hashes_are_the_digests_of_image_and_labels():
    ctx, builder, raw = TASK_DATA["segmentation"]()
    (b,) = builder.build(raw[0][0], raw[0][1], first_sample_id=0)
    ext = fp.Fingerprint(ctx)
    ext.update(b, "train")
    ids, hashes = ext.compute().manifest["train"]
    assert (hashes[:, :16] == image_digests(b.images)[:, :16]).all()
    assert (hashes[:, 16:] == fp.label_digests(b)[:, :16]).all()


def test_the_image_digest_is_computed_once_per_batch_and_shared_with_duplicates():
    ctx, builder, raw = TASK_DATA["segmentation"]()
    (b,) = builder.build(raw[0][0], raw[0][1], first_sample_id=0)
    first = batch_image_digests(b)
    assert batch_image_digests(b) is first
    assert (image_hashes_of(b) == image_hashes(b.images)).all()  # duplicates' 8-byte hashes are unchanged
    expected = np.frombuffer(b"".join(d[:8].tobytes() for d in first), dtype="<u8")
    assert (image_hashes(b.images) == expected).all()


def test_detection_label_digest_changes_with_a_box_a_class_or_a_bad_box():
    rows = [[[0, 10, 10, 50, 50], [1, 5, 5, 20, 20]], [[2, 30, 30, 60, 70]]]
    base = fp.label_digests(detection_batch(rows))
    assert base.shape == (2, 32)
    moved = fp.label_digests(detection_batch([[[0, 10, 10, 50, 51], [1, 5, 5, 20, 20]], rows[1]]))
    assert (moved[0] != base[0]).any() and (moved[1] == base[1]).all()
    relabelled = fp.label_digests(detection_batch([[[2, 10, 10, 50, 50], [1, 5, 5, 20, 20]], rows[1]]))
    assert (relabelled[0] != base[0]).any()
    degenerate = fp.label_digests(detection_batch([rows[0], [[2, 30, 30, 60, 70], [0, 5, 5, 5, 5]]]))
    assert (degenerate[1] != base[1]).any()  # a bad box counts though it is not kept


def test_classification_label_digest_is_the_multi_hot_row():
    ctx, builder, raw = TASK_DATA["classification"]()
    images, labels = raw[0]
    (b,) = builder.build(images, labels, first_sample_id=0)
    digests = fp.label_digests(b)
    for i in range(len(b)):
        expected = hashlib.sha256(b"cls" + np.ascontiguousarray(b.labels[i], dtype=np.uint8).tobytes()
                                  + np.int64(b.out_of_range_labels[i]).astype("<i8").tobytes()).digest()
        assert digests[i].tobytes() == expected
    empty = dataclasses.replace(b, images=b.images[:0], labels=b.labels[:0], sample_ids=b.sample_ids[:0],
                                out_of_range_labels=b.out_of_range_labels[:0], nonfinite_pixels=b.nonfinite_pixels[:0])
    assert fp.label_digests(empty).shape == (0, 32)


def test_unreadable_samples_are_counted():
    ctx, builder, _ = TASK_DATA["segmentation"]()
    (b,) = builder.build(torch.zeros((2, 3, 0, 4)), torch.zeros((2, 0, 4), dtype=torch.int64), first_sample_id=0)
    ext = fp.Fingerprint(ctx)
    ext.update(b, "train")
    assert ext.compute().data["samples"] == {"train": 2}


def test_mask_digests_depend_on_the_ids_not_on_the_loaders_type():
    from data_gradients.batch import SegmentationBatchBuilder
    from data_gradients.feature_extractors.common.fingerprint import mask_digests

    rng = np.random.default_rng(2)
    labels = rng.choice(np.array([0, 1, 2, 9, 255], np.uint8), size=(4, 7, 5))
    images = np.zeros((4, 3, 7, 5), np.uint8)
    builder = SegmentationBatchBuilder(300, tuple(i for i in range(300) if i != 255), (255,))
    (from_u8,) = builder.build(images, labels, 0)
    (from_i64,) = builder.build(images, labels.astype(np.int64), 0)
    assert from_u8.label_source is not None and from_i64.label_source is None
    np.testing.assert_array_equal(mask_digests(from_u8), mask_digests(from_i64))
    assert from_u8.__dict__.get("_masks") is None  # hashed from the labels, the int32 masks never built
    wide = labels.astype(np.int64)
    wide[1, 0, 0] = 299  # one mask with an id past 254: hashed as int32, the others unchanged
    (with_wide,) = builder.build(images, wide, 0)
    got, want = mask_digests(with_wide), mask_digests(from_i64)
    assert [bool((got[i] == want[i]).all()) for i in range(4)] == [True, False, True, True]
    (changed,) = builder.build(images, np.where(np.arange(4)[:, None, None] == 2, 1, labels).astype(np.uint8), 0)
    assert [bool((mask_digests(changed)[i] == want[i]).all()) for i in range(4)] == [True, True, False, True]


def lut_mask_digests(batch):
    """Digests of the looked-up bytes id + 1 written out (the path without the int8 shortcut)."""
    import cv2

    labels, table = batch.label_source
    n, h, w = labels.shape
    return image_digests(cv2.LUT(labels.reshape(-1, w), (table + 1).astype(np.uint8)).reshape(n, 1, h, w))


@pytest.mark.parametrize("values, class_ids", [
    ([0, 3, 18, 255], range(19)),  # ids as they are, 255 ignored: shifted, never looked up
    ([3, 18, 255], range(19)), ([3, 18], range(19)),  # id 0 absent (the table has -1 below the smallest label)
    ([0, 1, 2, 19, 40, 255], range(19)),  # out-of-range values: looked up
    ([0, 5, 7], (0, 5, 7)), ([1, 5, 7], (0, 5)),  # a value between two ids that is no id
    ([100, 126, 255], range(127)), ([100, 127], range(128)),  # 127 + 1 would wrap around in int8: looked up
    ([254], range(255)),  # -2 as int8 is no id: looked up
    ([0, 3, 255], (0, 3)),  # 1 and 2 are no ids but absent: shifted once the view knows the values present
])
def test_mask_digests_of_shifted_labels_equal_the_looked_up_ones(values, class_ids):
    from data_gradients.batch import SegmentationBatchBuilder
    from data_gradients.feature_extractors.common.fingerprint import mask_digests

    rng = np.random.default_rng(6)
    builder = SegmentationBatchBuilder(max(class_ids) + 1, tuple(class_ids), (255,))
    for shape in [(3, 16, 24), (2, 7, 5)]:
        labels = rng.choice(np.array(values, np.uint8), size=shape)
        (b,) = builder.build(np.zeros((shape[0], 3) + shape[1:], np.uint8), labels, 0)
        assert b.known_label_values() is None  # no view yet: the values' ranges decide
        assert (mask_digests(b) == lut_mask_digests(b)).all()
        (strided,) = builder.build(np.zeros((shape[0], 3) + shape[1:], np.uint8), np.repeat(labels, 2, axis=2)[:, :, ::2], 0)
        assert (mask_digests(strided) == mask_digests(b)).all()
        b.view.runs  # the view has found its runs: the values present decide
        assert b.known_label_values().tolist() == np.isin(np.arange(256), labels).tolist()
        assert (mask_digests(b) == lut_mask_digests(b)).all()


def test_the_values_present_allow_the_shifted_hash_where_their_range_does_not():
    from data_gradients.batch import SegmentationBatchBuilder
    from data_gradients.feature_extractors.common.fingerprint import _maps_to_itself

    labels = np.random.default_rng(3).choice(np.array([0, 3, 255], np.uint8), size=(2, 6, 8))
    (b,) = SegmentationBatchBuilder(4, (0, 3), (255,)).build(np.zeros((2, 3, 6, 8), np.uint8), labels, 0)
    table = b.label_source[1]
    assert not _maps_to_itself(labels, table)  # 1 and 2 lie within the range and are no ids
    b.view.runs
    assert _maps_to_itself(labels, table, b.known_label_values())
    present = b.known_label_values().copy()
    present[127] = True  # 127 + 1 would wrap around in int8
    assert not _maps_to_itself(labels, table, present)


def test_the_sample_sum_is_the_sum_of_the_content_hashes_mod_2_256():
    from data_gradients.feature_extractors.common.fingerprint import MOD, sample_sum

    rng = np.random.default_rng(4)
    image, label = rng.integers(0, 256, (2, 300, 32), dtype=np.uint8)  # enough hashes for carries between limbs
    want = sum(int.from_bytes(hashlib.sha256(b"dg-sample-v1" + a.tobytes() + b.tobytes()).digest(), "big")
               for a, b in zip(image, label)) % MOD
    assert sample_sum(image, label) == want and sample_sum(image[:0], label[:0]) == 0
