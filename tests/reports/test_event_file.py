"""The event file: the vectorised CRC-32C equals TensorBoard's byte-at-a-time one, and what is
written reads back with TensorBoard's own reader."""
from __future__ import annotations

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as reference_masked_crc32c
from torch.utils.tensorboard.summary import scalar, text

from data_gradients.reports.event_file import EventFile, crc32c, masked_crc32c

# around every switch of the algorithm: pure Python below 2 KiB, then lanes of 32 bytes, padded to a power of two
LENGTHS = [0, 1, 2, 3, 255, 2047, 2048, 2049, 2079, 2080, 8191, 8192, 8193, 16_416, 100_000, 262_145, 1_000_003]


@pytest.mark.parametrize("n", LENGTHS)
def test_crc_equals_tensorboards_on_random_bytes(n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    assert masked_crc32c(data) == reference_masked_crc32c(data)


@pytest.mark.parametrize("fill", [0x00, 0xFF, 0x5A])
def test_crc_equals_tensorboards_on_constant_bytes(fill):
    data = bytes([fill]) * 300_001
    assert masked_crc32c(data) == reference_masked_crc32c(data)


def test_crc_known_answers():
    # CRC-32C check value (RFC 3720 / iSCSI) and its all-zero test vector
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(bytes(32) * 1000) == crc32c(bytes(32000))


def test_written_events_read_back(tmp_path):
    png = b"\x89PNG" + bytes(20_000)  # any bytes: the reader does not decode the image
    from tensorboard.compat.proto.summary_pb2 import Summary

    with EventFile(tmp_path) as events:
        events.add_summary(scalar("feature/mean/train", 0.25))
        events.add_summary(text("feature/summary", "a table"))
        image = Summary.Image(height=2, width=3, colorspace=3, encoded_image_string=png)
        events.add_summary(Summary(value=[Summary.Value(tag="feature/plot", image=image)]))
    assert events.path.name.startswith("events.out.tfevents.")
    ea = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "tensors": 0, "images": 0})
    ea.Reload()
    assert ea.Scalars("feature/mean/train")[0].value == 0.25
    assert ea.Tensors("feature/summary/text_summary")[0].tensor_proto.string_val[0] == b"a table"
    (img,) = ea.Images("feature/plot")
    assert (img.encoded_image_string, img.width, img.height) == (png, 3, 2)


def test_two_files_in_one_folder_do_not_collide(tmp_path):
    with EventFile(tmp_path) as a, EventFile(tmp_path) as b:
        assert a.path != b.path
