"""Independent oracles shared by the test files: PyTorch translations of tinycnn's layers and
models, whole models run through the plain NumPy reference (tinycnn.functional.reference), and
the bad-input check (the error must come from tinycnn's own source, naming the problem).

Test files import from here (``from oracles import ...``), never from one another. PyTorch is
optional: under Python 3.8 + NumPy 1.17 (no torch) the torch helpers exist but cannot run, and
the tests that call them are marked ``torch`` (deselected there).
"""
from __future__ import annotations

import os
import traceback

import numpy as np
import pytest

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # Python 3.8 + NumPy 1.17 runs
    torch = TF = None

import tinycnn
from tinycnn.functional import reference
from tinycnn.layers import Activation, AveragePooling2D, Conv2D
from tinycnn.layers import Dense, Dropout, Flatten, MaxPooling2D


# ----------------------------------------------------------------------------- cases
CONV_CASES = [
    # (N, H, W, C, F, kernel, strides, padding)
    (2, 7, 7, 1, 3, (3, 3), (1, 1), "valid"),
    (3, 8, 9, 2, 4, (3, 2), (1, 1), "same"),
    (2, 9, 8, 3, 5, (4, 4), (2, 2), "same"),  # even kernel: asymmetric padding
    (1, 10, 11, 4, 2, (5, 3), (3, 2), "same"),
    (2, 11, 10, 3, 6, (3, 5), (2, 3), "valid"),
    (4, 6, 6, 8, 16, (5, 5), (1, 1), "same"),
    (2, 5, 5, 2, 3, (5, 5), (1, 1), "valid"),  # kernel as large as the input: one output cell
    (1, 13, 7, 1, 1, (2, 2), (3, 3), "same"),
    (3, 4, 1, 2, 3, (5, 5), (1, 1), "same"),  # image narrower than the padding on one side
    (2, 2, 3, 1, 2, (4, 6), (1, 1), "same"),  # even kernel wider than the image
    (3, 3, 2, 2, 2, (3, 7), (1, 1), "same"),  # kernel reaching past the image on both sides
]


POOL_CASES = [
    # (N, H, W, C, pool, strides, padding)
    (2, 8, 8, 3, (2, 2), None, "valid"),
    (2, 7, 9, 2, (2, 2), None, "valid"),  # odd sizes: the last row/col is dropped
    (2, 7, 9, 2, (2, 2), None, "same"),  # ... or padded (bottom/right)
    (3, 9, 10, 4, (3, 3), (2, 2), "same"),  # overlapping windows
    (1, 10, 7, 2, (3, 2), (1, 2), "valid"),
    (2, 5, 6, 1, (2, 3), (3, 1), "same"),
    (2, 6, 6, 5, (3, 3), (1, 1), "same"),
]


# ----------------------------------------------------------------------------- PyTorch
def to_nchw(x: np.ndarray, grad: bool = False) -> "torch.Tensor":
    t = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), dtype=torch.float64)
    return t.requires_grad_(grad)


def from_nchw(t: "torch.Tensor") -> np.ndarray:
    return t.detach().numpy().transpose(0, 2, 3, 1)


