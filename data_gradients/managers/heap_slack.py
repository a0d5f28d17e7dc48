"""Letting glibc reuse a freed aligned block: the slack cut off around it leaves the thread cache.

``posix_memalign`` (torch's CPU tensors use it, a DataLoader's collated batch among them, and so do
OpenCV's matrices) asks glibc's malloc for the size plus the alignment and a minimal chunk, then frees
the slack before and after the aligned block as small chunks (32 to 112 bytes, by where the block
falls: 96 bytes after it when the first address is already aligned). While the thread's cache (tcache) has
room for chunks of that size, they go there, and a cached chunk counts as in use: it does not merge
with its neighbours while it is cached. When the block is freed it cannot merge with its slack either, so the free
chunk is exactly the block, and the next request of that size, which again asks for the alignment on
top, does not fit in it by a few dozen bytes. Each batch then takes new pages for its largest
arrays, and the heap trimmer hands back the holes left behind, page fault after page fault.
Whether the cache had room depended on what else the process had allocated: the same run was fast
or slow from one start to the next.

Measured (glibc 2.36, 720p segmentation, ``workers=1``, N=400): without it, starts took 4.9 to 7.7 ms
per image (14 k to 675 k page faults); with :func:`unpark_small_chunks` once per batch, eight starts in
a row took 4.6 to 4.8 ms (16 k to 29 k); glibc without a thread cache
(``GLIBC_TUNABLES=glibc.malloc.tcache_count=0``) gave 4.5 to 4.7 ms.

:func:`unpark_small_chunks` takes the cached chunks of every fastbin size (32 to 128 bytes), then as
many again, and frees the later ones first (they fill the cache) and the cached ones last: these go to
the fastbins, which glibc merges with their free neighbours before it serves the next large request.
About a hundred malloc/free calls; harmless where the C library is another or keeps no such cache. Made in
one call of the optional C extension ``_heap_slack`` where it is built (through ctypes they took ~115 us a
batch on an Intel Xeon (Ice Lake), ~1 % of a detection batch of eight 640 x 480 images); else through ctypes.
Until 2026-12-02 only the 32- to 80-byte sizes were unparked, which missed the 96 bytes behind a block
whose first address is already aligned: 128 fresh interpreters with environments of different sizes
(so their heaps placed the blocks differently), 8 requests of a 4 MB block each, saw the heap grow by 3
to 7 blocks in 71 of them; with every fastbin size, by at most one (the first) in all.
"""
from __future__ import annotations

import ctypes
import functools
from typing import Callable, Optional, Tuple

SLACK_REQUESTS = (24, 40, 56, 72, 88, 104, 120)  # malloc sizes of glibc's fastbin chunks, 32 to 128 bytes
TCACHE_COUNT = 7  # chunks glibc's thread cache keeps per size (its default)
VERSION = 1  # of the extension's signature


@functools.lru_cache(maxsize=None)
def glibc() -> Optional[ctypes.CDLL]:
    """The C library this process has loaded, when it is glibc (found by a symbol only glibc has), looked
    up once (``ctypes.util.find_library`` would run ``ldconfig``, ~2.5 ms a call); None elsewhere. An
    instance of our own: the argument types set on its functions stay ours."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
    except (OSError, AttributeError, TypeError):  # another C library (musl, macOS); Windows has no CDLL(None)
        return None
    return libc


@functools.lru_cache(maxsize=None)
def _load_malloc() -> Optional[Tuple[Callable[[int], Optional[int]], Callable[[Optional[int]], None]]]:
    """(malloc, free) of glibc, typed for pointers; None where the C library is not glibc."""
    libc = glibc()
    if libc is None:
        return None
    malloc, free = libc.malloc, libc.free
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    free.restype, free.argtypes = None, [ctypes.c_void_p]
    return malloc, free


@functools.lru_cache(maxsize=None)
def compiled() -> Optional[Callable[[tuple, int], None]]:
    """The extension's ``unpark(sizes, count)``, None where it is not built (or stale)."""
    from data_gradients.batch.compiled import load

    module = load("_heap_slack", VERSION, package="data_gradients.managers")
    return None if module is None else module.unpark


def unpark_small_chunks(use_compiled: bool = True) -> bool:
    """Move this thread's cached chunks of the slack's sizes to glibc's fastbins (see the module
    docstring), in one call of the extension where it is built and ``use_compiled``; False where the C library
    is not glibc."""
    functions = _load_malloc()
    if functions is None:
        return False
    unpark = compiled() if use_compiled else None
    if unpark is not None:
        unpark(SLACK_REQUESTS, TCACHE_COUNT)
        return True
    malloc, free = functions
    for size in SLACK_REQUESTS:
        cached = [malloc(size) for _ in range(TCACHE_COUNT)]  # the cache's chunks come first
        spare = [malloc(size) for _ in range(TCACHE_COUNT)]
        for pointer in spare:  # fill the cache ...
            free(pointer)
        for pointer in cached:  # ... so that these go to the fastbins
            free(pointer)
    return True
