"""The distances against scipy (test-only oracle) and their known values."""
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2, chi2_contingency, wasserstein_distance

from data_gradients.drift.distances import (
    PSI_EPSILON,
    bin_centres,
    chi2_sf,
    g_statistic,
    js_distance,
    noise_p_value,
    psi,
    wasserstein_1,
)


def _pairs(seed, n=40):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        k = int(rng.integers(2, 80))
        p, q = rng.integers(0, 1000, k), rng.integers(0, 1000, k)
        p[rng.random(k) < 0.3] = 0  # empty bins in one split or both
        q[rng.random(k) < 0.3] = 0
        p[0] += 1
        q[-1] += 1
        yield p, q


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_js_distance_equals_scipy(seed):
    for p, q in _pairs(seed):
        assert js_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wasserstein_equals_scipy_on_bin_centres(seed):
    rng = np.random.default_rng(seed)
    for p, q in _pairs(seed):
        edges = np.cumsum(rng.uniform(0.1, 3.0, len(p) + 1)) - 5.0  # uneven bins
        centres, span = bin_centres(edges)
        expected = wasserstein_distance(centres, centres, p, q)
        assert wasserstein_1(p, q, centres) == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert span == pytest.approx(edges[-1] - edges[0])


def test_log_axis_positions_are_log2_of_the_edges():
    edges = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    centres, span = bin_centres(edges, log=True)
    assert np.allclose(centres, [-1.5, -0.5, 0.5, 1.5]) and span == 4.0


def test_identical_distributions_give_zero_and_disjoint_ones_the_maximum():
    p = np.array([5, 0, 3, 2])
    assert js_distance(p, p * 7) == 0.0
    assert wasserstein_1(p, p * 3, np.arange(4.0)) == pytest.approx(0.0, abs=1e-15)
    assert psi(p, p * 2) == 0.0
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    # all the mass moved from the first to the last of 4 unit-spaced centres
    assert wasserstein_1([1, 0, 0, 0], [0, 0, 0, 1], np.arange(4.0)) == pytest.approx(3.0)


def test_psi_uses_the_documented_epsilon_for_empty_bins():
    p, q = np.array([50, 50, 0]), np.array([25, 50, 25])
    sp = np.array([0.5, 0.5, PSI_EPSILON])
    sq = np.array([0.25, 0.5, 0.25])
    assert psi(p, q) == pytest.approx(float(np.sum((sq - sp) * np.log(sq / sp))), rel=1e-12)
    assert np.isfinite(psi([1, 0], [0, 1]))


def test_g_statistic_equals_scipy_and_p_value_is_close_to_the_exact_tail():
    for p, q in _pairs(3, 20):
        g, df = g_statistic(p, q)
        stat, pval, dof, _ = chi2_contingency(np.stack([p, q])[:, (p + q) > 0], correction=False,
                                              lambda_="log-likelihood")
        assert g == pytest.approx(stat, rel=1e-10) and df == dof
    for df in (1, 2, 5, 20, 63, 255):
        for p_exact in (0.1, 0.01, 0.001, 1e-4):
            ratio = chi2_sf(chi2.isf(p_exact, df), df) / p_exact
            assert (0.7 < ratio < 1.3) if df >= 5 else (0.5 < ratio < 2.0), (df, p_exact, ratio)


def test_noise_p_value_tells_small_samples_from_large_ones():
    small_p, small_q = np.array([6, 4, 0]), np.array([3, 5, 2])
    assert noise_p_value(small_p, small_q) > 0.1  # 10 draws each: anything goes
    assert noise_p_value(small_p * 1000, small_q * 1000) < 1e-6  # the same shares from 10,000 draws each
    assert noise_p_value([5, 5], [0, 0]) == 1.0  # an empty split: nothing to test
