"""The Python half of the page's Web Worker (docs/javascripts/tinycnn-worker.js).

The site build copies this file to ``assets/tinycnn/worker.py``; the worker downloads it while
Pyodide boots, runs it as the module ``tinycnn_worker`` and calls the functions below. It runs in
Pyodide 0.17 (Python 3.8, standard library only) and natively in the tests
(tests/site/test_worker_python.py), which pass plain Python functions where the page passes the
worker's JavaScript callbacks (``js.tcStream``, ``js.tcPycMtime``).

* :func:`start_bytecode_cache`, :func:`collect_pyc`: the byte-code cache for returning readers
  (see "Byte-code cache" in tinycnn-worker.js);
* :func:`setup`: unpack the tinycnn wheel onto ``sys.path``, write the data files, load the cell
  runner (the very file the build uses);
* :func:`run`: run a cell with the cell runner, streaming its output live;
* :func:`apply_patch`: replace a file inside an installed Pyodide package.

Binary payloads arrive as base64 strings (Pyodide 0.17 has no common API for bytes).
"""
from __future__ import annotations

import sys

#: Namespaces of the cells, one per page (key: the page's path), like a notebook's globals.
namespaces = {}


# ----------------------------------------------------------------------------------------------
# The byte-code cache
# ----------------------------------------------------------------------------------------------
def start_bytecode_cache(prefix):
    """Make Python write a .pyc for whatever it compiles from now on, under ``prefix``.

    Returns ``"<magic number hex> <standard library folder>"``.
    """
    import os
    import _frozen_importlib_external

    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False
    return _frozen_importlib_external.MAGIC_NUMBER.hex() + " " + os.path.dirname(os.__file__)


def drop_bytecode_cache(prefix):
    """Delete the .pyc files under ``prefix`` (a record of another runtime was restored)."""
    import shutil

    shutil.rmtree(prefix, ignore_errors=True)


def module_count():
    """How many modules are imported (the cache is collected again when this grows)."""
    return len(sys.modules)


def collect_pyc(prefix, roots, trusted, blob_path, budget, mtime):
    """Gather the runtime's .pyc files under prefix into blob_path as unchecked hash-based .pyc.

    Compiles first what was imported before the prefix was set (Pyodide's boot writes no .pyc).
    Only files under roots (relative to prefix) whose source was written while nothing but the
    runtime ran (``mtime(source)``, in ms, is inside one of the ``trusted`` [start, end] windows)
    are taken; a .pyc Python wrote (timestamp-based) also needs its header to match the source's
    size and mtime. Returns JSON: ``{"more": true}`` when the ``budget`` (seconds) ran out, else
    ``{"index": {...}, "fresh": n}`` (the blob's index, n files converted this time).
    """
    import importlib.util
    import json
    import marshal
    import os
    import time
    import zlib

    started = time.perf_counter()
    magic = importlib.util.MAGIC_NUMBER
    header = magic + (1).to_bytes(4, "little")

    def relative(path):
        return path[len(prefix) + 1:] if path.startswith(prefix + "/") else None

    def trusted_source(source):
        written = mtime(source)
        return any(start <= written <= end for start, end in trusted)

    for module in list(sys.modules.values()):  # imported before the prefix was set
        source = getattr(module, "__file__", None)
        if not isinstance(source, str) or not source.startswith("/") or not source.endswith(".py"):
            continue
        pyc = importlib.util.cache_from_source(source)
        rel = relative(pyc)
        if rel is None or not any(rel.startswith(root) for root in roots) or os.path.exists(pyc):
            continue
        if time.perf_counter() - started > budget:
            return json.dumps({"more": True})
        try:
            if not trusted_source(source):
                continue
            with open(source, "rb") as handle:
                data = handle.read()
            code = compile(data, source, "exec", dont_inherit=True)
            os.makedirs(os.path.dirname(pyc), exist_ok=True)
            with open(pyc, "wb") as handle:
                handle.write(header + importlib.util.source_hash(data) + marshal.dumps(code))
        except (OSError, SyntaxError, ValueError):
            continue

    files, chunks, offset, fresh = [], [], 0, 0
    for directory, subdirectories, names in os.walk(prefix):
        subdirectories.sort()
        for name in sorted(names):
            path = os.path.join(directory, name)
            rel = relative(path)
            if not name.endswith(".pyc") or not any(rel.startswith(root) for root in roots):
                continue
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                if len(data) <= 16 or data[:4] != magic:
                    continue
                flags = int.from_bytes(data[4:8], "little")
                if flags == 0:  # written by the import system this session
                    source = importlib.util.source_from_cache(path)
                    stat = os.stat(source)
                    if (int.from_bytes(data[8:12], "little") != int(stat.st_mtime) & 0xFFFFFFFF
                            or int.from_bytes(data[12:16], "little") != stat.st_size & 0xFFFFFFFF
                            or not trusted_source(source)):
                        continue
                    with open(source, "rb") as handle:
                        data = header + importlib.util.source_hash(handle.read()) + data[16:]
                    fresh += 1
                elif flags != 1:
                    continue
            except (OSError, ValueError):
                continue
            files.append([rel, offset, len(data)])
            chunks.append(data)
            offset += len(data)
    blob = b"".join(chunks)
    with open(blob_path, "wb") as handle:
        handle.write(blob)
    index = {"magic": magic.hex(), "roots": roots, "files": files, "size": len(blob),
             "adler32": zlib.adler32(blob)}
    return json.dumps({"index": index, "fresh": fresh})


