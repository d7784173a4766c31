"""The reader's own image and own photos (own-images.js, own-photos.js), in Debian's Chromium.

Images are made here with Pillow (PNG and JPEG bytes) and handed to the file inputs; nothing is
fetched. Oracles: the sizes the page says it downsized to, NumPy's vertical-edge map of the same
half-black, half-white image (one column of edges), the labels of the generated photos.
"""
from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from PIL import Image, ImageDraw

from .pages import open_page, wait_status

pytestmark = [pytest.mark.browser, pytest.mark.image]

CONV = "#convolution-demo"
PHOTOS = "#own-photos-demo"
SHOTS = os.environ.get("TINYCNN_SCREENSHOTS")


def _encode(image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, quality=90) if fmt == "JPEG" else image.save(buffer, format=fmt)
    return buffer.getvalue()


def _file(name: str, data: bytes, mime: str = "image/png") -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


def _open_demo(new_page, site_url: str, path: str, demo: str):
    """Open the page, point at the demo (the reader's intent: Python loads) and wait (generously:
    Pyodide boots first) until the demo has computed."""
    recorded = open_page(new_page, site_url, path, use=demo)
    wait_status(recorded.page, demo, timeout=300_000)
    return recorded, recorded.page


def _status_after(page, demo: str, kind: str, timeout: float = 60_000) -> str:
    page.wait_for_function(
        """([sel, kind]) => { const s = document.querySelector(sel + ' .tcd-status');
                              return s && s.dataset.kind === kind; }""", arg=[demo, kind], timeout=timeout)
    return page.inner_text(demo + " .tcd-status")


def test_explorer_runs_on_the_readers_image(new_page, site_url):
    recorded, page = _open_demo(new_page, site_url, "convolution/", CONV)
    half = Image.new("RGB", (120, 90), "white")
    ImageDraw.Draw(half).rectangle([0, 0, 59, 89], fill="black")      # left half black
    page.set_input_files(CONV + " input[type=file]", _file("half.png", _encode(half)))
    page.wait_for_function("() => document.querySelector('#convolution-demo select').value === 'own'")
    wait_status(page, CONV)
    assert "input 64×64" in page.inner_text(CONV)
    assert "feature map 62×62" in page.inner_text(CONV)
    # the centre-cropped 90x90 square, scaled to 64x64: black on the left of column ~32, white on the right
    output = page.evaluate("""() => { const c = document.querySelector('#convolution-demo .tcd-view canvas');
                                      return c ? [c.width, c.height] : null; }""")
    assert output == [64, 64]
    assert recorded.foreign_requests() == []       # the image was not uploaded anywhere
    assert not [m for m in recorded.console if m.startswith('pageerror')]


def test_explorer_rejects_bad_files_with_a_message(new_page, site_url):
    recorded, page = _open_demo(new_page, site_url, "convolution/", CONV)
    picker = CONV + " input[type=file]"
    page.set_input_files(picker, _file("notes.png", b"this is text, not a picture\n" * 10))
    assert "could not be read as an image" in _status_after(page, CONV, "error")
    page.set_input_files(picker, _file("empty.png", b""))
    assert "is empty" in _status_after(page, CONV, "error")
    page.set_input_files(picker, _file("big.png", b"\x89PNG" + bytes(26 * 1024 * 1024)))
    assert "too large (26.0 MB)" in _status_after(page, CONV, "error")
    huge = _encode(Image.new("L", (8000, 6000), 128))                   # 48 megapixels, a small file
    page.set_input_files(picker, _file("huge.png", huge))
    page.wait_for_function("() => /megapixels/.test(document.querySelector('#convolution-demo .tcd-status').textContent)")
    assert "48.0 megapixels" in page.inner_text(CONV + " .tcd-status")
    page.set_input_files(picker, _file("readme.txt", b"hello", "text/plain"))
    assert "is not an image" in _status_after(page, CONV, "error")
    assert page.eval_on_selector(CONV + " select", "s => s.value") == "article"   # nothing half-applied
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "conv-own-bad-1280.png"), full_page=False)
    assert recorded.foreign_requests() == []       # no photo left the page
    assert not [m for m in recorded.console if m.startswith('pageerror')]


