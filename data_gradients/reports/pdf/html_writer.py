"""HTML report: figures as PNG files in the run folder, text from jinja2 templates.

jinja2 is imported when the report is written, not with the package."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict

from data_gradients.reports.pdf.sections import FigureView, report_context
from data_gradients.reports.raster.text import DPI as FIGURE_DPI
from data_gradients.reports.report import AnalysisReport

FIGURES_DIR = "figures"
TEXT_WIDTH_MM = 180.0  # A4 (210 mm) minus 15 mm margins, as set by the PDF writer
MAX_FIGURE_HEIGHT_MM = 215.0  # leaves room on the page for a heading and a line of text
PRINT_SCALE = 0.85  # figures print a little smaller than drawn: ~175 dpi, fewer pages, text still >= 7 pt


@lru_cache(maxsize=1)
def template_environment():
    """The one jinja2 environment: package templates, autoescaping, strict undefined."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("data_gradients.reports.pdf", "templates"),
                       autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def figure_width_pct(height_px: int, width_px: int) -> float:
    """Print a figure at ``PRINT_SCALE`` of its drawn size (``FIGURE_DPI``), narrower if it would not
    fit the text width or would be taller than a page, so a figure is never cut by a page break."""
    natural = PRINT_SCALE * width_px / FIGURE_DPI * 25.4 / TEXT_WIDTH_MM
    fits_height = MAX_FIGURE_HEIGHT_MM / TEXT_WIDTH_MM * width_px / max(height_px, 1)
    return round(100 * min(1.0, natural, fits_height), 1)


def write_figures(report: AnalysisReport) -> Dict[str, FigureView]:
    """Save every plot as ``figures/<feature>__<n>.png``; returns tag -> figure for the template.
    Each plot is the PNG drawn once for every writer (``report.figure_images``), saved as it is."""
    from data_gradients.reports.rendering import plot_items, plot_of

    folder = report.run_dir / FIGURES_DIR
    folder.mkdir(exist_ok=True)
    figures = {}
    for result in report.results.values():
        if result.failed:
            continue
        for index, (tag, item) in enumerate(plot_items(result)):
            name = f"{result.name}__{index:02d}.png"  # no user text in file names
            plot = plot_of(report, tag, item)
            if plot is None:  # could not be drawn: the report's warnings say why
                continue
            (folder / name).write_bytes(plot.png)
            figures[tag] = FigureView(src=f"{FIGURES_DIR}/{name}", alt=item.title,
                                      width_pct=figure_width_pct(plot.height, plot.width))
    return figures


class HtmlWriter:
    """Writes ``report.html`` (and its figures) into the run folder."""

    name = "html"
    uses_plots = True
    preload_modules = ("jinja2",)  # imported early, while the data is read (managers.preload)

    def write(self, report: AnalysisReport) -> Path:
        from data_gradients import __version__

        figures = write_figures(report)
        html = template_environment().get_template("report.html.j2").render(
            **report_context(report, figures, __version__))
        path = report.run_dir / "report.html"
        path.write_text(html, encoding="utf-8")
        return path
