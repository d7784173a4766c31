"""The reference definitions (tinycnn/functional/reference.py) against PyTorch, forward and
backward: the readable code the chapters show computes what a mainstream library computes.

(The fast formulations that tinycnn runs are checked against this reference in
tests/test_fast_vs_reference.py, and the layers against PyTorch in tests/test_torch_oracle.py.)
"""
from __future__ import annotations

import numpy as np
import pytest

from tinycnn.functional import reference

from oracles import (  # torch and TF are None without PyTorch (Python 3.8 runs deselect these)
    CONV_CASES,
    POOL_CASES,
    TF,
    close,
    from_nchw,
    to_nchw,
    torch_avg_pool,
    torch_max_pool,
    torch,
    torch_pad,
)

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("case", CONV_CASES)
def test_reference_conv2d_and_backward_match_torch(case):
    n, h, w, c, f, kernel, strides, padding = case
    rng = np.random.RandomState(CONV_CASES.index(case))
    x, k, b = rng.standard_normal((n, h, w, c)), rng.standard_normal(kernel + (c, f)), \
        rng.standard_normal(f)
    out = reference.conv2d(x, k, b, strides, padding)
    tx = to_nchw(x, grad=True)
    tk = torch.tensor(k.transpose(3, 2, 0, 1), requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    tout = TF.conv2d(torch_pad(tx, kernel, strides, padding), tk, tb, stride=strides)
    close(out, from_nchw(tout))
    grad = rng.standard_normal(out.shape)
    tout.backward(to_nchw(grad))
    grad_x, grad_kernel, grad_bias = reference.conv2d_backward(grad, x, k, strides, padding)
    close(grad_x, from_nchw(tx.grad))
    close(grad_kernel, tk.grad.numpy().transpose(2, 3, 1, 0))
    close(grad_bias, tb.grad.numpy())


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_reference_pooling_and_backward_match_torch(kind, case):
    n, h, w, c, pool, strides, padding = case
    rng = np.random.RandomState(POOL_CASES.index(case))
    x = rng.permutation(n * h * w * c).reshape(n, h, w, c) / 3.0  # distinct: no ties
    forward, backward = getattr(reference, kind + "_pool2d"), \
        getattr(reference, kind + "_pool2d_backward")
    oracle = torch_max_pool if kind == "max" else torch_avg_pool
    steps = pool if strides is None else strides
    out = forward(x, pool, strides, padding)
    tx = to_nchw(x, grad=True)
    tout = oracle(tx, pool, steps, padding)
    close(out, from_nchw(tout))
    grad = rng.standard_normal(out.shape)
    tout.backward(to_nchw(grad))
    close(backward(grad, x, pool, strides, padding), from_nchw(tx.grad))


def test_reference_max_pool_tie_goes_to_the_first_cell_like_torch():
    x = np.array([[5.0, 5.0], [1.0, 5.0]]).reshape(1, 2, 2, 1)
    tx = to_nchw(x, grad=True)
    TF.max_pool2d(tx, 2).backward(torch.ones(1, 1, 1, 1, dtype=torch.float64))
    got = reference.max_pool2d_backward(np.ones((1, 1, 1, 1)), x, (2, 2))
    close(got, from_nchw(tx.grad))
    assert got[0, :, :, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_reference_dense_relu_softmax_cross_entropy_match_torch():
    rng = np.random.RandomState(7)
    x, kernel, bias = rng.standard_normal((6, 5)), rng.standard_normal((5, 4)), \
        rng.standard_normal(4)
    labels = rng.randint(0, 4, 6)
    y = np.eye(4)[labels]
    tx = torch.tensor(x, requires_grad=True)
    tk = torch.tensor(kernel, requires_grad=True)
    tb = torch.tensor(bias, requires_grad=True)
    tz = tx @ tk + tb
    tz.retain_grad()
    ta = torch.relu(tz)
    ta.retain_grad()
    tloss = TF.cross_entropy(ta, torch.tensor(labels))
    tloss.backward()

    z = reference.dense(x, kernel, bias)
    a = reference.relu(z)
    close(a, ta.detach().numpy())
    close(reference.softmax(a), torch.softmax(ta, dim=1).detach().numpy())
    close(reference.softmax_cross_entropy(a, y), tloss.item())
    grad_a = reference.softmax_cross_entropy_backward(a, y)
    close(grad_a, ta.grad.numpy())
    grad_z = reference.relu_backward(grad_a, z)
    close(grad_z, tz.grad.numpy())
    grad_x, grad_kernel, grad_bias = reference.dense_backward(grad_z, x, kernel)
    close(grad_x, tx.grad.numpy())
    close(grad_kernel, tk.grad.numpy())
    close(grad_bias, tb.grad.numpy())


def test_reference_flatten_matches_torch_channels_last_order():
    x = np.arange(24.0).reshape(2, 2, 3, 2)
    tx = to_nchw(x, grad=True)
    tout = tx.permute(0, 2, 3, 1).reshape(2, -1)  # Keras/channels-last order
    close(reference.flatten(x), tout.detach().numpy())
    grad = np.arange(24.0).reshape(2, 12)
    tout.backward(torch.tensor(grad))
    close(reference.flatten_backward(grad, x), from_nchw(tx.grad))
