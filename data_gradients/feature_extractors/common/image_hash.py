"""A 64-bit hash of each image's pixels and shape, for exact-duplicate detection.

Two steps per image:

1. its bytes, read as int8 and cut into rows of K bytes (:func:`row_bytes`: 4096, or a smaller
   power of two that divides the image size), are multiplied by a fixed pseudo-random int8 key
   matrix (K rows, :data:`KEY_COLUMNS` columns); bytes that do not fill a last row are kept as
   they are. The products are exact int32 sums (at most 4096 * 128 * 128 = 2**26 in size) of an
   int8 matrix product, one per batch (:func:`row_products`);
2. SHA-256 of the shape, the products and the leftover bytes (1/64 to 1/8 of the image), cut to
   8 bytes.

Why it still tells different images apart: two different images of one shape differ in some
row. For that row, a key column gives both images the same product only if the key at one
differing byte takes one particular value of its 256 (the others fixed), so all 16 columns
agree with probability at most 2**-128. Different inputs to SHA-256 share 64 bits with
probability about 2**-64, so a pair of different images collides with probability about 2**-64,
as with SHA-256 over the pixels. The keys come from SHAKE-128 of a fixed string: every process,
machine and version hashes alike, so states of several producers merge.

The product has three exact kernels. Where the CPU has AVX-512 VNNI and the compiled pixel loops are built
(:mod:`data_gradients.batch.pixel_kernels`), each process takes theirs (:data:`VNNI`: on an Intel Xeon (Ice
Lake), one thread, 0.19-0.21 ms per 640 x 480 image against 0.28-0.31 for ``torch._int_mm``, 0.038 against
0.060 per 224 x 224 image, in 512-bit registers; in 256-bit ones since, 0.11-0.13 ms per 640 x 480 image).
Elsewhere it takes the faster of the other two on its first batch
(:func:`kernel`): ``torch._int_mm``, fast where oneDNN has int8 dot-product instructions (VNNI:
about 7x faster than SHA-256 over the pixels) and a plain loop elsewhere (measured on an AMD EPYC
with AVX2 only: 281 ms per 720p batch of 8, 35 ms an image); and float32 matrix products of at most
:data:`FLOAT_KEY_ROWS` key rows, whose sums of int8 products never exceed 1024 * 128 * 128 = 2**24
and so are exact integers in float32 whatever order the BLAS adds them in (15 ms per batch there,
one thread). numpy's int64 product is the reference (and the fallback without torch).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any, Dict, Optional

import numpy as np

from data_gradients.batch import pixel_kernels
from data_gradients.fastest_way import fastest

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

ROW_BYTES = 4096  # image bytes per row of the key product (at most)
MIN_ROW_BYTES = 512  # shorter rows would make the products (hashed by SHA-256) too large a share of the image
KEY_COLUMNS = 16  # each column lets two different rows agree with probability <= 2**-8
KEYS = np.frombuffer(hashlib.shake_128(b"data_gradients image_hash: int8 row keys, v1").digest(ROW_BYTES * KEY_COLUMNS),
                     dtype=np.int8).reshape(ROW_BYTES, KEY_COLUMNS)
FLOAT_KEY_ROWS = 1024  # key rows per float32 product: its sums stay within 2**24, exact in float32
FLOAT_BLOCK_ROWS = 128  # rows converted to float32 at a time (2 MB at 4096 bytes a row: they stay in cache)
PROBE_ROWS = 256  # rows of the probe that picks the kernel (1 MB; ~1 ms with the float kernel)
VNNI, INT_MM, FLOAT32, NUMPY = "vnni", "int_mm", "float32", "numpy"
_KERNEL: Dict[str, Optional[str]] = {"choice": None}  # the kernel of this process, picked on first use


def row_products(rows: np.ndarray) -> np.ndarray:
    """(M, K) int8 rows times the first K rows of :data:`KEYS`: the exact (M, KEY_COLUMNS) int32 products,
    by the faster kernel of this process (:func:`kernel`)."""
    if not len(rows):
        return np.zeros((0, KEY_COLUMNS), dtype=np.int32)
    choice = kernel()
    if choice == VNNI:
        if getattr(pixel_kernels.KERNELS, "VNNI", 0):
            return _vnni_products(rows)
        _KERNEL["choice"] = choice = _probe()  # the compiled loops were switched off since (as the tests do)
    if choice == INT_MM:
        try:
            return _int_mm_products(rows)
        except (RuntimeError, NotImplementedError, TypeError):  # a torch without the CPU kernel after all
            _KERNEL["choice"] = choice = FLOAT32
    if choice == FLOAT32:
        return _float_products(rows)
    return _numpy_products(rows)


def kernel() -> str:
    """The kernel this process computes products with: :data:`VNNI` where the CPU has it and the pixel loops are
    built, else :data:`INT_MM` or :data:`FLOAT32` (the faster on a probe of :data:`PROBE_ROWS` random rows, each
    timed three times in turn, once per process), :data:`NUMPY` without torch. Every kernel gives the same
    integers: the choice changes the time, never a hash."""
    choice = _KERNEL["choice"]
    if choice is None:
        _KERNEL["choice"] = choice = _probe()
    return choice


def _probe() -> str:
    if getattr(pixel_kernels.KERNELS, "VNNI", 0):
        return VNNI
    if torch is None:
        return NUMPY
    if getattr(torch, "_int_mm", None) is None:
        return FLOAT32
    rows = np.random.default_rng(0).integers(-128, 128, (PROBE_ROWS, ROW_BYTES), dtype=np.int8)
    try:
        _int_mm_products(rows[:8])  # first calls set up the kernels
    except (RuntimeError, NotImplementedError, TypeError):
        return FLOAT32
    _float_products(rows[:8])
    return fastest({INT_MM: lambda: _int_mm_products(rows), FLOAT32: lambda: _float_products(rows)})[0]


def _vnni_products(rows: np.ndarray) -> np.ndarray:
    """The products by the compiled VNNI loop, which reads rows of a multiple of 64 bytes: other rows (no image
    gives them, see :func:`row_bytes`) are padded with zero bytes, whose products are zero whatever their keys."""
    k = rows.shape[1]
    if k % 64:
        rows = np.concatenate([rows, np.zeros((len(rows), -k % 64), dtype=rows.dtype)], axis=1)
    return pixel_kernels.key_products(rows, _packed_keys(rows.shape[1]))


@lru_cache(maxsize=None)
def _packed_keys(k: int) -> Any:
    """The first ``k`` key rows as :func:`~data_gradients.batch.pixel_kernels.key_products` wants them: (k / 4, 16, 4)
    uint8, each 4 rows' keys column by column, plus 128 (read only)."""
    flipped = (KEYS[:k].astype(np.int16) + 128).astype(np.uint8)
    packed = np.ascontiguousarray(flipped.reshape(k // 4, 4, KEY_COLUMNS).transpose(0, 2, 1))
    packed.flags.writeable = False
    return packed


def _int_mm_products(rows: np.ndarray) -> np.ndarray:
    return torch._int_mm(torch.from_numpy(_writeable(rows)), _int_mm_keys(rows.shape[1])).numpy()


@lru_cache(maxsize=None)
def _int_mm_keys(k: int) -> Any:
    return torch.from_numpy(np.array(KEYS[:k]))  # a writeable copy


def _float_products(rows: np.ndarray) -> np.ndarray:
    """The products as float32 matrix products of blocks of :data:`FLOAT_KEY_ROWS` columns (exact, see the
    module docstring), rows converted :data:`FLOAT_BLOCK_ROWS` at a time; the blocks' sums added in int32."""
    m, k = rows.shape
    keys = _float_keys(k)
    chunks, width = keys.shape[:2]
    if chunks * width != k:  # a row length no image gives (row_bytes: powers of two): zero columns added
        rows = np.concatenate([rows, np.zeros((m, chunks * width - k), dtype=np.int8)], axis=1)
    block = min(m, FLOAT_BLOCK_ROWS)
    converted = np.empty((block, chunks * width), dtype=np.float32)  # contiguous: converting is fastest so
    products = np.empty((chunks, block, KEY_COLUMNS), dtype=np.float32)
    out = np.empty((m, KEY_COLUMNS), dtype=np.int32)
    for start in range(0, m, block):
        part = rows[start:start + block]
        n = len(part)
        np.copyto(converted[:n], part, casting="unsafe")
        grouped = converted[:n].reshape(n, chunks, width).transpose(1, 0, 2)  # (chunks, n, width), strided
        if torch is not None:  # torch's BLAS, threads as torch is told (numpy's OpenBLAS takes every core)
            torch.bmm(torch.from_numpy(grouped), keys, out=torch.from_numpy(products[:, :n]))
        else:
            np.matmul(grouped, keys, out=products[:, :n])
        np.add.reduce(products[:, :n].astype(np.int32), axis=0, out=out[start:start + n])
    return out


@lru_cache(maxsize=None)
def _float_keys(k: int) -> Any:
    """The first ``k`` key rows as float32 (chunks, width, KEY_COLUMNS) blocks of at most :data:`FLOAT_KEY_ROWS`
    rows, zero rows past ``k``; a torch tensor when torch is there."""
    width = min(k, FLOAT_KEY_ROWS)
    chunks = -(-k // width)
    keys = np.zeros((chunks * width, KEY_COLUMNS), dtype=np.float32)
    keys[:k] = KEYS[:k]
    keys = keys.reshape(chunks, width, KEY_COLUMNS)
    return torch.from_numpy(keys) if torch is not None else keys


def _numpy_products(rows: np.ndarray) -> np.ndarray:
    return (rows.astype(np.int64) @ KEYS[:rows.shape[1]].astype(np.int64)).astype(np.int32)


def _writeable(rows: np.ndarray) -> np.ndarray:
    """``rows`` as a writeable view when its memory allows (torch warns about read-only arrays;
    nothing writes to it), else a copy. No warning filter: those are process-wide, not thread-safe."""
    rows = np.ascontiguousarray(rows)
    if rows.flags.writeable:
        return rows
    view = rows.view()
    try:
        view.flags.writeable = True
    except ValueError:  # memory that is read-only at its source
        return rows.copy()
    return view


@lru_cache(maxsize=None)
def _key_sums(k: int) -> np.ndarray:
    """(KEY_COLUMNS,) int64 column sums of the first ``k`` rows of :data:`KEYS` (read only)."""
    sums = KEYS[:k].sum(axis=0, dtype=np.int64)
    sums.flags.writeable = False
    return sums


def row_bytes(nbytes: int) -> int:
    """Bytes per row for images of ``nbytes`` bytes: the largest power of two from
    :data:`ROW_BYTES` down to :data:`MIN_ROW_BYTES` that divides ``nbytes`` (no leftover
    bytes, so a batch is one matrix product without a copy), else :data:`ROW_BYTES`."""
    k = ROW_BYTES
    while k > MIN_ROW_BYTES and nbytes % k:
        k //= 2
    return k if nbytes % k == 0 else ROW_BYTES


def image_hashes(images: np.ndarray) -> np.ndarray:
    """(N,) uint64: a 64-bit hash of each (C, H, W) image's bytes and shape (the first 8 bytes of its digest)."""
    return np.ascontiguousarray(image_digests(images)[:, :8]).view("<u8").reshape(-1).astype(np.uint64)


def batch_image_digests(batch: Any) -> np.ndarray:
    """:func:`image_digests` of ``batch.images``, computed once per batch on first use (cached in the
    batch like ``ImageBatch.pixel_stats``) and shared by the duplicates and fingerprint features."""
    cached = batch.__dict__.get("_image_digests")
    if cached is None or cached[0] is not batch.images:
        cached = batch.__dict__["_image_digests"] = (batch.images, image_digests(batch.images))
    return cached[1]


def image_digests(images: np.ndarray, offset: int = 0) -> np.ndarray:
    """(N, 32) uint8: the whole 32-byte digest (step 2 above) of each (C, H, W) image's bytes and shape.

    With ``offset``: the digests of the bytes ``int8(b) + offset`` instead, which the caller makes
    sure stay in int8's range (no wrap-around). The key products are linear in the bytes, so they
    are the products of ``b`` plus ``offset`` times the keys' column sums (exact int32): the
    shifted bytes are never written out, only the few leftover ones."""
    images = np.ascontiguousarray(images, dtype=np.uint8)
    n = len(images)
    nbytes = int(np.prod(images.shape[1:]))
    flat = images.reshape(n, nbytes).view(np.int8)
    k = row_bytes(nbytes)
    rows = nbytes // k
    cut = rows * k
    if n == 0 or rows == 0:
        products = np.zeros((n, 0, KEY_COLUMNS), dtype=np.int32)
    else:  # one product for the batch (a copy of the whole rows only when images have leftover bytes)
        whole_rows = np.ascontiguousarray(flat[:, :cut]).reshape(n * rows, k)
        products = row_products(whole_rows).reshape(n, rows, KEY_COLUMNS)
    products = np.ascontiguousarray(products, dtype="<i4")  # the same bytes on any platform
    if offset:
        products = products + (offset * _key_sums(k)).astype("<i4")
    prefix = hashlib.sha256(np.asarray(images.shape[1:], dtype="<i8").tobytes())
    digests = []
    for product, image in zip(products, flat):  # one hashing call per image, on 1/64 to 1/8 of its bytes
        h = prefix.copy()
        h.update(product)
        h.update(image[cut:] if not offset else (image[cut:] + np.int8(offset)))
        digests.append(h.digest())
    return np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(n, 32)
