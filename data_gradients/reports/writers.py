"""Writer protocol and running all writers so one failure never loses the others."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Protocol

from data_gradients.reports.report import AnalysisReport

logger = logging.getLogger("data_gradients")


class Writer(Protocol):
    """Renders a finished report into ``report.run_dir``; returns the path written."""

    name: str

    def write(self, report: AnalysisReport) -> Path: ...


def default_writers() -> List[Writer]:
    from data_gradients.reports.json_writer import JsonWriter
    from data_gradients.reports.pdf import HtmlWriter, PdfWriter
    from data_gradients.reports.tensorboard_writer import TensorBoardWriter
    from data_gradients.reports.txt_writer import TxtWriter

    return [TxtWriter(), JsonWriter(), TensorBoardWriter(), HtmlWriter(), PdfWriter()]


def write_all(report: AnalysisReport, writers: List[Writer]) -> None:
    """Run every writer; a failing writer becomes a warning in the report."""
    for writer in writers:
        try:
            path = writer.write(report)
            if path is not None:
                report.outputs[writer.name] = path
        except Exception as e:  # the other outputs must still come out
            message = f"{writer.name} output failed: {type(e).__name__}: {e}"
            report.warnings.append(message)
            logger.warning("data_gradients: %s", message)
