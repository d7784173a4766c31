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

ROOT = Path(__file__).resolve().parents[1]


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
