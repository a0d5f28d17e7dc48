"""Small loader batches are analysed joined, with the same results; large ones go through as they are."""
import weakref

import numpy as np
import pytest
import torch
from conftest import TASK_DATA, classification_raw_batches, detection_raw_batches, isclose_tree, segmentation_raw_batches

import data_gradients
from data_gradients.feature_extractors.common.image_hash import _writeable
from data_gradients.managers import coalescing
from data_gradients.managers.coalescing import Coalescer
from data_gradients.managers.pipeline import InterruptedAfterBatch
from data_gradients.managers.producer import Producer
from data_gradients.reports.json_writer import to_jsonable

ONE_SIZE = ((24, 32),)


def built(task, raw):
    builder = TASK_DATA[task]()[1]
    out, first = [], 0
    for images, labels in raw:
        for b in builder.build(images, labels, first_sample_id=first):
            out.append(b)
            first += len(b)
    return out


def test_small_batches_are_joined_up_to_the_capacity_in_order():
    batches = built("classification", classification_raw_batches(0, n_batches=6, batch_size=4, sizes=ONE_SIZE))
    per_image = batches[0].images[0].nbytes
    got = []
    coalescer = Coalescer(got.append, max_bytes=18 * per_image)  # room for 18 images: four batches of 4
    expected_ids = np.concatenate([b.sample_ids for b in batches])
    for b in batches:
        coalescer.add(b)
    coalescer.flush()
    assert [len(b) for b in got] == [16, 8]
    assert np.array_equal(np.concatenate([b.sample_ids for b in got]), expected_ids)
    assert all(not b.images.flags.writeable for b in got)
    # read-only as views: the image hash hands a writeable view of them to torch, without a copy
    assert all(np.shares_memory(_writeable(b.images), b.images) for b in got)


def test_large_batches_go_through_and_flush_what_is_pending_first():
    batches = built("classification", classification_raw_batches(0, n_batches=3, batch_size=4, sizes=ONE_SIZE))
    per_image = batches[0].images[0].nbytes
    got = []
    coalescer = Coalescer(got.append, max_bytes=15 * per_image)  # four batches of 4 do not fit: large
    for b in batches:
        coalescer.add(b)
    coalescer.flush()
    assert [g is b for g, b in zip(got, batches)] == [True] * 3  # the same objects, unjoined, in order


def test_a_batch_that_cannot_join_starts_a_new_one():
    two_sizes = built("segmentation", segmentation_raw_batches(0, n_batches=4))  # sizes alternate
    got = []
    coalescer = Coalescer(got.append)
    for b in two_sizes:
        coalescer.add(b)
    coalescer.flush()
    assert [len(b) for b in got] == [len(b) for b in two_sizes]
    assert [b.images.shape[2:] for b in got] == [b.images.shape[2:] for b in two_sizes]


def test_the_loaders_arrays_are_let_go_once_added():
    images = np.random.default_rng(0).integers(0, 256, (4, 3, 24, 32), dtype=np.uint8)
    labels = torch.ones(4, 4)
    batch = built("classification", [(torch.from_numpy(images), labels)])[0]
    source = batch.images.base if batch.images.base is not None else batch.images
    ref = weakref.ref(source)
    coalescer = Coalescer(lambda b: None)
    coalescer.add(batch)
    assert coalescer.pending_samples == 4
    del images, source
    assert ref() is None  # the pending batch holds a copy in the coalescer's buffer, not the loader's array


def test_the_buffer_is_reused_only_once_no_joined_batch_refers_to_it():
    batches = built("classification", classification_raw_batches(0, n_batches=10, batch_size=4, sizes=ONE_SIZE))
    per_image = batches[0].images[0].nbytes
    kept = []
    coalescer = Coalescer(kept.append, max_bytes=16 * per_image)  # four batches of 4 per joined batch

    def feed(part):
        for b in part:
            coalescer.add(b)
        coalescer.flush()

    feed(batches[0:4])
    batches[0:4] = [None] * 4  # only the joined batch holds the buffer now: one view of it
    feed(batches[4:8])
    first, second = kept  # the first is held while the second is joined: a buffer of its own
    assert not np.shares_memory(first.images, second.images)
    expected = first.images.copy()
    address = coalescer._spare["images"].__array_interface__["data"][0]  # the second's buffer (not held here)
    kept.pop()
    second = None
    batches[4:8] = [None] * 4  # the second joined batch is gone (its parts too); the first is still held
    feed(batches[8:10])
    third = kept[1]
    assert third.images.__array_interface__["data"][0] == address  # the second's buffer, again
    assert not np.shares_memory(third.images, first.images) and np.array_equal(first.images, expected)


