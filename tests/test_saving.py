"""Whole-model files: ``Sequential.save`` and ``tinycnn.models.load_model``.

Oracles: the model that was saved (same predictions, same weights; and the next training step of
the loaded model equals the next step of the original, which only holds if the optimizer state
came back), the file opened with plain ``zipfile``/``json`` and checked against hand-written
values (Keras's argument names), and, for damaged files, the rule that loading raises a tinycnn
error naming the file. Unmarked: these also run on Python 3.8 + NumPy 1.17.5 (Pyodide's pair).
"""
from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest

import tinycnn
from tinycnn import optimizers
from tinycnn.layers import (Activation, AveragePooling2D, Conv2D, Convolution2D, Dense, Dropout,
                            Flatten, Layer, MaxPooling2D)
from tinycnn.models import Sequential, load_model
from tinycnn.saving import FORMAT_VERSION, ModelFileError

from oracles import BAD, Evil, raises_from_tinycnn


def digits_like_model(optimizer=None):
    tinycnn.utils.set_random_seed(3)
    model = Sequential([
        Conv2D(4, (3, 3), padding="same", activation="relu", input_shape=(8, 8, 1)),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.25),
        Conv2D(6, 3, strides=(1, 1), activation="tanh"),
        AveragePooling2D(2, strides=1, padding="same"),
        Flatten(),
        Dense(5),
        Activation("relu"),
        Dense(3, activation="softmax"),
    ], name="little")
    model.compile(optimizer=optimizer or optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def data(count=24, seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(count, 8, 8, 1).astype(np.float32), rng.randint(0, 3, size=count)


def saved_bytes(model, **kwargs) -> bytes:
    buffer = io.BytesIO()
    model.save(buffer, **kwargs)
    return buffer.getvalue()


def entries(raw: bytes):
    """The file's arrays and its JSON description, read with the standard library and NumPy only."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = sorted(archive.namelist())
        arrays = {name[:-4]: np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
                  for name in names}
    description = json.loads(arrays["model_config"].tobytes().decode("utf-8"))
    return arrays, description


def write(path, arrays):
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("optimizer", [optimizers.Adam(learning_rate=0.01), optimizers.SGD(0.05, momentum=0.9)],
                         ids=["adam", "sgd-momentum"])
def test_round_trip_keeps_predictions_and_training_continues_exactly(tmp_path, optimizer):
    x, y = data()
    model = digits_like_model(optimizer)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = load_model(path)

    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.name == "little" and loaded.input_shape == (None, 8, 8, 1)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x), loaded.predict(x))
    assert loaded.loss.name == "sparse_categorical_crossentropy" and loaded.metrics == ["accuracy"]
    assert type(loaded.optimizer) is type(optimizer)
    assert loaded.optimizer.get_config() == optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6

    # one more step of each (Dropout's mask drawn from the same seed for both) ends at the same
    # weights only if the optimizer's moments / velocities came back: a fresh optimizer differs
    for m in (model, loaded):
        tinycnn.utils.set_random_seed(11)
        m.train_on_batch(x[:8], y[:8])
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)
    fresh = load_model(path)
    fresh.compile(optimizer=type(optimizer)(**optimizer.get_config()), loss=fresh.loss)
    tinycnn.utils.set_random_seed(11)
    fresh.train_on_batch(x[:8], y[:8])
    assert max(float(np.abs(a - b).max()) for a, b in zip(fresh.get_weights(), model.get_weights())) > 1e-4


def test_the_file_is_an_npz_with_keras_names_and_no_pickle(tmp_path):
    """Open the file by hand: a zip of .npy arrays; the JSON uses Keras's argument names."""
    x, y = data()
    model = digits_like_model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    arrays, description = entries(saved_bytes(model, metadata={"class_names": ["a", "b", "c"]}))
    assert all(array.dtype != object for array in arrays.values())
    assert description["format"] == "tinycnn-model" and description["format_version"] == 1
    assert description["class_name"] == "Sequential"
    layers = description["config"]["layers"]
    assert [entry["class_name"] for entry in layers] == [
        "Conv2D", "MaxPooling2D", "Dropout", "Conv2D", "AveragePooling2D", "Flatten", "Dense",
        "Activation", "Dense"]
    assert layers[0]["config"] == {"name": "conv2d", "dtype": "float32", "input_shape": [8, 8, 1],
                                   "filters": 4, "kernel_size": [3, 3], "strides": [1, 1],
                                   "padding": "same", "activation": "relu", "use_bias": True}
    assert layers[1]["config"] == {"name": "max_pooling2d", "dtype": "float32",
                                   "pool_size": [2, 2], "strides": [2, 2], "padding": "valid"}
    assert layers[2]["config"]["rate"] == 0.25
    assert "input_shape" not in layers[3]["config"]          # only the first layer has it
    assert layers[4]["config"]["strides"] == [1, 1] and layers[4]["config"]["padding"] == "same"
    assert layers[6]["config"]["units"] == 5 and layers[6]["config"]["activation"] == "linear"
    assert layers[7]["config"]["activation"] == "relu"
    assert layers[8]["config"]["units"] == 3 and layers[8]["config"]["activation"] == "softmax"
    assert description["config"]["build_input_shape"] == [8, 8, 1]
    assert description["compile_config"] == {
        "optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.01, "beta_1": 0.9,
                                                       "beta_2": 0.999, "epsilon": 1e-7}},
        "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    assert description["metadata"] == {"class_names": ["a", "b", "c"]}
    # weights: conv 3x3x1x4 + 4, conv 3x3x4x6 + 6, dense 24x5 + 5, dense 5x3 + 3
    shapes = [tuple(arrays["weight_%d" % i].shape) for i in range(8)]
    assert shapes == [(3, 3, 1, 4), (4,), (3, 3, 4, 6), (6,), (24, 5), (5,), (5, 3), (3,)]
    # Adam keeps two moments per weight, each shaped like the weight
    assert description["optimizer"]["iterations"] == 3
    assert description["optimizer"]["slots"] == [2] * 8
    assert arrays["optimizer_2_1"].shape == (3, 3, 4, 6)
    assert np.all(arrays["optimizer_2_1"] >= 0)               # v, a mean of squares


def test_without_optimizer_state_or_compile(tmp_path):
    x, y = data()
    model = digits_like_model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    arrays, description = entries(saved_bytes(model, include_optimizer=False))
    assert description["optimizer"] is None and not any(k.startswith("optimizer_") for k in arrays)
    loaded = load_model(io.BytesIO(saved_bytes(model, include_optimizer=False)))
    assert loaded.optimizer.iterations == 0 and loaded.loss is not None
    uncompiled = load_model(io.BytesIO(saved_bytes(model)), compile=False)
    assert uncompiled.loss is None and uncompiled.optimizer is None
    np.testing.assert_array_equal(uncompiled.predict(x), model.predict(x))
    # a model that was never compiled saves and loads as well
    plain = Sequential([Dense(2, input_shape=(3,))])
    again = load_model(io.BytesIO(saved_bytes(plain)))
    assert again.loss is None and again.get_weights()[0].shape == (3, 2)


def test_float64_models_and_keras1_layer_names_round_trip():
    model = Sequential([Convolution2D(2, 3, 3, input_shape=(5, 5, 1), dtype="float64"),
                        Flatten(dtype="float64"), Dense(1, activation="sigmoid", dtype="float64")])
    model.compile("sgd", "binary_crossentropy")
    loaded = load_model(io.BytesIO(saved_bytes(model)))
    assert type(loaded.layers[0]) is Convolution2D and loaded.layers[0].kernel.shape == (3, 3, 1, 2)
    assert loaded.dtype == np.float64 and loaded.get_weights()[0].dtype == np.float64
    x = np.random.RandomState(1).rand(3, 5, 5, 1)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_a_model_built_on_data_saves_its_input_shape():
    model = Sequential([Flatten(), Dense(2)])
    model.predict(np.zeros((1, 3, 2)))
    loaded = load_model(io.BytesIO(saved_bytes(model)))
    assert loaded.input_shape == (None, 3, 2) and loaded.output_shape == (None, 2)


def test_layer_and_model_configs_rebuild_equal_layers():
    layer = Conv2D(7, (2, 3), strides=2, padding="same", activation="sigmoid", use_bias=False,
                   input_shape=(9, 9, 2), name="c")
    config = layer.get_config()
    assert config == {"name": "c", "dtype": "float32", "input_shape": (9, 9, 2), "filters": 7,
                      "kernel_size": (2, 3), "strides": (2, 2), "padding": "same",
                      "activation": "sigmoid", "use_bias": False}
    copy = Conv2D.from_config(config)
    assert copy.get_config() == config and not copy.built
    assert Dense.from_config(Dense(4, name="d").get_config()).units == 4
    assert MaxPooling2D.from_config(MaxPooling2D(3, strides=1).get_config()).strides == (1, 1)
    assert Dropout.from_config(Dropout(0.5).get_config()).rate == 0.5
    model = digits_like_model()
    rebuilt = Sequential.from_config(model.get_config())
    assert rebuilt.get_config() == model.get_config() and rebuilt.count_params() == model.count_params()
    assert json.loads(json.dumps(model.get_config())) is not None   # JSON-ready


def test_custom_layers_need_custom_objects():
    class Double(Layer):
        def forward(self, x, training=False):
            return 2 * x

        def backward(self, grad_output):
            return 2 * grad_output

    model = Sequential([Double(input_shape=(2,), name="double"), Dense(1)])
    raw = saved_bytes(model)
    raises_from_tinycnn(BAD, lambda: load_model(io.BytesIO(raw)), "unknown layer class 'Double'",
                        "custom_objects")
    loaded = load_model(io.BytesIO(raw), custom_objects={"Double": Double})
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 2))), model.predict(np.ones((1, 2))))


