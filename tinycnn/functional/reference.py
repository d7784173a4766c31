"""The reference definitions: what every layer computes, written to be read.

These are the formulas of the tutorial, in plain NumPy: the loops run over the output positions
(never over examples or channels) and NumPy does the rest. They are *not* what tinycnn runs: the
public functions (:func:`tinycnn.functional.conv2d`, ...) and the layers run the faster
formulations of :mod:`tinycnn.fast`, which compute exactly the same numbers and are tested against
these functions (``tests/test_fast_vs_reference.py``) on a grid of shapes, strides and paddings.
These functions are in turn tested against PyTorch (``tests/test_reference_vs_torch.py``).

Conventions, as in Keras: channels last (batches ``(N, H, W, C)``, kernels ``(kh, kw, C, F)``,
Dense kernels ``(in, out)``), cross-correlation (the kernel is not flipped), and ``"same"``
padding puts the odd padding cell at the bottom/right. Inputs are float arrays; no input checks
(the public functions check their input).

Each forward function sits next to its backward: ``*_backward(grad_output, <the forward's
inputs>)`` turns ``dL/d(output)`` into the gradients of the forward's inputs.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import numpy as np

from .windows import output_size

IntOrPair = Union[int, Tuple[int, int]]


def _pair(value: IntOrPair) -> Tuple[int, int]:
    """``3 -> (3, 3)``; a pair stays a pair."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _pad(x: np.ndarray, window: Tuple[int, int], strides: Tuple[int, int], padding: str,
         value: float = 0.0):
    """``x`` ``(N, H, W, C)`` padded with ``value`` as Keras pads it, the output size and the
    padding ``(top, left)`` (see :func:`tinycnn.functional.output_size`)."""
    out_h, top, bottom = output_size(x.shape[1], window[0], strides[0], padding)
    out_w, left, right = output_size(x.shape[2], window[1], strides[1], padding)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), mode="constant",
                    constant_values=value)
    return padded, (out_h, out_w), (top, left)


# --8<-- [start:conv2d]
def conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid"):
    """2-D convolution (cross-correlation), one output position at a time.

    Shapes: ``x`` ``(N, H, W, C)``, ``kernel`` ``(kh, kw, C, F)``, ``bias`` ``(F,)`` or None
    -> ``out`` ``(N, Ho, Wo, F)``.

    Formula (``x`` already zero-padded)::

        out[n, i, j, f] = bias[f] + sum over (a, b, c) of
                          x[n, i*sh + a, j*sw + b, c] * kernel[a, b, c, f]

    Examples
    --------
    The article's 3x3 window and its vertical-edge kernel (one image, one channel, one filter):

    >>> x = np.array([[3, 1, 1], [1, 0, 7], [2, 3, 5]], dtype=float).reshape(1, 3, 3, 1)
    >>> kernel = np.array([[1, 0, -1]] * 3, dtype=float).reshape(3, 3, 1, 1)
    >>> conv2d(x, kernel).tolist()
    [[[[-7.0]]]]
    """
    (k_h, k_w, _, filters), (s_h, s_w) = kernel.shape, _pair(strides)
    x, (out_h, out_w), _ = _pad(x, (k_h, k_w), (s_h, s_w), padding)
    weights = kernel.reshape(-1, filters)  # (kh*kw*C, F): one column per filter
    out = np.zeros((x.shape[0], out_h, out_w, filters), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, i * s_h : i * s_h + k_h, j * s_w : j * s_w + k_w, :]  # (N, kh, kw, C)
            out[:, i, j, :] = window.reshape(len(x), -1) @ weights  # multiply and add
    if bias is not None:
        out += bias
    return out


