"""Raster heatmaps: every text stays inside the figure and clear of the panels, matrices keep their class
names, panels are drawn the right way up in magma colours, every heatmap has a colour bar."""
from __future__ import annotations

import math
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from data_gradients.reports.raster.heatmap import TICK, draw, heatmap_canvas, heatmap_layout
from data_gradients.results import Heatmap

LONG = ["road", "a rather long class name that goes on and on and on", "car", "traffic sign (front side)", "person"]
MAGMA = cv2.applyColorMap(np.arange(256, dtype=np.uint8)[:, None], cv2.COLORMAP_MAGMA)[:, 0, ::-1].astype(int)


def matrix_heatmap(n, panels=("both", "P(column | row)"), single=False, names=None):
    names = names or [f"class name {k}" for k in range(n)]
    rng = np.random.default_rng(2)
    maps = {s: {p: rng.random((n, n)) for p in (panels[:1] if single else panels)} for s in ("train", "val")}
    return Heatmap(key="m", title="Class co-occurrence", maps=maps, x_label="class", y_label="class",
                   value_label="share of images with a rather long description", x_categories=names,
                   y_categories=names)


def grid_heatmap(n_panels, y_up=False, value_label=""):
    maps = {s: {f"class_{k}": np.zeros((16, 16)) for k in range(n_panels)} for s in ("train", "val")}
    for s in maps:
        maps[s]["class_0"][0, 0] = 1.0  # row 0, column 0 only
    return Heatmap(key="g", title="Where each class lies", maps=maps, y_up=y_up, x_edges=np.linspace(0, 1, 17),
                   y_edges=np.linspace(0, 1, 17), value_label=value_label)


def width_height(y_up=True, splits=("train",), title="Width x height"):
    data = np.zeros((20, 20))
    data[0, 0] = 1.0  # row 0, column 0: the smallest width and height
    return Heatmap(key="s", title=title, maps={s: {"all": data} for s in splits}, x_label="width", y_label="height",
                   x_edges=np.linspace(0, 1, 21), y_edges=np.linspace(0, 1, 21), value_label="share of objects",
                   y_up=y_up)


def overlaps(a, b, slack=1.0) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def pixels_of(layout):
    return draw(layout).pixels.astype(int)


@pytest.mark.parametrize("hm", [
    matrix_heatmap(10, single=True), matrix_heatmap(60, single=True), matrix_heatmap(19), grid_heatmap(100),
    grid_heatmap(3), width_height(), matrix_heatmap(5, names=LONG), matrix_heatmap(5, single=True, names=LONG),
    width_height(title="Box width x height relative to the image (all classes), a title too long for one split"),
    grid_heatmap(8, value_label="mean boxes covering the cell, in a description that is rather long"),
], ids=["single", "single 60", "labelled 19", "mosaic 100", "mosaic 3", "one split", "labelled long names",
        "single long names", "long title", "long bar label"])
