"""Activation functions, each with its derivative right beside it.

Every activation is an :class:`ActivationFunction`: ``forward(z) -> a`` and
``backward(grad_a, z, a) -> grad_z`` (the chain rule through the activation; whichever of the
input ``z`` or output ``a`` makes the derivative simplest is used). Look one up by name with
:func:`get`.

The public functions (``relu(x)``, ...) check their input like every tinycnn entry point, then
call the unchecked math (``_relu``, ...), which the layers use directly on arrays they have
already checked. ReLU's math lives in :mod:`tinycnn.fast.relu` (one place for every ReLU of
tinycnn); :mod:`tinycnn.functional.reference` has the plain definitions.
"""
from __future__ import annotations

from typing import Callable, Dict, NamedTuple, Optional, Union

import numpy as np

from .._checks import as_float_array
from ..fast.relu import relu as _relu
from ..fast.relu import relu_backward as _relu_backward
from ..fast.relu import relu_in_place as _relu_in_place


def relu(x):
    """Rectified linear unit: ``max(x, 0)`` element-wise."""
    return _relu(as_float_array(x, "x"))


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, squashing to (0, 1).

    Written as ``(1 + tanh(x / 2)) / 2``, the same function, which never overflows.
    """
    return _sigmoid(as_float_array(x, "x"))


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _sigmoid_backward(grad, z, a):
    return grad * a * (1.0 - a)


def tanh(x):
    """Hyperbolic tangent, squashing to (-1, 1)."""
    return np.tanh(as_float_array(x, "x"))


def _tanh_backward(grad, z, a):
    return grad * (1.0 - a * a)


def softmax(x, axis: int = -1):
    """Softmax along ``axis``: ``exp(x) / sum(exp(x))``, turning scores into probabilities.

    The maximum is subtracted first (it does not change the result) so ``exp`` never overflows.
    """
    return _softmax(as_float_array(x, "x"), axis)


def _softmax(x, axis: int = -1):
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def _softmax_backward(grad, z, a):
    # Jacobian-vector product of softmax: a * (grad - <grad, a>)
    return a * (grad - (grad * a).sum(axis=-1, keepdims=True))


def linear(x):
    """The identity ("no activation")."""
    return as_float_array(x, "x")


def _linear(x):
    return x


def _linear_backward(grad, z, a):
    return grad


class ActivationFunction(NamedTuple):
    """An activation's name, forward function and backward rule."""

    name: str
    forward: Callable
    backward: Callable  # (grad_a, z, a) -> grad_z
    forward_in_place: Optional[Callable] = None  # may overwrite z (only if backward allows it)


ACTIVATIONS: Dict[str, ActivationFunction] = {
    "relu": ActivationFunction("relu", _relu, _relu_backward, _relu_in_place),
    "sigmoid": ActivationFunction("sigmoid", _sigmoid, _sigmoid_backward),
    "tanh": ActivationFunction("tanh", np.tanh, _tanh_backward),
    "softmax": ActivationFunction("softmax", _softmax, _softmax_backward),
    "linear": ActivationFunction("linear", _linear, _linear_backward),
}


def get(identifier: Union[str, None, ActivationFunction]) -> ActivationFunction:
    """Look up an activation by name (``None`` means ``"linear"``).

    Raises ``ValueError`` naming the known activations for an unknown name.
    """
    if identifier is None:
        return ACTIVATIONS["linear"]
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ACTIVATIONS:
        return ACTIVATIONS[identifier.lower()]
    raise ValueError(
        f"unknown activation {identifier!r}; expected one of {sorted(ACTIVATIONS)} or None"
    )
