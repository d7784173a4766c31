"""Pooling layers: shrink each feature map by summarising small windows."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .._checks import IntOrPair, as_pair, check_padding
from ..functional import pooling, windows
from .base import Layer, require_rank


class _Pooling2D(Layer):
    _forward = None
    _backward = None

    def __init__(self, pool_size: IntOrPair = (2, 2), strides: Optional[IntOrPair] = None,
                 padding: str = "valid", **kwargs) -> None:
        super().__init__(**kwargs)
        self.pool_size = as_pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else as_pair(strides, "strides")
        self.padding = check_padding(padding)

    def get_config(self):
        return dict(super().get_config(), pool_size=self.pool_size, strides=self.strides,
                    padding=self.padding)

    def compute_output_shape(self, input_shape):
        require_rank(self, input_shape, 3, "(rows, cols, channels)",
                     "Pooling works on feature maps; put it after a Conv2D layer.")
        (out_h, out_w), _ = windows.plan((None,) + tuple(input_shape), self.pool_size,
                                         self.strides, self.padding, "pool window")
        return (out_h, out_w, input_shape[-1])

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out, self._cache = type(self)._forward(x, self.pool_size, self.strides, self.padding)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return type(self)._backward(grad_output, self._cache)


class MaxPooling2D(_Pooling2D):
    """Max pooling: keep the largest value of every ``pool_size`` window, channel by channel.

    Parameters
    ----------
    pool_size : int or (int, int)
        Window size, default (2, 2).
    strides : int or (int, int), optional
        Step of the window; defaults to ``pool_size``.
    padding : ``"valid"`` or ``"same"``

    Input shape
    -----------
    ``(batch, rows, cols, channels)``

    Output shape
    ------------
    ``(batch, pooled_rows, pooled_cols, channels)``; with the defaults, half the rows and columns.

    Examples
    --------
    >>> MaxPooling2D(pool_size=(2, 2)).compute_output_shape((62, 62, 32))
    (31, 31, 32)
    """

    default_name = "max_pooling2d"
    _forward = staticmethod(pooling.max_pool2d_forward)
    _backward = staticmethod(pooling.max_pool2d_backward)


class AveragePooling2D(_Pooling2D):
    """Average pooling: keep the mean of every window (arguments as :class:`MaxPooling2D`).

    With ``padding="same"`` border windows average only their real cells.

    Input shape
    -----------
    ``(batch, rows, cols, channels)``

    Output shape
    ------------
    ``(batch, pooled_rows, pooled_cols, channels)``
    """

    default_name = "average_pooling2d"
    _forward = staticmethod(pooling.avg_pool2d_forward)
    _backward = staticmethod(pooling.avg_pool2d_backward)


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
