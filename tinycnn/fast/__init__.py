"""How tinycnn computes, fast: the formulations behind :mod:`tinycnn.functional` and the layers.

The definitions to read are in :mod:`tinycnn.functional.reference`; everything here computes
exactly the same numbers, arranged for speed, and is tested against them
(``tests/test_fast_vs_reference.py``: every formulation, forward and backward, on a grid of
shapes, strides and paddings). A new fast path lands only with such a test.

This module is the one place that chooses a formulation. The public functions
(:func:`tinycnn.functional.conv2d`, ...) and the layers call :func:`conv2d_forward`,
:func:`conv2d_backward`, the pooling functions and :func:`predict` below.

=============================  ============================================================
module                         what
=============================  ============================================================
:mod:`~tinycnn.fast.platform`  where we run (:data:`~tinycnn.fast.platform.IN_BROWSER`), the
                               default formulation, masking (``keep_where``)
:mod:`~tinycnn.fast.im2col`    ``"blas"``: im2col + one BLAS matrix product (native default)
:mod:`~tinycnn.fast.axpy`      ``"axpy"``: einsum along the long axis (NumPy without BLAS:
                               the browser's default)
:mod:`~tinycnn.fast.wide_rows` the browser's layout: images side by side in every row
:mod:`~tinycnn.fast.browser_inference`  ``predict`` in the browser: conv -> ReLU -> max-pool
                               stretches kept in the wide-rows layout
:mod:`~tinycnn.fast.pooling`   max and average pooling, a window row at a time
:mod:`~tinycnn.fast.relu`      every ReLU of tinycnn, and its one fast variant (integer view)
=============================  ============================================================

Each convolution formulation returns its own cache type from its forward pass
(:class:`~tinycnn.fast.im2col.Im2colCache`, :class:`~tinycnn.fast.axpy.AxpyCache`), and
:func:`conv2d_backward` sends a cache back to the formulation that made it.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np

from . import axpy, im2col
from .platform import DEFAULT_STRATEGY
from .pooling import (
    PoolCache,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)

#: ``"blas"`` (:mod:`tinycnn.fast.im2col`, best with an optimised BLAS) or ``"axpy"``
#: (:mod:`tinycnn.fast.axpy`, best in Pyodide whose NumPy has no BLAS). Both compute the same
#: numbers; the tests set it to run each formulation natively.
CONV_STRATEGY = DEFAULT_STRATEGY

_FORMULATIONS = {"blas": im2col, "axpy": axpy}

ConvCache = Union[im2col.Im2colCache, axpy.AxpyCache]


def _formulation():
    try:
        return _FORMULATIONS[CONV_STRATEGY]
    except KeyError:
        raise ValueError(
            f"tinycnn.fast.CONV_STRATEGY must be one of {sorted(_FORMULATIONS)}, "
            f"got {CONV_STRATEGY!r}") from None


def conv2d_forward(x: np.ndarray, kernel: np.ndarray, bias: Optional[np.ndarray], strides,
                   padding: str, relu: bool = False) -> Tuple[np.ndarray, ConvCache]:
    """Convolve a batch (no input checks; see :func:`tinycnn.functional.conv2d` for the checked
    public function), as :func:`tinycnn.functional.reference.conv2d` defines it.

    Parameters
    ----------
    x : (N, H, W, C) images.
    kernel : (kh, kw, C, F) one ``kh x kw x C`` kernel per output channel ``F``.
    bias : (F,) or None.
    strides : (sh, sw).
    padding : ``"valid"`` or ``"same"``.
    relu : bool
        Apply ReLU to the output as well (where the formulation does it cheapest).

    Returns
    -------
    out : (N, Ho, Wo, F) feature maps.
    cache : what :func:`conv2d_backward` needs (the formulation's own cache type).
    """
    return _formulation().conv2d_forward(x, kernel, bias, tuple(strides), padding, relu)


def conv2d_backward(grad_output: np.ndarray, cache: ConvCache, input_gradient: bool = True
                    ) -> Tuple[Optional[np.ndarray], np.ndarray, np.ndarray]:
    """Gradients of the convolution, as :func:`tinycnn.functional.reference.conv2d_backward`.

    Parameters
    ----------
    grad_output : (N, Ho, Wo, F) ``dL/d(out)``.
    cache : from :func:`conv2d_forward` (it names the formulation that made it).
    input_gradient : bool
        ``False`` skips ``grad_x`` (returned as None): a model's first layer needs no gradient
        for its input, the data.

    Returns
    -------
    grad_x : (N, H, W, C) -- each window's share flows back to the cells it covered.
    grad_kernel : (kh, kw, C, F) -- every window times the gradient at its output cell, summed.
    grad_bias : (F,) -- the gradient summed over every output cell.
    """
    formulation = axpy if isinstance(cache, axpy.AxpyCache) else im2col
    return formulation.conv2d_backward(grad_output, cache, input_gradient)


def predict(layers: Sequence, x: np.ndarray) -> np.ndarray:
    """Inference through ``layers`` (a model's): ``layer.forward(x, training=False)`` in turn,
    or, with ``"axpy"`` (the browser), :func:`tinycnn.fast.browser_inference.predict`, the same
    numbers in a faster order of work."""
    if CONV_STRATEGY == "axpy":
        from .browser_inference import predict as wide_rows_predict  # imports the layers

        return wide_rows_predict(layers, x)
    for layer in layers:
        x = layer.forward(x, training=False)
    return x


__all__ = [
    "CONV_STRATEGY",
    "conv2d_forward",
    "conv2d_backward",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "PoolCache",
    "predict",
]
