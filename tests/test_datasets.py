"""tinycnn.datasets: digits, synthetic images, IDX files.

Oracles: hand-written bytes laid out per the IDX specification (built with ``struct``), the
digits' first rows as printed in scikit-learn's documentation, and geometric properties of the
synthetic images that follow from their definitions (a vertical bar is constant down each
column, a square fills its bounding box, a circle does not).
"""
from __future__ import annotations

import gzip
import struct
import sys

import numpy as np
import pytest

from tinycnn.datasets import (load_digits, load_mnist_idx, make_shapes, make_stripes, read_idx,
                              write_idx)
from tinycnn.datasets import digits as digits_module


# ------------------------------------------------------------------------------ digits
def _hide_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)


def test_load_digits_from_npz_scales_sixteenths_and_keeps_labels(tmp_path):
    raw = np.zeros((3, 8, 8), dtype=np.uint8)
    raw[0, 0, 0] = 16
    raw[1, 4, 5] = 8
    raw[2, 7, 7] = 4
    np.savez(str(tmp_path / "digits.npz"), x=raw, y=np.array([7, 0, 9], dtype=np.uint8))
    x, y = load_digits(tmp_path / "digits.npz")
    assert x.shape == (3, 8, 8, 1) and x.dtype == np.float32
    assert y.dtype == np.intp and y.tolist() == [7, 0, 9]
    assert x[0, 0, 0, 0] == 1.0 and x[1, 4, 5, 0] == 0.5 and x[2, 7, 7, 0] == 0.25
    assert x.sum() == pytest.approx(1.75)


def test_load_digits_accepts_flat_rows(tmp_path):
    flat = np.arange(64, dtype=np.float64).reshape(1, 64) % 17
    np.savez(str(tmp_path / "d.npz"), x=flat, y=np.array([3]))
    x, _ = load_digits(tmp_path / "d.npz")
    assert x[0, 1, 0, 0] == pytest.approx(8 / 16)  # row 1, col 0 is flat index 8


def test_load_digits_keeps_floats_already_scaled_as_the_site_writes_them(tmp_path):
    # docs/hooks/runtime.py ships x as float32 (n, 8, 8, 1) in [0, 1] and y as int64
    scaled = np.zeros((2, 8, 8, 1), dtype=np.float32)
    scaled[0, 2, 3, 0] = 0.75
    scaled[1, 5, 5, 0] = 1.0
    np.savez(str(tmp_path / "digits.npz"), x=scaled, y=np.array([4, 5], dtype=np.int64))
    x, y = load_digits(tmp_path / "digits.npz")
    assert x[0, 2, 3, 0] == 0.75 and x[1, 5, 5, 0] == 1.0 and x.sum() == 1.75
    assert y.tolist() == [4, 5]


def test_load_digits_falls_back_to_tinycnn_data(tmp_path, monkeypatch):
    _hide_sklearn(monkeypatch)
    raw = np.full((2, 8, 8), 16, dtype=np.uint8)
    np.savez_compressed(str(tmp_path / "digits.npz"), x=raw, y=np.array([1, 2]))
    monkeypatch.setenv("TINYCNN_DATA", str(tmp_path))
    x, y = load_digits()
    assert x.shape == (2, 8, 8, 1) and np.all(x == 1.0) and y.tolist() == [1, 2]


def test_load_digits_without_any_source_says_how_to_get_one(tmp_path, monkeypatch):
    _hide_sklearn(monkeypatch)
    monkeypatch.delenv("TINYCNN_DATA", raising=False)
    monkeypatch.setattr(digits_module, "_PACKAGE_FILE", tmp_path / "absent" / "digits.npz")
    with pytest.raises(FileNotFoundError, match="pip install scikit-learn"):
        load_digits()


def test_load_digits_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load_digits(tmp_path / "nope.npz")
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip file")
    with pytest.raises(ValueError, match="junk.npz"):
        load_digits(tmp_path / "junk.npz")
    np.savez(str(tmp_path / "other.npz"), images=np.zeros((1, 8, 8)))
    with pytest.raises(ValueError, match="'x'"):
        load_digits(tmp_path / "other.npz")
    np.savez(str(tmp_path / "big.npz"), x=np.full((1, 8, 8), 255), y=np.array([0]))
    with pytest.raises(ValueError, match="0..16"):
        load_digits(tmp_path / "big.npz")
    np.savez(str(tmp_path / "shape.npz"), x=np.zeros((2, 28, 28)), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"\(n_ex, 8, 8\)"):
        load_digits(tmp_path / "shape.npz")