def test_heatmap_labels_stay_inside_the_figure_and_off_the_panels(hm):
    layout = heatmap_layout(hm)
    assert layout.texts
    for t in layout.texts:
        left, top, right, bottom = t.box()
        assert left >= 0 and top >= 0 and right <= layout.width and bottom <= layout.height, (t.text, t.box())
        for p in layout.panels:
            a = p.axes
            assert not overlaps(t.box(), (a.left, a.top, a.right, a.bottom)), (t.text, p.panel, p.split)
        for bar in layout.bars:
            assert not overlaps(t.box(), (bar.left, bar.top, bar.right, bar.bottom)), t.text
    boxes = [t.box() for t in layout.texts if not t.rotation]  # level texts (titles, tick labels) never touch
    assert not any(overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_figures_keep_todays_sizes():
    """Figure inches at 150 dpi, as the matplotlib figures had."""
    single = heatmap_canvas(Heatmap(key="b", title="t", maps={s: {"all": np.ones((10, 64))} for s in ("train", "val")},
                                    x_edges=np.linspace(0, 256, 65), y_categories=[str(k) for k in range(10)]))
    assert (single.width, single.height) == (990, 525)
    matrix = heatmap_canvas(matrix_heatmap(10, single=True))
    assert (matrix.width, matrix.height) == (1530, 795)
    mosaic = heatmap_canvas(grid_heatmap(11))
    assert (mosaic.width, mosaic.height) == (1755, 1140)


def test_matrices_keep_class_names_on_both_axes():
    hm = matrix_heatmap(10)
    layout = heatmap_layout(hm)
    assert len(layout.panels) == 4 and len(layout.bars) == 4  # two matrices per split, each with its colour bar
    names = [f"class name {k}" for k in range(10)]
    for p in layout.panels:
        a = p.axes
        below = [t for t in layout.texts if t.text in names and abs(t.y - (a.bottom + TICK)) < 0.5
                 and a.left <= t.x <= a.right]
        beside = [t for t in layout.texts if t.text in names and t.x < a.left and a.top <= t.y <= a.bottom
                  and a.left - t.x < 20]
        assert [t.text for t in below] == names and all(t.rotation == 60 for t in below)
        assert [t.text for t in sorted(beside, key=lambda t: t.y)] == names  # row 0 at the top


def test_many_classes_are_named_every_kth():
    layout = heatmap_layout(matrix_heatmap(60, single=True))
    a = layout.panels[0].axes
    assert [len(t.labels) for t in a.x_ticks] == [20] and [len(t.labels) for t in a.y_ticks] == [20]
    assert a.x_ticks[0].labels[:2] == ["class name 0", "class name 3"]


def test_many_panels_have_their_titles_and_the_title_on_top():
    layout = heatmap_layout(grid_heatmap(30))
    texts = {t.text: t.box() for t in layout.texts}
    assert {f"class_{k} ({s})" for k in range(30) for s in ("train", "val")} <= set(texts)
    assert texts["Where each class lies"][3] < min(box[1] for t, box in texts.items() if t.endswith(")"))
    pixels = pixels_of(layout)
    left, top, right, bottom = texts["Where each class lies"]
    assert (pixels[top:bottom, left:right].sum(axis=2) < 200).any()  # the title is drawn there, in black


@pytest.mark.parametrize("hm", [grid_heatmap(8), grid_heatmap(8, y_up=True), width_height(y_up=False),
                                width_height(y_up=True)], ids=["mosaic", "mosaic y_up", "single", "single y_up"])
def test_panels_are_drawn_the_right_way_up(hm):
    """Cell [0, 0] of a panel is its top-left corner (image coordinates), or bottom-left with ``y_up``."""
    layout = heatmap_layout(hm)
    a, rows, cols = layout.panels[0].axes, *np.shape(hm.maps["train"]["class_0" if "class_0" in hm.maps["train"]
                                                                         else "all"])
    crop = pixels_of(layout)[a.top:a.bottom, a.left:a.right]
    hot = np.argwhere(np.abs(crop - MAGMA[255]).sum(axis=2) < 10)  # the one hot cell: magma's brightest colour
    cell_h, cell_w = crop.shape[0] / rows, crop.shape[1] / cols
    assert len(hot) > 0.5 * cell_h * cell_w
    assert hot[:, 1].max() < cell_w + 1
    if hm.y_up:
        assert hot[:, 0].min() > crop.shape[0] - cell_h - 1
    else:
        assert hot[:, 0].max() < cell_h + 1


def test_cells_take_the_magma_colour_of_their_value():
    """A single panel is on a square-root scale (0.25 of the largest value is half way), a matrix on a linear one."""
    data = np.array([[0.0, 0.25], [1.0, 0.0625]])
    for hm, expected in [(Heatmap(key="s", title="t", maps={"train": {"all": data}}), [[0, 128], [255, 64]]),
                         (Heatmap(key="m", title="t", maps={"train": {"a": data, "b": data}}, x_categories=["x", "y"],
                                  y_categories=["x", "y"]), [[0, 64], [255, 16]])]:
        layout = heatmap_layout(hm)
        a = layout.panels[0].axes
        pixels = pixels_of(layout)
        for r in range(2):
            for c in range(2):
                y, x = round(a.top + (r + 0.5) * (a.bottom - a.top) / 2), round(a.left + (c + 0.5) * (a.right - a.left) / 2)
                assert list(pixels[y, x]) == list(MAGMA[expected[r][c]]), (hm.key, r, c)


@pytest.mark.parametrize("hm", [matrix_heatmap(10, single=True), matrix_heatmap(6), grid_heatmap(30), grid_heatmap(3)],
                         ids=["single", "labelled", "mosaic", "few panels"])
def test_every_heatmap_has_a_colour_bar(hm):
    layout = heatmap_layout(hm)
    assert layout.bars
    pixels = pixels_of(layout)
    for bar in layout.bars:
        column = pixels[bar.top + 2:bar.bottom - 2, (bar.left + bar.right) // 2]  # inside the frame
        index = np.abs(column[:, None, :] - MAGMA[None]).sum(axis=2).argmin(axis=1)
        assert np.abs(column - MAGMA[index]).sum(axis=1).max() == 0  # magma colours only
        assert index[0] >= 250 and index[-1] <= 5 and np.all(np.diff(index) <= 0)  # bright at the top, dark at the foot
        ticks = [t for t in layout.texts if bar.right < t.x < bar.right + 15 and bar.top - 1 <= t.y <= bar.bottom + 1]
        assert len(ticks) >= 2


def test_the_single_colour_bar_is_on_a_square_root_scale():
    hm = width_height()
    layout = heatmap_layout(hm)
    bar = layout.bars[0]
    ticks = {t.text: t.y for t in layout.texts if t.x > bar.right and t.rotation == 0}
    assert set(ticks) == {"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}
    for text, y in ticks.items():
        assert y == pytest.approx(bar.bottom - math.sqrt(float(text)) * (bar.bottom - bar.top), abs=0.01)
    assert layout.text("share of objects (square-root scale)") is not None


def test_the_mosaic_colour_bar_says_each_panel_has_its_own_scale():
    layout = heatmap_layout(grid_heatmap(30, value_label="mean coverage"))
    bar = layout.bars[0]
    ticks = sorted((t for t in layout.texts if t.x > bar.right and t.rotation == 0), key=lambda t: t.y)
    assert [t.text for t in ticks] == ["max", "half", "0"]
    assert [t.y for t in ticks] == pytest.approx([bar.top, (bar.top + bar.bottom) / 2, bar.bottom])
    assert layout.text("mean coverage, share of the panel's largest value") is not None


def test_panel_titles_are_the_readers_words():
    hm = matrix_heatmap(5)
    hm.panel_titles = {"both": "share of all images holding both"}
    layout = heatmap_layout(hm)
    assert layout.text("share of all images holding both (train)") is not None
    assert layout.text("both (train)") is None


def test_no_matplotlib_is_imported():
    code = ("import sys; from data_gradients.reports.raster.heatmap import heatmap_canvas; "
            "print(any(m.startswith('matplotlib') for m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"
