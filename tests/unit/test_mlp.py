"""The ensemble-vectorised MLP: layout, forward pass, initialisers and hand-written backprop."""
import numpy as np
import pytest

from datrain import MLP

ACTIVATIONS = ["tanh", "sigmoid", "relu", "identity"]
# (n_in, hidden, n_out): one hidden layer, two, and three with a vector output.
ARCHITECTURES = [(1, (6,), 1), (2, (5, 4), 3), (3, (4, 3, 5), 2)]

NUMPY_ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
}


def reference_forward(theta, X, sizes, activation):
    """Naive single-network forward written from the documented layout, not from the library.

    Layer ``l`` (``a`` inputs, ``b`` outputs) owns ``(a + 1) * b`` consecutive values of
    ``theta (p,)``: an ``(a, b)`` weight matrix row-major, then the ``b`` biases.
    Returns the list of pre-activations of every layer; the last one is the output ``(n, n_out)``.
    """
    g = NUMPY_ACTIVATIONS[activation]
    offset, signal, pre_activations = 0, X, []
    for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = theta[offset:offset + a * b].reshape(a, b)
        bias = theta[offset + a * b:offset + (a + 1) * b]
        offset += (a + 1) * b
        z = signal @ W + bias
        pre_activations.append(z)
        signal = g(z) if l < len(sizes) - 2 else z
    assert offset == len(theta)
    return pre_activations


def make_case(n_in, hidden, n_out, activation, n_members=3, n_samples=9, seed=0):
    rng = np.random.default_rng(seed)
    model = MLP(n_in, hidden, n_out, activation)
    ensemble = model.sample_prior(n_members, rng, std=0.8)
    X = rng.uniform(-2.0, 2.0, (n_samples, n_in))
    y = rng.standard_normal((n_samples, n_out))
    return model, ensemble, X, y


# --------------------------------------------------------------------------- layout
def test_n_params_counts_weights_and_biases():
    model = MLP(3, (4, 5), 2)
    assert model.n_params == (3 + 1) * 4 + (4 + 1) * 5 + (5 + 1) * 2


def test_unflatten_follows_documented_layout():
    n_in, hidden, n_out = 2, (3, 4), 2
    model = MLP(n_in, hidden, n_out)
    theta = np.arange(model.n_params, dtype=float)  # each value is its own flat index
    sizes = (n_in, *hidden, n_out)
    offset = 0
    for (W, b), a, width in zip(model.unflatten(theta), sizes[:-1], sizes[1:]):
        assert W.shape == (a, width) and b.shape == (width,)
        rows, cols = np.indices((a, width))
        np.testing.assert_array_equal(W, offset + rows * width + cols)  # W[i, j] = theta[off + i*b + j]
        np.testing.assert_array_equal(b, offset + a * width + np.arange(width))  # bias is the last row
        offset += (a + 1) * width
    assert offset == model.n_params


@pytest.mark.parametrize("lead", [(), (5,), (2, 3)])
def test_flatten_unflatten_round_trip(lead):
    model = MLP(2, (3, 4), 2)
    theta = np.random.default_rng(1).standard_normal(lead + (model.n_params,))
    layers = model.unflatten(theta)
    for W, b in layers:
        assert np.shares_memory(W, theta) and np.shares_memory(b, theta)  # documented: views
    np.testing.assert_array_equal(model.flatten(layers), theta)
    rebuilt = model.unflatten(model.flatten([(W.copy(), b.copy()) for W, b in layers]))
    for (W0, b0), (W1, b1) in zip(layers, rebuilt):
        np.testing.assert_array_equal(W0, W1)
        np.testing.assert_array_equal(b0, b1)


