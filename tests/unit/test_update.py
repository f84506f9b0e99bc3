"""The Kalman update of datrain.update against a dense textbook formula, in both solve spaces."""
import numpy as np
import pytest

from datrain import update


def dense_increment(ensemble, predictions, observations, obs_std, alpha, perturbations):
    """Textbook perturbed-observation update, forming the d x d matrices explicitly::

        X_a - X = (D - Y) (C_YY + alpha R)^{-1} C_YX,   D = y + sqrt(alpha) sigma E

    Returns the increment ``(N, p)`` and the ``(N, N)`` transform
    ``(D - Y) (C_YY + alpha R)^{-1} S^T`` with ``S = (Y - mean Y) / sqrt(N - 1)``.
    """
    n_members = ensemble.shape[0]
    c_yy = np.cov(predictions, rowvar=False)
    y_anom = predictions - predictions.mean(axis=0)
    c_yx = y_anom.T @ (ensemble - ensemble.mean(axis=0)) / (n_members - 1)
    innovations = observations + np.sqrt(alpha) * obs_std * perturbations - predictions
    system = c_yy + alpha * np.diag(obs_std**2)
    increment = innovations @ np.linalg.solve(system, c_yx)
    transform = innovations @ np.linalg.solve(system, y_anom.T / np.sqrt(n_members - 1))
    return increment, transform


def random_update_case(n_members, n_obs, n_params=7, seed=0):
    rng = np.random.default_rng(seed)
    ensemble = rng.standard_normal((n_members, n_params))
    # mildly nonlinear predictions so that Y is not an exact linear map of X
    mixing = rng.standard_normal((n_params, n_obs))
    predictions = np.tanh(ensemble @ mixing) + 0.1 * rng.standard_normal((n_members, n_obs))
    observations = rng.standard_normal(n_obs)
    obs_std = rng.uniform(0.2, 2.0, n_obs)
    perturbations = rng.standard_normal((n_members, n_obs))
    return ensemble, predictions, observations, obs_std, perturbations


# (N, d, p): observation space (d < N), the boundary d = N, ensemble space (d > N);
# with p large the trainers' kalman_update switches from the gain form to the transform.
SHAPES = [(30, 12, 7), (20, 20, 7), (20, 15, 200), (12, 30, 7), (5, 200, 7)]


@pytest.mark.parametrize("n_members,n_obs,n_params", SHAPES)
@pytest.mark.parametrize("alpha", [1.0, 3.5])
def test_transform_matches_dense_formula_in_both_solve_spaces(n_members, n_obs, n_params, alpha):
    ensemble, predictions, obs, sigma, noise = random_update_case(n_members, n_obs, n_params)
    expected_increment, expected_transform = dense_increment(ensemble, predictions, obs, sigma, alpha, noise)
    transform = update.ensemble_transform(predictions, obs, sigma, alpha, noise)
    assert transform.shape == (n_members, n_members)
    np.testing.assert_allclose(transform, expected_transform, rtol=1e-10,
                               atol=1e-11 * np.abs(expected_transform).max())
    increment = update.apply_transform(ensemble, transform) - ensemble
    np.testing.assert_allclose(increment, expected_increment, rtol=1e-10,
                               atol=1e-11 * np.abs(expected_increment).max())


@pytest.mark.parametrize("n_members,n_obs,n_params", SHAPES)
def test_kalman_update_matches_dense_formula(n_members, n_obs, n_params):
    ensemble, predictions, obs, sigma, noise = random_update_case(n_members, n_obs, n_params, seed=1)
    before = ensemble.copy()
    expected_increment, _ = dense_increment(ensemble, predictions, obs, sigma, 2.0, noise)
    increment = update.kalman_update(ensemble, predictions, obs, sigma, 2.0, noise) - ensemble
    np.testing.assert_array_equal(ensemble, before)
    np.testing.assert_allclose(increment, expected_increment, rtol=1e-10,
                               atol=1e-11 * np.abs(expected_increment).max())


def test_apply_transform_keeps_dtype_and_input():
    ensemble, predictions, obs, sigma, noise = random_update_case(15, 6)
    ensemble32 = ensemble.astype(np.float32)
    before = ensemble32.copy()
    transform = update.ensemble_transform(predictions, obs, sigma, 1.0, noise)
    updated = update.apply_transform(ensemble32, transform)
    assert updated.dtype == np.float32
    np.testing.assert_array_equal(ensemble32, before)
    np.testing.assert_allclose(updated, update.apply_transform(ensemble, transform), rtol=1e-5, atol=1e-5)


def test_moment_matched_perturbations_have_exact_moments():
    rng = np.random.default_rng(4)
    ensemble = rng.standard_normal((40, 6))
    E = update.moment_matched_perturbations(rng, ensemble, n_obs=20)
    assert E.shape == (40, 20)
    np.testing.assert_allclose(E.mean(axis=0), 0.0, atol=1e-13)
    np.testing.assert_allclose(E.T @ E / 39, np.eye(20), atol=1e-12)
    np.testing.assert_allclose((ensemble - ensemble.mean(axis=0)).T @ E, 0.0, atol=1e-12)


def test_moment_matched_perturbations_need_enough_members():
    ensemble = np.random.default_rng(0).standard_normal((10, 6))
    with pytest.raises(ValueError, match="n_members=10"):
        update.moment_matched_perturbations(np.random.default_rng(0), ensemble, n_obs=4)
