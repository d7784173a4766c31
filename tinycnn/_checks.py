"""Input checks shared by every public entry point.

Each helper raises a ``ValueError``/``TypeError`` that names the argument, says what was given and
what is expected, so that a learner sees *their* mistake, not a NumPy traceback from deep inside.
"""
from __future__ import annotations

import numbers
from typing import Sequence, Tuple, Union

import numpy as np

IntOrPair = Union[int, Sequence[int]]
PADDINGS = ("valid", "same")


def as_float_array(value, name: str, dtype=None) -> np.ndarray:
    """Return ``value`` as a floating-point array (``float32`` unless it already is float64).

    Raises ``TypeError`` for non-numeric input (strings, objects, ``None``) and ``ValueError`` for
    arrays holding NaN or infinity.
    """
    if value is None:
        raise TypeError(f"{name} must be a numeric array, got None")
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged nested lists and friends
        raise TypeError(f"{name} must be a numeric array; could not convert it: {error}") from None
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(
            f"{name} must hold numbers, got an array of dtype {array.dtype!r}"
            + (" (ragged nested lists?)" if array.dtype == object else "")
        )
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got complex dtype {array.dtype}")
    if dtype is None:
        dtype = np.float64 if array.dtype == np.float64 else np.float32
    array = array.astype(dtype, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity; every value must be a finite number")
    return array


def as_pair(value: IntOrPair, name: str) -> Tuple[int, int]:
    """Turn an int or a pair of ints into ``(rows, cols)``; every entry must be a positive int."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be an int or a pair of ints like (2, 2), got {value!r}")
    if pair[0] < 1 or pair[1] < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return pair


def check_padding(padding) -> str:
    """Return ``padding`` lower-cased; only ``"valid"`` and ``"same"`` exist."""
    if not isinstance(padding, str) or padding.lower() not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding.lower()


def check_positive_int(value, name: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)
