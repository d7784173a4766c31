"""The "wide rows" layout: the browser's fast path for convolutions (and conv -> ReLU -> max-pool).

Same math as :func:`tinycnn.functional.reference.conv2d` and
:func:`~tinycnn.functional.reference.max_pool2d` (``tests/test_fast_vs_reference.py``), in a
memory layout chosen for NumPy without BLAS (Pyodide, see :mod:`tinycnn.fast.platform`).
:func:`tinycnn.fast.browser_inference.predict` uses it for ``Sequential.predict`` when
``CONV_STRATEGY == "axpy"``; in training, the convolution's forward pass
(:mod:`tinycnn.fast.axpy`) builds its im2col matrix with :func:`conv2d_with_columns` and the
layers pass ordinary ``(N, H, W, C)`` arrays.

The layout
----------
A batch of feature maps is stored channel first, and within a channel row by row, with the
batch's images *side by side* in every row::

    data[c, h, n*step + w] = x[n, h, w, c]          data: (C, H, N*step)

Each image takes ``step >= W`` cells of a row (``step > W`` only when a max pooling after a
convolution needs ``step`` to be a multiple of its width); the ``step - W`` spare cells after it
hold zeros or, after a convolution, numbers that are computed and ignored.

Why
---
* **Convolution** (stride 1): with the images side by side and zero rows above and below,
  what kernel position ``(c, i, j)`` sees for every output cell is *one contiguous run* of the
  input, shifted by ``i`` rows and ``j - left`` cells. So the im2col matrix is ``C*kh*kw``
  block copies, and ``np.einsum``'s inner loop (``out_row += w * run``, ~3.5 multiply-adds per
  ns in Pyodide) runs along rows of ``Ho * N * step`` numbers. Near an image's left and right
  edges such a run reads the neighbouring image (or the row before) where "same" padding has
  zeros: those few cells of the im2col matrix (``left - j`` or ``j - left`` per image row) are
  set to zero after the copy. So no zero columns sit between the images and no output is
  computed for them (measured: with a shared 2-cell gap, 15% more products on the LeNet
  model's second convolution and a slower predict).
* **ReLU and max pooling** on float numbers are ~7x slower in Pyodide's NumPy than on integers
  (measured: ``np.maximum`` 6 ns per float32, 0.9 ns per int32). For IEEE floats that are not
  NaN, comparing the bit patterns as signed integers orders every number ``>= +0`` correctly and
  puts every negative number (and ``-0.0``) below them (:mod:`tinycnn.fast.relu`). So ``relu(max(window))`` -- the same as
  ``max(relu(window))``, what the model asks for -- can be computed exactly on the integer view:
  if the window's largest number is ``>= 0`` the integer maximum finds it; if every number is
  negative the integer maximum is some negative number, and ReLU turns it into ``+0.0`` anyway.
  NaN breaks that ordering (a NaN may carry either sign), so a cheap check first (the sum of the
  block is finite) chooses the integer path; otherwise the float path runs, with NumPy's NaN
  propagation.
* Between two such blocks the data never goes back to ``(N, H, W, C)``: no transpose each way.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..functional import windows
from .relu import has_no_nan, integer_view, relu_in_place


class WideRows(NamedTuple):
    """Feature maps of a batch in the wide-rows layout.

    data : (C, H, N*step) -- ``data[c, h, n*step + w]`` is image ``n``'s cell ``(h, w)`` of
        channel ``c``, for ``w < width``; the other cells are spare.
    images : N, the batch size.
    width : W, the real columns of one image.
    step : cells per image in a row, ``>= width``.
    """

    data: np.ndarray
    images: int
    width: int
    step: int

    @property
    def planes(self) -> np.ndarray:
        """The real cells as a view ``(C, H, N, W)`` (no copy)."""
        channels, height, _ = self.data.shape
        return self.data.reshape(channels, height, self.images, self.step)[..., : self.width]

    def to_batch(self) -> np.ndarray:
        """Back to the usual ``(N, H, W, C)`` layout (one copy)."""
        return np.ascontiguousarray(self.planes.transpose(2, 1, 3, 0))


def batch_to_planes(x: np.ndarray) -> np.ndarray:
    """The ``(C, H, N, W)`` view of a batch ``(N, H, W, C)`` that :func:`conv2d` takes (no copy;
    :meth:`WideRows.to_batch` goes the other way)."""
    return x.transpose(3, 1, 0, 2)


def conv2d(planes: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray], padding: str,
           step_multiple: int = 1) -> WideRows:
    """Stride-1 convolution of ``planes`` ``(C, H, N, W)`` (any strides, e.g. a
    :attr:`WideRows.planes` view or :func:`batch_to_planes`), before any activation.

    Parameters
    ----------
    planes : (C, H, N, W) input feature maps.
    kernel : (kh, kw, C, F).
    bias : (F,) or None.
    padding : ``"valid"`` or ``"same"`` (Keras rules, as :func:`tinycnn.functional.conv2d`).
    step_multiple : int
        Make the output's ``step`` a multiple of this (the pool size that follows), so that
        pooling windows never straddle two images.

    Returns
    -------
    WideRows of ``(F, Ho, N*step)``: ``Ho, Wo`` as for :func:`tinycnn.functional.conv2d`.
    """
    return conv2d_with_columns(planes, kernel, bias, padding, step_multiple)[0]


def conv2d_with_columns(planes: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray],
                        padding: str, step_multiple: int = 1) -> Tuple[WideRows, np.ndarray]:
    """:func:`conv2d`, and its im2col matrix as a view ``(C*kh*kw, N, Ho, Wo)``: entry
    ``(k, n, h, w)`` is what kernel position ``k = (c, i, j)`` sees for output cell ``(h, w)``
    of image ``n`` (the training forward pass keeps it for the kernel's gradient)."""
    k_h, k_w, channels, filters = kernel.shape
    _, height, n, width = planes.shape
    (out_h, out_w), ((top, bottom), (left, _)) = windows.plan(
        (n, height, width, channels), (k_h, k_w), (1, 1), padding, "kernel")
    step = width + (-width % step_multiple)  # cells per image in a row
    row = n * step  # cells in one row: the images side by side, no gap
    padded_h = top + height + bottom  # = out_h + k_h - 1 (stride 1)
    size = channels * padded_h * row
    # zero rows above and below the images; `left` spare cells before the first row and kw
    # after the last, which the first and last runs reach into
    buffer = np.zeros(left + size + k_w, dtype=planes.dtype)
    padded = buffer[left : left + size].reshape(channels, padded_h, row)
    padded[:, top : top + height].reshape(channels, height, n, step)[..., :width] = planes
    # kernel position (c, i, j) sees, for every output cell of every output row, the run of
    # out_h * row cells that starts i rows and j - left cells into channel c: one block copy each
    item = buffer.strides[0]
    runs = as_strided(buffer, shape=(channels, k_h, k_w, out_h * row),
                      strides=(padded_h * row * item, row * item, item, item), writeable=False)
    columns = np.empty((channels * k_h * k_w, out_h * row), dtype=planes.dtype)
    columns.reshape(runs.shape)[...] = runs
    # output cell w of an image reads its column w + j - left: outside [0, width) that is the
    # zero padding, but the run holds a neighbour's cell there: zero those cells
    cells = columns.reshape(channels, k_h, k_w, out_h, n, step)
    for j in range(k_w):
        # outputs w in [inside_from, inside_to) read inside the image (clamped to [0, out_w]: a
        # kernel wider than the image can leave none, and a negative bound must not wrap)
        inside_from = min(max(left - j, 0), out_w)
        inside_to = min(max(width + left - j, inside_from), out_w)
        cells[:, :, j, :, :, :inside_from] = 0
        cells[:, :, j, :, :, inside_to:out_w] = 0
    kernel_matrix = kernel.transpose(3, 2, 0, 1).reshape(filters, -1)  # (F, C*kh*kw)
    out = np.einsum("fk,kp->fp", kernel_matrix, columns)  # (F, Ho*row), inner loop along p
    if bias is not None:
        out += bias[:, None]
    windows_view = columns.reshape(-1, out_h, n, step)[..., :out_w].transpose(0, 2, 1, 3)
    return WideRows(out.reshape(filters, out_h, row), n, out_w, step), windows_view


def max_pool(rows: WideRows, pool: Tuple[int, int], relu_after: bool = False) -> WideRows:
    """Max pooling with windows of ``pool`` ``(ph, pw)``, strides = pool, ``"valid"``.

    ``rows.step`` must be a multiple of ``pw`` (see ``step_multiple`` in :func:`conv2d`).
    With ``relu_after`` the result is ``relu(max_pool(x))``, which equals ``max_pool(relu(x))``.

    Returns
    -------
    WideRows of ``(C, H // ph, N*step // pw)``, width ``W // pw``.
    """
    p_h, p_w = pool
    if rows.step % p_w:
        raise ValueError(f"step {rows.step} is not a multiple of the pool width {p_w}")
    data = rows.data
    out_h = data.shape[1] // p_h
    fast = relu_after and has_no_nan(data)  # see the module docstring
    values = integer_view(data) if fast else data
    # the largest of each window's rows (long contiguous rows), then of its columns
    row_max = _largest([values[:, i : out_h * p_h : p_h, :] for i in range(p_h)])
    out = _largest([row_max[:, :, j::p_w] for j in range(p_w)])
    if relu_after and fast:  # still the integer view, NaN already ruled out: max(bits, 0)
        np.maximum(out, 0, out=out)
    elif relu_after:
        relu_in_place(out)
    return WideRows(out.view(data.dtype), rows.images, rows.width // p_w, rows.step // p_w)


def _largest(arrays):
    """The elementwise maximum of ``arrays`` (a new array)."""
    if len(arrays) == 1:
        return arrays[0].copy()
    out = np.maximum(arrays[0], arrays[1])
    for more in arrays[2:]:
        np.maximum(out, more, out=out)
    return out
