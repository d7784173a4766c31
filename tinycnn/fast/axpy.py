"""The browser's convolution: ``np.einsum`` along the long axis (``CONV_STRATEGY == "axpy"``).

Computes exactly :func:`tinycnn.functional.reference.conv2d` and
:func:`~tinycnn.functional.reference.conv2d_backward` (``tests/test_fast_vs_reference.py``), for
NumPy without BLAS (Pyodide; see :mod:`tinycnn.fast.platform` for why "axpy"). The im2col
matrix is built *transposed*, ``(C*kh*kw, N*Ho*Wo)``, so that the einsum's inner loop
(``out_row += w * row``) runs along the long ``N*Ho*Wo`` axis:

* forward, strides of 1: the "wide rows" layout of :mod:`tinycnn.fast.wide_rows` (each row of
  the matrix is one contiguous run of the input, several times faster to copy in Pyodide);
  other strides: a copy from a channels-first copy of the padded input (:func:`conv2d_forward`);
* backward: the kernel gradient reads the matrix back row-major; the input gradient is
  :func:`tinycnn.fast.im2col._input_gradient`'s kernel-row loop, transposed
  (:func:`_input_gradient`).
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..functional import windows
from . import wide_rows
from .relu import relu_in_place_on_bits


class AxpyCache(NamedTuple):
    """What :func:`conv2d_backward` needs from :func:`conv2d_forward`."""

    columns: np.ndarray  # a view (C*kh*kw, N, Ho, Wo) of the transposed im2col matrix
    with_bias: bool
    kernel: np.ndarray  # (kh, kw, C, F)
    padded_shape: Tuple[int, int, int, int]  # (N, Hp, Wp, C)
    padding: windows.Padding
    strides: windows.Pair
    out_shape: Tuple[int, int, int, int]  # (N, Ho, Wo, F)


def conv2d_forward(x: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray],
                   strides: windows.Pair, padding: str,
                   relu: bool = False) -> Tuple[np.ndarray, AxpyCache]:
    """``(out, cache)``: ``out.T = kernel_matrix.T @ columns.T`` as an einsum whose inner loop
    runs along the ``N*Ho*Wo`` output cells (same returns as :func:`tinycnn.fast.conv2d_forward`).

    ``columns.T`` ``(C*kh*kw, ...)``: row ``(c, i, j)`` holds what kernel position ``(i, j)``
    of channel ``c`` sees in every window. With strides of 1 it is built in the wide-rows
    layout (:func:`tinycnn.fast.wide_rows.conv2d_with_columns`). Otherwise it is copied from a
    channels-first copy of the padded input ``(C, N, Hp, Wp)``, one row of ``Wo`` cells per
    output row.
    """
    k_h, k_w, channels, filters = kernel.shape
    n, height, width, _ = x.shape
    (out_h, out_w), pads = windows.plan(x.shape, (k_h, k_w), strides, padding, "kernel")
    (top, bottom), (left, right) = pads
    padded_shape = (n, top + height + bottom, left + width + right, channels)
    out_shape = (n, out_h, out_w, filters)
    if strides == (1, 1):
        rows, windows_view = wide_rows.conv2d_with_columns(
            wide_rows.batch_to_planes(x), kernel, bias, padding)
        if relu:
            relu_in_place_on_bits(rows.data)
        out = rows.to_batch()
    else:
        x_padded = windows.pad(x, pads)
        x_cf = np.ascontiguousarray(x_padded.transpose(3, 0, 1, 2))  # (C, N, Hp, Wp)
        s_c, s_n, s_h, s_w = x_cf.strides
        view = as_strided(x_cf, shape=(channels, k_h, k_w, n, out_h, out_w),
                          strides=(s_c, s_h, s_w, s_n, s_h * strides[0], s_w * strides[1]),
                          writeable=False)  # (C, kh, kw, N, Ho, Wo), no copy yet
        columns = np.empty((channels * k_h * k_w, n * out_h * out_w), dtype=x.dtype)
        columns.reshape(view.shape)[...] = view  # the one copy
        kernel_matrix = kernel.transpose(3, 2, 0, 1).reshape(filters, -1)  # (F, C*kh*kw)
        out_t = np.einsum("fk,kp->fp", kernel_matrix, columns)  # (F, N*Ho*Wo)
        if bias is not None:
            out_t += bias[:, None]
        if relu:  # on the contiguous (F, ...) result: much faster than on the strided view below
            relu_in_place_on_bits(out_t)
        out = np.ascontiguousarray(out_t.reshape(filters, n, out_h, out_w).transpose(1, 2, 3, 0))
        windows_view = columns.reshape(-1, n, out_h, out_w)
    cache = AxpyCache(windows_view, bias is not None, kernel, padded_shape, pads, strides,
                      out_shape)
    return out, cache


def conv2d_backward(grad_output: np.ndarray, cache: AxpyCache, input_gradient: bool = True
                    ) -> Tuple[Optional[np.ndarray], np.ndarray, np.ndarray]:
    """``(grad_x, grad_kernel, grad_bias)`` as :func:`tinycnn.fast.conv2d_backward`."""
    k_h, k_w, channels, filters = cache.kernel.shape
    n, out_h, out_w, _ = cache.out_shape
    grad_rows = grad_output.reshape(-1, filters)  # (N*Ho*Wo, F)
    size = channels * k_h * k_w
    # the windows back in rows, (N*Ho*Wo, C*kh*kw [+ 1]), with a last column of ones (the bias's
    # input) when there is a bias: one copy, so that the einsum's inner loop runs along a row
    ones = 1 if cache.with_bias else 0
    rows = np.empty((len(grad_rows), size + ones), dtype=grad_rows.dtype)
    rows[:, size:] = 1
    rows[:, :size].reshape(n, out_h, out_w, size)[...] = cache.columns.transpose(1, 2, 3, 0)
    grad_t = np.einsum("pf,pk->fk", grad_rows, rows)  # (F, C*kh*kw [+ 1])
    grad_kernel = np.ascontiguousarray(
        grad_t[:, :size].reshape(filters, channels, k_h, k_w).transpose(2, 3, 1, 0))
    if cache.with_bias:  # the ones row's column: the gradient summed over every output cell
        grad_bias = np.ascontiguousarray(grad_t[:, size])
    else:
        grad_bias = np.einsum("pf->f", grad_rows)
    if not input_gradient:
        return None, grad_kernel, grad_bias
    grad_x = _input_gradient(grad_output, cache.kernel, cache.padded_shape, cache.padding,
                             cache.strides)
    return grad_x, grad_kernel, grad_bias


def _input_gradient(grad_output: np.ndarray, kernel: np.ndarray, padded_shape,
                    padding: windows.Padding, strides: windows.Pair) -> np.ndarray:
    """``dL/dx`` ``(N, H, W, C)``: :func:`tinycnn.fast.im2col._input_gradient`'s kernel-row loop,
    transposed, and computed only for the input's own cells (the padding's gradient would be
    thrown away).

    The gradient rows cut into width windows are stored transposed, ``(kw*F, Ho, N, cols)``
    (from a copy of the gradient with its rows first), and so is each kernel row's share of the
    input gradient, ``(C, rows*N*cols)``: the einsum's inner loop runs along that long axis.
    Kernel row ``i`` sends output row ``h`` to padded row ``h*sh + i``; only the output rows
    that land on a real input row are multiplied, and only the ``cols`` real input columns.
    """
    k_h, k_w, channels, filters = kernel.shape
    n, out_h, out_w, _ = grad_output.shape
    s_h, s_w = strides
    (top, bottom), (left, right) = padding
    height, width = padded_shape[1] - top - bottom, padded_shape[2] - left - right
    span = (out_w - 1) * s_w + k_w  # padded columns that receive a gradient
    cols = min(width, span - left)  # real input columns that receive one (the rest get 0)
    # spaced[f, h, n, kw - 1 + w*sw] = grad_output[n, h, w, f], zeros around and between
    spaced = np.zeros((filters, out_h, n, span + k_w - 1), dtype=grad_output.dtype)
    spaced[:, :, :, k_w - 1 : k_w + (out_w - 1) * s_w : s_w] = grad_output.transpose(3, 1, 0, 2)
    s_f, s_r, s_n, s_c = spaced.strides
    # rows_t[j, f, h, n, w] = spaced[f, h, n, left + w + j]: what reaches input column w
    rows_t = as_strided(spaced[..., left:], shape=(k_w, filters, out_h, n, cols),
                        strides=(s_c, s_f, s_r, s_n, s_c), writeable=False)
    rows_t = np.ascontiguousarray(rows_t).reshape(k_w * filters, out_h, n * cols)  # the one copy
    # reversed[i, c, (j, f)] = kernel[i, kw - 1 - j, c, f]
    reversed_rows = np.ascontiguousarray(kernel[:, ::-1].transpose(0, 2, 1, 3)).reshape(
        k_h, channels, k_w * filters)
    grad_cf = np.zeros((channels, height, n, width), dtype=grad_output.dtype)
    for i in range(k_h):
        # output rows h with top <= h*sh + i < top + height (ceiling divisions)
        first = max(0, -((i - top) // s_h))
        last = min(out_h, -((i - top - height) // s_h))
        if last <= first:
            continue
        share = np.einsum("ck,kq->cq", reversed_rows[i],
                          rows_t[:, first:last].reshape(k_w * filters, -1))  # (C, rows*N*cols)
        start = first * s_h + i - top
        target = grad_cf[:, start : start + (last - first - 1) * s_h + 1 : s_h, :, :cols]
        target += share.reshape(channels, last - first, n, cols)  # overlapping rows add up
    return np.ascontiguousarray(grad_cf.transpose(2, 1, 3, 0))  # (N, H, W, C)
