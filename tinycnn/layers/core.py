"""The fully connected part of a CNN: ``Flatten`` and ``Dense`` (plus ``Activation``, ``Dropout``)."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .. import initializers, legacy
from .._checks import check_positive_int
from ..utils import get_rng
from .base import ActivatedLayer, Layer, require_rank


class Flatten(Layer):
    """Flatten each example into a vector (no weights).

    Input shape
    -----------
    ``(batch, d1, d2, ...)``, e.g. feature maps ``(batch, rows, cols, channels)``

    Output shape
    ------------
    ``(batch, d1 * d2 * ...)``

    Examples
    --------
    >>> Flatten().compute_output_shape((14, 14, 32))
    (6272,)
    """

    default_name = "flatten"

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._input_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return grad_output.reshape(self._input_shape)


class Dense(ActivatedLayer):
    """Fully connected layer: ``activation(x @ kernel + bias)``.

    Parameters
    ----------
    units : int
        Number of output neurons.
    activation : str, optional
        ``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"softmax"``, ``"linear"`` or None.
    use_bias : bool
        Default True.
    input_shape : tuple, optional
        ``(features,)`` on the first layer of a model.

    Input shape
    -----------
    ``(batch, features)`` -- put a :class:`Flatten` layer before it to feed feature maps.

    Output shape
    ------------
    ``(batch, units)``

    Weights
    -------
    ``kernel`` ``(features, units)`` (Glorot-uniform), ``bias`` ``(units,)`` (zeros).

    Examples
    --------
    >>> layer = Dense(128, activation="relu")
    >>> layer.build((6272,)); layer.count_params()
    802944
    """

    default_name = "dense"

    def __init__(self, units: int = None, activation=None, use_bias: bool = True,
                 input_shape: Optional[Tuple[int]] = None, **kwargs) -> None:
        if units is not None:
            kwargs["units"] = units  # so that Dense(128, output_dim=128) is caught as a conflict
        kwargs = legacy.rename_layer_arguments("Dense", kwargs)  # Keras 1: Dense(output_dim=128)
        units = kwargs.pop("units", None)
        if units is None:
            raise TypeError("Dense needs the number of units, e.g. Dense(128)")
        super().__init__(activation=activation, input_shape=input_shape, **kwargs)
        self.units = check_positive_int(units, "units")
        self.use_bias = bool(use_bias)

    def get_config(self):
        return dict(super().get_config(), units=self.units, use_bias=self.use_bias)

    def compute_output_shape(self, input_shape):
        require_rank(self, input_shape, 1, "(features,)",
                     "To feed feature maps into a Dense layer, add a Flatten() layer before it.")
        return (self.units,)

    def build(self, input_shape) -> None:
        super().build(input_shape)
        self.kernel = initializers.glorot_uniform((input_shape[0], self.units), self.dtype)
        self.bias = initializers.zeros((self.units,), self.dtype) if self.use_bias else None
        self.weights = [self.kernel] + ([self.bias] if self.use_bias else [])

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._x = x
        z = x @ self.kernel
        if self.use_bias:
            z += self.bias
        return self._activate(z, fresh=True)

    def backward_preactivation(self, grad_z: np.ndarray, input_gradient: bool = True):
        grad_kernel = self._x.T @ grad_z  # (features, units)
        self.grads = [grad_kernel] + ([grad_z.sum(axis=0)] if self.use_bias else [])
        return grad_z @ self.kernel.T if input_gradient else None


class Activation(ActivatedLayer):
    """Apply an activation function on its own, e.g. ``Activation("relu")``.

    Input shape / Output shape: any; unchanged.
    """

    default_name = "activation"

    def __init__(self, activation, **kwargs) -> None:
        if activation is None:
            raise ValueError("Activation needs an activation name, e.g. Activation('relu')")
        super().__init__(activation=activation, **kwargs)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self._activate(x)

    def backward_preactivation(self, grad_z: np.ndarray, input_gradient: bool = True):
        return grad_z


class Dropout(Layer):
    """Randomly zero a fraction ``rate`` of the inputs while training (inverted dropout).

    Kept values are scaled by ``1 / (1 - rate)`` so the expected sum is unchanged; at inference
    the layer does nothing.

    Parameters
    ----------
    rate : float in [0, 1)
        Fraction of inputs to drop.

    Notes
    -----
    Input shape / Output shape: any; unchanged.
    """

    default_name = "dropout"

    def __init__(self, rate: float, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be a number in [0, 1), got {rate!r}")
        self.rate = float(rate)

    def get_config(self):
        return dict(super().get_config(), rate=self.rate)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0:
            self._mask = None
            return x
        keep = get_rng().random(x.shape) >= self.rate
        self._mask = keep.astype(x.dtype) / (1.0 - self.rate)
        return x * self._mask

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return grad_output if self._mask is None else grad_output * self._mask