@pytest.mark.sklearn
def test_load_digits_from_sklearn_matches_the_published_first_image():
    x, y = load_digits()
    assert x.shape == (1797, 8, 8, 1) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.intp
    assert x.min() == 0.0 and x.max() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))
    # first two rows of digit 0, as printed in scikit-learn's dataset description
    assert (x[0, 0, :, 0] * 16).tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert (x[0, 1, :, 0] * 16).tolist() == [0, 0, 13, 15, 10, 15, 5, 0]
    assert y[:10].tolist() == list(range(10))


@pytest.mark.sklearn
def test_save_digits_npz_round_trips_through_load_digits(tmp_path, monkeypatch):
    from tinycnn.datasets import save_digits_npz

    x_sk, y_sk = load_digits()
    file = save_digits_npz(tmp_path / "site" / "digits.npz")
    assert file.stat().st_size < 60_000  # small enough to ship with the site
    _hide_sklearn(monkeypatch)
    monkeypatch.setenv("TINYCNN_DATA", str(tmp_path / "site"))
    x, y = load_digits()
    np.testing.assert_array_equal(x, x_sk)
    np.testing.assert_array_equal(y, y_sk)


def test_load_digits_without_sklearn_reads_the_copy_shipped_in_the_package(monkeypatch):
    # A plain `pip install tinycnn` (no scikit-learn, no site) still has the digits: the package
    # ships them. Oracle: the published first rows of digit 0 (as above) and the class counts
    # of the UCI test set that scikit-learn bundles (178, 182, 177, 183, 181, 182, 181, 179, 174, 180).
    _hide_sklearn(monkeypatch)
    monkeypatch.delenv("TINYCNN_DATA", raising=False)
    assert digits_module._PACKAGE_FILE.exists()
    x, y = load_digits()
    assert x.shape == (1797, 8, 8, 1) and x.dtype == np.float32 and y.dtype == np.intp
    assert (x[0, 0, :, 0] * 16).tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert (x[0, 1, :, 0] * 16).tolist() == [0, 0, 13, 15, 10, 15, 5, 0]
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


@pytest.mark.sklearn
def test_the_shipped_digits_are_scikit_learns(monkeypatch):
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x, y = load_digits(path=digits_module._PACKAGE_FILE)
    np.testing.assert_array_equal(x[..., 0] * 16, bunch.images)
    np.testing.assert_array_equal(y, bunch.target)


# ------------------------------------------------------------------------------ synthetic
def test_stripes_are_what_their_labels_say():
    x, y = make_stripes(60, image_size=10, noise=0.0, seed=3)
    assert x.shape == (60, 10, 10, 1) and x.dtype == np.float32 and y.dtype == np.intp
    assert np.bincount(y).tolist() == [30, 30]
    for image, label in zip(x[..., 0], y):
        assert image.max() >= 0.6  # a bar is present
        if label == 0:  # vertical bars: every row is the same
            assert np.all(image == image[0:1, :])
            assert not np.all(image == image[:, 0:1])
        else:  # horizontal bars: every column is the same
            assert np.all(image == image[:, 0:1])
            assert not np.all(image == image[0:1, :])


