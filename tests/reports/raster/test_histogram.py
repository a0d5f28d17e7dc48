"""Histogram figures drawn without a plotting library: every text inside the figure and the one asked
for, bars and steps as tall as the shares, axes that end where the data does."""
from __future__ import annotations

import numpy as np
import pytest

from data_gradients.reports.raster.colors import split_colors
from data_gradients.reports.raster.histogram import draw, histogram_canvas, histogram_layout
from data_gradients.results import Histogram

LONG = ["road", "a rather long class name that goes on", "car", "traffic sign (front side)", "person"]


def categorical(names, splits=("train", "val"), seed=0):
    rng = np.random.default_rng(seed)
    return Histogram(key="k", title="Share of labelled pixels per class", x_label="class",
                     counts={s: rng.integers(0, 100, len(names)) for s in splits}, categories=list(names))


def numeric(log_x=False, values=None, unnormalized=False, decades=5, splits=("train", "val")):
    edges = np.logspace(-3, decades - 3, 26) if log_x else np.linspace(0, 255, 65)
    rng = np.random.default_rng(1)
    counts = {s: (values if values is not None else rng.integers(0, 1000, len(edges) - 1)) for s in splits}
    return Histogram(key="n", title="Object area", x_label="area (%)", counts=counts, bin_edges=edges, log_x=log_x,
                     normalize=not unnormalized, y_label="images" if unnormalized else "share")


def placed(hist):
    canvas = histogram_canvas(hist)
    return canvas, canvas.placed


@pytest.mark.parametrize("hist", [
    categorical(LONG), categorical([f"class_{k}" for k in range(100)]), categorical(["a", "b"]),
    numeric(), numeric(log_x=True), numeric(log_x=True, decades=1), numeric(values=np.full(64, 10 ** 7), unnormalized=True),
])
def test_histogram_texts_stay_inside_the_figure(hist):
    canvas, texts = placed(hist)
    assert len(texts) > 5
    for text, left, top, right, bottom in texts:
        assert left >= -1 and top >= -1 and right <= canvas.width + 1 and bottom <= canvas.height + 1, text


def test_category_axis_shows_the_class_names_the_title_and_the_legend():
    _, texts = placed(categorical(LONG))
    names = [t[0] for t in texts]
    assert all(name in names for name in LONG)
    assert {"Share of labelled pixels per class", "class", "share", "train", "val"} <= set(names)


def test_bars_are_as_tall_as_the_shares():
    hist = categorical(["a", "b", "c"], splits=("train",))
    layout = histogram_layout(hist)
    (series,) = layout.series
    np.testing.assert_allclose(series.bars[:, 2], hist.shares("train"))
    canvas = draw(layout)
    blue = np.array([0x2B, 0x6C, 0xB0])
    for (left, right, height) in series.bars:  # the bar's colour reaches its height and stops there
        x = int(layout.axes.x_px([(left + right) / 2])[0])
        top = float(layout.axes.y_px([height])[0])
        column = np.all(canvas.pixels[:, x] == blue, axis=1)
        assert column[int(top) + 2] and not column[int(top) - 2]


def test_one_split_is_filled_under_its_steps_two_are_outlined():
    hist = numeric(values=np.r_[np.zeros(20), np.full(24, 5), np.zeros(20)], splits=("train",))
    layout = histogram_layout(hist)
    canvas = draw(layout)
    a = layout.axes
    x = int(a.x_px([128])[0])
    y = int((a.y_px([0])[0] + a.y_px([hist.shares("train").max()])[0]) / 2)
    assert tuple(canvas.pixels[y, x]) != (255, 255, 255)  # inside the filled area
    two = numeric(values=np.r_[np.zeros(20), np.full(24, 5), np.zeros(20)])
    layout = histogram_layout(two)
    canvas = draw(layout)
    assert tuple(canvas.pixels[y, x]) == (255, 255, 255)  # the same place, not filled


