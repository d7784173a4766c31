"""The convolution layer's computation: slide a kernel over the image, multiply and add.

Like Keras and PyTorch this is *cross-correlation* (the kernel is not flipped)::

    out[n, i, j, f] = bias[f] + sum over (a, b, c) of
                      x[n, i*sh + a, j*sw + b, c] * kernel[a, b, c, f]

How it is computed (the "im2col" trick): every window the kernel visits is unrolled into one row
of a matrix ``columns`` ``(N*Ho*Wo, kh*kw*C)``; then a single matrix product with the kernel,
reshaped to ``(kh*kw*C, filters)``, computes every output cell of every filter at once.
(For one input channel the same matrix is built transposed, one row per kernel position, which
NumPy copies much faster; see :func:`_columns`.)

Going backward, the gradient of each input cell collects the contributions of every window that
covered it. That is computed one kernel row at a time (a loop of ``kh`` steps, never over pixels
or examples), as a sliding window over the gradient with the kernel row reversed: see
:func:`_input_gradient`.

Two formulations of the same math (see :mod:`tinycnn.functional._platform`), chosen by the
module variable :data:`CONV_STRATEGY`:

* ``"blas"`` (native default): the im2col matrix ``(N*Ho*Wo, kh*kw*C)`` times the kernel, one
  BLAS matrix product;
* ``"axpy"`` (browser default, NumPy without BLAS): the im2col matrix is built *transposed*,
  ``(C*kh*kw, N*Ho*Wo)`` from a channels-first copy of the input, so that ``np.einsum``'s inner
  loop runs along the long ``N*Ho*Wo`` axis (:func:`_forward_axpy`); the kernel gradient reads
  it back row-major and the input gradient transposes :func:`_input_gradient`'s kernel-row
  loop (:func:`_backward_axpy`, :func:`_input_gradient_axpy`).

Forward and backward sit side by side:

* :func:`conv2d_forward` returns the output and a cache of what backward needs;
* :func:`conv2d_backward` turns ``dL/d(out)`` into ``dL/dx``, ``dL/d(kernel)``, ``dL/d(bias)``.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._checks import IntOrPair, as_float_array, as_pair, check_padding
from . import activations, wide_rows, windows
from ._platform import IN_BROWSER
from .shapes import from_batch, to_batch

#: ``"blas"`` (im2col @ kernel, best with an optimised BLAS) or ``"axpy"`` (einsum along the long
#: axis, best in Pyodide whose NumPy has no BLAS). Both compute the same numbers.
CONV_STRATEGY = "axpy" if IN_BROWSER else "blas"


class ConvCache(NamedTuple):
    """What :func:`conv2d_backward` needs from the forward pass."""

    # "blas": (N*Ho*Wo, kh*kw*C [+ 1]) every window, one per row -- or its transpose.
    # "axpy": a view (C*kh*kw, N, Ho, Wo) of the transposed im2col matrix, no ones row
    columns: np.ndarray
    transposed: bool  # True: columns is (kh*kw*C [+ 1], N*Ho*Wo) (one input channel) or "axpy"
    axpy: bool  # True: made by the "axpy" forward pass (columns is the 4-D view)
    with_bias: bool  # True: the layer has a bias ("blas": columns ends with a column of ones)
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


def conv2d_forward(
    x: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray], strides: windows.Pair,
    padding: str, relu: bool = False
) -> Tuple[np.ndarray, ConvCache]:
    """Convolve a batch (no input checks; see :func:`conv2d` for the checked public function).

    Parameters
    ----------
    x : (N, H, W, C) images.
    kernel : (kh, kw, C, F) one ``kh x kw x C`` kernel per output channel ``F``.
    bias : (F,) or None.
    strides : (sh, sw).
    padding : ``"valid"`` or ``"same"``.
    relu : bool
        Apply ReLU to the output as well (before the last copy in the ``"axpy"`` path).

    Returns
    -------
    out : (N, Ho, Wo, F) feature maps.
    cache : ConvCache for :func:`conv2d_backward`.
    """
    k_h, k_w, channels, filters = kernel.shape
    (out_h, out_w), pads = windows.plan(x.shape, (k_h, k_w), strides, padding, "kernel")
    if CONV_STRATEGY == "axpy":
        return _forward_axpy(x, kernel, bias, strides, padding, pads, (out_h, out_w), relu)
    x_padded = windows.pad(x, pads)
    with_bias = bias is not None
    columns, transposed = _columns(x_padded, (k_h, k_w), strides, (out_h, out_w), with_bias)
    kernel_matrix = kernel.reshape(-1, filters)  # (kh*kw*C, F)
    if with_bias:  # the bias is the weight of an extra input that is always 1 (the ones column)
        kernel_matrix = np.concatenate([kernel_matrix, bias[None, :]])  # (kh*kw*C + 1, F)
    out = (columns.T if transposed else columns) @ kernel_matrix  # (N*Ho*Wo, F)
    out_shape = (x.shape[0], out_h, out_w, filters)
    cache = ConvCache(columns, transposed, False, with_bias, kernel, x_padded.shape, pads,
                      strides, out_shape)
    out = out.reshape(out_shape)
    return (activations._relu_in_place(out) if relu else out), cache


def _forward_axpy(x: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray],
                  strides: windows.Pair, padding: str, pads: windows.Padding,
                  out_hw: windows.Pair, relu: bool = False) -> Tuple[np.ndarray, ConvCache]:
    """The ``"axpy"`` forward pass: ``out.T = kernel_matrix.T @ columns.T`` as an einsum whose
    inner loop runs along the ``N*Ho*Wo`` output cells.

    ``columns.T`` ``(C*kh*kw, ...)``: row ``(c, i, j)`` holds what kernel position ``(i, j)``
    of channel ``c`` sees in every window. With strides of 1 it is built in the "wide rows"
    layout of :func:`tinycnn.functional.wide_rows.conv2d_with_columns` (the batch's images side
    by side in every row, no gap between them): each row is then one contiguous run of the
    input, a copy measured several times faster in Pyodide, with the few cells that would read
    a neighbouring image instead of the zero padding set to 0. Otherwise it is copied from a
    channels-first copy of the padded input ``(C, N, Hp, Wp)``, one row of ``Wo`` cells per
    output row.
    """
    k_h, k_w, channels, filters = kernel.shape
    n, height, width, _ = x.shape
    out_h, out_w = out_hw
    (top, bottom), (left, right) = pads
    padded_shape = (n, top + height + bottom, left + width + right, channels)
    out_shape = (n, out_h, out_w, filters)
    if strides == (1, 1):
        rows, windows_view = wide_rows.conv2d_with_columns(
            wide_rows.from_batch(x), kernel, bias, padding)
        if relu:
            activations._relu_in_place_on_bits(rows.data)
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
            activations._relu_in_place_on_bits(out_t)
        out = np.ascontiguousarray(out_t.reshape(filters, n, out_h, out_w).transpose(1, 2, 3, 0))
        windows_view = columns.reshape(-1, n, out_h, out_w)
    cache = ConvCache(windows_view, True, True, bias is not None, kernel, padded_shape, pads,
                      strides, out_shape)
    return out, cache


def conv2d_backward(
    grad_output: np.ndarray, cache: ConvCache, input_gradient: bool = True
) -> Tuple[Optional[np.ndarray], np.ndarray, np.ndarray]:
    """Gradients of the convolution.

    Parameters
    ----------
    grad_output : (N, Ho, Wo, F) ``dL/d(out)``.
    cache : from :func:`conv2d_forward`.
    input_gradient : bool
        ``False`` skips ``grad_x`` (returned as None): a model's first layer needs no gradient
        for its input, the data.

    Returns
    -------
    grad_x : (N, H, W, C) -- each window's share flows back to the cells it covered.
    grad_kernel : (kh, kw, C, F) -- every window times the gradient at its output cell, summed.
    grad_bias : (F,) -- the gradient summed over every output cell.
    """
    if cache.axpy:
        return _backward_axpy(grad_output, cache, input_gradient)
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


def _backward_axpy(grad_output: np.ndarray, cache: ConvCache, input_gradient: bool):
    """:func:`conv2d_backward` for a cache of the ``"axpy"`` forward pass (same returns)."""
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
    grad_x = _input_gradient_axpy(grad_output, cache.kernel, cache.padded_shape, cache.padding,
                                  cache.strides)
    return grad_x, grad_kernel, grad_bias


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


def _input_gradient_axpy(grad_output: np.ndarray, kernel: np.ndarray, padded_shape,
                         padding: windows.Padding, strides: windows.Pair) -> np.ndarray:
    """``dL/dx`` ``(N, H, W, C)``: :func:`_input_gradient`'s kernel-row loop, transposed, and
    computed only for the input's own cells (the padding's gradient would be thrown away).

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


