"""Reading a folder tree of images, one subfolder per class (``flow_from_directory``).

Error policy, the same for :class:`DirectoryIterator` and ``image_dataset_from_directory``:

* a missing folder raises ``FileNotFoundError``; a folder with no class subfolders, a class
  folder holding no image files, or a ``classes`` name with no folder raises ``ValueError``
  naming the folder;
* files with an image ending (``.png``, ``.jpg``, ...) that Pillow cannot open are **skipped
  with one warning** (``UserWarning``) naming each skipped file, when the folder is scanned;
  files with other endings are ignored silently, as in Keras;
* a file that passed the scan but fails to decode later raises ``ValueError`` naming it.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from tinycnn.preprocessing.image_files import (IMAGE_EXTENSIONS, check_color_mode,
                                               check_target_size, img_to_array, load_img,
                                               require_pillow)
from tinycnn.preprocessing.iterators import Iterator, check_subset

PathLike = Union[str, "os.PathLike[str]"]

CLASS_MODES = ("categorical", "binary", "sparse", "input", None)


def _image_files(folder: Path, follow_links: bool) -> List[Path]:
    found = []
    for root, dirs, files in os.walk(str(folder), followlinks=follow_links):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(Path(root) / name)
    return found


def _unreadable(files: List[Path]) -> List[Tuple[Path, str]]:
    image_module = require_pillow()
    bad = []
    for file in files:
        try:
            with image_module.open(str(file)) as image:  # reads the header only
                image.size  # noqa: B018
        except Exception as error:  # UnidentifiedImageError, OSError, SyntaxError, ...
            bad.append((file, str(error) or type(error).__name__))
    return bad


def scan_image_folder(directory: PathLike, classes: Optional[Sequence[str]] = None,
                      follow_links: bool = False, check_images: bool = True
                      ) -> Tuple[List[str], List[Path], np.ndarray]:
    """List the image files of a class-per-subfolder tree.

    Parameters
    ----------
    directory : str or Path
        Holds one subfolder per class (images may sit in nested folders below it).
    classes : sequence of str, optional
        Subfolder names to use, in label order; default: all subfolders, alphabetically.
    follow_links : bool
        Follow symbolic links to folders.
    check_images : bool
        Open every file's header with Pillow and skip (with a warning) those that fail.

    Returns
    -------
    class_names : list of str
    files : list of Path
        Sorted within each class, classes in label order.
    labels : ndarray, shape (n_files,), int64
    """
    root = Path(directory)
    if not root.exists():
        raise FileNotFoundError(f"image folder not found: {root}")
    if not root.is_dir():
        raise ValueError(f"{root} is a file, but a folder with one subfolder per class is "
                         f"needed (e.g. {root}/cats/*.jpg and {root}/dogs/*.jpg)")
    subfolders = sorted(entry.name for entry in root.iterdir()
                        if entry.is_dir() and (follow_links or not entry.is_symlink()))
    if classes is None:
        if not subfolders:
            loose = [entry for entry in root.iterdir()
                     if entry.is_file() and entry.name.lower().endswith(IMAGE_EXTENSIONS)]
            hint = (f" ({len(loose)} image files sit directly in it: move them into one "
                    f"subfolder per class)" if loose else "")
            raise ValueError(f"{root} has no class subfolders{hint}; expected one subfolder "
                             f"per class, e.g. {root}/cats/*.jpg and {root}/dogs/*.jpg")
        class_names = subfolders
    else:
        if isinstance(classes, str):
            raise TypeError(f"classes must be a list of subfolder names, not the string "
                            f"{classes!r}")
        class_names = [str(name) for name in classes]
        if len(set(class_names)) != len(class_names) or not class_names:
            raise ValueError(f"classes must be distinct subfolder names, got {list(classes)}")
        missing = [name for name in class_names if not (root / name).is_dir()]
        if missing:
            raise ValueError(f"no class subfolder {missing} in {root}; it has {subfolders}")
    files: List[Path] = []
    labels: List[int] = []
    empty = []
    skipped: List[Tuple[Path, str]] = []
    for label, name in enumerate(class_names):
        class_files = _image_files(root / name, follow_links)
        if check_images and class_files:
            bad = _unreadable(class_files)
            if bad:
                skipped.extend(bad)
                bad_set = {file for file, _ in bad}
                class_files = [file for file in class_files if file not in bad_set]
        if not class_files:
            empty.append(name)
        files.extend(class_files)
        labels.extend([label] * len(class_files))
    if skipped:
        shown = "; ".join(f"{file} ({reason})" for file, reason in skipped[:20])
        more = f"; and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        warnings.warn(f"skipped {len(skipped)} image file(s) Pillow cannot read: {shown}{more}",
                      UserWarning, stacklevel=3)
    if empty:
        raise ValueError(f"class folder(s) {empty} in {root} hold no readable image files "
                         f"(looked for {', '.join(IMAGE_EXTENSIONS)})")
    return class_names, files, np.asarray(labels, dtype=np.int64)


def encode_labels(labels: np.ndarray, num_classes: int, class_mode: Optional[str]) -> Any:
    """Labels for one batch in the format of ``class_mode`` (None for ``None``/``"input"``)."""
    if class_mode == "sparse":
        return labels.astype(np.int64)
    if class_mode == "binary":
        return labels.astype(np.float32)
    if class_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[labels]
    return None


def check_class_mode(class_mode: Optional[str], num_classes: int, root: Path) -> Optional[str]:
    if class_mode not in CLASS_MODES:
        raise ValueError(f"class_mode must be one of 'categorical', 'binary', 'sparse', "
                         f"'input' or None, got {class_mode!r}")
    if class_mode == "binary" and num_classes != 2:
        raise ValueError(f"class_mode='binary' needs exactly 2 classes, but {root} has "
                         f"{num_classes}; use class_mode='categorical' or 'sparse'")
    return class_mode


class DirectoryIterator(Iterator):
    """Batches of augmented images read from disk (what ``flow_from_directory`` returns).

    Parameters
    ----------
    directory : str or Path
        One subfolder per class, e.g. ``dataset/training_set/cats`` and ``.../dogs``.
    image_data_generator : ImageDataGenerator
        Supplies the augmentations and ``standardize`` (e.g. ``rescale=1/255``).
    target_size : (height, width)
        Every image is resized to this.
    color_mode : {"rgb", "grayscale", "rgba"}
        3, 1 or 4 channels.
    classes : list of str, optional
        Subfolders to use, in label order (default: all, alphabetically).
    class_mode : {"categorical", "binary", "sparse", "input", None}
        Labels as one-hot float32 ``(n, num_classes)``; float32 0/1 ``(n,)`` (exactly two
        classes); int64 class indices ``(n,)``; the images themselves; or no labels (each
        batch is then just ``x``).
    batch_size, shuffle, seed
        Batching; ``seed`` fixes the order and the augmentations.
    save_to_dir, save_prefix, save_format
        Also save the generated images there.
    follow_links : bool
        Follow symbolic links to folders.
    subset : {"training", "validation"}, optional
        With the generator's ``validation_split``: the first ``validation_split`` of every
        class's (sorted) files are "validation", the rest "training" (Keras's split).
    interpolation : str
        Resampling used for resizing (Pillow): "nearest", "bilinear", "bicubic", ...
    keep_aspect_ratio : bool
        Centre-crop to the target aspect ratio before resizing.

    Attributes
    ----------
    class_indices : dict
        Class name -> label, e.g. ``{'cats': 0, 'dogs': 1}``.
    classes : ndarray, shape (samples,), int64
        Label of every file, in ``filenames`` order.
    filenames : list of str
        Paths relative to ``directory``.
    filepaths : list of str
        Full paths.
    samples, n : int
        Number of images.
    num_classes : int
    image_shape : tuple
        ``target_size + (channels,)``.

    Notes
    -----
    Like Keras, prints ``Found N images belonging to K classes.`` when made. See the module
    docstring for the error policy (unreadable files are skipped with a warning at scan time).
    """

    def __init__(self, directory: PathLike, image_data_generator: Any,
                 target_size: Sequence[int] = (256, 256), color_mode: str = "rgb",
                 classes: Optional[Sequence[str]] = None,
                 class_mode: Optional[str] = "categorical", batch_size: int = 32,
                 shuffle: bool = True, seed: Optional[int] = None,
                 save_to_dir: Optional[PathLike] = None, save_prefix: str = "",
                 save_format: str = "png", follow_links: bool = False,
                 subset: Optional[str] = None, interpolation: str = "nearest",
                 keep_aspect_ratio: bool = False, dtype: Optional[str] = None) -> None:
        self.target_size = check_target_size(target_size)
        _, channels = check_color_mode(color_mode)
        from tinycnn.preprocessing.image_files import INTERPOLATIONS
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, "
                             f"got {interpolation!r}")
        if class_mode not in CLASS_MODES:
            check_class_mode(class_mode, 0, Path(directory))
        subset = check_subset(subset, image_data_generator.validation_split)
        root = Path(directory)
        class_names, files, labels = scan_image_folder(root, classes, follow_links)
        self.class_mode = check_class_mode(class_mode, len(class_names), root)
        if subset is not None:
            split = image_data_generator.validation_split
            keep = np.zeros(len(files), dtype=bool)
            for label in range(len(class_names)):
                members = np.flatnonzero(labels == label)
                cut = int(split * len(members))
                chosen = members[:cut] if subset == "validation" else members[cut:]
                keep[chosen] = True
            files = [file for file, kept in zip(files, keep) if kept]
            labels = labels[keep]
        self.directory = str(root)
        self.image_data_generator = image_data_generator
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.keep_aspect_ratio = bool(keep_aspect_ratio)
        self.image_shape = self.target_size + (channels,)
        self.class_indices = {name: index for index, name in enumerate(class_names)}
        self.num_classes = len(class_names)
        self.classes = labels
        self.labels = labels
        self.filepaths = [str(file) for file in files]
        self.filenames = [file.relative_to(root).as_posix() for file in files]
        self.samples = len(files)
        self.subset = subset
        self.dtype = np.dtype(dtype or image_data_generator.dtype)
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(self.samples, batch_size, shuffle, seed)
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")

    def load_images(self, index_array: np.ndarray) -> np.ndarray:
        """Decode and resize the given files into ``(n, rows, cols, channels)`` (no augmentation)."""
        batch = np.empty((len(index_array),) + self.image_shape, dtype=self.dtype)
        for slot, index in enumerate(index_array):  # decoding is one file at a time
            image = load_img(self.filepaths[index], color_mode=self.color_mode,
                             target_size=self.target_size, interpolation=self.interpolation,
                             keep_aspect_ratio=self.keep_aspect_ratio)
            batch[slot] = img_to_array(image, dtype=self.dtype)
        return batch

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray,
                                            rng: np.random.RandomState) -> Any:
        generator = self.image_data_generator
        batch_x = generator.random_transform_batch(self.load_images(index_array), rng)
        batch_x = generator.standardize(batch_x).astype(self.dtype, copy=False)
        self._save_batch(batch_x, index_array, self.save_to_dir, self.save_prefix,
                         self.save_format)
        if self.class_mode is None:
            return batch_x
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        return batch_x, encode_labels(self.classes[index_array], self.num_classes,
                                      self.class_mode)
