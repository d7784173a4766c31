"""Keras's ``keras.preprocessing.image`` module, on tinycnn.

Change ``from keras.preprocessing.image import ImageDataGenerator`` to
``from tinycnn.preprocessing.image import ImageDataGenerator`` and the article's program runs.
The pieces live in small modules; this one gathers them under the Keras names:

* :class:`ImageDataGenerator` (:mod:`tinycnn.preprocessing.generator`) with ``.flow`` and
  ``.flow_from_directory``;
* :class:`NumpyArrayIterator`, :class:`Iterator` (:mod:`tinycnn.preprocessing.iterators`);
* :class:`DirectoryIterator` (:mod:`tinycnn.preprocessing.directory`);
* :func:`load_img`, :func:`img_to_array`, :func:`array_to_img`, :func:`save_img`
  (:mod:`tinycnn.preprocessing.image_files`, Pillow imported lazily);
* :func:`image_dataset_from_directory` (:mod:`tinycnn.preprocessing.dataset`);
* :func:`apply_affine`, :func:`transform_matrices` (:mod:`tinycnn.preprocessing.affine`).
"""
from tinycnn.preprocessing.affine import apply_affine, transform_matrices
from tinycnn.preprocessing.dataset import ImageDataset, image_dataset_from_directory
from tinycnn.preprocessing.directory import DirectoryIterator, scan_image_folder
from tinycnn.preprocessing.generator import ImageDataGenerator
from tinycnn.preprocessing.image_files import (IMAGE_EXTENSIONS, MissingPillowError,
                                               array_to_img, img_to_array, load_img, save_img)
from tinycnn.preprocessing.iterators import BatchIndexError, Iterator, NumpyArrayIterator

__all__ = [
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "DirectoryIterator",
    "ImageDataset",
    "image_dataset_from_directory",
    "load_img",
    "img_to_array",
    "array_to_img",
    "save_img",
    "apply_affine",
    "transform_matrices",
    "scan_image_folder",
    "IMAGE_EXTENSIONS",
    "MissingPillowError",
    "BatchIndexError",
]
