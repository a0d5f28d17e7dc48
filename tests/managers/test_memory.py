"""The heap trimmer hands memory back every N batches, and is harmless without glibc."""
from data_gradients.managers.memory import HeapTrimmer, _load_trim


def test_trims_every_n_batches():
    calls = []
    trimmer = HeapTrimmer(every=3)
    trimmer._trim = lambda pad: calls.append(pad) or 1
    for _ in range(10):
        trimmer.tick()
    assert calls == [0, 0, 0]


def test_without_a_trim_function_tick_does_nothing():
    trimmer = HeapTrimmer(every=1)
    trimmer._trim = None
    trimmer.tick()  # no error
    assert trimmer._count == 1


def test_glibc_trim_is_found_on_linux():
    import platform

    trim = _load_trim()
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert trim is not None and trim(0) in (0, 1)
