"""The native convolution: "im2col" and one BLAS matrix product (``CONV_STRATEGY == "blas"``).

Computes exactly :func:`tinycnn.functional.reference.conv2d` and
:func:`~tinycnn.functional.reference.conv2d_backward` (``tests/test_fast_vs_reference.py``).

Forward: every window the kernel visits is unrolled into one row of a matrix ``columns``
``(N*Ho*Wo, kh*kw*C)``; then a single matrix product with the kernel, reshaped to
``(kh*kw*C, filters)``, computes every output cell of every filter at once. (For one input
channel the same matrix is built transposed, one row per kernel position, which NumPy copies
much faster; see :func:`_columns`.) With a bias, ``columns`` gets a last column of ones, so that
the same product adds the bias.

Backward: the kernel's gradient is ``columns.T @ grad``; the input's gradient collects the
contributions of every window that covered a cell, computed one kernel row at a time (a loop of
``kh`` steps, never over pixels or examples), as a sliding window over the gradient with the
kernel row reversed: see :func:`_input_gradient`.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np

from ..functional import windows
from .relu import relu_in_place


class Im2colCache(NamedTuple):
    """What :func:`conv2d_backward` needs from :func:`conv2d_forward`."""

    columns: np.ndarray  # (N*Ho*Wo, kh*kw*C [+ 1]) every window, one per row -- or its transpose
    transposed: bool  # True: columns is (kh*kw*C [+ 1], N*Ho*Wo) (one input channel)
    with_bias: bool  # True: columns ends with a column (or row) of ones, the bias's input
    kernel: np.ndarray  # (kh, kw, C, F)
    padded_shape: Tuple[int, int, int, int]  # (N, Hp, Wp, C)
    padding: windows.Padding
    strides: windows.Pair
    out_shape: Tuple[int, int, int, int]  # (N, Ho, Wo, F)


def _columns(x_padded: np.ndarray, window: windows.Pair, strides: windows.Pair,
             out_hw: windows.Pair, ones: bool) -> Tuple[np.ndarray, bool]:
    """The im2col matrix of ``x_padded`` ``(N, Hp, Wp, C)``: ``(columns, transposed)``.

    Normally ``columns`` is ``(N*Ho*Wo, kh*kw*C)``: row ``r`` holds the window of output cell
    ``r``. Built by one copy of the zero-copy window view. With ``ones`` a last column of ones
    is appended: the input that the bias multiplies, so that the matrix product adds the bias.

    With a single input channel that copy would move one number at a time, so the matrix is
    built transposed instead, ``(kh*kw [+ 1], N*Ho*Wo)``: row ``p`` holds what kernel position
    ``p`` sees in every window, i.e. one contiguous block copy per kernel position.
    """
    n, _, _, channels = x_padded.shape
    size = window[0] * window[1] * channels  # numbers in one window
    ones = 1 if ones else 0
    if channels == 1:
        columns = np.empty((size + ones, n) + tuple(out_hw), dtype=x_padded.dtype)
        columns[size:] = 1
        # the same windows view, axes reordered (kh, kw, N, Ho, Wo): one copy
        patches = windows.extract_windows(x_padded, window, strides, out_hw)[..., 0]
        columns[:size].reshape(tuple(window) + (n,) + tuple(out_hw))[...] = \
            patches.transpose(3, 4, 0, 1, 2)
        return columns.reshape(size + ones, -1), True
    columns = np.empty((n * out_hw[0] * out_hw[1], size + ones), dtype=x_padded.dtype)
    columns[:, size:] = 1
    # the one copy: every window into its row (a view of the first `size` columns, as 6-D)
    rows_view = columns[:, :size].reshape((n,) + tuple(out_hw) + tuple(window) + (channels,))
    rows_view[...] = windows.extract_windows(x_padded, window, strides, out_hw)
    return columns, False


def conv2d_forward(x: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray],
                   strides: windows.Pair, padding: str,
                   relu: bool = False) -> Tuple[np.ndarray, Im2colCache]:
    """``(out, cache)``: ``out`` ``(N, Ho, Wo, F)`` as :func:`tinycnn.fast.conv2d_forward`."""
    k_h, k_w, channels, filters = kernel.shape
    (out_h, out_w), pads = windows.plan(x.shape, (k_h, k_w), strides, padding, "kernel")
    x_padded = windows.pad(x, pads)
    with_bias = bias is not None
    columns, transposed = _columns(x_padded, (k_h, k_w), strides, (out_h, out_w), with_bias)
    kernel_matrix = kernel.reshape(-1, filters)  # (kh*kw*C, F)
    if with_bias:  # the bias is the weight of an extra input that is always 1 (the ones column)
        kernel_matrix = np.concatenate([kernel_matrix, bias[None, :]])  # (kh*kw*C + 1, F)
    out = (columns.T if transposed else columns) @ kernel_matrix  # (N*Ho*Wo, F)
    out_shape = (x.shape[0], out_h, out_w, filters)
    cache = Im2colCache(columns, transposed, with_bias, kernel, x_padded.shape, pads, strides,
                        out_shape)
    out = out.reshape(out_shape)
    return (relu_in_place(out) if relu else out), cache


def conv2d_backward(grad_output: np.ndarray, cache: Im2colCache, input_gradient: bool = True
                    ) -> Tuple[Optional[np.ndarray], np.ndarray, np.ndarray]:
    """``(grad_x, grad_kernel, grad_bias)`` as :func:`tinycnn.fast.conv2d_backward`."""
    k_h, k_w, channels, filters = cache.kernel.shape
    grad_rows = grad_output.reshape(-1, filters)  # (N*Ho*Wo, F)
    size = k_h * k_w * channels
    # every window times the gradient at its output cell, summed: columns.T @ grad_rows, written
    # so that BLAS reads both matrices row by row (measured ~1.5x faster than a transposed read)
    if cache.transposed:
        grad_weights = cache.columns @ grad_rows  # (kh*kw [+ 1], F) for one input channel
    else:
        grad_weights = (grad_rows.T @ cache.columns).T  # (kh*kw*C [+ 1], F)
    grad_kernel = grad_weights[:size].reshape(cache.kernel.shape)
    if cache.with_bias:  # the ones column's row: the gradient summed over every output cell
        grad_bias = np.ascontiguousarray(grad_weights[size])
    else:  # grad_rows.sum(axis=0), as a product with ones: NumPy's column sum is ~15x slower here
        grad_bias = np.ones(len(grad_rows), dtype=grad_rows.dtype) @ grad_rows
    if not input_gradient:
        return None, grad_kernel, grad_bias
    grad_padded = _input_gradient(grad_rows.reshape(cache.out_shape), cache.kernel,
                                  cache.padded_shape, cache.strides)
    return windows.crop(grad_padded, cache.padding), grad_kernel, grad_bias


def _input_gradient(grad_output: np.ndarray, kernel: np.ndarray, padded_shape,
                    strides: windows.Pair) -> np.ndarray:
    """``dL/d(x_padded)`` ``(N, Hp, Wp, C)`` from ``dL/d(out)`` ``(N, Ho, Wo, F)``, one kernel row
    at a time (a loop of ``kh`` steps).

    Kernel row ``i`` links output row ``h`` to input row ``h*sh + i``. Along the width, output
    cell ``w`` reaches the ``kw`` input cells ``w*sw + j``: seen from an input cell, that is a
    sliding window again, over the gradient row (spaced out by ``sw`` and zero-padded by
    ``kw - 1`` on both sides) with the kernel row reversed. So: cut the gradient rows into
    width windows once, ``(N*Ho*span, kw*F)``, then for each kernel row ``i`` one matrix product
    with that row reversed, ``(kw*F, C)``, gives what the input row ``h*sh + i`` receives.
    """
    k_h, k_w, channels, filters = kernel.shape
    n, out_h, out_w, _ = grad_output.shape
    s_h, s_w = strides
    span = (out_w - 1) * s_w + k_w  # input columns that receive a gradient (<= Wp)
    spaced = np.zeros((n, out_h, span + k_w - 1, filters), dtype=grad_output.dtype)
    spaced[:, :, k_w - 1 : k_w + (out_w - 1) * s_w : s_w, :] = grad_output
    rows = windows.extract_windows(spaced, (1, k_w), (1, 1), (out_h, span))  # (N,Ho,span,1,kw,F)
    rows = rows.reshape(-1, k_w * filters)  # the one copy
    reversed_rows = kernel[:, ::-1].transpose(0, 1, 3, 2).reshape(k_h, k_w * filters, channels)
    grad_padded = np.zeros(padded_shape, dtype=grad_output.dtype)
    share = np.empty((len(rows), channels), dtype=grad_output.dtype)  # reused buffer
    for i in range(k_h):
        np.matmul(rows, reversed_rows[i], out=share)
        target = grad_padded[:, i : i + s_h * (out_h - 1) + 1 : s_h, :span, :]
        target += share.reshape(n, out_h, span, channels)  # overlapping rows add up
    return grad_padded
