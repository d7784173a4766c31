"""PyTorch (CPU) as an independent oracle for tinycnn's forward and backward passes.

tinycnn is channels-last ``(N, H, W, C)`` with kernels ``(kh, kw, C_in, C_out)``; PyTorch is
channels-first ``(N, C, H, W)`` with weights ``(C_out, C_in, kh, kw)``. Every helper below
translates layouts explicitly, and builds Keras/TF "same" padding (the odd extra cell at the
bottom/right) by hand with ``F.pad``, so the oracle never relies on tinycnn's own arithmetic.
Gradients come from torch autograd; the optimizer steps are written out with torch ops.
"""
from __future__ import annotations

import numpy as np
import pytest

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # Python 3.8 + NumPy 1.17 runs: collected, then deselected by -m "not torch"
    torch = TF = None

import tinycnn
from tinycnn import functional as F
from tinycnn import losses, optimizers
from tinycnn.layers import Activation, AveragePooling2D, Conv2D, Dense, Flatten, MaxPooling2D


pytestmark = pytest.mark.torch

if torch is not None:
    torch.set_num_threads(1)


from oracles import (  # noqa: E402
    CONV_CASES,
    POOL_CASES,
    TORCH_ACTIVATIONS,
    close,
    from_nchw,
    to_nchw,
    torch_avg_pool,
    torch_max_pool,
    torch_pad,
)

def random_conv_case(case, seed):
    n, h, w, c, f, kernel, strides, padding = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c))
    k = rng.standard_normal(kernel + (c, f))
    b = rng.standard_normal(f)
    return x, k, b, rng


