"""Whole-model files in the page (Pyodide 0.17: Python 3.8, NumPy 1.17.5) and carried home.

Oracles: the model that was saved (same predictions after loading, in the page), the rule that
damaged files are refused with a message naming them, and, for the dashboard's "Download model",
this machine's native tinycnn: the downloaded file opens with ``tinycnn.models.load_model`` and
classifies the page's held-out digits (the split is written out here from the page's rule: 20%
of ``tinycnn.datasets.load_digits``, permutation of ``RandomState(0)``) as well as the page said.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from .test_demos import _screenshot, _stroke  # the drawing and screenshot helpers

pytestmark = pytest.mark.browser

IN_PAGE = r'''
import io, json, sys
import numpy as np
import tinycnn
from tinycnn.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from tinycnn.models import Sequential, load_model
from tinycnn.saving import ModelFileError

tinycnn.utils.set_random_seed(0)
model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), MaxPooling2D(),
                    Dropout(0.1), Flatten(), Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
x = np.random.RandomState(1).rand(16, 8, 8, 1).astype("float32")
y = np.arange(16) % 10
model.fit(x, y, epochs=2, batch_size=8, verbose=0)
buffer = io.BytesIO()
model.save(buffer, metadata={"where": "pyodide"})
raw = buffer.getvalue()
again = load_model(io.BytesIO(raw))
refused = {}
for name, data in {"truncated": raw[: len(raw) // 2], "not_a_zip": b"hello", "empty": b""}.items():
    stream = io.BytesIO(data)
    stream.name = name + ".npz"
    try:
        load_model(stream)
        refused[name] = None
    except ModelFileError as error:
        refused[name] = str(error)
print(json.dumps({
    "python": list(sys.version_info[:2]), "numpy": np.__version__,
    "same": bool(np.array_equal(again.predict(x), model.predict(x))),
    "iterations": [model.optimizer.iterations, again.optimizer.iterations],
    "metadata": again.metadata, "layers": [type(layer).__name__ for layer in again.layers],
    "refused": refused, "bytes": len(raw)}))
'''


def test_save_and_load_model_in_pyodide(new_page, site_url):
    recorded = new_page()
    page = recorded.page
    page.goto(site_url + "api/")
    page.wait_for_function("window.tinycnnSite !== undefined")
    page.evaluate("tinycnnSite.ready()")
    out = page.evaluate("(code) => tinycnnSite.run(code)", IN_PAGE)
    assert out["error"] is None, out["error"]
    result = json.loads(out["stdout"].strip().splitlines()[-1])
    assert result["python"] == [3, 8] and result["numpy"] == "1.17.5"   # Pyodide 0.17's pair
    assert result["same"] and result["iterations"] == [4, 4]
    assert result["metadata"] == {"where": "pyodide"}
    assert result["layers"] == ["Conv2D", "MaxPooling2D", "Dropout", "Flatten", "Dense"]
    for name, message in result["refused"].items():
        assert message and (name + ".npz") in message, (name, message)
    assert recorded.foreign_requests() == []


def _held_out_digits():
    from tinycnn.datasets import load_digits

    x, y = load_digits()
    order = np.random.RandomState(0).permutation(len(x))
    held_out = order[:int(round(0.2 * len(x)))]
    return x[held_out], y[held_out]


@pytest.mark.parametrize("width", [1280, 390])
def test_dashboard_download_opens_natively_and_draw_a_digit_uses_it(new_page, site_url, tmp_path, width):
    from tinycnn.models import load_model

    recorded = new_page(viewport={"width": width, "height": 1000})
    page = recorded.page
    page.emulate_media(color_scheme="light" if width > 400 else "dark")
    page.goto(site_url + "training/")
    demo = "#training-demo"
    page.wait_for_function("window.tinycnnSite !== undefined")
    page.evaluate("tinycnnSite.ready()")
    assert page.is_disabled(demo + " .tcd-download")               # nothing trained yet
    page.fill(demo + " input[type='number']", "3")                 # a short run
    page.click(demo + " .tcd-train")
    page.wait_for_selector(demo + "[data-test-accuracy]", timeout=180_000)
    said = float(page.get_attribute(demo, "data-test-accuracy"))
    shown = page.inner_text(demo + " .tcd-final")
    assert "Held-out accuracy: %.1f%%" % (100 * said) in shown
    assert page.is_enabled(demo + " .tcd-download")

    with page.expect_download() as info:
        page.click(demo + " .tcd-download")
    download = info.value
    assert download.suggested_filename == "tinycnn-digits-model.npz"
    path = tmp_path / download.suggested_filename
    download.save_as(str(path))
    page.wait_for_selector(demo + "[data-downloaded]")

    model = load_model(path)                 # natively, with this machine's NumPy
    x_test, y_test = _held_out_digits()
    assert len(x_test) == 359
    accuracy = float(np.mean(model.predict(x_test).argmax(axis=1) == y_test))
    print("dashboard model: the page said %.4f, natively %.4f" % (said, accuracy))
    assert abs(accuracy - said) <= 1 / 359 + 1e-9   # at most one digit apart (float32 rounding)
    assert abs(accuracy - float(shown.split("accuracy: ")[1].split("%")[0]) / 100) <= 0.0005 + 1 / 359
    assert model.metadata["test_accuracy"] == pytest.approx(said, abs=1e-4)
    assert model.metadata["epochs"] == 3 and model.optimizer.iterations == 3 * 45
    _screenshot(recorded, demo, "dashboard-download-%d" % width)

    # "Use my model": a bad file first (a clear message naming it), then the downloaded one
    draw = "#draw-digit-demo"
    page.locator(draw).scroll_into_view_if_needed()
    page.set_input_files(draw + " input[type='file']", files=[
        {"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff not a model"}])
    page.wait_for_function(
        "document.querySelector('#draw-digit-demo .tcd-status').dataset.kind === 'error'")
    message = page.inner_text(draw + " .tcd-status")
    assert "holiday.jpg" in message and "not a zip" in message, message
    assert page.is_disabled(draw + " input[value='user']")
    page.set_input_files(draw + " input[type='file']", str(path))
    page.wait_for_selector(draw + "[data-user-model='tinycnn-digits-model.npz']")
    assert page.is_checked(draw + " input[value='user']")
    assert "%.1f%%" % (100 * said) in page.inner_text(draw + " .tcd-status")
    _stroke(page, [(0.5, 0.12), (0.5, 0.88)])                     # a one
    page.wait_for_selector(draw + "[data-probabilities]")
    page.wait_for_function(
        "document.querySelector('#draw-digit-demo .tcd-status').textContent.includes('your model')")
    probabilities = json.loads(page.get_attribute(draw, "data-probabilities"))
    assert abs(sum(probabilities) - 1) < 1e-3
    assert int(page.get_attribute(draw, "data-prediction")) == int(np.argmax(probabilities))
    texts = page.eval_on_selector_all(draw + " .tcd-bars > span:nth-child(3n)",
                                      "s => s.map(x => x.textContent)")
    assert len(texts) == 10 and all(t.endswith("%") and "." not in t for t in texts)
    assert "100%" not in texts and "T = " in page.inner_text(draw + " .tcd-confidence")
    _screenshot(recorded, draw, "draw-user-model-%d" % width)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, widths
    assert recorded.foreign_requests() == []
