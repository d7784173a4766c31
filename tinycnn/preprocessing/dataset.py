"""``image_dataset_from_directory``: the modern Keras spelling of reading an image folder."""
from __future__ import annotations

import numbers
import os
from typing import Any, Iterator as TypingIterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from tinycnn.preprocessing.directory import scan_image_folder
from tinycnn.preprocessing.image_files import (INTERPOLATIONS, check_color_mode,
                                               check_target_size, img_to_array, load_img)
from tinycnn.preprocessing.iterators import check_batch_index, check_batch_size

PathLike = Union[str, "os.PathLike[str]"]

LABEL_MODES = ("int", "categorical", "binary", None)


class ImageDataset:
    """A finite, re-iterable sequence of ``(images, labels)`` batches read from image files.

    ``for images, labels in dataset`` makes one pass (one epoch), reshuffling first when
    ``shuffle`` is on; ``len(dataset)`` and ``dataset[i]`` index the batches of the current pass,
    so ``model.fit(dataset, epochs=...)`` works. Images are float32 ``(n, rows, cols, channels)``
    with values 0..255 (not rescaled, as in Keras).

    Attributes
    ----------
    class_names : list of str
    file_paths : list of str
    labels : ndarray or None
        Integer label of every file.
    """

    def __init__(self, file_paths: List[str], labels: Optional[np.ndarray],
                 class_names: List[str], label_mode: Optional[str], batch_size: Optional[int],
                 image_size: Tuple[int, int], color_mode: str, shuffle: bool,
                 seed: Optional[int], interpolation: str, crop_to_aspect_ratio: bool) -> None:
        self.file_paths = file_paths
        self.labels = labels
        self.class_names = class_names
        self.label_mode = label_mode
        self.batch_size = batch_size
        self.image_size = image_size
        self.color_mode = color_mode
        self.shuffle = shuffle
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self._seed = int(seed) if seed is not None else int(np.random.randint(0, 2 ** 31 - 1))
        self.epoch = 0
        self._order = self._make_order()

    def _make_order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.file_paths))
        return np.random.RandomState([self._seed, 1000 + self.epoch]).permutation(
            len(self.file_paths))

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.file_paths)
        return (len(self.file_paths) + self.batch_size - 1) // self.batch_size

    def _load(self, indices: np.ndarray) -> np.ndarray:
        images = [img_to_array(load_img(self.file_paths[index], color_mode=self.color_mode,
                                        target_size=self.image_size,
                                        interpolation=self.interpolation,
                                        keep_aspect_ratio=self.crop_to_aspect_ratio))
                  for index in indices]
        return np.stack(images).astype(np.float32)

    def _encode(self, indices: np.ndarray) -> Optional[np.ndarray]:
        if self.labels is None or self.label_mode is None:
            return None
        labels = self.labels[indices]
        if self.label_mode == "int":
            return labels.astype(np.int64)
        if self.label_mode == "binary":
            return labels.astype(np.float32)[:, None]
        return np.eye(len(self.class_names), dtype=np.float32)[labels]

    def __getitem__(self, idx: int) -> Any:
        idx = check_batch_index(idx, len(self), "this dataset")
        if self.batch_size is None:
            indices = self._order[idx:idx + 1]
            images, labels = self._load(indices)[0], self._encode(indices)
            return images if labels is None else (images, labels[0])
        indices = self._order[idx * self.batch_size:(idx + 1) * self.batch_size]
        images, labels = self._load(indices), self._encode(indices)
        return images if labels is None else (images, labels)

    def on_epoch_end(self) -> None:
        """Start a new pass (a new shuffle)."""
        self.epoch += 1
        self._order = self._make_order()

    def __iter__(self) -> TypingIterator[Any]:
        for index in range(len(self)):
            yield self[index]
        self.on_epoch_end()

    def take(self, count: int) -> List[Any]:
        """The first ``count`` batches of the current pass, as a list."""
        return [self[index] for index in range(min(int(count), len(self)))]

    def __repr__(self) -> str:
        return (f"ImageDataset({len(self.file_paths)} files, {len(self.class_names)} classes, "
                f"batch_size={self.batch_size}, image_size={self.image_size})")


