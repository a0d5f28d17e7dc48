"""The raster canvas, its text and the legend's place: what is drawn lands where it is asked to."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from data_gradients.reports.raster.canvas import Canvas, on_white, rgb
from data_gradients.reports.raster.legend import Entry, best_place, drawn_pixels, legend_size
from data_gradients.reports.raster.text import DPI, line_height, px, text_box, text_mask


def test_text_is_measured_in_pixels_at_the_figure_resolution():
    w10, h10 = text_box("share of images", 10)
    w20, h20 = text_box("share of images", 20)
    assert 1.9 < w20 / w10 < 2.1 and 1.9 < h20 / h10 < 2.1
    assert px(72) == DPI and line_height(10) == round(h10)
    w, h = text_box("share of images", 10, 90)
    assert abs(w - h10) < 1e-6 and abs(h - w10) < 1e-6  # upright: width and height swap
    assert text_box("two\nlines", 10)[1] > 2 * line_height(10) and text_box("", 10) == (0.0, 0.0)


def test_a_text_mask_is_the_size_of_its_box_and_holds_ink():
    for rotation in (0.0, 45.0, 90.0):
        mask = text_mask("traffic sign", 8.0, rotation)
        w, h = text_box("traffic sign", 8.0, rotation)
        assert abs(mask.shape[1] - w) <= 3 and abs(mask.shape[0] - h) <= 3, rotation
        assert mask.max() == 255 and (mask == 0).mean() > 0.3
    assert not text_mask("x", 10.0).flags.writeable  # shared between drawings: never written


def test_blending_paints_the_colour_through_the_mask_and_clips_at_the_edges():
    canvas = Canvas(10, 6)
    mask = np.array([[0, 128, 255]], dtype=np.uint8)
    canvas.blend(-1, 0, mask, (0, 0, 0))  # the first column falls outside
    assert tuple(canvas.pixels[0, 0]) == (127, 127, 127) and tuple(canvas.pixels[0, 1]) == (0, 0, 0)
    canvas.blend(9, 5, np.full((3, 3), 255, np.uint8), "#ff0000")
    assert tuple(canvas.pixels[5, 9]) == (255, 0, 0) and tuple(canvas.pixels[4, 8]) == (255, 255, 255)


def test_a_region_draws_into_its_part_and_records_texts_where_they_are_in_the_picture():
    canvas = Canvas(200, 100)
    part = canvas.region(50, 20, 150, 80)
    part.fill(-10, -10, 500, 500, (1, 2, 3))  # clipped to the region
    assert (canvas.pixels[20:80, 50:150] == (1, 2, 3)).all() and (canvas.pixels[:20] == 255).all()
    part.text(0, 0, "val", 8)
    text, left, top, right, bottom = canvas.placed[-1]
    assert text == "val" and (left, top) == (50, 20) and right > left and bottom > top


def test_lines_and_shapes_land_on_their_pixels():
    canvas = Canvas(40, 30)
    canvas.hline(5, 35, 10, 3, (0, 0, 0))
    assert (canvas.pixels[9:12, 5:35] == 0).all() and (canvas.pixels[12, 5:35] == 255).all()
    canvas.vline(20, 0, 30, 1, "#00ff00")
    assert (canvas.pixels[:, 20] == (0, 255, 0)).all()
    canvas.frame(0, 0, 40, 30, 2, (9, 9, 9))
    assert (canvas.pixels[0] == 9).all() and (canvas.pixels[:, -1] == 9).all()


def test_colours_mix_with_white_and_the_png_keeps_pixels_and_resolution():
    assert rgb("#2b6cb0") == (0x2B, 0x6C, 0xB0) and on_white((0, 0, 0), 0.3) == (178, 178, 178)
    canvas = Canvas(16, 8)
    canvas.fill(0, 0, 8, 8, (10, 20, 30))
    image = Image.open(io.BytesIO(canvas.png()))
    assert np.array_equal(np.asarray(image), canvas.pixels) and round(image.info["dpi"][0]) == DPI


def test_the_legend_goes_where_it_covers_least():
    size = legend_size([Entry("train", "#000000"), Entry("val", "#000000")])
    before = np.full((300, 600, 3), 255, np.uint8)
    after = before.copy()
    left, top = best_place(drawn_pixels(before, after), 600, 300, size)
    assert left > 300 and top < 50  # nothing drawn: upper right
    after[:150, 300:] = 0  # the upper right is taken: upper left
    left, top = best_place(drawn_pixels(before, after), 600, 300, size)
    assert left < 300 and top < 50
    after[:150, :] = 0  # the whole top is taken: lower left
    left, top = best_place(drawn_pixels(before, after), 600, 300, size)
    assert left < 300 and top > 150


def test_fit_wraps_at_spaces_and_cuts_what_still_does_not_fit_with_an_ellipsis():
    from data_gradients.reports.raster.text import fit, shorten, text_width

    text = "box area (% of the image; outer bins include beyond 0.001% and 100%)"
    wrapped = fit(text, 10, 300, max_lines=3)
    assert wrapped.replace("\n", " ") == text and all(text_width(line, 10) <= 300 for line in wrapped.split("\n"))
    one = fit(text, 10, 300, max_lines=1)
    assert "\n" not in one and one.endswith("\N{HORIZONTAL ELLIPSIS}") and text_width(one, 10) <= 300
    assert shorten("car", 10, 300) == "car"
