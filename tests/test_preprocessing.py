"""tinycnn.preprocessing: augmentation, iterators, folder readers.

Expected values are worked out by hand from the documented conventions (which way a shift, a
shear or a zoom moves pixels; bilinear weights), or come from NumPy's own ``rot90``/``flip``.
Tests that read or write image files carry the ``image`` marker (Pillow).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinycnn.preprocessing import image_dataset_from_directory
from tinycnn.preprocessing.image import (BatchIndexError, ImageDataGenerator, MissingPillowError,
                                         apply_affine, transform_matrices)

ROOT = Path(__file__).resolve().parents[1]
GRID = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)  # value = 4 * row + col


def warp(images, fill_mode="nearest", cval=0.0, order=1, **params):
    n, height, width, _ = images.shape
    return apply_affine(images, transform_matrices(n, height, width, **params),
                        fill_mode=fill_mode, cval=cval, order=order)


def labelled_images(n=24, size=5, channels=2):
    """Image i holds the values 100*i + (its pixel index), so every image is distinct and
    asymmetric: its label can be read back from its pixels, flipped or not."""
    base = np.arange(size * size * channels, dtype=np.float32).reshape(size, size, channels)
    x = base[None] + 100.0 * np.arange(n, dtype=np.float32)[:, None, None, None]
    return x, np.arange(n)


# ------------------------------------------------------------------------------ affine warps
def test_rotation_by_90_degrees_is_numpys_rot90():
    images = np.random.RandomState(0).uniform(size=(3, 5, 5, 2)).astype(np.float32)
    turned = warp(images, theta=90)
    np.testing.assert_allclose(turned, np.rot90(images, k=1, axes=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(warp(images, theta=-90), np.rot90(images, k=-1, axes=(1, 2)),
                               atol=1e-5)


def test_shifts_move_pixels_right_and_down_and_fill_by_mode():
    right = warp(GRID, tx=1)[0, :, :, 0]
    np.testing.assert_array_equal(right, [[0, 0, 1, 2], [4, 4, 5, 6], [8, 8, 9, 10],
                                          [12, 12, 13, 14]])
    down = warp(GRID, ty=1, fill_mode="constant", cval=-1)[0, :, :, 0]
    np.testing.assert_array_equal(down, [[-1, -1, -1, -1], [0, 1, 2, 3], [4, 5, 6, 7],
                                         [8, 9, 10, 11]])
    left_reflect = warp(GRID, tx=-1, fill_mode="reflect")[0, :, :, 0]
    np.testing.assert_array_equal(left_reflect[0], [1, 2, 3, 3])  # d c b a | a b c d | d c b a
    left_wrap = warp(GRID, tx=-1, fill_mode="wrap")[0, :, :, 0]
    np.testing.assert_array_equal(left_wrap[0], [1, 2, 3, 0])
    half = warp(GRID, tx=0.5)[0, :, :, 0]  # bilinear: halfway between neighbours
    np.testing.assert_allclose(half[1], [4, 4.5, 5.5, 6.5])


def test_shear_slides_rows_by_tan_angle_times_distance_from_centre():
    image = np.arange(9, dtype=np.float64).reshape(1, 3, 3, 1)
    sheared = warp(image, shear=45)[0, :, :, 0]
    # tan 45 = 1: the top row moves left by one, the centre row stays, the bottom row moves right
    np.testing.assert_allclose(sheared, [[1, 2, 2], [3, 4, 5], [6, 6, 7]], atol=1e-12)


def test_zoom_below_one_magnifies_about_the_centre_with_bilinear_weights():
    zoomed = warp(GRID, zx=0.5, zy=0.5)[0, :, :, 0]
    # output (r, c) samples input (0.75 + r/2, 0.75 + c/2); value 4*row + col is linear
    expected = 4 * (0.75 + np.arange(4) / 2)[:, None] + (0.75 + np.arange(4) / 2)[None, :]
    np.testing.assert_allclose(zoomed, expected, atol=1e-5)
    nearest = warp(GRID, zx=0.5, zy=0.5, order=0)[0, :, :, 0]
    np.testing.assert_array_equal(nearest[0], [5, 5, 6, 6])  # round(0.75)=1, round(1.25)=1, ...


def test_flips_are_flips_and_warps_keep_dtype():
    np.testing.assert_array_equal(warp(GRID, flip_horizontal=True), GRID[:, :, ::-1])
    np.testing.assert_array_equal(warp(GRID, flip_vertical=True), GRID[:, ::-1])
    as_bytes = (GRID * 10).astype(np.uint8)
    shifted = warp(as_bytes, tx=0.5)
    assert shifted.dtype == np.uint8 and shifted[0, 1, 1, 0] == 45  # (40 + 50) / 2
    assert warp(GRID.astype(np.float64), theta=10).dtype == np.float64


def test_each_image_gets_its_own_transform_in_one_call():
    images = np.repeat(GRID, 3, axis=0)
    out = warp(images, tx=np.array([0.0, 1.0, 0.0]), flip_vertical=np.array([False, False, True]))
    np.testing.assert_array_equal(out[0], GRID[0])
    np.testing.assert_array_equal(out[1], warp(GRID, tx=1)[0])
    np.testing.assert_array_equal(out[2], GRID[0, ::-1])


def test_apply_affine_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(n_ex, rows, cols, channels\)"):
        apply_affine(GRID[0], np.eye(3)[None])
    with pytest.raises(ValueError, match="one 3x3 matrix per image"):
        apply_affine(GRID, np.eye(3))
    with pytest.raises(ValueError, match="fill_mode"):
        apply_affine(GRID, np.eye(3)[None], fill_mode="mirror")


# ------------------------------------------------------------------------------ the generator
def test_rescale_scales_and_output_is_float32():
    x = np.arange(2 * 3 * 3 * 1, dtype=np.uint8).reshape(2, 3, 3, 1) * 10
    batch = ImageDataGenerator(rescale=1.0 / 255).flow(x, batch_size=2, shuffle=False)[0]
    assert batch.dtype == np.float32
    np.testing.assert_allclose(batch, x / 255.0, rtol=1e-6)


def test_horizontal_flip_flips_about_half_and_keeps_labels_aligned():
    x, y = labelled_images(n=200)
    iterator = ImageDataGenerator(horizontal_flip=True).flow(x, y, batch_size=32, seed=1)
    flipped = kept = 0
    seen = []
    for index in range(len(iterator)):
        batch_x, batch_y = iterator[index]
        for image, label in zip(batch_x, batch_y):
            if np.array_equal(image, x[label]):
                kept += 1
            else:
                np.testing.assert_array_equal(image, x[label][:, ::-1])
                flipped += 1
            seen.append(int(label))
    assert sorted(seen) == list(range(200))  # every sample exactly once per epoch
    assert 70 <= flipped <= 130 and flipped + kept == 200  # Binomial(200, 1/2): 5 sigma


def test_vertical_flip_and_rescale_together():
    x, y = labelled_images(n=40)
    generator = ImageDataGenerator(vertical_flip=True, rescale=0.5)
    batch_x, batch_y = generator.flow(x, y, batch_size=40, seed=2)[0]
    up_down = [np.array_equal(image, x[label][::-1] * 0.5) for image, label in zip(batch_x, batch_y)]
    same = [np.array_equal(image, x[label] * 0.5) for image, label in zip(batch_x, batch_y)]
    assert all(a or b for a, b in zip(up_down, same)) and any(up_down) and any(same)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_article_augmentations_keep_shape_and_dtype(dtype):
    x = np.random.RandomState(0).uniform(0, 255, size=(10, 16, 12, 3))
    generator = ImageDataGenerator(rescale=1.0 / 255, shear_range=0.2, zoom_range=0.2,
                                   horizontal_flip=True, rotation_range=20,
                                   width_shift_range=0.1, height_shift_range=2, dtype=dtype)
    batch_x, batch_y = generator.flow(x, np.arange(10), batch_size=4, seed=0)[2]
    assert batch_x.shape == (2, 16, 12, 3) and batch_x.dtype == np.dtype(dtype)
    assert batch_y.shape == (2,)
    single = generator.random_transform(x[0].astype(np.float32), seed=3)
    assert single.shape == (16, 12, 3) and single.dtype == np.float32


def test_zoom_and_shear_really_change_images():
    x = np.random.RandomState(1).uniform(size=(8, 10, 10, 1)).astype(np.float32)
    zoomed = ImageDataGenerator(zoom_range=0.3).flow(x, batch_size=8, shuffle=False, seed=0)[0]
    sheared = ImageDataGenerator(shear_range=20).flow(x, batch_size=8, shuffle=False, seed=0)[0]
    for out in (zoomed, sheared):
        assert out.shape == x.shape
        assert all(not np.allclose(a, b) for a, b in zip(out, x))
        assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6  # interpolation


def test_seeds_make_batches_reproducible():
    x, y = labelled_images(n=50)
    generator = ImageDataGenerator(rotation_range=30, zoom_range=0.2, horizontal_flip=True)
    first = generator.flow(x, y, batch_size=16, seed=42)
    second = generator.flow(x, y, batch_size=16, seed=42)
    other = generator.flow(x, y, batch_size=16, seed=43)
    for index in range(len(first)):
        np.testing.assert_array_equal(first[index][0], second[index][0])
        np.testing.assert_array_equal(first[index][1], second[index][1])
    np.testing.assert_array_equal(first[1][0], first[1][0])  # asking twice: same batch
    assert not np.array_equal(first[0][0], other[0][0])
    order_epoch_0 = np.concatenate([first[i][1] for i in range(len(first))])
    first.on_epoch_end()
    order_epoch_1 = np.concatenate([first[i][1] for i in range(len(first))])
    assert sorted(order_epoch_1) == sorted(order_epoch_0) and not np.array_equal(
        order_epoch_0, order_epoch_1)
    np.random.seed(5)
    a = generator.flow(x, y, batch_size=16)[0][0]
    np.random.seed(5)
    b = generator.flow(x, y, batch_size=16)[0][0]
    np.testing.assert_array_equal(a, b)  # no seed: drawn from NumPy's global generator


def test_iterator_protocol_len_next_and_bad_indices():
    x, y = labelled_images(n=10)
    iterator = ImageDataGenerator().flow(x, y, batch_size=4, shuffle=False)
    assert len(iterator) == 3
    sizes = [len(next(iterator)[0]) for _ in range(4)]
    assert sizes == [4, 4, 2, 4] and iterator.epoch == 1  # wrapped into a new epoch
    np.testing.assert_array_equal(iterator[-1][1], [8, 9])
    with pytest.raises(BatchIndexError, match="3 batches per epoch"):
        iterator[3]
    with pytest.raises(ValueError):  # BatchIndexError is also a ValueError
        iterator[7]
    with pytest.raises(TypeError, match="integer"):
        iterator["0"]


def test_flow_options_sample_weight_subset_and_no_labels():
    x, y = labelled_images(n=10)
    weights = np.linspace(0.1, 1.0, 10)
    batch = ImageDataGenerator().flow(x, y, sample_weight=weights, batch_size=10,
                                      shuffle=False)[0]
    assert len(batch) == 3 and np.array_equal(batch[2], weights)
    split = ImageDataGenerator(validation_split=0.3)
    training = split.flow(x, y, batch_size=10, shuffle=False, subset="training")
    validation = split.flow(x, y, batch_size=10, shuffle=False, subset="validation")
    assert training[0][1].tolist() == list(range(7)) and validation[0][1].tolist() == [7, 8, 9]
    only_x = ImageDataGenerator().flow(x, batch_size=3, shuffle=False)[0]
    assert isinstance(only_x, np.ndarray) and only_x.shape == (3, 5, 5, 2)


def test_brightness_channel_shift_and_featurewise_statistics():
    x = np.random.RandomState(2).uniform(10, 200, size=(20, 6, 6, 3)).astype(np.float32)
    bright = ImageDataGenerator(brightness_range=(0.5, 1.5)).flow(x, batch_size=20,
                                                                   shuffle=False, seed=0)[0]
    ratios = bright / x
    per_image = ratios.reshape(20, -1)
    np.testing.assert_allclose(per_image, per_image[:, :1] * np.ones_like(per_image), rtol=1e-5)
    assert per_image.min() >= 0.5 - 1e-6 and per_image.max() <= 1.5 + 1e-6
    shifted = ImageDataGenerator(channel_shift_range=30).flow(x, batch_size=20, shuffle=False,
                                                              seed=0)[0]
    assert shifted.min() >= x.min() and shifted.max() <= x.max()
    generator = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    with pytest.raises(ValueError, match="fit"):
        generator.flow(x, batch_size=20)[0]
    generator.fit(x)
    out = generator.flow(x, batch_size=20, shuffle=False)[0]
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1.0, atol=1e-4)
    sample = ImageDataGenerator(samplewise_center=True).standardize(x)
    np.testing.assert_allclose(sample.mean(axis=(1, 2, 3)), 0.0, atol=1e-3)


def test_generator_rejects_bad_arguments():
    x, y = labelled_images(n=4)
    bad = [
        (dict(fill_mode="mirror"), "fill_mode"),
        (dict(zoom_range=1.5), "zoom_range"),
        (dict(zoom_range=(1.2, 0.8)), "zoom_range"),
        (dict(rotation_range=-5), "rotation_range"),
        (dict(data_format="channels_first"), "channels-last"),
        (dict(zca_whitening=True), "zca_whitening"),
        (dict(validation_split=1.0), "validation_split"),
        (dict(interpolation_order=3), "interpolation_order"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            ImageDataGenerator(**kwargs)
    with pytest.raises(TypeError, match="rescale"):
        ImageDataGenerator(rescale="1/255")
    generator = ImageDataGenerator()
    with pytest.raises(ValueError, match="x\\[..., None\\]"):
        generator.flow(x[..., 0], y)
    with pytest.raises(ValueError, match="same length"):
        generator.flow(x, y[:3])
    with pytest.raises(ValueError, match="batch_size"):
        generator.flow(x, y, batch_size=0)
    with pytest.raises(ValueError, match="validation_split"):
        generator.flow(x, y, subset="validation")
    with pytest.raises(ValueError, match="unknown transform parameters"):
        generator.apply_transform(x[0], {"rotate": 3})


def test_tinycnn_imports_without_pillow_and_says_how_to_get_it():
    code = ("import sys; sys.modules['PIL'] = None\n"
            "import tinycnn, tinycnn.preprocessing, tinycnn.datasets, tinycnn.cli\n"
            "from tinycnn.preprocessing.image import load_img, MissingPillowError\n"
            "try:\n    load_img('x.png')\nexcept MissingPillowError as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)
    assert result.returncode == 0, result.stderr
    assert "pip install tinycnn[image]" in result.stdout
    assert issubclass(MissingPillowError, ImportError)


# ------------------------------------------------------------------------------ image folders
COLOURS = {"cats": (255, 0, 0), "dogs": (0, 0, 255), "owls": (0, 255, 0)}


def write_tree(root: Path, counts, size=(6, 8)):
    """``root/<class>/<i>.png``: each image a flat colour identifying its class, with its
    number written into pixel (0, 0)'s green channel."""
    from PIL import Image

    for name, count in counts.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(count):
            pixels = np.zeros(size + (3,), dtype=np.uint8)
            pixels[:] = COLOURS[name]
            pixels[0, 0, 1] = number
            Image.fromarray(pixels).save(str(folder / f"{name}{number:02d}.png"))
    return root