def test_ctrl_c_while_flushing_leaves_the_new_batch_pending():
    batches = built("classification", classification_raw_batches(0, n_batches=3, batch_size=4))  # sizes alternate
    calls = []

    def submit(b):
        calls.append(len(b))
        if len(calls) == 1:
            raise InterruptedAfterBatch  # a Ctrl-C once the first batch was analysed

    coalescer = Coalescer(submit)
    coalescer.add(batches[0])
    with pytest.raises(InterruptedAfterBatch):
        coalescer.add(batches[1])  # another size: the first is flushed, and interrupted
    assert coalescer.pending_samples == len(batches[1])
    coalescer.flush()
    assert calls == [len(batches[0]), len(batches[1])]


# ---------------------------------------------------------------- whole runs: joined or not, the same result

def uint8_masks(raw):
    out = []
    for images, masks in raw:
        masks = masks.to(torch.uint8)
        masks[0, :2, :2] = 255  # ignored
        out.append((images, masks))
    return out


RUNS = {
    "segmentation": (data_gradients.SegmentationAnalysisManager,
                     lambda s: segmentation_raw_batches(s, n_batches=10, sizes=ONE_SIZE), dict(ignore_labels=[255])),
    "segmentation_uint8": (data_gradients.SegmentationAnalysisManager,
                           lambda s: uint8_masks(segmentation_raw_batches(s, n_batches=10, sizes=ONE_SIZE)),
                           dict(ignore_labels=[255])),
    "detection": (data_gradients.DetectionAnalysisManager,
                  lambda s: detection_raw_batches(s, n_batches=10, sizes=ONE_SIZE),
                  dict(bbox_format="xyxy", normalized_boxes=False)),
    "classification": (data_gradients.ClassificationAnalysisManager,
                       lambda s: classification_raw_batches(s, n_batches=10, sizes=ONE_SIZE), dict(multi_label=True)),
}


def run_tree(case, tmp_path, workers, monkeypatch, join: bool):
    manager, raw, kw = RUNS[case]
    updates = []
    original = Producer.update

    def counting(self, batch, split, seq):
        updates.append(len(batch))
        return original(self, batch, split, seq)

    with monkeypatch.context() as patch:
        patch.setattr(Producer, "update", counting)
        patch.setattr(coalescing, "MAX_BYTES", coalescing.MAX_BYTES if join else 0)
        report = manager(raw(0), raw(1), num_classes=4, log_dir=tmp_path, verbose=False, workers=workers, writers=[],
                         samples_to_visualize=3, **kw).run()
    tree = {name: to_jsonable(result) for name, result in report.results.items()}
    for name, result in report.results.items():
        tree[name]["images"] = [{s: [np.asarray(i).tolist() for i in imgs] for s, imgs in g.images.items()}
                                for g in result.images]
    tree["splits"] = {s: (v.samples, v.batches, v.complete) for s, v in report.splits.items()}
    assert not report.failed_features
    return tree, updates


@pytest.mark.parametrize("case", list(RUNS))
def test_joined_batches_give_the_result_of_the_loaders_batches(case, tmp_path, monkeypatch):
    joined, joined_updates = run_tree(case, tmp_path / "joined", 1, monkeypatch, join=True)
    apart, apart_updates = run_tree(case, tmp_path / "apart", 1, monkeypatch, join=False)
    assert len(apart_updates) == 20 and len(joined_updates) < len(apart_updates)  # joining happened
    assert sum(joined_updates) == sum(apart_updates)
    isclose_tree(joined, apart)  # every count, finding and sample exactly; float sums to 1e-9 (summed in another order)


def test_joined_batches_with_workers(tmp_path, monkeypatch):
    # with more workers than joined batches, and with the loader's batches apart: one result
    joined, _ = run_tree("segmentation_uint8", tmp_path / "joined", 2, monkeypatch, join=True)
    apart, _ = run_tree("segmentation_uint8", tmp_path / "apart", 1, monkeypatch, join=False)
    isclose_tree(joined, apart)
