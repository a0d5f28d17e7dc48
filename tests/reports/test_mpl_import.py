"""Matplotlib imported for drawing behaves as matplotlib: ``set`` works on every artist, the classes
defined afterwards get their full ``set`` signature, and an earlier import is left alone."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MODULE = Path(__file__).resolve().parents[2] / "data_gradients" / "reports" / "mpl_import.py"
CHECK = """
import importlib.util, inspect, json, sys
{before}
spec = importlib.util.spec_from_file_location("mpl_import", {module!r})  # alone: without torch, ~10x sooner
mpl_import = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mpl_import)
DRAWING_MODULES = mpl_import.DRAWING_MODULES
mpl_import.import_matplotlib()
import matplotlib.artist as artist
from matplotlib.lines import Line2D
line = Line2D([0, 1], [0, 1])
line.set(color="red", linewidth=3)
class Mine(artist.Artist):
    pass
print(json.dumps({
    "loaded": all(name in sys.modules for name in DRAWING_MODULES),
    "set_works": [line.get_color(), line.get_linewidth()],
    "line_set": str(inspect.signature(Line2D.set)),
    "own_set": Line2D.set is not artist.Artist.set,
    "later_set": "linewidth" not in str(inspect.signature(Mine.set)) and "alpha=" in str(inspect.signature(Mine.set)),
    "restored": artist.Artist.__dict__["_update_set_signature_and_docstring"].__func__.__module__ == "matplotlib.artist",
}))
"""


def run(before: str = "") -> dict:
    code = CHECK.replace("{before}", before).replace("{module!r}", repr(str(MODULE)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_fresh_import_gives_working_artists_and_leaves_matplotlib_as_it_was():
    got = run()
    assert got["loaded"] and got["set_works"] == ["red", 3.0] and got["own_set"]
    assert got["line_set"] == "(self, **kwargs)"  # the plain set of the classes defined by this import
    assert got["later_set"] and got["restored"]


def test_matplotlib_imported_before_is_left_alone():
    got = run(before="import matplotlib.figure")
    assert got["loaded"] and got["set_works"] == ["red", 3.0] and got["restored"]
    assert "linewidth=" in got["line_set"]
