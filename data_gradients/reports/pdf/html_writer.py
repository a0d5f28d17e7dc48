"""HTML report: figures as PNG files in the run folder, text from jinja2 templates."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined
from PIL import Image

from data_gradients.reports.figures import plot_items, rendered_plot
from data_gradients.reports.pdf.sections import report_context
from data_gradients.reports.report import AnalysisReport

FIGURES_DIR = "figures"


def template_environment() -> Environment:
    """The one jinja2 environment: package templates, autoescaping, strict undefined."""
    return Environment(loader=PackageLoader("data_gradients.reports.pdf", "templates"),
                       autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def write_figures(report: AnalysisReport) -> Dict[str, str]:
    """Save every plot as ``figures/<feature>__<key>.png``; returns tag -> relative path.
    Plots already drawn for TensorBoard are reused, not drawn again."""
    folder = report.run_dir / FIGURES_DIR
    folder.mkdir(exist_ok=True)
    paths = {}
    for result in report.results.values():
        if result.failed:
            continue
        for index, (tag, item) in enumerate(plot_items(result)):
            name = f"{result.name}__{index:02d}.png"  # no user text in file names
            rgb = rendered_plot(report.figure_images, tag, item)
            Image.fromarray(np.ascontiguousarray(rgb)).save(folder / name, compress_level=1)
            paths[tag] = f"{FIGURES_DIR}/{name}"
    return paths


class HtmlWriter:
    """Writes ``report.html`` (and its figures) into the run folder."""

    name = "html"

    def write(self, report: AnalysisReport) -> Path:
        from data_gradients import __version__

        figure_paths = write_figures(report)
        html = template_environment().get_template("report.html.j2").render(
            **report_context(report, figure_paths, __version__))
        path = report.run_dir / "report.html"
        path.write_text(html, encoding="utf-8")
        return path
