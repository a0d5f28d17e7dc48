"""A block from posix_memalign, freed, is reused by the next request of its size once the slack cut off
around it has left the thread cache (glibc)."""
import json
import subprocess
import sys

import pytest

from data_gradients.managers import heap_slack, memory
from data_gradients.managers.heap_slack import _load_malloc, unpark_small_chunks

glibc = pytest.mark.skipif(_load_malloc() is None, reason="glibc's allocator only")
BLOCK = 4 << 20
CYCLES = 8


SCENARIO = r"""
import ctypes, importlib.util, json, sys

spec = importlib.util.spec_from_file_location("heap_slack", sys.argv[1])
heap_slack = importlib.util.module_from_spec(spec)
spec.loader.exec_module(heap_slack)
# the extension, loaded by its path in both ways, so that the heaps of the two ways are laid out alike (importing
# data_gradients would allocate far more, and move where the blocks fall)
spec = importlib.util.spec_from_file_location("data_gradients.managers._heap_slack", sys.argv[2])
extension = importlib.util.module_from_spec(spec)
spec.loader.exec_module(extension)
if sys.argv[6] == "C":  # the compiled way
    def unpark():
        extension.unpark(heap_slack.SLACK_REQUESTS, heap_slack.TCACHE_COUNT)
        return True
else:  # ctypes' calls one by one
    def unpark():
        return heap_slack.unpark_small_chunks(use_compiled=False)


class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.restype, libc.free.argtypes = None, [ctypes.c_void_p]
libc.posix_memalign.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t, ctypes.c_size_t]
libc.mallinfo2.restype = Mallinfo2
libc.gnu_get_libc_version.restype = ctypes.c_char_p
block, cycles = int(sys.argv[3]), int(sys.argv[4])


def aligned_block_taken_and_freed():
    pointer = ctypes.c_void_p()
    assert libc.posix_memalign(ctypes.byref(pointer), 64, block) == 0
    libc.free(pointer.value)


def growth(with_unpark):
    # the cache first emptied of the slack's sizes, as a run's other small allocations may leave it
    held = [libc.malloc(size) for size in heap_slack.SLACK_REQUESTS for _ in range(heap_slack.TCACHE_COUNT)]
    sizes = [libc.mallinfo2().arena]
    for _ in range(cycles):
        if with_unpark:
            assert unpark()
        aligned_block_taken_and_freed()
        sizes.append(libc.mallinfo2().arena)
    for pointer in held:
        libc.free(pointer)
    return sizes


aligned_block_taken_and_freed()  # a mapped block freed: glibc's mmap threshold rises above it, later ones come from the heap
kept = libc.malloc((1 << 18) + int(sys.argv[5]))  # carved from the top of the heap: the next blocks fall after it
print(json.dumps({"version": libc.gnu_get_libc_version().decode(), "without": growth(False), "with": growth(True)}))
"""
SHIFTS = (0, 16, 32, 48)


def test_the_extension_is_built():
    assert heap_slack.compiled() is not None, "data_gradients.managers._heap_slack is not built (or stale): ./dev setup"


# C: the extension's one call; P: ctypes' calls one by one (one letter each: the two ways' arguments take as many bytes)
@glibc
@pytest.mark.parametrize("way", ["C", "P"])
def test_a_freed_aligned_block_is_taken_again_once_its_slack_left_the_cache(way):
    """In fresh interpreters (what an earlier test left free in this one's heap could serve the blocks), with
    the blocks ``shift`` bytes further along modulo the 64-byte alignment, so that the slack cut off around them
    takes each of its sizes (one of the four put a 96-byte chunk behind every block: unparking only the 32- to
    80-byte chunks left the heap growing by a block per request there).

    Unparked, every layout reuses the freed block after taking at most one. The control, the same requests
    without unparking, shows the heap growing by a block per request while the cache has room for the slack,
    but not in every layout: where an interpreter's start leaves the top of the heap (the size of its arguments
    and environment moves it) decides where the slack falls, so it is asserted in one layout of the four at
    least (measured with glibc 2.36; a later glibc may place the slack otherwise: asserted up to 2.37 only)."""
    extension = heap_slack.compiled()
    assert extension is not None
    grew = []
    for shift in SHIFTS:
        out = subprocess.run([sys.executable, "-c", SCENARIO, heap_slack.__file__, sys.modules[extension.__module__].__file__,
                              str(BLOCK), str(CYCLES), str(shift), way], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout)
        with_unpark, without = got["with"], got["without"]
        # the heap may take one block (a first one; glibc extends it by whole pages, so a page more in some layouts:
        # 4 MB + 4 KB in 2 of 528 fresh interpreters, and in CI's) ...
        assert with_unpark[-1] - with_unpark[0] < 2 * BLOCK, (shift, with_unpark)
        assert with_unpark[-1] == with_unpark[2], (shift, with_unpark)  # ... and then the freed one serves every request
        grew.append(without[-1] - without[0] >= 3 * BLOCK)
    if tuple(int(x) for x in got["version"].split(".")[:2]) < (2, 38):
        assert any(grew), "the control never showed the heap growing: the scenario no longer exercises the slack"


@glibc
def test_unparking_calls_the_extension_once_with_every_size(monkeypatch):
    calls = []
    monkeypatch.setattr(heap_slack, "compiled", lambda: lambda sizes, count: calls.append((sizes, count)))
    assert unpark_small_chunks() is True
    assert calls == [(heap_slack.SLACK_REQUESTS, heap_slack.TCACHE_COUNT)]


def test_unparking_is_part_of_every_tick(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "unpark_small_chunks", lambda: calls.append(1) or True)
    trimmer = memory.HeapTrimmer(rss=lambda: 100 << 20)
    for _ in range(3):
        trimmer.tick(1 << 20)
    assert len(calls) == 3


def test_without_glibc_nothing_is_called(monkeypatch):
    monkeypatch.setattr(heap_slack, "_load_malloc", lambda: None)
    monkeypatch.setattr(heap_slack, "compiled", lambda: pytest.fail("the extension was called without glibc"))
    assert unpark_small_chunks() is False


def test_the_extension_refuses_a_count_beyond_its_room():
    unpark = heap_slack.compiled()
    with pytest.raises(ValueError, match="count"):
        unpark((24,), 65)
    with pytest.raises(TypeError):
        unpark([24], 7)  # a tuple of sizes
    with pytest.raises(OverflowError):
        unpark((-1,), 7)
