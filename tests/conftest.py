"""Shared pytest fixtures.

``built_site``: the MkDocs site built once per test session. ``scripts/test.sh`` builds it before
running pytest and passes its folder in ``TINYCNN_BUILT_SITE``; without that variable the fixture
builds the site into a temporary folder itself (``mkdocs build --strict``).
"""
from __future__ import annotations

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
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
    )
    assert proc.returncode == 0, "mkdocs build --strict failed:\n" + proc.stdout[-5000:]
    return site


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