def test_the_photograph_cell_takes_the_readers_image_as_my_image(new_page, site_url):
    """The control above the "edges in a real photograph" cell: the image becomes `my_image`
    (grey, at most 250 px on its longer side, in [0, 1]) and the cell below runs on it."""
    recorded = open_page(new_page, site_url, "convolution/", use="[data-own-image]")
    page = recorded.page
    control = "[data-own-image='my_image']"
    half = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(half).rectangle([0, 0, 199, 199], fill="black")    # left half black
    page.set_input_files(control + " input[type=file]", _file("wide.png", _encode(half)))
    text = _status_after(page, control, "ok", timeout=300_000)
    assert "my_image, 125×250 grey pixels" in text
    out = page.evaluate("tinycnnSite.run('print(my_image.shape, my_image[:, :120].max(), my_image[:, 130:].min())')")
    assert out["error"] is None and out["stdout"].split() == ["(125,", "250)", "0.0", "1.0"]
    # the cell below the control uses it (run with the cells above it, as "Run all" would)
    index = page.evaluate("""(sel) => { const control = document.querySelector(sel);
        return [...document.querySelectorAll('.tc-cell[data-runnable]')].findIndex((cell) =>
            control.compareDocumentPosition(cell) & Node.DOCUMENT_POSITION_FOLLOWING); }""", control)
    outputs = page.evaluate("(i) => tinycnnSite.runAll({through: i})", index)
    assert len(outputs) == index + 1 and all(output["error"] is None for output in outputs), outputs[-1]
    out = page.evaluate("tinycnnSite.run('print(vertical.shape, sorted(set(np.nonzero(np.abs(vertical) > 0.5)[1].tolist())))')")
    ideal = np.hstack([np.zeros((125, 125)), np.ones((125, 125))])  # the picture, scaled without blur
    kernel = np.array([[1, 0, -1]] * 3, dtype=float)
    expected = np.array([[(ideal[r:r + 3, c:c + 3] * kernel).sum() for c in range(248)] for r in range(123)])
    columns = sorted(set(np.nonzero(np.abs(expected) > 0.5)[1].tolist()))      # [123, 124]
    assert out["error"] is None, out
    shape, found = out["stdout"].strip().split(") ")
    assert shape + ")" == "(123, 248)"
    found = json.loads(found)
    # the browser's scaling may soften the edge by a pixel: the same edge, no other
    assert set(columns) <= set(found) <= set(range(columns[0] - 2, columns[-1] + 3)), (found, columns)
    assert recorded.foreign_requests() == []
    assert not [m for m in recorded.console if m.startswith('pageerror')]


def test_draw_a_digit_takes_an_image_of_a_digit(new_page, site_url):
    """A photo-like image of a digit (dark ink on light paper, not square): a thick bar is a 1, a
    ring is a 0 (the labels are the oracle, as for drawing); flat or foreign files are refused."""
    demo = "#draw-digit-demo"
    recorded = open_page(new_page, site_url, "training/", use=demo)
    page = recorded.page
    picker = demo + " input[type=file][accept='image/*']"
    page.wait_for_selector(picker, state="attached")
    one = Image.new("RGB", (300, 240), (235, 232, 225))
    ImageDraw.Draw(one).rectangle([140, 30, 165, 210], fill=(20, 20, 30))
    zero = Image.new("RGB", (240, 300), (235, 232, 225))
    ImageDraw.Draw(zero).ellipse([50, 40, 190, 260], outline=(20, 20, 30), width=24)
    for label, image in (("1", one), ("0", zero)):
        page.set_input_files(picker, _file("digit-%s.jpg" % label, _encode(image, "JPEG"), "image/jpeg"))
        page.wait_for_function("([sel, name]) => (document.querySelector(sel + ' .tcd-status').textContent || '')"
                               ".includes(name) && document.querySelector(sel).dataset.prediction !== undefined",
                               arg=[demo, "digit-%s.jpg" % label], timeout=300_000)
        wait_status(page, demo)
        assert page.get_attribute(demo, "data-prediction") == label
    page.set_input_files(picker, _file("blank.png", _encode(Image.new("L", (64, 64), 200))))
    assert "almost one flat colour" in _status_after(page, demo, "error")
    page.set_input_files(picker, _file("notes.txt", b"seven", "text/plain"))
    assert "is not an image" in _status_after(page, demo, "error")
    assert recorded.foreign_requests() == []
    assert not [m for m in recorded.console if m.startswith('pageerror')]


