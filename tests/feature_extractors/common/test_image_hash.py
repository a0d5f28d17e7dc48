"""The image hash: the int8 key product is exact with every kernel, the hash follows its
definition for every row length, tells apart images that differ in one byte, and finds the same
duplicates as SHA-256 over the pixels (the hash it replaced)."""
from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest

from data_gradients.batch import ImageBatch, pixel_kernels
from data_gradients.context import AnalysisContext
from data_gradients.feature_extractors.common import duplicates, image_hash
from data_gradients.feature_extractors.common.duplicates import Duplicates
from data_gradients.feature_extractors.common.image_hash import KEYS, image_hashes, row_bytes, row_products
from data_gradients.reports.json_writer import to_jsonable


def reference_hash(image: np.ndarray) -> int:
    """The definition, slowly: rows of K bytes as int8 times the first K key rows, in int64; SHA-256
    of the shape, the products as little-endian int32 and the leftover bytes, cut to 8 bytes."""
    data = np.ascontiguousarray(image).reshape(-1).view(np.int8)
    k = row_bytes(data.size)
    rows = data.size // k
    products = data[:rows * k].reshape(rows, k).astype(np.int64) @ KEYS[:k].astype(np.int64)
    assert np.abs(products).max(initial=0) < 2**31  # int32 holds them exactly
    h = hashlib.sha256(np.asarray(image.shape, dtype="<i8").tobytes())
    h.update(products.astype("<i4").tobytes())
    h.update(data[rows * k:].tobytes())
    return int(np.frombuffer(h.digest()[:8], dtype="<u8")[0])


def sha256_hashes(images: np.ndarray) -> np.ndarray:
    """The hash duplicates used before: SHA-256 of the shape and the pixels, cut to 8 bytes."""
    out = []
    for image in np.ascontiguousarray(images):
        h = hashlib.sha256(np.asarray(image.shape, dtype="<i8").tobytes())
        h.update(image)
        out.append(h.digest()[:8])
    return np.frombuffer(b"".join(out), dtype="<u8").astype(np.uint64)


def test_row_bytes_divide_the_image_when_a_power_of_two_from_512_does():
    assert row_bytes(3 * 720 * 1280) == 4096 and row_bytes(3 * 480 * 640) == 4096
    assert row_bytes(3 * 224 * 224) == 1024 and row_bytes(3 * 16 * 32) == 512
    assert row_bytes(3 * 299 * 299) == 4096 and row_bytes(3 * 7 * 9) == 4096  # leftover bytes instead
    assert row_bytes(0) == 4096


KERNELS = [image_hash.INT_MM, image_hash.FLOAT32, image_hash.NUMPY]
if getattr(pixel_kernels.KERNELS, "VNNI", 0):  # test_vnni_is_used_where_the_cpu_has_it: wherever the CPU can
    KERNELS.append(image_hash.VNNI)


def _cpu_has_vnni() -> bool:
    """From Linux's /proc/cpuinfo (elsewhere: what the module says, which is then only checked for consistency)."""
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return bool(pixel_kernels.KERNELS.VNNI)
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return {"avx512f", "avx512bw", "avx512_vnni"} <= set(flags)


def test_vnni_is_used_where_the_cpu_has_it():
    assert pixel_kernels.KERNELS is not None, "data_gradients.batch._pixel_kernels is not built (or stale): ./dev setup"
    has = _cpu_has_vnni()
    assert pixel_kernels.KERNELS.VNNI == int(has)
    assert (image_hash._probe() == image_hash.VNNI) == has
    if not has:
        with pytest.raises(RuntimeError, match="VNNI"):
            pixel_kernels.key_products(np.zeros((1, 64), np.int8), np.zeros((16, 16, 4), np.uint8))


def worst_rows(k: int) -> np.ndarray:
    """Rows whose products are the largest in size: per key column, every byte at -128 or 127 with the sign
    of its key (all products positive: the float32 kernel's sums reach 2**24 per block of 1024), and the
    opposite signs; plus constant rows."""
    signs = KEYS[:k].T < 0
    return np.concatenate([np.where(signs, -128, 127), np.where(signs, 127, -128),
                           np.full((2, k), -128), np.full((1, k), 127)]).astype(np.int8)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("k", [512, 1024, 2048, 4096, 1500])
def test_every_kernel_gives_the_exact_integer_products(monkeypatch, kernel, k):
    rng = np.random.default_rng(k)
    rows = np.concatenate([worst_rows(k), rng.integers(-128, 128, (300, k), dtype=np.int8)])  # 300: several blocks
    exact = rows.astype(np.int64) @ KEYS[:k].astype(np.int64)
    if k == 4096:  # one float32 product over the whole row would round these
        assert np.abs(exact).max() > 2**24
    monkeypatch.setitem(image_hash._KERNEL, "choice", kernel)
    got = row_products(rows)
    assert got.dtype == np.int32 and np.array_equal(got, exact)
    assert np.array_equal(row_products(rows[::2]), exact[::2])  # strided rows
    assert row_products(rows[:0]).shape == (0, image_hash.KEY_COLUMNS)


