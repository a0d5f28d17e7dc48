"""The writers' modules load in the background while the data is read."""
from __future__ import annotations

import json
import subprocess
import sys

from data_gradients.managers.preload import PLOT_MODULES, finish_preload, start_preload


class Named:
    def __init__(self, name, uses_plots=False):
        self.name, self.uses_plots = name, uses_plots


def test_nothing_to_load_starts_no_thread():
    assert start_preload([]) is None
    assert start_preload([Named("txt"), Named("json")]) is None
    finish_preload(None)  # nothing to wait for


def test_the_default_writers_modules_are_loaded_in_a_fresh_interpreter():
    modules = list(PLOT_MODULES) + ["jinja2", "pdfkit", "tensorboard.compat.proto.summary_pb2"]
    code = (
        "import json, sys\n"
        "from data_gradients.reports.writers import default_writers\n"
        "from data_gradients.managers.preload import start_preload, finish_preload\n"
        f"modules = {modules!r}\n"
        "before = {m: m in sys.modules for m in modules}\n"
        "finish_preload(start_preload(default_writers()))\n"
        "print(json.dumps([before, {m: m in sys.modules for m in modules}]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert not any(before.values()), before  # importing the package loads none of them
    assert all(after.values()), after


def test_a_module_that_cannot_be_imported_is_left_to_the_writer(monkeypatch):
    from data_gradients.managers import preload

    monkeypatch.setitem(preload.WRITER_MODULES, "custom", ("no_such_module_for_data_gradients",))
    finish_preload(start_preload([Named("custom")]))  # no error here: the writer reports its own