# ----------------------------------------------------------------------------- convolution
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_forward_and_backward_match_torch(case, conv_strategy):
    _, _, _, _, f, kernel, strides, padding = case
    x, k, b, rng = random_conv_case(case, seed=CONV_CASES.index(case))
    layer = Conv2D(f, kernel, strides=strides, padding=padding, dtype="float64")
    layer.build(x.shape[1:])
    layer.set_weights([k, b])
    out = layer(x)

    tx = to_nchw(x, grad=True)
    tk = torch.tensor(k.transpose(3, 2, 0, 1), requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    tout = TF.conv2d(torch_pad(tx, kernel, strides, padding), tk, tb, stride=strides)
    assert out.shape == from_nchw(tout).shape
    close(out, from_nchw(tout))

    grad_out = rng.standard_normal(out.shape)
    tout.backward(to_nchw(grad_out))
    grad_x = layer.backward(grad_out)
    close(grad_x, from_nchw(tx.grad))
    close(layer.grads[0], tk.grad.numpy().transpose(2, 3, 1, 0))
    close(layer.grads[1], tb.grad.numpy())


@pytest.mark.parametrize("case", CONV_CASES[:4])
def test_conv_float32_matches_torch(case, conv_strategy):
    """The default float32 path (and the functional API) within float32 rounding."""
    x, k, b, _ = random_conv_case(case, seed=7)
    _, _, _, _, _, kernel, strides, padding = case
    out = F.conv2d(x.astype(np.float32), k.astype(np.float32), b.astype(np.float32),
                   strides=strides, padding=padding)
    assert out.dtype == np.float32
    expected = TF.conv2d(torch_pad(to_nchw(x), kernel, strides, padding),
                         torch.tensor(k.transpose(3, 2, 0, 1)), torch.tensor(b), stride=strides)
    close(out, from_nchw(expected), rtol=1e-4, atol=1e-4)


def test_conv_matrix_input_matches_torch(conv_strategy):
    rng = np.random.default_rng(3)
    x, k = rng.standard_normal((9, 8)), rng.standard_normal((3, 4))
    out = F.conv2d(x, k, padding="same", strides=2)
    expected = TF.conv2d(torch_pad(torch.tensor(x)[None, None], (3, 4), (2, 2), "same"),
                         torch.tensor(k)[None, None], stride=2)[0, 0]
    close(out, expected.numpy(), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- pooling
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pooling_forward_and_backward_match_torch(kind, case):
    n, h, w, c, pool, strides, padding = case
    rng = np.random.default_rng(POOL_CASES.index(case) + (100 if kind == "max" else 0))
    x = rng.standard_normal((n, h, w, c))
    layer_class = MaxPooling2D if kind == "max" else AveragePooling2D
    layer = layer_class(pool, strides=strides, padding=padding, dtype="float64")
    out = layer(x)
    tx = to_nchw(x, grad=True)
    steps = pool if strides is None else strides
    tout = (torch_max_pool if kind == "max" else torch_avg_pool)(tx, pool, steps, padding)
    close(out, from_nchw(tout))
    grad_out = rng.standard_normal(out.shape)
    tout.backward(to_nchw(grad_out))
    close(layer.backward(grad_out), from_nchw(tx.grad))


def test_max_pool_ties_send_gradient_to_first_maximum_like_torch():
    x = np.zeros((1, 4, 4, 2))
    x[0, :2, :2, 1] = [[5.0, 5.0], [1.0, 5.0]]
    layer = MaxPooling2D(2, dtype="float64")
    out = layer(x)
    tx = to_nchw(x, grad=True)
    tout = TF.max_pool2d(tx, 2)
    grad_out = np.arange(1, 9, dtype=np.float64).reshape(out.shape)
    tout.backward(to_nchw(grad_out))
    close(layer.backward(grad_out), from_nchw(tx.grad))


@pytest.mark.parametrize("in_browser", [False, True])
def test_non_finite_gradients_flow_only_where_torch_sends_them(in_browser, monkeypatch):
    """ReLU and max pooling pass an inf or NaN gradient on only where it flows (the positive
    inputs, the window's winner) and give exactly 0 elsewhere, as PyTorch does -- with both of
    keep_where's formulations (native, and the one Pyodide runs)."""
    from tinycnn.fast import platform
    monkeypatch.setattr(platform, "IN_BROWSER", in_browser)
    rng = np.random.default_rng(12)
    x = rng.permutation(np.arange(-8.0, 8.0)).reshape(1, 4, 4, 1)  # distinct values
    grad_out = np.full((1, 4, 4, 1), np.inf)
    grad_out[0, 1, :, 0] = np.nan
    relu = Activation("relu", dtype="float64")
    relu(x)
    tx = to_nchw(x, grad=True)
    torch.relu(tx).backward(to_nchw(grad_out))
    close(relu.backward(grad_out), from_nchw(tx.grad))
    pool = MaxPooling2D(2, dtype="float64")
    pool(x)
    pooled_grad = np.array([np.inf, np.nan, -np.inf, 1.0]).reshape(1, 2, 2, 1)
    tx = to_nchw(x, grad=True)
    TF.max_pool2d(tx, 2).backward(to_nchw(pooled_grad))
    close(pool.backward(pooled_grad), from_nchw(tx.grad))


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_functional_pooling_float32_matches_torch(kind):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 11, 12, 4)).astype(np.float32)
    function = F.max_pool2d if kind == "max" else F.avg_pool2d
    out = function(x, pool_size=3, strides=2, padding="same")
    assert out.dtype == np.float32
    oracle = torch_max_pool if kind == "max" else torch_avg_pool
    close(out, from_nchw(oracle(to_nchw(x), (3, 3), (2, 2), "same")), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- dense, activations
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softmax", "linear", None])
def test_dense_forward_and_backward_match_torch(activation):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 9))
    layer = Dense(4, activation=activation, dtype="float64")
    layer.build((9,))
    kernel, bias = rng.standard_normal((9, 4)), rng.standard_normal(4)
    layer.set_weights([kernel, bias])
    out = layer(x)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(kernel.T.copy(), requires_grad=True)
    tb = torch.tensor(bias, requires_grad=True)
    tout = TORCH_ACTIVATIONS[activation](TF.linear(tx, tw, tb))
    close(out, tout.detach().numpy())
    grad_out = rng.standard_normal(out.shape)
    tout.backward(torch.tensor(grad_out))
    close(layer.backward(grad_out), tx.grad.numpy())
    close(layer.grads[0], tw.grad.numpy().T)
    close(layer.grads[1], tb.grad.numpy())


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "linear"])
def test_activation_functions_and_layer_match_torch(name):
    rng = np.random.default_rng(9)
    z = rng.standard_normal((4, 3, 5, 6)) * 4
    z[0, 0, 0, :2] = [40.0, -40.0]  # saturating values must stay finite and exact
    layer = Activation(name, dtype="float64")
    out = layer(z)
    tz = torch.tensor(z, requires_grad=True)
    tout = TORCH_ACTIVATIONS[name](tz)
    close(out, tout.detach().numpy(), rtol=1e-12, atol=1e-15)
    close(getattr(F, name)(z), tout.detach().numpy(), rtol=1e-12, atol=1e-15)
    grad_out = rng.standard_normal(z.shape)
    tout.backward(torch.tensor(grad_out))
    close(layer.backward(grad_out), tz.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_flatten_matches_torch_channels_last_order():
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    expected = to_nchw(x).permute(0, 2, 3, 1).reshape(2, -1).numpy()
    close(Flatten(dtype="float64")(x), expected, rtol=0, atol=0)
    close(F.flatten(x), expected, rtol=0, atol=0)


# ----------------------------------------------------------------------------- losses
EPS = 1e-7


def torch_loss(name, ty, tp):
    """The Keras definitions, written in torch (clamp has zero gradient outside its range)."""
    if name == "binary_crossentropy":
        p = tp.clamp(EPS, 1 - EPS)
        return -(ty * torch.log(p) + (1 - ty) * torch.log(1 - p)).mean(dim=-1).mean()
    if name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        p = (tp / tp.sum(dim=-1, keepdim=True)).clamp(EPS, 1 - EPS)
        return -(ty * torch.log(p)).sum(dim=-1).mean()
    assert name == "mse"
    return ((tp - ty) ** 2).mean(dim=-1).mean()


def loss_data(name, rng, n=7, k=4):
    if name == "binary_crossentropy":
        y = rng.integers(0, 2, size=(n, k)).astype(np.float64)
        p = rng.uniform(0.02, 0.98, size=(n, k))
        return y, y, p
    if name == "mse":
        y, p = rng.standard_normal((n, k)), rng.standard_normal((n, k))
        return y, y, p
    labels = rng.integers(0, k, size=n)
    one_hot = np.eye(k)[labels]
    p = rng.uniform(0.05, 1.0, size=(n, k))
    p /= p.sum(axis=1, keepdims=True)
    return (labels if name.startswith("sparse") else one_hot), one_hot, p


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy", "mse"])
def test_loss_value_and_gradient_match_torch(name):
    rng = np.random.default_rng(21)
    y_given, y_dense, p = loss_data(name, rng)
    loss = losses.get(name)
    tp = torch.tensor(p, requires_grad=True)
    expected = torch_loss(name, torch.tensor(y_dense), tp)
    expected.backward()
    close(loss(y_given, p), expected.item(), rtol=1e-12)
    close(getattr(losses, name)(y_given, p), expected.item(), rtol=1e-12)
    close(loss.gradient(y_given, p), tp.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_binary_crossentropy_clips_like_keras():
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.0], [1.0], [1.0], [0.0]])  # two hopeless predictions, two perfect ones
    expected = torch_loss("binary_crossentropy", torch.tensor(y), torch.tensor(p)).item()
    assert np.isfinite(expected)
    close(losses.binary_crossentropy(y, p), expected, rtol=1e-9)
    close(expected, -np.log(EPS) / 2, rtol=1e-6)  # = 2 * -log(1e-7) / 4


