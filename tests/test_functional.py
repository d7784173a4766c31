"""tinycnn.functional on hand-worked numbers: the article's examples, padding rules, ranks, dtypes."""
from __future__ import annotations

import numpy as np
import pytest

from tinycnn import functional as F
from tinycnn.functional import windows


def test_article_vertical_edge_window_gives_minus_seven():
    # (3 + 1 + 2) * 1 + (1 + 0 + 3) * 0 + (1 + 7 + 5) * -1 = 6 - 13 = -7
    out = F.conv2d([[3, 1, 1], [1, 0, 7], [2, 3, 5]], [[1, 0, -1]] * 3)
    assert out.shape == (1, 1)
    assert out.dtype == np.float32
    assert out[0, 0] == -7.0


def test_article_max_pool_first_window_is_six():
    image = np.array([[4, 6, 1, 2],
                      [1, 3, 0, 5],
                      [2, 2, 7, 1],
                      [0, 1, 3, 8]])
    out = F.max_pool2d(image, pool_size=2)
    assert out.tolist() == [[6, 5], [2, 8]]  # windows {4,6,1,3} {1,2,0,5} {2,2,0,1} {7,1,3,8}
    np.testing.assert_allclose(F.avg_pool2d(image, 2), [[3.5, 2.0], [1.25, 4.75]])


def test_conv2d_is_cross_correlation_not_convolution():
    x = np.zeros((3, 3))
    x[0, 0] = 1.0  # a single 1 in the top-left corner
    kernel = np.arange(9.0).reshape(3, 3)
    # the window at (0, 0) pairs x[0, 0] with kernel[0, 0] (no flip): 1 * 0
    assert F.conv2d(x, kernel)[0, 0] == 0.0
    x[0, 0], x[2, 2] = 0.0, 1.0
    assert F.conv2d(x, kernel)[0, 0] == 8.0


def test_conv2d_hand_worked_same_padding_and_stride():
    x = np.arange(1.0, 17.0).reshape(4, 4)
    ones = np.ones((2, 2))
    # 'same' with stride 1 and a 2x2 kernel pads one row/column at the bottom/right only
    expected = np.array([[14, 18, 22, 12],
                         [30, 34, 38, 20],
                         [46, 50, 54, 28],
                         [27, 29, 31, 16]], dtype=float)
    np.testing.assert_array_equal(F.conv2d(x, ones, padding="same"), expected)
    # stride 2 'valid': the four non-overlapping 2x2 block sums
    np.testing.assert_array_equal(F.conv2d(x, ones, strides=2), [[14, 22], [46, 54]])
    # bias is added to every output cell
    out = F.conv2d(x[None, :, :, None], ones[:, :, None, None], bias=[0.5], strides=(2, 2))
    np.testing.assert_array_equal(out[0, :, :, 0], [[14.5, 22.5], [46.5, 54.5]])


def test_conv2d_multichannel_sums_over_channels_per_filter():
    x = np.zeros((1, 2, 2, 2))
    x[..., 0], x[..., 1] = 1.0, 10.0
    kernel = np.zeros((2, 2, 2, 3))
    kernel[..., 0, 0] = 1.0  # filter 0 reads channel 0
    kernel[..., 1, 1] = 1.0  # filter 1 reads channel 1
    kernel[..., :, 2] = 0.5  # filter 2 reads both
    out = F.conv2d(x, kernel)
    np.testing.assert_array_equal(out.reshape(-1), [4.0, 40.0, 22.0])


@pytest.mark.parametrize("size,window,stride,padding,expected", [
    (64, 3, 1, "valid", (62, 0, 0)),
    (62, 2, 2, "valid", (31, 0, 0)),
    (31, 2, 2, "valid", (15, 0, 0)),  # the last row is dropped
    (28, 5, 1, "same", (28, 2, 2)),
    (28, 4, 1, "same", (28, 1, 2)),  # odd total padding: the extra cell goes after
    (7, 2, 2, "same", (4, 0, 1)),
    (10, 3, 3, "same", (4, 1, 1)),
    (5, 1, 3, "same", (2, 0, 0)),
])
def test_output_size_follows_keras_rules(size, window, stride, padding, expected):
    assert windows.output_size(size, window, stride, padding) == expected


