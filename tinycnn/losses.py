"""Loss functions: one number that says how wrong the predictions are, and its gradient.

Every loss is a :class:`Loss` with ``__call__(y_true, y_pred) -> float`` (the mean over the
batch) and ``gradient(y_true, y_pred)`` (``dL/d(y_pred)``, already divided by the batch size).

Cross-entropies after the matching output activation (sigmoid + binary, softmax + categorical)
also give the gradient with respect to the *pre-activation* directly, ``(y_pred - y_true) / N``:
the textbook simplification, exact and numerically stable even when a probability rounds to 0 or 1
(Keras does the same by reading the logits behind a sigmoid/softmax output).
"""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np

EPSILON = 1e-7  # Keras's backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON]


class Loss:
    """Base class. ``fused_activation`` names the output activation whose pre-activation gradient
    :meth:`gradient_preactivation` knows (``None`` if none)."""

    name = "loss"
    fused_activation: Optional[str] = None

    def prepare_targets(self, y_true, y_pred: np.ndarray) -> np.ndarray:
        """Return ``y_true`` shaped like ``y_pred`` (checked)."""
        y_true = np.asarray(y_true, dtype=y_pred.dtype)
        if y_true.shape != y_pred.shape:
            if y_true.size == y_pred.size and y_true.shape[:1] == y_pred.shape[:1]:
                y_true = y_true.reshape(y_pred.shape)  # e.g. labels (N,) for outputs (N, 1)
            else:
                raise ValueError(
                    f"{self.name}: targets of shape {y_true.shape} do not match the model's "
                    f"outputs of shape {y_pred.shape}"
                    + (" (for integer class labels use loss='sparse_categorical_crossentropy', "
                       "or one-hot encode them with tinycnn.utils.to_categorical)"
                       if y_true.ndim == 1 and y_pred.ndim == 2 else "")
                )
        return y_true

    def __call__(self, y_true, y_pred) -> float:
        raise NotImplementedError

    def gradient(self, y_true, y_pred) -> np.ndarray:
        raise NotImplementedError

    def gradient_preactivation(self, y_true, y_pred) -> np.ndarray:
        """``dL/dz`` where ``y_pred = activation(z)`` and ``activation`` is ``fused_activation``."""
        return (y_pred - self.prepare_targets(y_true, y_pred)) / y_pred.shape[0]

    def __repr__(self) -> str:
        return f"<loss {self.name}>"


class BinaryCrossentropy(Loss):
    """``-mean(y log p + (1 - y) log(1 - p))`` for probabilities ``p`` of a sigmoid output.

    ``p`` is clipped to ``[1e-7, 1 - 1e-7]`` (as in Keras) so the loss stays finite.
    """

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def __call__(self, y_true, y_pred) -> float:
        y = self.prepare_targets(y_true, y_pred)
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        per_example = -(y * np.log(p) + (1 - y) * np.log(1 - p)).reshape(len(p), -1).mean(axis=1)
        return float(per_example.mean())

    def gradient(self, y_true, y_pred) -> np.ndarray:
        y = self.prepare_targets(y_true, y_pred)
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        per_row = y_pred[0].size
        return (p - y) / (p * (1 - p)) / (len(p) * per_row)

    def gradient_preactivation(self, y_true, y_pred) -> np.ndarray:
        return super().gradient_preactivation(y_true, y_pred) / y_pred[0].size


class CategoricalCrossentropy(Loss):
    """``-mean(sum(y * log p))`` for one-hot targets ``y`` and softmax probabilities ``p``.

    As in Keras, ``p`` is renormalised to sum to 1 and clipped to ``[1e-7, 1 - 1e-7]``.
    """

    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def _probabilities(self, y_pred):
        p = y_pred / y_pred.sum(axis=-1, keepdims=True)
        return np.clip(p, EPSILON, 1 - EPSILON)

    def __call__(self, y_true, y_pred) -> float:
        y = self.prepare_targets(y_true, y_pred)
        return float(-(y * np.log(self._probabilities(y_pred))).sum(axis=-1).mean())

    def gradient(self, y_true, y_pred) -> np.ndarray:
        y = self.prepare_targets(y_true, y_pred)
        total = y_pred.sum(axis=-1, keepdims=True)
        p = y_pred / total
        # d/dy_pred of -sum(y log(y_pred / total)) = -y / y_pred + sum(y) / total
        grad = -y / np.maximum(y_pred, EPSILON * total) + y.sum(axis=-1, keepdims=True) / total
        grad = np.where((p > EPSILON) | (y == 0), grad, 0)  # clipped entries pass no gradient
        return grad / len(y_pred)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class labels ``(N,)`` instead of one-hot rows."""

    name = "sparse_categorical_crossentropy"

    def prepare_targets(self, y_true, y_pred):
        labels = np.asarray(y_true)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1 or len(labels) != len(y_pred):
            raise ValueError(
                f"{self.name} expects one integer label per example, shape ({len(y_pred)},); "
                f"got shape {labels.shape}"
            )
        if labels.size and (not np.all(np.mod(labels, 1) == 0) or labels.min() < 0
                            or labels.max() >= y_pred.shape[-1]):
            raise ValueError(
                f"{self.name}: labels must be integers in 0..{y_pred.shape[-1] - 1} "
                f"(the model has {y_pred.shape[-1]} outputs); got values from {labels.min()} "
                f"to {labels.max()}"
            )
        one_hot = np.zeros_like(y_pred)
        one_hot[np.arange(len(labels)), labels.astype(np.int64)] = 1
        return one_hot


class MeanSquaredError(Loss):
    """``mean((y - p)^2)``: mean over outputs, then over the batch."""

    name = "mse"

    def __call__(self, y_true, y_pred) -> float:
        y = self.prepare_targets(y_true, y_pred)
        return float(((y_pred - y) ** 2).reshape(len(y), -1).mean(axis=1).mean())

    def gradient(self, y_true, y_pred) -> np.ndarray:
        y = self.prepare_targets(y_true, y_pred)
        return 2 * (y_pred - y) / y_pred.size


LOSSES: Dict[str, type] = {
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
}


def get(identifier) -> Loss:
    """A loss from its name (e.g. ``"binary_crossentropy"``) or a :class:`Loss` instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in LOSSES:
        return LOSSES[identifier.lower()]()
    raise ValueError(f"unknown loss {identifier!r}; expected one of {sorted(LOSSES)}")


def binary_crossentropy(y_true, y_pred) -> float:
    """Mean binary cross-entropy of probabilities ``y_pred`` (see :class:`BinaryCrossentropy`)."""
    return BinaryCrossentropy()(y_true, np.asarray(y_pred, dtype=float))


def categorical_crossentropy(y_true, y_pred) -> float:
    """Mean categorical cross-entropy (see :class:`CategoricalCrossentropy`)."""
    return CategoricalCrossentropy()(y_true, np.asarray(y_pred, dtype=float))


def sparse_categorical_crossentropy(y_true, y_pred) -> float:
    """Mean categorical cross-entropy with integer labels."""
    return SparseCategoricalCrossentropy()(y_true, np.asarray(y_pred, dtype=float))


def mse(y_true, y_pred) -> float:
    """Mean squared error."""
    return MeanSquaredError()(y_true, np.asarray(y_pred, dtype=float))


mean_squared_error = mse

__all__ = [
    "Loss", "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "MeanSquaredError", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "mse", "mean_squared_error", "get",
]
