"""Batch iterators in Keras's shape: index them like a ``Sequence``, or ``next()`` them forever.

``len(it)`` is the number of batches per epoch, ``it[i]`` is batch ``i`` of the current epoch,
``it.on_epoch_end()`` starts a new epoch (new shuffle), and ``next(it)`` walks the batches
endlessly, starting a new epoch after the last one (like Keras, ``for batch in it`` never stops
on its own).

Reproducibility: the order of epoch ``e`` and the augmentation of batch ``i`` in it depend only
on ``(seed, e, i)``, so ``it[i]`` gives the same batch every time it is asked for. Without a
``seed`` one is drawn from NumPy's global generator when the iterator is made (so
``tinycnn.utils.set_random_seed`` / ``np.random.seed`` make runs repeatable).
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any, Optional, Tuple, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]


class BatchIndexError(IndexError, ValueError):
    """A batch index outside ``range(len(iterator))`` (both an IndexError and a ValueError)."""


def check_batch_index(idx: Any, length: int, owner: str) -> int:
    """Return batch index ``idx`` (negative counts from the end) checked against ``length``."""
    if isinstance(idx, bool) or not isinstance(idx, numbers.Integral):
        raise TypeError(f"batch index must be an integer, got {idx!r}")
    if idx < 0:
        idx += length
    if not 0 <= idx < length:
        raise BatchIndexError(f"asked for batch {idx}, but {owner} has {length} batches per epoch")
    return int(idx)


def check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def check_subset(subset: Optional[str], validation_split: float) -> Optional[str]:
    if subset is None:
        return None
    if subset not in ("training", "validation"):
        raise ValueError(f"subset must be 'training', 'validation' or None, got {subset!r}")
    if not validation_split:
        raise ValueError(f"subset={subset!r} needs the generator's validation_split "
                         f"(e.g. ImageDataGenerator(validation_split=0.2))")
    return subset


class Iterator:
    """Base class: shuffling, batch indexing and the endless ``next()`` walk.

    Subclasses set ``self.n`` through ``__init__`` and implement
    ``_get_batches_of_transformed_samples(index_array, rng)``.

    Parameters
    ----------
    n : int
        Number of samples.
    batch_size : int
    shuffle : bool
        Reshuffle the sample order every epoch.
    seed : int, optional
    """

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: Optional[int]) -> None:
        self.n = int(n)
        self.batch_size = check_batch_size(batch_size)
        self.shuffle = bool(shuffle)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.seed = seed
        self._base_seed = int(seed) if seed is not None else int(np.random.randint(0, 2 ** 31 - 1))
        self.epoch = 0
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array: Optional[np.ndarray] = None

    def _set_index_array(self) -> None:
        if self.shuffle:
            rng = np.random.RandomState([self._base_seed % (2 ** 32), self.epoch])
            self.index_array = rng.permutation(self.n)
        else:
            self.index_array = np.arange(self.n)

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, idx: int) -> Any:
        idx = check_batch_index(idx, len(self), f"this iterator ({self.n} samples, batch_size "
                                                f"{self.batch_size})")
        if self.index_array is None:
            self._set_index_array()
        assert self.index_array is not None
        indices = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        rng = np.random.RandomState([self._base_seed % (2 ** 32), self.epoch, int(idx)])
        return self._get_batches_of_transformed_samples(indices, rng)

    def on_epoch_end(self) -> None:
        """Start a new epoch: a fresh shuffle and fresh augmentations."""
        self.epoch += 1
        self._set_index_array()

    def reset(self) -> None:
        """Make ``next()`` start again from the first batch of the current epoch."""
        self.batch_index = 0

    def __iter__(self) -> "Iterator":
        return self

    def __next__(self) -> Any:
        if self.n == 0:
            raise StopIteration
        if self.batch_index >= len(self):
            self.batch_index = 0
            self.on_epoch_end()
        index = self.batch_index
        self.batch_index += 1
        self.total_batches_seen += 1
        return self[index]

    next = __next__

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray,
                                            rng: np.random.RandomState) -> Any:
        raise NotImplementedError

    def _save_batch(self, batch_x: np.ndarray, index_array: np.ndarray,
                    save_to_dir: Optional[PathLike], save_prefix: str, save_format: str) -> None:
        if save_to_dir is None:
            return
        from tinycnn.preprocessing.image_files import save_img
        folder = Path(save_to_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for image, index in zip(batch_x, index_array):
            name = f"{save_prefix}_{int(index)}_{self.epoch}_{self.total_batches_seen}.{save_format}"
            save_img(folder / name.lstrip("_"), image, scale=True)


class NumpyArrayIterator(Iterator):
    """Batches of augmented in-memory images (what :meth:`ImageDataGenerator.flow` returns).

    Parameters
    ----------
    x : ndarray, shape (n_ex, rows, cols, channels)
    y : ndarray, shape (n_ex, ...), optional
    image_data_generator : ImageDataGenerator
    batch_size, shuffle, seed
    sample_weight : ndarray, shape (n_ex,), optional
    save_to_dir, save_prefix, save_format
        Also save every generated image (needs Pillow).
    subset : {"training", "validation"}, optional
        With the generator's ``validation_split``: the first ``1 - validation_split`` of the
        samples are "training", the rest "validation" (Keras's split).

    Notes
    -----
    Each item is ``x_batch`` (no ``y``), ``(x_batch, y_batch)``, or
    ``(x_batch, y_batch, w_batch)``; ``x_batch`` has the generator's dtype (float32).
    """

    def __init__(self, x: np.ndarray, y: Optional[np.ndarray], image_data_generator: Any,
                 batch_size: int = 32, shuffle: bool = False,
                 sample_weight: Optional[np.ndarray] = None, seed: Optional[int] = None,
                 save_to_dir: Optional[PathLike] = None, save_prefix: str = "",
                 save_format: str = "png", subset: Optional[str] = None,
                 dtype: Optional[str] = None) -> None:
        dtype = dtype or image_data_generator.dtype
        data = np.asarray(x, dtype=dtype)
        if data.ndim != 4:
            raise ValueError(f"flow() expects images of shape (n_ex, rows, cols, channels); got "
                             f"an array of shape {data.shape} (add a channel axis with "
                             f"x[..., None] for grey images)")
        labels = None if y is None else np.asarray(y)
        if labels is not None and len(labels) != len(data):
            raise ValueError(f"x and y must have the same length: x has {len(data)} images, "
                             f"y has {len(labels)} labels")
        weights = None if sample_weight is None else np.asarray(sample_weight)
        if weights is not None and len(weights) != len(data):
            raise ValueError(f"sample_weight has {len(weights)} entries for {len(data)} images")
        subset = check_subset(subset, image_data_generator.validation_split)
        if subset is not None:
            split = int(len(data) * (1 - image_data_generator.validation_split))
            part = slice(0, split) if subset == "training" else slice(split, None)
            data = data[part]
            labels = None if labels is None else labels[part]
            weights = None if weights is None else weights[part]
        self.x = data
        self.y = labels
        self.sample_weight = weights
        self.image_data_generator = image_data_generator
        self.dtype = np.dtype(dtype)
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(len(data), batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray,
                                            rng: np.random.RandomState) -> Any:
        generator = self.image_data_generator
        batch_x = generator.random_transform_batch(self.x[index_array], rng)
        batch_x = generator.standardize(batch_x).astype(self.dtype, copy=False)
        self._save_batch(batch_x, index_array, self.save_to_dir, self.save_prefix,
                         self.save_format)
        if self.y is None:
            return batch_x
        output: Tuple[np.ndarray, ...] = (batch_x, self.y[index_array])
        if self.sample_weight is not None:
            output = output + (self.sample_weight[index_array],)
        return output