def test_forward_of_hand_built_network():
    # identity net 1-1-1 with W1=2, b1=3, W2=4, b2=5: f(x) = 4 (2x + 3) + 5
    model = MLP(1, (1,), 1, activation="identity")
    x = np.array([[-1.0], [0.0], [2.5]])
    np.testing.assert_allclose(model.forward(np.array([2.0, 3.0, 4.0, 5.0]), x), 4 * (2 * x + 3) + 5)
    # tanh net 2-1-1: f(x) = v tanh(w1 x1 + w2 x2 + c) + d with theta = [w1, w2, c, v, d]
    model = MLP(2, (1,), 1, activation="tanh")
    x = np.array([[0.3, -1.0], [2.0, 0.5]])
    theta = np.array([0.7, -0.2, 0.1, 1.5, -0.4])
    expected = 1.5 * np.tanh(0.7 * x[:, 0] - 0.2 * x[:, 1] + 0.1) - 0.4
    np.testing.assert_allclose(model.forward(theta, x)[:, 0], expected, rtol=1e-15)


# -------------------------------------------------------------------------- forward
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_in,hidden,n_out", ARCHITECTURES)
def test_vectorised_forward_equals_per_member_loop(n_in, hidden, n_out, activation):
    model, ensemble, X, _ = make_case(n_in, hidden, n_out, activation, n_members=17, n_samples=33)
    batched = model.forward(ensemble, X)
    assert batched.shape == (17, 33, n_out)
    loop = np.stack([model.forward(theta, X) for theta in ensemble])
    # "Exactly": every output is the same sum of the same products in exact arithmetic,
    # and today the two are bitwise equal. BLAS may however pick a different kernel
    # (FMA use, blocking of the inner dimension) for an (n, b) product than for an
    # (n, N*b) one, which can change the last bit or two. So allow a few ulps of the
    # output scale, and nothing more: any indexing/layout error is O(1).
    scale = np.abs(loop).max()
    np.testing.assert_allclose(batched, loop, rtol=1e-14, atol=1e-14 * scale)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_in,hidden,n_out", ARCHITECTURES)
def test_forward_matches_naive_reference(n_in, hidden, n_out, activation):
    model, ensemble, X, _ = make_case(n_in, hidden, n_out, activation, n_members=5, n_samples=11)
    expected = np.stack([reference_forward(t, X, (n_in, *hidden, n_out), activation)[-1] for t in ensemble])
    # The reference adds the bias after the product, the library folds it into the GEMM:
    # same terms, different rounding order.
    np.testing.assert_allclose(model.forward(ensemble, X), expected, rtol=1e-12, atol=1e-13)


def test_single_vector_forward():
    model, ensemble, X, _ = make_case(2, (5, 4), 3, "tanh")
    single = model.forward(ensemble[1], X)
    assert single.shape == (X.shape[0], 3)
    np.testing.assert_array_equal(single, model.forward(ensemble[1:2], X)[0])


def test_forward_accepts_1d_inputs_for_one_feature():
    model, ensemble, X, _ = make_case(1, (6,), 1, "tanh")
    np.testing.assert_array_equal(model.forward(ensemble, X[:, 0]), model.forward(ensemble, X))


