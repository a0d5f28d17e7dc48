"""Known answers for exact duplicates inside a split and train/val leakage; the hash index merges
and caps like a reduction."""
import pickle

import numpy as np
import pytest

from data_gradients.batch import ImageBatch
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.common import duplicates as dup
from data_gradients.feature_extractors.common import sample_rows
from data_gradients.feature_extractors.common.duplicates import Duplicates, HashIndex, duplicate_groups, image_hashes

CTX = AnalysisContext(task="classification", num_classes=3, class_ids=(0, 1, 2))


def batch(images, first_id=0):
    images = np.asarray(images, dtype=np.uint8)
    n = len(images)
    return ImageBatch(images=images, sample_ids=np.arange(first_id, first_id + n), nonfinite_pixels=np.zeros(n, np.int64),
                      source_channels=3)


def distinct(n, h=4, w=5, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 3, h, w), dtype=np.uint8)


def test_hash_depends_on_pixels_and_shape_only():
    a = distinct(3)
    h = image_hashes(a)
    assert h.dtype == np.uint64 and len(set(h.tolist())) == 3
    assert image_hashes(a.copy())[1] == h[1]
    b = a.copy()
    b[1, 2, 3, 4] ^= 1  # one bit of one pixel
    assert image_hashes(b)[1] != h[1]
    flat = np.zeros((1, 3, 2, 6), np.uint8)
    assert image_hashes(flat)[0] != image_hashes(flat.reshape(1, 3, 3, 4))[0]  # same bytes, other shape
    assert image_hashes(a[:, :, ::-1])[0] == image_hashes(np.ascontiguousarray(a[:, :, ::-1]))[0]


def test_duplicate_groups_within_a_split_and_leakage():
    imgs = distinct(6)
    train = [imgs[0], imgs[1], imgs[0], imgs[2], imgs[1], imgs[0]]  # groups (0, 2, 5) and (1, 4)
    val = [imgs[3], imgs[1], imgs[4], imgs[4], imgs[0]]  # (2, 3) inside val; 1 and 4 leak from train
    ex = Duplicates(CTX)
    ex.update(batch(train[:4]), "train")
    ex.update(batch(train[4:], first_id=4), "train")
    ex.update(batch(val), "val")
    res = ex.compute()
    sc = res.scalars
    assert sc["images_hashed"] == {"train": 6, "val": 5}
    assert sc["duplicate_groups"] == {"train": 2, "val": 1}
    assert sc["images_in_duplicate_groups"] == {"train": 5, "val": 2}
    assert sc["redundant_copies"] == {"train": 3, "val": 1}
    assert sc["images_also_in_train"] == {"val": 2}
    groups = next(t for t in res.tables if t.key == "duplicate_groups").rows
    assert groups == [["train", 1, 3, "0, 2, 5"], ["train", 2, 2, "1, 4"], ["val", 1, 2, "2, 3"]]
    leaks = next(t for t in res.tables if t.key == "leakage").rows
    assert leaks == [["val", 1, "1, 4"], ["val", 4, "0, 2, 5"]]
    findings = {f.key: f for f in res.findings}
    assert findings["duplicates"].counts == {"train": 5, "val": 2}
    assert findings["duplicates"].sample_ids["train"] == [0, 2, 5, 1, 4]
    leak = findings["train_leakage"]
    assert leak.severity == "error" and leak.counts == {"val": 2}
    assert leak.sample_ids == {"val": [1, 4], "train": [0, 1]}
    assert "val sample 1 = train sample 1" in leak.message


def test_no_duplicates_no_findings():
    ex = Duplicates(CTX)
    ex.update(batch(distinct(4)), "train")
    ex.update(batch(distinct(3, seed=1)), "val")
    res = ex.compute()
    assert res.findings == [] and res.scalars["duplicate_groups"] == {"train": 0, "val": 0}


def test_index_add_merge_and_cap_keep_the_smallest_ids(monkeypatch):
    monkeypatch.setattr(sample_rows, "CHUNKS", 2)
    h = np.arange(10, dtype=np.uint64) * 7
    ids = np.arange(10)
    whole = HashIndex(cap=4)
    for k in (7, 3, 9, 0, 5, 1, 8, 2, 6, 4):  # any order
        whole.add(h[[k]], ids[[k]])
    a, b = HashIndex(cap=4), HashIndex(cap=4)
    a.add(h[5:], ids[5:])
    b.add(h[:5], ids[:5])
    for index in (whole, a + b, b + a):
        got_h, got_ids = index.arrays()
        assert got_ids.tolist() == [0, 1, 2, 3] and got_h.tolist() == h[:4].tolist()
        assert len(index) == 4
    assert whole.wanted(np.array([2, 3, 4])).tolist() == [True, False, False]
    clone = pickle.loads(pickle.dumps(whole))
    assert clone.arrays()[1].tolist() == [0, 1, 2, 3]


def test_images_beyond_the_cap_are_reported_unchecked(monkeypatch):
    monkeypatch.setattr(dup, "MAX_IMAGES", 3)
    ex = Duplicates(CTX)
    imgs = distinct(5)
    ex.update(batch(np.concatenate([imgs, imgs[:1]])), "train")  # id 5 repeats id 0 but is beyond the cap
    res = ex.compute()
    assert res.scalars["images_hashed"] == {"train": 3}
    assert res.scalars["unchecked_images"] == {"train": 3}
    assert res.scalars["duplicate_groups"] == {"train": 0}
    (finding,) = res.findings
    assert finding.key == "unchecked" and finding.counts == {"train": 3}


def test_duplicate_groups_order_and_limits():
    hashes = np.array([5, 1, 5, 2, 1, 3], dtype=np.uint64)
    ids = np.array([10, 3, 0, 7, 4, 1])
    groups, n_groups, n_images = duplicate_groups(hashes, ids)
    assert [g.tolist() for g in groups] == [[0, 10], [3, 4]]
    assert (n_groups, n_images) == (2, 4)
    assert duplicate_groups(np.zeros(1, np.uint64), np.zeros(1, np.int64)) == ([], 0, 0)


@pytest.mark.parametrize("n", [0, 1])
def test_small_batches(n):
    ex = Duplicates(CTX)
    ex.update(batch(distinct(n) if n else np.zeros((0, 3, 4, 5))), "train")
    assert ex.compute().scalars["images_hashed"] == {"train": n}
