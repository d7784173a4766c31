"""Sequential: fit/evaluate/predict, callbacks, early stopping, stop_training, weights I/O,
progress output. Numbers are checked against independent computations, never the code itself."""
from __future__ import annotations

import numpy as np
import pytest

import tinycnn
from tinycnn import callbacks, optimizers
from tinycnn.functional import reference
from tinycnn.layers import Conv2D, Dense, Flatten, MaxPooling2D
from tinycnn.models import Sequential

from oracles import reference_predict


def small_model(seed=0, optimizer="sgd", loss="categorical_crossentropy", metrics=("accuracy",)):
    tinycnn.utils.set_random_seed(seed)
    m = Sequential([
        Conv2D(3, 3, activation="relu", input_shape=(6, 6, 1)),
        MaxPooling2D(),
        Flatten(),
        Dense(3, activation="softmax"),
    ])
    m.compile(optimizer, loss, metrics=list(metrics))
    return m


def data(n=40, seed=0):
    """Three easy classes: bright top rows, bright left columns, or dark."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    x = rng.uniform(0, 0.2, size=(n, 6, 6, 1)).astype(np.float32)
    x[labels == 0, :3] += 0.8
    x[labels == 1, :, :3] += 0.8
    return x, np.eye(3, dtype=np.float32)[labels], labels


def test_fit_returns_history_with_keras_keys_and_learns():
    m = small_model(optimizer=optimizers.Adam(learning_rate=0.05))
    x, y, _ = data()
    history = m.fit(x, y, batch_size=8, epochs=8, verbose=0, validation_data=(x[:10], y[:10]))
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(values) == 8 for values in history.history.values())
    assert history.epoch == list(range(8))
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert m.history is history


def test_evaluate_and_predict_agree_with_the_reference_loss_and_accuracy():
    """The oracle: the model's weights run through tinycnn.functional.reference (plain NumPy,
    itself checked against PyTorch), and the loss and accuracy worked out from its output."""
    m = small_model()
    x, y, labels = data(30)
    expected = reference_predict(m, x)  # (30, 3) float64
    loss = -np.mean(np.log(np.clip(expected[np.arange(30), labels], 1e-7, 1)))
    accuracy = np.mean(expected.argmax(axis=1) == labels)
    p = m.predict(x, batch_size=7)  # batch size that does not divide the data
    assert p.shape == (30, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p, expected, rtol=1e-5, atol=1e-6)
    got_loss, got_accuracy = m.evaluate(x, y, batch_size=4)
    assert got_loss == pytest.approx(loss, rel=1e-5)
    assert got_accuracy == pytest.approx(accuracy)
    # consistency checks: the other ways of running the model give the same numbers
    np.testing.assert_allclose(m(x), p, rtol=1e-6)
    np.testing.assert_allclose(m.predict(x[:1]), p[:1], rtol=1e-6)


def test_evaluate_without_metrics_returns_the_loss_alone():
    m = small_model(metrics=())
    x, y, _ = data(10)
    assert isinstance(m.evaluate(x, y), float)
    assert isinstance(m.train_on_batch(x, y), float)


def test_train_on_batch_reports_loss_before_the_update():
    m = small_model()
    x, y, _ = data(16)
    loss_before, _ = m.evaluate(x, y, batch_size=16)
    loss, accuracy = m.train_on_batch(x, y)
    assert loss == pytest.approx(loss_before, rel=1e-6)
    assert m.evaluate(x, y, batch_size=16)[0] < loss_before


def test_batches_per_epoch_and_callback_hooks():
    m = small_model()
    x, y, _ = data(21)
    events = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append(("train_begin",))

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch_begin", epoch))

        def on_batch_begin(self, batch, logs=None):
            events.append(("batch_begin", batch))

        def on_batch_end(self, batch, logs=None):
            assert self.model is m
            events.append(("batch_end", batch, sorted(k for k in logs if k in ("loss", "accuracy"))))

        def on_epoch_end(self, epoch, logs=None):
            events.append(("epoch_end", epoch, sorted(logs)))

        def on_train_end(self, logs=None):
            events.append(("train_end",))

    m.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[Recorder()])
    per_epoch = [("batch_begin", 0), ("batch_end", 0, ["accuracy", "loss"]),
                 ("batch_begin", 1), ("batch_end", 1, ["accuracy", "loss"]),
                 ("batch_begin", 2), ("batch_end", 2, ["accuracy", "loss"])]  # 21 = 8 + 8 + 5
    assert events == ([("train_begin",), ("epoch_begin", 0)] + per_epoch
                      + [("epoch_end", 0, ["accuracy", "loss"]), ("epoch_begin", 1)] + per_epoch
                      + [("epoch_end", 1, ["accuracy", "loss"]), ("train_end",)])


def test_batch_logs_are_running_means_and_epoch_logs_match_the_last_batch_log():
    m = small_model()
    x, y, _ = data(20)
    batch_logs, epoch_logs = [], []
    lam = callbacks.LambdaCallback(on_batch_end=lambda b, logs: batch_logs.append(dict(logs)),
                                   on_epoch_end=lambda e, logs: epoch_logs.append(dict(logs)))
    # without shuffling, the per-batch losses are reproducible by hand with train_on_batch
    twin = small_model()
    expected = [twin.train_on_batch(x[i:i + 8], y[i:i + 8])[0] for i in (0, 8, 16)]
    m.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False, callbacks=[lam])
    sizes = np.array([8, 8, 4])
    running = np.cumsum(np.array(expected) * sizes) / np.cumsum(sizes)
    np.testing.assert_allclose([logs["loss"] for logs in batch_logs], running, rtol=1e-5)
    assert epoch_logs[0]["loss"] == pytest.approx(batch_logs[-1]["loss"])


def test_stop_training_is_honoured_between_batches():
    m = small_model()
    x, y, _ = data(40)
    seen = []

    class StopAfterTwo(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)
            if batch == 1:
                self.model.stop_training = True

    history = m.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[StopAfterTwo()])
    assert seen == [0, 1]  # the 8 remaining batches and 4 remaining epochs never ran
    assert len(history.history["loss"]) == 1


def test_stop_training_from_epoch_end():
    m = small_model()
    x, y, _ = data(12)
    stopper = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(m, "stop_training", epoch == 2))
    history = m.fit(x, y, batch_size=4, epochs=10, verbose=0, callbacks=[stopper])
    assert history.epoch == [0, 1, 2]


class ScriptedValues(callbacks.Callback):
    """Overwrites ``val_loss`` in the epoch logs with scripted values (runs before the others)."""

    def __init__(self, values):
        super().__init__()
        self.values = list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


def test_early_stopping_patience():
    m = small_model()
    x, y, _ = data(8)
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=2)
    history = m.fit(x, y, epochs=20, verbose=0, validation_data=(x, y),
                    callbacks=[ScriptedValues([5, 4, 3, 3.5, 3.2, 3.1, 1, 1, 1] + [1] * 11), stopper])
    # Keras's rule: stop after `patience` epochs without improvement. Best 3 at epoch 2;
    # epochs 3 and 4 do not improve: stop after epoch 4 (epoch 6 would have improved)
    assert history.epoch == [0, 1, 2, 3, 4]
    assert stopper.stopped_epoch == 4


def test_early_stopping_matches_the_keras_documentation_example():
    """Keras docs: patience=3 and a loss that never improves -> "Only 4 epochs are run"."""
    m = small_model()
    x, y, _ = data(8)
    history = m.fit(x, y, epochs=10, verbose=0, validation_data=(x, y),
                    callbacks=[ScriptedValues([2.0] * 10), callbacks.EarlyStopping(patience=3)])
    assert len(history.epoch) == 4


def test_early_stopping_restores_best_weights():
    m = small_model()
    x, y, _ = data(8)
    snapshots = []
    keep = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(m.get_weights()))
    stopper = callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    m.fit(x, y, epochs=10, verbose=0, validation_data=(x, y),
          callbacks=[ScriptedValues([3, 1, 2, 2, 0] + [0] * 5), keep, stopper])
    assert len(snapshots) == 3  # epoch 2 does not improve on epoch 1: stop (patience 1)
    for restored, best in zip(m.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(restored, best)
    assert not np.array_equal(m.get_weights()[0], snapshots[2][0])


def test_early_stopping_on_accuracy_maximises():
    m = small_model()
    x, y, _ = data(8)

    class ScriptAccuracy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_accuracy"] = [0.5, 0.6, 0.55, 0.7, 0.6, 0.6][epoch]

    history = m.fit(x, y, epochs=6, verbose=0, validation_data=(x, y),
                    callbacks=[ScriptAccuracy(), callbacks.EarlyStopping("val_accuracy", patience=2)])
    assert history.epoch == [0, 1, 2, 3, 4, 5]  # 0.55 is one bad epoch, then 0.7 improves
    history = m.fit(x, y, epochs=6, verbose=0, validation_data=(x, y),
                    callbacks=[ScriptAccuracy(), callbacks.EarlyStopping("val_accuracy", patience=0)])
    assert history.epoch == [0, 1, 2]


def test_validation_split_holds_out_the_last_examples():
    m = small_model()
    x, y, _ = data(20)
    seen_sizes = []
    lam = callbacks.LambdaCallback(on_batch_end=lambda b, logs: seen_sizes.append(logs.get("size")))
    history = m.fit(x, y, batch_size=100, epochs=1, verbose=0, validation_split=0.25,
                    callbacks=[lam])
    assert seen_sizes == [15]
    twin = small_model()
    twin.set_weights(m.get_weights())
    assert history.history["val_loss"][0] == pytest.approx(twin.evaluate(x[15:], y[15:])[0],
                                                           rel=1e-6)


def test_save_and_load_weights_round_trip(tmp_path):
    m = small_model(seed=1)
    x, y, _ = data(12)
    m.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "weights.npz"
    m.save_weights(path)
    other = small_model(seed=2)
    assert not np.allclose(other.predict(x), m.predict(x))
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(x), m.predict(x))
    with np.load(path, allow_pickle=False) as archive:  # plain arrays in get_weights order
        assert archive.files == [f"arr_{i}" for i in range(4)]
        for i, w in enumerate(m.get_weights()):
            np.testing.assert_array_equal(archive[f"arr_{i}"], w)
    other.load_weights(str(path))  # str paths too


def test_get_and_set_weights_follow_keras_order():
    m = small_model()
    weights = m.get_weights()
    assert [w.shape for w in weights] == [(3, 3, 1, 3), (3,), (12, 3), (3,)]
    conv, dense = m.layers[0], m.layers[3]
    np.testing.assert_array_equal(weights[0], conv.kernel)
    np.testing.assert_array_equal(weights[2], dense.kernel)
    new = [np.full(w.shape, i + 1.0) for i, w in enumerate(weights)]
    m.set_weights(new)
    assert np.all(conv.kernel == 1) and np.all(conv.bias == 2)
    assert np.all(dense.kernel == 3) and np.all(dense.bias == 4)
    weights[0][...] = 99  # get_weights gives copies
    assert np.all(conv.kernel == 1)


def test_failed_set_weights_changes_nothing():
    m = small_model()
    before = m.get_weights()
    bad = [w.copy() + 1 for w in before]
    bad[-1] = np.ones(5)  # the last array has the wrong shape
    with pytest.raises(ValueError):
        m.set_weights(bad)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_layer_outputs_give_every_feature_map():
    m = small_model()
    x, _, _ = data(5)
    outputs = m.layer_outputs(x)
    assert [o.shape for o in outputs] == [(5, 4, 4, 3), (5, 2, 2, 3), (5, 12), (5, 3)]
    np.testing.assert_allclose(outputs[-1], reference_predict(m, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs[1], reference.max_pool2d(outputs[0]), rtol=1e-6)
    assert np.all(outputs[0] >= 0)  # after ReLU


def test_model_builds_from_data_when_no_input_shape_is_given():
    m = Sequential([Flatten(), Dense(2, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = m.fit(np.ones((4, 3, 3, 1)), np.array([0, 1, 0, 1]), verbose=0)
    assert m.input_shape == (None, 3, 3, 1) and m.count_params() == 20
    assert "accuracy" in history.history


def test_binary_model_with_sigmoid_output_and_integer_labels():
    tinycnn.utils.set_random_seed(3)
    m = Sequential([Dense(4, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")])
    m.compile(optimizers.Adam(learning_rate=0.05), "binary_crossentropy", metrics=["accuracy"])
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 8, dtype=np.float32)
    labels = np.logical_xor(x[:, 0], x[:, 1]).astype(int)  # XOR: needs the hidden layer
    m.fit(x, labels, batch_size=8, epochs=150, verbose=0)
    assert m.evaluate(x, labels)[1] == 1.0
    assert m.predict(x).shape == (32, 1)


def test_verbose_1_draws_a_progress_bar_on_one_line(capsys):
    m = small_model()
    x, y, _ = data(24)
    m.fit(x, y, batch_size=8, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    final_lines = [line.split("\r")[-1] for line in out.split("\n") if "\r" in line]
    assert len(final_lines) == 2  # one redrawn line per epoch
    for line in final_lines:
        assert line.startswith("3/3 [==============================]")
        assert "loss: " in line and "accuracy: " in line
    assert "\r" in out


def test_verbose_2_prints_one_line_per_epoch_and_0_prints_nothing(capsys):
    m = small_model()
    x, y, _ = data(24)
    m.fit(x, y, batch_size=8, epochs=3, verbose=2, validation_data=(x, y))
    out = capsys.readouterr().out
    assert "\r" not in out
    epoch_lines = [line for line in out.splitlines() if "val_loss: " in line]
    assert len(epoch_lines) == 3
    m.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_fit_accepts_a_sequence_and_a_generator():
    m = small_model()
    x, y, _ = data(24)

    class Batches:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[8 * i:8 * i + 8], y[8 * i:8 * i + 8]

    def forever():
        while True:
            for i in range(3):
                yield x[8 * i:8 * i + 8], y[8 * i:8 * i + 8]

    counts = []
    lam = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: counts.append(e))
    m.fit(Batches(), epochs=2, verbose=0, callbacks=[lam])
    m.fit(forever(), steps_per_epoch=3, epochs=2, verbose=0, validation_data=Batches())
    m.fit_generator(forever(), steps_per_epoch=3, epochs=1, verbose=0)
    assert counts == [0, 1]
    with pytest.raises(ValueError, match="steps_per_epoch"):
        m.fit(forever(), epochs=1, verbose=0)


def test_shuffle_changes_the_batches_but_not_the_epoch_coverage():
    x, y, _ = data(16)
    first = small_model(seed=5)
    second = small_model(seed=5)
    tinycnn.utils.set_random_seed(7)
    first.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=True)
    second.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    assert not np.allclose(first.get_weights()[0], second.get_weights()[0])
    # one batch holding everything: the order inside it does not matter
    a, b = small_model(seed=6), small_model(seed=6)
    a.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=True)
    b.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("loss,last,units", [("categorical_crossentropy", "softmax", 3),
                                             ("binary_crossentropy", "sigmoid", 1),
                                             ("mse", "tanh", 3)])
def test_training_stays_in_float32(optimizer, loss, last, units):
    """Nothing silently upcasts to float64 (which would halve the speed) in a training step."""
    tinycnn.utils.set_random_seed(0)
    m = Sequential([
        Conv2D(3, 3, padding="same", activation="relu", input_shape=(6, 6, 2)),
        MaxPooling2D(padding="same"),
        tinycnn.layers.AveragePooling2D(2, strides=1),
        Flatten(),
        tinycnn.layers.Dropout(0.2),
        Dense(units, activation=last),
    ])
    m.compile(optimizer, loss)
    x = np.random.default_rng(0).random((5, 6, 6, 2))  # float64 data is converted once
    y = np.eye(3)[[0, 1, 2, 0, 1]][:, :units]
    m.train_on_batch(x, y)
    m.fit(x, y, epochs=1, verbose=0)
    for layer in m.layers:
        assert all(w.dtype == np.float32 for w in layer.weights), layer.name
        assert all(g.dtype == np.float32 for g in layer.grads), layer.name
    assert all(out.dtype == np.float32 for out in m.layer_outputs(x))
    assert m.predict(x).dtype == np.float32
