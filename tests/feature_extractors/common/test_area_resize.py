"""area_resize gives cv2.resize's INTER_AREA bytes: every row count of a 64-pixel thumbnail's last
step against OpenCV itself, on random, black-and-white and narrow-range planes (whose exact means
fall at every distance from a half the denominators allow), and the thumbnails against the
OpenCV-only pipeline they replaced."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from data_gradients.batch import ImageBatch, pixel_kernels
from data_gradients.feature_extractors.common import area_resize as ar
from data_gradients.feature_extractors.common import thumbnails as th

pytestmark = pytest.mark.usefixtures("pixel_path")  # compiled pixel loops and OpenCV ways alike

COLS = [64, 65, 77, 96, 100, 111, 112, 120, 127, 128, 160, 192, 200, 320, 333, 448, 512, 513]


def planes(kind: int, n: int, rows: int, cols: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == 0:
        return rng.integers(0, 256, (n * rows, cols), dtype=np.uint8)
    if kind == 1:
        return (rng.integers(0, 2, (n * rows, cols)) * 255).astype(np.uint8)
    return rng.integers(120, 136, (n * rows, cols), dtype=np.uint8)


def opencv(tall: np.ndarray, n: int, size: int) -> np.ndarray:
    return cv2.resize(tall, (size, n * size), interpolation=cv2.INTER_AREA)


@pytest.fixture
def any_phases(monkeypatch):
    """The vectorised path for any number of phases (production leaves many-phase sizes to OpenCV for speed):
    the equality is then tested for every denominator the error bound admits."""
    monkeypatch.setattr(ar, "MAX_PHASES", 1 << 20)


@pytest.fixture
def short_chunks(monkeypatch):
    """Passes of 3 x 64 x 64 row sums (1 to 3 planes of the sizes below): 7 planes end with a short last pass."""
    monkeypatch.setattr(ar, "CHUNK_FLOATS", 3 * 64 * 64)


@pytest.mark.parametrize("rows", range(64, 128))
def test_every_last_step_of_a_64_pixel_thumbnail_gives_opencvs_bytes(rows, any_phases, short_chunks):
    exact = 0
    for cols in COLS:
        for kind in range(3):
            tall = planes(kind, 7, rows, cols, rows * 1000 + cols * 3 + kind)  # 7 planes: a short last pass
            assert np.array_equal(ar.area_resize(tall, 7, 64, 64), opencv(tall, 7, 64)), (rows, cols, kind)
        exact += ar.exact(rows, cols, 64, 64)
    assert exact >= (3 if rows % 2 else 1)  # the vectorised path is taken, not only OpenCV's


@pytest.mark.parametrize("size", [1, 3, 8, 16])
def test_small_sizes_every_shape(size, any_phases):
    step = 1 if size < 16 else 3
    for rows in range(size, 9 * size + 2, step):
        for cols in range(size, 9 * size + 2, step):
            tall = planes((rows + cols) % 3, 4, rows, cols, rows * 1000 + cols)
            assert np.array_equal(ar.area_resize(tall, 4, size, size), opencv(tall, 4, size)), (size, rows, cols)


def test_other_output_shapes(any_phases):
    rng = np.random.default_rng(3)
    shapes = [(224, 224, 96, 96), (224, 168, 96, 72), (500, 375, 96, 72), (480, 640, 72, 96), (120, 160, 64, 80)]
    shapes += [tuple(int(v) for v in (r, c, rng.integers(1, r + 1), rng.integers(1, c + 1)))
               for r, c in rng.integers(1, 300, (60, 2))]
    taken = 0
    for rows, cols, out_rows, out_cols in shapes:
        for kind in range(3):
            tall = planes(kind, 3, rows, cols, rows + cols + kind)
            want = cv2.resize(tall, (out_cols, 3 * out_rows), interpolation=cv2.INTER_AREA)
            assert np.array_equal(ar.area_resize(tall, 3, out_rows, out_cols), want), (rows, cols, out_rows, out_cols)
        taken += ar.exact(rows, cols, out_rows, out_cols)
    assert taken >= 5


def test_strided_rows_are_read_as_they_are(any_phases):
    tall = planes(0, 5, 224, 112, 1)[::2]  # every other row: a strided view of 5 planes of 112 rows
    assert not tall.flags.c_contiguous
    assert np.array_equal(ar.area_resize(tall, 5, 64, 64), opencv(np.ascontiguousarray(tall), 5, 64))


def test_passes_of_the_production_size_with_a_short_last_one():
    per_pass = ar.CHUNK_FLOATS // (64 * 112)
    assert 2 <= per_pass < 29  # 29 planes of 112 x 112: several passes, the last one short
    for kind in range(3):
        tall = planes(kind, 29, 112, 112, 7 + kind)
        assert np.array_equal(ar.area_resize(tall, 29, 64, 64), opencv(tall, 29, 64)), kind


@pytest.mark.parametrize("rows, cols, size, expected", [
    (112, 112, 64, True), (120, 160, 64, True), (90, 320, 64, True),  # 224 px, 640 x 480 and 1280 x 720 images
    (128, 64, 64, False), (64, 128, 64, False),  # denominator 2: a mean can be a half, OpenCV's rounding decides
    (127, 127, 64, False), (79, 333, 64, False),  # odd but large denominators: too close to a half
    (63, 64, 64, False), (64, 520, 64, False), (520, 64, 64, False),  # enlargement, scales beyond the bounds
    (200, 64, 64, True), (448, 448, 64, True), (224, 224, 96, True),  # shrinks by 25/8, by 7, by 7/3
])
def test_exact_means_are_taken_only_where_they_are_proven(rows, cols, size, expected):
    assert ar.exact(rows, cols, size, size) is expected


@pytest.mark.parametrize("rows, cols, size, expected", [
    (112, 112, 64, True), (120, 160, 64, True), (90, 320, 64, True), (224, 224, 96, True),  # divisors 49, 75, 225, 49
    (257, 64, 64, True), (259, 64, 64, False),  # divisors 257 and 259: the compiled sums hold 255 x 257 at most
    (192, 64, 64, False),  # whole-number scales (3 x 1): the block sums
    (128, 64, 64, False),  # not exact
])
def test_the_compiled_means_are_taken_where_they_hold(rows, cols, size, expected):
    assert ar.compiled(rows, cols, size, size) is (expected and pixel_kernels.KERNELS is not None)


def test_many_phases_go_to_opencv_without_the_compiled_loops(monkeypatch):
    monkeypatch.setattr(pixel_kernels, "KERNELS", None)
    tall = planes(0, 2, 90, 320, 5)  # 1280 x 720's last step: 32 + 1 phases, more calls than OpenCV's own resize
    calls = []
    monkeypatch.setattr(ar, "_phase_sums", lambda *a: calls.append(a))
    assert np.array_equal(ar.area_resize(tall, 2, 64, 64), opencv(tall, 2, 64)) and not calls


def test_phase_taps_cover_each_output_cell_exactly():
    for src, dst in [(112, 64), (120, 64), (90, 64), (320, 64), (64, 64), (17, 5)]:
        p, q, taps = ar.phase_taps(src, dst)
        assert p * dst == q * src and len(taps) == q
        assert all(sum(w for _, w in t) == p for t in taps)  # each output covers p / q inputs
        assert sum(w for t in taps for _, w in t) == p * q  # each input's weight is spread once: q per input


def reference_thumbnails(images: np.ndarray, size: int = th.SIZE) -> np.ndarray:
    """The thumbnail planes as compute_thumbnails made them before area_resize: OpenCV only."""
    n, _, h, w = images.shape
    step = th.row_step(h, size)
    rows, cols = h // step, w
    tall = np.ascontiguousarray(images).reshape(n * 3 * h, w)[::step]
    if rows % 2 and rows // 2 >= size and cols // 2 >= size:
        rows, cols = rows - 1, cols - cols % 2
        stack = tall.reshape(n * 3, rows + 1, w)
        half = np.stack([cv2.resize(stack[k, :rows, :cols], (cols // 2, rows // 2), interpolation=cv2.INTER_AREA)
                         for k in range(n * 3)])
        tall, rows, cols = half.reshape(-1, cols // 2), rows // 2, cols // 2
    while rows % 2 == 0 and rows // 2 >= size and cols // 2 >= size:
        cols -= cols % 2
        tall = cv2.resize(tall[:, :cols], (cols // 2, n * 3 * rows // 2), interpolation=cv2.INTER_AREA)
        rows, cols = rows // 2, cols // 2
    if (rows, cols) != (size, size):
        tall = cv2.resize(tall, (size, n * 3 * size), interpolation=cv2.INTER_AREA)
    return tall.reshape(n, 3, size, size)


@pytest.mark.parametrize("shape", [(5, 224, 224), (2, 480, 640), (1, 720, 1280), (3, 375, 500), (2, 427, 640),
                                   (2, 240, 320), (4, 100, 90), (2, 333, 250), (1, 1080, 1920), (3, 50, 70)])
def test_thumbnails_are_the_opencv_only_thumbnails(shape):
    n, h, w = shape
    rng = np.random.default_rng(h * w)
    images = rng.integers(0, 256, (n, 3, h, w), dtype=np.uint8)
    images[0, :, : h // 2] = rng.integers(126, 130, (3, h // 2, w))  # flat, narrow range: means near halves
    reference = reference_thumbnails(images)
    assert np.array_equal(th.compute_thumbnails(images).planes, reference)
    batch = ImageBatch(images=images, sample_ids=np.arange(n), nonfinite_pixels=np.zeros(n, np.int64), source_channels=3)
    batch.pixel_stats.sums  # the counting pass, which makes the first halving where it is compiled
    assert np.array_equal(th.grey_thumbnails(batch).planes, reference)


def test_whole_factors_are_block_sums_with_opencvs_bytes():
    rng = np.random.default_rng(8)
    for trial in range(400):
        fy, fx = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        if (fy, fx) in ((1, 1), (2, 2)):
            continue
        dh, dw = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        planes = rng.integers(0, 256, (3, dh * fy, dw * fx), dtype=np.uint8)
        if trial % 2:
            planes = planes // 64 * 64  # many sums that end in a half
        if trial % 7 == 0:
            planes[:] = 255  # the largest sums
        expected = np.stack([cv2.resize(p, (dw, dh), interpolation=cv2.INTER_AREA) for p in planes])
        assert np.array_equal(ar.block_means(planes, fy, fx), expected), (fy, fx, dh, dw)
        tall = ar.area_resize(planes.reshape(3 * dh * fy, dw * fx), 3, dh, dw)  # the path area_resize takes
        assert np.array_equal(tall.reshape(3, dh, dw), expected), (fy, fx, dh, dw)
