"""Pooling: summarise each window of a feature map by one number.

* max pooling keeps the largest value of each window (and, going backward, sends the gradient
  only to the cell that won);
* average pooling keeps the mean (and shares the gradient equally among the window's cells).

Pooling works on every channel separately and has no weights. ``strides`` defaults to the window
size, so the windows tile the map without overlapping, as in the article's 2x2 example.

The definitions to read are :func:`tinycnn.functional.reference.max_pool2d` and its neighbours;
the checked public functions here run the faster formulation of :mod:`tinycnn.fast.pooling`
(``max_pool2d_forward`` and the others are re-exported from :mod:`tinycnn.fast`).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .._checks import IntOrPair, as_pair, check_padding
from ..fast import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from .shapes import to_batch, to_rank

__all__ = ["max_pool2d", "avg_pool2d", "max_pool2d_forward", "max_pool2d_backward",
           "avg_pool2d_forward", "avg_pool2d_backward"]


def _pool(forward, x, pool_size, strides, padding):
    batch, rank = to_batch(x, "x")
    window = as_pair(pool_size, "pool_size")
    steps = window if strides is None else as_pair(strides, "strides")
    out, _ = forward(batch, window, steps, check_padding(padding))
    return to_rank(out, rank)


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
