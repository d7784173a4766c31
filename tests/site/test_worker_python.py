"""docs/hooks/worker.py, the Python half of the page's Web Worker, run natively.

Where the page passes the worker's JavaScript callbacks (``js.tcStream``, ``js.tcPycMtime``) these
tests pass plain Python functions. Standard library and NumPy only: they also run on Python 3.8
+ NumPy 1.17.5 (the browser's pair). The oracles are the standard library's own definitions
(PEP 552 .pyc headers, ``importlib.util.source_hash``, ``zlib.adler32``) and hand-written files.
"""
from __future__ import annotations

import base64
import gzip
import importlib.util
import io
import json
import marshal
import os
import re
import sys
import types
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import tinycnn

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "docs" / "hooks"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


worker = _load("tinycnn_worker_under_test", HOOKS / "worker.py")


@pytest.fixture()
def clean_state(monkeypatch):
    """Undo what setup() and run() change in this process (sys.path, sys.modules, environment)."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(sys.modules, "tinycnn_cellrunner", None)
    monkeypatch.setenv("TINYCNN_DATA", "unset")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(worker, "namespaces", {})
    worker.load_module("tinycnn_cellrunner", "cellrunner.py", (HOOKS / "cellrunner.py").read_text())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ------------------------------------------------------------------------ the JS calls these
def test_every_function_the_worker_js_calls_exists_and_no_python_is_left_in_the_js():
    js = (ROOT / "docs" / "javascripts" / "tinycnn-worker.js").read_text(encoding="utf-8")
    called = set(re.findall(r"tinycnn_worker\.(\w+)\(", js))
    assert called >= {"setup", "run", "collect_pyc", "start_bytecode_cache", "apply_patch"}
    assert all(callable(getattr(worker, name, None)) for name in called), called
    assert not re.search(r"^\s*(def|class) \w+", js, re.M), "Python definitions left in the worker's JS"


# ------------------------------------------------------------------------------- setup
def test_setup_unpacks_the_wheel_writes_data_and_loads_the_cell_runner(tmp_path, clean_state):
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tc_fake_wheel_pkg/__init__.py", "VALUE = 41 + 1\n")
    data_dir = tmp_path / "data"
    info = json.loads(worker.setup(str(tmp_path / "site"), _b64(wheel.getvalue()), str(data_dir),
                                   json.dumps({"digits.npz": _b64(b"\x00\x01bytes")}),
                                   "def run_cell(source, namespace, name):\n    return 'mine'\n"))
    assert info == {"python": sys.version.split()[0], "numpy": np.__version__,
                    "tinycnn": tinycnn.__version__}
    assert sys.path[0] == str(tmp_path / "site")
    assert (tmp_path / "site" / "tc_fake_wheel_pkg" / "__init__.py").read_text() == "VALUE = 41 + 1\n"
    assert importlib.import_module("tc_fake_wheel_pkg").VALUE == 42
    sys.modules.pop("tc_fake_wheel_pkg")
    assert (data_dir / "digits.npz").read_bytes() == b"\x00\x01bytes"
    assert os.environ["TINYCNN_DATA"] == str(data_dir)
    assert sys.modules["tinycnn_cellrunner"].run_cell("", {}, "") == "mine"


# --------------------------------------------------------------------------------- run
def test_run_streams_output_live_and_returns_run_cells_output(clean_state):
    streamed = []
    code = ("import sys\nfor i in (1, 2):\n    print('\\rstep %d/2' % i, end='')\nprint()\n"
            "print('oops', file=sys.stderr)\nanswer = 6 * 7\nanswer")
    output = json.loads(worker.run("/page/", "page cell 1", code, lambda kind, text: streamed.append((kind, text))))
    assert output == {"stdout": "step 2/2\n", "stderr": "oops\n", "result": "42", "error": None, "images": []}
    assert "".join(text for kind, text in streamed if kind == "stdout") == "\rstep 1/2\rstep 2/2\n"
    assert "".join(text for kind, text in streamed if kind == "stderr") == "oops\n"
    cellrunner = sys.modules["tinycnn_cellrunner"]
    assert cellrunner.io is io  # the real io module is back after the cell


def test_run_keeps_one_namespace_per_page_and_survives_a_broken_stream(clean_state):
    def broken(kind, text):
        raise RuntimeError("the page went away")

    assert json.loads(worker.run("/a/", "a1", "x = 5", broken))["error"] is None
    assert json.loads(worker.run("/a/", "a2", "print(x * 2)", broken))["stdout"] == "10\n"
    error = json.loads(worker.run("/b/", "b1", "x", broken))["error"]
    assert error.endswith("NameError: name 'x' is not defined")


# ------------------------------------------------------------------------- apply_patch
def test_apply_patch_replaces_a_file_inside_an_installed_package(tmp_path, monkeypatch):
    package = tmp_path / "tc_fake_patched"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "photo.bin").write_bytes(b"old")
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)
    importlib.invalidate_caches()
    worker.apply_patch("tc_fake_patched", "data/photo.bin", _b64(gzip.compress(b"new pixels")), True)
    assert (package / "data" / "photo.bin").read_bytes() == b"new pixels"
    worker.apply_patch("tc_fake_patched", "data/photo.bin", _b64(b"plain"), False)
    assert (package / "data" / "photo.bin").read_bytes() == b"plain"
    worker.apply_patch("tc_no_such_package_here", "x", _b64(b"y"), False)  # not installed: nothing


# ---------------------------------------------------------------------- byte-code cache
def test_start_bytecode_cache_points_python_at_the_prefix(monkeypatch):
    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    magic, stdlib = worker.start_bytecode_cache("/tc_pycache").split(" ")
    assert sys.pycache_prefix == "/tc_pycache" and sys.dont_write_bytecode is False
    assert magic == importlib.util.MAGIC_NUMBER.hex()
    assert stdlib == os.path.dirname(os.__file__)
    assert worker.module_count() == len(sys.modules)


def _timestamp_pyc(source: Path, pyc: Path, mtime=None) -> None:
    """A .pyc as the import system writes it (PEP 552 flags 0: source mtime and size)."""
    stat = source.stat()
    mtime = int(stat.st_mtime) if mtime is None else mtime
    code = compile(source.read_bytes(), str(source), "exec", dont_inherit=True)
    pyc.parent.mkdir(parents=True, exist_ok=True)
    pyc.write_bytes(importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little")
                    + (mtime & 0xFFFFFFFF).to_bytes(4, "little")
                    + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little") + marshal.dumps(code))


def test_collect_pyc_gathers_trusted_runtime_files_as_unchecked_hash_based_pyc(tmp_path, monkeypatch):
    prefix = str(tmp_path / "pycache")
    monkeypatch.setattr(sys, "pycache_prefix", prefix)
    lib = tmp_path / "lib"
    lib.mkdir()
    sources = {}
    for name, body in [("imported", "A = 1\n"), ("compiled", "B = 2\n"), ("stale", "C = 3\n"),
                       ("untrusted", "D = 4\n"), ("another", "E = 5\n")]:
        sources[name] = lib / (name + ".py")
        sources[name].write_text(body)
    pyc = {name: Path(importlib.util.cache_from_source(str(path))) for name, path in sources.items()}
    # imported before the prefix was set (no .pyc yet): the collector compiles it
    module = types.ModuleType("tc_fake_imported")
    module.__file__ = str(sources["imported"])
    monkeypatch.setitem(sys.modules, "tc_fake_imported", module)
    _timestamp_pyc(sources["compiled"], pyc["compiled"])           # written by the import system
    _timestamp_pyc(sources["stale"], pyc["stale"], mtime=12345)    # its source changed since
    _timestamp_pyc(sources["untrusted"], pyc["untrusted"])         # source written by a reader
    _timestamp_pyc(sources["another"], pyc["another"])       # another trusted one
    root = os.path.relpath(str(lib), "/").replace(os.sep, "/") + "/"
    written = {str(sources[name]): (500 if name == "untrusted" else 1500) for name in sources}
    mtime = lambda path: written.get(str(path), -1)  # noqa: E731 - stands in for js.tcPycMtime
    blob = tmp_path / "blob"

    assert json.loads(worker.collect_pyc(prefix, [root], [[1000, 2000]], str(blob), -1.0, mtime)) == {"more": True}
    result = json.loads(worker.collect_pyc(prefix, [root], [[1000, 2000]], str(blob), 60.0, mtime))
    index, data = result["index"], blob.read_bytes()
    assert result["fresh"] == 2  # compiled and another were converted; imported was compiled here
    assert index["magic"] == importlib.util.MAGIC_NUMBER.hex() and index["roots"] == [root]
    assert index["size"] == len(data) and index["adler32"] == zlib.adler32(data)
    by_name = {Path(rel).name.split(".")[0]: data[offset:offset + length]
               for rel, offset, length in index["files"]}
    assert sorted(by_name) == ["another", "compiled", "imported"]
    offsets = [(offset, length) for _, offset, length in index["files"]]
    assert [o for o, _ in offsets] == [sum(l for _, l in offsets[:i]) for i in range(len(offsets))]
    for name, entry in by_name.items():
        source = sources[name].read_bytes()
        assert entry[:4] == importlib.util.MAGIC_NUMBER
        assert entry[4:8] == (1).to_bytes(4, "little")  # unchecked hash-based (PEP 552)
        assert entry[8:16] == importlib.util.source_hash(source)
        namespace = {}
        exec(marshal.loads(entry[16:]), namespace)
        expected = {}
        exec(source, expected)
        assert {k: v for k, v in namespace.items() if k != "__builtins__"} == \
            {k: v for k, v in expected.items() if k != "__builtins__"}
    # nothing outside the roots is taken, however trusted
    outside = json.loads(worker.collect_pyc(prefix, ["elsewhere/"], [[0, 10 ** 9]], str(blob), 60.0, mtime))
    assert outside["index"]["files"] == []


def test_drop_bytecode_cache_deletes_the_prefix(tmp_path):
    (tmp_path / "prefix" / "a").mkdir(parents=True)
    (tmp_path / "prefix" / "a" / "x.pyc").write_bytes(b"1")
    worker.drop_bytecode_cache(str(tmp_path / "prefix"))
    assert not (tmp_path / "prefix").exists()
    worker.drop_bytecode_cache(str(tmp_path / "prefix"))  # absent: no error
