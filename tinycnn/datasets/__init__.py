"""Datasets: the real 8x8 digits, synthetic labelled images, MNIST IDX files, image folders.

Examples
--------
>>> from tinycnn.datasets import load_digits, make_stripes
>>> x, y = load_digits()              # (1797, 8, 8, 1) float32 in [0, 1], labels 0..9
>>> x, y = make_stripes(100, seed=0)  # vertical (0) vs horizontal (1) bars
"""
from tinycnn.datasets.digits import load_digits, save_digits_npz
from tinycnn.datasets.idx import load_mnist_idx, read_idx, write_idx
from tinycnn.datasets.image_folder import make_image_folder
from tinycnn.datasets.synthetic import SHAPES, STRIPE_CLASSES, make_shapes, make_stripes

__all__ = [
    "load_digits",
    "save_digits_npz",
    "make_stripes",
    "make_shapes",
    "STRIPE_CLASSES",
    "SHAPES",
    "read_idx",
    "write_idx",
    "load_mnist_idx",
    "make_image_folder",
]
