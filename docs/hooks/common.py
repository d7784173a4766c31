"""What the site's build hooks share: paths, the cache, hashing, npm, logging, settings, cells.

MkDocs puts a hook's folder on ``sys.path`` while it imports the hook, so every hook in
``docs/hooks/`` starts with ``import common`` (and tests load hooks the same way, see
``tests/site/conftest.py``). This file is build machinery only: ``mkdocs.yml`` excludes
``docs/hooks/`` from the published site.

* :data:`ROOT`, :func:`cache_dir`: the checkout, and the cache outside it (``$TINYCNN_CACHE`` or
  ``~/.cache/tinycnn``) that holds npm packages, the built wheel and the demo data;
* :func:`hash_files`: the one file hasher (cache keys, fingerprints);
* :func:`npm_fetch`: ``scripts/npm_fetch.py``'s ``fetch`` (one import of it for every hook);
* :func:`log`: ``INFO - [hook] message`` lines on MkDocs' logger;
* :data:`SETTINGS`, :func:`setting`, :func:`env_setting`: every ``extra.tinycnn.*`` key of
  ``mkdocs.yml`` and every ``TINYCNN_*`` environment variable the build reads, in one table;
* :func:`find_cells`: the one parser of Markdown code fences (which blocks are cells).
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional

HOOKS = Path(__file__).resolve().parent
ROOT = HOOKS.parents[1]


# ----------------------------------------------------------------------------------------------
# Settings: one table for mkdocs.yml's extra.tinycnn and the TINYCNN_* environment variables
# ----------------------------------------------------------------------------------------------
class Setting(NamedTuple):
    name: str        # "runtime" (extra.tinycnn.runtime) or "TINYCNN_CACHE" (environment)
    default: Any
    meaning: str


#: Every setting of the site build and of the tests (CONTRIBUTING.md "Settings" mirrors it).
SETTINGS: Dict[str, Setting] = {item.name: item for item in [
    Setting("runtime", "self-hosted",
            "mkdocs.yml extra.tinycnn.runtime: 'self-hosted' (Pyodide 0.17.1 from npm, copied "
            "into the site) or the base URL of a Pyodide release (the folder with pyodide.js)"),
    Setting("bytecode_cache", True,
            "mkdocs.yml extra.tinycnn.bytecode_cache: the page keeps compiled Python in "
            "IndexedDB for returning readers (true) or not (false)"),
    Setting("TINYCNN_CACHE", "~/.cache/tinycnn",
            "folder for fetched npm packages, the built wheel and the demo data"),
    Setting("TINYCNN_CELL_CACHE", "1",
            "0: always run the pages' cells (no reuse of .cache/tinycnn-cells)"),
    Setting("TINYCNN_DATA", None,
            "folder holding digits.npz for tinycnn.datasets.load_digits() without scikit-learn "
            "(the page sets it)"),
    Setting("TINYCNN_DEBUG", None, "set: the tinycnn CLI prints tracebacks"),
    Setting("TINYCNN_BUILT_SITE", None,
            "tests: an already built site (else the site tests build one)"),
    Setting("TINYCNN_UNIT_ONLY", None,
            "tests: 1 = skip collecting files that import optional packages (the Python 3.8 run)"),
    Setting("TINYCNN_SCREENSHOTS", None, "tests: folder where browser tests save screenshots"),
]}


def setting(config: Mapping[str, Any], name: str) -> Any:
    """``extra.tinycnn.<name>`` of the MkDocs ``config``, or the default of :data:`SETTINGS`."""
    if name not in SETTINGS or name.startswith("TINYCNN_"):
        raise KeyError(f"{name!r} is not an extra.tinycnn setting (see common.SETTINGS)")
    tinycnn = (config.get("extra") or {}).get("tinycnn") or {}
    return tinycnn.get(name, SETTINGS[name].default)


def env_setting(name: str) -> Optional[str]:
    """The environment variable ``name`` (a ``TINYCNN_*`` entry of :data:`SETTINGS`) or its default."""
    if name not in SETTINGS or not name.startswith("TINYCNN_"):
        raise KeyError(f"{name!r} is not a TINYCNN_* setting (see common.SETTINGS)")
    return os.environ.get(name, SETTINGS[name].default)


def cache_dir(*parts: str) -> Path:
    """``$TINYCNN_CACHE`` (default ``~/.cache/tinycnn``) joined with ``parts``."""
    return _npm().cache_base().joinpath(*parts)


# ----------------------------------------------------------------------------------------------
# Hashing, npm, logging
# ----------------------------------------------------------------------------------------------
def hash_files(paths: Iterable[Path], base: Path = ROOT, digest: Optional[Any] = None) -> Any:
    """sha256 (or ``digest``, updated) over each file's path relative to ``base`` and its bytes.

    Returns the hashlib object; ``.hexdigest()`` it. Folders and missing paths are skipped.
    """
    digest = digest if digest is not None else hashlib.sha256()
    for path in paths:
        if not path.is_file():
            continue
        digest.update(path.relative_to(base).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest


def source_files(folder: Path) -> List[Path]:
    """The files below ``folder``, sorted, without ``__pycache__`` and compiled files."""
    return [path for path in sorted(folder.rglob("*")) if path.is_file()
            and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")]


_npm_fetch_module: Any = None


def _npm() -> Any:
    """``scripts/npm_fetch.py`` as a module (loaded once; it is also a command-line script)."""
    global _npm_fetch_module
    if _npm_fetch_module is None:
        spec = importlib.util.spec_from_file_location("tinycnn_npm_fetch", ROOT / "scripts" / "npm_fetch.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        _npm_fetch_module = module
    return _npm_fetch_module


def npm_fetch(spec: str) -> Path:
    """The unpacked ``package/`` folder of the pinned npm package ``spec`` (scripts/npm_fetch.py)."""
    return _npm().fetch(spec)


def log(hook: str, message: str) -> None:
    """Log ``[hook] message`` at INFO level on MkDocs' logger (``mkdocs build --quiet`` hides it)."""
    logging.getLogger("mkdocs.hooks." + hook).info("[%s] %s", hook, message)