def conv2d(
    x, kernel, bias=None, strides: IntOrPair = 1, padding: str = "valid"
) -> np.ndarray:
    """2-D convolution (cross-correlation, as in Keras and PyTorch).

    Parameters
    ----------
    x : array
        A matrix ``(H, W)``, an image ``(H, W, C)`` or a batch ``(N, H, W, C)``.
    kernel : array
        ``(kh, kw)`` for a matrix input, else ``(kh, kw, C, F)``: ``F`` kernels of size
        ``kh x kw x C``.
    bias : array of shape ``(F,)``, optional
        Added to every cell of each output channel.
    strides : int or (int, int)
        Step of the window down and across. Default 1.
    padding : ``"valid"`` or ``"same"``
        ``"valid"``: no padding, the output shrinks by ``kernel - 1``. ``"same"``: zero padding so
        that the output is ``ceil(input / stride)`` (extra padding cell bottom/right, like Keras).

    Returns
    -------
    array
        The feature map(s): ``(Ho, Wo)`` for a matrix input, ``(Ho, Wo, F)`` for an image,
        ``(N, Ho, Wo, F)`` for a batch.

    Examples
    --------
    The article's window and its vertical-edge kernel:

    >>> conv2d([[3, 1, 1], [1, 0, 7], [2, 3, 5]], [[1, 0, -1]] * 3)
    array([[-7.]], dtype=float32)
    """
    batch, rank = to_batch(x, "x")
    kernel = as_float_array(kernel, "kernel")
    if rank == 2:
        if kernel.ndim != 2:
            raise ValueError(
                f"for a matrix x of shape {batch.shape[1:3]} the kernel must be a matrix (kh, kw), "
                f"got shape {kernel.shape}"
            )
        kernel = kernel[:, :, None, None]
    elif kernel.ndim != 4:
        raise ValueError(
            f"kernel must have shape (kh, kw, in_channels, filters) for x of shape {np.shape(x)}, "
            f"got shape {kernel.shape}"
        )
    if 0 in kernel.shape:
        raise ValueError(f"the kernel is empty (shape {kernel.shape}); every axis needs at least 1")
    if kernel.shape[2] != batch.shape[3]:
        raise ValueError(
            f"channel mismatch: x has {batch.shape[3]} channels (last axis) but the kernel expects "
            f"{kernel.shape[2]} (its shape {kernel.shape} is (kh, kw, in_channels, filters))"
        )
    if bias is not None:
        bias = as_float_array(bias, "bias")
        if bias.shape != (kernel.shape[3],):
            raise ValueError(
                f"bias must have shape ({kernel.shape[3]},), one value per filter, got {bias.shape}"
            )
    dtype = np.result_type(batch, kernel)
    out, _ = conv2d_forward(
        batch.astype(dtype, copy=False),
        kernel.astype(dtype, copy=False),
        None if bias is None else bias.astype(dtype, copy=False),
        as_pair(strides, "strides"),
        check_padding(padding),
    )
    return from_batch(out, rank)