def test_ranks_round_trip():
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((6, 5))
    assert F.conv2d(matrix, np.ones((3, 3))).shape == (4, 3)
    image = rng.standard_normal((6, 5, 2))
    assert F.conv2d(image, np.ones((3, 3, 2, 4))).shape == (4, 3, 4)
    batch = rng.standard_normal((3, 6, 5, 2))
    out = F.conv2d(batch, np.ones((3, 3, 2, 4)))
    assert out.shape == (3, 4, 3, 4)
    np.testing.assert_allclose(out[1], F.conv2d(batch[1], np.ones((3, 3, 2, 4))),
                               rtol=1e-6)
    assert F.max_pool2d(matrix).shape == (3, 2)
    assert F.max_pool2d(image, padding="same").shape == (3, 3, 2)
    assert F.avg_pool2d(batch, 3, strides=1).shape == (3, 4, 3, 2)


def test_pool_strides_default_to_pool_size():
    x = np.arange(36.0).reshape(6, 6)
    np.testing.assert_array_equal(F.max_pool2d(x, 3), F.max_pool2d(x, 3, strides=3))
    assert F.max_pool2d(x, 3).tolist() == [[14, 17], [32, 35]]
    assert F.max_pool2d(x, 3, strides=1).shape == (4, 4)


def test_same_average_pooling_averages_only_real_cells():
    x = np.arange(1.0, 10.0).reshape(3, 3)
    # 2x2 windows, stride 2, 'same': output 2x2, one padding row/column at the bottom/right
    expected = [[(1 + 2 + 4 + 5) / 4, (3 + 6) / 2],
                [(7 + 8) / 2, 9.0]]
    np.testing.assert_allclose(F.avg_pool2d(x, 2, padding="same"), expected)
    # max pooling: padding never wins, even against negative numbers
    assert F.max_pool2d(-x, 2, padding="same").tolist() == [[-1, -3], [-7, -9]]


def test_dtypes_float32_by_default_float64_kept():
    ints = np.arange(16).reshape(4, 4)
    assert F.conv2d(ints, np.ones((2, 2), dtype=int)).dtype == np.float32
    assert F.max_pool2d(ints).dtype == np.float32
    assert F.avg_pool2d(ints.astype(np.float64)).dtype == np.float64
    assert F.conv2d(ints.astype(np.float64), np.ones((2, 2))).dtype == np.float64
    assert F.flatten(np.ones((2, 3, 3), dtype=np.float64)).dtype == np.float64


def test_flatten_keeps_channels_of_a_cell_together():
    x = np.arange(2 * 2 * 2 * 3).reshape(2, 2, 2, 3)
    out = F.flatten(x)
    assert out.shape == (2, 12)
    assert out[0, :3].tolist() == [0, 1, 2]  # cell (0, 0), channels 0..2


def test_activations_hand_worked():
    z = np.array([-2.0, 0.0, 3.0])
    assert F.relu(z).tolist() == [0.0, 0.0, 3.0]
    assert F.linear(z).tolist() == z.tolist()
    np.testing.assert_allclose(F.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(F.tanh(z), np.tanh(z))
    p = F.softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(p[0], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(), rtol=1e-12)
    np.testing.assert_allclose(p[1], [0.5, 0.5, 0.0], atol=1e-12)  # no overflow
    big = F.sigmoid(np.array([-1000.0, 1000.0]))
    assert big.tolist() == [0.0, 1.0]


def test_extract_and_scatter_windows_are_adjoint():
    """<extract(x), g> == <x, scatter(g)> for random x and g: scatter is extract's transpose."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 7, 6, 3))
    for window, strides in [((3, 3), (1, 1)), ((2, 3), (2, 1)), ((3, 2), (3, 3))]:
        (out_h, out_w), _ = windows.plan(x.shape, window, strides, "valid", "w")
        patches = windows.extract_windows(x, window, strides, (out_h, out_w))
        g = rng.standard_normal(patches.shape)
        lhs = float(np.sum(patches * g))
        rhs = float(np.sum(x * windows.scatter_windows(g, x.shape, strides)))
        assert lhs == pytest.approx(rhs, rel=1e-10)
