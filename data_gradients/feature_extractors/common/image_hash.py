"""A 64-bit hash of each image's pixels and shape, for exact-duplicate detection.

Two steps per image:

1. its bytes, read as int8 and cut into rows of K bytes (:func:`row_bytes`: 4096, or a smaller
   power of two that divides the image size), are multiplied by a fixed pseudo-random int8 key
   matrix (K rows, :data:`KEY_COLUMNS` columns); bytes that do not fill a last row are kept as
   they are. The products are exact int32 sums (at most 4096 * 128 * 128 = 2**26 in size) of an
   int8 matrix product, one per batch: ``torch._int_mm`` (VNNI instructions on current x86),
   about 7x faster than SHA-256 over the pixels; numpy gives the same integers where torch has
   no such kernel;
2. SHA-256 of the shape, the products and the leftover bytes (1/64 to 1/8 of the image), cut to
   8 bytes.

Why it still tells different images apart: two different images of one shape differ in some
row. For that row, a key column gives both images the same product only if the key at one
differing byte takes one particular value of its 256 (the others fixed), so all 16 columns
agree with probability at most 2**-128. Different inputs to SHA-256 share 64 bits with
probability about 2**-64, so a pair of different images collides with probability about 2**-64,
as with SHA-256 over the pixels. The keys come from SHAKE-128 of a fixed string: every process,
machine and version hashes alike, so states of several producers merge.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any, Dict

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

ROW_BYTES = 4096  # image bytes per row of the key product (at most)
MIN_ROW_BYTES = 512  # shorter rows would make the products (hashed by SHA-256) too large a share of the image
KEY_COLUMNS = 16  # each column lets two different rows agree with probability <= 2**-8
KEYS = np.frombuffer(hashlib.shake_128(b"data_gradients image_hash: int8 row keys, v1").digest(ROW_BYTES * KEY_COLUMNS),
                     dtype=np.int8).reshape(ROW_BYTES, KEY_COLUMNS)
_KERNEL: Dict[Any, Any] = {"int_mm": getattr(torch, "_int_mm", None)}  # None once it failed: numpy from then on


def row_products(rows: np.ndarray) -> np.ndarray:
    """(M, K) int8 rows times the first K rows of :data:`KEYS`: the exact (M, KEY_COLUMNS) int32 products."""
    k = rows.shape[1]
    int_mm = _KERNEL["int_mm"]
    if int_mm is not None and len(rows):
        try:
            if k not in _KERNEL:
                _KERNEL[k] = torch.from_numpy(np.array(KEYS[:k]))  # a writeable copy
            return int_mm(torch.from_numpy(_writeable(rows)), _KERNEL[k]).numpy()
        except (RuntimeError, NotImplementedError, TypeError):  # a torch without the CPU kernel
            _KERNEL["int_mm"] = None
    return rows.astype(np.int32) @ KEYS[:k].astype(np.int32)


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
