"""Conv forward / backward in several NumPy formulations, timed on the LeNet workload's shapes.

Run by ``scripts/bench_browser.py --kernels`` inside the page's Pyodide (and natively for
reference). Python 3.8 + NumPy 1.17 compatible, no tinycnn needed. ``run_kernels(repeats)``
returns ``{layer: {operation: {formulation: milliseconds}}}`` (median of ``repeats``) after
checking that every formulation gives the same numbers as the im2col + matmul reference.
"""
from __future__ import annotations

import time

import numpy as np
from numpy.lib.stride_tricks import as_strided

# (batch, rows, cols, in_channels, filters, kernel): the two 5x5 "same" convolutions of the
# LeNet workload in scripts/bench.py, batch 32.
LAYERS = {"conv1": (32, 28, 28, 1, 8, 5), "conv2": (32, 14, 14, 8, 16, 5)}


def windows(x_padded, k, rows, cols):
    """Copy-free view (N, rows, cols, k, k, C) of every k x k window (stride 1)."""
    n, _, _, c = x_padded.shape
    s = x_padded.strides
    return as_strided(x_padded, shape=(n, rows, cols, k, k, c), strides=(s[0], s[1], s[2], s[1], s[2], s[3]),
                      writeable=False)


# ----------------------------------------------------------------------------- forward
def fwd_im2col_matmul(xp, w, rows, cols):
    k, _, c, f = w.shape
    columns = windows(xp, k, rows, cols).reshape(-1, k * k * c)          # copies
    return (columns @ w.reshape(k * k * c, f)).reshape(xp.shape[0], rows, cols, f)


def fwd_im2col_dot(xp, w, rows, cols):
    """Same as im2col+matmul with np.dot: without BLAS (Pyodide), np.dot's loop beats matmul's."""
    k, _, c, f = w.shape
    columns = windows(xp, k, rows, cols).reshape(-1, k * k * c)
    return np.dot(columns, w.reshape(k * k * c, f)).reshape(xp.shape[0], rows, cols, f)


def fwd_einsum(xp, w, rows, cols):
    return np.einsum("nhwijc,ijcf->nhwf", windows(xp, w.shape[0], rows, cols), w)


def fwd_einsum_optimize(xp, w, rows, cols):
    return np.einsum("nhwijc,ijcf->nhwf", windows(xp, w.shape[0], rows, cols), w, optimize=True)


def fwd_tensordot(xp, w, rows, cols):
    return np.tensordot(windows(xp, w.shape[0], rows, cols), w, axes=([3, 4, 5], [0, 1, 2]))


def fwd_shift_matmul(xp, w, rows, cols):
    """Sum over the k*k kernel positions of (shifted input) @ kernel[i, j]: no im2col buffer."""
    k, _, c, f = w.shape
    n = xp.shape[0]
    out = np.zeros((n * rows * cols, f), dtype=xp.dtype)
    for i in range(k):
        for j in range(k):
            out += np.ascontiguousarray(xp[:, i:i + rows, j:j + cols, :]).reshape(-1, c) @ w[i, j]
    return out.reshape(n, rows, cols, f)


def wide_columns(xp, k, rows, cols):
    """tinycnn's browser im2col (tinycnn/fast/wide_rows.py): the batch's images side by side,
    no gap, in every row of a channels-first buffer, so that each row of the transposed im2col
    matrix (C*k*k, rows*N*cols) is one contiguous run; the cells that would read a neighbouring
    image instead of the zero padding are zeroed."""
    c = xp.shape[3]
    n, hp, wp, _ = xp.shape
    pad = (wp - cols) // 2  # "same" padding on each side (odd k)
    row = n * cols
    count = c * hp * row
    buffer = np.zeros(pad + count + k, dtype=xp.dtype)
    buffer[pad:pad + count].reshape(c, hp, n, cols)[...] = xp[:, :, pad:pad + cols].transpose(3, 1, 0, 2)
    item = buffer.strides[0]
    runs = as_strided(buffer, shape=(c, k, k, rows * row), strides=(hp * row * item, row * item, item, item))
    columns = np.ascontiguousarray(runs).reshape(c * k * k, -1)
    cells = columns.reshape(c, k, k, rows, n, cols)
    for j in range(k):
        cells[:, :, j, :, :, :max(0, pad - j)] = 0
        cells[:, :, j, :, :, max(0, cols + pad - j):] = 0
    return columns  # (C*k*k, rows*N*cols), columns ordered (row, image, column)


def fwd_axpy(xp, w, rows, cols):
    """tinycnn's browser path: :func:`wide_columns`, then einsum with the long axis innermost."""
    k, _, c, f = w.shape
    n = xp.shape[0]
    out = np.einsum("fk,kp->fp", w.transpose(3, 2, 0, 1).reshape(f, -1), wide_columns(xp, k, rows, cols))
    return np.ascontiguousarray(out.reshape(f, rows, n, cols).transpose(2, 1, 3, 0))


