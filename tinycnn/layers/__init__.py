"""Layers: the building blocks of a model, each with a readable ``forward`` and ``backward``.

* convolution: :class:`Conv2D` (alias ``Convolution2D``)
* pooling: :class:`MaxPooling2D`, :class:`AveragePooling2D` (aliases ``MaxPool2D``, ``AvgPool2D``)
* the fully connected part: :class:`Flatten`, :class:`Dense`
* helpers: :class:`Activation`, :class:`Dropout`
"""
from .base import ActivatedLayer, Layer
from .convolutional import Conv2D, Convolution2D
from .core import Activation, Dense, Dropout, Flatten
from .pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D

__all__ = [
    "Layer",
    "ActivatedLayer",
    "Conv2D",
    "Convolution2D",
    "MaxPooling2D",
    "MaxPool2D",
    "AveragePooling2D",
    "AvgPool2D",
    "Flatten",
    "Dense",
    "Activation",
    "Dropout",
]
