"""Where tinycnn runs, and which formulation of the convolution is fastest there.

Natively NumPy calls an optimised BLAS, so one big matrix product (``im2col @ kernel``) wins.
In the browser (Pyodide, ``sys.platform == "emscripten"``) NumPy has no BLAS: every matrix
product is NumPy's own scalar loop, and which loop runs matters more than anything else.
Measured in Pyodide 0.17 (NumPy 1.17.5, see ``scripts/bench_kernels_code.py``): a dot-product
loop (one long sum per output number, the form ``@``/``np.dot`` take) does ~1 multiply-add per
nanosecond, while ``np.einsum`` written so that its innermost loop is ``out_row += a * row``
over a *long contiguous* row (an "axpy") does ~2. So the browser formulation arranges every
product with the long axis (the ``N*Ho*Wo`` output cells) innermost and contiguous.

``CONV_STRATEGY`` (in :mod:`tinycnn.functional.convolution`) starts from :data:`IN_BROWSER`;
the tests flip it to check both formulations against PyTorch natively. With ``"axpy"``,
``Sequential.predict`` also keeps whole conv -> ReLU -> max-pool stretches in one layout
(:mod:`tinycnn.browser_inference`, :mod:`tinycnn.functional.wide_rows`).
"""
from __future__ import annotations

import sys

IN_BROWSER = sys.platform == "emscripten"  # Pyodide (WebAssembly) reports "emscripten"
