import os
import types

from data_gradients.batch import compiled


def test_a_build_older_than_its_source_is_stale(tmp_path):
    built, source = tmp_path / "_run_kernels.so", tmp_path / "_run_kernels.c"
    built.write_bytes(b"")
    module = types.SimpleNamespace(__file__=str(built))
    assert not compiled.stale(module)  # no source beside it: an installed wheel
    source.write_text("/* */")
    os.utime(built, (1000, 1000))
    os.utime(source, (2000, 2000))
    assert compiled.stale(module)
    os.utime(built, (3000, 3000))
    assert not compiled.stale(module)
    assert not compiled.stale(types.SimpleNamespace())  # a module without a file


def test_load_refuses_missing_modules_and_other_versions():
    assert compiled.load("_no_such_kernels", 1) is None
    module = compiled.load("_run_kernels", -1)
    assert module is None  # built, but with other signatures than the wrapper's
