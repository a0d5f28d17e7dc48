"""Axes: which categories are named, and tick marks of both axes drawn alike."""
import numpy as np

from data_gradients.reports.raster.axes import MAX_CATEGORY_LABELS, Axes, Scale, Ticks, category_stride
from data_gradients.reports.raster.canvas import Canvas


def test_at_most_so_many_categories_are_named():
    assert [category_stride(n) for n in (0, 1, 24, 25, 48, 49, 300)] == [1, 1, 1, 2, 2, 3, 13]
    for n in range(1, 400):
        assert len(range(0, n, category_stride(n))) <= MAX_CATEGORY_LABELS


def _marks(canvas: Canvas, column: int) -> list:
    """Lengths of the runs of dark pixels down one column."""
    dark = (canvas.pixels[:, column] < 128).all(axis=1)
    runs, n = [], 0
    for d in list(dark) + [False]:
        if d:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    return runs


def test_minor_ticks_are_thinner_on_either_axis():
    canvas = Canvas(200, 200)
    axes = Axes(50, 20, 180, 180, Scale(0, 1), Scale(0, 1), [],
                [Ticks([0.25], [""]), Ticks([0.75], [""], minor=True)])
    axes.draw_ticks(canvas)
    column = 48  # left of the frame, crossed by both tick marks
    assert sorted(_marks(canvas, column)) == [1, 2]  # 0.6 pt and 0.8 pt at 150 dpi
    y_major, y_minor = axes.y_px([0.25, 0.75])
    rows = np.flatnonzero((canvas.pixels[:, column] < 128).all(axis=1))
    assert abs(rows[rows > 100].mean() - y_major) <= 1 and abs(rows[rows < 100].mean() - y_minor) <= 1
