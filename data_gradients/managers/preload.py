"""Loading what the writers will need while the data is still being read.

Writing the outputs starts by importing TensorBoard's protobufs, jinja2, pdfkit and our figure
modules and loading a font: time on the serial path of every run's writing. Started in a
background thread when the run starts, that work overlaps the reading, during which the calling
process mostly waits (for its worker processes, or for the loader). The writers still import what
they use themselves; this only does it early, and the writing waits for it to end, so nothing is
imported twice at once (Python's import locks are per module, so an import another thread is doing
is simply waited for).
"""
from __future__ import annotations

import importlib
import logging
import threading
from typing import Any, Optional, Sequence

logger = logging.getLogger("data_gradients")


def start_preload(writers: Sequence[Any]) -> Optional[threading.Thread]:
    """A daemon thread importing what ``writers`` need (their ``preload_modules``, and what drawing
    needs when one of them shows the plots); None when there is nothing to load."""
    modules = [m for w in writers for m in getattr(w, "preload_modules", ())]
    plots = any(getattr(w, "uses_plots", False) for w in writers)
    if not modules and not plots:
        return None
    thread = threading.Thread(target=_preload, args=(list(dict.fromkeys(modules)), plots),
                              name="data_gradients-preload", daemon=True)
    thread.start()
    return thread


def finish_preload(thread: Optional[threading.Thread]) -> None:
    """Wait for the preloading thread (the writers would import the same modules next)."""
    if thread is not None:
        thread.join()


def _preload(modules: list, plots: bool) -> None:
    steps = ([_warm_up_drawing] if plots else []) + [lambda name=name: importlib.import_module(name) for name in modules]
    for step in steps:
        try:
            step()
        except Exception as e:  # noqa: BLE001 - the writer importing it reports the failure where it matters
            logger.debug("data_gradients: preloading a writer's modules failed: %s", e)


def _warm_up_drawing() -> None:
    from data_gradients.reports.rendering import warm_up

    warm_up()