def _photo(kind: str, rng) -> bytes:
    """A round warm blob or a long cool bar on a random background, of a random size (JPEG)."""
    w, h = int(rng.randint(48, 160)), int(rng.randint(48, 160))
    background = tuple(int(v) for v in rng.randint(70, 190, size=3))
    image = Image.new("RGB", (w, h), background)
    draw = ImageDraw.Draw(image)
    s = min(w, h)
    cx, cy = w / 2 + rng.uniform(-0.1, 0.1) * s, h / 2 + rng.uniform(-0.1, 0.1) * s
    if kind == "blob":
        r = rng.uniform(0.2, 0.35) * s
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(240, 120, 30))
    else:
        half = rng.uniform(0.05, 0.1) * s
        draw.rectangle([cx - half, cy - 0.45 * s, cx + half, cy + 0.45 * s], fill=(30, 90, 240))
    return _encode(image, "JPEG")


def test_own_photos_train_in_the_page_and_classify_a_new_photo(new_page, site_url):
    recorded = new_page(viewport={"width": 1280, "height": 1000})
    page = recorded.page
    page.goto(site_url + "keras-program/")
    page.wait_for_selector(PHOTOS + " button")
    rng = np.random.RandomState(0)
    train = page.locator(PHOTOS + " button", has_text="Train")
    # bad inputs first
    train.click()
    assert "Pick photos for both classes" in _status_after(page, PHOTOS, "error")
    blobs = [_file(f"blob{i}.jpg", _photo("blob", rng), "image/jpeg") for i in range(20)]
    bars = [_file(f"bar{i}.jpg", _photo("bar", rng), "image/jpeg") for i in range(20)]
    page.set_input_files(PHOTOS + " input[data-photos-class='0']", blobs[:3])
    page.wait_for_function("() => /3 photo/.test(document.querySelector('[data-class-count=\"0\"]').textContent)")
    train.click()
    assert "Only one class has photos" in _status_after(page, PHOTOS, "error")
    page.set_input_files(PHOTOS + " input[data-photos-class='1']", bars)
    page.wait_for_function("() => /20 photo/.test(document.querySelector('[data-class-count=\"1\"]').textContent)")
    train.click()
    assert 'has only 3 photo(s): pick at least 5' in _status_after(page, PHOTOS, "error")
    page.set_input_files(PHOTOS + " input[data-photos-class='0']",
                         blobs + [_file("broken.jpg", b"not a jpeg", "image/jpeg")])
    assert "could not be read" in _status_after(page, PHOTOS, "error")
    assert "20 photo(s) ready; 1 could not be read: broken.jpg" in page.inner_text("[data-class-count='0']")
    page.fill(PHOTOS + " input[type=text] >> nth=0", "blob")
    page.fill(PHOTOS + " input[type=text] >> nth=1", "bar")
    # train
    train.click()
    page.wait_for_function("() => document.querySelector('#own-photos-demo').dataset.valAccuracy !== undefined",
                           timeout=600_000)
    accuracy = float(page.get_attribute(PHOTOS, "data-val-accuracy"))
    seconds = float(page.get_attribute(PHOTOS, "data-seconds"))
    print(f"own photos: validation accuracy {accuracy}, trained in {seconds} s")
    assert accuracy >= 0.75            # 8 held-out photos; chance is 0.5
    assert "validation accuracy" in page.inner_text(PHOTOS + " .tcd-status")
    # a new photo of each kind
    right = 0
    for kind in ("blob", "bar", "blob", "bar"):
        page.set_input_files(PHOTOS + " input[data-photos-try]", _file(f"new-{kind}.jpg", _photo(kind, rng), "image/jpeg"))
        page.wait_for_function("(k) => (document.querySelector('#own-photos-demo .tcd-status').textContent || '')"
                               ".includes('new-' + k)", arg=kind)
        right += page.get_attribute(PHOTOS, "data-prediction") == kind
        assert "probability" in page.inner_text(PHOTOS + " .tcd-status")
    assert right >= 3, right
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "own-photos-1280.png"), full_page=False)
    assert recorded.foreign_requests() == []       # no photo left the page
    assert not [m for m in recorded.console if m.startswith('pageerror')]
