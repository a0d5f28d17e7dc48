"""A block from posix_memalign, freed, is reused by the next request of its size once the slack cut off
around it has left the thread cache (glibc)."""
import ctypes

import pytest

from data_gradients.managers import heap_slack, memory
from data_gradients.managers.heap_slack import SLACK_REQUESTS, TCACHE_COUNT, _load_malloc, unpark_small_chunks

glibc = pytest.mark.skipif(_load_malloc() is None, reason="glibc's allocator only")
BLOCK = 4 << 20
CYCLES = 8


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _libc():
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.restype, libc.free.argtypes = None, [ctypes.c_void_p]
    libc.posix_memalign.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t, ctypes.c_size_t]
    libc.mallinfo2.restype = _Mallinfo2
    libc.gnu_get_libc_version.restype = ctypes.c_char_p
    return libc


def _heap_growth(libc, unpark: bool) -> int:
    """Bytes the main heap grew by over cycles of: a 64-byte aligned block taken and freed, with the
    thread cache first emptied of the slack's sizes (as a run's other small allocations may leave it)."""
    held = [libc.malloc(size) for size in SLACK_REQUESTS for _ in range(TCACHE_COUNT)]
    start = libc.mallinfo2().arena
    try:
        for _ in range(CYCLES):
            if unpark:
                assert unpark_small_chunks()
            pointer = ctypes.c_void_p()
            assert libc.posix_memalign(ctypes.byref(pointer), 64, BLOCK) == 0
            libc.free(pointer.value)
        return libc.mallinfo2().arena - start
    finally:
        for pointer in held:
            libc.free(pointer)


@glibc
def test_a_freed_aligned_block_is_taken_again_once_its_slack_left_the_cache():
    libc = _libc()
    pointer = ctypes.c_void_p()
    assert libc.posix_memalign(ctypes.byref(pointer), 64, BLOCK) == 0
    libc.free(pointer.value)  # a mapped block freed: glibc's mmap threshold rises above it, the next come from the heap
    version = tuple(int(x) for x in libc.gnu_get_libc_version().decode().split(".")[:2])
    without = _heap_growth(libc, unpark=False)
    with_unpark = _heap_growth(libc, unpark=True)
    assert with_unpark < BLOCK  # the freed block served every later request
    if version < (2, 38):  # the control: here each block took new pages while the cache had room for the slack
        assert without >= 3 * BLOCK


def test_unparking_is_part_of_every_tick(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "unpark_small_chunks", lambda: calls.append(1) or True)
    trimmer = memory.HeapTrimmer(rss=lambda: 100 << 20)
    for _ in range(3):
        trimmer.tick(1 << 20)
    assert len(calls) == 3


def test_without_glibc_nothing_is_called(monkeypatch):
    monkeypatch.setattr(heap_slack, "_load_malloc", lambda: None)
    assert unpark_small_chunks() is False
