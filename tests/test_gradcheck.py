"""Finite-difference gradient checks in float64 for every layer, every loss and a whole model.

For a layer ``out = f(x; w)`` and a fixed random ``R`` the scalar ``L = sum(out * R)`` has
``dL/d(out) = R``; ``layer.backward(R)`` must then return ``dL/dx`` and store ``dL/dw`` in
``layer.grads``. Both are compared with central differences ``(L(t + h) - L(t - h)) / 2h``,
which need nothing from tinycnn but its forward pass.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinycnn
from tinycnn import losses
from tinycnn.layers import Activation, AveragePooling2D, Conv2D
from tinycnn.layers import Dense, Dropout, Flatten, MaxPooling2D


H = 1e-6


def numeric_gradient(function, array, rng, samples=25):
    """Central differences of the scalar ``function()`` w.r.t. ``samples`` random entries of
    ``array`` (perturbed in place). Returns ``(flat indices, gradients)``."""
    flat = array.reshape(-1)
    indices = rng.choice(flat.size, size=min(samples, flat.size), replace=False)
    grads = []
    for i in indices:
        saved = flat[i]
        flat[i] = saved + H
        plus = function()
        flat[i] = saved - H
        minus = function()
        flat[i] = saved
        grads.append((plus - minus) / (2 * H))
    return indices, np.array(grads)


def check_layer(layer, x, seed=0, training=False, reseed=None):
    """Compare ``layer.backward`` with finite differences for the input and every weight."""
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)
    layer(x)  # builds the layer
    out = layer.forward(x, training=training)
    weight_r = rng.standard_normal(out.shape)

    def loss():
        if reseed is not None:
            tinycnn.utils.set_random_seed(reseed)  # the same dropout mask every call
        return float(np.sum(layer.forward(x, training=training) * weight_r))

    loss()
    grad_x = layer.backward(weight_r)
    analytic = [np.array(grad_x)] + [np.array(g) for g in layer.grads]
    assert len(layer.grads) == len(layer.weights)
    for array, grad in zip([x] + layer.weights, analytic):
        assert grad.shape == array.shape
        assert grad.dtype == np.float64
        indices, numeric = numeric_gradient(loss, array, rng)
        np.testing.assert_allclose(grad.reshape(-1)[indices], numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("kernel,strides,padding", [
    ((3, 3), (1, 1), "valid"),
    ((3, 3), (1, 1), "same"),
    ((2, 4), (2, 1), "same"),
    ((4, 4), (3, 2), "same"),
    ((3, 2), (2, 3), "valid"),
    ((1, 1), (1, 1), "valid"),
])
@pytest.mark.parametrize("activation", [None, "tanh"])
def test_conv2d_gradients(kernel, strides, padding, activation, conv_strategy):
    x = np.random.default_rng(1).standard_normal((2, 7, 8, 3))
    layer = Conv2D(4, kernel, strides=strides, padding=padding, activation=activation,
                   dtype="float64")
    layer.build(x.shape[1:])
    layer.bias[...] = np.random.default_rng(2).standard_normal(4)  # nonzero bias
    check_layer(layer, x, seed=3)


def test_conv2d_without_bias_gradients(conv_strategy):
    layer = Conv2D(3, 3, padding="same", use_bias=False, activation="sigmoid", dtype="float64")
    check_layer(layer, np.random.default_rng(4).standard_normal((2, 5, 6, 2)))
    assert len(layer.weights) == 1


@pytest.mark.parametrize("layer_class", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize("pool,strides,padding", [
    (2, None, "valid"),
    (2, None, "same"),
    (3, 2, "same"),
    ((2, 3), (1, 2), "valid"),
    (3, 1, "same"),
])
def test_pooling_gradients(layer_class, pool, strides, padding):
    # distinct values spaced well apart: no ties in max pooling, no winner change under +-h
    rng = np.random.default_rng(5)
    x = rng.permutation(2 * 7 * 9 * 2).reshape(2, 7, 9, 2) * 0.01
    check_layer(layer_class(pool, strides=strides, padding=padding, dtype="float64"), x)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softmax", "linear"])
def test_dense_gradients(activation):
    layer = Dense(5, activation=activation, dtype="float64")
    layer.build((7,))
    layer.bias[...] = 0.3
    check_layer(layer, np.random.default_rng(6).standard_normal((4, 7)))


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softmax", "linear"])
def test_activation_layer_gradients(activation):
    x = np.random.default_rng(7).standard_normal((3, 4, 5, 2))
    check_layer(Activation(activation, dtype="float64"), x)


def test_flatten_gradients():
    check_layer(Flatten(dtype="float64"), np.random.default_rng(8).standard_normal((3, 4, 5, 2)))


def test_dropout_gradients_in_training_and_inference():
    x = np.random.default_rng(9).standard_normal((4, 6, 5))
    check_layer(Dropout(0.4, dtype="float64"), x, training=True, reseed=123)
    check_layer(Dropout(0.4, dtype="float64"), x, training=False)


# ----------------------------------------------------------------------------- losses
def loss_inputs(name, rng):
    if name == "binary_crossentropy":
        return rng.integers(0, 2, size=(5, 3)).astype(float), rng.uniform(0.05, 0.95, (5, 3))
    if name == "mse":
        return rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    labels = rng.integers(0, 3, size=5)
    p = rng.uniform(0.1, 1.0, (5, 3))
    p /= p.sum(axis=1, keepdims=True)
    return (labels if name.startswith("sparse") else np.eye(3)[labels]), p


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy", "mse"])
def test_loss_gradients(name):
    rng = np.random.default_rng(10)
    y, p = loss_inputs(name, rng)
    loss = losses.get(name)
    analytic = loss.gradient(y, p)
    indices, numeric = numeric_gradient(lambda: loss(y, p), p, rng, samples=p.size)
    np.testing.assert_allclose(analytic.reshape(-1)[indices], numeric, rtol=1e-5, atol=1e-8)


# ----------------------------------------------------------------------------- whole model
class GradientRecorder(tinycnn.optimizers.Optimizer):
    """An "optimizer" that only keeps the gradients it is given."""

    def apply(self, weights, grads):
        self.grads = [np.array(g) for g in grads]


def assert_weight_gradients_match(model, recorder, x, y, rng, weight_arrays):
    """One training step on the whole batch; every recorded weight gradient must match finite
    differences of ``model.evaluate`` (sampled at 12 positions per weight array)."""
    model.train_on_batch(x, y)
    weights = [w for layer in model.layers for w in layer.weights]
    assert len(recorder.grads) == len(weights) == weight_arrays
    for weight, grad in zip(weights, recorder.grads):
        indices, numeric = numeric_gradient(lambda: model.evaluate(x, y, batch_size=len(x)),
                                            weight, rng, samples=12)
        np.testing.assert_allclose(grad.reshape(-1)[indices], numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss,last", [
    ("categorical_crossentropy", "softmax"),   # fused softmax + cross-entropy gradient
    ("sparse_categorical_crossentropy", "softmax"),
    ("binary_crossentropy", "sigmoid"),        # fused sigmoid + cross-entropy gradient
    ("mse", "tanh"),                           # the general chain rule through the activation
])
def test_model_gradients(loss, last, conv_strategy):
    """Backpropagation through a whole Sequential model against finite differences of its
    loss, for every weight array (the optimizer is replaced by a recorder)."""
    tinycnn.utils.set_random_seed(11)
    d = "float64"
    units = 1 if last == "sigmoid" else 3
    model = tinycnn.Sequential([
        Conv2D(3, 3, padding="same", activation="tanh", input_shape=(6, 7, 2), dtype=d),
        MaxPooling2D(2, padding="same", dtype=d),
        Conv2D(4, (2, 2), strides=2, activation="sigmoid", dtype=d),
        AveragePooling2D(2, padding="same", dtype=d),
        Flatten(dtype=d),
        Dense(5, activation="tanh", dtype=d),
        Dense(units, activation=last, dtype=d),
    ])

    recorder = GradientRecorder(learning_rate=1.0)
    model.compile(optimizer=recorder, loss=loss)
    rng = np.random.default_rng(12)
    x = rng.standard_normal((4, 6, 7, 2))
    if loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, 3, size=4)
    elif loss == "categorical_crossentropy":
        y = np.eye(3)[rng.integers(0, 3, size=4)]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(4, 1)).astype(float)
    else:
        y = rng.standard_normal((4, 3)) * 0.5
    assert_weight_gradients_match(model, recorder, x, y, rng, weight_arrays=8)


def test_model_gradients_when_weightless_layers_come_first():
    """Flatten/Dropout before the first Dense: the first weighted layer skips its input gradient
    and the layers before it are not gone back through; the weight gradients stay exact."""
    tinycnn.utils.set_random_seed(13)
    d = "float64"
    model = tinycnn.Sequential([
        Flatten(input_shape=(3, 4, 2), dtype=d),
        Dropout(0.0, dtype=d),
        Dense(5, activation="tanh", dtype=d),
        Activation("relu", dtype=d),
        Dense(3, activation="softmax", dtype=d),
    ])

    recorder = GradientRecorder(learning_rate=1.0)
    model.compile(optimizer=recorder, loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(14)
    x = rng.standard_normal((6, 3, 4, 2))
    y = rng.integers(0, 3, size=6)
    assert_weight_gradients_match(model, recorder, x, y, rng, weight_arrays=4)
