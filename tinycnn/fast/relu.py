"""ReLU as tinycnn runs it: :func:`tinycnn.functional.reference.relu`, computed in place.

Every ReLU of tinycnn (the ``"relu"`` activation, the convolution's fused ReLU, the browser's
inference path) comes from here. There is one plain form and one fast variant:

* :func:`relu_in_place`: ``np.maximum(x, 0)`` written over ``x`` (a layer's own fresh
  pre-activation: saves a new array; the backward pass needs only the sign of ``z``, and
  ``relu(z) > 0`` exactly where ``z > 0``).
* :func:`relu_in_place_on_bits`, the fast variant, for Pyodide: the same numbers computed on the
  floats' bit patterns read as integers, ~7x faster there, whose NumPy compares integers much
  faster than floats (measured: ``np.maximum`` 0.9 ns per int32, 6 ns per float32).

  Why it is exact: read as a signed integer, a float ``>= +0.0`` keeps its order and every
  negative float (and ``-0.0``) has the sign bit set, i.e. is a negative integer. So
  ``max(bits, 0)`` keeps every number ``>= 0`` and gives the bits 0 (= ``+0.0``) to the rest,
  ``-inf`` included. A NaN may carry either sign, so with a NaN in ``x`` (a cheap check first:
  the sum is finite) the plain form runs instead. :func:`tinycnn.fast.wide_rows.max_pool` uses
  the same ordering for ``relu(max(window))``.
"""
from __future__ import annotations

import numpy as np

from .platform import keep_where


def relu_in_place(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` written over ``x``; returns ``x``.

    NaN stays NaN and ``-inf`` gives 0, as in PyTorch; ``+= 0.0`` turns ``-0.0`` into ``+0.0``
    (NumPy versions differ in which zero ``np.maximum`` returns for ``max(-0.0, 0)``).
    """
    np.maximum(x, 0, out=x)
    x += 0.0
    return x


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` as a new array."""
    return relu_in_place(np.array(x))


def has_no_nan(x: np.ndarray) -> bool:
    """True when ``x`` holds no NaN (nor inf), i.e. its sum is finite: one fast pass. (A finite
    array whose sum overflows answers False, which only sends callers to their exact slow path.)"""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(x.sum()))


def integer_view(x: np.ndarray) -> np.ndarray:
    """The same memory as signed integers of the same size (float32 -> int32)."""
    return x.view(np.dtype("i%d" % x.dtype.itemsize))


def relu_in_place_on_bits(x: np.ndarray) -> np.ndarray:
    """:func:`relu_in_place` on the integer view when ``x`` holds no NaN (see the module
    docstring for why that is exact); returns ``x``."""
    if not has_no_nan(x):
        return relu_in_place(x)
    bits = integer_view(x)
    np.maximum(bits, 0, out=bits)
    return x


def relu_backward(grad: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``grad`` where the input ``z`` was positive, else exactly 0 (the activation's backward
    rule, ``(grad_a, z, a) -> grad_z``)."""
    return keep_where(z > 0, grad)
