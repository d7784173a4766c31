"""Accept the article's single matrix as well as Keras-style batches.

The tutorial computes on one grey matrix ``(H, W)``; real layers compute on batches
``(N, H, W, C)``. The functional API accepts both (and a single image ``(H, W, C)``): inputs are
lifted to a batch, computed on, and the result is given back in the caller's rank.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from .._checks import as_float_array

_MEANING = "(a matrix (H, W), an image (H, W, C) or a batch (N, H, W, C))"


def to_batch(x, name: str = "x") -> Tuple[np.ndarray, int]:
    """Return ``(batch, rank)``: ``x`` as ``(N, H, W, C)`` and the rank it came in with."""
    array = as_float_array(x, name)
    if array.ndim == 2:
        return array[None, :, :, None], 2
    if array.ndim == 3:
        return array[None], 3
    if array.ndim == 4:
        return array, 4
    raise ValueError(f"{name} must have 2, 3 or 4 dimensions {_MEANING}, got shape {array.shape}")


def to_rank(batch: np.ndarray, rank: int) -> np.ndarray:
    """Undo :func:`to_batch`: ``(N, H, W, C)`` back to rank 2, 3 or 4."""
    if rank == 2:
        return batch[0, :, :, 0] if batch.shape[3] == 1 else batch[0]
    if rank == 3:
        return batch[0]
    return batch
