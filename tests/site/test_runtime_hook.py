"""The site's in-page runtime files: what docs/hooks/runtime.py ships, checked against the sources.

Oracles: the checkout's tinycnn version and sources, scikit-learn's digits, Pyodide's own
packages.json (dependencies) and the files on disk.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinycnn

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.site


def test_manifest_and_files_match(built_site):
    manifest = json.loads((built_site / "assets" / "tinycnn" / "runtime.json").read_text())
    assert manifest["tinycnn"] == tinycnn.__version__
    wheel = built_site / manifest["wheel"]
    assert wheel.stat().st_size == manifest["wheelSize"]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        # the wheel holds this checkout's package, file for file
        sources = {path.relative_to(ROOT).as_posix() for path in (ROOT / "tinycnn").rglob("*.py")
                   if "__pycache__" not in path.parts}
        assert sources <= names
        init = archive.read("tinycnn/__init__.py").decode()
    assert init == (ROOT / "tinycnn" / "__init__.py").read_text()
    for key in ("cellrunner", "worker"):  # the page runs the very files of the checkout
        assert (built_site / manifest[key]).read_text() == (ROOT / "docs" / "hooks" / (key + ".py")).read_text()


def test_only_the_needed_pyodide_files_are_shipped(built_site, hook, npm_fetch):
    hook = hook("runtime")
    manifest = json.loads((built_site / "assets" / "tinycnn" / "runtime.json").read_text())
    assert manifest["runtime"]["kind"] == "self-hosted"
    folder = built_site / manifest["runtime"]["indexURL"]
    index = json.loads((npm_fetch(hook.PYODIDE_SPEC) / "dist" / "packages.json").read_text())
    wanted = {"numpy"} | {item["name"] for item in manifest["packages"]}
    closure = set()
    todo = list(wanted)
    while todo:
        name = todo.pop()
        if name not in closure:
            closure.add(name)
            todo.extend(index["dependencies"][name])
    expected = set(hook.PYODIDE_CORE) | {"packages.json"} | {
        name + suffix for name in closure for suffix in (".js", ".data")}
    shipped = {path.name for path in folder.iterdir()}
    assert shipped == expected
    assert "scipy.data" not in shipped and "scikit-learn.data" not in shipped
    sizes = manifest["runtime"]["sizes"]
    assert sizes["runtime"] == sum((folder / name).stat().st_size for name in hook.PYODIDE_CORE)
    assert sizes["numpy"] == sum((folder / ("numpy" + s)).stat().st_size for s in (".js", ".data"))
    listed = json.loads((folder / "packages.json").read_text())
    assert set(listed["dependencies"]) == closure


@pytest.mark.sklearn
def test_digits_file_holds_scikit_learns_digits_for_load_digits(built_site):
    from sklearn.datasets import load_digits as sk_load_digits

    from tinycnn.datasets import load_digits

    digits = sk_load_digits()
    path = built_site / "assets" / "data" / "digits.npz"
    with np.load(path) as data:
        raw, labels = data["x"], data["y"]
    # save_digits_npz's compact form: the raw counts 0..16 and the labels, exactly
    np.testing.assert_array_equal(raw, digits.images)
    np.testing.assert_array_equal(labels, digits.target)
    assert path.stat().st_size < 60_000
    # what the page's load_digits() gives: channels-last float32 in [0, 1]
    x, y = load_digits(path)
    assert x.dtype == np.float32 and x.shape == (1797, 8, 8, 1) and x.max() == 1.0
    np.testing.assert_array_equal(x[..., 0] * 16.0, digits.images)
    np.testing.assert_array_equal(y, digits.target)


def test_python_cells_and_package_patterns(hook):
    hook = hook("runtime")
    text = ("```python\nimport matplotlib.pyplot as plt\n```\n\n```python norun\nimport PIL\n```\n"
            "~~~python\nx = load_img('a.png')\n~~~\n```text\nimport PIL\n```\n")
    cells = list(hook.python_cells(text))
    assert cells == ["import matplotlib.pyplot as plt", "x = load_img('a.png')"]
    assert hook.needed_packages(cells) == ["matplotlib", "pillow"]
    assert hook.needed_packages(["import numpy as np"]) == []


def test_runtime_setting_url_and_errors(tmp_path, hook):
    hook = hook("runtime")
    assert hook.runtime_setting({}) == "self-hosted"
    url = "https://cdn.jsdelivr.net/pyodide/v0.27.2/full/"
    assert hook.runtime_setting({"extra": {"tinycnn": {"runtime": url}}}) == url
    with pytest.raises(ValueError, match="must be 'self-hosted' or the base URL"):
        hook.runtime_setting({"extra": {"tinycnn": {"runtime": "pyodide-latest"}}})
    # A URL runtime ships no Pyodide files and points the page at the URL.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.md").write_text("```python\nprint(1)\n```\n")
    site = tmp_path / "site"
    hook.on_post_build({"site_dir": str(site), "docs_dir": str(docs), "extra": {"tinycnn": {"runtime": url}}})
    manifest = json.loads((site / "assets" / "tinycnn" / "runtime.json").read_text())
    assert manifest["runtime"] == {"kind": "url", "indexURL": url, "source": url, "sizes": {}}
    assert manifest["packages"] == []
    assert not (site / "assets" / "pyodide").exists()
