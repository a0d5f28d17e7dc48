"""Writer protocol and running all writers so one failure never loses the others."""
from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import List, Protocol

from data_gradients.reports.report import AnalysisReport

logger = logging.getLogger("data_gradients")


class Writer(Protocol):
    """Renders a finished report into ``report.run_dir``; returns the path written.

    A writer that shows the plots sets ``uses_plots = True``: ``write_all`` then draws every
    plot once beforehand (``rendering.render_plots``) and the writer takes the PNGs from
    ``report.figure_images``. ``preload_modules`` (optional) names modules its ``write`` imports,
    which the manager imports in the background while the data is read. A writer whose work runs
    in another process (the PDF: wkhtmltopdf) may have ``start(report)``, which launches it and
    returns a function that waits for it and returns the path: ``write_all`` calls the other
    writers in between."""

    name: str

    def write(self, report: AnalysisReport) -> Path: ...


def default_writers() -> List[Writer]:
    """TXT, JSON, HTML, PDF, TensorBoard and the sample manifest. Importing them imports neither
    jinja2, TensorBoard, pdfkit or pypdf: those are loaded by ``write`` when it runs.
    The PDF comes before TensorBoard so that its wkhtmltopdf runs while TensorBoard is written."""
    from data_gradients.reports.json_writer import JsonWriter
    from data_gradients.reports.manifest_writer import ManifestWriter
    from data_gradients.reports.pdf import HtmlWriter, PdfWriter
    from data_gradients.reports.tensorboard_writer import TensorBoardWriter
    from data_gradients.reports.txt_writer import TxtWriter

    return [TxtWriter(), JsonWriter(), HtmlWriter(), PdfWriter(), TensorBoardWriter(), ManifestWriter()]


def write_all(report: AnalysisReport, writers: List[Writer], workers: int = 1) -> None:
    """Run every writer; a failing writer becomes a warning in the report.

    The plots are drawn first, once for all writers, ``workers`` at a time (``1``: in this
    process only)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"`workers` must be a positive int, got {workers!r}")
    # Drawing makes many short-lived objects; the collector would rescan the whole heap (torch, the
    # analysis, the user's objects) again and again (~15% of the time). Objects alive now are set
    # aside while writing and handed back afterwards.
    gc.freeze()
    try:
        _write_all(report, writers, workers)
    finally:
        gc.unfreeze()


def _write_all(report: AnalysisReport, writers: List[Writer], workers: int) -> None:
    if any(getattr(w, "uses_plots", False) for w in writers):
        try:
            from data_gradients.reports.rendering import render_plots

            render_plots(report, workers=workers)
        except Exception as e:  # each writer draws what is missing, and reports its own failure
            logger.warning("data_gradients: drawing the plots ahead of the writers failed: %s", e)
    report.writers = [w.name for w in writers]
    pending: list = []
    try:
        for writer in writers:
            try:
                start = getattr(writer, "start", None)
                if start is None:
                    _done(report, writer, writer.write(report))
                else:  # runs in the background while the next writers write
                    pending.append((writer, start(report)))
            except Exception as e:  # the other outputs must still come out
                _failed(report, writer, e)
        while pending:
            writer, finish = pending.pop(0)
            try:
                _done(report, writer, finish())
            except Exception as e:
                _failed(report, writer, e)
    finally:  # interrupted (Ctrl-C): stop what still runs in the background
        for _, finish in pending:
            getattr(finish, "cancel", lambda: None)()


def _done(report: AnalysisReport, writer: Writer, path) -> None:
    if path is not None:
        report.outputs[writer.name] = path


def _failed(report: AnalysisReport, writer: Writer, error: Exception) -> None:
    message = f"{writer.name} output failed: {type(error).__name__}: {error}"
    report.warnings.append(message)
    logger.warning("data_gradients: %s", message)