@pytest.mark.parametrize("activation,name", [("sigmoid", "binary_crossentropy"),
                                             ("softmax", "categorical_crossentropy"),
                                             ("softmax", "sparse_categorical_crossentropy")])
def test_fused_output_gradient_matches_torch_logit_losses(activation, name):
    """Sigmoid/softmax + cross-entropy: the gradient w.r.t. the pre-activation ``(p - y) / N``
    equals the gradient of torch's logit-based losses (no clipping in the way)."""
    rng = np.random.default_rng(4)
    z = rng.standard_normal((5, 3)) * 3
    if activation == "sigmoid":
        y = rng.integers(0, 2, size=(5, 3)).astype(np.float64)
        y_given = y
    else:
        labels = rng.integers(0, 3, size=5)
        y = np.eye(3)[labels]
        y_given = labels if name.startswith("sparse") else y
    tz = torch.tensor(z, requires_grad=True)
    if activation == "sigmoid":
        TF.binary_cross_entropy_with_logits(tz, torch.tensor(y)).backward()
    else:
        TF.cross_entropy(tz, torch.tensor(y.argmax(axis=1))).backward()
    p = getattr(F, activation)(z)
    close(losses.get(name).gradient_preactivation(y_given, p), tz.grad.numpy(), rtol=1e-9,
          atol=1e-12)


