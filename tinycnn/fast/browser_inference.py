"""How ``Sequential.predict`` and ``evaluate`` run in the browser.

In the page (Pyodide, no BLAS: ``CONV_STRATEGY == "axpy"``) a model's inference runs its
stride-1 convolutions, their activations and the max pooling after them in the "wide rows"
layout of :mod:`tinycnn.fast.wide_rows` (measured ~1.6x faster there on the LeNet-like
benchmark model), and every other layer as usual. The numbers are those of the layers'
own ``forward`` (the tests check both against the reference and PyTorch); training is untouched.
It reads only the layers' public attributes (``kernel``, ``bias``, ``strides``, ``padding``,
``activation``, ``pool_size``).

Natively (``"blas"``) :func:`predict` is not used (:func:`tinycnn.fast.predict` decides): one
BLAS product per layer is faster there.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from .. import fast
from ..layers.base import Layer
from ..layers.convolutional import Conv2D
from ..layers.pooling import MaxPooling2D
from . import wide_rows
from .relu import relu_in_place_on_bits

# activations that act on each number alone, so they can run on the wide rows, spare cells and all
_ELEMENTWISE = ("linear", "relu", "sigmoid", "tanh")


def applies() -> bool:
    """True when :func:`predict` is the faster way (NumPy without BLAS: the browser)."""
    return fast.CONV_STRATEGY == "axpy"


def _fits(layer: Layer) -> bool:
    """A stride-1 Conv2D with an elementwise activation on ``(N, H, W, C)`` input."""
    return (isinstance(layer, Conv2D) and layer.strides == (1, 1)
            and layer.activation.name in _ELEMENTWISE)


def _pool_after(layers: Sequence[Layer], index: int) -> Optional[Tuple[int, int]]:
    """The pool size if ``layers[index]`` is a max pooling that the wide rows can do:
    non-overlapping windows (strides = pool size) and ``"valid"`` padding."""
    if index >= len(layers):
        return None
    layer = layers[index]
    if (isinstance(layer, MaxPooling2D) and layer.strides == layer.pool_size
            and layer.padding == "valid"):
        return layer.pool_size
    return None


def predict(layers: Sequence[Layer], x: np.ndarray) -> np.ndarray:
    """The layers' inference output for a batch ``x`` ``(N, ...)``, as
    ``for layer in layers: x = layer.forward(x, training=False)`` computes it."""
    rows: Optional[wide_rows.WideRows] = None  # the activations, when in the wide-rows layout
    index = 0
    while index < len(layers):
        layer = layers[index]
        if _fits(layer):
            planes = rows.planes if rows is not None else wide_rows.batch_to_planes(x)
            pool = _pool_after(layers, index + 1)
            rows = wide_rows.conv2d(planes, layer.kernel, layer.bias, layer.padding,
                                    step_multiple=pool[1] if pool else 1)
            name = layer.activation.name
            if pool is not None:  # conv -> activation -> max pool
                if name == "relu":  # fused: relu(max(window)) == max(relu(window))
                    rows = wide_rows.max_pool(rows, pool, relu_after=True)
                else:
                    rows = wide_rows.max_pool(_activate(rows, layer.activation), pool)
                index += 2
            else:
                rows = _activate(rows, layer.activation)
                index += 1
            continue
        if rows is not None:
            x, rows = rows.to_batch(), None
        x = layer.forward(x, training=False)
        index += 1
    return rows.to_batch() if rows is not None else x


def _activate(rows: wide_rows.WideRows, activation) -> wide_rows.WideRows:
    """An elementwise activation (a layer's ``activation``) on the wide rows."""
    if activation.name == "relu":
        relu_in_place_on_bits(rows.data)
        return rows
    if activation.name == "linear":
        return rows
    # sigmoid, tanh: elementwise, so the spare cells are computed too, and ignored
    return rows._replace(data=activation.forward(rows.data))
