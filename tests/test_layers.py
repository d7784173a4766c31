"""Layers: shapes, parameter counts, weights, initialisation, Dropout, aliases."""
from __future__ import annotations

import numpy as np
import pytest

import tinycnn
from tinycnn import layers
from tinycnn.layers import Activation, AveragePooling2D, Conv2D, Convolution2D
from tinycnn.layers import Dense, Dropout, Flatten, MaxPooling2D


def article_model():
    return tinycnn.models.article_cnn()  # the model zoo's copy of the article's network


def test_article_model_parameter_counts_and_shapes():
    model = article_model()
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
    assert [getattr(layer, "activation", None) and layer.activation.name
            for layer in model.layers] == ["relu", None, "relu", None, None, "relu", "sigmoid"]
    # 3*3*3*32 + 32 = 896; 3*3*32*32 + 32 = 9248; 14*14*32 = 6272 -> 6272*128 + 128 = 802944
    assert [layer.count_params() for layer in model.layers] == [896, 0, 9248, 0, 0, 802944, 129]
    assert model.count_params() == 813217
    assert [layer.output_shape for layer in model.layers] == [
        (None, 62, 62, 32), (None, 31, 31, 32), (None, 29, 29, 32), (None, 14, 14, 32),
        (None, 6272), (None, 128), (None, 1)]


def test_summary_prints_keras_like_table(capsys):
    article_model().summary()
    text = capsys.readouterr().out
    assert "Total params: 813,217" in text
    assert "(None, 62, 62, 32)" in text and "802944" in text
    assert text.count("Conv2D") == 2 and "MaxPooling2D" in text and "Dense" in text


def test_convolution2d_alias_and_pool_aliases():
    assert issubclass(Convolution2D, Conv2D)  # the Keras 1 name (and signature), see test_legacy
    assert layers.MaxPool2D is MaxPooling2D
    assert layers.AvgPool2D is AveragePooling2D


@pytest.mark.parametrize("layer,input_shape,output_shape", [
    (Conv2D(4, 3), (10, 9, 2), (8, 7, 4)),
    (Conv2D(4, 3, padding="same"), (10, 9, 2), (10, 9, 4)),
    (Conv2D(4, (3, 5), strides=(2, 3), padding="same"), (10, 9, 2), (5, 3, 4)),
    (Conv2D(4, 4, strides=3), (10, 9, 2), (3, 2, 4)),
    (MaxPooling2D(), (10, 9, 2), (5, 4, 2)),
    (MaxPooling2D(padding="same"), (10, 9, 2), (5, 5, 2)),
    (AveragePooling2D(3, strides=1), (10, 9, 2), (8, 7, 2)),
    (Flatten(), (10, 9, 2), (180,)),
    (Dense(7), (12,), (7,)),
    (Activation("relu"), (3, 4), (3, 4)),
    (Dropout(0.5), (3, 4), (3, 4)),
])
def test_output_shape_matches_actual_output(layer, input_shape, output_shape):
    layer.build(input_shape)
    assert layer.output_shape == (None,) + output_shape
    out = layer(np.random.default_rng(0).standard_normal((2,) + input_shape))
    assert out.shape == (2,) + output_shape
    assert out.dtype == np.float32


def test_weights_shapes_order_and_initialisation():
    tinycnn.utils.set_random_seed(0)
    conv = Conv2D(16, (3, 5), input_shape=(8, 8, 4))
    conv.build((8, 8, 4))
    kernel, bias = conv.get_weights()
    assert kernel.shape == (3, 5, 4, 16) and bias.shape == (16,)
    assert kernel.dtype == np.float32
    assert np.all(bias == 0)
    limit = np.sqrt(6 / (3 * 5 * 4 + 3 * 5 * 16))  # Glorot-uniform: fan_in + fan_out
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.9 * limit  # really spread over the range
    assert abs(kernel.mean()) < 0.1 * limit
    dense = Dense(3)
    dense.build((5,))
    assert [w.shape for w in dense.get_weights()] == [(5, 3), (3,)]
    assert conv.kernel is conv.weights[0] and conv.bias is conv.weights[1]


