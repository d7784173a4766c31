"""Flattening: from a stack of feature maps to one feature vector per example."""
from __future__ import annotations

import numpy as np

from .._checks import as_float_array


def flatten(x) -> np.ndarray:
    """Flatten every example of a batch into a vector.

    Parameters
    ----------
    x : array of shape ``(N, d1, d2, ...)``, e.g. feature maps ``(N, H, W, C)``.

    Returns
    -------
    array of shape ``(N, d1 * d2 * ...)``, in row-major (C) order: for ``(N, H, W, C)`` the
    channels of one cell stay together, as in Keras's ``Flatten`` with channels-last data.

    Examples
    --------
    >>> flatten(np.arange(8).reshape(2, 2, 2)).tolist()
    [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]
    """
    array = as_float_array(x, "x")
    if array.ndim < 2:
        raise ValueError(f"x must be a batch (N, ...) with at least 2 dimensions, got shape {array.shape}")
    return array.reshape(array.shape[0], -1)
