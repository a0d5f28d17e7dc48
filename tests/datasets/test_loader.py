import numpy as np
import pytest
import torch

from data_gradients import ClassificationAnalysisManager
from data_gradients.datasets import ClassFolderDataset, SeededSubset, default_loader_workers, make_loader
from data_gradients.errors import ConfigurationError


def test_seeded_subset_is_uniform_sorted_and_reproducible():
    a, b = SeededSubset(1000, 100, seed=3), SeededSubset(1000, 100, seed=3)
    assert a.indices == b.indices == sorted(set(a.indices)) and len(a) == 100
    assert a.indices != SeededSubset(1000, 100, seed=4).indices
    assert a.fraction == 0.1 and "100 of 1000 samples (10.00 %)" in a.describe() and "seed 3" in a.describe()
    counts = np.zeros(10)
    for seed in range(300):  # every index equally likely: each tenth of the range gets about a tenth
        counts += np.bincount(np.asarray(SeededSubset(1000, 100, seed=seed).indices) // 100, minlength=10)
    assert np.all(np.abs(counts / counts.sum() - 0.1) < 0.01)
    assert len(SeededSubset(5, 10)) == 5


def test_make_loader(tmp_path, files):
    for k in range(7):
        files.image(tmp_path / ("x" if k % 2 else "y") / f"{k}.png", 5 + k, 6, seed=k)
    ds = ClassFolderDataset(tmp_path)
    loader = make_loader(ds, batch_size=3, workers=0)
    images, labels = next(iter(loader))
    assert isinstance(images, list) and [tuple(i.shape) for i in images] == [(3, 6, 6), (3, 8, 6), (3, 10, 6)]
    assert torch.equal(labels, torch.tensor([0, 0, 0]))
    subset = make_loader(ds, max_samples=4, seed=1, workers=0)
    assert list(subset.sampler) == SeededSubset(7, 4, seed=1).indices
    assert make_loader(ds, max_samples=100, workers=0).sampler.__class__.__name__ == "SequentialSampler"
    with pytest.raises(ConfigurationError, match="max_samples"):
        make_loader(ds, max_samples=0)
    assert 1 <= default_loader_workers() <= 8
    report = ClassificationAnalysisManager(subset, **ds.manager_kwargs(), writers=[], log_dir=tmp_path / "logs",
                                           verbose=False).run()
    assert report.splits["train"].samples == 4
    subset_finding = next(f for f in report.results["dataset_files"].findings if f.key == "random_subset")
    assert "4 of 7 samples (57.14 %)" in subset_finding.message
    assert report.results["dataset_files"].scalars["analysed_fraction"] == {"train": 4 / 7}
