"""Canonical batches joined into one hold exactly what one batch of all their samples would."""
import dataclasses

import numpy as np
import pytest
import torch
from conftest import TASK_DATA, classification_raw_batches, detection_raw_batches, segmentation_raw_batches

from data_gradients.batch import SegmentationBatchBuilder
from data_gradients.batch.concat import concat_samples, join_rows, joinable

ONE_SIZE = ((24, 32),)


def uint8_segmentation_raw(n_batches=4):
    """uint8 masks (the lazy label path) with an ignored 255 region; batch 1 has out-of-range values (4 px of
    id 6 from segmentation_raw_batches, 8 px of id 9)."""
    raw = segmentation_raw_batches(3, n_batches=n_batches, sizes=ONE_SIZE)
    out = []
    for b, (images, masks) in enumerate(raw):
        masks = masks.to(torch.uint8)
        masks[0, :3, :3] = 255
        if b == 1:
            masks[2, 5:7, 5:9] = 9  # neither a class nor ignored
        out.append((images, masks))
    return out


RAW = {
    "segmentation": lambda: segmentation_raw_batches(1, n_batches=4, sizes=ONE_SIZE),
    "segmentation_uint8": uint8_segmentation_raw,
    "detection": lambda: detection_raw_batches(1, n_batches=4, sizes=ONE_SIZE),
    "classification": lambda: classification_raw_batches(1, n_batches=4, sizes=ONE_SIZE),
}


def builder_of(case):
    if case == "segmentation_uint8":
        return SegmentationBatchBuilder(4, (0, 1, 2, 3), (255,))
    return TASK_DATA[case]()[1]


def canonical(builder, raw):
    out, first = [], 0
    for images, labels in raw:
        built = builder.build(images, labels, first_sample_id=first)
        assert len(built) == 1
        first += len(built[0])
        out.append(built[0])
    return out


def fields_of(batch):
    """Every field as an array (or None), the lazy segmentation ones read through their properties."""
    out = {f.name: getattr(batch, f.name) for f in dataclasses.fields(batch)}
    if hasattr(batch, "view"):
        out["class_pixels"] = batch.view.class_pixels(4)
        out["components"] = batch.view.components["area"]
    return out


def assert_same_batch(a, b):
    fa, fb = fields_of(a), fields_of(b)
    assert fa.keys() == fb.keys()
    for name in fa:
        va, vb = fa[name], fb[name]
        if isinstance(va, np.ndarray) or isinstance(vb, np.ndarray):
            assert va is not None and vb is not None, name
            assert va.dtype == vb.dtype and np.array_equal(va, vb, equal_nan=va.dtype.kind == "f"), name
        else:
            assert va == vb, name


def pick_joinable(batches):
    """The longest run of consecutive pairwise joinable batches (a NaN pixel or a bad label may set an
    optional field in one batch only: such a batch is not joined to its neighbours)."""
    runs, run = [], [batches[0]]
    for b in batches[1:]:
        if joinable(run[-1], b):
            run.append(b)
        else:
            runs.append(run)
            run = [b]
    runs.append(run)
    return max(runs, key=len)


@pytest.mark.parametrize("case", list(RAW))
def test_joined_batches_equal_one_batch_of_their_samples(case):
    builder = builder_of(case)
    raw = RAW[case]()
    batches = canonical(builder, raw)
    run = pick_joinable(batches)
    assert len(run) >= 2
    first = run[0].sample_ids[0]
    indices = [next(k for k, x in enumerate(batches) if x is b) for b in run]
    whole = builder.build(torch.cat([raw[i][0] for i in indices]), torch.cat([raw[i][1] for i in indices]),
                          first_sample_id=int(first))
    assert len(whole) == 1
    joined = concat_samples(run)
    assert len(joined) == sum(len(b) for b in run)
    assert_same_batch(joined, whole[0])


def test_uint8_segmentation_labels_stay_lazy_and_count_their_out_of_range_values():
    builder = builder_of("segmentation_uint8")
    batches = canonical(builder, uint8_segmentation_raw())
    assert all(joinable(a, b) for a, b in zip(batches, batches[1:]))
    joined = concat_samples(batches)
    assert joined.label_source is not None and joined.__dict__.get("_masks") is None
    assert joined.__dict__.get("_flagged") is not None  # counted when read, from the labels
    expected = np.concatenate([b.out_of_range_pixels for b in canonical(builder, uint8_segmentation_raw())])
    assert expected.sum() == 4 + 8 and np.array_equal(joined.out_of_range_pixels, expected)


def test_detection_boxes_follow_their_image():
    builder = builder_of("detection")
    batches = pick_joinable(canonical(builder, RAW["detection"]()))
    joined = concat_samples(batches)
    start = 0
    for b in batches:
        mine = (joined.box_image >= start) & (joined.box_image < start + len(b))
        assert np.array_equal(joined.boxes[mine], b.boxes)
        assert np.array_equal(joined.box_image[mine] - start, b.box_image)
        start += len(b)
    assert np.array_equal(np.bincount(joined.box_image, minlength=len(joined)), joined.boxes_per_image)


def test_what_is_not_joined():
    seg = canonical(builder_of("segmentation"), segmentation_raw_batches(1, n_batches=2))  # two image sizes
    assert not joinable(seg[0], seg[1])
    a, b = canonical(builder_of("segmentation"), segmentation_raw_batches(1, n_batches=2, sizes=ONE_SIZE))
    assert joinable(a, b)
    u8 = canonical(builder_of("segmentation_uint8"), uint8_segmentation_raw(1))[0]
    assert not joinable(a, u8) and not joinable(u8, a)  # int32 masks beside uint8 labels
    flagged = dataclasses.replace(b, image_problems=np.zeros((len(b), 5), dtype=bool))
    assert not joinable(a, flagged)  # an optional field in one batch only
    cls = canonical(builder_of("classification"), RAW["classification"]())[0]
    assert not joinable(a, cls)
    assert not joinable(cls, dataclasses.replace(cls, source_channels=1))


def test_join_rows_reads_consecutive_rows_of_one_buffer_in_place():
    buf = np.empty((10, 6), dtype=np.int64)  # a buffer of its own, as the coalescer allocates
    buf[...] = np.arange(60).reshape(10, 6)
    parts = [buf[0:3], buf[3:4], buf[4:9]]
    joined = join_rows(parts)
    assert joined.base is buf and np.array_equal(joined, buf[:9])
    apart = join_rows([buf[0:3], buf[5:7]])
    assert not np.shares_memory(apart, buf) and np.array_equal(apart, np.concatenate([buf[0:3], buf[5:7]]))
    other = join_rows([buf[0:3], buf[3:5].copy()])
    assert not np.shares_memory(other, buf) and np.array_equal(other, buf[:5])