# ----------------------------------------------------------------------------- grad kernel
def gw_im2col_matmul(xp, g, k):
    n, rows, cols, f = g.shape
    c = xp.shape[3]
    columns = windows(xp, k, rows, cols).reshape(-1, k * k * c)
    return (columns.T @ g.reshape(-1, f)).reshape(k, k, c, f)


def gw_im2col_dot(xp, g, k):
    n, rows, cols, f = g.shape
    c = xp.shape[3]
    columns = windows(xp, k, rows, cols).reshape(-1, k * k * c)
    return np.dot(columns.T, g.reshape(-1, f)).reshape(k, k, c, f)


def gw_einsum(xp, g, k):
    return np.einsum("nhwijc,nhwf->ijcf", windows(xp, k, g.shape[1], g.shape[2]), g)


def gw_tensordot(xp, g, k):
    return np.tensordot(windows(xp, k, g.shape[1], g.shape[2]), g, axes=([0, 1, 2], [0, 1, 2]))


def gw_shift_matmul(xp, g, k):
    n, rows, cols, f = g.shape
    c = xp.shape[3]
    g2 = g.reshape(-1, f)
    out = np.empty((k, k, c, f), dtype=g.dtype)
    for i in range(k):
        for j in range(k):
            out[i, j] = np.ascontiguousarray(xp[:, i:i + rows, j:j + cols, :]).reshape(-1, c).T @ g2
    return out


def gw_axpy(xp, g, k):
    """tinycnn's browser path: the windows of :func:`wide_columns` copied back into rows
    (N*rows*cols, C*k*k), then an einsum whose inner loop runs along a window's row. (tinycnn
    keeps the im2col matrix from the forward pass; here it is built in the timing, as for the
    other formulations.)"""
    n, rows, cols, f = g.shape
    c = xp.shape[3]
    columns = wide_columns(xp, k, rows, cols).reshape(-1, rows, n, cols)
    windows_rows = np.ascontiguousarray(columns.transpose(2, 1, 3, 0)).reshape(-1, c * k * k)
    grad_t = np.einsum("pf,pk->fk", g.reshape(-1, f), windows_rows)  # (F, C*k*k), (c, i, j) order
    return np.ascontiguousarray(grad_t.reshape(f, c, k, k).transpose(2, 3, 1, 0))


# ----------------------------------------------------------------------------- grad input
def gx_col2im(g, w, padded_shape, product):
    """col2im: one product with the whole kernel, then every (i, j) slice added into place."""
    k, _, c, f = w.shape
    n, rows, cols, _ = g.shape
    cols_grad = product(g.reshape(-1, f), w.reshape(-1, f).T).reshape(n, rows, cols, k, k, c)
    out = np.zeros(padded_shape, dtype=g.dtype)
    for i in range(k):
        for j in range(k):
            out[:, i:i + rows, j:j + cols, :] += cols_grad[:, :, :, i, j, :]
    return out


def gx_shift(g, w, padded_shape, product):
    """shift: one product per kernel position (i, j), added into place."""
    k, _, c, f = w.shape
    n, rows, cols, _ = g.shape
    g2 = g.reshape(-1, f)
    out = np.zeros(padded_shape, dtype=g.dtype)
    for i in range(k):
        for j in range(k):
            out[:, i:i + rows, j:j + cols, :] += product(g2, w[i, j].T).reshape(n, rows, cols, c)
    return out


def gx_col2im_matmul(g, w, padded_shape):
    return gx_col2im(g, w, padded_shape, np.matmul)


def gx_rows_axpy(g, w, padded_shape):
    """tinycnn's browser path: one einsum per kernel row over the transposed width windows of
    the gradient (kw*F, rows*N*cols), the long axis innermost, computed only for the input's
    own cells (returns (N, H, W, C), not the padded shape)."""
    k, _, c, f = w.shape
    n, rows, cols, _ = g.shape
    pad = (padded_shape[2] - cols) // 2
    spaced = np.zeros((f, rows, n, cols + 2 * (k - 1)), dtype=g.dtype)
    spaced[:, :, :, k - 1:k - 1 + cols] = g.transpose(3, 1, 0, 2)
    s = spaced.strides
    rows_t = as_strided(spaced[..., pad:], shape=(k, f, rows, n, cols), strides=(s[3], s[0], s[1], s[2], s[3]))
    rows_t = np.ascontiguousarray(rows_t).reshape(k * f, rows, n * cols)
    reversed_rows = np.ascontiguousarray(w[:, ::-1].transpose(0, 2, 1, 3)).reshape(k, c, k * f)
    out = np.zeros((c, rows, n, cols), dtype=g.dtype)
    for i in range(k):
        first, last = max(0, pad - i), min(rows, rows + pad - i)  # rows landing on real input rows
        share = np.einsum("ck,kq->cq", reversed_rows[i], rows_t[:, first:last].reshape(k * f, -1))
        out[:, first + i - pad:last + i - pad] += share.reshape(c, last - first, n, cols)
    return out.transpose(2, 1, 3, 0)


