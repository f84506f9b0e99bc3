"""Bayesian linear regression: ESMDA, ES and EnKF against the closed-form posterior.

For ``y = G theta + eps`` with a Gaussian prior, the posterior is Gaussian with a
closed form (conftest.LinearGaussian.posterior, written in precision form). With
N members every ensemble method reproduces it up to sampling error; with exactly
moment-matched prior ensemble and perturbations it is reproduced to round-off.
"""
import numpy as np
import pytest

import datrain
from datrain import update

N_OBS = 24  # observations; "batch size n" below is this

# (trainer, keyword arguments); batch_size=None stands for the whole data set.
METHODS = {
    "esmda-alpha4": (datrain.esmda, {"alphas": 4}),
    "es-alpha1": (datrain.esmda, {"alphas": [1]}),
    "enkf-batch1": (datrain.enkf, {"batch_size": 1}),
    "enkf-batch7": (datrain.enkf, {"batch_size": 7}),  # 7, 7, 7, 3: a ragged last batch
    "enkf-batchn": (datrain.enkf, {"batch_size": None}),
}


def run(method, problem, ensemble, rng, **extra):
    trainer, kwargs = METHODS[method]
    kwargs = dict(kwargs, **extra)
    if kwargs.get("batch_size", 0) is None:
        kwargs["batch_size"] = len(problem.y)
    return trainer(problem.forward, ensemble, problem.G, problem.y, problem.obs_std, rng=rng, **kwargs)


# Statistical tolerance, in posterior standard deviations times sqrt(N).
# To leading order the ensemble-mean error of ES/ESMDA has covariance P / N (Joseph
# form), and the whitened sample covariance has entries with std <= sqrt(2 / N). We
# take the max over the p = 4 mean components and the 10 covariance entries. The
# serial EnKF with perturbed observations also accumulates gain-sampling error over
# its many small updates: in 100 seeds of this problem with N = 2000 its mean error
# had a std of about 2 / sqrt(N) posterior stds (max 7.7 over the 4 components),
# against 1 / sqrt(N) (max 3.9) for ES/ESMDA; covariance errors peaked at 5.3.
# A bug in the gain, the noise inflation or the perturbations is O(1) in these units times sqrt(N).
FEW = 8.0
N_MEMBERS = 2000


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("method", list(METHODS))
def test_posterior_within_sampling_error(method, seed, linear_gaussian):
    problem = linear_gaussian(seed, n_params=4, n_obs=N_OBS)
    prior = problem.sample_prior(np.random.default_rng([seed, 1]), N_MEMBERS)
    result = run(method, problem, prior, rng=seed)
    posterior = problem.posterior()
    # sanity: the data are informative, so reproducing the prior would fail the test
    assert posterior.mean_error(prior) * np.sqrt(N_MEMBERS) > 10 * FEW
    assert posterior.mean_error(result.ensemble) < FEW / np.sqrt(N_MEMBERS)
    assert posterior.cov_error(result.ensemble) < FEW / np.sqrt(N_MEMBERS)


# ---------------------------------------------------------------- tolerance-free
SCHEDULES = {
    "es": [1.0],
    "constant4": 4,
    "emerick-reynolds": [9.33, 7.0, 4.0, 2.0],
    "geometric": datrain.schedules.geometric_alphas(6, 2.0),
    "adaptive": "adaptive",
}


def exact_setup(linear_gaussian, seed, n_members=50):
    """A prior ensemble with exact moments, and the posterior from its own sample moments."""
    problem = linear_gaussian(seed, n_params=4, n_obs=N_OBS)
    prior = problem.matched_prior(np.random.default_rng([seed, 2]), n_members)
    np.testing.assert_allclose(prior.mean(axis=0), problem.prior_mean, atol=1e-13)
    np.testing.assert_allclose(np.cov(prior, rowvar=False), problem.prior_cov, atol=1e-13)
    own = problem.posterior(prior.mean(axis=0), np.cov(prior, rowvar=False))
    return problem, prior, own


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_esmda_with_moment_matched_perturbations_is_exact(schedule, seed, linear_gaussian):
    problem, prior, posterior = exact_setup(linear_gaussian, seed)
    result = datrain.esmda(problem.forward, prior, problem.G, problem.y, problem.obs_std,
                           alphas=SCHEDULES[schedule], rng=seed, perturbations="moment_matched")
    np.testing.assert_allclose(np.sum(1.0 / result.alphas), 1.0, rtol=1e-12)
    assert posterior.mean_error(result.ensemble) < 1e-10
    assert posterior.cov_error(result.ensemble) < 1e-10


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("batch_size,shuffle", [(1, False), (7, False), (N_OBS, False), (5, True)])
def test_enkf_over_any_partition_is_exact(batch_size, shuffle, seed, linear_gaussian):
    problem, prior, posterior = exact_setup(linear_gaussian, seed)
    result = datrain.enkf(problem.forward, prior, problem.G, problem.y, problem.obs_std,
                          batch_size=batch_size, shuffle=shuffle, rng=seed, perturbations="moment_matched")
    assert result.history["step"][-1] == -(-N_OBS // batch_size)  # ceil(n / batch) updates
    assert posterior.mean_error(result.ensemble) < 1e-10
    assert posterior.cov_error(result.ensemble) < 1e-10


def test_unnormalised_schedule_assimilates_the_data_twice(linear_gaussian):
    # alphas=[1, 1] without rescaling uses the data twice with full weight: the
    # posterior of the same data with noise variance R / 2.
    problem, prior, _ = exact_setup(linear_gaussian, 0)
    result = datrain.esmda(problem.forward, prior, problem.G, problem.y, problem.obs_std,
                           alphas=[1, 1], normalize=False, rng=0, perturbations="moment_matched")
    np.testing.assert_array_equal(result.alphas, [1.0, 1.0])
    twice = problem.posterior(prior.mean(axis=0), np.cov(prior, rowvar=False), problem.obs_std / np.sqrt(2))
    assert twice.mean_error(result.ensemble) < 1e-10
    assert twice.cov_error(result.ensemble) < 1e-10


# ----------------------------------------------------------- identical numbers
def test_esmda_alpha1_enkf_full_batch_and_direct_es_are_identical(linear_gaussian):
    problem = linear_gaussian(3, n_params=5, n_obs=N_OBS)
    prior = problem.sample_prior(np.random.default_rng(5), 60)
    seed = 42
    # one-shot ES written out: one standard-normal draw of (N, d), then one update
    noise = np.random.default_rng(seed).standard_normal(prior.shape[:1] + problem.y.shape)
    predictions = problem.forward(prior, problem.G)
    expected = update.kalman_update(prior, predictions, problem.y, problem.obs_std, 1.0, noise)
    # kalman_update may take the cheaper gain route; the textbook X + T A agrees to rounding
    transform = update.ensemble_transform(predictions, problem.y, problem.obs_std, 1.0, noise)
    np.testing.assert_allclose(expected, update.apply_transform(prior, transform), rtol=1e-12, atol=1e-13)
    assert not np.allclose(expected, prior)
    same = [
        datrain.esmda(problem.forward, prior, problem.G, problem.y, problem.obs_std, alphas=[1], rng=seed),
        datrain.esmda(problem.forward, prior, problem.G, problem.y, problem.obs_std, alphas=1, rng=seed),
        datrain.enkf(problem.forward, prior, problem.G, problem.y, problem.obs_std, batch_size=N_OBS, rng=seed),
    ]
    for result in same:
        np.testing.assert_array_equal(result.ensemble, expected)
