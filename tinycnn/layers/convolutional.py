"""``Conv2D``: the convolution layer, a bank of learned kernels that extract features."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .. import initializers, legacy
from .._checks import IntOrPair, as_pair, check_padding, check_positive_int
from ..functional import conv2d_backward, conv2d_forward, windows
from .base import ActivatedLayer, require_rank


class Conv2D(ActivatedLayer):
    """2-D convolution layer.

    ``filters`` kernels of size ``kernel_size x in_channels`` slide over the input; each produces
    one output channel (one *feature map*). Cross-correlation, as in Keras.

    Parameters
    ----------
    filters : int
        Number of kernels = number of output channels.
    kernel_size : int or (int, int)
        Height and width of each kernel, e.g. 3 or (3, 3).
    strides : int or (int, int)
        Step of the kernel; default 1.
    padding : ``"valid"`` or ``"same"``
        ``"valid"`` (default): no padding. ``"same"``: zero padding so the output is
        ``ceil(input / stride)`` cells wide.
    activation : str, optional
        ``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"softmax"``, ``"linear"`` or None.
    use_bias : bool
        Add one learned bias per filter (default True).
    input_shape : tuple, optional
        ``(rows, cols, channels)`` of one example, on the first layer of a model.

    Input shape
    -----------
    ``(batch, rows, cols, in_channels)``

    Output shape
    ------------
    ``(batch, new_rows, new_cols, filters)``

    Weights
    -------
    ``kernel`` ``(kh, kw, in_channels, filters)`` (Glorot-uniform), ``bias`` ``(filters,)`` (zeros).

    Examples
    --------
    >>> layer = Conv2D(32, (3, 3), activation="relu", input_shape=(64, 64, 3))
    >>> layer.build((64, 64, 3)); layer.output_shape, layer.count_params()
    ((None, 62, 62, 32), 896)
    """

    default_name = "conv2d"

    def __init__(self, filters: int, kernel_size: IntOrPair, strides: IntOrPair = 1,
                 padding: str = "valid", activation=None, use_bias: bool = True,
                 input_shape: Optional[Tuple[int, int, int]] = None, **kwargs) -> None:
        super().__init__(activation=activation, input_shape=input_shape, **kwargs)
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.padding = check_padding(padding)
        self.use_bias = bool(use_bias)

    def get_config(self):
        return dict(super().get_config(), filters=self.filters, kernel_size=self.kernel_size,
                    strides=self.strides, padding=self.padding, use_bias=self.use_bias)

    def compute_output_shape(self, input_shape):
        require_rank(self, input_shape, 3, "(rows, cols, channels)",
                     "For grey images of shape (N, rows, cols) add a channel axis: x[..., None].")
        (out_h, out_w), _ = windows.plan((None,) + tuple(input_shape), self.kernel_size,
                                         self.strides, self.padding, "kernel")
        return (out_h, out_w, self.filters)

    def build(self, input_shape) -> None:
        super().build(input_shape)
        shape = self.kernel_size + (input_shape[-1], self.filters)
        self.kernel = initializers.glorot_uniform(shape, self.dtype)
        self.bias = initializers.zeros((self.filters,), self.dtype) if self.use_bias else None
        self.weights = [self.kernel] + ([self.bias] if self.use_bias else [])

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if self.activation.name == "relu":  # fused into the convolution's last copy
            a, self._cache = conv2d_forward(x, self.kernel, self.bias, self.strides,
                                            self.padding, relu=True)
            self._z = self._a = a  # ReLU's backward needs only where z > 0, i.e. a > 0
            return a
        z, self._cache = conv2d_forward(x, self.kernel, self.bias, self.strides, self.padding)
        return self._activate(z, fresh=True)

    def backward_preactivation(self, grad_z: np.ndarray, input_gradient: bool = True):
        grad_x, grad_kernel, grad_bias = conv2d_backward(grad_z, self._cache, input_gradient)
        self.grads = [grad_kernel] + ([grad_bias] if self.use_bias else [])
        return grad_x


class Convolution2D(Conv2D):
    """``Conv2D`` under its Keras 1 name, with Keras 1's signature as well.

    ``Convolution2D(32, 3, 3, input_shape=(64, 64, 3), activation="relu")`` -- the form the article
    uses -- means 32 kernels of 3 rows x 3 columns (Keras 1: ``nb_filter, nb_row, nb_col``).
    Keras 1 keywords ``nb_filter``, ``border_mode`` and ``subsample`` are translated with a warning.
    Everything else is :class:`Conv2D`.
    """

    def __init__(self, filters: int = None, kernel_size: IntOrPair = None, *args, **kwargs) -> None:
        if filters is not None:
            kwargs["filters"] = filters  # so that a Keras 1 nb_filter= alongside it is a conflict
        kwargs = legacy.rename_layer_arguments("Convolution2D", kwargs)
        filters = kwargs.pop("filters", None)
        if args and isinstance(kernel_size, int) and isinstance(args[0], int):
            kernel_size, args = (kernel_size, args[0]), args[1:]  # Keras 1: nb_row, nb_col
        if args:
            raise TypeError(
                "Convolution2D takes (filters, kernel_rows, kernel_cols) or (filters, kernel_size) "
                f"positionally; pass the rest by keyword, got extra {args!r}"
            )
        if filters is None or kernel_size is None:
            raise TypeError("Convolution2D needs filters and a kernel size, e.g. Convolution2D(32, 3, 3)")
        super().__init__(filters, kernel_size, **kwargs)