def test_loading_leaves_tinycnns_random_numbers_alone(tmp_path):
    path = tmp_path / "m.npz"
    digits_like_model().save(path)
    tinycnn.utils.set_random_seed(5)
    expected = tinycnn.utils.get_rng().random(4)
    tinycnn.utils.set_random_seed(5)
    load_model(path)
    np.testing.assert_array_equal(tinycnn.utils.get_rng().random(4), expected)


def test_save_is_all_or_nothing_and_needs_a_built_model(tmp_path):
    path = tmp_path / "m.npz"
    model = digits_like_model()
    model.save(path)
    before = path.read_bytes()
    raises_from_tinycnn(BAD, lambda: model.save(path, metadata={"bad": object()}), "json")
    assert path.read_bytes() == before                     # the old file is intact
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]        # and no temporary file is left
    raises_from_tinycnn(BAD, lambda: Sequential([Dense(2)]).save(tmp_path / "x.npz"), "not built")
    model.save(str(tmp_path / "no_extension"))              # written exactly where asked
    assert (tmp_path / "no_extension").exists()
    # with the mode any new file gets (not the temporary file's private 0600)
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "no_extension").stat().st_mode & 0o777 == 0o666 & ~umask


# ----------------------------------------------------------------------------- damaged files
def damaged_files(folder, good: bytes):
    """name -> path of files that must all be refused."""
    arrays, description = entries(good)
    files = {}

    def variant(name, change=None, describe=None):
        copy = dict(arrays)
        text = json.loads(json.dumps(description))
        if describe:
            describe(text)
            copy["model_config"] = np.frombuffer(json.dumps(text).encode(), dtype=np.uint8)
        if change:
            change(copy)
        files[name] = write(os.path.join(str(folder), name + ".npz"), copy)

    def raw(name, content: bytes):
        files[name] = os.path.join(str(folder), name + ".npz")
        with open(files[name], "wb") as handle:
            handle.write(content)

    raw("empty", b"")
    raw("not_a_zip", b"this is not a zip archive at all")
    raw("truncated", good[: len(good) // 2])
    raw("truncated_head", good[:300])
    raw("pickle", __import__("pickle").dumps([Evil()]))
    np.save(os.path.join(str(folder), "single.npy"), np.ones(3))
    files["single_npy"] = os.path.join(str(folder), "single.npy")
    files["weights_only"] = write(os.path.join(str(folder), "weights_only.npz"),
                                  {"arr_%d" % i: arrays["weight_%d" % i] for i in range(8)})
    variant("object_array", lambda a: a.update(weight_0=np.array([Evil(), None], dtype=object)))
    variant("no_config", lambda a: a.pop("model_config"))
    variant("config_not_json", lambda a: a.update(model_config=np.frombuffer(b"{not json", np.uint8)))
    variant("config_not_utf8", lambda a: a.update(model_config=np.frombuffer(b"\xff\xfe", np.uint8)))
    variant("config_as_floats", lambda a: a.update(model_config=np.ones(4)))
    variant("config_a_list", lambda a: a.update(model_config=np.frombuffer(b"[1, 2]", np.uint8)))
    variant("newer_version", describe=lambda d: d.update(format_version=FORMAT_VERSION + 1))
    variant("version_text", describe=lambda d: d.update(format_version="1"))
    variant("foreign_format", describe=lambda d: d.update(format="keras"))
    variant("not_sequential", describe=lambda d: d.update(class_name="Functional"))
    variant("unknown_layer", describe=lambda d: d["config"]["layers"][0].update(class_name="Conv3D"))
    variant("bad_layer_argument", describe=lambda d: d["config"]["layers"][0]["config"].update(filters=-4))
    variant("unknown_layer_argument", describe=lambda d: d["config"]["layers"][6]["config"].update(colour="red"))
    variant("no_input_shape", describe=lambda d: (d["config"]["layers"][0]["config"].pop("input_shape"),
                                                  d["config"].update(build_input_shape=None)))
    variant("unknown_loss", describe=lambda d: d["compile_config"].update(loss="hinge"))
    variant("unknown_optimizer", describe=lambda d: d["compile_config"]["optimizer"].update(class_name="RMSprop"))
    variant("bad_learning_rate", describe=lambda d: d["compile_config"]["optimizer"]["config"].update(learning_rate=-1))
    variant("wrong_shape", lambda a: a.update(weight_2=np.ones((3, 3, 4, 7), np.float32)))
    variant("more_filters_in_config", describe=lambda d: d["config"]["layers"][3]["config"].update(filters=7))
    variant("weights_not_objects", describe=lambda d: d.update(weights=list(range(8))))
    variant("missing_weight", lambda a: a.pop("weight_7"))
    variant("extra_weight", lambda a: a.update(weight_8=np.ones(3, np.float32)))
    variant("extra_array", lambda a: a.update(surprise=np.ones(3)))
    variant("nan_weight", lambda a: a.update(weight_4=np.full((24, 5), np.nan, np.float32)))
    variant("inf_weight", lambda a: a.update(weight_1=np.array([1, np.inf, 0, 0], np.float32)))
    variant("int_weight", lambda a: a.update(weight_1=np.arange(4)))
    variant("string_weight", lambda a: a.update(weight_1=np.array(["a", "b", "c", "d"])))
    variant("optimizer_slot_shape", lambda a: a.update(optimizer_0_0=np.ones((2, 2), np.float32)))
    variant("optimizer_slot_missing", lambda a: a.pop("optimizer_3_1"))
    variant("optimizer_slot_nan", lambda a: a.update(optimizer_5_1=np.full(5, np.nan, np.float32)))
    variant("optimizer_counts", describe=lambda d: d["optimizer"].update(slots=[2] * 7))
    return files


def trained_bytes() -> bytes:
    x, y = data()
    model = digits_like_model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    return saved_bytes(model)


def test_damaged_or_foreign_files_are_refused_naming_the_file(tmp_path, monkeypatch):
    marker = tmp_path / "pwned.txt"
    monkeypatch.setenv("TINYCNN_PWNED", str(marker))
    files = damaged_files(tmp_path, trained_bytes())
    assert len(files) == 38
    for name, path in files.items():
        error = raises_from_tinycnn(BAD, lambda: load_model(path))
        assert isinstance(error, ModelFileError), (name, error)
        assert os.path.basename(path) in str(error), (name, str(error))
    assert not marker.exists(), "load_model unpickled something"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "missing.npz")


@pytest.mark.parametrize("name, words", [
    ("weights_only", ["load_weights"]),
    ("newer_version", ["format_version 2", "upgrade tinycnn"]),
    ("wrong_shape", ["weight_2", "(3, 3, 4, 7)", "(3, 3, 4, 6)"]),
    ("nan_weight", ["weight_4", "nan"]),
    ("not_a_zip", ["not a zip"]),
    ("unknown_layer", ["conv3d"]),
    ("bad_layer_argument", ["filters"]),
    ("no_config", ["model_config"]),
])
def test_damaged_file_messages_say_what_is_wrong(tmp_path, name, words):
    path = damaged_files(tmp_path, trained_bytes())[name]
    raises_from_tinycnn(BAD, lambda: load_model(path), *words)


def test_file_objects_in_text_mode_are_refused(tmp_path):
    path = tmp_path / "m.npz"
    digits_like_model().save(path)
    with open(path, "r", encoding="latin-1") as handle:
        raises_from_tinycnn(BAD, lambda: load_model(handle), "binary mode")


def test_load_weights_still_reads_only_weight_files(tmp_path):
    """The two formats stay apart: load_weights refuses a whole-model file with a clear message."""
    path = tmp_path / "m.npz"
    model = digits_like_model()
    model.save(path)
    before = model.get_weights()
    raises_from_tinycnn(BAD, lambda: model.load_weights(path), "m.npz")
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
