"""Empty splits and splits shorter than their loader promised are findings."""
from __future__ import annotations

import torch
from conftest import classification_raw_batches
from torch.utils.data import DataLoader, Dataset

from data_gradients import ClassificationAnalysisManager


class Images(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.full((3, 8, 8), i % 250, dtype=torch.uint8), i % 3


def run(tmp_path, train, val=None, **kw):
    report = ClassificationAnalysisManager(train, val, num_classes=3, log_dir=tmp_path, verbose=False, writers=[],
                                           features=["split_sizes"], **kw).run()
    return report, {f.key: f for f in report.results["split_sizes"].findings}


def test_a_generator_used_twice_gives_an_empty_val_split(tmp_path):
    batches = iter(classification_raw_batches(0, num_classes=3, multi_label=False))
    report, found = run(tmp_path, batches, batches)
    assert found["empty_split"].severity == "warning" and found["empty_split"].counts == {"val": 1}
    assert "no sample was read from val" in found["empty_split"].message
    assert report.results["split_sizes"].scalars["samples"] == {"train": 24, "val": 0}


def test_an_empty_train_split_is_an_error(tmp_path):
    _, found = run(tmp_path, DataLoader(Images(0), batch_size=4), DataLoader(Images(8), batch_size=4))
    assert found["empty_split"].severity == "error" and found["empty_split"].counts == {"train": 1}
    assert "short_split" not in found


def test_a_loader_that_drops_samples_gives_a_short_split(tmp_path):
    halve = lambda samples: torch.utils.data.default_collate(samples[: len(samples) // 2])  # noqa: E731
    _, found = run(tmp_path, DataLoader(Images(40), batch_size=4), DataLoader(Images(40), batch_size=4, collate_fn=halve))
    assert set(found) == {"short_split"}
    assert found["short_split"].severity == "warning" and found["short_split"].counts == {"val": 20}
    assert "val: 20 samples read of the 40 its length promised (50%)" in found["short_split"].message


def test_max_batches_caps_the_promise_and_full_splits_are_quiet(tmp_path):
    report, found = run(tmp_path, DataLoader(Images(40), batch_size=4), DataLoader(Images(10), batch_size=4),
                        max_batches=2)
    assert found == {}
    assert report.results["split_sizes"].scalars["samples"] == {"train": 8, "val": 8}
