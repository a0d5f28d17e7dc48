"""Figures without a layout engine: every label stays inside the figure and is the one asked for,
panels are drawn the right way up, bars are as tall as the shares."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from data_gradients.reports.figures import histogram_figure, make_figure
from data_gradients.reports.heatmap_figures import heatmap_figure
from data_gradients.results import Heatmap, Histogram

LONG = ["road", "a rather long class name that goes on", "car", "traffic sign (front side)", "person"]


def drawn_texts(fig):
    """(text, bounding box in pixels) of every text the Agg renderer actually draws."""
    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    drawn, draw_text = [], renderer.draw_text

    def record(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if mtext is not None:
            drawn.append((s, mtext.get_window_extent(renderer)))
        return draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    renderer.draw_text = record
    canvas.draw()
    return drawn


def assert_all_inside(fig, slack: float = 1.0):
    texts = drawn_texts(fig)
    assert texts
    for text, box in texts:
        assert box.x0 >= -slack and box.y0 >= -slack, (text, box)
        assert box.x1 <= fig.bbox.width + slack and box.y1 <= fig.bbox.height + slack, (text, box)


def categorical(names, splits=("train", "val"), seed=0):
    rng = np.random.default_rng(seed)
    return Histogram(key="k", title="Share of labelled pixels per class", x_label="class",
                     counts={s: rng.integers(0, 100, len(names)) for s in splits}, categories=list(names))


def numeric(log_x=False, values=None, unnormalized=False, decades=5):
    edges = np.logspace(-3, decades - 3, 26) if log_x else np.linspace(0, 255, 65)
    rng = np.random.default_rng(1)
    counts = {s: (values if values is not None else rng.integers(0, 1000, len(edges) - 1)) for s in ("train", "val")}
    return Histogram(key="n", title="Object area", x_label="area (%)", counts=counts, bin_edges=edges, log_x=log_x,
                     normalize=not unnormalized, y_label="images" if unnormalized else "share")


@pytest.mark.parametrize("hist", [
    categorical(LONG), categorical([f"class_{k}" for k in range(100)]), categorical(["a", "b"]),
    numeric(), numeric(log_x=True), numeric(log_x=True, decades=1), numeric(values=np.full(64, 10 ** 7), unnormalized=True),
])
def test_histogram_labels_stay_inside_the_figure(hist):
    assert_all_inside(histogram_figure(hist))


def test_category_axis_shows_the_class_names_and_the_title():
    fig = histogram_figure(categorical(LONG))
    texts = [t for t, _ in drawn_texts(fig)]
    assert all(name in texts for name in LONG)
    assert {"Share of labelled pixels per class", "class", "share", "train", "val"} <= set(texts)


def test_bars_are_as_tall_as_the_shares():
    hist = categorical(["a", "b", "c"], splits=("train",))
    fig = histogram_figure(hist)
    ax = fig.axes[0]
    (patch,) = [p for p in ax.patches]
    heights = patch.get_data().values[0::2]  # bars, with zero-height gaps between them
    np.testing.assert_allclose(heights, hist.shares("train"))


def matrix_heatmap(n, panels=("both", "P(column | row)"), single=False):
    names = [f"class name {k}" for k in range(n)]
    rng = np.random.default_rng(2)
    maps = {s: {p: rng.random((n, n)) for p in (panels[:1] if single else panels)} for s in ("train", "val")}
    return Heatmap(key="m", title="Class co-occurrence", maps=maps, x_label="class", y_label="class",
                   value_label="share of images with a rather long description", x_categories=names,
                   y_categories=names)


def grid_heatmap(n_panels, y_up=False):
    maps = {s: {f"class_{k}": np.zeros((16, 16)) for k in range(n_panels)} for s in ("train", "val")}
    for s in maps:
        maps[s]["class_0"][0, 0] = 1.0  # row 0, column 0 only
    return Heatmap(key="g", title="Where each class lies", maps=maps, y_up=y_up, x_edges=np.linspace(0, 1, 17),
                   y_edges=np.linspace(0, 1, 17))


@pytest.mark.parametrize("hm", [
    matrix_heatmap(10, single=True), matrix_heatmap(60, single=True), matrix_heatmap(19), grid_heatmap(100),
    grid_heatmap(3), Heatmap(key="s", title="Width x height", maps={"train": {"all": np.ones((20, 20))}},
                             x_label="width", y_label="height", x_edges=np.linspace(0, 1, 21),
                             y_edges=np.linspace(0, 1, 21), value_label="share of objects", y_up=True),
])
def test_heatmap_labels_stay_inside_the_figure(hm):
    assert_all_inside(heatmap_figure(hm))


def test_matrices_keep_class_names_on_both_axes():
    fig = heatmap_figure(matrix_heatmap(10))
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 4 and len(fig.axes) == 8  # two matrices per split, each with its colour bar
    for ax in panels:
        assert [t.get_text() for t in ax.get_xticklabels()] == [f"class name {k}" for k in range(10)]
        assert [t.get_text() for t in ax.get_yticklabels()] == [f"class name {k}" for k in range(10)]


def test_many_panels_have_their_titles_and_the_title_on_top():
    fig = heatmap_figure(grid_heatmap(30))
    texts = {t: box for t, box in drawn_texts(fig)}
    assert {f"class_{k} ({s})" for k in range(30) for s in ("train", "val")} <= set(texts)
    top_panel_title = max(box.y1 for t, box in texts.items() if t.endswith("(train)"))
    assert texts["Where each class lies"].y0 > top_panel_title  # the figure title is above every panel


@pytest.mark.parametrize("y_up", [False, True])
def test_panels_are_drawn_the_right_way_up(y_up):
    """Cell [0, 0] of a panel is its top-left corner (image coordinates), or bottom-left with ``y_up``."""
    fig = heatmap_figure(grid_heatmap(8, y_up=y_up))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    panel = fig.artists[0]  # class_0 (train); its pixel position counts rows from the bottom
    top = pixels.shape[0] - (panel.y + panel.height)
    crop = pixels[top:top + panel.height, panel.x:panel.x + panel.width]
    hot = np.argwhere(crop.sum(axis=2) > 600)  # the one hot cell: pale yellow in magma
    cell_h, cell_w = panel.height / 16, panel.width / 16
    assert len(hot) > 0.5 * cell_h * cell_w
    assert hot[:, 1].max() < cell_w + 1
    if y_up:
        assert hot[:, 0].min() > panel.height - cell_h - 1
    else:
        assert hot[:, 0].max() < cell_h + 1


def test_make_figure_draws_histograms_and_heatmaps_at_print_resolution():
    from data_gradients.reports.figure_layout import FIGURE_DPI

    for item in (numeric(), grid_heatmap(2)):
        assert make_figure(item).dpi == FIGURE_DPI


@pytest.mark.parametrize("hm", [matrix_heatmap(10, single=True), matrix_heatmap(6), grid_heatmap(30), grid_heatmap(3)],
                         ids=["single", "labelled", "mosaic", "few panels"])
def test_every_heatmap_has_a_colour_bar(hm):
    fig = heatmap_figure(hm)
    assert any(hasattr(ax, "_colorbar") for ax in fig.axes)
    assert_all_inside(fig)


def test_panel_titles_are_the_readers_words():
    hm = matrix_heatmap(5)
    hm.panel_titles = {"both": "share of all images holding both"}
    texts = {t for t, _ in drawn_texts(heatmap_figure(hm))}
    assert "share of all images holding both (train)" in texts and "both (train)" not in texts


def test_split_colours_are_distinct_for_six_splits():
    from data_gradients.reports.figures import split_colors

    colours = split_colors(["test", "val", "holdout", "train", "extra", "night"])
    assert len(set(colours.values())) == 6
    assert colours["train"] == split_colors(["train"])["train"] and colours["val"] == split_colors(["val"])["val"]


def test_pixel_value_axes_end_at_255():
    hist = Histogram(key="v", title="Values", x_label="value (0-255)", counts={"train": np.ones(256)},
                     bin_edges=np.arange(257, dtype=float))
    fig = histogram_figure(hist)
    ax = fig.axes[0]
    assert ax.get_xlim()[1] == 255.5 and ax.get_xticks()[-1] == 255


def test_a_long_axis_label_wraps_inside_and_the_y_label_clears_the_tick_labels():
    h = numeric(log_x=True)
    h.x_label = "box area (% of the image; outer bins include beyond 0.001% and 100%)"
    h.y_label = "share of images"
    fig = histogram_figure(h)
    assert_all_inside(fig)
    texts = drawn_texts(fig)
    label = next(box for text, box in texts if text == "share of images")
    ticks = [box for text, box in texts if box.x1 < fig.bbox.width * 0.2 and text not in ("share of images",)
             and text.replace(".", "").isdigit()]
    assert ticks and all(label.x1 <= t.x0 + 0.5 for t in ticks)  # the y label sits left of every y tick label
    # shares with three decimals (0.125) are the widest tick labels: measured on the axes' final height
    h2 = numeric(values=np.array([0] * 40 + [14, 6, 10, 3, 9, 5] + [0] * 18))
    h2.y_label = "share of images"
    texts = drawn_texts(histogram_figure(h2))
    label = next(box for text, box in texts if text == "share of images")
    ticks = [box for text, box in texts if text.startswith("0.")]
    assert ticks and all(label.x1 <= t.x0 + 0.5 for t in ticks)
