"""Contracts shared by the four trainers: units, dtypes, inputs, cost, history, callbacks, refusals."""
import numpy as np
import pytest

import datrain
from datrain.schedules import DataMisfitController, geometric_alphas

TRAINER_NAMES = ["esmda", "enkf", "gd", "adam"]


def train(name, problem, ensemble=None, X=None, y=None, forward=None, **kwargs):
    """Run trainer ``name`` on ``problem`` (conftest.MLPProblem) with small, fast settings."""
    ensemble = problem.ensemble if ensemble is None else ensemble
    X = problem.x if X is None else X
    y = problem.y if y is None else y
    forward = problem.model.forward if forward is None else forward
    if name == "esmda":
        return datrain.esmda(forward, ensemble, X, y, problem.obs_std, **{"alphas": 3, "rng": 0, **kwargs})
    if name == "enkf":
        return datrain.enkf(forward, ensemble, X, y, problem.obs_std, **{"batch_size": 7, "rng": 0, **kwargs})
    trainer = {"gd": datrain.gd, "adam": datrain.adam}[name]
    settings = {"learning_rate": 0.05, "epochs": 3, "batch_size": 8, "rng": 0, **kwargs}
    return trainer(problem.model, ensemble, X, y, **settings)


# ------------------------------------------------------------------ units
@pytest.mark.parametrize("name,kwargs", [
    ("esmda", {"alphas": 4}),
    ("esmda", {"alphas": "adaptive"}),
    ("enkf", {"batch_size": 7, "shuffle": True}),
    ("enkf", {"batch_size": 1, "epochs": 2, "inflation": 1.01}),
])
@pytest.mark.parametrize("per_observation_std", [False, True])
def test_rescaling_the_data_units_leaves_the_update_unchanged(mlp_problem, name, kwargs, per_observation_std):
    c = 1000.0
    obs_std = (np.linspace(0.05, 0.2, mlp_problem.y.size).reshape(mlp_problem.y.shape)
               if per_observation_std else mlp_problem.obs_std)
    trainer = {"esmda": datrain.esmda, "enkf": datrain.enkf}[name]
    model, prior = mlp_problem.model, mlp_problem.ensemble
    base = trainer(model.forward, prior, mlp_problem.x, mlp_problem.y, obs_std, rng=3, **kwargs)
    scaled = trainer(lambda E, X: c * model.forward(E, X), prior, mlp_problem.x, c * mlp_problem.y,
                     c * obs_std, rng=3, **kwargs)
    step = base.ensemble - prior
    assert np.linalg.norm(step) > 0.1 * np.linalg.norm(prior)  # a real update, not a no-op
    assert np.linalg.norm(scaled.ensemble - base.ensemble) < 1e-10 * np.linalg.norm(step)
    np.testing.assert_allclose(scaled.alphas, base.alphas, rtol=1e-10)
    np.testing.assert_allclose(scaled.history["train_rmse"], c * base.history["train_rmse"], rtol=1e-9)


# --------------------------------------------------- dtypes and inputs
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", TRAINER_NAMES)
def test_dtype_is_kept_and_inputs_are_not_mutated(mlp_problem, name, dtype):
    ensemble = mlp_problem.ensemble.astype(dtype)
    X, y = mlp_problem.x.astype(dtype), mlp_problem.y.astype(dtype)
    originals = [a.copy() for a in (ensemble, X, y)]
    seen = []

    def forward(E, X_):
        seen.append(E.dtype)
        return mlp_problem.model.forward(E, X_)

    result = train(name, mlp_problem, ensemble, X, y, forward=forward)
    for before, after in zip(originals, (ensemble, X, y)):
        np.testing.assert_array_equal(after, before)
    assert result.ensemble.dtype == dtype and result.ensemble.shape == ensemble.shape
    assert result.status == "ok" and np.all(np.isfinite(result.ensemble))
    if name in ("esmda", "enkf"):
        assert seen and set(seen) == {np.dtype(dtype)}  # the forward model sees the caller's dtype
    history = result.history
    lengths = {len(v) for v in history.values()}
    assert len(lengths) == 1 and lengths.pop() >= 2
    for key in ("train_rmse", "param_spread", "wall_time"):
        assert np.all(np.isfinite(history[key])) and np.all(history[key] >= 0), key
    assert np.all(np.diff(history["step"]) > 0) and np.all(np.diff(history["n_forward"]) > 0)
    assert history["train_rmse"][-1] < history["train_rmse"][0]
    if dtype == np.float32:  # float32 follows the float64 run (same random streams)
        reference = train(name, mlp_problem)
        np.testing.assert_allclose(result.ensemble, reference.ensemble, rtol=1e-3, atol=1e-3)


