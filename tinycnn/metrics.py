"""Metrics. ``"accuracy"`` picks the right kind the way Keras does, from the loss and outputs."""
from __future__ import annotations

from typing import Callable

import numpy as np


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> float:
    """Fraction of examples whose probability is on the right side of ``threshold``."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true).reshape(y_pred.shape)
    return float(np.mean((y_pred > threshold) == (y_true > 0.5)))


def categorical_accuracy(y_true, y_pred) -> float:
    """Fraction of examples whose highest output is the one-hot target's class."""
    return float(np.mean(np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred) -> float:
    """Fraction of examples whose highest output is the integer label."""
    labels = np.asarray(y_true).reshape(-1)
    return float(np.mean(np.argmax(y_pred, axis=-1) == labels))


def accuracy_for(loss_name: str, output_units: int) -> Callable:
    """The accuracy Keras uses for ``metrics=["accuracy"]`` with this loss and output size."""
    if loss_name == "sparse_categorical_crossentropy":
        return sparse_categorical_accuracy
    if loss_name == "binary_crossentropy" or output_units == 1:
        return binary_accuracy
    return categorical_accuracy


__all__ = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "accuracy_for"]
