"""Pooling as tinycnn runs it, natively and in the browser: whole image rows at a time.

Computes exactly :func:`tinycnn.functional.reference.max_pool2d`,
:func:`~tinycnn.functional.reference.avg_pool2d` and their backward passes
(``tests/test_fast_vs_reference.py``), looping over the window's cells instead of the output
positions. (The browser's inference path pools in its own layout:
:func:`tinycnn.fast.wide_rows.max_pool`.)
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple, Union

import numpy as np

from ..functional import windows
from .platform import keep_where


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