def test_the_probe_takes_the_faster_kernel(monkeypatch):
    monkeypatch.setattr(pixel_kernels, "KERNELS", None)  # without the compiled VNNI loop: the faster of the others

    def slow(rows):
        time.sleep(0.05)
        return image_hash._numpy_products(rows)

    monkeypatch.setattr(image_hash, "_int_mm_products", slow)
    assert image_hash._probe() == image_hash.FLOAT32
    monkeypatch.undo()
    monkeypatch.setattr(pixel_kernels, "KERNELS", None)
    monkeypatch.setattr(image_hash, "_float_products", slow)
    assert image_hash._probe() == image_hash.INT_MM
    monkeypatch.undo()
    monkeypatch.setattr(pixel_kernels, "KERNELS", None)
    monkeypatch.setattr(image_hash, "torch", None)
    assert image_hash._probe() == image_hash.NUMPY


def test_the_kernel_is_picked_once_per_process(monkeypatch):
    calls = []
    monkeypatch.setitem(image_hash._KERNEL, "choice", None)
    monkeypatch.setattr(image_hash, "_probe", lambda: calls.append(1) or image_hash.NUMPY)
    rows = np.ones((3, 512), dtype=np.int8)
    row_products(rows)
    row_products(rows)
    assert calls == [1] and image_hash.kernel() == image_hash.NUMPY


def test_a_failing_int_mm_falls_back_to_float32(monkeypatch):
    def fails(rows):
        raise NotImplementedError("no int8 kernel")

    monkeypatch.setattr(image_hash, "_int_mm_products", fails)
    monkeypatch.setitem(image_hash._KERNEL, "choice", image_hash.INT_MM)
    rows = np.random.default_rng(1).integers(-128, 128, (5, 4096), dtype=np.int8)
    assert np.array_equal(row_products(rows), rows.astype(np.int64) @ KEYS.astype(np.int64))
    assert image_hash.kernel() == image_hash.FLOAT32


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("shape", [(3, 64, 64), (3, 720, 64), (3, 224, 224), (3, 16, 32), (3, 45, 61), (3, 7, 9), (1, 1, 1)])
def test_hashes_follow_the_definition(monkeypatch, kernel, shape):
    images = np.random.default_rng(sum(shape)).integers(0, 256, (3, *shape), dtype=np.uint8)
    images[1] = 255
    expected = [reference_hash(im) for im in images]
    monkeypatch.setitem(image_hash._KERNEL, "choice", kernel)
    assert image_hashes(images).tolist() == expected
    assert image_hashes(images[::-1]).tolist() == expected[::-1]  # a non-contiguous batch


def test_known_hash_values_stay_the_same():
    # the keys and the definition must never change silently: states of other processes, machines
    # and versions are merged by comparing hashes
    images = (np.arange(2 * 3 * 32 * 48).reshape(2, 3, 32, 48) % 251).astype(np.uint8)
    assert image_hashes(images).tolist() == [11666615871593638337, 9763352915971920109]


def test_every_one_byte_change_gives_another_hash():
    base = np.random.default_rng(5).integers(0, 256, (3, 16, 64), dtype=np.uint8)  # 3072 bytes: 3 rows of 1024
    flat = base.reshape(-1)
    changed = np.repeat(base[None], flat.size, axis=0)
    positions = np.arange(flat.size)
    changed.reshape(flat.size, -1)[positions, positions] += np.uint8(1 + positions % 255)
    hashes = image_hashes(np.concatenate([base[None], changed]))
    assert len(set(hashes.tolist())) == flat.size + 1


def duplicate_batches(rng):
    """Batches of two sizes with copies inside a batch, across batches and across splits."""
    pool = rng.integers(0, 256, (6, 3, 24, 32), dtype=np.uint8)
    small = rng.integers(0, 256, (3, 3, 7, 9), dtype=np.uint8)
    picks = rng.integers(0, 6, 40)
    out, next_id = [], 0
    for start in range(0, 40, 8):
        imgs = pool[picks[start:start + 8]]
        out.append(("train" if start < 24 else "val", imgs, next_id))
        next_id += len(imgs)
        out.append(("train", small[rng.integers(0, 3, 4)], next_id))
        next_id += 4
    return out


def test_duplicates_and_leaks_are_the_same_as_with_sha256_over_the_pixels(monkeypatch):
    ctx = AnalysisContext(task="classification", num_classes=3, class_ids=(0, 1, 2))
    batches = duplicate_batches(np.random.default_rng(7))

    def run():
        ex = Duplicates(ctx)
        for split, imgs, first in batches:
            ex.update(ImageBatch(images=imgs, sample_ids=np.arange(first, first + len(imgs)),
                                 nonfinite_pixels=np.zeros(len(imgs), np.int64), source_channels=3), split)
        return to_jsonable(ex.compute())

    new = run()
    monkeypatch.setattr(duplicates, "image_hashes", sha256_hashes)
    old = run()
    assert new == old
    assert new["scalars"]["duplicate_groups"]["train"] > 2 and new["scalars"]["images_also_in_train"]["val"] > 0


@pytest.mark.parametrize("shape", [(1, 64, 64), (1, 7, 5), (1, 33, 100), (3, 24, 40)])  # whole rows, leftovers, none
def test_offset_digests_are_the_digests_of_the_shifted_bytes(shape):
    rng = np.random.default_rng(4)
    images = rng.integers(-128, 126, (5,) + shape, dtype=np.int8)  # int8 values + 1 stay in range
    images[0] = -128
    images[1] = 125
    shifted = (images + np.int8(1)).view(np.uint8)
    assert (image_hash.image_digests(images.view(np.uint8), offset=1) == image_hash.image_digests(shifted)).all()
