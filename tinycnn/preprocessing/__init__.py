"""Preprocessing: image augmentation and image-folder readers with Keras's names.

``tinycnn.preprocessing.image`` mirrors ``keras.preprocessing.image``;
``tinycnn.preprocessing.image_dataset_from_directory`` mirrors the modern Keras function.
"""
from tinycnn.preprocessing import image
from tinycnn.preprocessing.image import (DirectoryIterator, ImageDataGenerator, ImageDataset,
                                         NumpyArrayIterator, array_to_img,
                                         image_dataset_from_directory, img_to_array, load_img,
                                         save_img)

__all__ = ["image", "ImageDataGenerator", "NumpyArrayIterator", "DirectoryIterator", "ImageDataset",
           "image_dataset_from_directory", "load_img", "img_to_array", "array_to_img", "save_img"]
