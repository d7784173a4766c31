"""``ImageDataGenerator``: Keras's real-time image augmentation, vectorised over each batch."""
from __future__ import annotations

import numbers
import os
from typing import Any, Callable, Dict, Optional, Sequence, Union

import numpy as np

from tinycnn.preprocessing.affine import FILL_MODES, apply_affine, is_identity, transform_matrices

PathLike = Union[str, "os.PathLike[str]"]


def _non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def _range_pair(name: str, value: Any, around_one: bool) -> Optional[np.ndarray]:
    """``zoom_range``/``brightness_range``: a float z -> [1 - z, 1 + z], or a [low, high] pair."""
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and around_one:
        if value < 0 or value >= 1:
            raise ValueError(f"{name} as a single number must be in [0, 1), got {value!r}")
        return np.array([1.0 - value, 1.0 + value])
    try:
        pair = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        pair = None
    if pair is None or pair.shape != (2,) or not np.all(np.isfinite(pair)) or pair[0] > pair[1] \
            or pair[0] <= 0:
        raise ValueError(f"{name} must be a number or a [low, high] pair with 0 < low <= high, "
                         f"got {value!r}")
    return pair


def _shift_spec(name: str, value: Any) -> Any:
    """Keras's shift ranges: float < 1 (fraction of size), number >= 1 (pixels), or a list."""
    if isinstance(value, (list, tuple, np.ndarray)):
        choices = np.asarray(value, dtype=np.float64).ravel()
        if choices.size == 0 or not np.all(np.isfinite(choices)):
            raise ValueError(f"{name} as a list must hold finite numbers, got {value!r}")
        return choices
    return _non_negative(name, value)


