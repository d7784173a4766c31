"""Small utilities: reproducible randomness and label encoding."""
from __future__ import annotations

import random
from typing import Optional

import numpy as np

_state = {"rng": np.random.default_rng()}


def set_random_seed(seed: int) -> None:
    """Make everything random in tinycnn reproducible (like ``keras.utils.set_random_seed``).

    Seeds tinycnn's own generator (weight initialisation, shuffling, dropout, augmentation) and,
    for the user's own code, Python's ``random`` and NumPy's global ``np.random``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    _state["rng"] = np.random.default_rng(int(seed))
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def get_rng() -> np.random.Generator:
    """tinycnn's random generator (reseeded by :func:`set_random_seed`)."""
    return _state["rng"]


def to_categorical(y, num_classes: Optional[int] = None, dtype: str = "float32") -> np.ndarray:
    """One-hot encode integer class labels.

    Parameters
    ----------
    y : (N,) integer labels ``0 .. num_classes - 1``.
    num_classes : int, optional
        Number of classes; default ``max(y) + 1``.

    Returns
    -------
    (N, num_classes) array with a single 1 per row.

    Examples
    --------
    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    labels = np.asarray(y)
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise ValueError("to_categorical expects integer class labels, got non-integer values")
    labels = labels.astype(np.int64).reshape(-1)
    if labels.size and labels.min() < 0:
        raise ValueError(f"class labels must be >= 0, got {labels.min()}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"label {labels.max()} does not fit num_classes={num_classes}")
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out
