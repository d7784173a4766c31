"""Where tinycnn runs, and so which formulation of the convolution is fastest there.

Natively NumPy calls an optimised BLAS, so one big matrix product (``im2col @ kernel``) wins:
:mod:`tinycnn.fast.im2col`. In the browser (Pyodide, ``sys.platform == "emscripten"``) NumPy has
no BLAS: every matrix product is NumPy's own scalar loop, and which loop runs matters more than
anything else. Measured in Pyodide 0.17 (NumPy 1.17.5, see ``scripts/bench_kernels_code.py``): a
dot-product loop (one long sum per output number, the form ``@``/``np.dot`` take) does ~1
multiply-add per nanosecond, while ``np.einsum`` written so that its innermost loop is
``out_row += a * row`` over a *long contiguous* row (an "axpy") does ~2. So the browser
formulation, :mod:`tinycnn.fast.axpy`, arranges every product with the long axis (the
``N*Ho*Wo`` output cells) innermost and contiguous.

:data:`tinycnn.fast.CONV_STRATEGY` starts from :data:`DEFAULT_STRATEGY`; the tests flip it to
check both formulations against the reference natively. With ``"axpy"``, ``Sequential.predict``
also keeps whole conv -> ReLU -> max-pool stretches in one layout
(:mod:`tinycnn.fast.browser_inference`, :mod:`tinycnn.fast.wide_rows`).
"""
from __future__ import annotations

import sys
from typing import Optional

import numpy as np

IN_BROWSER = sys.platform == "emscripten"  # Pyodide (WebAssembly) reports "emscripten"

#: ``"blas"`` natively, ``"axpy"`` in the browser (NumPy without BLAS).
DEFAULT_STRATEGY = "axpy" if IN_BROWSER else "blas"


def keep_where(mask: np.ndarray, values: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
    """``values`` where ``mask`` is True, else exactly 0 (also where ``values`` is inf or NaN,
    as PyTorch's ReLU and max-pooling gradients are): written to ``out`` when given.

    Measured (200,000 float32): in Pyodide's NumPy ``np.where`` is ~4x faster than a product
    with the booleans; natively (NumPy 2) the product is ~15x faster than ``np.where``, so it
    is used there, with the rare non-finite values mended afterwards.
    """
    zero = values.dtype.type(0)
    if IN_BROWSER:
        if out is None:
            return np.where(mask, values, zero)
        out[...] = np.where(mask, values, zero)
        return out
    with np.errstate(invalid="ignore"):  # inf * False: mended just below
        out = np.multiply(values, mask, out=out)
    if not np.isfinite(values).all():  # inf * False and NaN * False are NaN: make them 0
        np.copyto(out, zero, where=~mask)
    return out
