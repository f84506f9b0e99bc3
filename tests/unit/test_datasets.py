"""Synthetic data sets: the functions, shapes, grids, noise and reproducibility."""
import numpy as np
import pytest

from datrain import datasets


def test_mexican_hat_is_one_at_origin_and_sinc_elsewhere():
    x = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, -4.0], [np.pi, 0.0], [-7.5, 2.5], [1e-9, 0.0]])
    z = datasets.mexican_hat_function(x)
    assert z.shape == (6, 1)
    assert z[0, 0] == 1.0
    r = np.hypot(x[1:, 0], x[1:, 1])
    np.testing.assert_allclose(z[1:, 0], np.sin(r) / r, rtol=1e-12, atol=1e-15)


def test_sine_function():
    x = np.linspace(-3.0, 3.0, 13)[:, None]
    np.testing.assert_array_equal(datasets.sine_function(x), np.sin(x))


@pytest.mark.parametrize("name,n_in", [("sine", 1), ("mexican_hat", 2)])
def test_shapes_grid_and_domain(name, n_in):
    assert datasets.REGISTRY[name].n_in == n_in
    data = datasets.make_dataset(name, n_train=17, n_test=9, noise_std=0.1, rng=0, domain=(-2.0, 3.0))
    assert data.name == name and data.noise_std == 0.1
    assert data.x_train.shape == (17, n_in)
    assert data.y_train.shape == data.f_train.shape == (17, 1)
    assert data.x_test.shape == (9**n_in, n_in) and data.y_test.shape == (9**n_in, 1)
    assert data.x_train.min() >= -2.0 and data.x_train.max() <= 3.0
    for axis in range(n_in):  # a regular grid with the domain's endpoints
        np.testing.assert_allclose(np.unique(data.x_test[:, axis]), np.linspace(-2.0, 3.0, 9), rtol=1e-15)
    function = datasets.REGISTRY[name].function
    np.testing.assert_array_equal(data.y_test, function(data.x_test))
    np.testing.assert_array_equal(data.f_train, function(data.x_train))


def test_default_domain_is_used():
    data = datasets.make_dataset("mexican_hat", n_train=5, n_test=3, noise_std=0.0, rng=0)
    np.testing.assert_array_equal(np.unique(data.x_test), np.linspace(*datasets.REGISTRY["mexican_hat"].default_domain, 3))


def test_noise_level():
    clean = datasets.make_dataset("sine", n_train=50, n_test=3, noise_std=0.0, rng=0)
    np.testing.assert_array_equal(clean.y_train, clean.f_train)
    noisy = datasets.make_dataset("sine", n_train=5000, n_test=3, noise_std=0.3, rng=0)
    residual = noisy.y_train - noisy.f_train
    assert residual.std() == pytest.approx(0.3, rel=0.05)  # 5000 draws: ~1% sampling error
    assert abs(residual.mean()) < 0.03


def test_same_rng_same_data():
    a = datasets.make_dataset("mexican_hat", n_train=30, n_test=4, noise_std=0.1, rng=np.random.default_rng(9))
    b = datasets.make_dataset("mexican_hat", n_train=30, n_test=4, noise_std=0.1, rng=np.random.default_rng(9))
    c = datasets.make_dataset("mexican_hat", n_train=30, n_test=4, noise_std=0.1, rng=np.random.default_rng(10))
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_train, c.x_train) and not np.array_equal(a.y_train, c.y_train)


@pytest.mark.parametrize("kwargs,match", [
    ({"name": "cosine"}, r"name='cosine'"),
    ({"n_train": 0}, r"^n_train=0"),
    ({"n_test": 1}, r"^n_test=1"),
    ({"noise_std": -0.1}, r"^noise_std=-0\.1"),
    ({"noise_std": np.nan}, r"^noise_std=nan"),
    ({"domain": (1.0, -1.0)}, r"^domain=\(1\.0, -1\.0\)"),
])
def test_bad_arguments_are_refused(kwargs, match):
    arguments = {"name": "sine", "n_train": 10, "n_test": 5, "noise_std": 0.1, "rng": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        datasets.make_dataset(**arguments)
