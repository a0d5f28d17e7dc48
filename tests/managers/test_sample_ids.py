"""Sample ids: dataset indices when a DataLoader's sampler tells them, stream positions otherwise."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import detection_raw_batches
from torch.utils.data import DataLoader, Dataset, IterableDataset
from torch.utils.data.distributed import DistributedSampler

from data_gradients import ClassificationAnalysisManager
from data_gradients.batch import DetectionBatchBuilder
from data_gradients.batch.select import select_samples
from data_gradients.managers.sample_ids import KIND_INDICES, KIND_POSITIONS, SampleIds
from data_gradients.sample_id import format_sample_id

BAD = (3, 17, 18)  # dataset indices whose label is out of range


class Labelled(Dataset):
    """Sample i: a 16x16 image of value i, label i % 4, except BAD indices (label 9)."""

    def __init__(self, n: int = 30):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.full((3, 16, 16), i, dtype=torch.uint8), (9 if i in BAD else i % 4)


class Stream(IterableDataset):
    def __iter__(self):
        return (Labelled()[i] for i in range(30))


def run(tmp_path, loader, **kw):
    return ClassificationAnalysisManager(loader, num_classes=4, log_dir=tmp_path, verbose=False, writers=[],
                                         features=["classification_class_frequency"], **kw).run()


def flagged(report, split="train"):
    found = [f for f in report.results["classification_class_frequency"].findings if f.key == "out_of_range"]
    return found[0].sample_ids[split] if found else []


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_shuffled_loader_reports_dataset_indices(tmp_path, workers, num_workers):
    loader = DataLoader(Labelled(), batch_size=4, shuffle=True, num_workers=num_workers,
                        generator=torch.Generator().manual_seed(5))
    report = run(tmp_path, loader, workers=workers)
    assert flagged(report) == list(BAD)
    assert report.splits["train"].samples == 30
    assert any("dataset indices" in n for n in report.notes)


def test_other_iterables_report_positions(tmp_path):
    shuffled = np.random.default_rng(0).permutation(30)
    batches = [(torch.stack([Labelled()[int(i)][0] for i in chunk]), torch.tensor([Labelled()[int(i)][1] for i in chunk]))
               for chunk in np.array_split(shuffled, 6)]
    report = run(tmp_path, batches)
    positions = sorted(int(np.flatnonzero(shuffled == b)[0]) for b in BAD)
    assert flagged(report) == positions
    assert any("positions in the loader's stream" in n for n in report.notes)


def test_an_iterable_dataset_reports_positions(tmp_path):
    report = run(tmp_path, DataLoader(Stream(), batch_size=4))
    assert flagged(report) == list(BAD)  # in order, so positions equal indices here
    assert any("positions" in n for n in report.notes)


def test_distributed_sampler_padding_is_not_counted(tmp_path):
    # 30 samples on 4 replicas: 32 slots, so ranks 2 and 3 each get one sample of rank 0 again
    seen, flagged_anywhere = [], []
    for rank, expected in ((0, 8), (1, 8), (2, 7), (3, 7)):
        sampler = DistributedSampler(Labelled(), num_replicas=4, rank=rank, shuffle=True, seed=1)
        report = run(tmp_path, DataLoader(Labelled(), batch_size=3, sampler=sampler))
        assert report.splits["train"].samples == expected, rank
        own = list(sampler)[:expected]  # the padding comes last
        assert flagged(report) == sorted(i for i in BAD if i in own)
        seen += own
        flagged_anywhere += flagged(report)
    assert sorted(seen) == list(range(30))  # every sample once, none twice
    assert sorted(flagged_anywhere) == list(BAD)


def test_sample_ids_iterates_indices_and_padding():
    sampler = DistributedSampler(Labelled(5), num_replicas=2, rank=1, shuffle=False)
    source = SampleIds(DataLoader(Labelled(5), batch_size=2, sampler=sampler))
    out = [(ids.tolist(), padding.tolist()) for _, ids, padding in source]
    assert out == [([1, 3], [False, False]), ([0], [True])]
    assert source.kind == KIND_INDICES
    plain = SampleIds([1, 2, 3])
    assert [ids for _, ids, _ in plain] == [None, None, None] and plain.kind == KIND_POSITIONS


def test_position_ids_carry_the_rank():
    ids = SampleIds([], rank=1, distributed=True).position_ids(122, 2)
    assert [format_sample_id(i) for i in ids] == ["1:122", "1:123"]
    assert [format_sample_id(i) for i in SampleIds([]).position_ids(5, 1)] == ["5"]
    assert format_sample_id(SampleIds([], rank=0, distributed=True).position_ids(7, 1)[0]) == "0:7"


def test_select_samples_keeps_detection_boxes_with_their_images():
    builder = DetectionBatchBuilder(4, (0, 1, 2, 3), (), bbox_format="xyxy", normalized_boxes=False)
    images, labels = detection_raw_batches(0, n_batches=1)[0]
    (batch,) = builder.build(images, labels, first_sample_id=10)
    keep = np.array([True, False, True])
    sub = select_samples(batch, keep)
    assert sub.sample_ids.tolist() == [10, 12]
    assert sub.images.shape[0] == 2 and sub.boxes_per_image.tolist() == batch.boxes_per_image[keep].tolist()
    for new, old in ((0, 0), (1, 2)):
        assert np.array_equal(sub.boxes[sub.box_image == new], batch.boxes[batch.box_image == old])
        assert np.array_equal(sub.box_classes[sub.box_image == new], batch.box_classes[batch.box_image == old])
    with pytest.raises(ValueError, match=r"`keep` must be \(3,\) bool"):
        select_samples(batch, np.ones(2, dtype=bool))


def test_batches_carry_their_stream_positions(tmp_path):
    from data_gradients import FeatureExtractor, register_feature
    from data_gradients.feature_extractors import unregister_feature

    seen = []

    class Positions(FeatureExtractor):
        name = "record_positions"
        tasks = ("classification",)

        def update(self, batch, split):
            seen.append((split, batch.sample_ids.tolist(), batch.stream_positions.tolist()))

        def compute(self):
            return self.new_result()

    register_feature(Positions)
    try:
        loader = DataLoader(Labelled(10), batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(1))
        ClassificationAnalysisManager(loader, num_classes=4, log_dir=tmp_path, verbose=False, writers=[], workers=1,
                                      features=["record_positions"]).run()
    finally:
        unregister_feature("record_positions")
    assert [p for _, _, pos in seen for p in pos] == list(range(10))  # the order the loader yielded
    assert sorted(i for _, ids, _ in seen for i in ids) == list(range(10))  # dataset indices, shuffled
    assert [i for _, ids, _ in seen for i in ids] != list(range(10))
