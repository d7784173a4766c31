"""Vectorised affine warps of image batches (rotation, shift, shear, zoom, flips), pure NumPy.

Every image gets its own 3x3 matrix acting on homogeneous ``(row, col, 1)`` pixel coordinates
measured from the image centre. The matrix maps an *output* pixel to the *input* position it
samples, so one ``matmul`` turns one shared coordinate grid into all per-image sampling grids,
and four fancy-indexing gathers do bilinear interpolation for the whole batch at once: no loop
over images or pixels.

Conventions (all angles in degrees):

* ``theta`` > 0 rotates the picture counter-clockwise (90 gives ``np.rot90``);
* ``tx`` > 0 moves the picture right by ``tx`` pixels, ``ty`` > 0 moves it down;
* ``shear`` slides each row sideways by ``tan(shear) * (row - centre_row)`` pixels (rows below
  the centre move right for ``shear`` > 0);
* ``zx``, ``zy`` are how many input pixels one output pixel spans: below 1 zooms in
  (magnifies), above 1 zooms out;
* ``flip_horizontal`` mirrors left-right, ``flip_vertical`` top-bottom.
"""
from __future__ import annotations

import numpy as np

FILL_MODES = ("nearest", "constant", "reflect", "wrap")


def _as_batch(value, n: int, default: float) -> np.ndarray:
    if value is None:
        return np.full(n, default, dtype=np.float64)
    array = np.asarray(value, dtype=np.float64)
    return np.broadcast_to(array, (n,)).astype(np.float64) if array.ndim <= 1 else array


def transform_matrices(n: int, height: int, width: int, theta=None, tx=None, ty=None,
                       shear=None, zx=None, zy=None, flip_horizontal=None,
                       flip_vertical=None) -> np.ndarray:
    """Per-image output->input coordinate matrices.

    Parameters
    ----------
    n : int
        Number of images.
    height, width : int
        Image size in pixels.
    theta, tx, ty, shear, zx, zy : float or array of shape (n,), optional
        See the module docstring; missing ones are the identity (0, or 1 for zooms).
    flip_horizontal, flip_vertical : bool or array of shape (n,), optional

    Returns
    -------
    ndarray, shape (n, 3, 3), float64
        Acting on absolute ``(row, col, 1)`` pixel coordinates (the centring is included).
    """
    angle = np.deg2rad(_as_batch(theta, n, 0.0))
    shift_c, shift_r = _as_batch(tx, n, 0.0), _as_batch(ty, n, 0.0)
    slant = np.tan(np.deg2rad(_as_batch(shear, n, 0.0)))
    zoom_c, zoom_r = _as_batch(zx, n, 1.0), _as_batch(zy, n, 1.0)
    mirror_c = np.where(_as_batch(flip_horizontal, n, 0.0) > 0, -1.0, 1.0)
    mirror_r = np.where(_as_batch(flip_vertical, n, 0.0) > 0, -1.0, 1.0)
    zeros, ones = np.zeros(n), np.ones(n)

    def stack(rows):
        return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)

    cos, sin = np.cos(angle), np.sin(angle)
    rotation = stack([[cos, sin, zeros], [-sin, cos, zeros], [zeros, zeros, ones]])
    shift = stack([[ones, zeros, -shift_r], [zeros, ones, -shift_c], [zeros, zeros, ones]])
    shearing = stack([[ones, zeros, zeros], [-slant, ones, zeros], [zeros, zeros, ones]])
    zoom = stack([[zoom_r * mirror_r, zeros, zeros], [zeros, zoom_c * mirror_c, zeros],
                  [zeros, zeros, ones]])
    center_r, center_c = (height - 1) / 2.0, (width - 1) / 2.0
    to_center = np.array([[1.0, 0.0, -center_r], [0.0, 1.0, -center_c], [0.0, 0.0, 1.0]])
    from_center = np.array([[1.0, 0.0, center_r], [0.0, 1.0, center_c], [0.0, 0.0, 1.0]])
    # input = from_center . R . T . Sh . (Z . flips) . to_center . output
    return from_center @ rotation @ shift @ shearing @ zoom @ to_center