def conv2d_backward(grad_output, x, kernel, strides=(1, 1), padding="valid"):
    """Gradients of :func:`conv2d`: ``(grad_x, grad_kernel, grad_bias)``.

    Shapes: ``grad_output`` ``(N, Ho, Wo, F)``, ``x`` ``(N, H, W, C)``, ``kernel``
    ``(kh, kw, C, F)`` -> ``grad_x`` ``(N, H, W, C)``, ``grad_kernel`` ``(kh, kw, C, F)``,
    ``grad_bias`` ``(F,)``.

    Formula: every output cell ``(i, j)`` came from one window of ``x``, so (``g`` the gradient
    at that cell, ``(N, F)``)::

        grad_kernel += window.T @ g        (summed over the examples)
        grad_window += g @ kernel.T        (added onto the cells the window covered)
        grad_bias    = g summed over every example and output cell

    Examples
    --------
    >>> x = np.arange(9, dtype=float).reshape(1, 3, 3, 1)
    >>> kernel = np.ones((2, 2, 1, 1))
    >>> grad_x, grad_kernel, grad_bias = conv2d_backward(np.ones((1, 2, 2, 1)), x, kernel)
    >>> grad_x[0, :, :, 0].tolist()      # how many windows covered each cell
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    >>> grad_kernel[:, :, 0, 0].tolist(), grad_bias.tolist()
    ([[8.0, 12.0], [20.0, 24.0]], [4.0])
    """
    (k_h, k_w, _, filters), (s_h, s_w) = kernel.shape, _pair(strides)
    x_padded, (out_h, out_w), (top, left) = _pad(x, (k_h, k_w), (s_h, s_w), padding)
    weights = kernel.reshape(-1, filters)  # (kh*kw*C, F)
    grad_padded = np.zeros_like(x_padded)
    grad_weights = np.zeros_like(weights)
    for i in range(out_h):
        for j in range(out_w):
            rows, cols = slice(i * s_h, i * s_h + k_h), slice(j * s_w, j * s_w + k_w)
            window = x_padded[:, rows, cols, :]  # (N, kh, kw, C)
            g = grad_output[:, i, j, :]  # (N, F)
            grad_weights += window.reshape(len(x), -1).T @ g
            grad_padded[:, rows, cols, :] += (g @ weights.T).reshape(window.shape)
    grad_x = grad_padded[:, top : top + x.shape[1], left : left + x.shape[2], :]
    return grad_x, grad_weights.reshape(kernel.shape), grad_output.sum(axis=(0, 1, 2))
# --8<-- [end:conv2d]


# --8<-- [start:max_pool2d]
def max_pool2d(x, pool_size=(2, 2), strides=None, padding="valid"):
    """Max pooling: the largest value of every window, channel by channel.

    Shapes: ``x`` ``(N, H, W, C)`` -> ``(N, Ho, Wo, C)``. ``strides`` defaults to
    ``pool_size``; ``"same"`` padding pads with ``-inf``, which never wins.

    Formula::

        out[n, i, j, c] = max over (a, b) of x[n, i*sh + a, j*sw + b, c]

    Examples
    --------
    >>> x = np.array([[4, 6, 1, 2], [1, 3, 0, 5], [2, 2, 7, 1], [0, 1, 3, 8]], dtype=float)
    >>> max_pool2d(x.reshape(1, 4, 4, 1))[0, :, :, 0].tolist()
    [[6.0, 5.0], [2.0, 8.0]]
    """
    (p_h, p_w) = _pair(pool_size)
    (s_h, s_w) = (p_h, p_w) if strides is None else _pair(strides)
    x, (out_h, out_w), _ = _pad(x, (p_h, p_w), (s_h, s_w), padding, value=-np.inf)
    out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, i * s_h : i * s_h + p_h, j * s_w : j * s_w + p_w, :]  # (N, ph, pw, C)
            out[:, i, j, :] = window.max(axis=(1, 2))
    return out


def max_pool2d_backward(grad_output, x, pool_size=(2, 2), strides=None, padding="valid"):
    """Gradient of :func:`max_pool2d`: each window's gradient goes to the cell that won.

    Shapes: ``grad_output`` ``(N, Ho, Wo, C)``, ``x`` ``(N, H, W, C)`` -> ``grad_x``
    ``(N, H, W, C)``. On a tie the first winning cell (row by row) takes it all, as in PyTorch;
    overlapping windows add up.

    Formula::

        grad_x[n, i*sh + a, j*sw + b, c] += grad_output[n, i, j, c]   for the winner (a, b)

    Examples
    --------
    >>> x = np.array([[4, 6, 1, 2], [1, 3, 0, 5], [2, 2, 7, 1], [0, 1, 3, 8]], dtype=float)
    >>> grad = np.array([[10, 20], [30, 40]], dtype=float).reshape(1, 2, 2, 1)
    >>> max_pool2d_backward(grad, x.reshape(1, 4, 4, 1))[0, :, :, 0].tolist()
    [[0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 0.0, 20.0], [30.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 40.0]]
    """
    (p_h, p_w) = _pair(pool_size)
    (s_h, s_w) = (p_h, p_w) if strides is None else _pair(strides)
    x_padded, (out_h, out_w), (top, left) = _pad(x, (p_h, p_w), (s_h, s_w), padding, -np.inf)
    grad_padded = np.zeros_like(x_padded)
    n, channels = x.shape[0], x.shape[3]
    for i in range(out_h):
        for j in range(out_w):
            rows, cols = slice(i * s_h, i * s_h + p_h), slice(j * s_w, j * s_w + p_w)
            window = x_padded[:, rows, cols, :].reshape(n, p_h * p_w, channels)
            winner = window.argmax(axis=1)  # (N, C): the first largest cell of each window
            won = np.arange(p_h * p_w)[None, :, None] == winner[:, None, :]  # (N, ph*pw, C)
            share = np.where(won, grad_output[:, i : i + 1, j, :], 0)
            grad_padded[:, rows, cols, :] += share.reshape(n, p_h, p_w, channels)
    return grad_padded[:, top : top + x.shape[1], left : left + x.shape[2], :]