def image_dataset_from_directory(directory: PathLike, labels: Any = "inferred",
                                 label_mode: Optional[str] = "int",
                                 class_names: Optional[Sequence[str]] = None,
                                 color_mode: str = "rgb", batch_size: Optional[int] = 32,
                                 image_size: Sequence[int] = (256, 256), shuffle: bool = True,
                                 seed: Optional[int] = None,
                                 validation_split: Optional[float] = None,
                                 subset: Optional[str] = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, crop_to_aspect_ratio: bool = False
                                 ) -> Union[ImageDataset, Tuple[ImageDataset, ImageDataset]]:
    """Read a class-per-subfolder image tree as batches (Keras's modern folder reader).

    Parameters
    ----------
    directory : str or Path
        ``directory/<class>/<image>`` (same error policy as ``flow_from_directory``: unreadable
        image files are skipped with a warning naming them).
    labels : "inferred", None, or list of int
        From the subfolders, none, or one label per file (files in sorted path order).
    label_mode : {"int", "categorical", "binary", None}
        int64 ``(n,)``; one-hot float32 ``(n, num_classes)``; float32 ``(n, 1)`` (two classes).
    class_names : list of str, optional
        Subfolders to use, in label order.
    color_mode : {"rgb", "grayscale", "rgba"}
    batch_size : int or None
        None yields single images.
    image_size : (height, width)
    shuffle : bool
    seed : int, optional
        Needed when both shuffling and splitting (so both subsets agree on the split).
    validation_split : float, optional
        Fraction of files (after a seeded shuffle) held out; the last files are "validation".
    subset : {"training", "validation", "both"}, optional
        "both" returns ``(train_dataset, validation_dataset)``.
    interpolation : str
        Resize method.
    follow_links : bool
    crop_to_aspect_ratio : bool

    Returns
    -------
    ImageDataset or (ImageDataset, ImageDataset)

    Notes
    -----
    Like Keras, prints ``Found N files belonging to K classes.`` (and ``Using M files for
    training.`` when splitting).
    """
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of {LABEL_MODES}, got {label_mode!r}")
    size = check_target_size(image_size, "image_size")
    check_color_mode(color_mode)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    if batch_size is not None:
        batch_size = check_batch_size(batch_size)
    if validation_split is not None and (not isinstance(validation_split, numbers.Real)
                                         or not 0 < validation_split < 1):
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split!r}")
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(f"subset must be 'training', 'validation', 'both' or None, "
                         f"got {subset!r}")
    if (subset is None) != (validation_split is None):
        raise ValueError("validation_split and subset go together: give both or neither")
    if validation_split is not None and shuffle and seed is None:
        raise ValueError("when shuffling with a validation_split, give a seed so the training "
                         "and validation subsets do not overlap")
    if labels not in ("inferred", None) and label_mode is None:
        label_mode = "int"
    names, files, inferred = scan_image_folder(directory, class_names, follow_links)
    if labels is None:
        label_array: Optional[np.ndarray] = None
        label_mode = None
    elif isinstance(labels, str):
        if labels != "inferred":
            raise ValueError(f"labels must be 'inferred', None or a list of integers, "
                             f"got {labels!r}")
        label_array = inferred
    else:
        order = np.argsort([str(file) for file in files], kind="stable")
        files = [files[index] for index in order]
        label_array = np.asarray(labels)
        if label_array.shape != (len(files),) or label_array.dtype.kind not in "iu":
            raise ValueError(f"labels given as a list must be {len(files)} integers, one per "
                             f"image file in sorted path order; got shape {label_array.shape}")
        label_array = label_array.astype(np.int64)
        names = [str(value) for value in range(int(label_array.max()) + 1)]
    if label_mode == "binary" and len(names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes, found {len(names)}: "
                         f"{names}")
    paths = [str(file) for file in files]
    print(f"Found {len(paths)} files belonging to {len(names)} classes.")
    if validation_split is not None:
        mix = (np.random.RandomState(seed).permutation(len(paths)) if shuffle
               else np.arange(len(paths)))
        n_val = int(validation_split * len(paths))
        parts = {"training": mix[:len(paths) - n_val], "validation": mix[len(paths) - n_val:]}
        for name, part in parts.items():
            if len(part) == 0:
                raise ValueError(f"validation_split={validation_split} leaves no files for the "
                                 f"{name} subset ({len(paths)} files in total)")
    else:
        parts = {"all": np.arange(len(paths))}

    def build(indices: np.ndarray) -> ImageDataset:
        if validation_split is not None:
            part = "training" if indices is parts["training"] else "validation"
            print(f"Using {len(indices)} files for {part}.")
        return ImageDataset([paths[i] for i in indices],
                            None if label_array is None else label_array[indices],
                            list(names), label_mode, batch_size, size, color_mode, shuffle,
                            seed, interpolation, crop_to_aspect_ratio)

    if subset == "both":
        return build(parts["training"]), build(parts["validation"])
    return build(parts[subset] if subset is not None else parts["all"])
