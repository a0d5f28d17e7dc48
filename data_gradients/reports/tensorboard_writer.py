"""TensorBoard output: one run per split, plus one for what belongs to no split.

``<run_dir>/<split>/`` (one run per split, same tags in each, so every chart overlays the splits):
- ``<feature>/<histogram>``: histogram summaries of every per-image or per-object value distribution
  (brightness, sizes, areas, counts) along the stream: at each window's step (images read), the
  counts of all the images read so far, exactly as counted; the last step is the whole split. The
  Distributions tab shows how the distribution builds up along the loader's order;
- ``<feature>/<series>[/<name>]``: values per window of the loader's stream, step = images read;
- ``<feature>/<caption>``: sample pictures.

``<run_dir>/headline/`` (the HParams session: configuration as hparams, headline numbers as metrics, so
analyses of successive dataset versions compare in one table) and ``<run_dir>/headline/<split>/``:
``0_headline/<name>``, the headline numbers along the stream (each step covers the images read so
far; the last is the split's number, the metric of group ``<split>``). The HParams dashboard reads a
session's metrics from the scalars of its run and the runs below it, so they live apart from the
split runs: the stream series are no metric columns. Every other number is in the Text tab's tables.

``<run_dir>/`` (the run of no split): text (``0_summary`` sorts first: the summary on top, drift,
every finding; then the run and its configuration; then each feature's tables, in Markdown) and
the figures (``<feature>/<plot>/figure``: they show all splits already).
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Dict

import numpy as np

from data_gradients.reports.report import AnalysisReport
from data_gradients.results import Histogram, is_value_bins

SAMPLE_PNG_COMPRESS_LEVEL = 3  # pictures with an alpha channel (JPEG has none)
SAMPLE_JPEG_QUALITY = 90  # sample pictures: photos, where PNG costs ~20x the time and ~8x the bytes
SUMMARY_TAG = "0_summary/findings"  # digits sort before letters: the first text card
RUN_TAG = "1_run/overview"
HEADLINE = "0_headline"  # digits sort before letters: the headline numbers' charts come first
HEADLINE_RUN = "headline"  # the folder of the HParams session and of the headline numbers' runs


def split_run_name(split: str, taken: Dict[str, str]) -> str:
    """A folder name for a split's run: the split's name where it is a safe file name."""
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "_", split).strip(".") or "split"
    base, n = name, 2
    while name in taken.values() or name in ("figures", HEADLINE_RUN):
        name, n = f"{base}_{n}", n + 1
    taken[split] = name
    return name


class TensorBoardWriter:
    """Writes the event files (``tensorboard --logdir`` finds them).

    The summaries are those torch's ``SummaryWriter`` makes; the files are written by
    ``event_file.EventFile`` (fast checksums, no background thread). Plots go in as the PNG
    drawn once for every writer (``report.figure_images``); sample pictures are encoded here (JPEG)."""

    name = "tensorboard"
    uses_plots = True
    #: imported early, while the data is read (managers.preload)
    preload_modules = ("tensorboard.compat.proto.summary_pb2", "tensorboard.plugins.text.plugin_data_pb2",
                       "tensorboard.plugins.hparams.api_pb2", "data_gradients.reports.event_file")

    def write(self, report: AnalysisReport) -> Path:
        from data_gradients.reports.event_file import EventFile

        folders: Dict[str, str] = {}
        for split in report.split_names:
            folder = report.run_dir / split_run_name(split, folders)
            folder.mkdir(exist_ok=True)
            with EventFile(folder) as events:
                _write_split(events, report, split)
        session = report.run_dir / HEADLINE_RUN
        for split in report.split_names:
            (session / folders[split]).mkdir(parents=True, exist_ok=True)
            with EventFile(session / folders[split]) as events:
                _write_series(events, report, split, headline=True)
        with EventFile(session) as events:
            for summary in _hparams(report):
                events.add_summary(summary)
        with EventFile(report.run_dir) as events:
            _write_common(events, report, folders)
        return report.run_dir


def _write_split(events, report: AnalysisReport, split: str) -> None:
    """The split's histograms along the stream, its stream series and its sample pictures."""
    _write_series(events, report, split, headline=False)
    for result in report.results.values():
        for grid in [] if result.failed else result.images:
            captions = grid.captions.get(split, [])
            for i, img in enumerate(grid.images.get(split, [])):
                caption = captions[i] if i < len(captions) else str(i)
                events.add_summary(_picture(f"{result.name}/{caption}", img))


def _write_series(events, report: AnalysisReport, split: str, headline: bool) -> None:
    """Values along the stream: the headline series (``headline``), else the other series and the
    histograms. Values of one step share one event (a ``Summary`` holds many values): a few hundred
    records instead of thousands, each checksummed in Python."""
    from tensorboard.compat.proto.summary_pb2 import Summary

    by_step: Dict[int, list] = {}
    for result in report.results.values():
        if result.failed:
            continue
        for h in [] if headline else result.histograms:
            for step, summary in _histograms_along_stream(f"{result.name}/{h.key}", h, split):
                by_step.setdefault(step, []).extend(summary.value)
        for series in result.series:
            if series.headline != headline:
                continue
            steps, values = series.steps.get(split), series.values.get(split, {})
            for name, ys in values.items():
                if headline:
                    tag = f"{HEADLINE}/{name}"
                else:
                    tag = f"{result.name}/{series.key}" + ("" if name == series.key else f"/{name}")
                for step, y in zip(np.asarray(steps).tolist(), np.asarray(ys, dtype=np.float64).tolist()):
                    by_step.setdefault(int(step), []).append(Summary.Value(tag=tag, simple_value=y))
    for step in sorted(by_step):
        events.add_summary(Summary(value=by_step[step]), step=step)