# --8<-- [end:max_pool2d]


# --8<-- [start:avg_pool2d]
def avg_pool2d(x, pool_size=(2, 2), strides=None, padding="valid"):
    """Average pooling: the mean of every window, channel by channel.

    Shapes: ``x`` ``(N, H, W, C)`` -> ``(N, Ho, Wo, C)``. With ``"same"`` padding a window that
    hangs over the border averages its real cells only (the padding is not counted), as in Keras.

    Formula (``count`` = real cells in the window)::

        out[n, i, j, c] = (sum over (a, b) of x[n, i*sh + a, j*sw + b, c]) / count

    Examples
    --------
    >>> x = np.array([[4, 6, 1, 2], [1, 3, 0, 5], [2, 2, 7, 1], [0, 1, 3, 8]], dtype=float)
    >>> avg_pool2d(x.reshape(1, 4, 4, 1))[0, :, :, 0].tolist()
    [[3.5, 2.0], [1.25, 4.75]]
    """
    (p_h, p_w) = _pair(pool_size)
    (s_h, s_w) = (p_h, p_w) if strides is None else _pair(strides)
    x_padded, (out_h, out_w), _ = _pad(x, (p_h, p_w), (s_h, s_w), padding)
    real, _, _ = _pad(np.ones_like(x[:1, :, :, :1]), (p_h, p_w), (s_h, s_w), padding)  # 1 or 0
    out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            rows, cols = slice(i * s_h, i * s_h + p_h), slice(j * s_w, j * s_w + p_w)
            count = real[0, rows, cols, 0].sum()
            out[:, i, j, :] = x_padded[:, rows, cols, :].sum(axis=(1, 2)) / count
    return out


