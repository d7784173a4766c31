"""The convolution layer's computation: slide a kernel over the image, multiply and add.

Like Keras and PyTorch this is *cross-correlation* (the kernel is not flipped)::

    out[n, i, j, f] = bias[f] + sum over (a, b, c) of
                      x[n, i*sh + a, j*sw + b, c] * kernel[a, b, c, f]

The definition to read is :func:`tinycnn.functional.reference.conv2d` (and
:func:`~tinycnn.functional.reference.conv2d_backward` beside it). :func:`conv2d` here checks its
input and runs the faster formulation that :mod:`tinycnn.fast` picks for the platform: im2col
and one BLAS product natively, an einsum along the long axis in the browser. The unchecked
:func:`conv2d_forward` / :func:`conv2d_backward` that the layers call are
:func:`tinycnn.fast.conv2d_forward` and :func:`tinycnn.fast.conv2d_backward`.
"""
from __future__ import annotations

import numpy as np

from .._checks import IntOrPair, as_float_array, as_pair, check_padding
from ..fast import conv2d_backward, conv2d_forward
from .shapes import to_batch, to_rank

__all__ = ["conv2d", "conv2d_forward", "conv2d_backward"]


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
    return to_rank(out, rank)