@pytest.mark.image
def test_flow_from_directory_reads_classes_labels_and_pixels(tmp_path, capsys):
    root = write_tree(tmp_path / "train", {"dogs": 5, "cats": 7})
    generator = ImageDataGenerator(rescale=1.0 / 255)
    iterator = generator.flow_from_directory(str(root), target_size=(6, 8), batch_size=4,
                                             class_mode="binary", seed=0)
    assert capsys.readouterr().out == "Found 12 images belonging to 2 classes.\n"  # as Keras
    assert iterator.class_indices == {"cats": 0, "dogs": 1}
    assert iterator.samples == 12 and len(iterator) == 3 and iterator.num_classes == 2
    assert iterator.filenames[0] == "cats/cats00.png" and iterator.classes.tolist() == [0] * 7 + [1] * 5
    seen = 0
    for index in range(len(iterator)):
        batch_x, batch_y = iterator[index]
        assert batch_x.dtype == np.float32 and batch_y.dtype == np.float32
        for image, label in zip(batch_x, batch_y):
            colour = COLOURS["dogs" if label == 1.0 else "cats"]
            np.testing.assert_allclose(image[3, 3], np.array(colour) / 255.0, rtol=1e-6)
            seen += 1
    assert seen == 12
    categorical = generator.flow_from_directory(str(root), target_size=(6, 8), batch_size=12,
                                                shuffle=False)[0][1]
    np.testing.assert_array_equal(categorical, np.eye(2)[[0] * 7 + [1] * 5])
    sparse = generator.flow_from_directory(str(root), target_size=(6, 8), batch_size=12,
                                           class_mode="sparse", shuffle=False)[0][1]
    assert sparse.dtype == np.int64 and sparse.tolist() == [0] * 7 + [1] * 5
    images_only = generator.flow_from_directory(str(root), target_size=(3, 4), batch_size=2,
                                                class_mode=None, color_mode="grayscale")[0]
    assert isinstance(images_only, np.ndarray) and images_only.shape == (2, 3, 4, 1)
    pairs = generator.flow_from_directory(str(root), target_size=(6, 8), batch_size=2,
                                          class_mode="input")[0]
    np.testing.assert_array_equal(pairs[0], pairs[1])