# ----------------------------------------------------------------------------------------------
# Installing tinycnn, its data and the cell runner
# ----------------------------------------------------------------------------------------------
def load_module(name, filename, source):
    """Run ``source`` as the module ``name`` (registered in ``sys.modules``) and return it."""
    import types

    module = types.ModuleType(name)
    module.__file__ = filename
    exec(compile(str(source), filename, "exec", dont_inherit=True), module.__dict__)
    sys.modules[name] = module
    return module


def setup(target, wheel, data_dir, data_files, cellrunner):
    """Install tinycnn in this Python; return JSON ``{"python", "numpy", "tinycnn"}`` versions.

    ``wheel``: the tinycnn wheel (base64), unpacked into ``target``, which goes first on
    ``sys.path``; ``data_files``: JSON ``{name: base64 content}`` written into ``data_dir``
    (``$TINYCNN_DATA``); ``cellrunner``: the source of docs/hooks/cellrunner.py, loaded as the
    module ``tinycnn_cellrunner``.
    """
    import base64
    import importlib
    import io
    import json
    import os
    import zipfile

    os.makedirs(target, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(str(wheel)))) as archive:
        archive.extractall(target)
    if target not in sys.path:
        sys.path.insert(0, target)
    importlib.invalidate_caches()
    data_dir = str(data_dir)
    os.makedirs(data_dir, exist_ok=True)
    for name, payload in json.loads(str(data_files)).items():
        with open(os.path.join(data_dir, name), "wb") as handle:
            handle.write(base64.b64decode(payload))
    os.environ["TINYCNN_DATA"] = data_dir
    os.environ.setdefault("MPLBACKEND", "Agg")
    load_module("tinycnn_cellrunner", "cellrunner.py", cellrunner)
    import numpy
    import tinycnn

    return json.dumps({
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "tinycnn": tinycnn.__version__,
    })


# ----------------------------------------------------------------------------------------------
# Running cells
# ----------------------------------------------------------------------------------------------
def _live_text_class(stream):
    """A StringIO class that also passes what is written to ``stream(kind, text)``.

    run_cell captures stdout then stderr in two io.StringIO objects; while a cell runs, the
    runner module sees this class instead, so the page can show output (live progress bars)
    before the cell ends. The final output still comes from run_cell's return value.
    """
    import io

    class LiveText(io.StringIO):
        created = 0

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._tc_kind = "stdout" if LiveText.created == 0 else "stderr"
            LiveText.created += 1

        def write(self, text):
            count = super().write(text)
            try:
                stream(self._tc_kind, text)
            except Exception:
                pass
            return count

    return LiveText


def run(namespace_key, cell_name, code, stream):
    """Run ``code`` in the namespace of ``namespace_key``; return run_cell's output as JSON.

    What the cell prints goes to ``stream(kind, text)`` (kind: "stdout" or "stderr") as it is
    written.
    """
    import io
    import json
    import types

    import tinycnn_cellrunner

    namespace = namespaces.setdefault(str(namespace_key), {"__name__": "__main__"})
    real_io = tinycnn_cellrunner.__dict__.get("io")
    if real_io is io:
        live_io = types.ModuleType("io")
        live_io.__dict__.update(io.__dict__)
        live_io.StringIO = _live_text_class(stream)
        tinycnn_cellrunner.io = live_io
    try:
        output = tinycnn_cellrunner.run_cell(str(code), namespace, str(cell_name))
    finally:
        if real_io is io:
            tinycnn_cellrunner.io = real_io
    return json.dumps(output)


# ----------------------------------------------------------------------------------------------
# Patching a package
# ----------------------------------------------------------------------------------------------
def apply_patch(package, path, payload, compressed):
    """Replace ``path`` inside the installed ``package`` by ``payload`` (base64, gzip if
    ``compressed``); a no-op when the package is not installed. See SAMPLE_PHOTO in
    docs/hooks/runtime.py."""
    import base64
    import gzip
    import importlib.util
    import os

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return
    data = base64.b64decode(str(payload))
    if compressed:
        data = gzip.decompress(data)
    target = os.path.join(list(spec.submodule_search_locations)[0], path)
    if os.path.exists(target):
        os.remove(target)  # a packaged file cannot be overwritten in place in Pyodide 0.17
    with open(target, "wb") as handle:
        handle.write(data)