def test_single_parameter_vector_for_gradient_trainers(mlp_problem):
    theta = mlp_problem.model.init_params(0)
    for name in ("gd", "adam"):
        result = train(name, mlp_problem, ensemble=theta)
        assert result.ensemble.shape == (1, theta.size)
        assert np.isnan(result.history["param_spread"]).all()


# ----------------------------------------------------------------- cost
def test_esmda_cost_is_na_times_n_times_n_train(mlp_problem):
    N, n = mlp_problem.ensemble.shape[0], mlp_problem.x.shape[0]
    result = train("esmda", mlp_problem, alphas=3)
    np.testing.assert_array_equal(result.history["step"], [0, 1, 2, 3])
    np.testing.assert_array_equal(result.history["n_forward"], result.history["step"] * N * n)
    adaptive = train("esmda", mlp_problem, alphas="adaptive")
    assert adaptive.history["n_forward"][-1] == len(adaptive.alphas) * N * n


def test_enkf_cost_counts_rows_assimilated(mlp_problem):
    N, n = mlp_problem.ensemble.shape[0], mlp_problem.x.shape[0]  # n = 23: batches 7, 7, 7, 2
    result = train("enkf", mlp_problem, batch_size=7, epochs=2, record_every=2)
    # recorded every 2nd update and after each epoch's last update (4 updates per epoch)
    np.testing.assert_array_equal(result.history["step"], [0, 2, 4, 6, 8])
    rows_seen = np.array([0, 14, 23, 23 + 14, 46])
    np.testing.assert_array_equal(result.history["n_forward"], rows_seen * N)
    assert result.history["n_forward"][-1] == 2 * N * n


@pytest.mark.parametrize("name", ["gd", "adam"])
@pytest.mark.parametrize("batch_size", [None, 5])
def test_gradient_cost_is_three_per_member_sample(mlp_problem, name, batch_size):
    N, n = mlp_problem.ensemble.shape[0], mlp_problem.x.shape[0]
    result = train(name, mlp_problem, epochs=4, batch_size=batch_size)
    np.testing.assert_array_equal(result.history["step"], np.arange(5))
    np.testing.assert_array_equal(result.history["n_forward"], result.history["step"] * 3 * n * N)


# ----------------------------------------------------------- divergence
def test_gd_with_huge_learning_rate_diverges_cleanly(mlp_problem):
    with np.errstate(over="ignore", invalid="ignore"):
        result = datrain.gd(mlp_problem.model, mlp_problem.ensemble[:3], mlp_problem.x, mlp_problem.y,
                            learning_rate=1e6, epochs=300)
    assert result.status == "diverged"
    assert isinstance(result.diverged_at, int) and 1 <= result.diverged_at <= 300
    assert np.all(np.isfinite(result.ensemble))
    history = result.history
    assert history["step"][-1] < result.diverged_at
    for key in ("train_rmse", "param_spread", "n_forward"):
        assert np.all(np.isfinite(history[key])), key


