"""Pooling: summarise each window of a feature map by one number.

* max pooling keeps the largest value of each window (and, going backward, sends the gradient
  only to the cell that won);
* average pooling keeps the mean (and shares the gradient equally among the window's cells).

Pooling works on every channel separately and has no weights. ``strides`` defaults to the window
size, so the windows tile the map without overlapping, as in the article's 2x2 example.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple, Union

import numpy as np

from .._checks import IntOrPair, as_pair, check_padding
from . import windows
from ._platform import keep_where
from .shapes import from_batch, to_batch


class PoolCache(NamedTuple):
    """What the pooling backward passes need from the forward pass."""

    window: windows.Pair
    strides: windows.Pair
    padding: windows.Padding
    padded_shape: Tuple[int, int, int, int]
    x_padded: Optional[np.ndarray]  # max pooling: the (padded) input, to find each window's winner
    out: Optional[np.ndarray]  # max pooling: (N, Ho, Wo, C) the maxima
    counts: Union[np.ndarray, float, None]  # average pooling: real (unpadded) cells per window


# How pooling is computed: instead of copying every window out (kh*kw copies of the image),
# loop over the window's kh rows and then its kw columns (never over pixels or examples).
# The max (or sum) of a window is the max (or sum) over its columns of the max (or sum) over its
# rows, so _reduce_windows first combines the kh rows of every window -- whole image rows at a
# time, long contiguous runs that NumPy handles fast -- then the kw columns of the result.
# Going backward, windows.positions gives for each kernel position (i, j) the view
# x_padded[:, rows, cols, :] of shape (N, Ho, Wo, C): the cell under (i, j) of every window.


def _reduce_windows(ufunc, x_padded: np.ndarray, window, strides, out_hw) -> np.ndarray:
    """``ufunc`` (``np.maximum`` or ``np.add``) over every window of ``x_padded`` (N, Hp, Wp, C).

    Returns a new ``(N, Ho, Wo, C)`` array.
    """
    result = x_padded
    for axis, size, step, count in ((1, window[0], strides[0], out_hw[0]),
                                    (2, window[1], strides[1], out_hw[1])):
        index = [slice(None)] * 4
        parts = []  # along `axis`: cell `offset` of every window
        for offset in range(size):
            index[axis] = slice(offset, offset + step * (count - 1) + 1, step)
            parts.append(result[tuple(index)])
        result = parts[0].copy() if size == 1 else ufunc(parts[0], parts[1])
        for part in parts[2:]:
            ufunc(result, part, out=result)
    return result


def max_pool2d_forward(x: np.ndarray, window, strides, padding: str):
    """Max pooling of a batch ``(N, H, W, C)`` -> ``((N, Ho, Wo, C), PoolCache)``, no checks."""
    out_hw, pads = windows.plan(x.shape, window, strides, padding, "pool window")
    x_padded = windows.pad(x, pads, value=-np.inf)  # padding never wins a max
    out = _reduce_windows(np.maximum, x_padded, window, strides, out_hw)
    return out, PoolCache(window, strides, pads, x_padded.shape, x_padded, out, None)


def max_pool2d_backward(grad_output: np.ndarray, cache: PoolCache) -> np.ndarray:
    """``dL/d(out)`` ``(N, Ho, Wo, C)`` -> ``dL/dx`` ``(N, H, W, C)``: all to each window's winner.

    The winner is the first cell (row-major) holding the window's maximum, as in PyTorch: a tie
    sends the whole gradient to one cell, not to every tied cell.
    """
    grad_padded = np.zeros(cache.padded_shape, dtype=grad_output.dtype)
    add = windows.overlapping(cache.window, cache.strides)
    last = cache.window[0] * cache.window[1] - 1
    taken = None  # windows whose winner is already found
    for index, rows, cols in windows.positions(cache.window, cache.strides, grad_output.shape[1:3]):
        wins = cache.x_padded[:, rows, cols, :] == cache.out
        if taken is None:
            taken = wins.copy()
        else:
            np.greater(wins, taken, out=wins)  # wins and not taken: on a tie the earlier cell won
            if index < last:
                taken |= wins
        target = grad_padded[:, rows, cols, :]
        if add:  # windows overlap: a cell can win several windows
            target += grad_output * wins
        else:  # each cell is in one window only: write straight into place
            keep_where(wins, grad_output, out=target)
    return windows.crop(grad_padded, cache.padding)


def avg_pool2d_forward(x: np.ndarray, window, strides, padding: str):
    """Average pooling of ``(N, H, W, C)`` -> ``((N, Ho, Wo, C), PoolCache)``, no checks.

    With ``padding="same"`` a window that hangs over the border averages only its real cells
    (the padding is not counted), as in Keras/TensorFlow.
    """
    out_hw, pads = windows.plan(x.shape, window, strides, padding, "pool window")
    x_padded = windows.pad(x, pads)
    sums = _reduce_windows(np.add, x_padded, window, strides, out_hw)
    if pads == ((0, 0), (0, 0)):
        counts = float(window[0] * window[1])  # every window is full
    else:  # count the real cells of each window: the same window sums over an image of ones
        ones = windows.pad(np.ones((1,) + x.shape[1:3] + (1,), dtype=x.dtype), pads)
        counts = windows.extract_windows(ones, window, strides, out_hw).sum(axis=(3, 4))
    sums /= counts
    return sums, PoolCache(window, strides, pads, x_padded.shape, None, None, counts)


def avg_pool2d_backward(grad_output: np.ndarray, cache: PoolCache) -> np.ndarray:
    """``dL/d(out)`` -> ``dL/dx``: each window's gradient shared equally by its real cells."""
    share = grad_output / cache.counts  # (N, Ho, Wo, C)
    grad_padded = np.zeros(cache.padded_shape, dtype=grad_output.dtype)
    add = windows.overlapping(cache.window, cache.strides)
    for index, rows, cols in windows.positions(cache.window, cache.strides, grad_output.shape[1:3]):
        if add:
            grad_padded[:, rows, cols, :] += share
        else:
            grad_padded[:, rows, cols, :] = share
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