def test_forward_keeps_float32():
    model, ensemble, X, _ = make_case(2, (5,), 1, "sigmoid")
    out = model.forward(ensemble.astype(np.float32), X.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, model.forward(ensemble, X), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------- backprop
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_in,hidden,n_out", ARCHITECTURES)
def test_backprop_matches_central_differences(n_in, hidden, n_out, activation):
    model, ensemble, X, y = make_case(n_in, hidden, n_out, activation, seed=3)
    h = 1e-6
    # relu has a kink at 0: a central difference straddling it is meaningless, so
    # make sure no hidden pre-activation is within reach of the +-h steps.
    for theta in ensemble:
        hidden_pre = reference_forward(theta, X, (n_in, *hidden, n_out), activation)[:-1]
        assert min(np.abs(z).min() for z in hidden_pre) > 1e-4

    loss, grad = model.loss_and_gradient(ensemble, X, y)
    assert loss.shape == (3,) and grad.shape == ensemble.shape
    np.testing.assert_allclose(loss, np.mean((model.forward(ensemble, X) - y) ** 2, axis=(1, 2)), rtol=1e-13)

    # Member j's loss depends only on theta_j, so shifting column k of the whole
    # ensemble gives d L_j / d theta_jk for every member at once.
    numeric = np.empty_like(ensemble)
    for k in range(model.n_params):
        step = np.zeros_like(ensemble)
        step[:, k] = h
        plus, _ = model.loss_and_gradient(ensemble + step, X, y)
        minus, _ = model.loss_and_gradient(ensemble - step, X, y)
        numeric[:, k] = (plus - minus) / (2 * h)
    relative = np.linalg.norm(grad - numeric, axis=1) / np.linalg.norm(numeric, axis=1)
    assert relative.max() < 1e-6, relative


def test_single_vector_gradient_and_1d_targets():
    model, ensemble, X, y = make_case(1, (6,), 1, "tanh")
    loss, grad = model.loss_and_gradient(ensemble, X, y)
    loss1, grad1 = model.loss_and_gradient(ensemble[2], X, y[:, 0])
    assert np.ndim(loss1) == 0 and grad1.shape == (model.n_params,)
    np.testing.assert_allclose(loss1, loss[2], rtol=1e-14)
    np.testing.assert_allclose(grad1, grad[2], rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------- initialisers
def test_glorot_init_bounds_and_zero_biases():
    model = MLP(3, (50, 40), 2, activation="tanh")
    theta = model.init_params(np.random.default_rng(0), n_members=4)
    assert theta.shape == (4, model.n_params)
    for W, b in model.unflatten(theta):
        fan_in, fan_out = W.shape[-2:]
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        assert np.abs(W).max() <= bound
        assert np.abs(W).max() > 0.9 * bound  # uses the full range, not a narrower one
        np.testing.assert_array_equal(b, 0.0)
    assert model.init_params(0).shape == (model.n_params,)


def test_he_init_for_relu():
    model = MLP(200, (300,), 1, activation="relu")
    W, b = model.unflatten(model.init_params(np.random.default_rng(0)))[0]
    # 60000 draws: the sample std is within 1% of sqrt(2 / fan_in) with overwhelming probability
    np.testing.assert_allclose(W.std(), np.sqrt(2.0 / 200), rtol=0.01)
    np.testing.assert_array_equal(b, 0.0)


def test_init_is_reproducible():
    model = MLP(2, (5,), 1)
    np.testing.assert_array_equal(model.init_params(7, n_members=3), model.init_params(7, n_members=3))
    assert not np.array_equal(model.init_params(7), model.init_params(8))


def test_sample_prior_std():
    model = MLP(1, (10,), 1)
    prior = model.sample_prior(4000, np.random.default_rng(0), std=0.3)
    assert prior.shape == (4000, model.n_params)
    np.testing.assert_allclose(prior.std(axis=0), 0.3, rtol=0.1)
    std = np.linspace(0.1, 2.0, model.n_params)
    prior = model.sample_prior(4000, np.random.default_rng(1), std=std, dtype=np.float32)
    assert prior.dtype == np.float32
    np.testing.assert_allclose(prior.std(axis=0), std, rtol=0.1)


# -------------------------------------------------------------------------- refusal
@pytest.mark.parametrize("call, match", [
    (lambda: MLP(1, (10,), 1, activation="softplus"), "activation='softplus'"),
    (lambda: MLP(1, (), 1), "hidden"),
    (lambda: MLP(0, (10,), 1), "n_in=0"),
    (lambda: MLP(1, (10, -2), 1), r"hidden\[1\]=-2"),
    (lambda: MLP(1, (10,), 1).forward(np.zeros((3, 5)), np.zeros((4, 1))), "n_params=31"),
    (lambda: MLP(2, (10,), 1).forward(np.zeros(41), np.zeros((4, 3))), "X has shape"),
    (lambda: MLP(1, (10,), 1).sample_prior(1), "n_members=1"),
    (lambda: MLP(1, (10,), 1).sample_prior(5, std=0.0), "std"),
])
def test_bad_arguments_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
