"""Keras 1 spellings, so article-era programs run unchanged.

The article's program was written for Keras 1: ``Convolution2D(32, 3, 3, ...)``,
``Dense(output_dim=128)``, ``fit_generator(..., samples_per_epoch=8000, nb_epoch=25,
nb_val_samples=2000)``. Keras 2 translated these with a warning; so does tinycnn, here, in one place.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Dict

_RENAMED_LAYER_ARGUMENTS = {
    "nb_filter": "filters",
    "output_dim": "units",
    "border_mode": "padding",
    "subsample": "strides",
}


def rename_layer_arguments(layer: str, kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """Translate Keras 1 keyword names (``output_dim``, ``border_mode``, ...) with a warning."""
    for old, new in _RENAMED_LAYER_ARGUMENTS.items():
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"{layer}: got both {old!r} (Keras 1) and {new!r}; pass only {new!r}")
            warnings.warn(f"{layer}: '{old}' is the Keras 1 name; use '{new}'", UserWarning, stacklevel=3)
            kwargs[new] = kwargs.pop(old)
    return kwargs


def generator_steps(samples: Any, generator: Any, argument: str, replacement: str) -> int:
    """Turn a Keras 1 sample count (``samples_per_epoch``) into a number of batches.

    Keras 1 counted *samples*; Keras 2 and tinycnn count *batches*. With a generator that knows
    its ``batch_size`` the count is ``ceil(samples / batch_size)``.
    """
    batch_size = getattr(generator, "batch_size", None)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise TypeError(
            f"{argument} is the Keras 1 argument counting samples; this generator has no "
            f"batch_size to convert it, so pass {replacement} (a number of batches) instead"
        )
    steps = max(1, math.ceil(samples / batch_size))
    warnings.warn(
        f"{argument}={samples} (Keras 1, samples) became {replacement}={steps} "
        f"(batches of {batch_size}); use {replacement} in new code",
        UserWarning, stacklevel=3,
    )
    return steps