class ImageDataGenerator:
    """Generate batches of images with random augmentations (Keras's ``ImageDataGenerator``).

    Per batch, in this order: random affine warp and flips (one vectorised gather for the whole
    batch), brightness, channel shift, then :meth:`standardize` (``preprocessing_function``,
    ``rescale``, centring and normalisation). Labels are never touched, so they stay aligned.

    Parameters
    ----------
    featurewise_center, featurewise_std_normalization : bool
        Subtract the per-channel mean / divide by the per-channel std of the data given to
        :meth:`fit`.
    samplewise_center, samplewise_std_normalization : bool
        Subtract each image's own mean / divide by its own std.
    zca_whitening : bool
        Not supported (must stay False); accepted so Keras programs that pass False run.
    rotation_range : float
        Degrees; each image is rotated by a uniform angle in ``[-rotation_range, rotation_range]``.
    width_shift_range, height_shift_range : float or list
        Below 1: fraction of the width/height; 1 or more: pixels (whole pixels for an int, like
        Keras); a list: one of its values.
    brightness_range : (low, high), optional
        Multiply each image by a uniform factor from this range.
    shear_range : float
        Shear angle in **degrees** (as in Keras 2: the article's ``shear_range=0.2`` is a tiny
        0.2-degree shear).
    zoom_range : float or (low, high)
        A float z draws independent row and column zooms from ``[1 - z, 1 + z]``; below 1
        magnifies.
    channel_shift_range : float
        Add a uniform value in ``[-range, range]`` to each image (clipped to its original range).
    fill_mode : {"nearest", "constant", "reflect", "wrap"}
        How pixels warped in from outside the image are filled.
    cval : float
        Fill value for ``fill_mode="constant"``.
    horizontal_flip, vertical_flip : bool
        Mirror each image with probability 1/2.
    rescale : float, optional
        Multiply every pixel by this (e.g. ``1/255``) after the augmentations.
    preprocessing_function : callable, optional
        Applied to each image ``(rows, cols, channels)`` after augmentation, before ``rescale``.
    data_format : {None, "channels_last"}
        tinycnn is channels-last only.
    validation_split : float
        Fraction of the data set aside for ``subset="validation"`` in :meth:`flow` and
        :meth:`flow_from_directory`.
    interpolation_order : {0, 1}
        0 = nearest-neighbour, 1 = bilinear sampling for the warps.
    dtype : str
        Output dtype (default float32).

    Examples
    --------
    >>> train_datagen = ImageDataGenerator(rescale=1./255, shear_range=0.2, zoom_range=0.2,
    ...                                    horizontal_flip=True)
    >>> training_set = train_datagen.flow_from_directory('dataset/training_set',
    ...     target_size=(64, 64), batch_size=32, class_mode='binary')   # doctest: +SKIP
    """

    def __init__(self, featurewise_center: bool = False, samplewise_center: bool = False,
                 featurewise_std_normalization: bool = False,
                 samplewise_std_normalization: bool = False, zca_whitening: bool = False,
                 zca_epsilon: float = 1e-6, rotation_range: float = 0,
                 width_shift_range: Any = 0.0, height_shift_range: Any = 0.0,
                 brightness_range: Optional[Sequence[float]] = None, shear_range: float = 0.0,
                 zoom_range: Any = 0.0, channel_shift_range: float = 0.0,
                 fill_mode: str = "nearest", cval: float = 0.0, horizontal_flip: bool = False,
                 vertical_flip: bool = False, rescale: Optional[float] = None,
                 preprocessing_function: Optional[Callable[[np.ndarray], np.ndarray]] = None,
                 data_format: Optional[str] = None, validation_split: float = 0.0,
                 interpolation_order: int = 1, dtype: Optional[str] = None) -> None:
        if zca_whitening:
            raise ValueError("zca_whitening is not supported by tinycnn's ImageDataGenerator")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"tinycnn is channels-last only; data_format must be "
                             f"'channels_last' or None, got {data_format!r}")
        if fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
        if interpolation_order not in (0, 1):
            raise ValueError(f"interpolation_order must be 0 (nearest) or 1 (bilinear), "
                             f"got {interpolation_order!r}")
        if not isinstance(validation_split, numbers.Real) or not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        if rescale is not None and (isinstance(rescale, bool)
                                    or not isinstance(rescale, numbers.Real)):
            raise TypeError(f"rescale must be a number such as 1./255 or None, got {rescale!r}")
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise TypeError("preprocessing_function must be callable")
        self.featurewise_center = bool(featurewise_center)
        self.samplewise_center = bool(samplewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.zca_epsilon = zca_epsilon
        self.rotation_range = _non_negative("rotation_range", rotation_range)
        self.width_shift_range = _shift_spec("width_shift_range", width_shift_range)
        self.height_shift_range = _shift_spec("height_shift_range", height_shift_range)
        self.brightness_range = _range_pair("brightness_range", brightness_range,
                                            around_one=False)
        self.shear_range = _non_negative("shear_range", shear_range)
        self.zoom_range = _range_pair("zoom_range", zoom_range, around_one=True)
        self.channel_shift_range = _non_negative("channel_shift_range", channel_shift_range)
        self.fill_mode = fill_mode
        self.cval = float(cval)
        self.horizontal_flip = bool(horizontal_flip)
        self.vertical_flip = bool(vertical_flip)
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.data_format = "channels_last"
        self.validation_split = float(validation_split)
        self.interpolation_order = interpolation_order
        self.dtype = np.dtype(dtype or "float32")
        self.mean: Optional[np.ndarray] = None
        self.std: Optional[np.ndarray] = None

    # ------------------------------------------------------------------ iterators
    def flow(self, x: np.ndarray, y: Optional[np.ndarray] = None, batch_size: int = 32,
             shuffle: bool = True, sample_weight: Optional[np.ndarray] = None,
             seed: Optional[int] = None, save_to_dir: Optional[PathLike] = None,
             save_prefix: str = "", save_format: str = "png",
             subset: Optional[str] = None) -> "NumpyArrayIterator":
        """Iterate over augmented batches of in-memory arrays.

        Parameters
        ----------
        x : ndarray, shape (n_ex, rows, cols, channels)
        y : ndarray, shape (n_ex, ...), optional
            Labels, batched alongside (then each batch is ``(x_batch, y_batch)``).
        batch_size, shuffle, seed
            Batching; ``seed`` fixes shuffling and augmentation.
        sample_weight : ndarray, shape (n_ex,), optional
            Then batches are ``(x_batch, y_batch, w_batch)``.
        save_to_dir, save_prefix, save_format
            Also write every generated image to this folder (needs Pillow).
        subset : {"training", "validation"}, optional
            With ``validation_split``: which part of the data to iterate over.

        Returns
        -------
        NumpyArrayIterator
        """
        from tinycnn.preprocessing.iterators import NumpyArrayIterator
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  save_to_dir=save_to_dir, save_prefix=save_prefix,
                                  save_format=save_format, subset=subset)

    def flow_from_directory(self, directory: PathLike,
                            target_size: Sequence[int] = (256, 256), color_mode: str = "rgb",
                            classes: Optional[Sequence[str]] = None,
                            class_mode: Optional[str] = "categorical", batch_size: int = 32,
                            shuffle: bool = True, seed: Optional[int] = None,
                            save_to_dir: Optional[PathLike] = None, save_prefix: str = "",
                            save_format: str = "png", follow_links: bool = False,
                            subset: Optional[str] = None, interpolation: str = "nearest",
                            keep_aspect_ratio: bool = False) -> "DirectoryIterator":
        """Iterate over augmented batches of image files, one subfolder per class.

        ``directory/cats/*.jpg`` and ``directory/dogs/*.jpg`` give classes ``cats`` = 0 and
        ``dogs`` = 1 (alphabetical unless ``classes`` gives the order). See
        :class:`~tinycnn.preprocessing.image.DirectoryIterator` for every parameter, the label
        formats of each ``class_mode`` and the error policy for bad files.

        Returns
        -------
        DirectoryIterator
            With ``class_indices``, ``classes``, ``filenames``, ``samples`` and ``len()``.
        """
        from tinycnn.preprocessing.directory import DirectoryIterator
        return DirectoryIterator(directory, self, target_size=target_size,
                                 color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, batch_size=batch_size, shuffle=shuffle,
                                 seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, follow_links=follow_links,
                                 subset=subset, interpolation=interpolation,
                                 keep_aspect_ratio=keep_aspect_ratio)

    # ------------------------------------------------------------------ statistics
    def fit(self, x: np.ndarray, augment: bool = False, rounds: int = 1,
            seed: Optional[int] = None) -> None:
        """Compute the per-channel mean and std used by the featurewise options.

        Parameters
        ----------
        x : ndarray, shape (n_ex, rows, cols, channels)
        augment : bool
            Compute the statistics over ``rounds`` randomly augmented copies.
        rounds : int
        seed : int, optional
        """
        data = np.asarray(x, dtype=self.dtype)
        if data.ndim != 4:
            raise ValueError(f"fit expects images of shape (n_ex, rows, cols, channels), got "
                             f"{data.shape}")
        if augment:
            rng = np.random.RandomState(seed)
            data = np.concatenate([self.random_transform_batch(data, rng)
                                   for _ in range(int(rounds))])
        if self.rescale:
            data = data * self.rescale
        self.mean = data.mean(axis=(0, 1, 2), keepdims=True)[0]
        self.std = data.std(axis=(0, 1, 2), keepdims=True)[0]

    # ------------------------------------------------------------------ augmentation
    def _shift(self, spec: Any, size: int, n: int, rng: np.random.RandomState) -> np.ndarray:
        if isinstance(spec, np.ndarray):
            return rng.choice(spec, size=n)
        if spec == 0:
            return np.zeros(n)
        if spec < 1:
            return rng.uniform(-spec, spec, size=n) * size
        if float(spec).is_integer():
            return rng.randint(-int(spec), int(spec) + 1, size=n).astype(np.float64)
        return rng.uniform(-spec, spec, size=n)

    def get_random_transform_batch(self, shape: Sequence[int],
                                   rng: np.random.RandomState) -> Dict[str, np.ndarray]:
        """Draw one set of transform parameters per image: a dict of arrays of shape ``(n,)``.

        Keys: ``theta``, ``tx``, ``ty``, ``shear``, ``zx``, ``zy``, ``flip_horizontal``,
        ``flip_vertical``, ``brightness``, ``channel_shift_intensity`` (meanings in
        :mod:`tinycnn.preprocessing.affine`).
        """
        n, height, width = int(shape[0]), int(shape[1]), int(shape[2])
        params: Dict[str, np.ndarray] = {}
        params["theta"] = (rng.uniform(-self.rotation_range, self.rotation_range, size=n)
                           if self.rotation_range else np.zeros(n))
        params["tx"] = self._shift(self.width_shift_range, width, n, rng)
        params["ty"] = self._shift(self.height_shift_range, height, n, rng)
        params["shear"] = (rng.uniform(-self.shear_range, self.shear_range, size=n)
                           if self.shear_range else np.zeros(n))
        if self.zoom_range is None or np.all(self.zoom_range == 1):
            params["zx"] = params["zy"] = np.ones(n)
        else:
            params["zx"] = rng.uniform(self.zoom_range[0], self.zoom_range[1], size=n)
            params["zy"] = rng.uniform(self.zoom_range[0], self.zoom_range[1], size=n)
        params["flip_horizontal"] = (rng.uniform(size=n) < 0.5 if self.horizontal_flip
                                     else np.zeros(n, dtype=bool))
        params["flip_vertical"] = (rng.uniform(size=n) < 0.5 if self.vertical_flip
                                   else np.zeros(n, dtype=bool))
        params["brightness"] = (rng.uniform(self.brightness_range[0], self.brightness_range[1],
                                            size=n)
                                if self.brightness_range is not None else np.ones(n))
        params["channel_shift_intensity"] = (
            rng.uniform(-self.channel_shift_range, self.channel_shift_range, size=n)
            if self.channel_shift_range else np.zeros(n))
        return params

    def apply_transform_batch(self, x: np.ndarray, params: Dict[str, Any]) -> np.ndarray:
        """Apply given per-image parameters (see :meth:`get_random_transform_batch`).

        Parameters
        ----------
        x : ndarray, shape (n_ex, rows, cols, channels)
        params : dict
            Missing keys mean "no change"; values are scalars or arrays of shape ``(n_ex,)``.

        Returns
        -------
        ndarray, same shape and dtype as ``x``
        """
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"expected images of shape (n_ex, rows, cols, channels), got "
                             f"{x.shape}")
        n, height, width, _ = x.shape
        known = {"theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal", "flip_vertical",
                 "brightness", "channel_shift_intensity"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown transform parameters {unknown}; known: {sorted(known)}")
        matrices = transform_matrices(
            n, height, width, theta=params.get("theta"), tx=params.get("tx"),
            ty=params.get("ty"), shear=params.get("shear"), zx=params.get("zx"),
            zy=params.get("zy"), flip_horizontal=params.get("flip_horizontal"),
            flip_vertical=params.get("flip_vertical"))
        out = x if is_identity(matrices) else apply_affine(
            x, matrices, fill_mode=self.fill_mode, cval=self.cval,
            order=self.interpolation_order)
        shift = params.get("channel_shift_intensity")
        if shift is not None and np.any(np.asarray(shift) != 0):
            low = x.min(axis=(1, 2, 3), keepdims=True)
            high = x.max(axis=(1, 2, 3), keepdims=True)
            moved = out + np.broadcast_to(np.asarray(shift, dtype=np.float64), (n,))[
                :, None, None, None]
            out = np.clip(moved, low, high).astype(x.dtype)
        brightness = params.get("brightness")
        if brightness is not None and np.any(np.asarray(brightness) != 1):
            factor = np.broadcast_to(np.asarray(brightness, dtype=np.float64), (n,))
            out = (out * factor[:, None, None, None]).astype(x.dtype)
        return out

    def random_transform_batch(self, x: np.ndarray,
                               rng: Optional[np.random.RandomState] = None) -> np.ndarray:
        """Randomly augment a whole batch ``(n_ex, rows, cols, channels)`` (vectorised)."""
        rng = rng if rng is not None else np.random.RandomState()
        x = np.asarray(x)
        return self.apply_transform_batch(x, self.get_random_transform_batch(x.shape, rng))

    # Keras's single-image API ---------------------------------------------------
    def get_random_transform(self, img_shape: Sequence[int],
                             seed: Optional[int] = None) -> Dict[str, float]:
        """Random parameters for one image of shape ``(rows, cols, channels)`` (Keras API)."""
        batch = self.get_random_transform_batch((1,) + tuple(img_shape)[:2],
                                                np.random.RandomState(seed))
        return {key: value[0].item() for key, value in batch.items()}

    def apply_transform(self, x: np.ndarray, transform_parameters: Dict[str, Any]) -> np.ndarray:
        """Apply parameters to one image ``(rows, cols, channels)`` (Keras API)."""
        image = np.asarray(x)
        if image.ndim != 3:
            raise ValueError(f"apply_transform expects one image (rows, cols, channels), got "
                             f"shape {image.shape}; use apply_transform_batch for batches")
        return self.apply_transform_batch(image[None], transform_parameters)[0]

    def random_transform(self, x: np.ndarray, seed: Optional[int] = None) -> np.ndarray:
        """Randomly augment one image ``(rows, cols, channels)`` (Keras API)."""
        image = np.asarray(x)
        if image.ndim != 3:
            raise ValueError(f"random_transform expects one image (rows, cols, channels), got "
                             f"shape {image.shape}; use random_transform_batch for batches")
        return self.random_transform_batch(image[None], np.random.RandomState(seed))[0]

    # ------------------------------------------------------------------ standardisation
    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Apply ``preprocessing_function``, ``rescale`` and centring/normalisation.

        Works on one image ``(rows, cols, channels)`` or a batch ``(n_ex, rows, cols,
        channels)``; returns a new array of the generator's dtype.
        """
        x = np.array(x, dtype=self.dtype)
        single = x.ndim == 3
        batch = x[None] if single else x
        if batch.ndim != 4:
            raise ValueError(f"expected an image (rows, cols, channels) or a batch (n_ex, rows, "
                             f"cols, channels), got shape {x.shape}")
        if self.preprocessing_function is not None:
            batch = np.stack([np.asarray(self.preprocessing_function(image), dtype=self.dtype)
                              for image in batch])
        if self.rescale:
            batch = batch * self.dtype.type(self.rescale)
        if self.samplewise_center:
            batch = batch - batch.mean(axis=(1, 2, 3), keepdims=True)
        if self.samplewise_std_normalization:
            batch = batch / (batch.std(axis=(1, 2, 3), keepdims=True) + 1e-6)
        if self.featurewise_center or self.featurewise_std_normalization:
            if self.mean is None:
                raise ValueError("featurewise_center/featurewise_std_normalization need the "
                                 "data statistics: call .fit(x_train) first")
            if self.featurewise_center:
                batch = batch - self.mean
            if self.featurewise_std_normalization:
                batch = batch / (self.std + 1e-6)
        batch = batch.astype(self.dtype, copy=False)
        return batch[0] if single else batch
