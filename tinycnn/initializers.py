"""Weight initialisation (Keras defaults: Glorot-uniform kernels, zero biases)."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from .utils import get_rng


def fans(shape: Tuple[int, ...]) -> Tuple[int, int]:
    """``(fan_in, fan_out)`` of a Dense ``(in, out)`` or conv ``(kh, kw, C_in, C_out)`` kernel."""
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = int(np.prod(shape[:-2]))
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def glorot_uniform(shape: Tuple[int, ...], dtype="float32") -> np.ndarray:
    """Uniform in ``[-limit, limit]`` with ``limit = sqrt(6 / (fan_in + fan_out))``.

    Keeps the variance of activations roughly constant from layer to layer (Glorot & Bengio, 2010).
    """
    fan_in, fan_out = fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return get_rng().uniform(-limit, limit, size=shape).astype(dtype)


def zeros(shape: Tuple[int, ...], dtype="float32") -> np.ndarray:
    """All zeros (the default bias)."""
    return np.zeros(shape, dtype=dtype)
