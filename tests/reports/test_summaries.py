"""Our TensorBoard summaries are byte for byte those of ``torch.utils.tensorboard.summary``."""
from __future__ import annotations

import numpy as np
import pytest
from torch.utils.tensorboard import summary as torch_summary

from data_gradients.reports import summaries


@pytest.mark.parametrize("text", ["", "plain", "### Markdown | table\n| a | b |\n", "Ünïcödé ½ µm — 日本"])
def test_text_cards_are_torchs(text):
    ours = summaries.text_summary("feature/tables", text)
    assert ours.SerializeToString() == torch_summary.text("feature/tables", text).SerializeToString()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_histograms_are_torchs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    limits, counts = np.sort(rng.random(n)).tolist(), rng.integers(0, 10 ** 6, n).astype(float).tolist()
    kwargs = dict(min=float(rng.random()), max=float(rng.random() * 9), num=float(sum(counts)), sum=float(rng.random()),
                  sum_squares=float(rng.random() * 1e9), bucket_limits=limits, bucket_counts=counts)
    ours = summaries.histogram_summary("f/h", **kwargs)
    assert ours.SerializeToString() == torch_summary.histogram_raw("f/h", **kwargs).SerializeToString()


def test_hparams_sessions_are_torchs():
    hparams = {"dataset": "cityscapes", "task": "segmentation", "num_classes": 19, "seed": 0, "max_batches": None,
               "ratio": 0.25, "flag": True, "threshold.blur": 1e-3, "samples.train": 2975}
    _, start, end = torch_summary.hparams(hparams, {})
    ours = summaries.hparams_session(hparams)
    assert [s.SerializeToString() for s in ours] == [start.SerializeToString(), end.SerializeToString()]
    with pytest.raises(ValueError, match="listing"):
        summaries.hparams_session({"listing": [1, 2]})


def test_the_hparams_plugin_constants_are_tensorboards():
    from tensorboard.plugins.hparams import metadata

    assert (summaries.HPARAMS_PLUGIN, summaries.HPARAMS_VERSION, summaries.SESSION_START_TAG,
            summaries.SESSION_END_TAG) == (metadata.PLUGIN_NAME, metadata.PLUGIN_DATA_VERSION,
                                           metadata.SESSION_START_INFO_TAG, metadata.SESSION_END_INFO_TAG)