@pytest.mark.image
def test_flow_from_directory_classes_order_and_validation_subset(tmp_path):
    root = write_tree(tmp_path / "data", {"cats": 10, "dogs": 5, "owls": 4})
    generator = ImageDataGenerator(validation_split=0.2)
    picked = generator.flow_from_directory(str(root), target_size=(6, 8),
                                           classes=["owls", "cats"], class_mode="sparse")
    assert picked.class_indices == {"owls": 0, "cats": 1} and picked.samples == 14
    validation = generator.flow_from_directory(str(root), target_size=(6, 8),
                                               subset="validation", shuffle=False,
                                               batch_size=50)
    training = generator.flow_from_directory(str(root), target_size=(6, 8), subset="training")
    # per class, the first 20% of the sorted files: int(0.2*10)=2, int(0.2*5)=1, int(0.2*4)=0
    assert validation.filenames == ["cats/cats00.png", "cats/cats01.png", "dogs/dogs00.png"]
    assert training.samples == 16 and not set(training.filenames) & set(validation.filenames)


@pytest.mark.image
def test_article_augmentation_on_files_keeps_labels(tmp_path):
    root = write_tree(tmp_path / "t", {"cats": 6, "dogs": 6}, size=(16, 16))
    generator = ImageDataGenerator(rescale=1.0 / 255, shear_range=0.2, zoom_range=0.2,
                                   horizontal_flip=True)
    iterator = generator.flow_from_directory(str(root), target_size=(16, 16), batch_size=5,
                                             class_mode="binary", seed=3)
    for index in range(len(iterator)):
        batch_x, batch_y = iterator[index]
        # flat colours survive warps: red means cats (0), blue means dogs (1)
        red, blue = batch_x[:, 8, 8, 0], batch_x[:, 8, 8, 2]
        np.testing.assert_array_equal(blue > red, batch_y == 1.0)