@pytest.mark.parametrize("name", ["esmda", "enkf"])
def test_da_trainer_stops_on_non_finite_predictions(mlp_problem, name):
    calls = []

    def forward(E, X):  # finite on the prior, NaN once the ensemble has been updated
        calls.append(1)
        out = mlp_problem.model.forward(E, X)
        return out if len(calls) == 1 else out * np.nan

    result = train(name, mlp_problem, forward=forward)
    assert result.status == "diverged" and result.diverged_at == 1
    np.testing.assert_array_equal(result.ensemble, mlp_problem.ensemble)  # the last finite state
    np.testing.assert_array_equal(result.history["step"], [0])


# ------------------------------------------------------------ callbacks
@pytest.mark.parametrize("name", TRAINER_NAMES)
def test_callback_extras_appear_in_history(mlp_problem, name):
    infos = []

    def callback(info):
        infos.append(info)
        with pytest.raises(ValueError):
            info.ensemble[0, 0] = 0.0  # the callback sees a read-only view
        return {"probe": 10.0 * info.step, "seen_n_forward": info.n_forward, "member0": info.ensemble[0, 0]}

    result = train(name, mlp_problem, callback=callback)
    history = result.history
    assert len(infos) == len(history["step"]) >= 2
    np.testing.assert_array_equal(history["probe"], 10.0 * history["step"])
    np.testing.assert_array_equal(history["seen_n_forward"], history["n_forward"])
    np.testing.assert_array_equal([i.alpha for i in infos], history["alpha"])
    assert history["member0"][-1] == result.ensemble[0, 0]


# ------------------------------------------------------------ schedules
def test_int_alphas_give_k_steps_of_k(mlp_problem):
    np.testing.assert_array_equal(train("esmda", mlp_problem, alphas=5).alphas, [5.0] * 5)


@pytest.mark.parametrize("alphas", [[1.0, 2.0], [9.33, 7.0, 4.0, 2.0], [3.0, 3.0, 3.0, 3.0]])
def test_sequence_alphas_are_rescaled_to_unit_sum_of_inverses(mlp_problem, alphas):
    used = train("esmda", mlp_problem, alphas=alphas).alphas
    np.testing.assert_allclose(np.sum(1.0 / used), 1.0, rtol=1e-14)
    np.testing.assert_allclose(used / np.asarray(alphas), used[0] / alphas[0], rtol=1e-14)  # same shape
    raw = train("esmda", mlp_problem, alphas=alphas, normalize=False).alphas
    np.testing.assert_array_equal(raw, alphas)


def test_geometric_alphas():
    alphas = geometric_alphas(5, 2.0)
    np.testing.assert_allclose(np.sum(1.0 / alphas), 1.0, rtol=1e-14)
    np.testing.assert_allclose(alphas[:-1] / alphas[1:], 2.0, rtol=1e-14)


@pytest.mark.parametrize("obs_std", [0.01, 0.1, 1.0])
def test_adaptive_alphas_sum_to_one(mlp_problem, obs_std):
    result = datrain.esmda(mlp_problem.model.forward, mlp_problem.ensemble, mlp_problem.x, mlp_problem.y,
                           obs_std, alphas="adaptive", rng=0)
    assert len(result.alphas) >= 1 and np.all(result.alphas >= 1.0)
    np.testing.assert_allclose(np.sum(1.0 / result.alphas), 1.0, rtol=1e-12)


def test_adaptive_controller_respects_its_step_limit():
    controller = DataMisfitController(max_assimilations=3)
    rng = np.random.default_rng(0)
    alphas = []
    while not controller.finished:  # predictions far from the data: the controller wants tiny steps
        alphas.append(controller.next_alpha(100.0 + rng.standard_normal((20, 10)), np.zeros(10), np.ones(10)))
    assert len(alphas) == 3
    np.testing.assert_allclose(np.sum(1.0 / np.array(alphas)), 1.0, rtol=1e-12)


