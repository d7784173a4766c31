"""Shared pytest fixtures.

``built_site``: the MkDocs site built once per test session. ``scripts/test.sh`` builds it before
running pytest and passes its folder in ``TINYCNN_BUILT_SITE``; without that variable the fixture
builds the site into a temporary folder itself (``mkdocs build --strict``).

``hook``: ``hook("runtime")`` imports ``docs/hooks/runtime.py`` the way MkDocs does (its folder on
``sys.path`` while it loads, so that ``import common`` works); ``npm_fetch``: the site build's npm
cache (``common.npm_fetch``). Used by tests/site/ and tests/browser/.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinycnn import fast

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["blas", "axpy"])
def conv_strategy(request, monkeypatch):
    """Run a test with each convolution formulation: "blas" (native default) and "axpy" (the
    browser's default, see tinycnn/fast/platform.py); both must match the oracles
    (PyTorch, finite differences)."""
    monkeypatch.setattr(fast, "CONV_STRATEGY", request.param)
    return request.param


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    given = os.environ.get("TINYCNN_BUILT_SITE")
    if given:
        site = Path(given)
        assert (site / "index.html").exists(), f"TINYCNN_BUILT_SITE={given} holds no built site"
        return site
    site = tmp_path_factory.mktemp("site")
    # Importing cellrunner.py (tests do) sets MPLBACKEND=Agg in this process; passed on to the
    # build, it would reach the notebook's Jupyter kernel and hide its inline figures.
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
    )
    assert proc.returncode == 0, "mkdocs build --strict failed:\n" + proc.stdout[-5000:]
    return site


def load_hook(name: str):
    """``docs/hooks/<name>.py`` as a fresh module, imported as MkDocs 1.6 imports a hook."""
    path = ROOT / "docs" / "hooks" / (name + ".py")
    spec = importlib.util.spec_from_file_location("tinycnn_hook_" + name, str(path))
    module = importlib.util.module_from_spec(spec)
    saved = sys.path.copy()
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


@pytest.fixture(scope="session")
def hook():
    """Factory: ``hook(name)`` -> docs/hooks/<name>.py imported like MkDocs does (see load_hook)."""
    return load_hook


@pytest.fixture(scope="session")
def npm_fetch():
    """``npm_fetch(spec)`` -> the unpacked npm package folder (the site build's cache)."""
    return load_hook("common").npm_fetch


def _files_importing_extras():
    """Test files that import an optional package at module level (PyTorch, scikit-learn, ...)."""
    pattern = ("import torch", "from torch", "import sklearn", "from sklearn", "import PIL",
               "from PIL", "import matplotlib", "from matplotlib", "import mkdocs", "from mkdocs",
               "import playwright", "from playwright")
    here = Path(__file__).parent
    for path in sorted(here.rglob("test_*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if any(line.startswith(pattern) for line in lines):
            yield str(path.relative_to(here))


# scripts/test.sh runs the unmarked unit tests a second time under Python 3.8 + NumPy 1.17.5 (the
# browser's pair), where the optional packages are absent on purpose and every marked test is
# deselected. It sets TINYCNN_UNIT_ONLY=1 so that files which import those packages at module
# level are not even collected there. In the main run every file is collected.
if os.environ.get("TINYCNN_UNIT_ONLY") == "1":
    collect_ignore = list(_files_importing_extras())
