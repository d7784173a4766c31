"""Every fast formulation (tinycnn/fast/) computes what tinycnn/functional/reference.py defines.

The reference is plain, readable NumPy (loops over output positions) and is itself checked
against PyTorch in tests/test_reference_vs_torch.py. Here each formulation -- im2col/BLAS,
"axpy", the wide-rows layout and its fused ReLU + max pooling, the browser's whole-model
inference, the pooling loops, the in-place and integer-view ReLU -- is compared with it on a
grid of shapes, strides and paddings, forward and backward. Unmarked: this also runs under
Python 3.8 + NumPy 1.17.5, the browser's pair. A new fast path lands only with a test here.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinycnn
from tinycnn import fast
from tinycnn.fast import axpy, browser_inference, im2col, wide_rows
from tinycnn.fast import pooling as fast_pooling
from tinycnn.fast import relu as fast_relu
from tinycnn.functional import reference
from tinycnn.layers import AveragePooling2D, Conv2D, Dense, Flatten, MaxPooling2D

from oracles import reference_predict

FORMULATIONS = {"blas": im2col, "axpy": axpy}


def close(actual, expected, dtype=np.float64):
    tolerance = 1e-10 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(np.asarray(actual, np.float64), np.asarray(expected, np.float64),
                               rtol=tolerance, atol=tolerance)


# (N, H, W, C, F, (kh, kw)): one channel (im2col's transposed path) and several; square and
# not; a kernel as large as the image; a "same" kernel wider than a narrow image
CONV_SHAPES = [
    (2, 7, 6, 1, 3, (3, 3)),
    (1, 5, 8, 3, 2, (2, 4)),
    (3, 6, 6, 2, 4, (1, 1)),
    (2, 4, 4, 2, 2, (4, 4)),
    (2, 3, 2, 2, 3, (5, 5)),
]
STRIDES = [(1, 1), (2, 2), (1, 2), (3, 1)]
PADDINGS = ["valid", "same"]
CONV_GRID = [(shape, strides, padding) for shape, strides, padding
             in itertools.product(CONV_SHAPES, STRIDES, PADDINGS)
             if padding == "same" or (shape[5][0] <= shape[1] and shape[5][1] <= shape[2])]


def conv_case(shape, strides, padding, dtype=np.float64, seed=0):
    n, height, width, channels, filters, (k_h, k_w) = shape
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((n, height, width, channels)).astype(dtype)
    kernel = rng.standard_normal((k_h, k_w, channels, filters)).astype(dtype)
    bias = rng.standard_normal(filters).astype(dtype)
    out = reference.conv2d(x, kernel, bias, strides, padding)
    grad = rng.standard_normal(out.shape).astype(dtype)
    return x, kernel, bias, out, grad


@pytest.mark.parametrize("strategy", sorted(FORMULATIONS))
@pytest.mark.parametrize("shape, strides, padding", CONV_GRID)
def test_convolution_formulations_equal_the_reference(strategy, shape, strides, padding):
    x, kernel, bias, expected, grad = conv_case(shape, strides, padding)
    for with_bias in (True, False):
        b = bias if with_bias else None
        expected_out = reference.conv2d(x, kernel, b, strides, padding)
        out, cache = FORMULATIONS[strategy].conv2d_forward(x, kernel, b, strides, padding)
        close(out, expected_out)
        grads = FORMULATIONS[strategy].conv2d_backward(grad, cache)
        for got, want in zip(grads, reference.conv2d_backward(grad, x, kernel, strides, padding)):
            close(got, want)
        _, grad_kernel, grad_bias = FORMULATIONS[strategy].conv2d_backward(grad, cache, False)
        close(grad_kernel, grads[1])
        close(grad_bias, grads[2])


@pytest.mark.parametrize("strategy", sorted(FORMULATIONS))
@pytest.mark.parametrize("shape, strides, padding", CONV_GRID[::3])
def test_fused_relu_and_float32_equal_the_reference(strategy, shape, strides, padding):
    x, kernel, bias, expected, _ = conv_case(shape, strides, padding, dtype=np.float32, seed=1)
    out, _ = FORMULATIONS[strategy].conv2d_forward(x, kernel, bias, strides, padding, relu=True)
    assert out.dtype == np.float32
    close(out, reference.relu(expected), np.float32)
    assert not np.signbit(out).any()  # ReLU gives +0.0, never -0.0


def test_the_dispatch_follows_the_strategy_and_the_cache(monkeypatch):
    x, kernel, bias, expected, grad = conv_case(CONV_SHAPES[1], (1, 1), "same")
    for strategy, cache_type in (("blas", im2col.Im2colCache), ("axpy", axpy.AxpyCache)):
        monkeypatch.setattr(fast, "CONV_STRATEGY", strategy)
        out, cache = fast.conv2d_forward(x, kernel, bias, (1, 1), "same")
        assert isinstance(cache, cache_type)
        close(out, expected)
        close(tinycnn.functional.conv2d(x, kernel, bias, padding="same"), expected)
        close(fast.conv2d_backward(grad, cache)[0],
              reference.conv2d_backward(grad, x, kernel, (1, 1), "same")[0])
    monkeypatch.setattr(fast, "CONV_STRATEGY", "gpu")
    with pytest.raises(ValueError, match="CONV_STRATEGY must be one of"):
        fast.conv2d_forward(x, kernel, bias, (1, 1), "same")


@pytest.mark.parametrize("shape, padding", sorted({(shape, padding) for shape, _, padding
                                                     in CONV_GRID}))
@pytest.mark.parametrize("step_multiple", [1, 2])
def test_wide_rows_convolution_equals_the_reference(shape, padding, step_multiple):
    x, kernel, bias, expected, _ = conv_case(shape, (1, 1), padding, seed=2)
    rows = wide_rows.conv2d(wide_rows.batch_to_planes(x), kernel, bias, padding, step_multiple)
    assert rows.step % step_multiple == 0
    close(rows.to_batch(), expected)


# (N, H, W, C, pool, strides)
POOL_GRID = [
    (2, 8, 8, 3, (2, 2), None),
    (2, 7, 9, 2, (2, 2), None),
    (3, 9, 10, 2, (3, 3), (2, 2)),  # overlapping windows
    (1, 10, 7, 2, (3, 2), (1, 2)),
    (2, 5, 6, 1, (2, 3), (3, 1)),
    (2, 6, 6, 3, (3, 3), (1, 1)),
]


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("case", POOL_GRID)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_equals_the_reference(kind, case, padding):
    n, height, width, channels, pool, strides = case
    rng = np.random.RandomState(3)
    # distinct values, and a tie in every window of the first channel (the first cell wins)
    x = rng.permutation(n * height * width * channels).reshape(n, height, width, channels) / 7.0
    x[..., 0] = np.round(x[..., 0])
    steps = pool if strides is None else strides
    forward = getattr(fast_pooling, kind + "_pool2d_forward")
    backward = getattr(fast_pooling, kind + "_pool2d_backward")
    out, cache = forward(x, pool, steps, padding)
    close(out, getattr(reference, kind + "_pool2d")(x, pool, strides, padding))
    grad = rng.standard_normal(out.shape)
    close(backward(grad, cache),
          getattr(reference, kind + "_pool2d_backward")(grad, x, pool, strides, padding))


@pytest.mark.parametrize("relu_after", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wide_rows_max_pool_equals_the_reference(relu_after, dtype):
    rng = np.random.RandomState(4)
    x = rng.standard_normal((3, 8, 6, 2)).astype(dtype)
    kernel = rng.standard_normal((3, 3, 2, 4)).astype(dtype)
    rows = wide_rows.conv2d(wide_rows.batch_to_planes(x), kernel, None, "same", step_multiple=2)
    z = reference.conv2d(x, kernel, None, (1, 1), "same")
    expected = reference.max_pool2d(reference.relu(z) if relu_after else z, (2, 2))
    close(wide_rows.max_pool(rows, (2, 2), relu_after=relu_after).to_batch(), expected, dtype)


def test_relu_formulations_equal_the_reference():
    values = np.array([-np.inf, -3.0, -1e-45, -0.0, 0.0, 1e-45, 2.5, np.inf], np.float32)
    expected = reference.relu(values)
    for relu_in_place in (fast_relu.relu_in_place, fast_relu.relu_in_place_on_bits):
        out = relu_in_place(values.copy())
        np.testing.assert_array_equal(out, expected)
        assert not np.signbit(out).any()
    grad = np.arange(8.0, dtype=np.float32)
    np.testing.assert_array_equal(fast_relu.relu_backward(grad, values, None),
                                  reference.relu_backward(grad, values))


def small_models():
    return {
        "lenet": tinycnn.models.lenet((12, 12, 1), kernel_size=3, dtype="float64"),
        "strided, average pooling, tanh": tinycnn.Sequential([
            Conv2D(3, 3, strides=2, padding="same", activation="tanh", input_shape=(13, 12, 2),
                   dtype="float64"),
            AveragePooling2D(2, padding="same", dtype="float64"),
            Conv2D(4, 2, activation="relu", dtype="float64"),
            MaxPooling2D(2, strides=1, dtype="float64"),
            Flatten(dtype="float64"),
            Dense(3, activation="softmax", dtype="float64"),
        ]),
    }


@pytest.mark.parametrize("strategy", sorted(FORMULATIONS))
@pytest.mark.parametrize("name", sorted(small_models()))
def test_model_inference_equals_the_reference(strategy, name, monkeypatch):
    """``predict`` -- with "axpy" the browser's wide-rows inference path -- against the model run
    layer by layer through the reference functions."""
    monkeypatch.setattr(fast, "CONV_STRATEGY", strategy)
    assert browser_inference.applies() == (strategy == "axpy")
    model = small_models()[name]
    x = np.random.RandomState(5).standard_normal((5,) + model.input_shape[1:])
    close(model.predict(x), reference_predict(model, x))


def test_dense_layer_equals_the_reference():
    rng = np.random.RandomState(6)
    layer = Dense(4, dtype="float64")
    layer.build((5,))
    kernel, bias = rng.standard_normal((5, 4)), rng.standard_normal(4)
    layer.set_weights([kernel, bias])
    x, grad = rng.standard_normal((3, 5)), rng.standard_normal((3, 4))
    close(layer.forward(x, training=True), reference.dense(x, kernel, bias))
    grad_x = layer.backward(grad)
    want_x, want_kernel, want_bias = reference.dense_backward(grad, x, kernel)
    close(grad_x, want_x)
    close(layer.grads[0], want_kernel)
    close(layer.grads[1], want_bias)
