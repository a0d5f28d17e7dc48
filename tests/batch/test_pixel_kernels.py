"""The compiled loops over image pixels give the bytes OpenCV's and numpy's ways give, and refuse bad input."""
import cv2
import numpy as np
import pytest

from data_gradients.batch import pixel_kernels
from data_gradients.feature_extractors.common import area_resize as ar
from data_gradients.feature_extractors.common import image_hash, image_quality, thumbnails
from data_gradients.feature_extractors.common.image_hash import KEYS

KERNELS = pixel_kernels.KERNELS


def test_the_extension_is_built():
    assert KERNELS is not None, "data_gradients.batch._pixel_kernels is not built (or stale): ./dev setup with a C compiler"
    assert KERNELS.VERSION == pixel_kernels.VERSION


def opencv_halvings(plane: np.ndarray, times: int) -> np.ndarray:
    for _ in range(times):
        r, c = plane.shape
        plane = cv2.resize(np.ascontiguousarray(plane[:r - r % 2, :c - c % 2]), (c // 2, r // 2),
                           interpolation=cv2.INTER_AREA)
    return plane


@pytest.mark.parametrize("rows, cols", [(2, 2), (3, 5), (16, 16), (33, 47), (64, 100), (131, 67), (240, 322)])
@pytest.mark.parametrize("times", [1, 2, 3])
def test_halve_equals_opencv_halvings(rows, cols, times):
    rng = np.random.default_rng(rows * cols + times)
    planes = rng.integers(0, 256, (4, rows, cols), dtype=np.uint8)
    planes[1] = 255  # the largest sums: (4 * 255 + 2) >> 2 must not wrap
    planes[2] = rng.integers(0, 2, (rows, cols)) * 255  # halves everywhere: OpenCV rounds them up
    got = pixel_kernels.halve(planes, times)
    assert got.dtype == np.uint8 and got.shape == (4, rows >> times, cols >> times)
    for k in range(4):
        if got[k].size:
            assert np.array_equal(got[k], opencv_halvings(planes[k], times)), k


@pytest.mark.parametrize("step", [2, 3])
def test_halve_reads_strided_rows_of_contiguous_images(step):
    rng = np.random.default_rng(step)
    images = rng.integers(0, 256, (5, 96, 70), dtype=np.uint8)
    view = images[:, ::step]
    assert not view.flags.c_contiguous
    got = pixel_kernels.halve(view, 2)
    for k in range(5):
        assert np.array_equal(got[k], opencv_halvings(np.ascontiguousarray(view[k]), 2))
    assert np.array_equal(pixel_kernels.halve(images[1:4, ::step], 1), pixel_kernels.halve(np.ascontiguousarray(view[1:4]), 1))


def test_halve_refuses_other_dtypes_and_step_counts():
    with pytest.raises(ValueError, match="uint8"):
        pixel_kernels.halve(np.zeros((1, 8, 8), np.uint16))
    with pytest.raises(ValueError, match="times"):
        pixel_kernels.halve(np.zeros((1, 8, 8), np.uint8), 0)
    with pytest.raises(ValueError, match="buffers too small"):  # the C checks its own reads
        KERNELS.shrink(np.zeros(10, np.uint8), 1, 8, 8, 64, 8, 1, 4, 4, np.zeros(16, np.uint8))
    assert pixel_kernels.halve(np.zeros((2, 1, 9), np.uint8)).shape == (2, 0, 4)


def opencv_area(planes: np.ndarray, out_rows: int, out_cols: int) -> np.ndarray:
    return np.stack([cv2.resize(np.ascontiguousarray(p), (out_cols, out_rows), interpolation=cv2.INTER_AREA)
                     for p in planes])


# (rows, cols, out_rows, out_cols): the thumbnails' last steps (224 px, 640 x 480, 1280 x 720 images), sample
# pictures, rows and columns not a multiple of 8 (the loop's tails), and p_r * p_c = 257 (sums of 65535: 16 bits full)
SHRINKS = [(112, 112, 64, 64), (120, 160, 64, 64), (90, 320, 64, 64), (224, 224, 96, 96), (224, 168, 96, 72),
           (35, 21, 15, 9), (21, 35, 9, 15), (257, 64, 64, 64), (64, 257, 64, 64), (9, 9, 3, 3), (200, 64, 64, 64),
           (31, 77, 31, 11), (75, 13, 25, 13)]


@pytest.mark.parametrize("rows, cols, out_rows, out_cols", SHRINKS)
def test_shrink_gives_opencvs_area_bytes_where_they_are_exact_means(rows, cols, out_rows, out_cols):
    assert ar.exact(rows, cols, out_rows, out_cols)  # OpenCV's bytes are then the exact means rounded
    assert pixel_kernels.area_divisor(rows, cols, out_rows, out_cols) <= pixel_kernels.AREA_MAX_DIVISOR
    rng = np.random.default_rng(rows * cols)
    planes = rng.integers(0, 256, (5, rows, cols), dtype=np.uint8)
    planes[1] = 255  # the largest sums
    planes[2] = rng.integers(0, 2, (rows, cols)) * 255
    planes[3] = rng.integers(126, 130, (rows, cols))  # means near halves
    planes[4] = cv2.GaussianBlur(planes[0], (7, 7), 2)
    got = pixel_kernels.shrink(planes, 0, out_rows, out_cols)
    assert got.shape == (5, out_rows, out_cols) and got.dtype == np.uint8
    assert np.array_equal(got, opencv_area(planes, out_rows, out_cols))
    strided = np.repeat(planes, 2, axis=1)[:, ::2]  # the same rows, read with a stride
    assert np.array_equal(pixel_kernels.shrink(strided, 0, out_rows, out_cols), got)


@pytest.mark.parametrize("rows, cols, times, out_rows, out_cols", [
    (224, 224, 1, 64, 64), (480, 640, 2, 64, 64), (360, 1280, 2, 64, 64),  # thumbnails of 224 px, 640 x 480, 720p
    (181, 640, 2, 27, 96), (61, 47, 1, 18, 23), (131, 300, 3, 16, 25)])  # odd rows and columns left out on the way
def test_shrink_halves_then_takes_area_means_in_one_pass(rows, cols, times, out_rows, out_cols):
    rng = np.random.default_rng(rows + cols)
    planes = rng.integers(0, 256, (4, rows, cols), dtype=np.uint8)
    planes[1] = cv2.GaussianBlur(planes[0], (9, 9), 3)
    assert ar.exact(rows >> times, cols >> times, out_rows, out_cols)
    got = pixel_kernels.shrink(planes, times, out_rows, out_cols)
    want = opencv_area(np.stack([opencv_halvings(p, times) for p in planes]), out_rows, out_cols)
    assert np.array_equal(got, want)


def test_shrink_refuses_what_it_cannot_compute():
    planes = np.zeros((2, 100, 100), np.uint8)
    with pytest.raises(ValueError, match="at most 8"):
        pixel_kernels.shrink(planes, 0, 12, 64)  # 100 -> 12: more than 8 inputs an output
    with pytest.raises(ValueError, match="at most 8"):
        pixel_kernels.shrink(planes, 1, 64, 64)  # 50 -> 64: an enlargement
    with pytest.raises(ValueError, match="divisor"):
        pixel_kernels.shrink(planes, 0, 63, 61)  # p_r * p_c = 100 * 100
    with pytest.raises(ValueError, match="even"):  # the C keeps to odd divisors (never a half to round) itself
        KERNELS.shrink(planes.reshape(-1), 2, 100, 100, 10000, 100, 0, 50, 100, np.zeros(10000, np.uint8))
    with pytest.raises(ValueError, match="times"):
        pixel_kernels.shrink(planes, -1, 64, 64)
    planes[1] = np.arange(100)
    assert np.array_equal(pixel_kernels.shrink(planes[:, ::2], 0, 50, 100), planes[:, ::2])  # nothing to do: a copy


@pytest.mark.parametrize("shape", [(480, 640), (720, 1280), (1080, 1920), (224, 224), (256, 256), (129, 300), (517, 333),
                                   (131, 128), (300, 129), (63, 80), (128, 64)])
def test_thumbnails_are_the_same_compiled_or_with_opencv(monkeypatch, shape):
    rng = np.random.default_rng(sum(shape))
    images = rng.integers(0, 256, (3, 3, *shape), dtype=np.uint8)
    images[1] = cv2.GaussianBlur(images[1].reshape(-1, shape[1]), (9, 9), 3).reshape(3, *shape)
    compiled = thumbnails.compute_thumbnails(images)
    monkeypatch.setattr(pixel_kernels, "KERNELS", None)
    reference = thumbnails.compute_thumbnails(images)
    assert np.array_equal(compiled.planes, reference.planes) and np.array_equal(compiled.grey, reference.grey)


def test_halvings_follow_the_opencv_steps():
    assert thumbnails.halvings(480, 640, 64) == 2 and thumbnails.halvings(224, 224, 64) == 1
    assert thumbnails.halvings(360, 1280, 64) == 2 and thumbnails.halvings(270, 1920, 64) == 1  # 720p, 1080p rows
    assert thumbnails.halvings(131, 300, 64) == 1  # odd rows: one halving, the last row left out
    assert thumbnails.halvings(127, 300, 64) == 0 and thumbnails.halvings(256, 127, 64) == 0


def test_image_scores_count_the_perceived_levels_of_every_colour():
    rgb = np.empty((4096, 3, 64, 64), np.uint8)  # all 2**24 colours, 4096 per thumbnail
    colours = np.arange(2**24, dtype=np.uint32).reshape(4096, 64, 64)
    for c in range(3):
        rgb[:, c] = (colours >> (8 * (2 - c))) & 255
    grey = thumbnails.grey_of(rgb)
    levels, greys, _, spread = pixel_kernels.image_scores(rgb, grey, image_quality._W)
    assert np.array_equal(levels, image_quality.image_histograms(image_quality.perceived_levels(rgb.reshape(4096, 3, -1))))
    assert np.array_equal(greys, image_quality.image_histograms(grey.reshape(4096, -1)))
    assert np.array_equal(spread, (rgb.max(axis=1).astype(int) - rgb.min(axis=1)).reshape(4096, -1).max(axis=1))


def test_image_scores_laplacian_sums_equal_opencv():
    rng = np.random.default_rng(3)
    grey = rng.integers(0, 256, (6, 64, 64), dtype=np.uint8)
    grey[0] = (np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8)  # the largest Laplacian
    planes = np.repeat(grey[:, None], 3, axis=1)
    _, _, lap, spread = pixel_kernels.image_scores(planes, grey, image_quality._W)
    for i in range(6):
        ref = cv2.Laplacian(grey[i], cv2.CV_16S, ksize=1)[1:-1, 1:-1].astype(np.int64)
        assert lap[i].tolist() == [ref.sum(), (ref * ref).sum()]
    assert not spread.any()
    with pytest.raises(ValueError, match="square thumbnails"):
        pixel_kernels.image_scores(planes[:, :, :32], grey, image_quality._W)
    with pytest.raises(ValueError, match="three weights"):
        pixel_kernels.image_scores(planes, grey, image_quality._W[:2])


@pytest.mark.parametrize("side", [1, 3, 5, 9, 10, 17, 33])
def test_image_scores_of_other_sides_take_the_vector_and_the_scalar_steps_alike(side):
    """Sides whose pixels are no multiple of 16 and whose inner rows no multiple of 8: the vector loops' tails."""
    rng = np.random.default_rng(side)
    planes = rng.integers(0, 256, (4, 3, side, side), dtype=np.uint8)
    planes[0] = 255  # the largest levels (clamped) and sums
    grey = thumbnails.grey_of(planes)
    levels, greys, lap, spread = pixel_kernels.image_scores(planes, grey, image_quality._W)
    assert np.array_equal(levels, image_quality.image_histograms(image_quality.perceived_levels(planes.reshape(4, 3, -1))))
    assert np.array_equal(greys, image_quality.image_histograms(grey.reshape(4, -1)))
    for i in range(4):
        ref = cv2.Laplacian(grey[i], cv2.CV_16S, ksize=1)[1:-1, 1:-1].astype(np.int64)
        assert lap[i].tolist() == [ref.sum(), (ref * ref).sum()]
    assert np.array_equal(spread, (planes.max(axis=1).astype(int) - planes.min(axis=1)).reshape(4, -1).max(axis=1))


@pytest.mark.parametrize("k", [64, 512, 1024, 4096])
@pytest.mark.parametrize("m", [1, 3, 4, 9])
def test_key_products_are_the_exact_integer_products(k, m):
    rng = np.random.default_rng(k + m)
    rows = rng.integers(-128, 128, (m, k), dtype=np.int8)
    rows[0] = np.where(KEYS[:k, 0] < 0, -128, 127)  # the largest product of column 0
    if not KERNELS.VNNI:  # test_image_hash.py checks from /proc/cpuinfo that this CPU really has none
        with pytest.raises(RuntimeError, match="VNNI"):
            image_hash._vnni_products(rows)
        return
    got = image_hash._vnni_products(rows)
    assert got.dtype == np.int32 and np.array_equal(got, rows.astype(np.int64) @ KEYS[:k].astype(np.int64))
    assert np.array_equal(image_hash._vnni_products(rows.view(np.uint8)), got)  # the bytes, whatever their dtype


def test_key_products_refuse_rows_of_other_lengths():
    packed = np.zeros((25, 16, 4), np.uint8)
    with pytest.raises(ValueError, match="multiple of 64"):
        KERNELS.key_products(np.zeros(100, np.uint8), 1, 100, packed, np.zeros(16, np.int32))
    with pytest.raises(ValueError, match="too small"):
        KERNELS.key_products(np.zeros(64, np.uint8), 2, 64, packed, np.zeros(16, np.int32))


@pytest.mark.parametrize("n, c, p", [(1, 3, 2), (4, 3, 10), (3, 1, 64), (2, 5, 1000), (0, 3, 8), (2, 3, 0), (2, 3, 70),
                                     (2, 3, 2 ** 19), (1, 3, 2 ** 19 + 2), (2, 2, 30)])  # three planes together, or not
def test_channel_counts_count_every_pixel_and_sum_every_plane(n, c, p):
    rng = np.random.default_rng(n * c + p)
    planes = rng.integers(0, 256, (n, c, p), dtype=np.uint8)
    if planes.size:
        planes[0, 0] = 255  # every pair in one bin, the largest sums
    counts, sums, halved = pixel_kernels.channel_counts(planes)
    assert halved is None
    assert counts.dtype == sums.dtype == np.int64 and counts.shape == (c, 256) and sums.shape == (n, c)
    assert counts.tolist() == [np.bincount(planes[:, a].ravel(), minlength=256).tolist() for a in range(c)]
    assert sums.tolist() == planes.astype(np.int64).sum(axis=2).tolist()
    strided = np.repeat(planes, 2, axis=0)[::2]  # a view: copied, the same counts
    again = pixel_kernels.channel_counts(strided)  # the scratch table is zeroed before each batch
    assert again[0].tolist() == counts.tolist() and again[1].tolist() == sums.tolist()


def test_channel_counts_of_one_batch_do_not_depend_on_the_batches_before():
    # RGB planes up to 512 KB are counted three at a time into one table a channel, others plane by plane into
    # two: the shared scratch table must come out clean either way
    rng = np.random.default_rng(7)
    small, large, five = (rng.integers(0, 256, shape, dtype=np.uint8) for shape in ((3, 3, 96), (1, 3, 2 ** 19 + 8),
                                                                                      (2, 5, 40)))
    expected = {id(planes): [np.bincount(planes[:, a].ravel(), minlength=256).tolist() for a in range(planes.shape[1])]
                for planes in (small, large, five)}
    for planes in (small, large, small, five, small, large, five):
        assert pixel_kernels.channel_counts(planes)[0].tolist() == expected[id(planes)]


@pytest.mark.parametrize("n, rows, cols, step", [(2, 8, 6, 1), (1, 10, 7, 1), (2, 9, 6, 1), (3, 12, 10, 2), (2, 15, 8, 3),
                                                  (1, 2, 2, 1), (2, 4, 34, 2), (1, 1026, 512, 1)])
def test_channel_counts_halve_each_plane_as_halve_does(n, rows, cols, step):
    rng = np.random.default_rng(rows * cols + step)
    planes = rng.integers(0, 256, (n, 3, rows * cols), dtype=np.uint8)
    planes[0, 1] = 255  # the largest 2 x 2 sums
    counts, sums, halved = pixel_kernels.channel_counts(planes, (cols, step))
    plain = pixel_kernels.channel_counts(planes)
    assert counts.tolist() == plain[0].tolist() and sums.tolist() == plain[1].tolist()
    taken = planes.reshape(n * 3, rows, cols)[:, ::step][:, :rows // step]
    assert halved.shape == (n * 3, rows // step // 2, cols // 2)
    assert np.array_equal(halved, pixel_kernels.halve(taken, 1))
    for k in range(n * 3):  # and OpenCV's bytes
        assert np.array_equal(halved[k], opencv_halvings(np.ascontiguousarray(taken[k]), 1)), k


def test_channel_counts_refuse_halvings_outside_the_planes():
    table, counts, sums = np.zeros((3, 2, 65536), np.uint32), np.zeros((3, 256), np.int64), np.zeros((1, 3), np.int64)
    pixels, half = np.zeros(3 * 24, np.uint8), np.zeros(3 * 6, np.uint8)
    KERNELS.channel_counts(pixels, 1, 3, 24, table, counts, sums, 6, 1, 2, half)  # 4 rows of 6: 2 x 3 halved
    with pytest.raises(ValueError, match="too small"):  # rows 0..5 of a 4-row plane
        KERNELS.channel_counts(pixels, 1, 3, 24, table, counts, sums, 6, 1, 3, np.zeros(3 * 9, np.uint8))
    with pytest.raises(ValueError, match="too small"):  # rows of 5 do not tile a plane of 24
        KERNELS.channel_counts(pixels, 1, 3, 24, table, counts, sums, 5, 1, 1, half)
    with pytest.raises(ValueError, match="too small"):
        KERNELS.channel_counts(pixels, 1, 3, 24, table, counts, sums, 6, 1, 2, half[:-1])
    with pytest.raises(ValueError, match="are not rows"):
        pixel_kernels.channel_counts(pixels.reshape(1, 3, 24), (5, 1))


def test_channel_counts_refuse_odd_planes_and_short_buffers():
    table, counts, sums = np.zeros((3, 65536), np.uint32), np.zeros((3, 256), np.int64), np.zeros((1, 3), np.int64)
    with pytest.raises(ValueError, match="odd plane"):
        KERNELS.channel_counts(np.zeros(9, np.uint8), 1, 3, 3, table, counts, sums)
    with pytest.raises(ValueError, match="too small"):
        KERNELS.channel_counts(np.zeros(10, np.uint8), 1, 3, 4, table, counts, sums)
    with pytest.raises(ValueError, match="too small"):
        KERNELS.channel_counts(np.zeros(24, np.uint8), 1, 3, 8, table[:2], counts, sums)
    with pytest.raises(ValueError, match="too small"):
        KERNELS.channel_counts(np.zeros(48, np.uint8), 2, 3, 8, table, counts, sums)


def test_shrink_picked_reads_the_picked_planes_where_they_lie():
    rng = np.random.default_rng(11)
    images = rng.integers(0, 256, (5, 3, 40, 30), dtype=np.uint8)
    for index, times, out in (([4, 1, 1], 0, (24, 18)), ([0], 1, (20, 15)), ([2, 3], 1, (12, 9)), ([], 0, (24, 18))):
        got = pixel_kernels.shrink_picked(images, index, times, *out)
        want = pixel_kernels.shrink(np.ascontiguousarray(images[index]).reshape(-1, 40, 30), times, *out)
        assert got.shape == (3 * len(index),) + out and np.array_equal(got, want)
    with pytest.raises(IndexError):
        pixel_kernels.shrink_picked(images, [5], 0, 24, 18)
    with pytest.raises(ValueError, match="no shrink"):
        pixel_kernels.shrink_picked(images, [0], 0, 41, 18)
    at = np.array([0, 3 * 40 * 30 * 5 - 40 * 30 + 1], np.int64)  # the second plane would end past the batch
    with pytest.raises(ValueError, match="too small"):
        KERNELS.shrink(images.reshape(-1), 2, 40, 30, 0, 30, 0, 24, 18, np.zeros((2, 24, 18), np.uint8), at)
    with pytest.raises(ValueError, match="too small"):
        KERNELS.shrink(images.reshape(-1), 2, 40, 30, 0, 30, 0, 24, 18, np.zeros((2, 24, 18), np.uint8), at[:1])
    with pytest.raises(ValueError, match="too small"):
        KERNELS.shrink(images.reshape(-1), 1, 40, 30, 0, 30, 0, 24, 18, np.zeros((1, 24, 18), np.uint8), -at[1:])


def test_phash_refuses_other_shapes_large_bases_and_short_buffers():
    from data_gradients.feature_extractors.common.perceptual_hash import DCT

    grey = np.zeros((2, 64, 64), np.uint8)
    assert pixel_kernels.phash(grey, DCT).tolist() == [0, 0] and pixel_kernels.phash(grey[:0], DCT).shape == (0,)
    with pytest.raises(ValueError, match="must be"):
        pixel_kernels.phash(np.zeros((2, 32, 32), np.uint8), DCT)
    with pytest.raises(ValueError, match="above 4096"):
        pixel_kernels.phash(grey, DCT * 2)
    with pytest.raises(ValueError, match="smaller"):
        KERNELS.phash(np.zeros(4095, np.uint8), 1, DCT, np.zeros(1, np.uint64))
    with pytest.raises(ValueError, match="smaller"):
        KERNELS.phash(grey, 2, DCT, np.zeros(1, np.uint64))


def test_grey_refuses_other_shapes_and_short_buffers():
    with pytest.raises(ValueError, match="uint8"):
        pixel_kernels.grey(np.zeros((2, 4, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="smaller"):  # the C checks its own reads and writes
        KERNELS.grey(np.zeros(3 * 63, np.uint8), 1, 64, np.zeros(64, np.uint8))
    assert pixel_kernels.grey(np.zeros((0, 3, 8, 8), np.uint8)).shape == (0, 8, 8)
