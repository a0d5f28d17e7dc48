"""The TensorBoard writer's histograms along the stream: cumulative per window, empty runs written
as one bucket without changing what the Distributions tab draws."""
from __future__ import annotations

import numpy as np
import pytest
from tensorboard.compat.proto.summary_pb2 import HistogramProto
from tensorboard.plugins.distribution.compressor import compress_histogram_proto

from data_gradients.reports.tensorboard_writer import _histograms_along_stream
from data_gradients.results import Histogram


def full_proto(edges, counts):
    """Every bucket written, as before the empty runs were merged."""
    counts = np.asarray(counts, dtype=np.float64)
    values = (edges[:-1] + edges[1:]) / 2
    nz = np.flatnonzero(counts)
    return HistogramProto(min=edges[nz[0]], max=edges[nz[-1] + 1], num=counts.sum(), sum=counts @ values,
                          sum_squares=counts @ values**2, bucket_limit=edges[1:].tolist(), bucket=counts.tolist())


@pytest.mark.parametrize("seed", range(5))
def test_each_step_counts_the_windows_so_far_and_draws_as_every_bucket_would(seed):
    rng = np.random.default_rng(seed)
    edges = np.linspace(0.0, 4.0, 41)
    windows = rng.integers(0, 4, (6, 40)) * (rng.random((6, 40)) < 0.2)  # sparse: runs of empty buckets
    windows[0] = 0
    windows[0, 7] = 3  # the first window fills one bucket
    h = Histogram(key="k", title="t", x_label="x", counts={"train": windows.sum(axis=0)}, bin_edges=edges,
                  stream_steps={"train": np.arange(1, 7) * 10}, stream_counts={"train": windows})
    out = _histograms_along_stream("f/k", h, "train")
    assert [step for step, _ in out] == [10, 20, 30, 40, 50, 60]
    for k, (_, summary) in enumerate(out):
        written = summary.value[0].histo
        cumulative = windows[:k + 1].sum(axis=0)
        assert written.num == cumulative.sum() and len(written.bucket) <= 2 * np.count_nonzero(cumulative)
        reference = full_proto(edges, cumulative)
        assert (written.min, written.max, written.sum, written.sum_squares) == pytest.approx(
            (reference.min, reference.max, reference.sum, reference.sum_squares))
        assert compress_histogram_proto(written) == compress_histogram_proto(reference)


def test_value_bins_end_at_their_value_and_a_histogram_without_stream_is_not_written():
    edges = np.arange(257, dtype=np.float64)  # bin v holds the value v
    counts = np.zeros((2, 256), dtype=np.int64)
    counts[0, 255] = 2
    counts[1, 0] = 1
    h = Histogram(key="c", title="t", x_label="x", counts={"train": counts.sum(axis=0)}, bin_edges=edges,
                  stream_steps={"train": np.array([2, 3])}, stream_counts={"train": counts})
    (_, first), (_, last) = _histograms_along_stream("f/c", h, "train")
    assert first.value[0].histo.max == 255 and list(first.value[0].histo.bucket_limit) == [254.0, 255.0]
    assert (last.value[0].histo.min, last.value[0].histo.max, last.value[0].histo.num) == (0, 255, 3)
    assert _histograms_along_stream("f/c", Histogram(key="c", title="t", x_label="x", counts={"train": counts[0]},
                                                     bin_edges=edges), "train") == []