def test_stripes_are_reproducible_noisy_and_clipped():
    a = make_stripes(20, seed=7, noise=0.3, channels=3)
    b = make_stripes(20, seed=7, noise=0.3, channels=3)
    c = make_stripes(20, seed=8, noise=0.3, channels=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == (20, 8, 8, 3) and a[0].min() >= 0.0 and a[0].max() <= 1.0
    assert not np.array_equal(a[0][..., 0], a[0][..., 1])  # independent noise per channel


def test_shapes_have_the_geometry_of_their_class():
    names = ("circle", "square", "triangle", "cross")
    x, y = make_shapes(40, image_size=32, shapes=names, channels=1, noise=0.0, seed=5)
    assert x.shape == (40, 32, 32, 1) and np.bincount(y).tolist() == [10] * 4
    for image, label in zip(x[..., 0], y):
        values = np.unique(image)
        assert len(values) == 2  # background and shape colour, nothing else
        mask = image == values.max()
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        box = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        fill = box.mean()
        if names[label] == "square":
            assert fill == 1.0
        elif names[label] == "circle":  # pi/4 of the box, corners empty
            assert 0.65 < fill < 0.9 and not box[0, 0] and not box[-1, -1]
        elif names[label] == "triangle":  # about half the box, apex row narrow
            assert 0.35 < fill < 0.65 and box[0].sum() < box[-1].sum()
        else:  # cross: centre row and column full, corners empty
            assert not box[0, 0] and not box[-1, -1] and box[box.shape[0] // 2].all()


def test_synthetic_bad_arguments():
    with pytest.raises(ValueError, match="n_samples"):
        make_stripes(0)
    with pytest.raises(ValueError, match="image_size"):
        make_stripes(5, image_size=2)
    with pytest.raises(ValueError, match="channels"):
        make_stripes(5, channels=2)
    with pytest.raises(ValueError, match="noise"):
        make_shapes(5, noise=-1)
    with pytest.raises(ValueError, match="hexagon"):
        make_shapes(5, shapes=("circle", "hexagon"))
    with pytest.raises(ValueError, match="two or more"):
        make_shapes(5, shapes=("circle",))
    with pytest.raises(TypeError, match="sequence of shape names"):
        make_shapes(5, shapes="circle")


# ------------------------------------------------------------------------------ IDX
def _idx_bytes(type_code: int, shape, payload: bytes) -> bytes:
    """An IDX file built by hand from the specification."""
    header = struct.pack(">BBBB", 0, 0, type_code, len(shape))
    header += b"".join(struct.pack(">I", size) for size in shape)
    return header + payload


def test_read_idx_reads_hand_built_files(tmp_path):
    file = tmp_path / "images-idx3-ubyte"
    file.write_bytes(_idx_bytes(0x08, (2, 2, 3), bytes(range(12))))
    array = read_idx(file)
    assert array.dtype == np.uint8 and array.shape == (2, 2, 3)
    assert array[1, 0, 2] == 8 and array[0, 1, 0] == 3
    floats = tmp_path / "f.idx"
    floats.write_bytes(_idx_bytes(0x0D, (3,), struct.pack(">fff", 1.5, -2.0, 0.25)))
    assert read_idx(floats).tolist() == [1.5, -2.0, 0.25]
    shorts = tmp_path / "s.idx.gz"
    with gzip.open(str(shorts), "wb") as handle:
        handle.write(_idx_bytes(0x0B, (2,), struct.pack(">hh", -300, 7)))
    assert read_idx(shorts).tolist() == [-300, 7]


def test_write_idx_writes_the_specified_bytes(tmp_path):
    array = np.array([[1, 2, 3], [250, 251, 252]], dtype=np.uint8)
    file = write_idx(tmp_path / "a.idx", array)
    assert file.read_bytes() == _idx_bytes(0x08, (2, 3), bytes([1, 2, 3, 250, 251, 252]))
    ints = np.array([-1, 65536], dtype=np.int32)
    assert write_idx(tmp_path / "i.idx", ints).read_bytes() == _idx_bytes(
        0x0C, (2,), struct.pack(">ii", -1, 65536))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("name", ["t.idx", "t.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    rng = np.random.RandomState(0)
    array = (rng.uniform(-100, 100, size=(4, 3, 5)) if dtype.startswith("f")
             else rng.randint(0 if dtype == "uint8" else -100, 100, size=(4, 3, 5))).astype(dtype)
    back = read_idx(write_idx(tmp_path / name, array))
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_idx_errors_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.idx"):
        read_idx(tmp_path / "missing.idx")
    cases = {
        "short.idx": (b"\x00\x00", "only 2 bytes"),
        "magic.idx": (b"\x12\x34\x08\x01\x00\x00\x00\x01\x05", "magic number"),
        "type.idx": (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown IDX element type 0x07"),
        "header.idx": (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated IDX header"),
        "trunc.idx": (_idx_bytes(0x08, (2, 3), bytes(5)), "truncated"),
        "long.idx": (_idx_bytes(0x08, (2,), bytes(3)), "trailing bytes"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=message) as error:
            read_idx(tmp_path / name)
        assert name in str(error.value)
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="bad.gz"):
        read_idx(tmp_path / "bad.gz")
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype=np.int64))


def test_load_mnist_idx_reads_the_four_file_layout(tmp_path):
    images = np.arange(2 * 4 * 5, dtype=np.uint8).reshape(2, 4, 5) * 6
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(_idx_bytes(0x08, (2, 4, 5), images.tobytes())))
    (tmp_path / "train-labels.idx1-ubyte").write_bytes(_idx_bytes(0x08, (2,), bytes([3, 9])))
    x, y = load_mnist_idx(tmp_path)
    assert x.shape == (2, 4, 5, 1) and x.dtype == np.float32 and y.tolist() == [3, 9]
    assert x[1, 3, 4, 0] == pytest.approx(39 * 6 / 255)
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist_idx(tmp_path, kind="test")
    with pytest.raises(ValueError, match="kind"):
        load_mnist_idx(tmp_path, kind="validation")
    with pytest.raises(FileNotFoundError, match="MNIST folder not found"):
        load_mnist_idx(tmp_path / "nowhere")
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(0x08, (1, 2, 2), bytes(4)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(0x08, (2,), bytes(2)))
    with pytest.raises(ValueError, match="1 images but t10k-labels-idx1-ubyte holds 2 labels"):
        load_mnist_idx(tmp_path, kind="test")