def gx_full_conv_einsum(g, w, padded_shape):
    """Gradient of the input as a 'full' convolution of the gradient with the flipped kernel."""
    k = w.shape[0]
    n, rows, cols, f = g.shape
    gp = np.zeros((n, rows + 2 * (k - 1), cols + 2 * (k - 1), f), dtype=g.dtype)
    gp[:, k - 1:k - 1 + rows, k - 1:k - 1 + cols, :] = g
    flipped = w[::-1, ::-1].transpose(0, 1, 3, 2)  # (k, k, F, C)
    return np.einsum("nhwijf,ijfc->nhwc", windows(gp, k, padded_shape[1], padded_shape[2]), flipped)


FORWARD = {"im2col+matmul": fwd_im2col_matmul, "im2col+dot": fwd_im2col_dot, "einsum": fwd_einsum, "einsum(optimize)": fwd_einsum_optimize,
           "tensordot": fwd_tensordot, "shift+matmul": fwd_shift_matmul, "axpy (tinycnn)": fwd_axpy}
GRAD_KERNEL = {"im2col+matmul": gw_im2col_matmul, "im2col+dot": gw_im2col_dot, "einsum": gw_einsum, "tensordot": gw_tensordot,
               "shift+matmul": gw_shift_matmul, "axpy (tinycnn)": gw_axpy}
GRAD_INPUT = {"col2im+matmul": gx_col2im_matmul,
              "col2im+dot": lambda g, w, shape: gx_col2im(g, w, shape, np.dot),
              "shift+matmul": lambda g, w, shape: gx_shift(g, w, shape, np.matmul),
              "shift+dot": lambda g, w, shape: gx_shift(g, w, shape, np.dot),
              "full-conv einsum": gx_full_conv_einsum, "axpy (tinycnn)": gx_rows_axpy}


def _interleaved_medians(calls, repeats):
    """Median milliseconds of each call; the calls take turns in every repeat (so a slow patch of
    a shared machine hits them all alike)."""
    times = {label: [] for label in calls}
    for _ in range(repeats):
        for label, call in calls.items():
            start = time.perf_counter()
            call()
            times[label].append((time.perf_counter() - start) * 1000.0)
    return {label: sorted(values)[len(values) // 2] for label, values in times.items()}


def run_kernels(repeats=9):
    rng = np.random.RandomState(0)
    report = {}
    for name, (n, rows, cols, c, f, k) in LAYERS.items():
        pad = k // 2
        x = rng.standard_normal((n, rows, cols, c)).astype(np.float32)
        xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant")
        w = (rng.standard_normal((k, k, c, f)) * 0.1).astype(np.float32)
        g = rng.standard_normal((n, rows, cols, f)).astype(np.float32)
        layer = {}
        reference = fwd_im2col_matmul(xp, w, rows, cols)
        for label, fn in FORWARD.items():
            assert np.allclose(fn(xp, w, rows, cols), reference, atol=1e-3), label
        layer["forward"] = _interleaved_medians(
            {label: (lambda fn=fn: fn(xp, w, rows, cols)) for label, fn in FORWARD.items()}, repeats)
        reference = gw_im2col_matmul(xp, g, k)
        for label, fn in GRAD_KERNEL.items():
            assert np.allclose(fn(xp, g, k), reference, atol=1e-2), label
        layer["grad_kernel"] = _interleaved_medians(
            {label: (lambda fn=fn: fn(xp, g, k)) for label, fn in GRAD_KERNEL.items()}, repeats)
        reference = gx_col2im_matmul(g, w, xp.shape)[:, pad:pad + rows, pad:pad + cols]
        for label, fn in GRAD_INPUT.items():
            result = fn(g, w, xp.shape)
            if result.shape != reference.shape:  # a padded gradient: compare the input's own cells
                result = result[:, pad:pad + rows, pad:pad + cols]
            assert np.allclose(result, reference, atol=1e-3), label
        layer["grad_input"] = _interleaved_medians(
            {label: (lambda fn=fn: fn(g, w, xp.shape)) for label, fn in GRAD_INPUT.items()}, repeats)
        report[name] = layer
    return report


if __name__ == "__main__":
    import json
    print(json.dumps(run_kernels(), indent=1))
