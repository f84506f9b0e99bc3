"""One (case, method, seed) run of the replication pipeline, from its configuration.

The pipeline configuration (``config/config.yaml``) has ``cases`` (a dataset and
a network per case), ``methods`` (a trainer and its settings per method),
``seeds``, ``base_seed`` and ``evaluation``. :func:`resolve_run` cuts out
everything that determines one run; the notebook template then calls::

    data = datrain.io.load_dataset(path)
    model = build_model(run, data)
    rngs = datrain.seeding.streams(run["base_seed"], run["case"], run["seed"])
    initial = initial_ensemble(model, run["trainer"], rngs["init"])
    result = train(model, initial, data, run["trainer"], rngs["perturbation"], Monitor(model, data))
    final = evaluate_final(model, result, data, run["coverage_levels"])

Random streams: the dataset of a case comes from :func:`dataset_rng` (keyed on
``(base_seed, case)`` only); every method of one ``(case, seed)`` draws its
initial weights / prior ensemble from the same ``init`` stream, so comparisons
between methods are paired; method-specific randomness (observation
perturbations, mini-batch order) comes from the ``perturbation`` stream.
"""
from __future__ import annotations

import zlib
from typing import Mapping

import numpy as np

from datrain import datasets, metrics
from datrain.esmda import esmda
from datrain.enkf import enkf
from datrain.gradient import adam, gd
from datrain.history import StepInfo, TrainResult
from datrain.io import HISTORY_VARIABLES
from datrain.mlp import MLP
from datrain.seeding import case_key

GRADIENT_TRAINERS = {"gd": gd, "adam": adam}
DA_TRAINERS = {"esmda": esmda, "enkf": enkf}
TRAINERS = {**GRADIENT_TRAINERS, **DA_TRAINERS}
# Keys of a method's configuration that are not keyword arguments of its trainer.
SETUP_KEYS = ("trainer", "n_members", "prior_std")
# The dataset generator is a SeedSequence child that no per-seed stream can be:
# datrain.seeding.streams spawns children with spawn keys (0,), (1,), (2,).
DATASET_SPAWN_KEY = zlib.crc32(b"dataset")


def resolve_run(config: Mapping, case: str, method: str, seed: int) -> dict:
    """Everything that determines one run, as a JSON-serialisable dict.

    Keys: ``case``, ``method``, ``seed``, ``base_seed``, ``dataset`` (the case's
    dataset settings), ``model`` (hidden widths, activation), ``trainer`` (the
    method's settings) and ``coverage_levels``.
    """
    if case not in config["cases"]:
        raise ValueError(f"case={case!r} is not in config['cases'] {sorted(config['cases'])}")
    if method not in config["methods"]:
        raise ValueError(f"method={method!r} is not in config['methods'] {sorted(config['methods'])}")
    if seed not in config["seeds"]:
        raise ValueError(f"seed={seed!r} is not in config['seeds'] {config['seeds']}")
    case_spec = config["cases"][case]
    return {
        "case": case,
        "method": method,
        "seed": int(seed),
        "base_seed": int(config["base_seed"]),
        "dataset": dict(case_spec["dataset"]),
        "model": dict(case_spec["model"]),
        "trainer": dict(config["methods"][method]),
        "coverage_levels": [float(level) for level in config["evaluation"]["coverage_levels"]],
    }


def dataset_rng(base_seed: int, case: str) -> np.random.Generator:
    """The generator of a case's dataset, keyed on ``(base_seed, case)`` only (not on the run seed)."""
    if isinstance(base_seed, bool) or not isinstance(base_seed, (int, np.integer)) or base_seed < 0:
        raise ValueError(f"base_seed={base_seed!r} must be a non-negative integer")
    sequence = np.random.SeedSequence([int(base_seed), case_key(case)], spawn_key=(DATASET_SPAWN_KEY,))
    return np.random.default_rng(sequence)


def make_case_dataset(case: str, spec: Mapping, base_seed: int) -> datasets.Dataset:
    """The dataset of ``case`` from its settings ``spec`` (problem, n_train, n_test, noise_std, domain)."""
    return datasets.make_dataset(spec["problem"], spec["n_train"], spec["n_test"], spec["noise_std"],
                                 dataset_rng(base_seed, case), domain=tuple(spec["domain"]))


def build_model(run: Mapping, data: datasets.Dataset) -> MLP:
    """``MLP(n_in -> hidden... -> 1)`` with the run's hidden widths and activation."""
    return MLP(data.x_train.shape[1], tuple(run["model"]["hidden"]), 1, run["model"]["activation"])


