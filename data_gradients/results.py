"""Renderer-neutral results of feature extractors.

Extractors return these plain containers; writers (TensorBoard, TXT, JSON, HTML/PDF)
only render them. Values are keyed by split name ("train", "val") so every writer
can put the splits side by side.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

SplitValues = Dict[str, Any]


@dataclass
class Histogram:
    """A distribution on fixed bins, one series per split.

    Either numeric ``bin_edges`` (len = bins + 1) or categorical ``categories``
    (len = bins) is set. ``counts`` hold raw counts; ``normalize`` tells renderers
    to show each split as a share (so splits of different sizes compare).
    """

    key: str
    title: str
    x_label: str
    counts: Dict[str, np.ndarray]
    bin_edges: Optional[np.ndarray] = None
    categories: Optional[List[str]] = None
    y_label: str = "share"
    normalize: bool = True
    log_x: bool = False
    #: the same counts along the stream (numeric histograms of per-image or per-object values):
    #: ``stream_counts[split]`` (windows, bins), each window's counts; ``stream_steps[split]`` the images
    #: read at the end of each window. Summed over the windows they are ``counts``.
    stream_steps: Dict[str, np.ndarray] = field(default_factory=dict)
    stream_counts: Dict[str, np.ndarray] = field(default_factory=dict)

    def shares(self, split: str) -> np.ndarray:
        c = np.asarray(self.counts[split], dtype=np.float64)
        total = c.sum()
        return c / total if total > 0 else c


def is_value_bins(edges) -> bool:
    """Bins of width 1 starting at an integer: bin v counts the integer value v (pixel values, counts)."""
    edges = np.asarray(edges, dtype=np.float64)
    return len(edges) > 1 and float(edges[0]).is_integer() and bool(np.all(np.diff(edges) == 1.0))


@dataclass
class Heatmap:
    """2-D maps per split and panel (e.g. one panel per class).

    ``maps[split][panel]`` is a 2-D array (rows = y). ``x_edges``/``y_edges`` give the
    axis extents of the cells when they are meaningful; ``x_categories`` /
    ``y_categories`` name the columns / rows instead (e.g. classes of a matrix).
    Row 0 is drawn at the top (image coordinates, matrices) unless ``y_up`` is set
    (plots such as width x height, where y grows upwards).
    """

    key: str
    title: str
    maps: Dict[str, Dict[str, np.ndarray]]
    x_label: str = "x"
    y_label: str = "y"
    x_edges: Optional[np.ndarray] = None
    y_edges: Optional[np.ndarray] = None
    value_label: str = ""
    x_categories: Optional[List[str]] = None
    y_categories: Optional[List[str]] = None
    y_up: bool = False
    #: what a reader sees as a panel's title instead of its key (e.g. "both / images" -> words)
    panel_titles: Dict[str, str] = field(default_factory=dict)

    def panel_title(self, panel: str) -> str:
        return self.panel_titles.get(panel, panel)


@dataclass
class Table:
    """A table with a header; cells are str, int or float."""

    key: str
    title: str
    columns: List[str]
    rows: List[List[Any]]


@dataclass
class ImageGrid:
    """Sample pictures (HWC uint8 RGB) with captions, per split. TensorBoard only."""

    key: str
    title: str
    images: Dict[str, List[np.ndarray]]
    captions: Dict[str, List[str]] = field(default_factory=dict)


@dataclass
class Series:
    """Values along the order the loader yields, per split: ``steps[split]`` (images read at the end
    of each window of the stream) and ``values[split][name]`` (one value per window, same length).
    TensorBoard draws one chart per name with the splits as its series.

    A ``headline`` series is a headline number along the stream: each value covers all the images
    read up to its step, the last is the split's number (TensorBoard's HParams dashboard reads it as
    a metric)."""

    key: str
    title: str
    y_label: str
    steps: Dict[str, np.ndarray]
    values: Dict[str, Dict[str, np.ndarray]]
    x_label: str = "images read"
    headline: bool = False


@dataclass
class Finding:
    """Bad or suspicious data found in a split, with the first sample ids."""

    key: str
    title: str
    message: str
    why: str
    counts: Dict[str, int]
    sample_ids: Dict[str, List[int]] = field(default_factory=dict)
    severity: str = "warning"  # "error" | "warning" | "info"
    #: file paths of ``sample_ids`` (same order) when the data came from files on disk
    sample_paths: Dict[str, List[str]] = field(default_factory=dict)
    #: what the finding is about ("images", "labels", "splits") when its feature's group does not say
    area: Optional[str] = None

    @property
    def total(self) -> int:
        return int(sum(self.counts.values()))


@dataclass
class FeatureResult:
    """Everything one feature extractor produced.

    ``scalars[name][split]`` are the headline numbers (TensorBoard scalars, TXT, JSON).
    ``data`` carries any extra machine-readable numbers for the JSON writer.
    """

    name: str
    title: str
    description: str
    group: str
    scalars: Dict[str, Dict[str, float]] = field(default_factory=dict)
    histograms: List[Histogram] = field(default_factory=list)
    heatmaps: List[Heatmap] = field(default_factory=list)
    tables: List[Table] = field(default_factory=list)
    images: List[ImageGrid] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)
    series: List[Series] = field(default_factory=list)
    data: Dict[str, Any] = field(default_factory=dict)
    error: Optional[str] = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def scalar_table(self, splits: Sequence[str]) -> Table:
        """The headline numbers as a table (one row per scalar, one column per split)."""
        rows = [[name] + [per_split.get(s) for s in splits] for name, per_split in self.scalars.items()]
        return Table(key=f"{self.name}.scalars", title=f"{self.title}: key numbers",
                     columns=["statistic", *splits], rows=rows)
