"""A bad dataset or run file is a DataFileError that names the file, with a short traceback (nothing from
xarray, h5netcdf or h5py). Through the pipeline, see test_failures.py (a truncated dataset)."""
import traceback

import numpy as np
import pytest

from datrain import experiment
from datrain import io as dio

SPEC = {"problem": "sine", "n_train": 12, "n_test": 5, "noise_std": 0.1, "domain": [-3.0, 3.0]}
DEEP = ("site-packages/xarray", "site-packages/h5netcdf", "site-packages/h5py")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A valid dataset file and its content."""
    path = tmp_path_factory.mktemp("good") / "sine.nc"
    dio.write_netcdf(dio.dataset_to_xarray(experiment.make_case_dataset("sine", SPEC, 0), {"case": "sine"}), path)
    return path, dio.read_netcdf(path)


def with_values(ds, name, index, value):
    bad = ds.copy(deep=True)
    bad[name].values[index] = value
    return bad


# name -> how to turn the good file (path, content) into the bad file at ``target``
DAMAGE = {
    "missing": lambda good, target: None,
    "empty": lambda good, target: target.write_bytes(b""),
    "truncated": lambda good, target: target.write_bytes(good[0].read_bytes()[:300]),
    "corrupt header": lambda good, target: target.write_bytes(b"\0" * 512 + good[0].read_bytes()[512:]),
    "not NetCDF": lambda good, target: target.write_text("x,y\n0,1\n"),
    "NaN target": lambda good, target: dio.write_netcdf(with_values(good[1], "y_train", 3, np.nan), target),
    "inf input": lambda good, target: dio.write_netcdf(with_values(good[1], "x_test", (0, 0), np.inf), target),
    "variable missing": lambda good, target: dio.write_netcdf(good[1].drop_vars("f_train"), target),
    "wrong dims": lambda good, target: dio.write_netcdf(good[1].transpose("input_dim", "train_point", ...), target),
    "unknown problem": lambda good, target: dio.write_netcdf(good[1].assign_attrs(problem="cosine"), target),
    "too many inputs": lambda good, target: dio.write_netcdf(
        good[1].isel(input_dim=[0, 0]).assign_coords(input_dim=[0, 1]), target),
}


def assert_short_error_naming(error: Exception, path) -> None:
    assert str(error).startswith(f"{path}: "), str(error)
    text = "".join(traceback.format_exception(error))
    assert not [deep for deep in DEEP if deep in text], text


@pytest.mark.parametrize("damage", DAMAGE)
def test_bad_dataset_file_is_a_short_error_naming_the_file(good, tmp_path, damage):
    target = tmp_path / "data" / "sine.nc"
    target.parent.mkdir()
    DAMAGE[damage](good, target)
    with pytest.raises(dio.DataFileError) as caught:
        dio.load_dataset(target)
    assert_short_error_naming(caught.value, target)


@pytest.mark.parametrize("damage", ["truncated", "not NetCDF", "a dataset file"])
def test_bad_run_file_is_a_short_error_naming_the_file(good, tmp_path, damage):
    """What the aggregate meets if a run file is damaged or is not a run file (load_runs)."""
    target = tmp_path / "seed0.nc"
    if damage == "a dataset file":
        target.write_bytes(good[0].read_bytes())
    else:
        DAMAGE[damage](good, target)
    with pytest.raises(dio.DataFileError) as caught:
        dio.load_runs([target])
    assert_short_error_naming(caught.value, target)