# ----------------------------------------------------------------------------- whole-model steps
def small_model(dtype="float64"):
    model = tinycnn.Sequential([
        Conv2D(4, (3, 3), strides=(1, 1), padding="same", activation="relu",
               input_shape=(9, 8, 2), dtype=dtype),
        MaxPooling2D(2, padding="same", dtype=dtype),
        Conv2D(5, (2, 3), strides=(2, 1), padding="valid", activation="tanh", dtype=dtype),
        AveragePooling2D(2, padding="same", dtype=dtype),
        Flatten(dtype=dtype),
        Dense(6, activation="relu", dtype=dtype),
        Dense(3, activation="softmax", dtype=dtype),
    ])
    return model


def torch_forward(params, tx):
    """The same network written with torch ops on NCHW tensors (flatten in NHWC order)."""
    k1, b1, k2, b2, w3, b3, w4, b4 = params
    h = torch.relu(TF.conv2d(torch_pad(tx, (3, 3), (1, 1), "same"), k1, b1))
    h = torch_max_pool(h, (2, 2), (2, 2), "same")
    h = torch.tanh(TF.conv2d(h, k2, b2, stride=(2, 1)))
    h = torch_avg_pool(h, (2, 2), (2, 2), "same")
    h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
    h = torch.relu(TF.linear(h, w3, b3))
    return TF.linear(h, w4, b4)  # logits; softmax is inside the loss


def to_torch_params(weights):
    """tinycnn weights (Keras order) -> torch layouts, as leaf tensors."""
    out = []
    for w in weights:
        if w.ndim == 4:
            w = w.transpose(3, 2, 0, 1)
        elif w.ndim == 2:
            w = w.T
        out.append(torch.tensor(np.ascontiguousarray(w), requires_grad=True))
    return out


def from_torch_params(params):
    out = []
    for p in params:
        w = p.detach().numpy()
        if w.ndim == 4:
            w = w.transpose(2, 3, 1, 0)
        elif w.ndim == 2:
            w = w.T
        out.append(w)
    return out


def torch_gradients(params, x, labels):
    for p in params:
        p.grad = None
    loss = TF.cross_entropy(torch_forward(params, to_nchw(x)), torch.tensor(labels))
    loss.backward()
    return loss.item(), [p.grad for p in params]


def model_and_data(seed):
    tinycnn.utils.set_random_seed(seed)
    model = small_model()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 9, 8, 2))
    labels = rng.integers(0, 3, size=6)
    return model, x, labels