@pytest.mark.image
def test_folder_errors_are_clear(tmp_path):
    generator = ImageDataGenerator()
    with pytest.raises(FileNotFoundError, match="image folder not found"):
        generator.flow_from_directory(str(tmp_path / "missing"))
    flat = tmp_path / "flat"
    write_tree(flat, {"cats": 2})
    for file in (flat / "cats").iterdir():
        file.rename(flat / file.name)
    (flat / "cats").rmdir()
    with pytest.raises(ValueError, match="no class subfolders .*2 image files sit directly"):
        generator.flow_from_directory(str(flat))
    with pytest.raises(ValueError, match="is a file"):
        generator.flow_from_directory(str(flat / "cats00.png"))
    tree = write_tree(tmp_path / "tree", {"cats": 2, "dogs": 2, "owls": 2})
    (tree / "empty").mkdir()
    (tree / "empty" / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match=r"\['empty'\].*no readable image files"):
        generator.flow_from_directory(str(tree))
    with pytest.raises(ValueError, match=r"no class subfolder \['horses'\]"):
        generator.flow_from_directory(str(tree), classes=["cats", "horses"])
    with pytest.raises(ValueError, match="class_mode"):
        generator.flow_from_directory(str(tree), classes=["cats"], class_mode="multi")
    with pytest.raises(ValueError, match="exactly 2 classes"):
        generator.flow_from_directory(str(tree), classes=["cats", "dogs", "owls"],
                                      class_mode="binary")
    for size in [(64,), (0, 64), (64.5, 64), "64"]:
        with pytest.raises(ValueError, match="target_size"):
            generator.flow_from_directory(str(tree), target_size=size, classes=["cats"])
    with pytest.raises(ValueError, match="color_mode"):
        generator.flow_from_directory(str(tree), color_mode="cmyk", classes=["cats"])


