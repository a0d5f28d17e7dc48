"""A TensorBoard event file written directly, with a vectorised CRC-32C.

An event file is a TFRecord file of ``Event`` protos: per record its length (uint64), the
masked CRC-32C of the length, the bytes, the masked CRC-32C of the bytes. TensorBoard's
own writer (under torch's ``SummaryWriter``) computes the CRC in pure Python, one byte at
a time: ~0.15 s per MB, in a background thread that holds the GIL, so a report's figures
and sample pictures (1-3 MB) cost a quarter of all the writing. Here the same checksum is
computed with numpy (``crc32c``), the records are written in the calling thread, and the
summaries are the ones ``SummaryWriter`` builds (``torch.utils.tensorboard.summary``).
"""
from __future__ import annotations

import itertools
import os
import socket
import struct
import time
from functools import lru_cache
from pathlib import Path
from typing import List

import numpy as np

_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_COUNTER = itertools.count()


def _table() -> np.ndarray:
    crc = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        crc = np.where(crc & 1, (crc >> 1) ^ np.uint32(_POLY), crc >> 1).astype(np.uint32)
    return crc


TABLE = _table()
_TABLE_LIST: List[int] = TABLE.tolist()


def _update(register: int, data: bytes) -> int:
    """The CRC register after ``data`` (no initial or final inversion): one byte at a time."""
    table = _TABLE_LIST
    for byte in data:
        register = table[(register ^ byte) & 0xFF] ^ (register >> 8)
    return register


_LANE = 32  # bytes per lane of the vectorised CRC


@lru_cache(maxsize=64)
def _zeros_shift(length: int) -> np.ndarray:
    """The register after ``length`` zero bytes, as a linear map: (4, 256) tables, one per byte of
    the starting register (the update is linear over GF(2), so the tables add up by XOR). A power
    of two times ``_LANE`` is built from half its length, applied twice."""
    if length > _LANE and length % 2 == 0:
        half = _zeros_shift(length // 2)
        basis = _shift(half, _shift(half, np.uint32(1) << np.arange(32, dtype=np.uint32)))
    else:
        basis = np.uint32(1) << np.arange(32, dtype=np.uint32)
        for _ in range(length):
            basis = TABLE[basis & 0xFF] ^ (basis >> 8)
    tables = np.zeros((4, 256), dtype=np.uint32)
    index = np.arange(256)
    for bit in range(32):
        tables[bit // 8, (index >> (bit % 8)) & 1 == 1] ^= basis[bit]
    return tables


def _shift(tables: np.ndarray, registers: np.ndarray) -> np.ndarray:
    """``registers`` moved over the zero bytes ``tables`` stand for (element-wise)."""
    return (tables[0][registers & 0xFF] ^ tables[1][(registers >> 8) & 0xFF]
            ^ tables[2][(registers >> 16) & 0xFF] ^ tables[3][registers >> 24])


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data``. From 2 KiB on the input is cut into lanes of ``_LANE``
    bytes, checksummed side by side with numpy (each from a zero register); the lanes are then
    chained pairwise, level by level: the register of two adjacent pieces is (the first's register,
    moved over the second's length of zeros) XOR (the second's). Lanes of zeros before the first
    (a zero register stays zero) make the count a power of two, so every level pairs equal lengths."""
    n = len(data)
    if n < 2048:  # ~0.1 ms either way
        return _update(0xFFFFFFFF, data) ^ 0xFFFFFFFF
    count = n // _LANE
    head = n - count * _LANE
    register = _update(0xFFFFFFFF, data[:head])
    width = 1 << (count - 1).bit_length()
    columns = np.zeros((_LANE, width), dtype=np.uint32)
    columns[:, width - count:] = np.frombuffer(data, dtype=np.uint8, count=count * _LANE, offset=head).reshape(count, _LANE).T
    lanes = np.zeros(width, dtype=np.uint32)
    for column in columns:
        lanes = TABLE[(lanes ^ column) & 0xFF] ^ (lanes >> 8)
    # the register before the first lane, moved over it, joins that lane
    lanes[width - count] ^= _shift(_zeros_shift(_LANE), np.array([register], dtype=np.uint32))[0]
    length = _LANE
    while len(lanes) > 1:
        lanes = _shift(_zeros_shift(length), lanes[0::2]) ^ lanes[1::2]
        length *= 2
    return int(lanes[0]) ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The CRC as TFRecord stores it (rotated and offset)."""
    x = crc32c(data)
    return (((x >> 15) | (x << 17)) + 0xA282EAD8) & 0xFFFFFFFF


class EventFile:
    """``events.out.tfevents.<time>.<host>.<pid>.<n>`` in ``log_dir``, named and started as
    TensorBoard's writer does; ``add_summary`` appends a ``Summary`` proto at a step."""

    def __init__(self, log_dir: Path):
        from tensorboard.compat.proto import event_pb2

        self._event = event_pb2.Event
        name = "events.out.tfevents.%010d.%s.%s.%s" % (time.time(), socket.gethostname(), os.getpid(), next(_COUNTER))
        self.path = Path(log_dir) / name
        self._file = open(self.path, "wb")
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2",
                                    source_metadata=event_pb2.SourceMetadata(writer="data_gradients")))

    def add_summary(self, summary, step: int = 0) -> None:
        self._write(self._event(summary=summary, wall_time=time.time(), step=step))

    def _write(self, event) -> None:
        data = event.SerializeToString()
        header = struct.pack("<Q", len(data))
        self._file.write(header + struct.pack("<I", masked_crc32c(header)) + data
                         + struct.pack("<I", masked_crc32c(data)))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "EventFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
