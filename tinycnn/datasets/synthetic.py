"""Synthetic labelled images that make the article's story concrete.

* :func:`make_stripes` -- vertical versus horizontal bars: exactly what one vertical-edge and
  one horizontal-edge 3x3 filter tell apart.
* :func:`make_shapes` -- filled circles, squares, triangles or crosses of random size, place and
  colour: a small stand-in for "is it a cat or a dog?" that a CNN learns in seconds.

Both are vectorised NumPy (no loops over pixels), return float32 channels-last images in [0, 1]
with integer (np.intp) labels, balanced classes in random order, and are reproducible with ``seed``.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

STRIPE_CLASSES = ("vertical", "horizontal")
SHAPES = ("circle", "square", "triangle", "cross")


def _check_common(n_samples: int, image_size: int, channels: int, noise: float,
                  min_size: int) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if (isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer))
            or image_size < min_size):
        raise ValueError(f"image_size must be an integer >= {min_size}, got {image_size!r}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a standard deviation >= 0, got {noise!r}")


def _balanced_labels(n_samples: int, n_classes: int, rng: np.random.RandomState) -> np.ndarray:
    labels = np.arange(n_samples, dtype=np.intp) % n_classes
    rng.shuffle(labels)
    return labels


def make_stripes(n_samples: int = 200, image_size: int = 8, noise: float = 0.1,
                 channels: int = 1, seed: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Images of vertical (label 0) or horizontal (label 1) bright bars on a dark background.

    Every image holds one or two bars, each 1 or 2 pixels thick, at random positions and with
    random brightness, plus Gaussian pixel noise.

    Parameters
    ----------
    n_samples : int
        Number of images (classes are balanced).
    image_size : int
        Height and width in pixels (at least 4).
    noise : float
        Standard deviation of the added Gaussian noise (values are clipped to [0, 1]).
    channels : int
        1 for grey images, 3 for RGB (the same bar in every channel, different noise).
    seed : int, optional
        Seed for a private random generator: same seed, same images.

    Returns
    -------
    x : ndarray, shape (n_samples, image_size, image_size, channels), float32
    y : ndarray, shape (n_samples,), np.intp
        0 = vertical bars, 1 = horizontal bars (names in ``STRIPE_CLASSES``).
    """
    _check_common(n_samples, image_size, channels, noise, min_size=4)
    rng = np.random.RandomState(seed)
    labels = _balanced_labels(n_samples, 2, rng)
    positions = np.arange(image_size)
    profile = np.zeros((n_samples, image_size), dtype=np.float64)
    n_bars = 1 + (rng.uniform(size=n_samples) < 0.5)
    for bar in range(2):  # at most two bars: a loop over bars, not pixels
        start = rng.randint(0, image_size - 1, size=n_samples)
        thickness = rng.randint(1, 3, size=n_samples)
        brightness = rng.uniform(0.6, 1.0, size=n_samples)
        inside = (positions >= start[:, None]) & (positions < (start + thickness)[:, None])
        present = (n_bars > bar)[:, None]
        profile = np.maximum(profile, inside * present * brightness[:, None])
    vertical = profile[:, None, :] * np.ones((1, image_size, 1))    # varies along columns
    horizontal = profile[:, :, None] * np.ones((1, 1, image_size))  # varies along rows
    images = np.where((labels == 0)[:, None, None], vertical, horizontal)
    images = np.repeat(images[..., None], channels, axis=3)
    images = images + rng.normal(0.0, noise, size=images.shape) if noise else images
    return np.clip(images, 0.0, 1.0).astype(np.float32), labels


def _shape_masks(shape: str, rows: np.ndarray, cols: np.ndarray, center_r: np.ndarray,
                 center_c: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Boolean masks ``(n, size, size)`` of one shape kind for per-sample centres and radii."""
    dr = rows[None, :, None] - center_r[:, None, None]
    dc = cols[None, None, :] - center_c[:, None, None]
    r = radius[:, None, None]
    if shape == "circle":
        return dr ** 2 + dc ** 2 <= r ** 2
    if shape == "square":  # about the circle's area: half side = r * sqrt(pi) / 2
        half = 0.886 * r
        return (np.abs(dr) <= half) & (np.abs(dc) <= half)
    if shape == "triangle":  # apex up, base below the centre
        top, base = -r, 0.75 * r
        depth = (dr - top) / (base - top)
        return (dr >= top) & (dr <= base) & (np.abs(dc) <= depth * 1.1 * r)
    if shape == "cross":
        arm = r / 3.0
        return (((np.abs(dr) <= arm) & (np.abs(dc) <= r))
                | ((np.abs(dc) <= arm) & (np.abs(dr) <= r)))
    raise ValueError(f"unknown shape {shape!r}; choose from {SHAPES}")


def make_shapes(n_samples: int = 200, image_size: int = 32,
                shapes: Sequence[str] = ("circle", "square"), channels: int = 3,
                noise: float = 0.05, seed: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Images of one filled shape each (random size, position and colours); label = shape index.

    Parameters
    ----------
    n_samples : int
        Number of images (classes are balanced).
    image_size : int
        Height and width in pixels (at least 8).
    shapes : sequence of str
        The classes, in label order; each one of ``"circle"``, ``"square"``, ``"triangle"``,
        ``"cross"``.
    channels : int
        3 for RGB (random bright shape colour on a random dark background) or 1 for grey.
    noise : float
        Standard deviation of Gaussian pixel noise (values are clipped to [0, 1]).
    seed : int, optional
        Seed for a private random generator: same seed, same images.

    Returns
    -------
    x : ndarray, shape (n_samples, image_size, image_size, channels), float32
    y : ndarray, shape (n_samples,), np.intp
        Index into ``shapes``.
    """
    _check_common(n_samples, image_size, channels, noise, min_size=8)
    if isinstance(shapes, str):
        raise TypeError(f"shapes must be a sequence of shape names, e.g. ('circle', 'square'), "
                        f"not the string {shapes!r}")
    shapes = tuple(shapes)
    unknown = [shape for shape in shapes if shape not in SHAPES]
    if unknown or len(shapes) < 2 or len(set(shapes)) != len(shapes):
        raise ValueError(f"shapes must be two or more different names from {SHAPES}, "
                         f"got {shapes!r}")
    rng = np.random.RandomState(seed)
    labels = _balanced_labels(n_samples, len(shapes), rng)
    radius = rng.uniform(0.18, 0.32, size=n_samples) * image_size
    center_r = rng.uniform(radius, image_size - 1 - radius)
    center_c = rng.uniform(radius, image_size - 1 - radius)
    foreground = rng.uniform(0.55, 1.0, size=(n_samples, channels))
    background = rng.uniform(0.0, 0.35, size=(n_samples, channels))
    grid = np.arange(image_size, dtype=np.float64)
    mask = np.zeros((n_samples, image_size, image_size), dtype=bool)
    for index, shape in enumerate(shapes):  # a loop over classes, vectorised over images
        chosen = labels == index
        mask[chosen] = _shape_masks(shape, grid, grid, center_r[chosen], center_c[chosen],
                                    radius[chosen])
    images = np.where(mask[..., None], foreground[:, None, None, :],
                      background[:, None, None, :])
    images = images + rng.normal(0.0, noise, size=images.shape) if noise else images
    return np.clip(images, 0.0, 1.0).astype(np.float32), labels