def test_pixel_value_axes_end_at_255():
    hist = Histogram(key="v", title="Values", x_label="value (0-255)", counts={"train": np.ones(256)},
                     bin_edges=np.arange(257, dtype=float))
    layout = histogram_layout(hist)
    assert layout.axes.x.hi == 255.5
    assert layout.axes.x_ticks[0].values[-1] == 255 and layout.axes.x_ticks[0].labels[-1] == "255"


def test_the_y_axis_starts_at_zero_and_ends_just_above_the_highest_share():
    hist = numeric()
    layout = histogram_layout(hist)
    top = max(hist.shares(s).max() for s in hist.counts)
    assert layout.axes.y.lo == 0 and top < layout.axes.y.hi <= top * 1.06
    values = layout.axes.y_ticks[0].values
    assert values[0] == 0 and values[-1] <= layout.axes.y.hi and len(values) >= 3


def test_log_axes_label_decades_and_a_short_one_labels_its_minor_ticks():
    wide = histogram_layout(numeric(log_x=True))
    major = wide.axes.x_ticks[0]
    assert "1" in major.labels and "10" in major.labels and not any(wide.axes.x_ticks[1].labels)
    short = histogram_layout(numeric(log_x=True, decades=1))
    assert any(short.axes.x_ticks[1].labels)


def test_a_long_axis_label_wraps_inside_and_the_y_label_clears_the_tick_labels():
    h = numeric(log_x=True)
    h.x_label = "box area (% of the image; outer bins include beyond 0.001% and 100%)"
    h.y_label = "share of images"
    canvas, texts = placed(h)
    assert any("\n" in t[0] for t in texts)  # wrapped
    for text, left, top, right, bottom in texts:
        assert left >= -1 and right <= canvas.width + 1, text
    label = next(t for t in texts if t[0] == "share of images")
    ticks = [t for t in texts if t[0].startswith("0.") and t[3] < canvas.width * 0.25]
    assert ticks and all(label[3] <= t[1] + 0.5 for t in ticks)


def test_the_legend_keeps_clear_of_the_data():
    # the data reaches the top at the right only: the legend goes left
    values = np.r_[np.full(48, 5), np.full(16, 100)]
    layout = histogram_layout(numeric(values=values))
    canvas = draw(layout)
    legend = next(t for t in canvas.placed if t[0] == "train")
    middle = (layout.axes.left + layout.axes.right) / 2
    assert legend[2] < middle
    # the top right is free: it stays at the upper right
    layout = histogram_layout(numeric(values=np.r_[np.full(16, 100), np.full(48, 5)]))
    canvas = draw(layout)
    legend = next(t for t in canvas.placed if t[0] == "train")
    assert legend[1] > middle


def test_split_colours_are_distinct_for_six_splits():
    colours = split_colors(["test", "val", "holdout", "train", "extra", "night"])
    assert len(set(colours.values())) == 6
    assert colours["train"] == split_colors(["train"])["train"] and colours["val"] == split_colors(["val"])["val"]


def test_empty_and_all_zero_histograms_still_draw():
    for hist in (numeric(values=np.zeros(64, dtype=int)), categorical([]),
                 Histogram(key="e", title="Empty", x_label="x", counts={}, bin_edges=np.arange(3.0))):
        canvas = histogram_canvas(hist)
        assert canvas.pixels.shape == (450, 780, 3)


def test_log_labels_never_touch_a_wide_range_keeps_the_decades():
    hist = Histogram(key="a", title="Object area", x_label="object area (% of the image)",
                     counts={"train": np.ones(30)}, bin_edges=np.logspace(-2.6, 2, 31), log_x=True)
    canvas = histogram_canvas(hist)
    layout = histogram_layout(hist)
    bottom = layout.axes.bottom
    boxes = sorted((t[1], t[3]) for t in canvas.placed if bottom < t[2] < bottom + 40)  # the x tick labels
    assert len(boxes) >= 4
    assert all(b[0] > a[1] for a, b in zip(boxes, boxes[1:]))  # a gap between neighbours
    major = layout.axes.x_ticks[0]
    assert "1" in major.labels and "10" in major.labels and "2" not in major.labels
    assert 2.0 in major.values  # the tick stays, unlabelled