# ----------------------------------------------------------------------------------------------
# The one cell-fence parser
# ----------------------------------------------------------------------------------------------
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")


class Fence(NamedTuple):
    """One fenced code block of a Markdown text."""

    start: int          # 0-based index of the opening line
    end: int            # 0-based index of the closing line
    indent: str
    fence: str          # the opening run of backticks or tildes
    info: List[str]     # the info string's words, e.g. ["python", "norun"]
    body: List[str]     # the lines between the fences, as written

    @property
    def is_cell(self) -> bool:
        """A runnable cell: the info string is exactly ``python``."""
        return self.info == ["python"]

    @property
    def is_norun(self) -> bool:
        """A ``python norun`` block: highlighted, never run."""
        return self.info[:1] == ["python"] and "norun" in self.info[1:]

    @property
    def source(self) -> str:
        """The block's code, without the fence's indentation."""
        return "\n".join(line[len(self.indent):] if line.startswith(self.indent) else line.lstrip()
                         for line in self.body)


def fences(lines: List[str], on_unclosed: Callable[[str], Exception] = ValueError) -> List[Fence]:
    """Every top-level fenced block of ``lines`` (a block inside a longer fence is not one).

    A fence closes on a line of the same character, at least as long, with nothing else on it.
    An unclosed fence raises ``on_unclosed(message)``.
    """
    found = []
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group("fence")
        closing = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{%d,}[ \t]*$" % len(fence))
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        if end == len(lines):
            raise on_unclosed("unclosed code fence %r opened at line %d" % (fence, i + 1))
        found.append(Fence(i, end, match.group("indent"), fence, match.group("info").split(),
                           lines[i + 1:end]))
        i = end + 1
    return found


def find_cells(markdown: str, on_unclosed: Callable[[str], Exception] = ValueError) -> List[Fence]:
    """The runnable cells (```` ```python ```` blocks) of a Markdown text, in order."""
    return [fence for fence in fences(markdown.split("\n"), on_unclosed) if fence.is_cell]