# ---------------------------------------------------------------- EnKF options
def test_enkf_inflation_scales_the_spread(mlp_problem):
    # data with a huge noise std carry no information, so only the inflation acts
    prior = mlp_problem.ensemble
    result = datrain.enkf(mlp_problem.model.forward, prior, mlp_problem.x, mlp_problem.y, 1e9,
                          batch_size=mlp_problem.x.shape[0], inflation=1.5, rng=0)
    spread = result.history["param_spread"]
    np.testing.assert_allclose(spread[1], 1.5 * spread[0], rtol=1e-6)
    np.testing.assert_allclose(result.ensemble.mean(axis=0), prior.mean(axis=0), atol=1e-6)


def test_enkf_parameter_noise_adds_variance(mlp_problem):
    prior = mlp_problem.model.sample_prior(400, rng=1, std=0.5)
    result = datrain.enkf(mlp_problem.model.forward, prior, mlp_problem.x, mlp_problem.y, 1e9,
                          batch_size=mlp_problem.x.shape[0], param_noise=0.3, rng=0)
    added = result.history["param_spread"][1] ** 2 - result.history["param_spread"][0] ** 2
    np.testing.assert_allclose(added, 0.3**2, rtol=0.15)  # 400 x 25 draws: a few-% sampling error


# ------------------------------------------------------------ gradient rules
def test_gd_step_is_minus_learning_rate_times_gradient(mlp_problem):
    model, params = mlp_problem.model, mlp_problem.ensemble[:4]
    _, grad = model.loss_and_gradient(params, mlp_problem.x, mlp_problem.y)
    result = datrain.gd(model, params, mlp_problem.x, mlp_problem.y, learning_rate=0.1, epochs=1)
    np.testing.assert_allclose(result.ensemble, params - 0.1 * grad, rtol=1e-14, atol=1e-15)


def test_adam_first_step_is_normalised_gradient(mlp_problem):
    # after one step the bias-corrected moments are g and g**2: theta - lr g / (|g| + eps)
    model, params = mlp_problem.model, mlp_problem.ensemble[:4]
    _, grad = model.loss_and_gradient(params, mlp_problem.x, mlp_problem.y)
    result = datrain.adam(model, params, mlp_problem.x, mlp_problem.y, learning_rate=0.01, epochs=1)
    np.testing.assert_allclose(result.ensemble, params - 0.01 * grad / (np.abs(grad) + 1e-8), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["gd", "adam"])
def test_minibatch_order_follows_the_rng(mlp_problem, name):
    first, again = train(name, mlp_problem, rng=5), train(name, mlp_problem, rng=5)
    np.testing.assert_array_equal(first.ensemble, again.ensemble)
    assert not np.array_equal(first.ensemble, train(name, mlp_problem, rng=6).ensemble)


# --------------------------------------------------------------- refusals
def nan_at(array, index):
    out = np.array(array, dtype=float)
    out[index] = np.nan
    return out


DA_BAD_ARGUMENTS = [
    ("one member", lambda p: {"ensemble": p.ensemble[:1]}, r"^ensemble has 1 member"),
    ("1-D ensemble", lambda p: {"ensemble": p.ensemble[0]}, r"^ensemble has shape"),
    ("NaN in ensemble", lambda p: {"ensemble": nan_at(p.ensemble, (0, 0))}, r"^ensemble contains 1 NaN"),
    ("obs_std zero", lambda p: {"obs_std": 0.0}, r"^obs_std must be finite and > 0; got 0\.0"),
    ("obs_std negative", lambda p: {"obs_std": -0.1}, r"^obs_std must be finite and > 0"),
    ("obs_std one zero", lambda p: {"obs_std": np.r_[0.1, 0.0, np.full(p.y.size - 2, 0.1)]},
     r"^obs_std must be finite and > 0; got 0\.0"),
    ("obs_std wrong length", lambda p: {"obs_std": np.full(p.y.size + 1, 0.1)}, r"^obs_std has 24 values"),
    ("NaN in X", lambda p: {"X": nan_at(p.x, (4, 0))}, r"^X contains 1 NaN"),
    ("NaN in y", lambda p: {"y": nan_at(p.y, (2, 0))}, r"^y contains 1 NaN"),
    ("X/y rows", lambda p: {"y": p.y[:-1]}, r"^X has 23 rows but y has 22"),
    ("forward too many outputs", lambda p: {"forward": lambda E, X: np.zeros((E.shape[0], X.shape[0] + 1))},
     r"^forward\(ensemble, X\) returned shape \(40, 24\)"),
    ("forward drops a member", lambda p: {"forward": lambda E, X: np.zeros((E.shape[0] - 1, X.shape[0]))},
     r"^forward\(ensemble, X\) returned shape \(39, 23\)"),
    ("rng", lambda p: {"rng": "seed"}, r"^rng='seed'"),
    ("perturbations", lambda p: {"perturbations": "sobol"}, r"^perturbations='sobol'"),
]


