"""The model zoo: named, ready-made architectures (like ``keras.applications``, untrained).

Every builder returns a built, uncompiled :class:`~tinycnn.models.Sequential` with fresh random
weights; compile it with the loss that fits its output (:func:`output_layer`). The builders
are re-exported from :mod:`tinycnn.models`: ``from tinycnn.models import article_cnn``.

=================  =============================================  ==========================
builder            layers                                         used by
=================  =============================================  ==========================
:func:`article_cnn`  the article's cats-vs-dogs network             ``tinycnn train``, benchmarks,
                                                                  the architecture demo
:func:`lenet`      two 'same' convolutions + poolings, a softmax   benchmarks (28x28 digits),
                                                                  the digits demos (8x8)
:func:`small_cnn`  one convolution + pooling                       ``tinycnn train --model small``
=================  =============================================  ==========================
"""
from __future__ import annotations

from typing import Sequence

from ._checks import check_positive_int
from .layers import Conv2D, Dense, Flatten, MaxPooling2D
from .models import Sequential


def output_layer(classes: int, dtype: str = "float32") -> Dense:
    """The classifier's last layer: ``Dense(1, "sigmoid")`` for two classes (compile with
    ``binary_crossentropy``), else ``Dense(classes, "softmax")`` (``categorical_crossentropy``
    or ``sparse_categorical_crossentropy``).

    Examples
    --------
    >>> output_layer(2).units, output_layer(10).activation.name
    (1, 'softmax')
    """
    classes = check_positive_int(classes, "classes")
    if classes < 2:
        raise ValueError(f"classes must be at least 2, got {classes}")
    if classes == 2:
        return Dense(1, activation="sigmoid", dtype=dtype)
    return Dense(classes, activation="softmax", dtype=dtype)


def _image_shape(input_shape: Sequence[int], smallest: int, model: str, why: str):
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"{model} takes input_shape (rows, cols, channels), got {input_shape!r}")
    if min(shape[:2]) < smallest:
        raise ValueError(f"{model} needs images of at least {smallest}x{smallest} pixels ({why}), "
                         f"got {shape[0]}x{shape[1]}")
    return shape


def article_cnn(input_shape: Sequence[int] = (64, 64, 3), classes: int = 2,
                dtype: str = "float32") -> Sequential:
    """The article's network: two convolution + max-pooling stages, then two dense layers.

    ``Conv2D(32, (3, 3), relu) -> MaxPooling2D(2) -> Conv2D(32, (3, 3), relu) ->
    MaxPooling2D(2) -> Flatten -> Dense(128, relu) ->`` :func:`output_layer` (for two classes
    ``Dense(1, sigmoid)``): 813,217 parameters on 64x64 colour images, as in Keras.

    Input shape
    -----------
    ``(batch, rows, cols, channels)``, rows and cols at least 10; default ``(64, 64, 3)``.

    Output shape
    ------------
    ``(batch, 1)`` for two classes (the probability of class 1), else ``(batch, classes)``.

    Examples
    --------
    >>> model = article_cnn()
    >>> model.output_shape, model.count_params()
    ((None, 1), 813217)
    """
    shape = _image_shape(input_shape, 10, "article_cnn",
                         "two 3x3 convolutions and two 2x2 poolings")
    return Sequential([
        Conv2D(32, (3, 3), activation="relu", input_shape=shape, dtype=dtype),
        MaxPooling2D(pool_size=(2, 2), dtype=dtype),
        Conv2D(32, (3, 3), activation="relu", dtype=dtype),
        MaxPooling2D(pool_size=(2, 2), dtype=dtype),
        Flatten(dtype=dtype),
        Dense(128, activation="relu", dtype=dtype),
        output_layer(classes, dtype),
    ])


def lenet(input_shape: Sequence[int] = (28, 28, 1), classes: int = 10, kernel_size: int = 5,
          dtype: str = "float32") -> Sequential:
    """A LeNet-like digit classifier: two 'same' convolution + max-pooling stages, one output.

    ``Conv2D(8, kernel_size, 'same', relu) -> MaxPooling2D(2) -> Conv2D(16, kernel_size,
    'same', relu) -> MaxPooling2D(2) -> Flatten ->`` :func:`output_layer`. The benchmarks
    (``scripts/bench.py``, ``scripts/bench_browser.py``) time it on 28x28 images with 5x5
    kernels; the site's digit demos train it on the 8x8 digits with ``kernel_size=3``.

    Input shape
    -----------
    ``(batch, rows, cols, channels)``, rows and cols at least 4; default ``(28, 28, 1)``.

    Output shape
    ------------
    ``(batch, classes)`` (``(batch, 1)`` for two classes).

    Examples
    --------
    >>> model = lenet()
    >>> model.output_shape, model.count_params()
    ((None, 10), 11274)
    >>> lenet((8, 8, 1), kernel_size=3).layers[-1].input_shape
    (64,)
    """
    shape = _image_shape(input_shape, 4, "lenet", "two 2x2 poolings")
    return Sequential([
        Conv2D(8, kernel_size, padding="same", activation="relu", input_shape=shape, dtype=dtype),
        MaxPooling2D(pool_size=(2, 2), dtype=dtype),
        Conv2D(16, kernel_size, padding="same", activation="relu", dtype=dtype),
        MaxPooling2D(pool_size=(2, 2), dtype=dtype),
        Flatten(dtype=dtype),
        output_layer(classes, dtype),
    ])


def small_cnn(input_shape: Sequence[int] = (8, 8, 1), classes: int = 10,
              dtype: str = "float32") -> Sequential:
    """The smallest useful CNN: one convolution + max-pooling stage, then the output.

    ``Conv2D(8, (3, 3), 'same', relu) -> MaxPooling2D(2) -> Flatten ->`` :func:`output_layer`;
    quick to train on the 8x8 digits (``tinycnn train digits --model small``).

    Input shape
    -----------
    ``(batch, rows, cols, channels)``, rows and cols at least 2; default ``(8, 8, 1)``.

    Output shape
    ------------
    ``(batch, classes)`` (``(batch, 1)`` for two classes).

    Examples
    --------
    >>> small_cnn().count_params()
    1370
    """
    shape = _image_shape(input_shape, 2, "small_cnn", "a 2x2 pooling")
    return Sequential([
        Conv2D(8, (3, 3), padding="same", activation="relu", input_shape=shape, dtype=dtype),
        MaxPooling2D(pool_size=(2, 2), dtype=dtype),
        Flatten(dtype=dtype),
        output_layer(classes, dtype),
    ])


__all__ = ["article_cnn", "lenet", "small_cnn", "output_layer"]
