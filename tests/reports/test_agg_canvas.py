"""The sprite canvas draws every text where matplotlib draws it (to a pixel), measures texts as
matplotlib does, and gives the same pixels whatever was drawn before, in any thread."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from data_gradients.reports import agg_canvas
from data_gradients.reports.agg_canvas import SpriteCanvas, SpriteRenderer, clear_caches

TEXTS = ["Share of labelled pixels per class", "0.125", "traffic sign (front side)", "class_18", "Ünïcödé, ½ µm",
         "two\nlines"]


def text_figure(angle: float, size: float = 9.0, extra: str = "") -> Figure:
    fig = Figure(figsize=(5.2, 3.0), dpi=150)
    for k, text in enumerate(TEXTS):
        fig.text(0.08 + 0.13 * k, 0.15 + 0.12 * k, text + extra, fontsize=size, rotation=angle,
                 ha=["left", "center", "right"][k % 3], va=["baseline", "top", "center"][k % 3], color=f"C{k}")
    fig.add_subplot().plot([0, 1], [0, 1])  # and an axes with its tick labels
    return fig


def pixels(canvas) -> np.ndarray:
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype(int).copy()


def ink(image: np.ndarray) -> np.ndarray:
    """How far each pixel is from white."""
    return 765 - image.sum(axis=2)


@pytest.mark.parametrize("angle", [0, 45, 60, 90])
def test_texts_are_drawn_where_matplotlib_draws_them(angle):
    ours, theirs = pixels(SpriteCanvas(text_figure(angle))), pixels(FigureCanvasAgg(text_figure(angle)))
    a, b = ink(ours), ink(theirs)
    assert abs(a.sum() - b.sum()) <= 0.02 * b.sum()  # the same amount of ink
    ys, xs = np.mgrid[:a.shape[0], :a.shape[1]]
    for axis in (ys, xs):  # its centre within a pixel
        assert abs((a * axis).sum() / a.sum() - (b * axis).sum() / b.sum()) < 1.0
    # every inked pixel of ours is within one pixel of an inked pixel of matplotlib's
    near = np.zeros_like(b, dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= np.roll(np.roll(b > 40, dy, axis=0), dx, axis=1)
    assert not ((a > 160) & ~near).any()


def test_texts_are_measured_as_matplotlib_measures_them():
    ours, theirs = SpriteRenderer(10, 10, 150), RendererAgg(10, 10, 150)
    for size in (6, 8, 10):
        prop = FontProperties(size=size)
        for text in [t for t in TEXTS if "\n" not in t] + [""]:
            expected = theirs.get_text_width_height_descent(text, prop, ismath=False)
            assert ours.get_text_width_height_descent(text, prop, ismath=False) == expected
            assert ours.get_text_width_height_descent(text, prop, ismath=False) == expected  # cached


def test_the_pixels_do_not_depend_on_what_was_drawn_before():
    clear_caches()
    cold = pixels(SpriteCanvas(text_figure(45)))
    pixels(SpriteCanvas(text_figure(0, size=11, extra=" x")))  # another figure of the same size, same renderer
    warm = pixels(SpriteCanvas(text_figure(45)))
    assert agg_canvas._SPRITES and np.array_equal(cold, warm)
    with ThreadPoolExecutor(max_workers=3) as pool:
        drawn = list(pool.map(lambda k: pixels(SpriteCanvas(text_figure(45 if k % 2 else 0))), range(6)))
    assert all(np.array_equal(d, warm) for d in drawn[1::2])
    assert all(np.array_equal(d, drawn[0]) for d in drawn[0::2])


def test_mathtext_takes_matplotlibs_path():
    def figure():
        fig = Figure(figsize=(2, 1), dpi=100)
        fig.text(0.1, 0.5, r"$\alpha^2 + x_i$", fontsize=12)
        return fig

    assert np.array_equal(pixels(SpriteCanvas(figure())), pixels(FigureCanvasAgg(figure())))


def test_the_sprite_cache_is_bounded(monkeypatch):
    clear_caches()
    monkeypatch.setattr(agg_canvas, "MAX_SPRITES", 5)
    fig = Figure(figsize=(3, 1), dpi=100)
    for k in range(12):
        fig.text(0.01 + 0.08 * k, 0.5, str(k))
    SpriteCanvas(fig).draw()
    assert 0 < len(agg_canvas._SPRITES) <= 5


def test_texts_are_laid_out_as_matplotlib_lays_them_out():
    """Same boxes for every text, with the font heights taken from the cache (matplotlib >= 3.11)."""
    def boxes(canvas):
        canvas.draw()
        renderer = canvas.get_renderer()
        return [t.get_window_extent(renderer).bounds for t in canvas.figure.findobj(lambda a: hasattr(a, "get_text"))
                if t.get_text()]

    for angle in (0, 45):
        ours, theirs = boxes(SpriteCanvas(text_figure(angle))), boxes(FigureCanvasAgg(text_figure(angle)))
        assert len(ours) >= len(TEXTS) and ours == theirs
