"""The integer pHash equals its definition computed with Python integers, and agrees with the
floating-point DCT pHash; re-encoded and resized copies of a photo stay within the default radius."""
import cv2
import numpy as np
import pytest
import skimage.data
from scipy.fft import dct

from data_gradients.feature_extractors.common.near_duplicates import RADIUS
from data_gradients.feature_extractors.common.perceptual_hash import DCT, hamming, phash_from_grey
from data_gradients.feature_extractors.common.thumbnails import compute_thumbnails

pytestmark = pytest.mark.usefixtures("pixel_path")  # the compiled loop and the numpy products alike


def reference_hash(grey):
    """pHash of one (64, 64) uint8 thumbnail in Python integers (the definition, slowly)."""
    g = [[sum(int(grey[2 * y + a, 2 * x + b]) for a in (0, 1) for b in (0, 1)) for x in range(32)] for y in range(32)]
    d = DCT.tolist()
    rows = [[sum(d[k][y] * g[y][x] for y in range(32)) for x in range(32)] for k in range(8)]
    coeffs = [sum(rows[k][x] * d[m][x] for x in range(32)) for k in range(8) for m in range(8)]
    s = sorted(coeffs)
    twice_median = s[31] + s[32]
    return sum(1 << b for b, c in enumerate(coeffs) if 2 * c > twice_median)


def thumbs(images):
    """(N, 64, 64) grey thumbnails of (H, W, 3) images of any sizes, one at a time."""
    return np.concatenate([compute_thumbnails(np.ascontiguousarray(im.transpose(2, 0, 1))[None]).grey for im in images])


def test_equals_the_integer_definition_on_random_and_photo_thumbnails():
    rng = np.random.default_rng(0)
    greys = list(rng.integers(0, 256, (3, 64, 64), dtype=np.uint8))
    greys.append(np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1)))  # a ramp: many equal coefficients
    greys.append(thumbs([skimage.data.astronaut()])[0])
    greys.append(np.full((64, 64), 255, np.uint8))  # the largest sums; every AC coefficient 0
    greys.append(((np.indices((64, 64)).sum(axis=0) // 2) % 2 * 255).astype(np.uint8))  # 2 x 2 checks: extreme ACs
    greys.append(np.zeros((64, 64), np.uint8))
    hashes = phash_from_grey(np.stack(greys))
    assert [int(h) for h in hashes] == [reference_hash(g) for g in greys]


def test_close_to_the_floating_point_phash():
    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket()]
    greys = thumbs(photos)
    ours = phash_from_grey(greys)
    for g, h in zip(greys, ours):
        small = g.astype(np.float64).reshape(32, 2, 32, 2).mean(axis=(1, 3))
        c = dct(dct(small, axis=0, norm="ortho"), axis=1, norm="ortho")[:8, :8].reshape(-1)
        bits = c > np.median(c)
        float_hash = int(np.packbits(bits, bitorder="little").view("<u8")[0])
        assert bin(int(h) ^ float_hash).count("1") <= 2  # rounding of the basis moves at most a tie


def test_copies_stay_close_and_other_photos_far():
    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket()]
    base = phash_from_grey(thumbs(photos))
    for k, im in enumerate(photos):
        ok, buf = cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, 75])
        small = cv2.resize(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        assert hamming(base[k], phash_from_grey(thumbs([small]))[0]) <= RADIUS
    far = [int(hamming(base[a], base[b])) for a in range(4) for b in range(a + 1, 4)]
    assert min(far) > 4 * RADIUS


def int64_hash(grey):
    """The pHash of (N, 64, 64) thumbnails with int64 products (the earlier implementation)."""
    n = len(grey)
    g = grey.astype(np.int64).reshape(n, 32, 2, 32, 2).sum(axis=(2, 4))
    coeffs = np.matmul(np.matmul(DCT, g), DCT.T).reshape(n, 64)
    middle = np.sort(coeffs, axis=1)[:, 31:33].sum(axis=1)
    return np.packbits(2 * coeffs > middle[:, None], axis=1, bitorder="little").view("<u8").reshape(n)


def test_float64_products_equal_int64_products_on_random_and_extreme_thumbnails():
    rng = np.random.default_rng(3)
    extreme = np.stack([np.zeros((64, 64), np.uint8), np.full((64, 64), 255, np.uint8),
                        (np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8),  # checkerboard: the largest terms
                        (np.indices((64, 64))[0] // 32 * 255).astype(np.uint8)])
    for greys in (rng.integers(0, 256, (1000, 64, 64), dtype=np.uint8),
                  rng.integers(0, 3, (300, 64, 64), dtype=np.uint8),  # many ties of coefficients
                  (rng.random((300, 64, 64)) < 0.5).astype(np.uint8) * 255, extreme):
        assert np.array_equal(phash_from_grey(greys), int64_hash(greys))