def _fold(index: np.ndarray, size: int, fill_mode: str) -> np.ndarray:
    """Map integer indices outside ``[0, size)`` back inside according to ``fill_mode``."""
    if fill_mode == "nearest":
        return np.clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return np.mod(index, size)
    if fill_mode == "reflect":  # d c b a | a b c d | d c b a
        folded = np.mod(index, 2 * size)
        return np.where(folded >= size, 2 * size - 1 - folded, folded)
    return np.clip(index, 0, size - 1)  # "constant": gathered, then masked to cval


def apply_affine(images: np.ndarray, matrices: np.ndarray, fill_mode: str = "nearest",
                 cval: float = 0.0, order: int = 1) -> np.ndarray:
    """Warp every image by its own matrix, sampling bilinearly (``order=1``) or nearest (0).

    Parameters
    ----------
    images : ndarray, shape (n_ex, rows, cols, channels)
    matrices : ndarray, shape (n_ex, 3, 3)
        Output->input maps on ``(row, col, 1)``, e.g. from :func:`transform_matrices`.
    fill_mode : {"nearest", "constant", "reflect", "wrap"}
        How points outside the input are filled.
    cval : float
        Fill value for ``fill_mode="constant"``.
    order : {0, 1}
        0 = nearest-neighbour sampling, 1 = bilinear.

    Returns
    -------
    ndarray, shape (n_ex, rows, cols, channels), same dtype as ``images``
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"expected images of shape (n_ex, rows, cols, channels), got "
                         f"{images.shape}")
    n, height, width, channels = images.shape
    matrices = np.asarray(matrices, dtype=np.float64)
    if matrices.shape != (n, 3, 3):
        raise ValueError(f"expected one 3x3 matrix per image, shape ({n}, 3, 3), got "
                         f"{matrices.shape}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    if order not in (0, 1):
        raise ValueError(f"order (interpolation_order) must be 0 (nearest) or 1 (bilinear), "
                         f"got {order!r}")
    rows, cols = np.meshgrid(np.arange(height, dtype=np.float64),
                             np.arange(width, dtype=np.float64), indexing="ij")
    grid = np.stack([rows.ravel(), cols.ravel(), np.ones(height * width)])  # (3, P)
    source = matrices @ grid  # (n, 3, P)
    src_r, src_c = source[:, 0, :], source[:, 1, :]
    work = images.astype(np.float32) if images.dtype.kind != "f" else images
    pixels = work.reshape(n * height * width, channels)
    offsets = np.arange(n)[:, None] * (height * width)  # first pixel of each image
    fill = work.dtype.type(cval)

    def gather(rows_index: np.ndarray, cols_index: np.ndarray) -> np.ndarray:
        """Pixels at integer positions ``(n, P)`` -> ``(n, P, channels)``, filled outside."""
        flat = (offsets + _fold(rows_index, height, fill_mode) * width
                + _fold(cols_index, width, fill_mode))
        values = np.take(pixels, flat, axis=0)  # indices are intp: int32 in the browser
        if fill_mode == "constant":
            outside = ((rows_index < 0) | (rows_index >= height) | (cols_index < 0)
                       | (cols_index >= width))
            values[outside] = fill
        return values

    if order == 0:
        result = gather(np.floor(src_r + 0.5).astype(np.intp),
                        np.floor(src_c + 0.5).astype(np.intp))
    else:  # bilinear: interpolate along columns on the two rows, then between the rows
        r0 = np.floor(src_r)
        c0 = np.floor(src_c)
        wr = (src_r - r0).astype(work.dtype)[..., None]
        wc = (src_c - c0).astype(work.dtype)[..., None]
        r0, c0 = r0.astype(np.intp), c0.astype(np.intp)
        top_left = gather(r0, c0)
        top = top_left + (gather(r0, c0 + 1) - top_left) * wc
        bottom_left = gather(r0 + 1, c0)
        bottom = bottom_left + (gather(r0 + 1, c0 + 1) - bottom_left) * wc
        result = top + (bottom - top) * wr
    result = result.reshape(n, height, width, channels)
    if images.dtype.kind in "iu":
        info = np.iinfo(images.dtype)
        return np.clip(np.round(result), info.min, info.max).astype(images.dtype)
    if images.dtype == np.bool_:
        return result > 0.5
    return result.astype(images.dtype, copy=False)


def is_identity(matrices: np.ndarray) -> bool:
    """True when every matrix is the identity (then a warp can be skipped)."""
    return bool(np.allclose(matrices, np.eye(3), rtol=0.0, atol=1e-12))
