"""The data modules run in the browser's Python: Pyodide 0.17 (Python 3.8, NumPy 1.17.5, its own
Pillow) on wasm32, where ``np.intp`` is 32 bits (a native run cannot catch index-dtype slips).

Pyodide comes from the npm cache (``scripts/npm_fetch.py``), this checkout's ``tinycnn`` is
zipped into the page, and Debian's Chromium runs it headless; nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import base64
import importlib.util
import io
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

IN_PAGE = r'''
import base64, io, os, sys, zipfile
zipfile.ZipFile(io.BytesIO(base64.b64decode(ZIP_B64))).extractall("/lib/tinycnn_checkout")
sys.path.insert(0, "/lib/tinycnn_checkout")
import numpy as np
from tinycnn.datasets import load_digits, make_image_folder, make_shapes, read_idx, write_idx
from tinycnn.preprocessing import image_dataset_from_directory
from tinycnn.preprocessing.image import ImageDataGenerator

assert np.dtype(np.intp).itemsize == 4  # really wasm32

make_image_folder("/tmp/dataset", train_per_class=20, test_per_class=5, image_size=32)
train = ImageDataGenerator(rescale=1./255, shear_range=0.2, zoom_range=0.2,
                           horizontal_flip=True).flow_from_directory(
    "/tmp/dataset/training_set", target_size=(32, 32), batch_size=16, class_mode="binary",
    seed=0)
assert train.class_indices == {"cats": 0, "dogs": 1} and train.samples == 40
x, y = train[0]
assert x.shape == (16, 32, 32, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1.001
assert np.array_equal(train[0][0], x)  # same seed, same batch
for mode, shape in (("categorical", (5, 2)), ("sparse", (5,))):
    _, labels = ImageDataGenerator().flow_from_directory(
        "/tmp/dataset/test_set", target_size=(8, 8), batch_size=5, class_mode=mode)[0]
    assert labels.shape == shape, (mode, labels.shape)

grid = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
plain = ImageDataGenerator()
assert np.allclose(plain.apply_transform(grid, {"theta": 90}), np.rot90(grid), atol=1e-4)
assert np.array_equal(plain.apply_transform(grid, {"flip_horizontal": True}), grid[:, ::-1])
assert plain.apply_transform(grid, {"tx": 1})[0, :, 0].tolist() == [0, 0, 1, 2]
shapes, labels = make_shapes(12, seed=1)
flipped, same_labels = ImageDataGenerator(horizontal_flip=True).flow(
    shapes, labels, batch_size=12, shuffle=False, seed=2)[0]
assert np.array_equal(same_labels, labels)
assert all(np.array_equal(a, b) or np.array_equal(a, b[:, ::-1])
           for a, b in zip(flipped, shapes))

ds = image_dataset_from_directory("/tmp/dataset/test_set", image_size=(8, 8), batch_size=4)
assert [len(batch[0]) for batch in ds] == [4, 4, 2]

np.savez("/tmp/digits.npz", x=np.full((3, 8, 8), 16, np.uint8), y=np.array([1, 2, 3]))
os.environ["TINYCNN_DATA"] = "/tmp"
digits, digit_labels = load_digits()
assert digits.shape == (3, 8, 8, 1) and digits.max() == 1.0 and digit_labels.tolist() == [1, 2, 3]
write_idx("/tmp/a.idx.gz", np.arange(6, dtype=np.uint8).reshape(2, 3))
assert read_idx("/tmp/a.idx.gz").tolist() == [[0, 1, 2], [3, 4, 5]]
RESULT = "OK " + sys.version.split()[0] + " numpy " + np.__version__
'''


def _pyodide_dist() -> Path:
    spec = importlib.util.spec_from_file_location("npm_fetch", ROOT / "scripts" / "npm_fetch.py")
    npm_fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(npm_fetch)
    return npm_fetch.fetch("@pyodide/pyodide@0.17.1") / "dist"


def _zipped_package() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted((ROOT / "tinycnn").rglob("*.py")):
            archive.write(str(file), file.relative_to(ROOT).as_posix())
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def run_in_bare_pyodide(serve, new_page, folder: Path, code: str, packages, values=None):
    """Run ``code`` in a bare Pyodide 0.17 page with this checkout's tinycnn zipped in as the
    global ``ZIP_B64`` (plus ``values``, name -> string); returns (its ``RESULT`` or
    ``"ERROR ..."``, the RecordedPage)."""
    folder.mkdir()
    (folder / "index.html").write_text(
        '<!doctype html><script src="/pyodide/pyodide.js"></script>', encoding="utf-8")
    server = serve({"/pyodide/": _pyodide_dist(), "/": folder})
    recorded = new_page()
    recorded.page.goto(server.url)
    values = dict(values or {}, ZIP_B64=_zipped_package())
    result = recorded.page.evaluate(
        """async ([code, packages, values]) => {
            const pyodide = await loadPyodide({indexURL: '/pyodide/'});
            await pyodide.loadPackage(packages);
            for (const [name, value] of Object.entries(values)) pyodide.globals.set(name, value);
            try { await pyodide.runPythonAsync(code); }
            catch (error) { return 'ERROR ' + error; }
            return pyodide.globals.get('RESULT');
        }""", [code, list(packages), values])
    return result, recorded


@pytest.mark.browser
def test_datasets_and_preprocessing_run_in_pyodide(serve, new_page, tmp_path):
    result, recorded = run_in_bare_pyodide(serve, new_page, tmp_path / "page", IN_PAGE,
                                           ["numpy", "pillow"])
    assert result.startswith("OK 3.8"), result[-3000:]
    assert "numpy 1.17.5" in result
    assert recorded.requests and not recorded.foreign_requests(), recorded.foreign_requests()