def initial_ensemble(model: MLP, trainer: Mapping, rng: np.random.Generator) -> np.ndarray:
    """Initial parameters ``(n_members, n_params)`` from the ``init`` stream.

    Gradient trainers: ``n_members`` independent Glorot-initialised networks
    (:meth:`MLP.init_params`); DA trainers: the prior ensemble
    ``theta_j ~ N(0, prior_std**2 I)`` (:meth:`MLP.sample_prior`).
    """
    name = trainer["trainer"]
    if name in GRADIENT_TRAINERS:
        return model.init_params(rng, n_members=trainer["n_members"])
    if name in DA_TRAINERS:
        return model.sample_prior(trainer["n_members"], rng, std=trainer["prior_std"])
    raise ValueError(f"trainer={name!r} is not one of {sorted(TRAINERS)}")


class Monitor:
    """Trainer callback: R^2 on the training data and RMSE/R^2 on the noise-free test grid.

    All scores are of the ensemble-mean prediction ``mean_j f(x; theta_j)``. The
    trainers record ``train_rmse`` themselves; these forward runs are monitoring
    and are not counted as training cost.
    """

    def __init__(self, model: MLP, data: datasets.Dataset):
        self.model, self.data = model, data

    def __call__(self, info: StepInfo) -> dict:
        train = self.model.forward(info.ensemble, self.data.x_train).mean(axis=0)
        test = self.model.forward(info.ensemble, self.data.x_test).mean(axis=0)
        return {
            "train_r2": metrics.r2(train, self.data.y_train),
            "test_rmse": metrics.rmse(test, self.data.y_test),
            "test_r2": metrics.r2(test, self.data.y_test),
        }


def train(model: MLP, initial: np.ndarray, data: datasets.Dataset, trainer: Mapping,
          rng: np.random.Generator, callback=None) -> TrainResult:
    """Call the datrain trainer named by ``trainer["trainer"]`` with the remaining settings as keywords.

    Gradient trainers get ``(model, initial, X, y, ...)``; DA trainers get
    ``(model.forward, initial, X, y, obs_std, ...)``. ``rng`` drives all
    method randomness (perturbations, batch order).
    """
    name = trainer["trainer"]
    if name not in TRAINERS:
        raise ValueError(f"trainer={name!r} is not one of {sorted(TRAINERS)}")
    options = {key: value for key, value in trainer.items() if key not in SETUP_KEYS}
    target = model if name in GRADIENT_TRAINERS else model.forward
    return TRAINERS[name](target, initial, data.x_train, data.y_train, rng=rng, callback=callback, **options)


def evaluate_final(model: MLP, result: TrainResult, data: datasets.Dataset, levels) -> dict:
    """Scores of the final ensemble; all NaN if the run diverged.

    Returns ``member_test_rmse (N,)``, ``pred_mean``/``pred_std (T,)``,
    ``coverage (L,)`` (NaN for one member, whose interval is a point), ``levels (L,)``,
    ``crps`` and ``final_{train,test}_{rmse,r2}``.
    """
    levels = np.asarray(levels, dtype=float)
    n_members, n_test = result.ensemble.shape[0], data.y_test.shape[0]
    if result.status != "ok":
        nan = float("nan")
        return {"member_test_rmse": np.full(n_members, nan), "pred_mean": np.full(n_test, nan),
                "pred_std": np.full(n_test, nan), "coverage": np.full(levels.size, nan), "levels": levels,
                "crps": nan, "final_train_rmse": nan, "final_train_r2": nan,
                "final_test_rmse": nan, "final_test_r2": nan}
    test = model.forward(result.ensemble, data.x_test)[..., 0]  # (N, T)
    train_mean = model.forward(result.ensemble, data.x_train)[..., 0].mean(axis=0)
    mean, std = metrics.predictive_mean_std(test)
    truth = data.y_test[:, 0]
    return {
        "member_test_rmse": np.sqrt(np.mean((test - truth) ** 2, axis=1)),
        "pred_mean": mean,
        "pred_std": std,
        "coverage": metrics.interval_coverage(test, truth, levels) if n_members > 1 else np.full(levels.size, np.nan),
        "levels": levels,
        "crps": metrics.crps_ensemble(test, truth),
        "final_train_rmse": metrics.rmse(train_mean, data.y_train),
        "final_train_r2": metrics.r2(train_mean, data.y_train),
        "final_test_rmse": metrics.rmse(mean, truth),
        "final_test_r2": metrics.r2(mean, truth),
    }


def run_info(model: MLP, trainer: Mapping, result: TrainResult) -> dict:
    """``n_members``, ``n_params``, ``trainer``, ``status`` and ``diverged_at`` of a finished run."""
    return {"n_members": result.ensemble.shape[0], "n_params": model.n_params, "trainer": trainer["trainer"],
            "status": result.status, "diverged_at": result.diverged_at}


def history_arrays(result: TrainResult) -> dict:
    """The per-step history with the keys of :data:`datrain.io.HISTORY_VARIABLES`.

    A run that diverged at step 0 has no recorded step; then every array is empty.
    """
    n = len(result.history.get("step", ()))
    return {name: np.asarray(result.history.get(name, np.full(n, np.nan))) for name in HISTORY_VARIABLES}
