"""TensorBoard output: figures, histograms, scalars, the TXT tables and sample images."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from data_gradients.reports.figures import figure_rgb, make_figure, plot_items, release
from data_gradients.reports.formatting import render_feature
from data_gradients.reports.report import AnalysisReport
from data_gradients.reports.txt_writer import render_findings, render_header
from data_gradients.results import Histogram


def as_markdown_code(text: str) -> str:
    """TensorBoard renders text as markdown; indenting keeps the columns aligned."""
    return "\n".join("    " + line for line in text.splitlines())


class TensorBoardWriter:
    """Writes one event file into the run folder (``tensorboard --logdir`` finds it)."""

    name = "tensorboard"

    def write(self, report: AnalysisReport) -> Path:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(report.run_dir))
        try:
            writer.add_text("report/overview", as_markdown_code(render_header(report)), 0)
            writer.add_text("report/findings", as_markdown_code(render_findings(report)), 0)
            for result in report.results.values():
                writer.add_text(f"{result.name}/summary", as_markdown_code(render_feature(result, report.split_names)), 0)
                if result.failed:
                    continue
                for name, per_split in result.scalars.items():
                    for split, value in per_split.items():
                        if value is not None:
                            writer.add_scalar(f"{result.name}/{name}/{split}", float(value), 0)
                for tag, item in plot_items(result):
                    if tag in report.figure_images:  # already drawn (e.g. by another writer)
                        writer.add_image(tag, report.figure_images[tag], 0, dataformats="HWC")
                    else:
                        fig = make_figure(item)
                        writer.add_figure(tag, fig, 0, close=False)
                        report.figure_images[tag] = figure_rgb(fig)  # the canvas add_figure drew
                        release(fig)
                    if isinstance(item, Histogram):
                        _add_raw_histograms(writer, result.name, item)
                for grid in result.images:
                    for split, images in grid.images.items():
                        captions = grid.captions.get(split, [])
                        for i, img in enumerate(images):
                            caption = captions[i] if i < len(captions) else str(i)
                            writer.add_image(f"{result.name}/{split}/{caption}", img, 0, dataformats="HWC")
        finally:
            writer.close()
        return report.run_dir


def _add_raw_histograms(writer, feature: str, h: Histogram) -> None:
    """Numeric fixed-bin histograms also go to the HISTOGRAMS tab, exactly as counted."""
    if h.bin_edges is None or not h.normalize:
        return
    edges = np.asarray(h.bin_edges, dtype=np.float64)
    finite = np.isfinite(edges)
    if not finite.all():
        return
    centers = (edges[:-1] + edges[1:]) / 2
    for split, counts in h.counts.items():
        c = np.asarray(counts, dtype=np.float64)
        num = float(c.sum())
        if num <= 0:
            continue
        nz = np.nonzero(c)[0]
        writer.add_histogram_raw(
            f"{feature}/{h.key}/{split}", min=float(edges[nz[0]]), max=float(edges[nz[-1] + 1]), num=num,
            sum=float((c * centers).sum()), sum_squares=float((c * centers**2).sum()),
            bucket_limits=edges[1:].tolist(), bucket_counts=c.tolist(), global_step=0,
        )