def _write_common(events, report: AnalysisReport, folders: Dict[str, str]) -> None:
    from data_gradients.reports.markdown import feature_text, run_text, summary_text
    from data_gradients.reports.rendering import plot_items, plot_of
    from data_gradients.reports.summaries import text_summary as text

    events.add_summary(text(SUMMARY_TAG, summary_text(report)))
    events.add_summary(text(RUN_TAG, run_text(report, folders)))
    for result in report.results.values():
        events.add_summary(text(f"{result.name}/tables", feature_text(result, report.split_names)))
        if result.failed:
            continue
        for tag, item in plot_items(result):
            plot = plot_of(report, tag, item)
            if plot is not None:
                events.add_summary(_image(f"{tag}/figure", plot.png, plot.height, plot.width, channels=3))


def _hparams(report: AnalysisReport) -> list:
    """The HParams session of this analysis: its run is ``run_dir/headline``; each headline number is a
    metric of group ``<split folder>`` (the plugin reads it from ``run_dir/headline/<split folder>``)."""
    from data_gradients.reports.summaries import hparams_session

    config = report.config
    hparams = {"dataset": report.title, "task": report.task}
    for key in ("num_classes", "seed", "max_batches", "samples_to_visualize", "reference"):
        value = config.get(key)
        if isinstance(value, (bool, int, float, str)):
            hparams[key] = value
    hparams["features"] = len(config.get("features") or [])
    hparams["partial"] = "yes" if report.partial else "no"  # torch writes a bool as a number
    for split, s in report.splits.items():
        hparams[f"samples.{split}"] = int(s.samples)
    for name, value in sorted((config.get("thresholds") or {}).items()):
        hparams[f"threshold.{name}"] = float(value)
    # the session records of torch's hparams summaries (no tensorflow); its experiment record is left out: with
    # several analyses in one logdir the plugin would show one of them (it picks one arbitrarily); without it,
    # it lists the hparams of every session and takes each split run's scalars as metrics of group <split folder>
    return list(hparams_session(hparams))


def _histograms_along_stream(tag: str, h: Histogram, split: str):
    """``(step, summary)``: a numeric histogram of one split at each window of the stream, counting
    the images read so far (the last step: the whole split, exactly as counted). Histograms without
    a stream (categorical ones, or counted otherwise) stay figures: one step would draw an empty
    band in the Distributions tab."""
    from data_gradients.reports.summaries import histogram_summary

    if h.bin_edges is None or split not in h.stream_counts:
        return []
    edges = np.asarray(h.bin_edges, dtype=np.float64)
    if not np.isfinite(edges).all():
        return []
    cumulative = np.cumsum(np.asarray(h.stream_counts[split], dtype=np.float64), axis=0)
    if is_value_bins(edges):  # bin v holds the integer v: bucket (v - 1, v], so 0-255 ends at 255
        values = lows = highs = limits = edges[:-1]
    else:
        values, lows, highs, limits = (edges[:-1] + edges[1:]) / 2, edges[:-1], edges[1:], edges[1:]
    filled = cumulative > 0
    first = filled.argmax(axis=1)
    last = filled.shape[1] - 1 - filled[:, ::-1].argmax(axis=1)
    # a run of empty buckets is one empty bucket (the next count keeps its left edge), nothing after the last
    # count: the same drawing in fewer bytes (the first windows of the stream fill few buckets)
    keep = filled.copy()
    keep[:, :-1] |= filled[:, 1:]
    keep &= np.arange(filled.shape[1]) <= last[:, None]
    nums, sums, squares = cumulative.sum(axis=1), cumulative @ values, cumulative @ (values * values)
    out = []
    for k, step in enumerate(np.asarray(h.stream_steps[split]).tolist()):
        if nums[k] <= 0:
            continue
        row = keep[k]
        out.append((int(step), histogram_summary(
            tag, min=float(lows[first[k]]), max=float(highs[last[k]]), num=float(nums[k]), sum=float(sums[k]),
            sum_squares=float(squares[k]), bucket_limits=limits[row].tolist(), bucket_counts=cumulative[k, row].tolist())))
    return out


def _image(tag: str, encoded: bytes, height: int, width: int, channels: int):
    """An image summary from PNG or JPEG bytes (what ``SummaryWriter.add_image`` makes after encoding)."""
    from tensorboard.compat.proto.summary_pb2 import Summary

    image = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=encoded)
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def _picture(tag: str, img):
    """A sample picture (HWC uint8, 1, 3 or 4 channels) encoded once; anything else as ``add_image`` would.

    Grey and RGB pictures as JPEG at quality :data:`SAMPLE_JPEG_QUALITY` without chroma subsampling
    (colour edges of masks, boxes and legend text stay sharp: mean error ~2.6 of 255 on a segmentation
    sample, nothing to see at 3x zoom). They are photos, which PNG hardly compresses: 20 detection
    samples of 256 x 256 took 0.25 s and 2.4 MB as PNG (level 3), 0.011 s and 0.3 MB as JPEG, and the
    event file's checksum runs over every byte again. RGBA keeps PNG (JPEG has no alpha)."""
    array = np.asarray(img)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        from torch.utils.tensorboard.summary import image

        return image(tag, img, dataformats="HWC")
    from PIL import Image

    out = io.BytesIO()
    pixels = Image.fromarray(np.ascontiguousarray(array if array.shape[2] > 1 else array[..., 0]))
    if array.shape[2] == 4:
        pixels.save(out, format="PNG", compress_level=SAMPLE_PNG_COMPRESS_LEVEL)
    else:
        pixels.save(out, format="JPEG", quality=SAMPLE_JPEG_QUALITY, subsampling=0)
    return _image(tag, out.getvalue(), array.shape[0], array.shape[1], channels=array.shape[2])
