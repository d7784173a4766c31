"""Image files <-> arrays, with Pillow imported only when an image file is touched.

tinycnn imports without Pillow; these functions raise :class:`MissingPillowError` (an
``ImportError``) naming ``pip install tinycnn[image]`` when it is missing.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]

#: File name endings read as images by the folder readers (lower case).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".gif", ".tif", ".tiff",
                    ".webp")
COLOR_MODES = {"rgb": ("RGB", 3), "grayscale": ("L", 1), "rgba": ("RGBA", 4)}
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")


class MissingPillowError(ImportError):
    """Raised when an image file must be read or written but Pillow is not installed."""


def require_pillow() -> Any:
    """Return the ``PIL.Image`` module, or raise :class:`MissingPillowError` saying how to get it."""
    try:
        from PIL import Image  # type: ignore
    except ImportError:
        raise MissingPillowError(
            "reading and writing image files needs Pillow, which is not installed: "
            "pip install tinycnn[image]  (or: pip install pillow)"
        ) from None
    return Image


def check_target_size(target_size: Any, name: str = "target_size") -> Tuple[int, int]:
    """Validate a ``(height, width)`` pair of positive integers and return it as a tuple."""
    try:
        height, width = target_size
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (height, width) pair of positive integers, "
                         f"got {target_size!r}") from None
    for value in (height, width):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a (height, width) pair of positive integers, "
                             f"got {target_size!r}")
    return int(height), int(width)


def check_color_mode(color_mode: str) -> Tuple[str, int]:
    """Return Pillow's mode name and the channel count for ``"rgb"``, ``"grayscale"``, ``"rgba"``."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {sorted(COLOR_MODES)}, got {color_mode!r}")
    return COLOR_MODES[color_mode]


def _resample(image_module: Any, interpolation: str) -> Any:
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    constants = getattr(image_module, "Resampling", image_module)  # Pillow >= 9.1 has the enum
    return getattr(constants, interpolation.upper())


def load_img(path: PathLike, grayscale: bool = False, color_mode: str = "rgb",
             target_size: Optional[Sequence[int]] = None, interpolation: str = "nearest",
             keep_aspect_ratio: bool = False) -> Any:
    """Open an image file as a Pillow image, converted and optionally resized.

    Parameters
    ----------
    path : str or Path
        A PNG, JPEG, BMP, GIF, TIFF or WebP file.
    grayscale : bool
        Old spelling of ``color_mode="grayscale"``.
    color_mode : {"rgb", "grayscale", "rgba"}
        Colour conversion applied after opening.
    target_size : (height, width), optional
        Resize to this size (aspect ratio not kept unless ``keep_aspect_ratio``).
    interpolation : {"nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"}
        Resampling used by the resize.
    keep_aspect_ratio : bool
        Crop the centre to the target aspect ratio before resizing.

    Returns
    -------
    PIL.Image.Image

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        Pillow cannot decode the file (the message names it), or a bad argument.
    MissingPillowError
        Pillow is not installed.
    """
    if grayscale:
        color_mode = "grayscale"
    mode, _ = check_color_mode(color_mode)
    size = None if target_size is None else check_target_size(target_size)
    image_module = require_pillow()
    resample = _resample(image_module, interpolation)
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"image file not found: {file}")
    try:
        with image_module.open(str(file)) as opened:
            image = opened.convert(mode)  # convert() forces the full decode
    except Exception as error:  # Pillow raises UnidentifiedImageError, OSError, SyntaxError...
        raise ValueError(f"cannot read image {file}: {error}") from None
    if size is not None:
        height, width = size
        if keep_aspect_ratio:
            image = _crop_to_aspect(image, width / height)
        if image.size != (width, height):
            image = image.resize((width, height), resample)
    return image


def _crop_to_aspect(image: Any, aspect: float) -> Any:
    width, height = image.size
    crop_width = min(width, int(round(height * aspect)))
    crop_height = min(height, int(round(width / aspect)))
    left = (width - crop_width) // 2
    top = (height - crop_height) // 2
    return image.crop((left, top, left + crop_width, top + crop_height))


def img_to_array(img: Any, data_format: Optional[str] = None, dtype: str = "float32") -> np.ndarray:
    """Convert a Pillow image to an array of shape ``(rows, cols, channels)``.

    Grey images get one channel. Values keep their 0..255 range (use ``rescale=1/255`` or divide).
    """
    if data_format not in (None, "channels_last"):
        raise ValueError(f"tinycnn is channels-last only; data_format must be 'channels_last', "
                         f"got {data_format!r}")
    array = np.asarray(img, dtype=dtype)
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.ndim != 3:
        raise ValueError(f"expected an image giving a (rows, cols) or (rows, cols, channels) "
                         f"array, got shape {array.shape}")
    return array


def array_to_img(x: np.ndarray, data_format: Optional[str] = None, scale: bool = True,
                 dtype: Optional[str] = None) -> Any:
    """Convert a ``(rows, cols, channels)`` array (1, 3 or 4 channels) to a Pillow image.

    With ``scale=True`` the values are shifted and stretched to fill 0..255 (Keras behaviour);
    with ``scale=False`` they must already be in 0..255 and are rounded.
    """
    if data_format not in (None, "channels_last"):
        raise ValueError(f"tinycnn is channels-last only; data_format must be 'channels_last', "
                         f"got {data_format!r}")
    image_module = require_pillow()
    array = np.asarray(x, dtype=np.float64)
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an image array of shape (rows, cols, 1|3|4), got "
                         f"{np.shape(x)}")
    if scale:
        array = array - array.min()
        top = array.max()
        if top > 0:
            array = array / top
        array = array * 255.0
    pixels = np.clip(np.round(array), 0, 255).astype(np.uint8)
    if pixels.shape[2] == 1:
        return image_module.fromarray(pixels[:, :, 0], "L")
    return image_module.fromarray(pixels, "RGB" if pixels.shape[2] == 3 else "RGBA")


def save_img(path: PathLike, x: np.ndarray, data_format: Optional[str] = None,
             file_format: Optional[str] = None, scale: bool = True) -> None:
    """Save a ``(rows, cols, channels)`` array as an image file (see :func:`array_to_img`)."""
    image = array_to_img(x, data_format=data_format, scale=scale)
    if image.mode == "RGBA" and (file_format or Path(path).suffix.lstrip(".")).lower() in (
            "jpg", "jpeg"):
        image = image.convert("RGB")
    image.save(str(path), format=file_format)
