"""The synthetic demo data: deterministic, imbalanced as designed, corrupt exactly where designed."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from data_gradients.demo import (
    CORRUPTIONS,
    DEMO_CLASS_NAMES,
    SyntheticFileSegmentationDataset,
    SyntheticSegmentationDataset,
    corrupted_indices,
    segmentation_demo_loaders,
    write_segmentation_files,
)
from data_gradients.errors import ConfigurationError

N_CHECK = 100


def _class_stats(split: str, n: int = N_CHECK):
    """Pixel share per class, share of images holding each class, mean image brightness."""
    ds = SyntheticSegmentationDataset(n, split=split, corrupt=False, image_format="hwc_uint8")
    pixels, present, brightness = np.zeros(6), np.zeros(6), []
    for i in range(n):
        img, mask = ds[i]
        counts = np.bincount(mask.ravel(), minlength=6)
        pixels += counts
        present += counts > 0
        brightness.append(img.mean() / 255)
    return pixels / pixels.sum(), present / n, float(np.mean(brightness))


@pytest.fixture(scope="module")
def train_stats():
    return _class_stats("train")


@pytest.fixture(scope="module")
def val_stats():
    return _class_stats("val")


def test_same_index_gives_identical_sample_in_any_order():
    a = SyntheticSegmentationDataset(50, seed=3)
    b = SyntheticSegmentationDataset(50, seed=3)
    later = [b[i] for i in (40, 7, 13)]  # 13 has a NaN patch: compare with equal_nan
    for (image, mask), i in zip(later, (40, 7, 13)):
        first_image, first_mask = a[i]
        assert torch.equal(mask, first_mask)
        assert torch.allclose(image, first_image, equal_nan=True, atol=0)


def test_different_seeds_and_splits_differ():
    image0, mask0 = SyntheticSegmentationDataset(5, seed=0)[1]
    image1, mask1 = SyntheticSegmentationDataset(5, seed=1)[1]
    image_val, _ = SyntheticSegmentationDataset(5, seed=0, split="val")[1]
    assert not torch.equal(image0, image1) and not torch.equal(mask0, mask1)
    assert not torch.equal(image0, image_val)


@pytest.mark.parametrize("image_format", ["chw_float", "chw_uint8", "hwc_uint8"])
def test_shapes_and_dtypes(image_format):
    image, mask = SyntheticSegmentationDataset(3, size=(64, 96), image_format=image_format)[0]
    if image_format == "hwc_uint8":
        assert isinstance(image, np.ndarray) and image.shape == (64, 96, 3) and image.dtype == np.uint8
        assert isinstance(mask, np.ndarray) and mask.shape == (64, 96) and mask.dtype == np.int64
    else:
        dtype = torch.float32 if image_format == "chw_float" else torch.uint8
        assert image.shape == (3, 64, 96) and image.dtype == dtype and image.is_contiguous()
        assert mask.shape == (64, 96) and mask.dtype == torch.int64


def test_formats_hold_the_same_pixels():
    as_float = SyntheticSegmentationDataset(3, image_format="chw_float")[2][0]
    as_uint8 = SyntheticSegmentationDataset(3, image_format="chw_uint8")[2][0]
    as_hwc = SyntheticSegmentationDataset(3, image_format="hwc_uint8")[2][0]
    assert torch.equal(as_uint8, torch.from_numpy(as_hwc).permute(2, 0, 1))
    assert float(as_float.min()) >= 0.0 and float(as_float.max()) <= 1.0
    assert torch.allclose(as_float, as_uint8.float() / 255, atol=1e-7)


def test_pixel_shares_follow_the_designed_imbalance(train_stats):
    shares, present, _ = train_stats
    assert list(np.argsort(-shares)) == [0, 1, 2, 3, 4, 5]  # background > road > car > person > sign > bicycle
    assert shares[5] > 0  # rare, not absent
    assert present[4] > 0.8 > present[3]  # signs: in most images, yet fewer pixels than persons
    assert 0.02 <= present[5] <= 0.10  # bicycles in about 5% of train images


def test_object_sizes_vary_widely():
    ds = SyntheticSegmentationDataset(60, corrupt=False, image_format="hwc_uint8")
    car_pixels = np.array([(ds[i][1] == 2).sum() for i in range(60)])
    car_pixels = car_pixels[car_pixels > 0]
    assert car_pixels.min() < 100 and car_pixels.max() > 1500  # tiny far cars, big near ones


def test_val_is_darker_with_more_persons_and_fewer_cars(train_stats, val_stats):
    (train_shares, _, train_brightness), (val_shares, _, val_brightness) = train_stats, val_stats
    assert val_brightness < 0.8 * train_brightness
    assert val_shares[3] > 1.5 * train_shares[3]
    assert val_shares[2] < 0.7 * train_shares[2]


def test_corruptions_are_exactly_where_designed():
    n = 300
    ds = SyntheticSegmentationDataset(n, num_classes=6)
    found = {"nan_image": [], "label_out_of_range": [], "empty_mask": []}
    for i in range(n):
        image, mask = ds[i]
        if torch.isnan(image).any():
            found["nan_image"].append(i)
        if int(mask.max()) >= 6:
            assert int(mask.max()) == 9 and int((mask == 9).sum()) == 36
            found["label_out_of_range"].append(i)
        if int(mask.max()) == 0:
            found["empty_mask"].append(i)
    for kind, (modulus, remainder) in CORRUPTIONS.items():
        assert found[kind] == corrupted_indices(n, kind) == ds.corrupted_indices(kind)
        assert found[kind] == [i for i in range(n) if i % modulus == remainder] and found[kind]


def test_clean_dataset_has_no_corruption_and_same_content():
    dirty, clean = SyntheticSegmentationDataset(120), SyntheticSegmentationDataset(120, corrupt=False)
    assert clean.corrupted_indices("nan_image") == []
    corrupted = {i for kind in CORRUPTIONS for i in dirty.corrupted_indices(kind)}
    assert corrupted == {13, 110, 7, 96, 5, 88}
    for i in range(120):
        (dirty_image, dirty_mask), (image, mask) = dirty[i], clean[i]
        assert not torch.isnan(image).any() and int(mask.max()) < 6 and int(mask.max()) > 0
        if i not in corrupted:
            assert torch.equal(dirty_image, image) and torch.equal(dirty_mask, mask)


def test_more_classes_draw_only_valid_ids():
    ds = SyntheticSegmentationDataset(40, num_classes=9, corrupt=False)
    seen = set()
    for i in range(40):
        seen |= set(torch.unique(ds[i][1]).tolist())
    assert seen <= set(range(9)) and 6 in seen
    assert ds.class_names[:6] == DEMO_CLASS_NAMES and ds.class_names[6:] == ["class_6", "class_7", "class_8"]
    small = SyntheticSegmentationDataset(20, num_classes=3, corrupt=False)
    assert set().union(*(set(torch.unique(small[i][1]).tolist()) for i in range(20))) <= {0, 1, 2}


def test_vary_size_gives_several_sizes_and_the_loader_batches_them():
    ds = SyntheticSegmentationDataset(30, vary_size=True)
    sizes = {tuple(ds[i][0].shape[1:]) for i in range(30)}
    assert sizes == {(128, 160), (96, 128), (160, 160)}
    train, val = segmentation_demo_loaders(n_train=20, n_val=10, batch_size=8, vary_size=True)
    images, masks = next(iter(train))
    assert isinstance(images, list) and len(images) == len(masks) == 8
    assert all(image.shape[1:] == mask.shape for image, mask in zip(images, masks))
    assert sum(len(batch[0]) for batch in val) == 10


def test_default_loaders_stack_batches():
    train, val = segmentation_demo_loaders(n_train=20, n_val=12, batch_size=8)
    batches = list(train)
    assert [b[0].shape for b in batches] == [(8, 3, 128, 160), (8, 3, 128, 160), (4, 3, 128, 160)]
    assert batches[0][1].shape == (8, 128, 160) and batches[0][1].dtype == torch.int64
    assert train.dataset.split == "train" and val.dataset.split == "val" and len(val) == 2


def test_worker_processes_produce_the_same_samples():
    ds = SyntheticSegmentationDataset(12, corrupt=False)
    in_process = [m for _, m in DataLoader(ds, batch_size=4)]
    in_workers = [m for _, m in DataLoader(ds, batch_size=4, num_workers=2)]
    assert all(torch.equal(a, b) for a, b in zip(in_process, in_workers))


def test_files_round_trip(tmp_path):
    source = SyntheticSegmentationDataset(12, split="val", seed=2)
    root = write_segmentation_files(tmp_path, 12, split="val", seed=2)
    assert root == tmp_path and len(list((tmp_path / "val" / "images").glob("*.jpg"))) == 12
    files = SyntheticFileSegmentationDataset(tmp_path, split="val")
    assert len(files) == 12
    for i in range(12):
        (image, mask), (ref_image, ref_mask) = files[i], source[i]
        assert image.dtype == torch.float32 and image.shape == ref_image.shape
        assert torch.equal(mask, ref_mask)  # PNG: exact, corruptions included (index 7 out of range, 5 empty)
        ref_image = torch.nan_to_num(ref_image)  # JPEG holds no NaN: compare away from the patch
        keep = ~torch.isnan(source[i][0])
        assert (image - ref_image)[keep].abs().mean() < 0.015
    assert int(files[7][1].max()) == 9 and int(files[5][1].max()) == 0


def test_files_are_written_once(tmp_path):
    files = SyntheticFileSegmentationDataset.materialize(tmp_path, 4, split="train", image_format="hwc_uint8")
    first = tmp_path / "train" / "images" / "00000.jpg"
    stamp = first.stat().st_mtime_ns
    again = SyntheticFileSegmentationDataset.materialize(tmp_path, 4, split="train", corrupt=True,  # the default
                                                         image_format="hwc_uint8")
    assert first.stat().st_mtime_ns == stamp
    assert np.array_equal(files[3][0], again[3][0]) and files[3][0].shape == (128, 160, 3)
    before = files[0][1]
    other = SyntheticFileSegmentationDataset.materialize(tmp_path, 4, split="train", seed=5)
    assert not torch.equal(other[0][1], torch.from_numpy(before))  # new parameters: rewritten


def test_bad_arguments_name_the_argument(tmp_path):
    with pytest.raises(ConfigurationError, match="`n` must be a non-negative int, got -1"):
        SyntheticSegmentationDataset(-1)
    with pytest.raises(ConfigurationError, match="`seed` must be a non-negative int, got -2"):
        SyntheticSegmentationDataset(3, seed=-2)
    with pytest.raises(ConfigurationError, match="`image_format`"):
        SyntheticSegmentationDataset(3, image_format="nchw")
    with pytest.raises(ConfigurationError, match="`num_classes`"):
        SyntheticSegmentationDataset(3, num_classes=1)
    with pytest.raises(ConfigurationError, match="`root`"):
        SyntheticFileSegmentationDataset(tmp_path)
    with pytest.raises(IndexError):
        SyntheticSegmentationDataset(3)[3]
