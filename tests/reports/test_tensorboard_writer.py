"""The TensorBoard writer's histograms along the stream: cumulative per window, empty runs written
as one bucket without changing what the Distributions tab draws; sample pictures as images."""
from __future__ import annotations

import io

import numpy as np
import pytest
from tensorboard.compat.proto.summary_pb2 import HistogramProto
from tensorboard.plugins.distribution.compressor import compress_histogram_proto
from tensorboard.util import img_mime_type_detector

from data_gradients.reports.tensorboard_writer import _histograms_along_stream, _picture
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


def _photo(h, w, channels):
    """A smooth picture with a saturated block starting at an odd column (as a mask or box overlay)."""
    y, x = np.mgrid[0:h, 0:w]
    picture = np.zeros((h, w, channels), dtype=np.uint8)
    picture[...] = (np.stack([x * 2 % 256, 160 + 0 * x, y * 3 % 256, 255 + 0 * x], axis=-1)[..., :channels])
    picture[12:24, 17:33] = (230, 20, 20, 255)[:channels]
    return picture


@pytest.mark.parametrize("channels, fmt", [(3, "JPEG"), (1, "JPEG"), (4, "PNG")])
def test_sample_pictures_are_compact_images_of_their_size_close_to_the_pixels(channels, fmt):
    from PIL import Image

    array = _photo(48, 64, channels)
    summary = _picture("samples/0", array)
    value = summary.value[0]
    assert value.tag == "samples/0"
    assert (value.image.height, value.image.width, value.image.colorspace) == (48, 64, channels)
    decoded = Image.open(io.BytesIO(value.image.encoded_image_string))
    assert decoded.format == fmt and decoded.size == (64, 48)
    # what TensorBoard's image plugin answers the browser with
    assert img_mime_type_detector.from_bytes(value.image.encoded_image_string) == f"image/{fmt.lower()}"
    pixels = np.asarray(decoded).reshape(48, 64, channels).astype(int)
    if fmt == "PNG":  # lossless
        assert np.array_equal(pixels, array)
    else:
        assert np.abs(pixels - array).mean() < 2
        # no chroma subsampling: the colour edge of the block stays sharp (4:2:0 blurs it: max error 135)
        assert np.abs(pixels - array)[12:24, 15:19].max() < 40


def test_pictures_that_are_not_uint8_go_through_tensorboards_own_encoder():
    value = _picture("samples/1", np.full((4, 5, 3), 0.5, dtype=np.float32)).value[0]
    assert (value.image.height, value.image.width) == (4, 5)
