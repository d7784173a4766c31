"""The base class every layer shares: shapes, weights, and the forward/backward contract.

A layer is built once it knows its input shape (from ``input_shape=`` or from the previous layer);
building creates its weights. Then:

* ``forward(x, training)`` computes the output and remembers what backward will need;
* ``backward(grad_output)`` receives ``dL/d(output)``, stores ``dL/d(weight)`` for every weight in
  ``self.grads`` (same order as ``self.weights``) and returns ``dL/d(input)``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .._checks import as_float_array
from ..functional import activations

Shape = Tuple[Optional[int], ...]


class Layer:
    """Base layer. Subclasses implement ``build``, ``compute_output_shape``, ``forward``, ``backward``.

    Parameters
    ----------
    input_shape : tuple of int, optional
        Shape of one example, without the batch axis, e.g. ``(64, 64, 3)``. Only needed on the
        first layer of a model.
    name : str, optional
        Defaults to a snake-case version of the class name, made unique by the model.
    dtype : ``"float32"`` (default) or ``"float64"``
        Type of the weights and of the computation.
    """

    default_name = "layer"

    def __init__(self, input_shape: Optional[Sequence[int]] = None, name: Optional[str] = None,
                 dtype: str = "float32") -> None:
        if input_shape is not None:
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            if not isinstance(input_shape, (tuple, list)) or not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0
                for d in input_shape
            ):
                raise ValueError(
                    f"input_shape must be a tuple of positive ints without the batch axis, "
                    f"e.g. (64, 64, 3); got {input_shape!r}"
                )
            input_shape = tuple(int(d) for d in input_shape)
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.input_shape: Optional[Tuple[int, ...]] = input_shape
        self.name = name or self.default_name
        self.dtype = np.dtype(dtype)
        self.output_shape: Optional[Shape] = None
        self.built = False
        self.weights: List[np.ndarray] = []
        self.grads: List[np.ndarray] = []

    # ----- shapes and weights --------------------------------------------------------------
    def build(self, input_shape: Tuple[int, ...]) -> None:
        """Create the weights for inputs of shape ``input_shape`` (no batch axis)."""
        self.input_shape = tuple(input_shape)
        self.output_shape = (None,) + tuple(self.compute_output_shape(self.input_shape))
        self.built = True

    def compute_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        """Shape of one output example for one input example of ``input_shape``."""
        return tuple(input_shape)

    def count_params(self) -> int:
        """Number of weights (every entry of every weight array)."""
        return int(sum(w.size for w in self.weights))

    def get_weights(self) -> List[np.ndarray]:
        """Copies of the weights, Keras order (kernel, then bias)."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Replace the weights in place; shapes must match exactly (checked before any change)."""
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise ValueError(
                f"layer {self.name!r} has {len(self.weights)} weight arrays, got {len(weights)}"
            )
        arrays = []
        for i, (new, old) in enumerate(zip(weights, self.weights)):
            new = as_float_array(new, f"weight {i} of layer {self.name!r}")
            if new.shape != old.shape:
                raise ValueError(
                    f"weight {i} of layer {self.name!r} must have shape {old.shape}, got {new.shape}"
                )
            arrays.append(new)
        for old, new in zip(self.weights, arrays):
            old[...] = new  # in place: optimizers keep references to these arrays

    # ----- configuration (what model.save stores) --------------------------------------------
    def get_config(self) -> Dict[str, Any]:
        """The layer's constructor arguments, with Keras's names (``name``, ``dtype``,
        ``input_shape`` once known, plus each layer's own, e.g. ``filters``, ``units``).

        ``type(layer).from_config(layer.get_config())`` makes a new layer like this one, without
        its weights. Subclasses with arguments of their own extend this dict.
        """
        config: Dict[str, Any] = {"name": self.name, "dtype": self.dtype.name}
        if self.input_shape is not None:
            config["input_shape"] = tuple(self.input_shape)
        return config

    @classmethod
    def from_config(cls, config: Dict[str, Any]) -> "Layer":
        """A new layer from :meth:`get_config`'s dict (``cls(**config)``, as in Keras)."""
        return cls(**config)

    # ----- computation ---------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x, training: bool = False) -> np.ndarray:
        """Check ``x`` (a batch), build the layer if needed, and run :meth:`forward`."""
        x = as_float_array(x, "x", dtype=self.dtype)
        if not self.built:
            self.build(x.shape[1:])
        elif x.shape[1:] != self.input_shape:
            raise ValueError(
                f"layer {self.name!r} expects input of shape {(None,) + self.input_shape}, "
                f"got {x.shape}"
            )
        return self.forward(x, training=training)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} output_shape={self.output_shape}>"


class ActivatedLayer(Layer):
    """A layer followed by an optional activation (``Conv2D`` and ``Dense``).

    ``backward`` first goes back through the activation, then through the layer itself
    (:meth:`backward_preactivation`). A loss that already knows the gradient with respect to the
    pre-activation (softmax + cross-entropy) calls :meth:`backward_preactivation` directly.
    """

    def __init__(self, activation=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def get_config(self) -> Dict[str, Any]:
        return dict(super().get_config(), activation=self.activation.name)

    def _activate(self, z: np.ndarray, fresh: bool = False) -> np.ndarray:
        """Apply the activation, remembering ``z`` and ``a`` for backward. ``fresh``: ``z`` is a
        new array of the layer's own, which an activation may overwrite (ReLU does)."""
        if fresh and self.activation.forward_in_place is not None:
            self._z = self._a = self.activation.forward_in_place(z)
        else:
            self._z = z
            self._a = self.activation.forward(z)
        return self._a

    def backward(self, grad_output: np.ndarray, input_gradient: bool = True) -> Optional[np.ndarray]:
        """``dL/d(output)`` -> ``dL/d(input)`` (None when ``input_gradient=False``, which a model
        passes to its first layer: the data needs no gradient, so that work is skipped)."""
        grad_z = self.activation.backward(grad_output, self._z, self._a)
        return self.backward_preactivation(grad_z, input_gradient)

    def backward_preactivation(self, grad_z: np.ndarray,
                               input_gradient: bool = True) -> Optional[np.ndarray]:
        raise NotImplementedError


def require_rank(layer: Layer, input_shape: Tuple[int, ...], rank: int, meaning: str, hint: str) -> None:
    """Raise a clear ``ValueError`` when a layer is built on inputs of the wrong rank."""
    if len(input_shape) != rank:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r} expects inputs {meaning}, i.e. "
            f"{rank} dimensions per example, but got examples of shape {tuple(input_shape)}. {hint}"
        )