def tf_same_pads(size: int, window: int, stride: int):
    """Keras/TensorFlow 'same' padding along one axis: (before, after), extra cell after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def torch_pad(t, window, strides, padding, value=0.0):
    """Pad an NCHW tensor the TF way (no-op for 'valid')."""
    if padding == "valid":
        return t
    top, bottom = tf_same_pads(t.shape[2], window[0], strides[0])
    left, right = tf_same_pads(t.shape[3], window[1], strides[1])
    return TF.pad(t, (left, right, top, bottom), value=value)


def close(actual, expected, rtol=1e-9, atol=1e-10):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)


def torch_max_pool(tx, pool, strides, padding):
    return TF.max_pool2d(torch_pad(tx, pool, strides, padding, value=-np.inf), pool, strides)


def torch_avg_pool(tx, pool, strides, padding):
    """Average of the *real* cells of each window: window sums of x over window sums of ones."""
    ones = torch.ones_like(tx)
    sums = TF.avg_pool2d(torch_pad(tx, pool, strides, padding), pool, strides, divisor_override=1)
    counts = TF.avg_pool2d(torch_pad(ones, pool, strides, padding), pool, strides,
                           divisor_override=1)
    return sums / counts


TORCH_ACTIVATIONS = {
    "relu": lambda z: torch.relu(z),
    "sigmoid": lambda z: torch.sigmoid(z),
    "tanh": lambda z: torch.tanh(z),
    "softmax": lambda z: torch.softmax(z, dim=-1),  # channels-last arrays and (N, K)
    "linear": lambda z: z,
    None: lambda z: z,
}


def torch_predict(model, x: np.ndarray) -> np.ndarray:
    """The model's layers written with PyTorch ops on NCHW float64 tensors."""
    h = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), dtype=torch.float64)
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            kernel = torch.tensor(layer.kernel.transpose(3, 2, 0, 1).astype(np.float64))
            bias = None if layer.bias is None else torch.tensor(layer.bias.astype(np.float64))
            h = TF.conv2d(torch_pad(h, layer.kernel_size, layer.strides, layer.padding), kernel,
                          bias, stride=layer.strides)
            name = layer.activation.name  # NCHW: the channels are axis 1
            h = torch.softmax(h, dim=1) if name == "softmax" else TORCH_ACTIVATIONS[name](h)
        elif isinstance(layer, MaxPooling2D):
            h = torch_max_pool(h, layer.pool_size, layer.strides, layer.padding)
        elif isinstance(layer, AveragePooling2D):
            h = torch_avg_pool(h, layer.pool_size, layer.strides, layer.padding)
        elif isinstance(layer, Flatten):
            h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
        elif isinstance(layer, Dense):
            h = TF.linear(h, torch.tensor(layer.kernel.T.astype(np.float64)),
                          torch.tensor(layer.bias.astype(np.float64)))
            h = TORCH_ACTIVATIONS[layer.activation.name](h)
        elif not isinstance(layer, Dropout):  # Dropout: identity at inference
            raise AssertionError(f"no torch translation for {layer!r}")
    out = h.numpy()
    return out.transpose(0, 2, 3, 1) if out.ndim == 4 else out


# ----------------------------------------------------------------------------- NumPy reference
REFERENCE_ACTIVATIONS = {
    "relu": reference.relu,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "linear": lambda z: z,
    "softmax": reference.softmax,
}


def reference_predict(model, x: np.ndarray) -> np.ndarray:
    """The model's inference output computed layer by layer with
    :mod:`tinycnn.functional.reference` (float64), from the model's weights."""
    h = np.asarray(x, dtype=np.float64)
    for layer in model.layers:
        weights = [w.astype(np.float64) for w in layer.get_weights()]
        if isinstance(layer, Conv2D):
            h = reference.conv2d(h, weights[0], weights[1] if layer.use_bias else None,
                                 layer.strides, layer.padding)
        elif isinstance(layer, MaxPooling2D):
            h = reference.max_pool2d(h, layer.pool_size, layer.strides, layer.padding)
        elif isinstance(layer, AveragePooling2D):
            h = reference.avg_pool2d(h, layer.pool_size, layer.strides, layer.padding)
        elif isinstance(layer, Flatten):
            h = reference.flatten(h)
        elif isinstance(layer, Dense):
            h = reference.dense(h, weights[0], weights[1] if layer.use_bias else None)
        elif not isinstance(layer, (Dropout, Activation)):  # Dropout: identity at inference
            raise AssertionError(f"no reference translation for {layer!r}")
        if isinstance(layer, (Conv2D, Dense, Activation)):
            h = REFERENCE_ACTIVATIONS[layer.activation.name](h)
    return h


# ----------------------------------------------------------------------------- bad input
TINYCNN_DIR = os.path.dirname(tinycnn.__file__)


def raises_from_tinycnn(error_types, call, *words):
    """Run ``call``; it must raise one of ``error_types`` from a frame inside tinycnn's source
    (not from NumPy), and the message must contain every one of ``words`` (case-insensitive)."""
    with pytest.raises(error_types) as info:
        call()
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert frame.filename.startswith(TINYCNN_DIR), (
        f"{type(info.value).__name__} came from {frame.filename}, not from tinycnn: {info.value}")
    message = str(info.value).lower()
    for word in words:
        assert word.lower() in message, f"{word!r} not in message: {info.value}"
    return info.value


#: What tinycnn raises for bad input.
BAD = (ValueError, TypeError)


class Evil:
    """Unpickling this would run a command: load_weights must never unpickle."""

    def __reduce__(self):
        return (os.system, ("echo unpickled > " + os.environ.get("TINYCNN_PWNED", "/dev/null"),))
