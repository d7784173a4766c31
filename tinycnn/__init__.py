"""tinycnn: a tiny, readable NumPy convolutional-network library with a Keras-shaped API.

Examples
--------
>>> import tinycnn
>>> from tinycnn.layers import Conv2D, MaxPooling2D, Flatten, Dense
>>> model = tinycnn.models.Sequential([Conv2D(8, 3, activation="relu", input_shape=(8, 8, 1)),
...                                    MaxPooling2D(), Flatten(), Dense(10, activation="softmax")])
"""

__version__ = "0.1.0"

from . import (  # noqa: E402  (the version must be importable without NumPy work)
    callbacks,
    datasets,
    functional,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    preprocessing,
    utils,
)
from .models import Sequential  # noqa: E402

__all__ = [
    "__version__", "callbacks", "datasets", "functional", "initializers", "layers", "losses", "metrics",
    "models", "optimizers", "preprocessing", "utils", "Sequential",
]
