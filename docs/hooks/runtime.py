"""MkDocs hook: ship the in-page Python runtime (Pyodide + this checkout's tinycnn) with the site.

What it adds to the built site (``site/``)::

    assets/tinycnn/runtime.json        manifest read by docs/javascripts/runtime.js
    assets/tinycnn/cellrunner.py       docs/hooks/cellrunner.py, run by the page exactly as at build
    assets/tinycnn/worker.py           docs/hooks/worker.py, the Python half of tinycnn-worker.js
    assets/tinycnn/tinycnn-X-py3-none-any.whl   the wheel built from the checkout (python -m build)
    assets/data/digits.npz             scikit-learn's 8x8 digits, written by tinycnn.datasets.save_digits_npz,
                                       for tinycnn.datasets.load_digits() in the page
    assets/codemirror/...              the code editor (codemirror@5, from the npm registry)
    assets/data/grace_hopper.ppm.gz    matplotlib's sample photo, losslessly, for pages whose cells read it
                                       (Pyodide 0.17's Pillow cannot decode JPEG; see SAMPLE_PHOTO)
    assets/pyodide/...                 only with ``extra.tinycnn.runtime: self-hosted`` (the default):
                                       the Pyodide 0.17 core, NumPy and -- when a page's cells import
                                       it -- matplotlib with its dependencies, from the npm package
                                       ``@pyodide/pyodide@0.17.1``

Third-party files are fetched with ``common.npm_fetch`` into the cache (``$TINYCNN_CACHE``, default
``~/.cache/tinycnn``; never into the repository) and only the files the pages need are copied.

Settings (``common.SETTINGS``, documented in ``mkdocs.yml`` and CONTRIBUTING.md):
``extra.tinycnn.runtime`` is either ``self-hosted`` or the base URL of any Pyodide release (the
folder that holds ``pyodide.js``), e.g. ``https://cdn.jsdelivr.net/pyodide/v0.27.2/full/``.
``extra.tinycnn.bytecode_cache: false`` turns off the page's byte-code cache (on by default: the
page keeps the compiled Python of the runtime in IndexedDB, keyed by the manifest's ``wheelSha256``
and ``runtimeFingerprint``, so that a returning reader's Python starts faster; see
docs/javascripts/tinycnn-worker.js).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterable, List

import common
from common import HOOKS, ROOT

PYODIDE_SPEC = "@pyodide/pyodide@0.17.1"
CODEMIRROR_SPEC = "codemirror@5.65.16"

#: Pyodide 0.17 core files (relative to the package's ``dist/`` folder).
PYODIDE_CORE = ["pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "pyodide.asm.data"]

#: CodeMirror 5 files used by the cell editor.
CODEMIRROR_FILES = [
    "lib/codemirror.js",
    "lib/codemirror.css",
    "mode/python/python.js",
    "addon/edit/matchbrackets.js",
    "addon/comment/comment.js",
]

#: Extra Pyodide packages, shipped only when a runnable cell matches the pattern, and loaded in the
#: page before a cell that matches it runs. The patterns use the regex syntax common to Python and
#: JavaScript (matched with the multi-line flag). Pillow is needed by tinycnn's image-file helpers.
OPTIONAL_PACKAGES = {
    "matplotlib": r"^\s*(import|from)\s+matplotlib\b",
    "pillow": (r"^\s*(import|from)\s+PIL\b|\b(array_to_img|img_to_array|load_img|save_img|"
               r"image_dataset_from_directory|flow_from_directory|make_image_folder)\b"),
}

#: Pyodide 0.17's Pillow cannot decode JPEG ("image file is truncated"), so the page replaces
#: matplotlib's sample photo by a lossless PPM copy of the very same pixels (decoded at build time
#: by the build's Pillow). ``plt.imread`` gives the same uint8 array as at build time.
SAMPLE_PHOTO = "grace_hopper.jpg"

#: Python files the page runs, copied from docs/hooks/ into assets/tinycnn/ (manifest key: file).
PAGE_PYTHON = {"cellrunner": "cellrunner.py", "worker": "worker.py"}


def _log(message: str) -> None:
    common.log("runtime", message)


# ----------------------------------------------------------------------------------------------
# The wheel
# ----------------------------------------------------------------------------------------------
def _source_files() -> List[Path]:
    files = [ROOT / "pyproject.toml"]
    for name in ("README.md", "LICENSE", "setup.cfg", "setup.py", "MANIFEST.in"):
        if (ROOT / name).exists():
            files.append(ROOT / name)
    return files + common.source_files(ROOT / "tinycnn")


def build_wheel() -> Path:
    """Build the tinycnn wheel from the checkout (``python -m build --wheel``), cached by content.

    The sources are copied to a temporary folder first, so the build never writes ``build/`` or
    ``*.egg-info`` into the working tree.
    """
    files = _source_files()
    cache = common.cache_dir("wheels", common.hash_files(files).hexdigest()[:20])
    found = sorted(cache.glob("tinycnn-*.whl"))
    if found:
        return found[0]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        for path in files:
            target = source / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        out = Path(tmp) / "dist"
        proc = subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(source)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
        )
        wheels = sorted(out.glob("tinycnn-*.whl"))
        if proc.returncode != 0 or not wheels:
            raise RuntimeError("building the tinycnn wheel for the page failed:\n" + proc.stdout[-4000:])
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copy2(wheels[0], cache / wheels[0].name)
    _log("built " + wheels[0].name)
    return cache / wheels[0].name


def wheel_version(wheel: Path) -> str:
    """``tinycnn-0.1.0-py3-none-any.whl`` -> ``0.1.0``."""
    return wheel.name.split("-")[1]


# ----------------------------------------------------------------------------------------------
# Pyodide packages the pages need
# ----------------------------------------------------------------------------------------------
def python_cells(markdown: str) -> Iterable[str]:
    """Source of every runnable (```` ```python ````) cell in a Markdown text."""
    return [cell.source for cell in common.find_cells(markdown)]


def all_cells(docs_dir: Path) -> List[str]:
    """Source of every runnable cell of the site."""
    return [cell for page in sorted(docs_dir.rglob("*.md"))
            for cell in python_cells(page.read_text(encoding="utf-8"))]


def needed_packages(cells: List[str]) -> List[str]:
    """Pyodide packages (besides NumPy) that the runnable cells of the site need."""
    return sorted(name for name, pattern in OPTIONAL_PACKAGES.items()
                  if any(re.search(pattern, cell, re.M) for cell in cells))


def write_sample_photo(path: Path) -> int:
    """Write matplotlib's sample photo as gzip-compressed binary PPM (uint8 RGB, lossless)."""
    import gzip

    import numpy as np
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data(SAMPLE_PHOTO) as handle:
        pixels = np.asarray(Image.open(handle).convert("RGB"), dtype=np.uint8)
    rows, cols = pixels.shape[:2]
    ppm = b"P6\n%d %d\n255\n" % (cols, rows) + pixels.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(ppm, 9, mtime=0))
    return path.stat().st_size


def _with_dependencies(names: Iterable[str], dependencies: Dict[str, List[str]]) -> List[str]:
    result: List[str] = []

    def add(name: str) -> None:
        if name in result:
            return
        if name not in dependencies:
            raise RuntimeError(f"Pyodide package {name!r} is not in {PYODIDE_SPEC}'s packages.json")
        result.append(name)
        for dependency in dependencies[name]:
            add(dependency)

    for name in names:
        add(name)
    return result


def copy_pyodide(target: Path, extra_packages: List[str]) -> Dict[str, int]:
    """Copy the Pyodide core, NumPy and ``extra_packages`` into ``target``; return stage sizes."""
    dist = common.npm_fetch(PYODIDE_SPEC) / "dist"
    index = json.loads((dist / "packages.json").read_text())
    numpy_set = _with_dependencies(["numpy"], index["dependencies"])
    extra_set = [name for name in _with_dependencies(extra_packages, index["dependencies"])
                 if name not in numpy_set]
    shipped = numpy_set + extra_set
    target.mkdir(parents=True, exist_ok=True)
    sizes = {"runtime": 0, "numpy": 0}
    for name in PYODIDE_CORE:
        shutil.copy2(dist / name, target / name)
        sizes["runtime"] += (dist / name).stat().st_size
    for name in shipped:
        size = 0
        for suffix in (".js", ".data"):
            shutil.copy2(dist / (name + suffix), target / (name + suffix))
            size += (dist / (name + suffix)).stat().st_size
        if name in numpy_set:
            sizes["numpy"] += size
        sizes["package:" + name] = size
    for name in extra_packages:  # what loading each optional package downloads, dependencies included
        sizes["load:" + name] = sum(sizes["package:" + dep]
                                    for dep in _with_dependencies([name], index["dependencies"])
                                    if dep not in numpy_set)
    # packages.json restricted to what is shipped: importing anything else fails with a plain
    # ModuleNotFoundError instead of a download error.
    small = {
        "dependencies": {name: index["dependencies"][name] for name in shipped},
        "import_name_to_package_name": {
            key: value for key, value in index["import_name_to_package_name"].items() if value in shipped
        },
        "shared_library": {key: value for key, value in index.get("shared_library", {}).items()
                           if key in shipped},
        "versions": {key: value for key, value in index.get("versions", {}).items() if key in shipped},
    }
    (target / "packages.json").write_text(json.dumps(small, indent=1, sort_keys=True))
    return sizes


def fingerprint(folder: Path) -> str:
    """sha256 over the names and contents of the files in ``folder`` (the shipped runtime)."""
    return common.hash_files(sorted(folder.rglob("*")), base=folder).hexdigest()


# ----------------------------------------------------------------------------------------------
# Data for the page
# ----------------------------------------------------------------------------------------------
def write_digits(path: Path) -> int:
    """Write scikit-learn's bundled 8x8 digits with ``tinycnn.datasets.save_digits_npz``; return its size."""
    from tinycnn.datasets import save_digits_npz

    return save_digits_npz(path).stat().st_size


# ----------------------------------------------------------------------------------------------
# MkDocs events
# ----------------------------------------------------------------------------------------------
def runtime_setting(config) -> str:
    """``extra.tinycnn.runtime`` from mkdocs.yml: ``self-hosted`` (default) or a Pyodide base URL."""
    setting = str(common.setting(config, "runtime")).strip()
    if setting != "self-hosted" and not re.match(r"^(https?:)?//|^/|^\.{0,2}/", setting):
        raise ValueError(
            f"extra.tinycnn.runtime in mkdocs.yml must be 'self-hosted' or the base URL of a Pyodide "
            f"release (the folder holding pyodide.js, e.g. https://cdn.jsdelivr.net/pyodide/v0.27.2/full/), "
            f"got {setting!r}"
        )
    return setting


def bytecode_cache_setting(config) -> bool:
    """``extra.tinycnn.bytecode_cache`` from mkdocs.yml: true (default) or false."""
    setting = common.setting(config, "bytecode_cache")
    if not isinstance(setting, bool):
        raise ValueError(f"extra.tinycnn.bytecode_cache in mkdocs.yml must be true or false, got {setting!r}")
    return setting


def on_config(config):
    runtime_setting(config)  # fail early on a bad setting
    bytecode_cache_setting(config)
    return config


def on_post_build(config, **kwargs) -> None:
    site = Path(config["site_dir"])
    docs_dir = Path(config["docs_dir"])
    assets = site / "assets"
    tinycnn_dir = assets / "tinycnn"
    tinycnn_dir.mkdir(parents=True, exist_ok=True)

    wheel = build_wheel()
    shutil.copy2(wheel, tinycnn_dir / wheel.name)

    for name in PAGE_PYTHON.values():  # cellrunner.py: the page runs cells with the same file as the build
        shutil.copy2(HOOKS / name, tinycnn_dir / name)

    digits_size = write_digits(assets / "data" / "digits.npz")

    codemirror = common.npm_fetch(CODEMIRROR_SPEC)
    for name in CODEMIRROR_FILES:
        target = assets / "codemirror" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(codemirror / name, target)

    setting = runtime_setting(config)
    cells = all_cells(docs_dir)
    extra_packages = needed_packages(cells)
    patches = []
    if "matplotlib" in extra_packages and any(SAMPLE_PHOTO in cell for cell in cells):
        size = write_sample_photo(assets / "data" / "grace_hopper.ppm.gz")
        patches.append({"url": "assets/data/grace_hopper.ppm.gz", "size": size, "gzip": True,
                        "package": "matplotlib", "path": "mpl-data/sample_data/" + SAMPLE_PHOTO})
    if setting == "self-hosted":
        sizes = copy_pyodide(assets / "pyodide", extra_packages)
        index_url = "assets/pyodide/"
        runtime_id = f"{PYODIDE_SPEC} sha256:{fingerprint(assets / 'pyodide')}"
    else:
        sizes = {}
        index_url = setting if setting.endswith("/") else setting + "/"
        runtime_id = index_url

    manifest = {
        "tinycnn": wheel_version(wheel),
        "wheel": "assets/tinycnn/" + wheel.name,
        "wheelSize": wheel.stat().st_size,
        # Keys the page's byte-code cache: a new wheel never meets the compiled code of an old one.
        "wheelSha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "bytecodeCache": bytecode_cache_setting(config),
        "cellrunner": "assets/tinycnn/" + PAGE_PYTHON["cellrunner"],
        "worker": "assets/tinycnn/" + PAGE_PYTHON["worker"],
        "runtime": {
            "kind": "self-hosted" if setting == "self-hosted" else "url",
            "indexURL": index_url,
            "source": PYODIDE_SPEC if setting == "self-hosted" else setting,
            "sizes": sizes,
        },
        # Identifies the runtime's files (keys the page's byte-code cache, with wheelSha256).
        "runtimeFingerprint": runtime_id,
        "packages": [{"name": name, "pattern": OPTIONAL_PACKAGES[name],
                      "size": sizes.get("load:" + name)} for name in extra_packages],
        "patches": patches,
        "data": [{"url": "assets/data/digits.npz", "name": "digits.npz", "size": digits_size}],
        "dataDir": "/home/pyodide/tinycnn_data",
        "codemirror": {
            "scripts": ["assets/codemirror/" + name for name in CODEMIRROR_FILES if name.endswith(".js")],
            "styles": ["assets/codemirror/" + name for name in CODEMIRROR_FILES if name.endswith(".css")],
        },
    }
    (tinycnn_dir / "runtime.json").write_text(json.dumps(manifest, indent=1))
    _log(f"runtime {manifest['runtime']['kind']} ({index_url}); tinycnn {manifest['tinycnn']}; "
         f"extra Pyodide packages: {', '.join(extra_packages) or 'none'}")
