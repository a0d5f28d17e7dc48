"""Vectorised sample keys: bit for bit the extractor's own ``sample_key``."""
import numpy as np
import pytest

from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.base import FeatureExtractor
from data_gradients.feature_extractors.sample_reservoir import sample_keys


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**40 + 7])
@pytest.mark.parametrize("split", ["train", "val", "test", "a much longer split name"])
def test_sample_keys_equal_sample_key_bit_for_bit(seed, split):
    ex = FeatureExtractor(AnalysisContext(task="classification", num_classes=2, class_ids=(0, 1), seed=seed))
    rng = np.random.default_rng(seed % 1000)
    ids = np.concatenate([np.arange(3000), rng.integers(0, 2**62, 3000), [2**63 - 1]])
    got = sample_keys(ex, split, ids)
    assert got.dtype == np.float64
    assert got.tolist() == [ex.sample_key(split, int(i)) for i in ids]
    assert sample_keys(ex, split, []).tolist() == []