def test_get_weights_returns_copies_and_set_weights_updates_in_place():
    dense = Dense(2)
    dense.build((3,))
    kernel_array = dense.kernel
    weights = dense.get_weights()
    weights[0][...] = 5.0
    assert not np.any(dense.kernel == 5.0)  # a copy
    dense.set_weights([np.ones((3, 2)), np.array([1.0, 2.0])])
    assert dense.kernel is kernel_array  # same array object: optimizers keep their references
    np.testing.assert_array_equal(dense(np.ones((1, 3))), [[4.0, 5.0]])


def test_use_bias_false_has_only_a_kernel():
    conv = Conv2D(3, 2, use_bias=False)
    conv.build((4, 4, 1))
    assert conv.count_params() == 12 and len(conv.get_weights()) == 1
    dense = Dense(3, use_bias=False)
    dense.build((4,))
    assert dense.count_params() == 12


def test_float64_layers_compute_in_float64():
    conv = Conv2D(2, 3, dtype="float64")
    out = conv(np.ones((1, 5, 5, 1), dtype=np.float32))
    assert conv.kernel.dtype == np.float64 and out.dtype == np.float64


def test_dropout_zeroes_and_rescales_only_while_training():
    tinycnn.utils.set_random_seed(1)
    layer = Dropout(0.25)
    x = np.ones((200, 100), dtype=np.float32)
    np.testing.assert_array_equal(layer(x), x)  # inference: identity
    out = layer.forward(x, training=True)
    kept = out != 0
    assert 0.70 < kept.mean() < 0.80
    np.testing.assert_allclose(out[kept], 1 / 0.75)  # inverted dropout keeps the expected sum
    grad = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(grad != 0, kept)  # the same mask going backward


def test_activation_layer_and_dense_activation_agree():
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    dense = Dense(3, activation="tanh")
    dense.build((3,))
    plain = Dense(3)
    plain.build((3,))
    plain.set_weights(dense.get_weights())
    np.testing.assert_allclose(dense(x), Activation("tanh")(plain(x)), rtol=1e-6)


def test_seed_makes_initialisation_reproducible():
    tinycnn.utils.set_random_seed(42)
    first = article_model().get_weights()
    tinycnn.utils.set_random_seed(42)
    second = article_model().get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("layer,shape", [(Conv2D(3, 3, padding="same", activation="relu"), (2, 5, 6, 2)),
                                         (Dense(4, activation="tanh"), (3, 7))])
def test_first_layer_can_skip_the_input_gradient(layer, shape):
    """A model's first layer is told not to compute dL/dx (the data needs none): it returns None
    and computes exactly the same weight gradients."""
    x = np.random.default_rng(3).standard_normal(shape)
    out = layer(x)
    grad = np.random.default_rng(4).standard_normal(out.shape).astype(np.float32)
    assert layer.backward(grad).shape == shape
    full = [g.copy() for g in layer.grads]
    assert layer.backward(grad, input_gradient=False) is None
    for a, b in zip(full, layer.grads):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_layer_gives_plus_zero_for_minus_inf_and_minus_zero_and_keeps_nan(dtype):
    """Hand-worked: relu(-inf) = 0 and relu(-0.0) = +0.0 (as in PyTorch), NaN stays NaN."""
    layer = Dense(4, activation="relu", use_bias=False, dtype=dtype)
    layer.build((1,))
    layer.kernel[...] = np.array([[-np.inf, -0.0, np.nan, 2.0]], dtype=dtype)
    out = layer.forward(np.ones((1, 1), dtype=dtype))
    assert out[0, 0] == 0.0 and not np.signbit(out[0, 0])
    assert out[0, 1] == 0.0 and not np.signbit(out[0, 1])
    assert np.isnan(out[0, 2]) and out[0, 3] == 2.0