def test_model_predict_matches_torch(conv_strategy):
    model, x, labels = model_and_data(0)
    params = to_torch_params(model.get_weights())
    expected = torch.softmax(torch_forward(params, to_nchw(x)), dim=-1).detach().numpy()
    close(model.predict(x), expected)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss, _ = torch_gradients(params, x, labels)
    close(model.evaluate(x, labels), loss, rtol=1e-9)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_steps_match_torch(momentum):
    model, x, labels = model_and_data(1)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1, momentum=momentum),
                  loss="sparse_categorical_crossentropy")
    params = to_torch_params(model.get_weights())
    velocities = [torch.zeros_like(p) for p in params]
    for step in range(3):
        loss, grads = torch_gradients(params, x, labels)
        with torch.no_grad():  # Keras's momentum rule: v = m v - lr g; w += v
            for p, v, g in zip(params, velocities, grads):
                v.mul_(momentum).sub_(0.1 * g)
                p.add_(v)
        close(model.train_on_batch(x, labels), loss, rtol=1e-9)
        for mine, theirs in zip(model.get_weights(), from_torch_params(params)):
            close(mine, theirs, rtol=1e-8, atol=1e-10)


def test_adam_steps_match_torch_with_keras_epsilon_rule():
    model, x, labels = model_and_data(2)
    lr, beta_1, beta_2, epsilon = 0.01, 0.9, 0.999, 1e-7
    model.compile(optimizer=optimizers.Adam(learning_rate=lr), loss="sparse_categorical_crossentropy")
    params = to_torch_params(model.get_weights())
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    for t in range(1, 4):
        loss, grads = torch_gradients(params, x, labels)
        with torch.no_grad():
            # Keras: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t); w -= lr_t * m / (sqrt(v) + eps)
            lr_t = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
            for p, (m, v), g in zip(params, moments, grads):
                m.mul_(beta_1).add_((1 - beta_1) * g)
                v.mul_(beta_2).add_((1 - beta_2) * g * g)
                p.sub_(lr_t * m / (v.sqrt() + epsilon))
        close(model.train_on_batch(x, labels), loss, rtol=1e-9)
        for mine, theirs in zip(model.get_weights(), from_torch_params(params)):
            close(mine, theirs, rtol=1e-7, atol=1e-9)


def test_adam_first_step_agrees_with_torch_optim_adam_when_gradients_are_large():
    """Where sqrt(v) >> epsilon the two epsilon rules agree: cross-check with torch.optim.Adam."""
    model, x, labels = model_and_data(3)
    model.compile(optimizer=optimizers.Adam(learning_rate=0.001, epsilon=1e-20),
                  loss="sparse_categorical_crossentropy")
    params = to_torch_params(model.get_weights())
    optimizer = torch.optim.Adam(params, lr=0.001, eps=1e-20)
    torch_gradients(params, x, labels)
    optimizer.step()
    model.train_on_batch(x, labels)
    for mine, theirs in zip(model.get_weights(), from_torch_params(params)):
        close(mine, theirs, rtol=1e-6, atol=1e-9)


def test_float32_model_training_step_matches_torch(conv_strategy):
    """The default float32 path: one SGD step of the LeNet-like bench model, float32 tolerances."""
    tinycnn.utils.set_random_seed(5)
    model = tinycnn.Sequential([
        Conv2D(8, 5, padding="same", activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D(2),
        Conv2D(16, 5, padding="same", activation="relu"),
        MaxPooling2D(2),
        Flatten(),
        Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="categorical_crossentropy")
    rng = np.random.default_rng(5)
    x = rng.random((8, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, 10, size=8)
    params = [p.float().detach().requires_grad_() for p in to_torch_params(model.get_weights())]
    k1, b1, k2, b2, w3, b3 = params
    tx = to_nchw(x).float()
    h = TF.max_pool2d(torch.relu(TF.conv2d(tx, k1, b1, padding=2)), 2)
    h = TF.max_pool2d(torch.relu(TF.conv2d(h, k2, b2, padding=2)), 2)
    logits = TF.linear(h.permute(0, 2, 3, 1).reshape(8, -1), w3, b3)
    loss = TF.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    close(model.train_on_batch(x, np.eye(10, dtype=np.float32)[labels]), loss.item(), rtol=1e-5)
    expected = [w - 0.05 * g for w, g in zip(from_torch_params(params),
                                              from_torch_params([p.grad for p in params]))]
    for mine, theirs in zip(model.get_weights(), expected):
        assert mine.dtype == np.float32
        close(mine, theirs, rtol=1e-4, atol=1e-5)