@pytest.mark.image
def test_unreadable_images_are_skipped_with_a_warning_naming_them(tmp_path):
    tree = write_tree(tmp_path / "tree", {"cats": 3, "dogs": 3})
    (tree / "cats" / "broken.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    with pytest.warns(UserWarning, match=r"skipped 1 image file.*broken\.jpg"):
        iterator = ImageDataGenerator().flow_from_directory(str(tree), target_size=(6, 8))
    assert iterator.samples == 6 and "cats/broken.jpg" not in iterator.filenames
    # a file whose header is fine but whose pixels are cut off passes the scan and fails
    # when its batch is read, naming the file
    from PIL import Image

    noisy = np.random.RandomState(0).randint(0, 256, size=(32, 32, 3)).astype(np.uint8)
    Image.fromarray(noisy).save(str(tree / "dogs" / "dogs01.png"))
    whole = (tree / "dogs" / "dogs01.png").read_bytes()
    (tree / "dogs" / "dogs01.png").write_bytes(whole[:len(whole) // 2])
    iterator = ImageDataGenerator().flow_from_directory(
        str(tree), target_size=(6, 8), batch_size=6, shuffle=False, classes=["dogs"])
    assert iterator.samples == 3
    with pytest.raises(ValueError, match="cannot read image .*dogs01.png"):
        iterator[0]


@pytest.mark.image
def test_image_dataset_from_directory(tmp_path, capsys):
    root = write_tree(tmp_path / "ds", {"cats": 6, "dogs": 4})
    dataset = image_dataset_from_directory(str(root), image_size=(6, 8), batch_size=4, seed=1)
    assert capsys.readouterr().out == "Found 10 files belonging to 2 classes.\n"
    assert dataset.class_names == ["cats", "dogs"] and len(dataset) == 3
    batches = list(dataset)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    images = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    assert images.dtype == np.float32 and images.max() == 255.0  # not rescaled, as in Keras
    assert labels.dtype == np.int64 and sorted(labels.tolist()) == [0] * 6 + [1] * 4
    np.testing.assert_array_equal(images[:, 3, 3, 0] == 255.0, labels == 0)  # red = cats
    binary = image_dataset_from_directory(str(root), image_size=(6, 8), label_mode="binary",
                                          batch_size=10, shuffle=False)[0][1]
    assert binary.shape == (10, 1) and binary.dtype == np.float32
    capsys.readouterr()
    training, validation = image_dataset_from_directory(
        str(root), image_size=(6, 8), validation_split=0.3, subset="both", seed=7)
    assert capsys.readouterr().out.splitlines()[1:] == ["Using 7 files for training.",
                                                        "Using 3 files for validation."]
    assert len(training.file_paths) == 7 and len(validation.file_paths) == 3
    assert not set(training.file_paths) & set(validation.file_paths)
    with pytest.raises(ValueError, match="seed"):
        image_dataset_from_directory(str(root), validation_split=0.3, subset="training")
    with pytest.raises(ValueError, match="label_mode"):
        image_dataset_from_directory(str(root), label_mode="sparse")
    with pytest.raises(ValueError, match="image_size"):
        image_dataset_from_directory(str(root), image_size=(0, 8))


@pytest.mark.image
def test_load_img_img_to_array_array_to_img_round_trip(tmp_path):
    from tinycnn.preprocessing.image import array_to_img, img_to_array, load_img, save_img

    pixels = np.random.RandomState(0).randint(0, 256, size=(5, 7, 3)).astype(np.float32)
    save_img(tmp_path / "a.png", pixels, scale=False)
    back = img_to_array(load_img(tmp_path / "a.png"))
    np.testing.assert_array_equal(back, pixels)
    grey = img_to_array(load_img(tmp_path / "a.png", color_mode="grayscale"))
    assert grey.shape == (5, 7, 1)
    resized = img_to_array(load_img(tmp_path / "a.png", target_size=(10, 14)))
    assert resized.shape == (10, 14, 3)
    np.testing.assert_array_equal(resized[::2, ::2], pixels)  # nearest: each pixel doubled
    stretched = img_to_array(array_to_img(np.array([[[0.0], [0.5]]]), scale=True))
    assert stretched[:, :, 0].tolist() == [[0.0, 255.0]]
    with pytest.raises(FileNotFoundError, match="nothing.png"):
        load_img(tmp_path / "nothing.png")
    (tmp_path / "bad.png").write_text("text")
    with pytest.raises(ValueError, match="bad.png"):
        load_img(tmp_path / "bad.png")


@pytest.mark.image
def test_save_to_dir_writes_the_generated_images(tmp_path):
    from tinycnn.preprocessing.image import img_to_array, load_img

    root = write_tree(tmp_path / "tree", {"cats": 2, "dogs": 1})
    iterator = ImageDataGenerator().flow_from_directory(
        str(root), target_size=(6, 8), batch_size=3, shuffle=False,
        save_to_dir=str(tmp_path / "out"), save_prefix="aug")
    batch_x, _ = iterator[0]
    saved = sorted((tmp_path / "out").glob("aug_*.png"))
    assert len(saved) == 3
    colours = sorted(tuple(img_to_array(load_img(file))[3, 3].tolist()) for file in saved)
    assert colours == sorted(tuple(float(v) for v in image[3, 3]) for image in batch_x)


@pytest.mark.image
def test_image_dataset_with_explicit_labels_and_no_labels(tmp_path):
    root = write_tree(tmp_path / "ds", {"cats": 2, "dogs": 2})
    # explicit labels follow the sorted file paths: cats00, cats01, dogs00, dogs01
    dataset = image_dataset_from_directory(str(root), labels=[3, 1, 0, 2], image_size=(6, 8),
                                           batch_size=4, shuffle=False)
    images, labels = dataset[0]
    assert labels.tolist() == [3, 1, 0, 2] and dataset.class_names == ["0", "1", "2", "3"]
    np.testing.assert_array_equal(images[:, 0, 0, 1], [0, 1, 0, 1])  # the file numbers
    unlabelled = image_dataset_from_directory(str(root), labels=None, image_size=(6, 8),
                                              batch_size=4, shuffle=False)[0]
    assert isinstance(unlabelled, np.ndarray) and unlabelled.shape == (4, 6, 8, 3)
    with pytest.raises(ValueError, match="one per image file"):
        image_dataset_from_directory(str(root), labels=[0, 1], image_size=(6, 8))


@pytest.mark.image
def test_mixed_file_types_sizes_and_modes_all_load_as_the_requested_colour_mode(tmp_path):
    from PIL import Image

    folder = tmp_path / "mixed" / "things"
    folder.mkdir(parents=True)
    Image.new("L", (10, 7), 200).save(str(folder / "grey.png"))
    Image.new("RGBA", (5, 9), (10, 20, 30, 128)).save(str(folder / "alpha.png"))
    Image.new("RGB", (40, 30), (250, 0, 0)).save(str(folder / "photo.JPG"), quality=95)
    Image.new("RGB", (3, 3), (0, 0, 255)).convert("P").save(str(folder / "palette.gif"))
    Image.new("RGB", (12, 12), (0, 255, 0)).save(str(folder / "bitmap.bmp"))
    (folder / "notes.txt").write_text("ignored: not an image ending")
    iterator = ImageDataGenerator().flow_from_directory(
        str(tmp_path / "mixed"), target_size=(8, 8), batch_size=10, shuffle=False,
        class_mode=None)
    assert iterator.filenames == ["things/alpha.png", "things/bitmap.bmp", "things/grey.png",
                                  "things/palette.gif", "things/photo.JPG"]
    batch = iterator[0]
    assert batch.shape == (5, 8, 8, 3)
    centre = batch[:, 4, 4].tolist()
    assert centre[0] == [10, 20, 30] and centre[1] == [0, 255, 0] and centre[2] == [200] * 3
    assert centre[3] == [0, 0, 255]
    assert abs(centre[4][0] - 250) <= 3 and max(centre[4][1:]) <= 3  # JPEG is lossy
    grey = ImageDataGenerator().flow_from_directory(
        str(tmp_path / "mixed"), target_size=(8, 8), color_mode="grayscale", batch_size=10,
        shuffle=False, class_mode=None)[0]
    assert grey.shape == (5, 8, 8, 1) and grey[2, 4, 4, 0] == 200
