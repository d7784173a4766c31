"""Bad input: every public entry point raises ValueError/TypeError *from tinycnn itself*, with a
message that names the problem (and what is expected), and nothing is silently lost."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

import tinycnn
from tinycnn import callbacks, functional as F, optimizers, utils
from tinycnn.layers import Activation, AveragePooling2D, Conv2D
from tinycnn.layers import Dense, Dropout, Flatten, MaxPooling2D
from tinycnn.models import Sequential

from oracles import BAD, Evil, raises_from_tinycnn



def model(loss="categorical_crossentropy"):
    m = Sequential([
        Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)),
        MaxPooling2D(),
        Flatten(),
        Dense(3, activation="softmax"),
    ])
    m.compile("sgd", loss, metrics=["accuracy"])
    return m


X = np.ones((4, 6, 6, 1))
Y = np.eye(3)[[0, 1, 2, 0]]


# ----------------------------------------------------------------------------- functional
@pytest.mark.parametrize("call,words", [
    (lambda: F.conv2d(np.ones(5), np.ones((2, 2))), ["2, 3 or 4 dimensions", "(5,)"]),
    (lambda: F.conv2d(np.ones((1, 2, 3, 4, 5)), np.ones((2, 2, 5, 1))), ["dimensions"]),
    (lambda: F.conv2d(np.ones((4, 4)), np.ones((2, 2, 1, 1))), ["kernel must be a matrix"]),
    (lambda: F.conv2d(np.ones((1, 4, 4)), np.ones((2, 2))), ["kernel must have shape"]),
    (lambda: F.conv2d(np.ones((1, 4, 4, 3)), np.ones((2, 2, 2, 1))),
     ["channel mismatch", "3 channels", "expects 2"]),
    (lambda: F.conv2d(np.ones((3, 3)), np.ones((4, 4))), ["4x4", "larger than the input 3x3"]),
    (lambda: F.conv2d(np.ones((3, 3)), np.ones((2, 2)), padding="full"),
     ["padding", "'valid' or 'same'", "full"]),
    (lambda: F.conv2d(np.ones((3, 3)), np.ones((2, 2)), strides=0), ["strides", "positive"]),
    (lambda: F.conv2d(np.ones((3, 3)), np.ones((2, 2)), strides=(1, -1)), ["strides", "positive"]),
    (lambda: F.conv2d(np.ones((3, 3)), np.ones((2, 2)), strides=1.5), ["strides", "int"]),
    (lambda: F.conv2d([["a", "b"], ["c", "d"]], np.ones((2, 2))), ["x must hold numbers"]),
    (lambda: F.conv2d(np.ones((3, 3)), "kernel"), ["kernel must hold numbers"]),
    (lambda: F.conv2d(None, np.ones((2, 2))), ["x", "none"]),
    (lambda: F.conv2d([[1, 2], [3]], np.ones((1, 1))), ["x must", "num"]),  # ragged
    (lambda: F.conv2d([[1, np.nan], [3, 4]], np.ones((1, 1))), ["nan"]),
    (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 3)), bias=[1, 2]),
     ["bias", "(3,)"]),
    (lambda: F.conv2d(np.ones((4, 4)), np.ones((0, 3))), ["kernel is empty"]),
    (lambda: F.conv2d(np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 0))), ["kernel is empty"]),
    (lambda: F.max_pool2d(np.ones((4, 4)), pool_size=0), ["pool_size", "positive"]),
    (lambda: F.max_pool2d(np.ones((2, 2)), pool_size=3), ["pool window 3x3", "larger"]),
    (lambda: F.avg_pool2d(np.ones((4, 4)), padding="SAME!"), ["padding"]),
    (lambda: F.avg_pool2d(np.ones((4, 4)), strides=-2), ["strides", "positive"]),
    (lambda: F.max_pool2d(np.ones(4)), ["dimensions"]),
    (lambda: F.max_pool2d("abc"), ["numbers"]),
    (lambda: F.flatten(np.ones(3)), ["at least 2 dimensions"]),
    (lambda: F.relu(["a"]), ["numbers"]),
    (lambda: F.softmax("ab"), ["numbers"]),
    (lambda: F.sigmoid(None), ["none"]),
])
def test_functional_bad_input(call, words):
    raises_from_tinycnn(BAD, call, *words)


# ----------------------------------------------------------------------------- layers
@pytest.mark.parametrize("call,words", [
    (lambda: Conv2D(0, 3), ["filters", "positive"]),
    (lambda: Conv2D(2.5, 3), ["filters"]),
    (lambda: Conv2D(2, 0), ["kernel_size", "positive"]),
    (lambda: Conv2D(2, (3, 3, 3)), ["kernel_size", "pair"]),
    (lambda: Conv2D(2, 3, padding="full"), ["padding"]),
    (lambda: Conv2D(2, 3, strides=0), ["strides"]),
    (lambda: Conv2D(2, 3, activation="swishy"), ["unknown activation", "swishy", "relu"]),
    (lambda: Conv2D(2, 3, input_shape=(0, 3)), ["input_shape"]),
    (lambda: Sequential([Conv2D(2, 3, input_shape=(28, 28))]), ["(28, 28)", "channel"]),
    (lambda: Sequential([Conv2D(2, 5, input_shape=(3, 3, 1))]), ["kernel 5x5", "larger"]),
    (lambda: Sequential([Conv2D(2, 3, input_shape=(8, 8, 1)), Conv2D(2, 3, input_shape=(6, 6, 2))]),
     ["input_shape", "first layer"]),
    (lambda: Dense(0), ["units"]),
    (lambda: Sequential([Dense(3, input_shape=(4, 4, 1))]), ["dense", "flatten"]),
    (lambda: Dense(3, activation=5), ["unknown activation"]),
    (lambda: Activation(None), ["activation"]),
    (lambda: Activation("nope"), ["unknown activation", "nope"]),
    (lambda: Dropout(1.0), ["rate", "[0, 1)"]),
    (lambda: Dropout("0.5"), ["rate"]),
    (lambda: MaxPooling2D(0), ["pool_size"]),
    (lambda: AveragePooling2D(2, strides=-1), ["strides"]),
    (lambda: MaxPooling2D(padding="nope"), ["padding"]),
    (lambda: Sequential([MaxPooling2D(input_shape=(10,))]), ["(rows, cols, channels)"]),
    (lambda: Dense(3, dtype="int32"), ["dtype"]),
    (lambda: Sequential().add("dense"), ["layer"]),
])
def test_layer_bad_arguments(call, words):
    raises_from_tinycnn(BAD, call, *words)


def test_layer_call_checks_its_input():
    conv = Conv2D(2, 2)
    conv(np.ones((1, 4, 4, 1)))
    raises_from_tinycnn(BAD, lambda: conv(np.ones((1, 5, 5, 1))), "(none, 4, 4, 1)", "(1, 5, 5, 1)")
    raises_from_tinycnn(BAD, lambda: conv(np.ones((1, 4, 4, 3))), "(none, 4, 4, 1)")
    raises_from_tinycnn(BAD, lambda: conv(np.array([["x"]])), "numbers")
    raises_from_tinycnn(BAD, lambda: Dense(2)(np.ones((2, 3, 3))), "flatten")


# ----------------------------------------------------------------------------- compile / fit
@pytest.mark.parametrize("call,words", [
    (lambda: model().compile("sgd", "hinge"), ["unknown loss", "hinge", "binary_crossentropy"]),
    (lambda: model().compile("sgd"), ["loss"]),
    (lambda: model().compile("rmsprop", "mse"), ["unknown optimizer", "rmsprop", "adam"]),
    (lambda: model().compile("sgd", "mse", metrics=["auc"]), ["metric", "auc"]),
    (lambda: optimizers.SGD(learning_rate=-1), ["learning_rate", "positive"]),
    (lambda: optimizers.SGD(momentum=1.5), ["momentum"]),
    (lambda: optimizers.Adam(learning_rate=0), ["learning_rate"]),
    (lambda: optimizers.Adam(learning_rate="fast"), ["learning_rate"]),
    (lambda: optimizers.Adam(beta_1=1.0), ["beta_1"]),
])
def test_compile_bad_arguments(call, words):
    raises_from_tinycnn(BAD, call, *words)


@pytest.mark.parametrize("call,words", [
    (lambda m: m.fit(X, Y[:3], verbose=0), ["same number of examples", "4", "3"]),
    (lambda m: m.fit(np.ones((4, 5, 5, 1)), Y, verbose=0), ["(4, 5, 5, 1)", "(none, 6, 6, 1)"]),
    (lambda m: m.fit(np.ones((4, 6, 6)), Y, verbose=0), ["channel axis"]),
    (lambda m: m.fit(np.array([["a"]]), Y[:1], verbose=0), ["numbers"]),
    (lambda m: m.fit(X, np.array(["a", "b", "c", "d"]), verbose=0), ["y", "numbers"]),
    (lambda m: m.fit(X, np.ones((4, 2)), verbose=0), ["(4, 2)", "(4, 3)"]),
    (lambda m: m.fit(X, np.array([0, 1, 2, 1]), verbose=0), ["sparse_categorical_crossentropy"]),
    (lambda m: m.fit(X, verbose=0), ["y is required"]),
    (lambda m: m.fit(X, Y, epochs=0, verbose=0), ["epochs"]),
    (lambda m: m.fit(X, Y, batch_size=0, verbose=0), ["batch_size"]),
    (lambda m: m.fit(X, Y, batch_size=2.5, verbose=0), ["batch_size"]),
    (lambda m: m.fit(X, Y, verbose=3), ["verbose"]),
    (lambda m: m.fit(X, Y, validation_split=1.0, verbose=0), ["validation_split"]),
    (lambda m: m.fit(X, Y, validation_data=np.ones(3), verbose=0), ["validation_data"]),
    (lambda m: m.fit(X, Y, validation_data=(np.ones((2, 5, 5, 1)), Y[:2]), verbose=0),
     ["x_val", "(none, 6, 6, 1)"]),
    (lambda m: m.fit(X, Y, validation_data=(X[:2], Y[:3]), verbose=0), ["same number"]),
    (lambda m: m.fit(X, Y, callbacks=[print], verbose=0), ["callback"]),
    (lambda m: m.fit(X, np.full_like(Y, np.nan), verbose=0), ["nan"]),
    (lambda m: m.predict(np.ones((2, 7, 7, 1))), ["(2, 7, 7, 1)", "(none, 6, 6, 1)"]),
    (lambda m: m.predict(np.ones((6, 6, 1))), ["one example", "x[none]"]),
    (lambda m: m.predict(np.full((2, 6, 6, 1), np.nan)), ["nan"]),
    (lambda m: m.predict("hello"), ["numbers"]),
    (lambda m: m.predict(X, batch_size=0), ["batch_size"]),
    (lambda m: m.predict(X[:0]), ["no examples", "(0, 6, 6, 1)"]),
    (lambda m: m.fit(X[:0], Y[:0], verbose=0), ["no examples"]),
    (lambda m: m.evaluate(X[:0], Y[:0]), ["no examples"]),
    (lambda m: m.train_on_batch(X[:0], Y[:0]), ["no examples"]),
    (lambda m: m.evaluate(X, np.ones((5, 3))), ["same number of examples"]),
    (lambda m: m.train_on_batch(X, np.ones((5, 3))), ["same number of examples"]),
    (lambda m: m.set_weights([np.ones(3)]), ["4 weight arrays", "got 1"]),
    (lambda m: m.set_weights([np.ones((3, 3, 1, 3))] + m.get_weights()[1:]),
     ["(3, 3, 1, 2)", "(3, 3, 1, 3)"]),
    (lambda m: m.fit(X, Y, callbacks=[callbacks.EarlyStopping()], verbose=0),
     ["val_loss", "validation"]),
])
def test_model_bad_input(call, words):
    raises_from_tinycnn(BAD, lambda: call(model()), *words)


def test_y_with_nan_is_rejected_before_any_weight_changes():
    m = model()
    before = m.get_weights()
    with pytest.raises(BAD):
        m.fit(X, np.full_like(Y, np.nan), verbose=0)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("labels,words", [
    (np.array([0, 3, 1, 2]), ["0..2", "3"]),
    (np.array([0.5, 1, 1, 2]), ["integers"]),
    (np.array([-1, 0, 1, 2]), ["0..2"]),
])
def test_sparse_labels_are_checked(labels, words):
    m = model("sparse_categorical_crossentropy")
    raises_from_tinycnn(BAD, lambda: m.fit(X, labels, verbose=0), *words)


def test_unbuilt_and_uncompiled_models_say_what_to_do():
    raises_from_tinycnn(BAD, lambda: Sequential([Dense(2)]).summary(), "not built", "input_shape")
    raises_from_tinycnn(BAD, lambda: Sequential([Dense(2)]).count_params(), "not built")
    raises_from_tinycnn(BAD, lambda: Sequential().build((3,)), "no layers")
    uncompiled = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(RuntimeError, match="compile"):
        uncompiled.fit(np.ones((2, 3)), np.ones((2, 2)))


def test_callbacks_and_utils_bad_arguments():
    raises_from_tinycnn(BAD, lambda: callbacks.EarlyStopping(mode="up"), "mode")
    raises_from_tinycnn(BAD, lambda: callbacks.EarlyStopping(patience=-1), "patience")
    raises_from_tinycnn(BAD, lambda: callbacks.LambdaCallback(on_epoch_end=3), "callable")
    raises_from_tinycnn(BAD, lambda: utils.set_random_seed(-1), "seed")
    raises_from_tinycnn(BAD, lambda: utils.set_random_seed("1"), "seed")
    raises_from_tinycnn(BAD, lambda: utils.to_categorical([0.5]), "integer")
    raises_from_tinycnn(BAD, lambda: utils.to_categorical([3], num_classes=2), "num_classes")


# ----------------------------------------------------------------------------- load_weights
def make_bad_files(folder, weights):
    files = {}

    def path(name):
        files[name] = os.path.join(str(folder), name)
        return files[name]

    np.savez(path("object_array.npz"), np.array([Evil(), None], dtype=object))
    with open(path("pickle.npz"), "wb") as handle:
        pickle.dump([Evil()], handle)
    np.save(path("single_array.npy"), np.ones(3))
    with open(path("garbage.npz"), "wb") as handle:
        handle.write(b"this is not a zip archive")
    open(path("empty.npz"), "wb").close()
    np.savez(path("good.npz"), *weights)
    with open(files["good.npz"], "rb") as handle:
        head = handle.read(300)
    with open(path("truncated.npz"), "wb") as handle:
        handle.write(head)
    np.savez(path("wrong_shapes.npz"), *[np.ones((w.shape[0] + 1,) + w.shape[1:]) for w in weights])
    np.savez(path("too_few.npz"), *weights[:2])
    np.savez(path("too_many.npz"), *(weights + [np.ones(2)]))
    np.savez(path("named.npz"), kernel=weights[0])
    np.savez(path("strings.npz"), *[np.array(["a"]) for _ in weights])
    np.savez(path("nan.npz"), *[np.full(w.shape, np.nan) for w in weights])
    del files["good.npz"]
    return files


def test_load_weights_rejects_bad_files_and_leaves_weights_unchanged(tmp_path, monkeypatch):
    marker = tmp_path / "pwned.txt"
    monkeypatch.setenv("TINYCNN_PWNED", str(marker))
    source = model()
    target = model()
    before = target.get_weights()
    files = make_bad_files(tmp_path, source.get_weights())
    for name, path in files.items():
        error = raises_from_tinycnn(BAD, lambda: target.load_weights(path))
        assert os.path.basename(path) in str(error), name  # the message names the file
        for a, b in zip(before, target.get_weights()):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} changed the weights")
    assert not marker.exists(), "load_weights unpickled a file"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        target.load_weights(tmp_path / "missing.npz")


def test_load_weights_wrong_shape_message_names_the_array(tmp_path):
    m = model()
    path = tmp_path / "w.npz"
    np.savez(path, *[np.ones((w.shape[0] + 1,) + w.shape[1:]) for w in m.get_weights()])
    raises_from_tinycnn(BAD, lambda: m.load_weights(path), "do not fit", "(3, 3, 1, 2)")
