"""Loading what the writers will need while the data is still being read.

Writing the outputs starts by importing matplotlib and our figure modules and loading a font
(~0.5-0.9 s here), then TensorBoard's protobufs and jinja2: time on the serial path of every
run's writing. Started in a background thread when the run starts, that work overlaps the
reading, during which the calling process mostly waits (for its worker processes, or for the
loader). The writers still import what they use themselves; this only does it early, and
the writing waits for it to end, so nothing is imported twice at once (Python's import locks
are per module, so an import another thread is doing is simply waited for).
"""
from __future__ import annotations

import importlib
import logging
import threading
from typing import Any, Optional, Sequence

logger = logging.getLogger("data_gradients")

PLOT_MODULES = ("matplotlib.backends.backend_agg", "data_gradients.reports.figures",
                "data_gradients.reports.heatmap_figures", "data_gradients.reports.agg_canvas")
WRITER_MODULES = {"tensorboard": ("tensorboard.compat.proto.summary_pb2", "tensorboard.plugins.text.plugin_data_pb2",
                                  "tensorboard.plugins.hparams.api_pb2", "data_gradients.reports.event_file"),
                  "html": ("jinja2",), "pdf": ("jinja2", "pdfkit")}


def start_preload(writers: Sequence[Any]) -> Optional[threading.Thread]:
    """A daemon thread importing what ``writers`` need; None when there is nothing to load."""
    modules = [m for w in writers for m in WRITER_MODULES.get(getattr(w, "name", ""), ())]
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
    try:
        for name in (list(PLOT_MODULES) if plots else []) + modules:
            importlib.import_module(name)
        if plots:
            from data_gradients.reports.figure_layout import line_height

            line_height(10.0)  # loads the font once
    except Exception as e:  # noqa: BLE001 - the writer importing it reports the failure where it matters
        logger.debug("data_gradients: preloading the writers' modules failed: %s", e)
