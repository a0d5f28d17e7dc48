"""Compiled loops over the runs of segmentation masks (the C extension ``_run_kernels``), with numpy arrays
in and out. :data:`KERNELS` is None where the extension was not built (no C compiler at install time):
:class:`~data_gradients.batch.segmentation_view.SegmentationView` then takes its numpy ways, which give
the same results (the tests compare both on every case).

Each function here wants int32 run coordinates (batches below 2**31 pixels; the view keeps numpy beyond)
and gives int64 indices into the runs. On 720p street scenes (Intel Xeon, Ice Lake, one thread), the label
features of a batch cost 1.65 ms per image against numpy's 3.98 (``bench/bench_segmentation_features.py
--baseline``); for a batch of eight, the view's runs, pairs, components and erosion 7.9 ms against 31.6, and
convexity 3.3 against 7.5.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from data_gradients.batch import run_ops
from data_gradients.batch.compiled import load

VERSION = 3  # of the functions' signatures: a build of other sources (a stale editable install) is not used
KERNELS = load("_run_kernels", VERSION)

RUNS_PER_ROW_GUESS = 32  # room made for the runs of a batch before counting them (street scenes: ~18 a row)


def _int32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int32)


def mask_runs(masks: np.ndarray, height: int, table: Optional[np.ndarray] = None) -> Dict[str, Any]:
    """Every run of the (R, W) ``masks`` (images of ``height`` rows one under the other) in raster order: ``row``,
    ``x0``, ``x1`` (inclusive) and ``value``, int32; and under ``counted``, the runs with ``value`` >= 0:
    ``row``, ``x0``, ``x1``, ``cls`` (the value) and ``image`` (row // height).

    ``masks`` are uint8 labels with ``table`` ((256,) int32): a run's value is ``table[label]``, and ``label``
    (uint8) is given too; or int32 ids (no table): the value is the id. Fewer than 2**31 cells. The runs are
    written into room for a guess of their number; when there are more, they are counted and written again."""
    rows, width = masks.shape
    if masks.size >= 2**31:
        raise ValueError("mask_runs: 2**31 cells or more need int64 indices")
    if height < 1 or rows % height:
        raise ValueError(f"mask_runs: {rows} rows are no whole number of images of {height} rows")
    if table is not None:
        masks, table = np.ascontiguousarray(masks, dtype=np.uint8), _int32(table)
        if table.shape != (256,):
            raise ValueError(f"mask_runs: the table must have 256 entries, not {table.shape}")
    elif masks.dtype == np.int32:
        masks, table = np.ascontiguousarray(masks), np.zeros(0, dtype=np.int32)
    else:  # a cast to int32 could wrap large ids and merge their runs
        raise ValueError(f"mask_runs: masks must be uint8 labels with a table, or int32 ids, not {masks.dtype}")
    room = min(rows * width, rows * RUNS_PER_ROW_GUESS)
    keys = ("row", "x0", "x1", "value", "c_row", "c_x0", "c_x1", "c_cls", "c_image")
    while True:
        out = {k: run_ops.scratch(k, room, np.int32) for k in keys}
        label = run_ops.scratch("label", room, np.uint8)
        n, m = KERNELS.mask_runs(masks, masks.itemsize, rows, width, int(height), table, out["row"], out["x0"],
                                 out["x1"], label, out["value"], *(out[k] for k in keys[4:]))
        if n <= room:
            break
        room = n
    runs = {k: out[k][:n].copy() for k in keys[:4]}
    if masks.itemsize == 1:
        runs["label"] = label[:n].copy()
    runs["counted"] = {k[2:]: out[k][:m].copy() for k in keys[4:]}
    return runs


def run_pairs(row: np.ndarray, x0: np.ndarray, x1: np.ndarray, cls: np.ndarray, height: int) -> Dict[str, Any]:
    """Pairs of runs of one class in adjacent rows of one image, for runs in raster order (``row`` = image *
    height + y), as int64 (upper, lower) indices, ordered by the lower run's row, then by column:
    ``pairs4`` (sharing a column) and ``pairs_diag`` (touching at a corner only); and ``survives``, bool per
    run: some pixel of it survives a 3x3 erosion of its class (pixels outside the image are background)."""
    row, x0, x1, cls = _int32(row), _int32(x0), _int32(x1), _int32(cls)
    n = len(row)
    if not (len(x0) == len(x1) == len(cls) == n) or height < 1:
        raise ValueError("run_pairs: row, x0, x1 and cls must have one length, and height must be >= 1")
    u4, l4, ud, ld = (run_ops.scratch(k, 2 * n, np.int64) for k in ("u4", "l4", "ud", "ld"))
    lo, hi = run_ops.scratch("lo", 2 * n, np.int32), run_ops.scratch("hi", 2 * n, np.int32)
    survives = np.empty(n, dtype=np.uint8)
    n4, nd = KERNELS.run_pairs(row, x0, x1, cls, int(height), u4, l4, ud, ld, lo, hi, survives)
    return {"pairs4": (u4[:n4].copy(), l4[:n4].copy()), "pairs_diag": (ud[:nd].copy(), ld[:nd].copy()),
            "survives": survives.view(bool)}


def run_components(n_runs: int, *pairs: Tuple[np.ndarray, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """(component of every run, first run of every component) as int64: the connected components of the graph of
    ``n_runs`` runs whose edges are one or two lists of pairs (up, low), numbered in the order of their smallest run."""
    if not 1 <= len(pairs) <= 2:
        raise ValueError("run_components takes one or two lists of pairs")
    lists = [np.ascontiguousarray(a, dtype=np.int64) for pair in pairs for a in pair]
    if len(lists) == 2:
        lists += [np.zeros(0, dtype=np.int64)] * 2
    comp, first = np.empty(n_runs, dtype=np.int64), run_ops.scratch("first", n_runs, np.int64)
    k = KERNELS.run_components(int(n_runs), *lists, run_ops.scratch("parent", n_runs, np.int64), comp, first)
    return comp, first[:k].copy()


def component_boxes(comp: np.ndarray, k: int, row: np.ndarray, x0: np.ndarray,
                    x1: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(area, left, right, bottom) int64 of each of ``k`` components, from the runs of each (``comp``: int64 per
    run, each in 0..k-1)."""
    comp = np.ascontiguousarray(comp, dtype=np.int64)
    area, left, right, bottom = (np.empty(k, dtype=np.int64) for _ in range(4))
    KERNELS.component_boxes(comp, _int32(row), _int32(x0), _int32(x1), area, left, right, bottom)
    return area, left, right, bottom


def perimeter_counts(comp: np.ndarray, k: int, x0: np.ndarray, x1: np.ndarray, pairs4: Tuple[np.ndarray, np.ndarray],
                     pairs_diag: Tuple[np.ndarray, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """(axis, diagonal) int64 contour steps of each of ``k`` components (the perimeter is axis + diagonal * sqrt(2):
    see :func:`~data_gradients.feature_extractors.segmentation.convexity.run_perimeters`)."""
    axis, diag = np.empty(k, dtype=np.int64), np.empty(k, dtype=np.int64)
    KERNELS.perimeter_counts(np.ascontiguousarray(comp, dtype=np.int64), _int32(x0), _int32(x1),
                             *(np.ascontiguousarray(a, dtype=np.int64) for a in (*pairs4, pairs_diag[0])), axis, diag)
    return axis, diag


def hull_parts(comp: np.ndarray, row: np.ndarray, x0: np.ndarray, x1: np.ndarray, top: np.ndarray,
               height: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per component (``top`` row and ``height`` rows, int64): the widths of its first and last rows summed
    (int64, as pixel-centre distances) and the lengths of the convex parts of its right and left chains
    (float64): see :func:`~data_gradients.feature_extractors.segmentation.convexity.run_hull_lengths`."""
    k = len(top)
    top, height = np.ascontiguousarray(top, dtype=np.int64), np.ascontiguousarray(height, dtype=np.int64)
    total = int(height.sum())
    scratch = [run_ops.scratch(name, total, np.int64) for name in ("left", "right", "sx", "sy")]
    ends, right, left = np.empty(k, dtype=np.int64), np.empty(k), np.empty(k)
    KERNELS.hull_parts(np.ascontiguousarray(comp, dtype=np.int64), _int32(row), _int32(x0), _int32(x1), top, height,
                       *scratch, ends, right, left)
    return ends, right, left


def cell_counts(runs: Dict[str, np.ndarray], n_ids: int, grid: int, height: int, width: int) -> np.ndarray:
    """(n_ids, grid, grid) int64 pixels of each class in each grid cell, summed over the counted ``runs`` (as
    :attr:`~data_gradients.batch.segmentation_view.SegmentationView.runs` gives them) of images of height x width:
    see :func:`~data_gradients.feature_extractors.segmentation.heatmap._run_cell_counts`."""
    counts = np.empty((n_ids, grid, grid), dtype=np.int64)
    KERNELS.cell_counts(*(_int32(runs[k]) for k in ("row", "x0", "x1", "cls")), int(height), int(width), int(grid),
                        counts)
    return counts
