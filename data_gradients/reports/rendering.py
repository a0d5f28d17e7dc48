"""Every plot drawn once, to PNG, for all writers; several at a time with ``workers``.

TensorBoard takes the PNG as it is (an image summary holds PNG bytes) and the HTML report
saves it as a file, so a plot is drawn and encoded once, and what stays in memory between
writers is its PNG (tens of kB), not its pixels.

The plots are drawn by :mod:`.raster` (numpy, OpenCV and Pillow: ~10 ms a plot, and nothing
heavy to import). With ``workers > 1`` they are drawn concurrently by forked processes that
take the next plot from a shared counter (the calling process draws too). Threads come close
(the big numpy, OpenCV and PNG calls release the GIL; the layout's Python does not): two of each
drew detection's 25 plots in 0.30 and 0.27 s, against 0.50 s in one (``bench/bench_write.py
--render-modes``). Where fork is unavailable, or a child fails, the calling process draws the rest.
"""
from __future__ import annotations

import logging
import queue as queue_lib
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

logger = logging.getLogger("data_gradients")
MIN_PARALLEL = 4  # fewer plots than this are drawn here: starting a worker would cost more than it saves
CHILD_TIMEOUT_S = 120.0  # no news from the children for that long: draw the rest here


@dataclass(frozen=True)
class RenderedPlot:
    """A plot drawn once: its PNG and size in pixels."""

    png: bytes
    width: int
    height: int


def render_plot(item) -> RenderedPlot:
    """Draw one histogram or heatmap and encode it as PNG."""
    from data_gradients.reports.raster.heatmap import heatmap_canvas
    from data_gradients.reports.raster.histogram import histogram_canvas
    from data_gradients.results import Histogram

    canvas = histogram_canvas(item) if isinstance(item, Histogram) else heatmap_canvas(item)
    return RenderedPlot(canvas.png(), canvas.width, canvas.height)


def plot_items(result) -> List[Tuple[str, object]]:
    """``(tag, item)`` for every plot of a result; the tag is ``"feature/key"``."""
    return [(f"{result.name}/{item.key}", item) for item in [*result.histograms, *result.heatmaps]]


def _try_render(item) -> Union[RenderedPlot, Exception]:
    try:
        return render_plot(item)
    except Exception as e:  # one plot that cannot be drawn must not cost the others, or a writer
        return e


def _keep(report, tag: str, drawn: Union[RenderedPlot, Exception]) -> Optional[RenderedPlot]:
    """Store a drawn plot, or None and one warning in the report for a plot that could not be drawn."""
    if isinstance(drawn, Exception):
        message = f"plot {tag} could not be drawn: {type(drawn).__name__}: {drawn}"
        report.warnings.append(message)
        logger.warning("data_gradients: %s", message)
        drawn = None
    report.figure_images[tag] = drawn
    return drawn


def plot_of(report, tag: str, item) -> Optional[RenderedPlot]:
    """The plot ``tag`` of ``report``, drawn now if it was not yet; None if it cannot be drawn
    (the report then carries a warning saying why, once)."""
    if tag in report.figure_images:
        return report.figure_images[tag]
    return _keep(report, tag, _try_render(item))


def report_plots(report) -> List[Tuple[str, object]]:
    """``(tag, item)`` of every plot of the report's features that did not fail."""
    return [ti for r in report.results.values() if not r.failed for ti in plot_items(r)]


def render_plots(report, workers: int = 1, mode: str = "processes") -> None:
    """Draw every plot of ``report`` not drawn yet into ``report.figure_images``.
    ``mode`` ("processes", "threads" or "serial") is how ``workers > 1`` share the work."""
    todo = [(tag, item) for tag, item in report_plots(report) if tag not in report.figure_images]
    if not todo:
        return
    order = sorted(range(len(todo)), key=lambda i: -_cost(todo[i][1]))  # longest first: the workers end together
    items = [todo[i][1] for i in order]
    if workers <= 1 or len(items) < MIN_PARALLEL or mode == "serial":
        drawn = {i: _try_render(item) for i, item in enumerate(items)}
    elif mode == "threads":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            drawn = dict(enumerate(pool.map(_try_render, items)))
    else:
        drawn = _render_forked(items, workers)
    by_todo = {i: drawn[k] for k, i in enumerate(order)}
    for i, (tag, _) in enumerate(todo):  # in report order
        _keep(report, tag, by_todo[i])


def _cost(item) -> float:
    """A rough relative drawing cost: panels for heatmaps, labels for histograms."""
    maps = getattr(item, "maps", None)
    if maps is not None:
        return 2.0 + sum(len(panels) for panels in maps.values()) / 4
    return 1.0 + len(getattr(item, "categories", None) or ()) / 100


# ------------------------------------------------------------------ forked workers
_ITEMS: Optional[list] = None  # the plots, seen by forked children without pickling


def _can_fork() -> bool:
    import multiprocessing

    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def warm_up() -> None:
    """Import and load what drawing needs once, here, so that no forked child does it again (and,
    from ``managers.preload``, while the data is still being read)."""
    from PIL import PngImagePlugin  # noqa: F401

    import data_gradients.reports.raster.heatmap  # noqa: F401
    import data_gradients.reports.raster.histogram  # noqa: F401
    from data_gradients.reports.raster.text import line_height

    line_height(10.0)  # loads the font


def _next(counter) -> int:
    with counter.get_lock():
        i = counter.value
        counter.value += 1
    return i


def _child(counter, results) -> None:
    items = _ITEMS or []
    while (i := _next(counter)) < len(items):
        plot = _try_render(items[i])
        results.put((i, plot if isinstance(plot, RenderedPlot) else None))  # a failure: the parent draws it again


def _render_forked(items: list, workers: int) -> Dict[int, Union[RenderedPlot, Exception]]:
    global _ITEMS
    if not _can_fork():
        return {i: _try_render(item) for i, item in enumerate(items)}
    import multiprocessing

    warm_up()
    ctx = multiprocessing.get_context("fork")
    counter, results = ctx.Value("l", 0), ctx.Queue()
    _ITEMS = items
    children = []
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns that forking a multi-threaded process (torch's pools) may deadlock the
            # child in a lock another thread held; these children only draw with numpy, OpenCV and PIL
            warnings.filterwarnings("ignore", message=".*multi-threaded.*fork.*", category=DeprecationWarning)
            for _ in range(min(workers, len(items)) - 1):
                child = ctx.Process(target=_child, args=(counter, results), daemon=True)
                child.start()
                children.append(child)
    except OSError:  # cannot fork (limits): whoever started draws
        pass
    finally:
        _ITEMS = None
    drawn: Dict[int, Union[RenderedPlot, Exception, None]] = {}
    while (i := _next(counter)) < len(items):
        drawn[i] = _try_render(items[i])
    last_news = time.monotonic()
    while len(drawn) < len(items) and time.monotonic() - last_news < CHILD_TIMEOUT_S:
        try:
            i, plot = results.get(timeout=0.1)
            drawn[i], last_news = plot, time.monotonic()
        except queue_lib.Empty:
            if not any(c.is_alive() for c in children) and results.empty():
                break
    for child in children:
        child.join(timeout=1.0)
        if child.is_alive():
            child.terminate()
    results.close()
    return {i: drawn.get(i) or _try_render(item) for i, item in enumerate(items)}
