"""The writers' modules load in the background while the data is read."""
from __future__ import annotations

import json
import subprocess
import sys

from data_gradients.managers.preload import finish_preload, start_preload


class Named:
    def __init__(self, name, uses_plots=False, preload_modules=()):
        self.name, self.uses_plots, self.preload_modules = name, uses_plots, preload_modules


def test_nothing_to_load_starts_no_thread():
    assert start_preload([]) is None
    assert start_preload([Named("txt"), Named("json")]) is None
    finish_preload(None)  # nothing to wait for


def test_the_default_writers_modules_are_loaded_in_a_fresh_interpreter():
    modules = ["data_gradients.reports.raster.histogram", "data_gradients.reports.raster.heatmap", "PIL.PngImagePlugin",
               "jinja2", "pdfkit", "tensorboard.compat.proto.summary_pb2"]
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


def test_a_module_that_cannot_be_imported_is_left_to_the_writer_and_the_others_still_load():
    code = (
        "import sys\n"
        "from data_gradients.managers.preload import start_preload, finish_preload\n"
        "class W:\n"
        "    preload_modules = ('no_such_module_for_data_gradients', 'jinja2')\n"
        "finish_preload(start_preload([W()]))  # no error here: the writer reports its own\n"
        "print('jinja2' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "True"
