"""Near duplicates inside a split and near copies of train images in val (leakage), with both sample ids;
known answer through a real manager: a JPEG q75, 0.5x copy of a train photo in val is reported, an
unrelated photo is not."""
import cv2
import numpy as np
import pytest
import skimage.data
import torch

from data_gradients import ClassificationAnalysisManager
from data_gradients.batch import ImageBatch
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.common.near_duplicates import RADIUS, NearDuplicates

pytestmark = pytest.mark.usefixtures("pixel_path")  # compiled pixel loops and OpenCV ways alike

CTX = AnalysisContext(task="classification", num_classes=3, class_ids=(0, 1, 2))


def chw(im):
    return np.ascontiguousarray(im.transpose(2, 0, 1))


def reencoded(im, quality=75, scale=0.5):
    ok, buf = cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.resize(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def photos():
    grey = np.repeat(skimage.data.camera()[:, :, None], 3, axis=2)
    square = [cv2.resize(im, (512, 512)) for im in (skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket())]
    return [skimage.data.astronaut(), *square, grey]


def one(im, sample_id):
    return ImageBatch(images=chw(im)[None], sample_ids=np.array([sample_id]), nonfinite_pixels=np.zeros(1, np.int64),
                      source_channels=3)


def test_groups_inside_a_split_and_leakage_with_both_ids():
    p = photos()
    ex = NearDuplicates(CTX)
    train = [p[0], p[1], reencoded(p[0], 90, 0.75), p[2], reencoded(p[1], 60, 1.5)]  # (0, 2) and (1, 4)
    for i, im in enumerate(train):
        ex.update(one(im, i), "train")
    val = [p[3], reencoded(p[2], 80, 0.5), p[2], reencoded(p[4])]  # 1, 2 near train 3; 3 near nothing in train
    for i, im in enumerate(val):
        ex.update(one(im, i), "val")
    res = ex.compute()
    assert res.scalars["near_duplicate_groups"] == {"train": 2, "val": 1}
    assert res.scalars["images_in_near_duplicate_groups"] == {"train": 4, "val": 2}
    assert res.scalars["images_near_train"] == {"val": 2}
    groups = next(t for t in res.tables if t.key == "near_duplicate_groups").rows
    assert groups == [["train", 1, 2, "0, 2"], ["train", 2, 2, "1, 4"], ["val", 1, 2, "1, 2"]]
    leaks = next(t for t in res.tables if t.key == "near_leakage").rows
    assert [r[:3] for r in leaks] == [["val", 1, 3], ["val", 2, 3]]
    assert leaks[1][3] == 0 and 0 <= leaks[0][3] <= RADIUS
    findings = {f.key: f for f in res.findings}
    assert findings["train_near_leakage"].sample_ids == {"val": [1, 2], "train": [3]}
    assert findings["near_duplicates"].counts == {"train": 4, "val": 2}


def test_radius_is_a_threshold():
    p = photos()
    copy = (reencoded(p[1], 75, 0.6).astype(np.int32) * 9 // 10).astype(np.uint8)  # 2 bits from the photo
    tight = AnalysisContext(task="classification", num_classes=3, class_ids=(0, 1, 2),
                            thresholds=(("near_duplicate_radius", 0.0),))
    results = []
    for ctx in (CTX, tight):
        ex = NearDuplicates(ctx)
        ex.update(one(p[1], 0), "train")
        ex.update(one(copy, 1), "train")
        results.append(ex.compute())
    loose, strict = results
    groups = next(t for t in loose.tables if t.key == "near_duplicate_groups").rows
    assert groups == [["train", 1, 2, "0, 1"]]  # 2 to 4 bits apart
    assert strict.data["near_duplicate_radius"] == 0 and strict.scalars["near_duplicate_groups"] == {"train": 0}


def test_cap_keeps_the_smallest_ids_whatever_the_order():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (6, 3, 16, 16), dtype=np.uint8)
    import data_gradients.feature_extractors.common.near_duplicates as nd
    from data_gradients.feature_extractors.common.duplicates import HashIndex

    a, b = NearDuplicates(CTX), NearDuplicates(CTX)
    for ex in (a, b):
        ex.state("train").index = HashIndex(4)
    for i in range(6):
        a.update(ImageBatch(images=imgs[i:i + 1], sample_ids=np.array([i]), nonfinite_pixels=np.zeros(1, np.int64),
                            source_channels=3), "train")
    for i in reversed(range(6)):
        b.update(ImageBatch(images=imgs[i:i + 1], sample_ids=np.array([i]), nonfinite_pixels=np.zeros(1, np.int64),
                            source_channels=3), "train")
    ra, rb = a.compute(), b.compute()
    assert ra.scalars["images_hashed"] == rb.scalars["images_hashed"] == {"train": 4}
    assert ra.scalars["unchecked_images"] == {"train": 2}
    assert nd.MAX_IMAGES >= 1_000_000


def test_known_answer_through_the_manager(tmp_path):
    p = photos()
    train = [(torch.from_numpy(chw(im))[None], torch.tensor([k % 3])) for k, im in enumerate(p[:4])]
    leaked = reencoded(p[1])  # train sample 1, re-encoded at JPEG q75 and halved
    unrelated = cv2.resize(skimage.data.immunohistochemistry(), (256, 256))
    val = [(torch.from_numpy(chw(leaked))[None], torch.tensor([1])),
           (torch.from_numpy(chw(unrelated))[None], torch.tensor([0]))]
    report = ClassificationAnalysisManager(train, val, num_classes=3, log_dir=tmp_path, verbose=False,
                                           features=["near_duplicates", "duplicates"]).run()
    leak = next(f for f in report.findings if f.key == "train_near_leakage")
    assert leak.counts == {"val": 1} and leak.sample_ids == {"val": [0], "train": [1]}
    rows = next(t for t in report["near_duplicates"].tables if t.key == "near_leakage").rows
    assert [r[:3] for r in rows] == [["val", 0, 1]]
    assert report["duplicates"].scalars["images_also_in_train"] == {"val": 0}  # not an exact copy
    assert report["near_duplicates"].scalars["near_duplicate_groups"] == {"train": 0, "val": 0}


def test_an_incomplete_search_is_reported(monkeypatch):
    import data_gradients.feature_extractors.common.hash_index as hi

    p = photos()
    ex = NearDuplicates(CTX)
    ex.update(one(p[0], 0), "train")
    ex.update(one(p[0], 1), "train")
    assert not any(f.key == "near_duplicate_search_incomplete" for f in ex.compute().findings)
    monkeypatch.setattr(hi, "MAX_PAIRS", 0)
    res = ex.compute()
    assert any(f.key == "near_duplicate_search_incomplete" for f in res.findings)
    assert res.scalars["near_duplicate_groups"] == {"train": 1}  # identical hashes need no search
