"""Turning what ``fit``/``evaluate``/``predict`` receive into batches.

Three kinds of input are accepted, as in Keras:

* arrays ``x`` (and ``y``): cut into batches of ``batch_size``, shuffled each epoch if asked;
* a *Sequence*: any object with ``__len__`` (batches per epoch) and ``__getitem__(i)`` returning
  ``(x_batch, y_batch)``, e.g. the iterators of :mod:`tinycnn.preprocessing.image`;
* a *generator* (or any iterator) yielding ``(x_batch, y_batch)`` forever: ``steps`` then says
  how many batches make one epoch.
"""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import numpy as np

from .utils import get_rng


def is_batch_source(x) -> bool:
    """True for Sequences and generators/iterators (not for arrays, lists or tuples)."""
    if isinstance(x, (np.ndarray, list, tuple)) or np.isscalar(x) or x is None:
        return False
    return hasattr(x, "__next__") or (hasattr(x, "__getitem__") and hasattr(x, "__len__"))


def steps_of(source, steps: Optional[int], argument: str) -> int:
    """Number of batches to draw from ``source`` in one pass."""
    if steps is not None:
        # a whole float is fine: the article writes steps_per_epoch=8000/32 (== 250.0)
        if isinstance(steps, bool) or not isinstance(steps, (int, float, np.integer, np.floating)) \
                or steps < 1 or steps != int(steps):
            raise ValueError(f"{argument} must be a positive whole number, got {steps!r}")
        return int(steps)
    if hasattr(source, "__len__"):
        length = len(source)
        if length < 1:
            raise ValueError(f"the data source given has no batches (len() == {length})")
        return length
    raise ValueError(
        f"{argument} is required when the data is a generator (it has no len()): "
        f"say how many batches make one epoch, e.g. {argument}=100"
    )


def source_batches(source, steps: int) -> Iterator[Tuple]:
    """Draw ``steps`` batches from a Sequence (by index) or an iterator (by ``next``)."""
    if hasattr(source, "__getitem__") and hasattr(source, "__len__"):  # a Sequence
        length = len(source)
        for i in range(steps):
            if i and i % length == 0 and hasattr(source, "on_epoch_end"):
                source.on_epoch_end()  # a full pass is done: reshuffle / new augmentations
            yield _as_tuple(source[i % length])
        if hasattr(source, "on_epoch_end"):  # e.g. reshuffle for the next epoch
            source.on_epoch_end()
        return
    for _ in range(steps):
        try:
            yield _as_tuple(next(source))
        except StopIteration:
            raise ValueError(
                f"the generator ran out of batches before {steps} steps; make it loop forever "
                "or pass a smaller steps_per_epoch / validation_steps"
            ) from None


def _as_tuple(batch) -> Tuple:
    if isinstance(batch, tuple) and len(batch) in (1, 2, 3):
        return batch if len(batch) > 1 else (batch[0], None)
    return (batch, None)


def array_batches(x: np.ndarray, y: Optional[np.ndarray], batch_size: int, shuffle: bool):
    """Yield ``(x_batch, y_batch)`` slices of arrays, in a fresh random order if ``shuffle``."""
    count = len(x)
    order = get_rng().permutation(count) if shuffle else None
    for start in range(0, count, batch_size):
        if order is None:
            index = slice(start, start + batch_size)
        else:
            index = np.sort(order[start : start + batch_size])  # sorted: faster gathers
        yield x[index], (None if y is None else y[index])
