"""Losses, metrics and optimizers on hand-worked numbers."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tinycnn import losses, metrics, optimizers


def test_binary_crossentropy_hand_worked():
    # -(log 0.9 + log(1 - 0.2)) / 2
    expected = -(math.log(0.9) + math.log(0.8)) / 2
    assert losses.binary_crossentropy([[1], [0]], [[0.9], [0.2]]) == pytest.approx(expected)
    # labels (N,) for outputs (N, 1) are accepted, like Keras
    assert losses.binary_crossentropy([1, 0], [[0.9], [0.2]]) == pytest.approx(expected)


def test_binary_crossentropy_is_clipped_to_keras_epsilon():
    # a confident wrong answer costs -log(1e-7) = 16.118..., not infinity
    assert losses.binary_crossentropy([[1.0]], [[0.0]]) == pytest.approx(-math.log(1e-7), rel=1e-6)
    assert losses.binary_crossentropy([[0.0]], [[1.0]]) == pytest.approx(-math.log(1e-7), rel=1e-5)
    assert losses.binary_crossentropy([[1.0]], [[1.0]]) == pytest.approx(-math.log(1 - 1e-7),
                                                                        abs=1e-9)


def test_categorical_crossentropy_hand_worked():
    y = [[0, 1, 0], [1, 0, 0]]
    p = [[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]]
    assert losses.categorical_crossentropy(y, p) == pytest.approx(-(math.log(0.7) + math.log(0.5)) / 2)
    assert losses.sparse_categorical_crossentropy([1, 0], p) == pytest.approx(
        -(math.log(0.7) + math.log(0.5)) / 2)
    # like Keras, rows are renormalised to sum to 1 first
    assert losses.categorical_crossentropy([[0, 1]], [[1.0, 3.0]]) == pytest.approx(-math.log(0.75))
    assert np.isfinite(losses.categorical_crossentropy([[0, 1]], [[1.0, 0.0]]))


def test_mse_hand_worked():
    assert losses.mse([[1.0, 2.0], [0.0, 0.0]], [[1.5, 1.0], [0.0, 2.0]]) == pytest.approx(
        ((0.25 + 1.0) / 2 + (0 + 4.0) / 2) / 2)
    assert losses.mean_squared_error is losses.mse
    assert isinstance(losses.get("mean_squared_error"), losses.MeanSquaredError)


def test_loss_lookup_by_name_and_instance():
    assert isinstance(losses.get("binary_crossentropy"), losses.BinaryCrossentropy)
    assert isinstance(losses.get("Categorical_Crossentropy"), losses.CategoricalCrossentropy)
    loss = losses.MeanSquaredError()
    assert losses.get(loss) is loss


def test_losses_are_stable_for_extreme_probabilities():
    p = np.array([[1.0, 0.0, 0.0]], dtype=np.float32)
    assert np.isfinite(losses.get("categorical_crossentropy").gradient([[0, 1, 0]], p)).all()
    assert np.isfinite(losses.get("binary_crossentropy").gradient([[1.0]], np.zeros((1, 1)))).all()


def test_accuracy_metrics_hand_worked_and_picked_like_keras():
    assert metrics.binary_accuracy([1, 0, 1, 0], [[0.9], [0.6], [0.4], [0.1]]) == 0.5
    assert metrics.categorical_accuracy([[0, 1], [1, 0], [1, 0]],
                                        [[0.2, 0.8], [0.3, 0.7], [0.9, 0.1]]) == pytest.approx(2 / 3)
    assert metrics.sparse_categorical_accuracy([1, 0, 0], [[0.2, 0.8], [0.3, 0.7], [0.9, 0.1]]) \
        == pytest.approx(2 / 3)
    assert metrics.accuracy_for("binary_crossentropy", 1) is metrics.binary_accuracy
    assert metrics.accuracy_for("categorical_crossentropy", 10) is metrics.categorical_accuracy
    assert metrics.accuracy_for("sparse_categorical_crossentropy", 10) \
        is metrics.sparse_categorical_accuracy
    assert metrics.accuracy_for("mse", 1) is metrics.binary_accuracy


# ----------------------------------------------------------------------------- optimizers
def test_sgd_plain_step():
    w = np.array([1.0, -2.0])
    optimizers.SGD(learning_rate=0.1).apply([w], [np.array([0.5, -1.0])])
    np.testing.assert_allclose(w, [0.95, -1.9])


def test_sgd_momentum_follows_keras_rule_by_hand():
    # v = 0.9 v - 0.1 g; w += v, with a constant gradient 1:
    # v1 = -0.1, w1 = 0.9; v2 = -0.19, w2 = 0.71; v3 = -0.271, w3 = 0.439
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    w = np.array([1.0])
    trajectory = []
    for _ in range(3):
        opt.apply([w], [np.array([1.0])])
        trajectory.append(w[0])
    np.testing.assert_allclose(trajectory, [0.9, 0.71, 0.439], rtol=1e-12)


def test_adam_first_steps_by_hand():
    # step 1: m = 0.1 g, v = 0.001 g^2, lr_t = lr * sqrt(0.001) / 0.1
    # -> update = lr * sqrt(0.001)/0.1 * 0.1 g / (sqrt(0.001) |g| + eps) ~= lr * sign(g)
    opt = optimizers.Adam(learning_rate=0.01)
    w = np.array([1.0, 1.0, 1.0])
    g = np.array([3.0, -0.5, 0.0])
    opt.apply([w], [g])
    lr_t = 0.01 * math.sqrt(1 - 0.999) / (1 - 0.9)
    expected = 1.0 - lr_t * 0.1 * g / (np.sqrt(0.001 * g * g) + 1e-7)
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    np.testing.assert_allclose(w, [0.99, 1.01, 1.0], atol=1e-6)
    # step 2 with the same gradient: m = 0.19 g, v = 0.001999 g^2
    opt.apply([w], [g])
    lr_t = 0.01 * math.sqrt(1 - 0.999 ** 2) / (1 - 0.9 ** 2)
    expected = expected - lr_t * 0.19 * g / (np.sqrt(0.001999 * g * g) + 1e-7)
    np.testing.assert_allclose(w, expected, rtol=1e-12)


def test_optimizers_keep_separate_state_per_weight_and_update_in_place():
    opt = optimizers.SGD(learning_rate=1.0, momentum=0.5)
    a, b = np.zeros(2), np.zeros(3)
    a_id = id(a)
    opt.apply([a, b], [np.ones(2), -np.ones(3)])
    opt.apply([a, b], [np.ones(2), -np.ones(3)])
    np.testing.assert_allclose(a, [-2.5, -2.5])  # -1, then -1 + (0.5 * -1 - 1)
    np.testing.assert_allclose(b, [2.5, 2.5, 2.5])
    assert id(a) == a_id
    assert opt.iterations == 2


def test_float32_weights_stay_float32():
    w = np.ones(3, dtype=np.float32)
    optimizers.Adam().apply([w], [np.ones(3, dtype=np.float64)])
    optimizers.SGD(momentum=0.9).apply([w], [np.ones(3, dtype=np.float64)])
    assert w.dtype == np.float32


def test_optimizer_lookup():
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert optimizers.get("sgd").learning_rate == 0.01
    assert optimizers.get("adam").learning_rate == 0.001
    opt = optimizers.SGD(0.5)
    assert optimizers.get(opt) is opt
