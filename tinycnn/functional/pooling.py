"""Pooling: summarise each window of a feature map by one number.

* max pooling keeps the largest value of each window (and, going backward, sends the gradient
  only to the cell that won);
* average pooling keeps the mean (and shares the gradient equally among the window's cells).

Pooling works on every channel separately and has no weights. ``strides`` defaults to the window
size, so the windows tile the map without overlapping, as in the article's 2x2 example.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np

from .._checks import IntOrPair, as_pair, check_padding
from . import windows
from .shapes import from_batch, to_batch


class PoolCache(NamedTuple):
    """What the pooling backward passes need from the forward pass."""

    window: windows.Pair
    strides: windows.Pair
    padding: windows.Padding
    padded_shape: Tuple[int, int, int, int]
    winners: Optional[np.ndarray]  # max pooling: (N, Ho, Wo, 1, C) index of the max in each window
    counts: Optional[np.ndarray]  # average pooling: (1, Ho, Wo, 1) real (unpadded) cells per window


def max_pool2d_forward(x: np.ndarray, window, strides, padding: str):
    """Max pooling of a batch ``(N, H, W, C)`` -> ``((N, Ho, Wo, C), PoolCache)``, no checks."""
    out_hw, pads = windows.plan(x.shape, window, strides, padding, "pool window")
    x_padded = windows.pad(x, pads, value=-np.inf)  # padding never wins a max
    patches = windows.extract_windows(x_padded, window, strides, out_hw)
    n, out_h, out_w, k_h, k_w, c = patches.shape
    flat = patches.reshape(n, out_h, out_w, k_h * k_w, c)  # window cells along axis 3
    winners = flat.argmax(axis=3)[:, :, :, None, :]  # first maximum, like PyTorch
    out = np.take_along_axis(flat, winners, axis=3)[:, :, :, 0, :]
    return out, PoolCache(window, strides, pads, x_padded.shape, winners, None)


def max_pool2d_backward(grad_output: np.ndarray, cache: PoolCache) -> np.ndarray:
    """``dL/d(out)`` ``(N, Ho, Wo, C)`` -> ``dL/dx`` ``(N, H, W, C)``: all to each window's winner."""
    n, out_h, out_w, c = grad_output.shape
    k_h, k_w = cache.window
    grad_flat = np.zeros((n, out_h, out_w, k_h * k_w, c), dtype=grad_output.dtype)
    np.put_along_axis(grad_flat, cache.winners, grad_output[:, :, :, None, :], axis=3)
    grad_windows = grad_flat.reshape(n, out_h, out_w, k_h, k_w, c)
    grad_padded = windows.scatter_windows(grad_windows, cache.padded_shape, cache.strides)
    return windows.crop(grad_padded, cache.padding)


def avg_pool2d_forward(x: np.ndarray, window, strides, padding: str):
    """Average pooling of ``(N, H, W, C)`` -> ``((N, Ho, Wo, C), PoolCache)``, no checks.

    With ``padding="same"`` a window that hangs over the border averages only its real cells
    (the padding is not counted), as in Keras/TensorFlow.
    """
    out_hw, pads = windows.plan(x.shape, window, strides, padding, "pool window")
    sums = windows.extract_windows(windows.pad(x, pads), window, strides, out_hw).sum(axis=(3, 4))
    ones = windows.pad(np.ones((1,) + x.shape[1:3] + (1,), dtype=x.dtype), pads)
    counts = windows.extract_windows(ones, window, strides, out_hw).sum(axis=(3, 4))
    padded_shape = (x.shape[0], ones.shape[1], ones.shape[2], x.shape[3])
    return sums / counts, PoolCache(window, strides, pads, padded_shape, None, counts)


def avg_pool2d_backward(grad_output: np.ndarray, cache: PoolCache) -> np.ndarray:
    """``dL/d(out)`` -> ``dL/dx``: each window's gradient shared equally by its real cells."""
    n, out_h, out_w, c = grad_output.shape
    share = (grad_output / cache.counts)[:, :, :, None, None, :]
    grad_windows = np.broadcast_to(share, (n, out_h, out_w) + cache.window + (c,))
    grad_padded = windows.scatter_windows(grad_windows, cache.padded_shape, cache.strides)
    return windows.crop(grad_padded, cache.padding)


def _pool(forward, x, pool_size, strides, padding):
    batch, rank = to_batch(x, "x")
    window = as_pair(pool_size, "pool_size")
    steps = window if strides is None else as_pair(strides, "strides")
    out, _ = forward(batch, window, steps, check_padding(padding))
    return from_batch(out, rank)


def max_pool2d(
    x, pool_size: IntOrPair = 2, strides: Optional[IntOrPair] = None, padding: str = "valid"
) -> np.ndarray:
    """Max pooling: the largest value of each window.

    Parameters
    ----------
    x : array
        A matrix ``(H, W)``, an image ``(H, W, C)`` or a batch ``(N, H, W, C)``.
    pool_size : int or (int, int)
        Window size. Default 2 (a 2x2 window).
    strides : int or (int, int), optional
        Step of the window; defaults to ``pool_size`` (windows do not overlap).
    padding : ``"valid"`` or ``"same"``
        As in :func:`tinycnn.functional.conv2d`; padded cells never win.

    Returns
    -------
    array of the same rank as ``x``: ``(Ho, Wo)``, ``(Ho, Wo, C)`` or ``(N, Ho, Wo, C)``.

    Examples
    --------
    >>> max_pool2d([[4, 6, 1, 2], [1, 3, 0, 5], [2, 2, 7, 1], [0, 1, 3, 8]])
    array([[6., 5.],
           [2., 8.]], dtype=float32)
    """
    return _pool(max_pool2d_forward, x, pool_size, strides, padding)


def avg_pool2d(
    x, pool_size: IntOrPair = 2, strides: Optional[IntOrPair] = None, padding: str = "valid"
) -> np.ndarray:
    """Average pooling: the mean of each window (same arguments as :func:`max_pool2d`).

    With ``padding="same"`` only the real (unpadded) cells of a border window are averaged.

    Examples
    --------
    >>> avg_pool2d([[4, 6, 1, 2], [1, 3, 0, 5], [2, 2, 7, 1], [0, 1, 3, 8]])
    array([[3.5 , 2.  ],
           [1.25, 4.75]], dtype=float32)
    """
    return _pool(avg_pool2d_forward, x, pool_size, strides, padding)
