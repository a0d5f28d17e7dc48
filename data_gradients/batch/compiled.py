"""Loading the optional C extensions (``data_gradients.batch``'s ``_run_kernels`` and ``_pixel_kernels``,
``data_gradients.managers``' ``_heap_slack``).

A module is used only when it was built (a C compiler at install time), from sources with the signatures its
Python wrapper expects (a ``VERSION`` constant), and not before its C source last changed (an editable install
not rebuilt). Otherwise :func:`load` gives None and the callers take their own ways (numpy and OpenCV; ctypes for
the heap slack), which give the same results.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Optional


def stale(module) -> bool:
    """Whether the C source beside the built ``module`` (``<name>.c`` next to its ``.so``) is newer than it: an
    editable install not rebuilt since its source changed, whose loops may not be the source's (``./dev setup``
    rebuilds it). Installed wheels hold no source, so they are never stale."""
    built = getattr(module, "__file__", None)
    if not built:
        return False
    name = os.path.basename(built).split(".", 1)[0]
    source = os.path.join(os.path.dirname(built), name + ".c")
    return os.path.exists(source) and os.path.getmtime(source) > os.path.getmtime(built)


def load(name: str, version: int, package: str = "data_gradients.batch") -> Optional[ModuleType]:
    """The extension ``<package>.<name>``, or None where it is not built, was built with signatures other than
    ``version``, or is :func:`stale`."""
    try:
        module = importlib.import_module(f"{package}.{name}")
    except ImportError:
        return None
    if getattr(module, "VERSION", None) != version or stale(module):
        return None
    return module
