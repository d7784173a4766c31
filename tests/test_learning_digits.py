"""Learning on real data: scikit-learn's 8x8 handwritten digits (1,797 images, bundled, no
download). A small CNN must reach >= 97% accuracy on a held-out quarter of every class."""
from __future__ import annotations

import numpy as np
import pytest

import tinycnn
from tinycnn.layers import Conv2D, Dense, Flatten, MaxPooling2D

pytestmark = pytest.mark.sklearn


def split(labels, seed):
    """A stratified split: a random quarter of each class is held out."""
    rng = np.random.default_rng(seed)
    held_out = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        held_out[members[: len(members) // 4]] = True
    return ~held_out, held_out


def test_small_cnn_learns_digits_to_97_percent():
    # imported here: the module is also collected (and deselected) where scikit-learn is absent
    from sklearn.datasets import load_digits
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]  # (1797, 8, 8, 1) in [0, 1]
    y = digits.target
    train, test = split(y, seed=0)
    assert 440 <= test.sum() <= 450 and not np.any(train & test)
    tinycnn.utils.set_random_seed(0)
    model = tinycnn.Sequential([
        Conv2D(16, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
        MaxPooling2D(),
        Conv2D(32, 3, padding="same", activation="relu"),
        MaxPooling2D(),
        Flatten(),
        Dense(10, activation="softmax"),
    ])
    model.compile(tinycnn.optimizers.Adam(learning_rate=0.005), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    # one BLAS thread: the matrices are small, and on a busy machine extra BLAS threads spin
    with threadpool_limits(limits=1):
        history = model.fit(x[train], y[train], batch_size=32, epochs=15, verbose=0,
                            validation_data=(x[test], y[test]))
        loss, accuracy = model.evaluate(x[test], y[test])
    assert accuracy >= 0.97, f"held-out accuracy {accuracy:.4f}"
    assert history.history["val_accuracy"][-1] == pytest.approx(accuracy)
    assert history.history["loss"][-1] < history.history["loss"][0] / 5
    predicted = model.predict(x[test]).argmax(axis=1)
    assert np.mean(predicted == y[test]) == pytest.approx(accuracy)
