"""The thumbnails' plan: which rows are read and how many halvings come before the last area step."""
from data_gradients.batch.thumbnail_plan import ROWS_PER_CELL, SIZE, first_halving_step, halvings, row_step


def test_the_row_step_divides_the_height_and_reads_enough_rows_per_cell():
    for h in (1, 63, 64, 224, 255, 256, 480, 720, 1080, 1081, 2160, 4000):
        step = row_step(h)
        assert step >= 1 and h % step == 0 and (step == 1 or h // step >= ROWS_PER_CELL * SIZE)
    assert row_step(720) == 2 and row_step(1080) == 4 and row_step(480) == 1 and row_step(1081) == 1  # 1081: prime-ish


def test_halvings_keep_both_sides_at_least_the_thumbnail():
    assert halvings(480, 640) == 2 and halvings(224, 224) == 1 and halvings(360, 1280) == 2
    assert halvings(131, 300) == 1  # odd rows: one halving, the last row left out
    assert halvings(127, 300) == 0 and halvings(256, 127) == 0 and halvings(64, 64) == 0


def test_the_first_halving_is_planned_only_where_the_thumbnail_halves():
    assert first_halving_step(224, 224) == 1 and first_halving_step(720, 1280) == 2 and first_halving_step(480, 640) == 1
    assert first_halving_step(127, 300) == 0 and first_halving_step(64, 64) == 0
    assert first_halving_step(0, 10) == 0 and first_halving_step(10, 0) == 0
