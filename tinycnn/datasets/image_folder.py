"""Write a small folder tree of labelled images, laid out like the article's cats/dogs data.

The article's program reads ``dataset/training_set/<class>/*.jpg`` and
``dataset/test_set/<class>/*.jpg``. :func:`make_image_folder` writes the same layout from
:func:`~tinycnn.datasets.make_stripes` (or :func:`~tinycnn.datasets.make_shapes`) images so the
program runs without downloading photos. The folders are called ``cats`` and ``dogs`` by default
so the program needs no change, but what they hold is stripes (or shapes), not animals.
Needs Pillow (``pip install tinycnn[image]``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import numpy as np

from tinycnn.datasets.synthetic import make_shapes, make_stripes

PathLike = Union[str, "os.PathLike[str]"]

_KINDS = {
    "shapes": ("circle", "cross"),
    "stripes": ("vertical", "horizontal"),
}


def make_image_folder(directory: PathLike, kind: str = "stripes",
                      class_names: Optional[Sequence[str]] = ("cats", "dogs"),
                      train_per_class: int = 100, test_per_class: int = 25,
                      image_size: int = 64, image_format: str = "png",
                      seed: Optional[int] = 0) -> Dict[str, Path]:
    """Write ``training_set/<class>/`` and ``test_set/<class>/`` image folders.

    Parameters
    ----------
    directory : str or Path
        Root of the tree (created; existing files with the same names are overwritten).
    kind : {"stripes", "shapes"}
        ``"stripes"``: vertical (first class) versus horizontal (second class) bars, which the
        article's network learns in a couple of epochs from 200 images. ``"shapes"``: RGB
        circles versus crosses of random size, place and colour (harder: it needs more images
        and epochs).
    class_names : sequence of two str, optional
        Folder names of the two classes; the default mirrors the article (``cats``, ``dogs``).
        ``None`` uses what the images show (``vertical``/``horizontal`` or ``circle``/``cross``).
    train_per_class, test_per_class : int
        Images per class in each split.
    image_size : int
        Height and width in pixels.
    image_format : {"png", "jpg"}
        File type written (PNG is lossless; JPEG mimics photos).
    seed : int, optional
        Same seed, same images.

    Returns
    -------
    dict
        ``{"training_set": Path, "test_set": Path}``.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {sorted(_KINDS)}, got {kind!r}")
    names = tuple(_KINDS[kind] if class_names is None else class_names)
    if len(names) != 2 or len(set(names)) != 2 or not all(isinstance(n, str) and n
                                                          for n in names):
        raise ValueError(f"class_names must be two different non-empty folder names, got {names!r}")
    if image_format not in ("png", "jpg"):
        raise ValueError(f"image_format must be 'png' or 'jpg', got {image_format!r}")
    for label, count in (("train_per_class", train_per_class), ("test_per_class", test_per_class)):
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"{label} must be a positive integer, got {count!r}")
    from tinycnn.preprocessing.image import array_to_img  # needs Pillow

    root = Path(directory)
    total = 2 * (train_per_class + test_per_class)
    if kind == "shapes":
        x, y = make_shapes(total, image_size=image_size, shapes=_KINDS["shapes"], channels=3,
                           seed=seed)
    else:
        x, y = make_stripes(total, image_size=image_size, channels=3, seed=seed)
    written = {}
    first = {0: 0, 1: 0}
    for split, per_class in (("training_set", train_per_class), ("test_set", test_per_class)):
        split_dir = root / split
        for label, name in enumerate(names):
            folder = split_dir / name
            folder.mkdir(parents=True, exist_ok=True)
            indices = np.flatnonzero(y == label)[first[label]:first[label] + per_class]
            first[label] += per_class
            for number, index in enumerate(indices, start=1):
                image = array_to_img(x[index] * 255.0, scale=False)
                image.save(str(folder / f"{name}.{number}.{image_format}"))
        written[split] = split_dir
    return written
