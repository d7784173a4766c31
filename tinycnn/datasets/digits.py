"""The real 8x8 handwritten digits (UCI / scikit-learn), as channels-last images.

Where the numbers come from, in this order:

1. an explicit ``path`` to a ``digits.npz`` file;
2. scikit-learn's bundled copy (``sklearn.datasets.load_digits``), when scikit-learn imports;
3. ``$TINYCNN_DATA/digits.npz`` (the tutorial site writes this file next to its pages so the
   very same call works in the browser, where scikit-learn is not loaded);
4. ``tinycnn/datasets/data/digits.npz``, the copy shipped inside the package (about 45 kB,
   written by :func:`save_digits_npz`), so that a plain ``pip install tinycnn`` has the digits.

A ``digits.npz`` file holds two arrays: ``x`` with the pixel values (shape ``(n_ex, 8, 8)``,
``(n_ex, 64)`` or ``(n_ex, 8, 8, 1)``), either the raw counts 0..16 (any dtype; divided by 16)
or floats already scaled to [0, 1] (kept; a float array whose largest value is at most 1 is
taken as scaled, which the real digits, whose raw maximum is 16, never are), and ``y`` with the
labels 0..9. :func:`save_digits_npz` writes the compact raw form from scikit-learn's copy.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]

N_DIGITS = 1797
_PACKAGE_FILE = Path(__file__).resolve().parent / "data" / "digits.npz"


def _from_sklearn() -> Optional[Tuple[np.ndarray, np.ndarray]]:
    try:
        from sklearn.datasets import load_digits as sk_load_digits  # type: ignore
    except ImportError:
        return None
    bunch = sk_load_digits()
    return np.asarray(bunch.images), np.asarray(bunch.target)


def _from_npz(path: Path) -> Tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(str(path), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except Exception as error:  # OSError, zipfile.BadZipFile, pickled content, ...
        raise ValueError(f"{path} is not a readable .npz file ({error})") from None
    missing = [name for name in ("x", "y") if name not in arrays]
    if missing:
        raise ValueError(
            f"{path} holds arrays {sorted(arrays)}, but a digits file needs arrays "
            f"'x' (pixel values 0..16) and 'y' (labels 0..9); missing {missing}"
        )
    return arrays["x"], arrays["y"]


def _to_images(x: np.ndarray, y: np.ndarray, source: str) -> Tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim == 2 and x.shape[1] == 64:
        x = x.reshape(-1, 8, 8)
    if x.ndim == 4 and x.shape[1:] == (8, 8, 1):
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (8, 8):
        raise ValueError(
            f"digits from {source}: expected pixel array of shape (n_ex, 8, 8), (n_ex, 64) or "
            f"(n_ex, 8, 8, 1), got {x.shape}"
        )
    if y.shape != (x.shape[0],):
        raise ValueError(
            f"digits from {source}: expected labels of shape ({x.shape[0]},), got {y.shape}"
        )
    if x.size and (x.min() < 0 or x.max() > 16):
        raise ValueError(
            f"digits from {source}: pixel values must be the raw 0..16 counts or already "
            f"scaled to [0, 1], got range [{x.min()}, {x.max()}]"
        )
    if y.size and (y.min() < 0 or y.max() > 9 or np.any(y != np.round(y))):
        raise ValueError(f"digits from {source}: labels must be integers 0..9")
    already_scaled = x.dtype.kind == "f" and (x.size == 0 or x.max() <= 1.0)
    scale = np.float32(1.0) if already_scaled else np.float32(16.0)
    images = (x.astype(np.float32) / scale)[..., np.newaxis]
    return images, y.astype(np.intp)  # the index type: int64 natively, int32 in the browser


def load_digits(path: Optional[PathLike] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Load the 1,797 real 8x8 handwritten digits as channels-last images.

    Parameters
    ----------
    path : str or Path, optional
        A ``digits.npz`` file (arrays ``x``: raw values 0..16 or floats in [0, 1], ``y``:
        labels). Without it the
        data comes from scikit-learn, else ``$TINYCNN_DATA/digits.npz``, else the copy shipped
        inside the package (see the module docstring): it works without scikit-learn.

    Returns
    -------
    x : ndarray, shape (1797, 8, 8, 1), float32
        Pixel intensities scaled from 0..16 to [0, 1] (ink is 1).
    y : ndarray, shape (1797,), np.intp (int64 natively, int32 in the browser: safe for np.bincount and indexing)
        The digit shown, 0..9.

    Raises
    ------
    FileNotFoundError
        No source is available; the message says how to get one (``pip install scikit-learn``).
    ValueError
        The file exists but does not hold digits.

    Examples
    --------
    >>> x, y = load_digits()
    >>> x.shape, x.dtype, int(y[0])
    ((1797, 8, 8, 1), dtype('float32'), 0)
    """
    if path is not None:
        file = Path(path)
        if not file.exists():
            raise FileNotFoundError(f"digits file not found: {file}")
        return _to_images(*_from_npz(file), source=str(file))
    found = _from_sklearn()
    if found is not None:
        return _to_images(*found, source="scikit-learn")
    tried = []
    data_dir = os.environ.get("TINYCNN_DATA")
    if data_dir:
        candidate = Path(data_dir) / "digits.npz"
        tried.append(str(candidate))
        if candidate.exists():
            return _to_images(*_from_npz(candidate), source=str(candidate))
    tried.append(str(_PACKAGE_FILE))
    if _PACKAGE_FILE.exists():
        return _to_images(*_from_npz(_PACKAGE_FILE), source=str(_PACKAGE_FILE))
    raise FileNotFoundError(
        "load_digits() found no copy of the digits: scikit-learn is not installed "
        "(pip install scikit-learn) and no digits.npz exists at "
        + " or ".join(tried)
        + " (set TINYCNN_DATA to a folder holding one, or pass path=...)"
    )


def save_digits_npz(path: PathLike) -> Path:
    """Write scikit-learn's digits to a compact ``digits.npz`` that :func:`load_digits` reads.

    The site build calls this to ship the data to the browser (about 30 kB compressed).

    Parameters
    ----------
    path : str or Path
        Where to write; parent folders are created.

    Returns
    -------
    Path
        The written file.
    """
    found = _from_sklearn()
    if found is None:
        raise ImportError("save_digits_npz needs scikit-learn: pip install scikit-learn")
    images, labels = found
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(str(file), x=images.astype(np.uint8), y=labels.astype(np.uint8))
    return file