@pytest.mark.parametrize("case,change,match", DA_BAD_ARGUMENTS, ids=[c[0] for c in DA_BAD_ARGUMENTS])
@pytest.mark.parametrize("name", ["esmda", "enkf"])
def test_da_trainers_refuse_bad_arguments(mlp_problem, name, case, change, match):
    arguments = {"forward": mlp_problem.model.forward, "ensemble": mlp_problem.ensemble, "X": mlp_problem.x,
                 "y": mlp_problem.y, "obs_std": mlp_problem.obs_std, **change(mlp_problem)}
    trainer = {"esmda": datrain.esmda, "enkf": datrain.enkf}[name]
    with pytest.raises(ValueError, match=match):
        trainer(**arguments)


@pytest.mark.parametrize("alphas,match", [
    ([2.0, 0.0, 1.0], r"^alphas must be finite and > 0; got 0\.0"),
    ([-1.0], r"^alphas must be finite and > 0; got -1\.0"),
    ([1.0, np.inf], r"^alphas must be finite and > 0; got inf"),
    (0, r"^alphas=0"),
    ([], r"^alphas=\[\]"),
    ("fast", r"^alphas='fast'"),
    (True, r"^alphas=True"),
])
def test_esmda_refuses_bad_alphas(mlp_problem, alphas, match):
    with pytest.raises(ValueError, match=match):
        train("esmda", mlp_problem, alphas=alphas)


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, r"^batch_size=0"),
    ({"epochs": 0}, r"^epochs=0"),
    ({"epochs": 1.5}, r"^epochs=1\.5"),
    ({"record_every": 0}, r"^record_every=0"),
    ({"inflation": 0.9}, r"^inflation=0\.9"),
    ({"param_noise": -1.0}, r"^param_noise=-1\.0"),
])
def test_enkf_refuses_bad_options(mlp_problem, kwargs, match):
    with pytest.raises(ValueError, match=match):
        train("enkf", mlp_problem, **kwargs)


@pytest.mark.parametrize("name", ["gd", "adam"])
@pytest.mark.parametrize("change,match", [
    (lambda p: {"X": nan_at(p.x, (0, 0))}, r"^X contains 1 NaN"),
    (lambda p: {"y": nan_at(p.y, (5, 0))}, r"^y contains 1 NaN"),
    (lambda p: {"learning_rate": 0.0}, r"^learning_rate must be finite and > 0"),
    (lambda p: {"learning_rate": -1e-3}, r"^learning_rate must be finite and > 0"),
    (lambda p: {"epochs": 0}, r"^epochs=0"),
    (lambda p: {"batch_size": 0}, r"^batch_size=0"),
], ids=["nan-X", "nan-y", "lr-zero", "lr-negative", "epochs", "batch_size"])
def test_gradient_trainers_refuse_bad_arguments(mlp_problem, name, change, match):
    with pytest.raises(ValueError, match=match):
        train(name, mlp_problem, **change(mlp_problem))