def avg_pool2d_backward(grad_output, x, pool_size=(2, 2), strides=None, padding="valid"):
    """Gradient of :func:`avg_pool2d`: each window's gradient is shared equally by its real cells.

    Shapes: ``grad_output`` ``(N, Ho, Wo, C)``, ``x`` ``(N, H, W, C)`` -> ``grad_x``
    ``(N, H, W, C)``; overlapping windows add up.

    Formula::

        grad_x[n, i*sh + a, j*sw + b, c] += grad_output[n, i, j, c] / count

    Examples
    --------
    >>> grad = np.array([[4, 8]], dtype=float).reshape(1, 1, 2, 1)
    >>> avg_pool2d_backward(grad, np.zeros((1, 2, 4, 1)))[0, :, :, 0].tolist()
    [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]
    """
    (p_h, p_w) = _pair(pool_size)
    (s_h, s_w) = (p_h, p_w) if strides is None else _pair(strides)
    real, (out_h, out_w), (top, left) = _pad(np.ones_like(x[:1, :, :, :1]), (p_h, p_w),
                                             (s_h, s_w), padding)  # 1 on real cells, 0 on padding
    grad_padded = np.zeros((x.shape[0],) + real.shape[1:3] + (x.shape[3],), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            rows, cols = slice(i * s_h, i * s_h + p_h), slice(j * s_w, j * s_w + p_w)
            count = real[0, rows, cols, 0].sum()
            grad_padded[:, rows, cols, :] += grad_output[:, i : i + 1, j : j + 1, :] / count
    return grad_padded[:, top : top + x.shape[1], left : left + x.shape[2], :]
# --8<-- [end:avg_pool2d]


# --8<-- [start:flatten]
def flatten(x):
    """One feature vector per example: ``(N, d1, d2, ...)`` -> ``(N, d1*d2*...)``, row-major
    (for ``(N, H, W, C)`` the channels of one cell stay together, as in Keras).

    Examples
    --------
    >>> flatten(np.arange(8.0).reshape(2, 2, 2, 1)).tolist()
    [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]
    """
    return x.reshape(len(x), -1)


def flatten_backward(grad_output, x):
    """Gradient of :func:`flatten`: the same numbers, back in the input's shape.

    Examples
    --------
    >>> flatten_backward(np.ones((2, 4)), np.zeros((2, 2, 2, 1))).shape
    (2, 2, 2, 1)
    """
    return grad_output.reshape(x.shape)
# --8<-- [end:flatten]


# --8<-- [start:dense]
def dense(x, kernel, bias=None):
    """Fully connected layer: every output is a weighted sum of every input, plus a bias.

    Shapes: ``x`` ``(N, in)``, ``kernel`` ``(in, out)``, ``bias`` ``(out,)`` or None ->
    ``(N, out)``.

    Formula::

        out[n, k] = bias[k] + sum over i of x[n, i] * kernel[i, k]

    Examples
    --------
    >>> dense(np.array([[1.0, 2.0]]), np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0.0, 1.0]))
    array([[2., 4.]])
    """
    out = x @ kernel
    if bias is not None:
        out = out + bias
    return out


def dense_backward(grad_output, x, kernel):
    """Gradients of :func:`dense`: ``(grad_x, grad_kernel, grad_bias)``.

    Shapes: ``grad_output`` ``(N, out)``, ``x`` ``(N, in)``, ``kernel`` ``(in, out)`` ->
    ``(N, in)``, ``(in, out)``, ``(out,)``.

    Formula::

        grad_x = grad_output @ kernel.T    grad_kernel = x.T @ grad_output
        grad_bias = grad_output summed over the examples

    Examples
    --------
    >>> grad_x, grad_kernel, grad_bias = dense_backward(
    ...     np.array([[1.0, 0.0]]), np.array([[1.0, 2.0]]), np.array([[1.0, -1.0], [0.5, 2.0]]))
    >>> grad_x.tolist(), grad_kernel.tolist(), grad_bias.tolist()
    ([[1.0, 0.5]], [[1.0, 0.0], [2.0, 0.0]], [1.0, 0.0])
    """
    return grad_output @ kernel.T, x.T @ grad_output, grad_output.sum(axis=0)
# --8<-- [end:dense]


# --8<-- [start:relu]
def relu(x):
    """Rectified linear unit, element-wise: ``max(x, 0)``. Any shape.

    Examples
    --------
    >>> relu(np.array([-2.0, 0.0, 3.0])).tolist()
    [0.0, 0.0, 3.0]
    """
    return np.where(x > 0, x, 0.0).astype(x.dtype)


def relu_backward(grad_output, x):
    """Gradient of :func:`relu`: slope 1 where the input was positive, else exactly 0.

    Examples
    --------
    >>> relu_backward(np.array([5.0, 5.0, 5.0]), np.array([-2.0, 0.0, 3.0])).tolist()
    [0.0, 0.0, 5.0]
    """
    return np.where(x > 0, grad_output, 0.0).astype(grad_output.dtype)
# --8<-- [end:relu]


# --8<-- [start:softmax]
def softmax(z):
    """Scores ``(N, K)`` -> probabilities ``(N, K)``: ``exp(z) / sum(exp(z))`` along each row.

    Subtracting the row's maximum first changes nothing but keeps ``exp`` from overflowing.

    Examples
    --------
    >>> softmax(np.array([[0.0, np.log(3.0)]])).round(6).tolist()
    [[0.25, 0.75]]
    """
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(z, y):
    """The mean cross-entropy of ``softmax(z)`` ``(N, K)`` against one-hot labels ``y``
    ``(N, K)``: ``-mean over n of log(softmax(z)[n, label of n])``, a number.

    Examples
    --------
    >>> round(float(softmax_cross_entropy(np.array([[0.0, np.log(3.0)]]), np.array([[0, 1]]))), 6)
    0.287682
    """
    return -np.mean(np.sum(y * np.log(softmax(z)), axis=1))


def softmax_cross_entropy_backward(z, y):
    """Gradient of :func:`softmax_cross_entropy` with respect to the scores ``z``:
    ``(softmax(z) - y) / N``, ``(N, K)``.

    Examples
    --------
    >>> softmax_cross_entropy_backward(np.array([[0.0, np.log(3.0)]]), np.array([[0, 1]])).round(6).tolist()
    [[0.25, -0.25]]
    """
    return (softmax(z) - y) / len(z)
# --8<-- [end:softmax]
