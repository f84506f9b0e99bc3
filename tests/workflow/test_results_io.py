"""Run files, dataset files, the summary cube and the comparison table, without Snakemake."""
import json

import numpy as np
import pytest
import xarray as xr

import datrain
from datrain import analysis, experiment
from datrain import io as dio

CONFIG = {
    "base_seed": 3,
    "seeds": [0, 1, 2],
    "cases": {"sine": {"dataset": {"problem": "sine", "n_train": 20, "n_test": 11, "noise_std": 0.1,
                                   "domain": [-3.0, 3.0]},
                       "model": {"hidden": [3], "activation": "tanh"}}},
    "methods": {
        "gd": {"trainer": "gd", "n_members": 1, "learning_rate": 0.1, "epochs": 20, "batch_size": None,
               "record_every": 5},
        "esmda": {"trainer": "esmda", "n_members": 6, "prior_std": 1.0, "obs_std": 0.1, "alphas": 2,
                  "normalize": True, "perturbations": "random"},
        "unstable": {"trainer": "gd", "n_members": 1, "learning_rate": 1e6, "epochs": 100, "batch_size": None,
                     "record_every": 10},
    },
    "evaluation": {"coverage_levels": [0.5, 0.9]},
}


@pytest.fixture(scope="module")
def dataset_file(tmp_path_factory):
    spec = CONFIG["cases"]["sine"]["dataset"]
    data = experiment.make_case_dataset("sine", spec, CONFIG["base_seed"])
    path = tmp_path_factory.mktemp("data") / "sine.nc"
    dio.write_netcdf(dio.dataset_to_xarray(data, {"case": "sine"}), path)
    return path


def make_run(dataset_file, method, seed):
    """What the notebook does, minus the plots."""
    run = experiment.resolve_run(CONFIG, "sine", method, seed)
    data = dio.load_dataset(dataset_file)
    model = experiment.build_model(run, data)
    rngs = datrain.seeding.streams(run["base_seed"], "sine", seed)
    initial = experiment.initial_ensemble(model, run["trainer"], rngs["init"])
    with np.errstate(all="ignore"):
        result = experiment.train(model, initial, data, run["trainer"], rngs["perturbation"],
                                  experiment.Monitor(model, data))
    final = experiment.evaluate_final(model, result, data, run["coverage_levels"])
    attrs = dio.provenance("test", dio.config_sha256(run), {"seed": seed}, run)
    return dio.run_to_xarray("sine", method, seed, experiment.history_arrays(result), final,
                             experiment.run_info(model, run["trainer"], result), data, attrs)


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path, dataset_file):
    run = make_run(dataset_file, "gd", 0)
    path = dio.write_netcdf(run, tmp_path / "runs" / "seed0.nc")
    assert sorted(p.name for p in path.parent.iterdir()) == ["seed0.nc"]
    xr.testing.assert_identical(dio.read_netcdf(path), run)
    broken = run.assign_attrs(bad=object())  # not serialisable: the write fails part-way
    with pytest.raises(Exception):
        dio.write_netcdf(broken, tmp_path / "runs" / "seed1.nc")
    assert sorted(p.name for p in path.parent.iterdir()) == ["seed0.nc"]


@pytest.mark.parametrize("damage", ["missing", "truncated", "nan_target", "wrong_variables"])
def test_bad_dataset_files_get_an_error_naming_the_file(tmp_path, dataset_file, damage):
    path = tmp_path / "sine.nc"
    good = dio.read_netcdf(dataset_file)
    if damage == "truncated":
        path.write_bytes(dataset_file.read_bytes()[:200])
    elif damage == "nan_target":
        bad = good.copy(deep=True)
        bad["y_train"][3] = np.nan
        dio.write_netcdf(bad, path)
    elif damage == "wrong_variables":
        dio.write_netcdf(good.rename({"y_train": "target"}), path)
    with pytest.raises(dio.DataFileError, match=str(path)):
        dio.load_dataset(path)


def test_a_rerun_gives_bit_identical_data_variables(dataset_file):
    first, second = (make_run(dataset_file, "esmda", 1).drop_vars(dio.TIMING_VARIABLES) for _ in range(2))
    xr.testing.assert_identical(first, second)


def test_diverged_and_missing_runs_are_flagged_and_never_averaged(dataset_file):
    runs = [make_run(dataset_file, method, seed) for method in CONFIG["methods"] for seed in CONFIG["seeds"]
            if (method, seed) != ("esmda", 2)]
    unstable = [r for r in runs if r.method.item() == "unstable"]
    assert all(r["status"].item() == "diverged" and r["diverged_at"].item() >= 1 for r in unstable)
    assert all(np.isnan(r["final_test_rmse"]).all() for r in unstable)
    expected = [("sine", m, s) for m in CONFIG["methods"] for s in CONFIG["seeds"]]
    cube = dio.combine_runs(runs, expected, {"config_sha256": "x"})
    assert list(cube["method"].values) == list(CONFIG["methods"])
    assert cube["status"].sel({"case": "sine", "method": "esmda", "seed": 2}).item() == "missing"
    assert json.loads(cube.attrs["missing_runs"]) == [["sine", "esmda", 2]]

    table = analysis.comparison_table(cube, baseline="gd").set_index("method")
    assert table.loc["unstable", "n_diverged"] == 3 and table.loc["unstable", "n_ok"] == 0
    assert np.isnan(table.loc["unstable", "test_rmse_mean"]) and table.loc["unstable", "n_pairs"] == 0
    assert table.loc["esmda", "n_missing"] == 1 and table.loc["esmda", "missing_seeds"] == "2"
    esmda_rmse = cube["final_test_rmse"].sel({"case": "sine", "method": "esmda"}).values[:2]
    assert table.loc["esmda", "test_rmse_mean"] == pytest.approx(esmda_rmse.mean())
    gd_rmse = cube["final_test_rmse"].sel({"case": "sine", "method": "gd"}).values[:2]
    assert table.loc["esmda", "n_pairs"] == 2
    assert table.loc["esmda", "beats_baseline"] == np.mean(esmda_rmse < gd_rmse)
    notes = analysis.run_notes(cube)
    assert sum(note.startswith("diverged: sine/unstable/") for note in notes) == 3
    assert "missing: sine/esmda/seed2 (no run file)" in notes
