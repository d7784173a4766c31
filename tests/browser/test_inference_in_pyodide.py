"""The browser's inference path, run where it is meant to run: Pyodide 0.17 (NumPy 1.17.5, wasm32).

``Sequential.predict`` in the page uses the "wide rows" layout and the integer-view ReLU /
max-pooling (tinycnn/fast/browser_inference.py). The weights and inputs are made here, the page
predicts with this checkout's tinycnn, and the result is compared with the same network written
in PyTorch ops natively.
"""
from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # tests/oracles.py: the PyTorch translation of a model

from oracles import torch_predict  # noqa: E402
from .test_data_in_pyodide import run_in_bare_pyodide  # noqa: E402

import tinycnn  # noqa: E402
from tinycnn.layers import Conv2D  # noqa: E402

IN_PAGE = r'''
import base64, io, json, sys, zipfile
zipfile.ZipFile(io.BytesIO(base64.b64decode(ZIP_B64))).extractall("/lib/tinycnn_checkout")
sys.path.insert(0, "/lib/tinycnn_checkout")
import numpy as np
import tinycnn
from tinycnn.fast import browser_inference, wide_rows
from tinycnn.layers import *  # the model specs below name the layers

assert browser_inference.applies()  # in Pyodide: the wide-rows path is the default
calls = []
original = wide_rows.conv2d
wide_rows.conv2d = lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs)
arrays = np.load(io.BytesIO(base64.b64decode(ARRAYS_B64)))
out, counts = {}, {}
for name, spec in json.loads(SPECS_JSON).items():
    model = tinycnn.Sequential(eval(spec))
    targets = [w for layer in model.layers for w in layer.weights]  # NaN too: no set_weights
    for i, target in enumerate(targets):
        target[...] = arrays["%s/w%d" % (name, i)]
    with np.errstate(all="ignore"):
        out[name] = model.predict(arrays[name + "/x"], batch_size=len(arrays[name + "/x"]))
    counts[name] = len(calls)
    calls.clear()
buffer = io.BytesIO()
np.savez(buffer, **out)
RESULT = json.dumps({"counts": counts, "npz": base64.b64encode(buffer.getvalue()).decode("ascii")})
'''

SPECS = {
    "lenet": ("[Conv2D(8, 5, padding='same', activation='relu', input_shape=(28, 28, 1)), "
              "MaxPooling2D(2), Conv2D(16, 5, padding='same', activation='relu'), MaxPooling2D(2), "
              "Flatten(), Dense(10, activation='softmax')]"),
    "valid, tanh, rectangular pool, stride 2": (
        "[Conv2D(4, 3, activation='tanh', input_shape=(11, 13, 3)), Conv2D(5, (2, 4), activation='relu'), "
        "MaxPooling2D((2, 3)), Conv2D(3, 2, strides=2), Flatten(), Dense(4, activation='sigmoid')]"),
    "nan and inf weights": ("[Conv2D(4, 3, padding='same', activation='relu', input_shape=(10, 10, 3)), "
                            "MaxPooling2D(2)]"),
}


def _cases():
    """name -> (layer spec source, weights, input x, the tinycnn model built natively)."""
    cases = {}
    tinycnn.utils.set_random_seed(7)
    rng = np.random.default_rng(8)
    for name, spec in SPECS.items():
        model = tinycnn.Sequential(eval(spec, vars(tinycnn.layers)))
        weights = [w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in model.get_weights()]
        if name == "nan and inf weights":
            weights[0][0, 0, 0, 1] = np.nan
            weights[0][1, 1, 1, 2] = -np.inf
        for target, source in zip([w for layer in model.layers for w in layer.weights], weights):
            target[...] = source  # set_weights refuses NaN, rightly; a diverged model has them
        x = rng.random((5,) + tuple(model.input_shape[1:])).astype(np.float32)
        cases[name] = (spec, weights, x, model)
    return cases


@pytest.mark.browser
@pytest.mark.torch
def test_predict_in_pyodide_matches_torch(serve, new_page, tmp_path):
    cases = _cases()
    arrays = {}
    for name, (_, weights, x, _) in cases.items():
        arrays.update({"%s/w%d" % (name, i): w for i, w in enumerate(weights)}, **{name + "/x": x})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    result, recorded = run_in_bare_pyodide(
        serve, new_page, tmp_path / "page", IN_PAGE, ["numpy"],
        {"SPECS_JSON": json.dumps(SPECS), "ARRAYS_B64": base64.b64encode(buffer.getvalue()).decode("ascii")})
    assert not result.startswith("ERROR"), result[-3000:]
    answer = json.loads(result)
    results = np.load(io.BytesIO(base64.b64decode(answer["npz"])))
    assert sorted(results.files) == sorted(cases)
    for name, (_, _, x, model) in cases.items():
        out = results[name]
        with np.errstate(all="ignore"):
            expected = torch_predict(model, x.astype(np.float64))
        stride_1 = sum(isinstance(layer, Conv2D) and layer.strides == (1, 1) for layer in model.layers)
        assert answer["counts"][name] == stride_1, name  # the wide-rows path really ran
        np.testing.assert_array_equal(np.isnan(out), np.isnan(expected), err_msg=name)
        np.testing.assert_allclose(out, expected, rtol=2e-6, atol=2e-6, err_msg=name)
    assert not recorded.foreign_requests(), recorded.foreign_requests()
