"""Sliding windows: the one idea that convolution and pooling share.

A 2-D window of size ``(kh, kw)`` slides over an image ``(N, H, W, C)`` with steps ``(sh, sw)``.
This module answers three questions, for both layers:

* how big is the output, and how much padding does ``"same"`` add (:func:`output_size`)?
* what does every window hold (:func:`extract_windows`, a zero-copy view)?
* which image cells does one *kernel position* ``(i, j)`` see across all windows
  (:func:`positions`)? Looping over the ``kh * kw`` kernel positions (never over pixels or
  examples) turns pooling and the convolution's backward pass into a few whole-array operations.
* how does a gradient per window flow back to the image cells (:func:`scatter_windows`)?
"""
from __future__ import annotations

from typing import Iterator, Tuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pair = Tuple[int, int]
Padding = Tuple[Tuple[int, int], Tuple[int, int]]  # ((top, bottom), (left, right))


def output_size(in_size: int, window: int, stride: int, padding: str) -> Tuple[int, int, int]:
    """Output length along one axis and the padding added before/after it.

    Keras/TensorFlow rules:

    * ``"valid"``: no padding, ``out = floor((in - window) / stride) + 1``.
    * ``"same"``: ``out = ceil(in / stride)``; the padding needed for that is split in two, with the
      extra cell (if the total is odd) at the end, i.e. bottom/right.

    Returns
    -------
    (out, pad_before, pad_after)
    """
    if padding == "valid":
        return (in_size - window) // stride + 1, 0, 0
    out = -(-in_size // stride)  # ceiling division
    total = max((out - 1) * stride + window - in_size, 0)
    return out, total // 2, total - total // 2


def plan(shape: Tuple[int, ...], window: Pair, strides: Pair, padding: str, what: str):
    """Output ``(Ho, Wo)`` and padding ``((top, bottom), (left, right))`` for input ``shape``.

    ``shape`` is ``(N, H, W, C)``. Raises ``ValueError`` when a ``"valid"`` window is larger than
    the (unpadded) input, naming ``what`` (e.g. ``"kernel"`` or ``"pool window"``).
    """
    height, width = shape[1], shape[2]
    if padding == "valid" and (window[0] > height or window[1] > width):
        raise ValueError(
            f"the {what} {window[0]}x{window[1]} is larger than the input {height}x{width} with "
            f"padding='valid'; use a smaller {what}, a larger input, or padding='same'"
        )
    out_h, top, bottom = output_size(height, window[0], strides[0], padding)
    out_w, left, right = output_size(width, window[1], strides[1], padding)
    return (out_h, out_w), ((top, bottom), (left, right))


def pad(x: np.ndarray, padding: Padding, value: float = 0.0) -> np.ndarray:
    """Pad the rows and columns of ``x`` ``(N, H, W, C)`` with ``value``; no copy when no padding."""
    if padding == ((0, 0), (0, 0)):
        return x
    (top, bottom), (left, right) = padding
    n, height, width, channels = x.shape
    # np.full + one copy: the same as np.pad(..., constant_values=value), several times faster
    shape = (n, top + height + bottom, left + width + right, channels)
    padded = np.full(shape, value, dtype=x.dtype)
    padded[:, top : top + height, left : left + width, :] = x
    return padded


def extract_windows(x_padded: np.ndarray, window: Pair, strides: Pair, out: Pair) -> np.ndarray:
    """Every window of ``x_padded`` as a read-only view, without copying.

    Parameters
    ----------
    x_padded : (N, Hp, Wp, C) array, already padded.
    window : (kh, kw); strides : (sh, sw); out : (Ho, Wo) from :func:`plan`.

    Returns
    -------
    (N, Ho, Wo, kh, kw, C) view: ``windows[n, i, j]`` is the patch the window covers at output
    cell ``(i, j)``. Stepping one output row moves ``sh`` input rows, one kernel row moves one.
    """
    n, _, _, c = x_padded.shape
    s_n, s_h, s_w, s_c = x_padded.strides
    return as_strided(
        x_padded,
        shape=(n, out[0], out[1], window[0], window[1], c),
        strides=(s_n, s_h * strides[0], s_w * strides[1], s_h, s_w, s_c),
        writeable=False,
    )


def positions(window: Pair, strides: Pair, out: Pair) -> Iterator[Tuple[int, slice, slice]]:
    """For every kernel position ``(i, j)`` (row-major), the input cells it covers in all windows.

    Yields ``(index, rows, cols)`` with ``index = i * kw + j``: ``x_padded[:, rows, cols, :]`` is
    an ``(N, Ho, Wo, C)`` view holding, for every output cell, the input cell under kernel
    position ``(i, j)``. Example: a 2x2 window with stride 2 has four positions; position 0 sees
    the top-left cell of every window, ``x_padded[:, 0:2*Ho-1:2, 0:2*Wo-1:2, :]``.
    """
    for i in range(window[0]):
        rows = slice(i, i + strides[0] * (out[0] - 1) + 1, strides[0])
        for j in range(window[1]):
            cols = slice(j, j + strides[1] * (out[1] - 1) + 1, strides[1])
            yield i * window[1] + j, rows, cols


def overlapping(window: Pair, strides: Pair) -> bool:
    """True when neighbouring windows share cells (a stride smaller than the window)."""
    return strides[0] < window[0] or strides[1] < window[1]


def scatter_windows(grad_windows: np.ndarray, padded_shape, strides: Pair) -> np.ndarray:
    """The adjoint of :func:`extract_windows`: add each window's gradient back onto its cells.

    Parameters
    ----------
    grad_windows : (N, Ho, Wo, kh, kw, C) gradient with respect to every window's cells.
    padded_shape : (N, Hp, Wp, C) shape of the padded input.

    Returns
    -------
    (N, Hp, Wp, C) gradient with respect to the padded input. Overlapping windows add up.
    The loop runs over the ``kh * kw`` kernel positions only (never over pixels or samples).
    """
    _, out_h, out_w, k_h, k_w, _ = grad_windows.shape
    grad = np.zeros(padded_shape, dtype=grad_windows.dtype)
    for index, rows, cols in positions((k_h, k_w), strides, (out_h, out_w)):
        grad[:, rows, cols, :] += grad_windows[:, :, :, index // k_w, index % k_w, :]
    return grad


def crop(x_padded: np.ndarray, padding: Padding) -> np.ndarray:
    """Remove the padding added by :func:`pad` from ``(N, Hp, Wp, C)``."""
    (top, bottom), (left, right) = padding
    return x_padded[:, top : x_padded.shape[1] - bottom, left : x_padded.shape[2] - right, :]
