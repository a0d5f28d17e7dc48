"""TensorBoard output: figures, histograms, scalars, the TXT tables and sample images."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from data_gradients.reports.formatting import render_feature
from data_gradients.reports.report import AnalysisReport
from data_gradients.reports.txt_writer import render_findings, render_header
from data_gradients.results import Histogram

SAMPLE_PNG_COMPRESS_LEVEL = 3


def as_markdown_code(text: str) -> str:
    """TensorBoard renders text as markdown; indenting keeps the columns aligned."""
    return "\n".join("    " + line for line in text.splitlines())


class TensorBoardWriter:
    """Writes one event file into the run folder (``tensorboard --logdir`` finds it).

    The summaries are those torch's ``SummaryWriter`` makes; the file is written by
    ``event_file.EventFile`` (fast checksums, no background thread). Plots go in as the PNG
    drawn once for every writer (``report.figure_images``); sample pictures are encoded here."""

    name = "tensorboard"
    uses_plots = True

    def write(self, report: AnalysisReport) -> Path:
        from torch.utils.tensorboard.summary import scalar, text

        from data_gradients.reports.event_file import EventFile
        from data_gradients.reports.figures import plot_items
        from data_gradients.reports.rendering import plot_of

        with EventFile(report.run_dir) as events:
            events.add_summary(text("report/overview", as_markdown_code(render_header(report))))
            events.add_summary(text("report/findings", as_markdown_code(render_findings(report))))
            for result in report.results.values():
                events.add_summary(text(f"{result.name}/summary",
                                        as_markdown_code(render_feature(result, report.split_names))))
                if result.failed:
                    continue
                for name, per_split in result.scalars.items():
                    for split, value in per_split.items():
                        if value is not None:
                            events.add_summary(scalar(f"{result.name}/{name}/{split}", float(value)))
                for tag, item in plot_items(result):
                    plot = plot_of(report, tag, item)
                    if plot is not None:
                        events.add_summary(_image(tag, plot.png, plot.height, plot.width, channels=3))
                    if isinstance(item, Histogram):
                        _add_raw_histograms(events, result.name, item)
                for grid in result.images:
                    for split, images in grid.images.items():
                        captions = grid.captions.get(split, [])
                        for i, img in enumerate(images):
                            caption = captions[i] if i < len(captions) else str(i)
                            events.add_summary(_picture(f"{result.name}/{split}/{caption}", img))
        return report.run_dir


def _image(tag: str, png: bytes, height: int, width: int, channels: int):
    """An image summary from PNG bytes (what ``SummaryWriter.add_image`` makes after encoding)."""
    from tensorboard.compat.proto.summary_pb2 import Summary

    image = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=png)
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def _picture(tag: str, img):
    """A sample picture (HWC uint8 RGB) encoded once; anything else as ``add_image`` would."""
    array = np.asarray(img)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        from torch.utils.tensorboard.summary import image

        return image(tag, img, dataformats="HWC")
    from PIL import Image

    out = io.BytesIO()
    pixels = np.ascontiguousarray(array if array.shape[2] > 1 else array[..., 0])
    Image.fromarray(pixels).save(out, format="PNG", compress_level=SAMPLE_PNG_COMPRESS_LEVEL)
    return _image(tag, out.getvalue(), array.shape[0], array.shape[1], channels=array.shape[2])


def _add_raw_histograms(events, feature: str, h: Histogram) -> None:
    """Numeric fixed-bin histograms also go to the HISTOGRAMS tab, exactly as counted."""
    from torch.utils.tensorboard.summary import histogram_raw

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
        events.add_summary(histogram_raw(
            f"{feature}/{h.key}/{split}", min=float(edges[nz[0]]), max=float(edges[nz[-1] + 1]), num=num,
            sum=float((c * centers).sum()), sum_squares=float((c * centers**2).sum()),
            bucket_limits=edges[1:].tolist(), bucket_counts=c.tolist(),
        ))
