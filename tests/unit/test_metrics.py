"""Scores: exact small cases, brute-force references and calibrated Gaussian ensembles."""
import numpy as np
import pytest
from scipy import integrate, stats

from datrain import metrics


def test_rmse_and_r2_simple_values():
    assert metrics.rmse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(np.sqrt(4.0 / 3.0), rel=1e-15)
    assert metrics.rmse(np.array([[1.0], [2.0]]), np.array([1.0, 2.0])) == 0.0  # trailing axes flattened
    truth = np.array([1.0, 2.0, 3.0, 4.0])
    assert metrics.r2(truth, truth) == 1.0
    assert metrics.r2(np.full(4, truth.mean()), truth) == 0.0
    assert metrics.r2([1.0, 2.0, 3.0, 5.0], truth) == pytest.approx(1.0 - 1.0 / 5.0, rel=1e-15)


def test_rmse_of_huge_or_non_finite_residuals():
    assert metrics.rmse([3e200, -4e200], [0.0, 0.0]) == pytest.approx(np.sqrt(12.5) * 1e200, rel=1e-15)
    assert np.isnan(metrics.rmse([np.nan, 1.0], [0.0, 0.0]))
    assert metrics.rmse([np.inf, 1.0], [0.0, 0.0]) == np.inf


def test_predictive_mean_std():
    predictions = np.random.default_rng(0).standard_normal((7, 5, 1))
    mean, std = metrics.predictive_mean_std(predictions)
    np.testing.assert_allclose(mean, predictions[:, :, 0].mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(std, predictions[:, :, 0].std(axis=0, ddof=1), rtol=1e-14)
    _, single = metrics.predictive_mean_std(predictions[:1])
    np.testing.assert_array_equal(single, 0.0)


def test_crps_ensemble_equals_its_definition():
    # CRPS = E|X - y| - 0.5 E|X - X'| over the empirical distribution, written with O(N^2) pairs
    rng = np.random.default_rng(1)
    members, truth = rng.standard_normal((9, 6)), rng.standard_normal(6)
    skill = np.abs(members - truth).mean(axis=0)
    spread = np.abs(members[:, None, :] - members[None, :, :]).mean(axis=(0, 1))
    assert metrics.crps_ensemble(members, truth) == pytest.approx(np.mean(skill - 0.5 * spread), rel=1e-13)
    assert metrics.crps_ensemble([[0.0], [1.0]], [0.0]) == pytest.approx(0.5 - 0.5 * 0.5, rel=1e-15)


@pytest.mark.parametrize("mean,std,truth", [(0.0, 1.0, 0.3), (2.0, 0.5, -1.0), (-1.0, 3.0, 4.0)])
def test_crps_gaussian_equals_the_integral(mean, std, truth):
    # CRPS(F, y) = int (F(x) - 1{x >= y})^2 dx
    cdf = stats.norm(mean, std).cdf
    below, _ = integrate.quad(lambda x: cdf(x) ** 2, -np.inf, truth)
    above, _ = integrate.quad(lambda x: (1.0 - cdf(x)) ** 2, truth, np.inf)
    assert metrics.crps_gaussian(mean, std, truth) == pytest.approx(below + above, rel=1e-8)


def test_crps_of_large_gaussian_ensemble_approaches_closed_form():
    rng = np.random.default_rng(2)
    mean, std = rng.normal(0.0, 2.0, 20), rng.uniform(0.5, 2.0, 20)
    truth = mean + std * rng.standard_normal(20)
    members = mean + std * rng.standard_normal((20000, 20))
    # per-sample Monte-Carlo error is ~std/sqrt(N) < 1.5e-2, averaged over 20 samples
    assert metrics.crps_ensemble(members, truth) == pytest.approx(metrics.crps_gaussian(mean, std, truth), rel=1e-2)


def test_interval_coverage_of_calibrated_and_overconfident_ensembles():
    rng = np.random.default_rng(3)
    levels = np.array([0.5, 0.8, 0.9, 0.95])
    mean, std = rng.normal(0.0, 1.0, 4000), rng.uniform(0.2, 2.0, 4000)
    truth = mean + std * rng.standard_normal(4000)
    members = mean + std * rng.standard_normal((1000, 4000))
    # binomial std of a coverage over 4000 samples is <= 0.008; quantiles of 1000 members add less
    np.testing.assert_allclose(metrics.interval_coverage(members, truth, levels), levels, atol=0.03)
    narrow = mean + 0.3 * std * rng.standard_normal((1000, 4000))
    assert np.all(metrics.interval_coverage(narrow, truth, levels) < levels - 0.2)


def test_parameter_std_and_trace_ratio():
    prior = np.random.default_rng(4).standard_normal((30, 6))
    np.testing.assert_allclose(metrics.parameter_std(prior), prior.std(axis=0, ddof=1), rtol=1e-14)
    posterior = prior.mean(axis=0) + 0.5 * (prior - prior.mean(axis=0))
    assert metrics.trace_ratio(posterior, prior) == pytest.approx(0.25, rel=1e-13)
    assert metrics.trace_ratio(prior, prior) == 1.0
