"""PNG bytes from OpenCV: the pixels kept, the resolution recorded in a valid chunk where PNG wants it."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from data_gradients.png import encode_png, with_resolution


def _chunks(png: bytes):
    """(type, data, CRC matches) of each chunk of a PNG, in order."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, out = 8, []
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        kind, data = png[at + 4:at + 8], png[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length:at + 12 + length])
        out.append((kind, data, crc == zlib.crc32(kind + data)))
        at += 12 + length
    return out


def test_the_png_records_its_resolution_in_a_valid_chunk_before_the_pixels():
    pixels = np.random.default_rng(0).integers(0, 256, (23, 37, 3), dtype=np.uint8)  # odd sizes, noise: every row
    png = encode_png(pixels, 3, dpi=150)
    chunks = _chunks(png)
    kinds = [k for k, _, _ in chunks]
    assert all(ok for _, _, ok in chunks) and kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert kinds.count(b"pHYs") == 1 and kinds.index(b"pHYs") < kinds.index(b"IDAT")
    per_metre = struct.unpack(">IIB", dict((k, d) for k, d, _ in chunks)[b"pHYs"])
    assert per_metre == (5906, 5906, 1)  # 150 / 0.0254 m
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")), pixels)
    assert with_resolution(png, 300) == png  # one already there: kept
    with pytest.raises(ValueError, match="IHDR"):
        with_resolution(b"GIF89a" + bytes(40), 150)


def test_without_a_resolution_no_chunk_is_added_and_any_rgb_view_is_encoded():
    pixels = np.random.default_rng(1).integers(0, 256, (9, 12, 3), dtype=np.uint8)
    view = pixels[::2, ::-1]  # strided and reversed
    png = encode_png(view, 1)
    assert b"pHYs" not in png and np.array_equal(np.asarray(Image.open(io.BytesIO(png))), view)
