"""Stateless building blocks: the computations behind every layer, as plain functions.

Each works on the article's single matrix ``(H, W)`` as well as on batches ``(N, H, W, C)``.

Examples
--------
>>> import tinycnn.functional as F
>>> F.conv2d([[3, 1, 1], [1, 0, 7], [2, 3, 5]], [[1, 0, -1]] * 3)
array([[-7.]], dtype=float32)
"""
from .activations import linear, relu, sigmoid, softmax, tanh
from .convolution import conv2d, conv2d_backward, conv2d_forward
from .flatten import flatten
from .pooling import (
    avg_pool2d,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
)
from .windows import output_size

__all__ = [
    "conv2d",
    "conv2d_forward",
    "conv2d_backward",
    "max_pool2d",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "flatten",
    "output_size",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "linear",
]
