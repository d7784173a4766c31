"""The browser's inference path (tinycnn/fast/browser_inference.py, tinycnn/fast/wide_rows.py).

In the page ``Sequential.predict`` runs stride-1 convolutions, their activations and the max
pooling after them in the "wide rows" layout. Here that path is switched on natively
(``CONV_STRATEGY = "axpy"``, as in Pyodide) and checked against the same networks written with
PyTorch ops, and the integer-view ReLU / max pooling against hand-worked numbers.
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
from tinycnn import fast
from tinycnn.fast import browser_inference, relu, wide_rows
from tinycnn.layers import AveragePooling2D, Conv2D, Dense, Dropout, Flatten, MaxPooling2D

from oracles import torch_predict


@pytest.fixture
def browser_path(monkeypatch):
    """Switch the browser's formulation on and count the wide-rows convolutions it runs."""
    monkeypatch.setattr(fast, "CONV_STRATEGY", "axpy")
    calls = []
    original = wide_rows.conv2d

    def counting_conv2d(*args, **kwargs):
        calls.append(args[1].shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(wide_rows, "conv2d", counting_conv2d)
    return calls


def lenet(dtype):
    return tinycnn.models.lenet(dtype=dtype).layers  # the benchmark model, from the model zoo


MODELS = {
    # name: (layers, input shape (H, W, C), wide-rows convolutions expected)
    "lenet float32": (lambda: lenet("float32"), (28, 28, 1), 2),
    "lenet float64": (lambda: lenet("float64"), (28, 28, 1), 2),
    "valid, conv after conv, tanh": (lambda: [
        Conv2D(4, 3, activation="tanh", input_shape=(11, 13, 3)),
        Conv2D(5, (2, 4), activation="relu"),
        MaxPooling2D(2),
        Conv2D(3, 2, activation="linear"),
        Flatten(), Dense(4, activation="sigmoid")], (11, 13, 3), 3),
    "even kernels 'same', pool 3 with remainders": (lambda: [
        Conv2D(4, (4, 2), padding="same", activation="relu", input_shape=(13, 11, 3)),
        MaxPooling2D(3),
        Conv2D(6, 4, padding="same", activation="sigmoid"),
        MaxPooling2D((1, 2))], (13, 11, 3), 2),
    "rectangular pool, no bias": (lambda: [
        Conv2D(4, 3, padding="same", activation="relu", use_bias=False, input_shape=(9, 14, 2)),
        MaxPooling2D((2, 3)),
        Conv2D(2, 3, padding="same")], (9, 14, 2), 2),
    "mixed with layers it leaves alone": (lambda: [
        Conv2D(4, 3, strides=2, activation="relu", input_shape=(15, 12, 2)),  # stride 2
        Conv2D(5, 3, padding="same", activation="relu"),
        MaxPooling2D(2, strides=1),  # overlapping windows
        Conv2D(4, 3, padding="same", activation="relu"),
        MaxPooling2D(2, padding="same"),  # padded windows
        Conv2D(4, 1, activation="softmax"),  # softmax over channels
        Conv2D(3, 1, activation="relu"),
        Dropout(0.5),
        AveragePooling2D(2),
        Flatten(), Dense(3)], (15, 12, 2), 3),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("batch", [1, 5])
def test_browser_predict_matches_torch(name, batch, browser_path):
    build, shape, wide_convs = MODELS[name]
    tinycnn.utils.set_random_seed(3)
    model = tinycnn.Sequential(build())
    for weights in model.get_weights():  # non-zero biases too
        weights += np.random.default_rng(4).normal(0, 0.1, weights.shape).astype(weights.dtype)
    x = np.random.default_rng(5).random((batch,) + shape)
    assert browser_inference.applies()
    out = model.predict(x, batch_size=batch)
    assert len(browser_path) == wide_convs  # the wide-rows path really ran
    tolerance = 1e-12 if model.dtype == np.float64 else 2e-6
    np.testing.assert_allclose(out, torch_predict(model, x), rtol=tolerance, atol=tolerance)


@pytest.mark.torch
def test_browser_predict_keeps_nan_and_inf_like_torch(browser_path):
    """A NaN or infinite weight (a diverged model): the integer shortcut must not hide it."""
    tinycnn.utils.set_random_seed(0)
    model = tinycnn.Sequential([
        Conv2D(4, 3, padding="same", activation="relu", input_shape=(10, 10, 3)),
        MaxPooling2D(2)])
    model.layers[0].kernel[0, 0, 0, 1] = np.nan  # channel 1: NaN
    model.layers[0].kernel[1, 1, 1, 2] = -np.inf  # channel 2: relu(-inf) = 0, relu(+inf) = inf
    x = np.random.default_rng(1).standard_normal((3, 10, 10, 3))
    with np.errstate(invalid="ignore", over="ignore"):
        out = model.predict(x)
        expected = torch_predict(model, x)
    assert len(browser_path) == 1
    assert np.isnan(expected).any() and np.isinf(expected).any() and np.isfinite(expected).any()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    np.testing.assert_allclose(out, expected, rtol=2e-6, atol=2e-6)  # NaN == NaN here


def test_training_and_layer_outputs_keep_the_layer_by_layer_path(browser_path):
    tinycnn.utils.set_random_seed(0)
    model = tinycnn.Sequential(lenet("float32")[:2])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    model.train_on_batch(x, np.zeros((2, 14, 14, 8), np.float32))
    model.layer_outputs(x)
    assert browser_path == []
    model.predict(x)
    assert len(browser_path) == 1


def test_not_used_natively():
    assert fast.CONV_STRATEGY == "blas" and not browser_inference.applies()


# ----------------------------------------------------------------------------- hand-worked numbers
def one_row_of_windows(values, dtype=np.float32):
    """WideRows holding 2x2 windows side by side: window k is ``values[k]`` read row by row."""
    values = np.asarray(values, dtype=dtype)  # (windows, 4)
    windows = len(values)
    data = np.empty((1, 2, 2 * windows), dtype=dtype)
    data[0, 0, 0::2], data[0, 0, 1::2] = values[:, 0], values[:, 1]
    data[0, 1, 0::2], data[0, 1, 1::2] = values[:, 2], values[:, 3]
    return wide_rows.WideRows(data, images=windows, width=2, step=2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_after_max_pool_on_integer_view_is_exact(dtype):
    tiny = np.finfo(dtype).tiny / 4  # a subnormal number
    rows = one_row_of_windows([
        [-0.0, -1.0, -2.0, -3.0],     # all <= 0: +0.0
        [-5.0, 3.0, 2.0, -np.inf],    # 3
        [np.inf, 1.0, 2.0, 3.0],      # inf
        [tiny, 0.0, -0.0, -1.0],      # the subnormal
        [-tiny, -0.0, -7.5, -1e30],   # +0.0
        [0.25, 0.5, 0.125, 0.375],    # 0.5
    ], dtype)
    out = wide_rows.max_pool(rows, (2, 2), relu_after=True)
    expected = np.array([0.0, 3.0, np.inf, tiny, 0.0, 0.5], dtype=dtype)
    assert out.data.dtype == dtype and out.data.shape == (1, 1, 6)
    np.testing.assert_array_equal(out.data[0, 0], expected)
    assert not np.signbit(out.data).any()  # +0.0, never -0.0
    assert (out.images, out.width, out.step) == (6, 1, 1)


def test_max_pool_with_nan_takes_the_float_path():
    rows = one_row_of_windows([[np.nan, 1.0, 2.0, 3.0], [-1.0, -np.nan, -2.0, -3.0],
                               [-1.0, 4.0, -2.0, -3.0]])
    with np.errstate(invalid="ignore"):
        out = wide_rows.max_pool(rows, (2, 2), relu_after=True)
    assert np.isnan(out.data[0, 0, 0]) and np.isnan(out.data[0, 0, 1])
    assert out.data[0, 0, 2] == 4.0


def test_max_pool_without_relu_keeps_negative_maxima():
    rows = one_row_of_windows([[-4.0, -1.5, -2.0, -3.0], [-0.0, -1.0, -2.0, -3.0]])
    out = wide_rows.max_pool(rows, (2, 2))
    np.testing.assert_array_equal(out.data[0, 0], [-1.5, 0.0])


def test_relu_in_place_hand_worked():
    values = np.array([[[-0.0, -np.inf, 2.5, -3.0, 1e-45, np.inf]]], dtype=np.float32)
    out = relu.relu_in_place_on_bits(values.copy())
    np.testing.assert_array_equal(out[0, 0], np.array([0, 0, 2.5, 0, 1e-45, np.inf], np.float32))
    assert not np.signbit(out).any()
    with_nan = relu.relu_in_place_on_bits(np.array([[[np.nan, -1.0, 2.0]]], dtype=np.float32))
    assert np.isnan(with_nan[0, 0, 0]) and with_nan[0, 0, 1] == 0.0 and with_nan[0, 0, 2] == 2.0


def test_wide_rows_conv_hand_worked():
    """The article's window and vertical-edge kernel, two images side by side: -7 and its
    mirror image, 'valid' (a 3x3 image gives one output cell)."""
    window = np.array([[3, 1, 1], [1, 0, 7], [2, 3, 5]], dtype=np.float32)
    batch = np.stack([window, window[:, ::-1]])[..., None]  # (2, 3, 3, 1)
    kernel = np.array([[1, 0, -1]] * 3, dtype=np.float32)[:, :, None, None]
    rows = wide_rows.conv2d(wide_rows.batch_to_planes(batch), kernel, np.array([0.5], np.float32),
                            "valid")
    np.testing.assert_array_equal(rows.to_batch().ravel(), [-7 + 0.5, 7 + 0.5])


def test_max_pool_refuses_a_step_that_would_straddle_images():
    rows = wide_rows.WideRows(np.zeros((1, 2, 6), np.float32), images=2, width=3, step=3)
    with pytest.raises(ValueError, match="multiple of the pool width 2"):
        wide_rows.max_pool(rows, (2, 2))
