"""Reading and writing IDX files, the format MNIST (and Fashion-MNIST) are distributed in.

An IDX file is: two zero bytes, one byte naming the element type, one byte with the number of
dimensions ``ndim``, then ``ndim`` big-endian uint32 sizes, then the elements in C order,
big-endian. Files ending in ``.gz`` are (de)compressed transparently.

:func:`load_mnist_idx` reads a folder holding the four MNIST files a user downloaded from
wherever they like; tinycnn itself never downloads anything.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Dict, Tuple, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]

# type byte -> big-endian dtype
_IDX_TYPES: Dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {(dtype.kind, dtype.itemsize): code for code, dtype in _IDX_TYPES.items()}


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise FileNotFoundError(f"IDX file not found: {path}")
    try:
        if path.suffix == ".gz":
            with gzip.open(str(path), "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as error:
        raise ValueError(f"{path}: cannot read IDX file ({error})") from None


def read_idx(path: PathLike) -> np.ndarray:
    """Read one IDX file into an array.

    Parameters
    ----------
    path : str or Path
        The file (``.gz`` is decompressed).

    Returns
    -------
    ndarray
        Shape as stored in the header (e.g. ``(60000, 28, 28)`` for MNIST images), dtype the
        native-endian version of the stored type (uint8 for MNIST).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is not IDX (bad magic number, unknown type code) or is truncated / too long;
        the message names the file and what was wrong.
    """
    file = Path(path)
    raw = _read_bytes(file)
    if len(raw) < 4:
        raise ValueError(f"{file}: not an IDX file (only {len(raw)} bytes; the header alone "
                         f"needs at least 4)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{file}: not an IDX file (magic number {raw[:4].hex()} does not "
                         f"start with two zero bytes)")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_TYPES:
        raise ValueError(f"{file}: unknown IDX element type 0x{type_code:02x}; known: "
                         + ", ".join(f"0x{code:02x}" for code in _IDX_TYPES))
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"{file}: truncated IDX header ({len(raw)} bytes, the header of a "
                         f"{ndim}-dimensional array needs {header_size})")
    shape = tuple(int(size) for size in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header_size
    if actual != expected:
        problem = "truncated" if actual < expected else "has trailing bytes"
        raise ValueError(f"{file}: IDX data {problem}: the header announces shape {shape} of "
                         f"{dtype.name} ({expected} bytes) but {actual} bytes follow it")
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path: PathLike, array: np.ndarray) -> Path:
    """Write an array as an IDX file (gzip-compressed if the name ends in ``.gz``).

    Parameters
    ----------
    path : str or Path
        Destination file; parent folders must exist.
    array : array_like
        Any shape with 1 to 255 dimensions; dtype uint8, int8, int16, int32, float32 or float64.

    Returns
    -------
    Path
        The written file.
    """
    data = np.asarray(array)
    code = _TYPE_CODES.get((data.dtype.kind, data.dtype.itemsize))
    if code is None:
        raise TypeError(f"IDX stores uint8, int8, int16, int32, float32 or float64 elements, "
                        f"not {data.dtype}")
    if not 1 <= data.ndim <= 255:
        raise ValueError(f"IDX stores arrays with 1 to 255 dimensions, got {data.ndim}")
    header = bytes([0, 0, code, data.ndim]) + np.asarray(data.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(data, dtype=_IDX_TYPES[code]).tobytes()
    file = Path(path)
    if file.suffix == ".gz":
        with gzip.open(str(file), "wb") as handle:
            handle.write(payload)
    else:
        file.write_bytes(payload)
    return file


def _find(directory: Path, stems: Tuple[str, ...]) -> Path:
    tried = []
    for stem in stems:
        for suffix in ("", ".gz"):
            candidate = directory / (stem + suffix)
            tried.append(candidate.name)
            if candidate.exists():
                return candidate
    raise FileNotFoundError(f"no MNIST file in {directory}: looked for " + ", ".join(tried))


def load_mnist_idx(directory: PathLike, kind: str = "train") -> Tuple[np.ndarray, np.ndarray]:
    """Load MNIST-style images and labels from the IDX files in a folder.

    Looks for ``{prefix}-images-idx3-ubyte`` and ``{prefix}-labels-idx1-ubyte`` (also with
    ``.`` instead of the last ``-``, and with ``.gz``), where the prefix is ``train`` or
    ``t10k``.

    Parameters
    ----------
    directory : str or Path
        Folder holding the files.
    kind : {"train", "test"}
        ``"test"`` (or ``"t10k"``) reads the 10,000 test images.

    Returns
    -------
    x : ndarray, shape (n_ex, rows, cols, 1), float32
        Pixels scaled from 0..255 to [0, 1].
    y : ndarray, shape (n_ex,), np.intp (int64 natively, int32 in the browser)
        Labels.

    Raises
    ------
    FileNotFoundError
        The folder or one of the two files is missing (the message lists the names tried).
    ValueError
        A file is corrupt, or images and labels disagree in count or shape.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder not found: {folder}")
    prefixes = {"train": "train", "test": "t10k", "t10k": "t10k"}
    if kind not in prefixes:
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    prefix = prefixes[kind]
    images_file = _find(folder, (f"{prefix}-images-idx3-ubyte", f"{prefix}-images.idx3-ubyte"))
    labels_file = _find(folder, (f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels.idx1-ubyte"))
    images = read_idx(images_file)
    labels = read_idx(labels_file)
    if images.ndim != 3:
        raise ValueError(f"{images_file}: expected images of shape (n_ex, rows, cols), "
                         f"got {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_file}: expected labels of shape (n_ex,), got {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{images_file.name} holds {len(images)} images but "
                         f"{labels_file.name} holds {len(labels)} labels")
    scale = np.float32(255.0) if images.dtype == np.uint8 else np.float32(1.0)
    x = (images.astype(np.float32) / scale)[..., np.newaxis]
    return x, labels.astype(np.intp)
