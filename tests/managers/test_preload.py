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


def test_a_later_splits_loader_starts_only_once_the_preload_has_ended(monkeypatch, tmp_path):
    """A loader forks its workers when iterated; a fork while the preload thread is inside an import leaves
    the child waiting forever for that module's lock (seen: a CLI run's val DataLoader hung)."""
    import threading

    from conftest import classification_raw_batches

    import data_gradients
    import data_gradients.managers.base as base

    started = []

    def slow_preload(writers):
        thread = threading.Thread(target=threading.Event().wait, args=(0.5,), daemon=True)
        thread.start()
        started.append(thread)
        return thread

    class Val:
        alive_at_start = None

        def __iter__(self):
            Val.alive_at_start = started[0].is_alive()
            return iter(classification_raw_batches(1))

    monkeypatch.setattr(base, "start_preload", slow_preload)
    data_gradients.ClassificationAnalysisManager(
        classification_raw_batches(0), Val(), num_classes=4, log_dir=str(tmp_path), verbose=False, workers=2,
        writers=[]).run()
    assert len(started) == 1 and Val.alive_at_start is False
