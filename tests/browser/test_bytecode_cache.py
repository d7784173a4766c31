"""The page's byte-code cache (docs/javascripts/tinycnn-worker.js): a returning reader's Python
loads the runtime's compiled modules from IndexedDB instead of compiling them again.

Oracles: what the page's own Python reports about the files it imported (a cached .pyc that
Python used is still the unchecked hash-based file the cache wrote; one it compiled again would
have been rewritten), the IndexedDB record read back from the page, hand-worked numbers (the
convolution example is -7), and the build's manifest (the record's key). No timing is asserted:
speed lives in scripts/bench_browser.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from .pages import CONVOLUTION_EXAMPLE, first_page

pytestmark = pytest.mark.browser

# Reads (or rewrites) the cache's IndexedDB records from the page: same origin as the worker.
READ_RECORDS = """async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("tinycnn-bytecode", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("pyc");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const store = db.transaction("pyc", "readonly").objectStore("pyc");
  const get = (request) => new Promise((resolve) => { request.onsuccess = () => resolve(request.result); });
  const [keys, values] = await Promise.all([get(store.getAllKeys()), get(store.getAll())]);
  db.close();
  return keys.map((key, i) => ({ key, index: JSON.parse(values[i].index), size: values[i].data.byteLength }));
}"""

# Applies `change(key, value) -> [key, value]` to the one stored record (JavaScript source).
REWRITE_RECORD = """async (change) => {
  change = eval(change);
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("tinycnn-bytecode", 1);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const done = (request) => new Promise((resolve) => { request.onsuccess = () => resolve(request.result); });
  let store = db.transaction("pyc", "readonly").objectStore("pyc");
  const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
  if (keys.length !== 1) throw new Error("expected one record, found " + keys.length);
  const [key, value] = change(keys[0], values[0]);
  const transaction = db.transaction("pyc", "readwrite");
  store = transaction.objectStore("pyc");
  store.delete(keys[0]);
  store.put(value, key);
  await new Promise((resolve) => { transaction.oncomplete = resolve; });
  db.close();
}"""

ADLER32 = """(bytes) => {
  let a = 1, b = 0;
  for (const byte of bytes) { a = (a + byte) % 65521; b = (b + a) % 65521; }
  return ((b << 16) | a) >>> 0;
}"""

# Python in the page: the header of the .pyc that the import system used for a module.
PYC_OF = """
import importlib.util, sys
def pyc_of(name):
    module = sys.modules[name]
    path = importlib.util.cache_from_source(module.__file__)
    with open(path, "rb") as handle:
        header = handle.read(16)
    return {"path": path, "flags": int.from_bytes(header[4:8], "little")}
"""


def manifest(built_site: Path) -> dict:
    return json.loads((built_site / "assets" / "tinycnn" / "runtime.json").read_text())


def load(page, url: str) -> dict:
    page.goto(url)
    return page.evaluate("tinycnnSite.ready()")


def wait_saved(page, after: float = 0.0) -> float:
    """Wait until the page stored its byte-code (or found the record up to date) after `after`."""
    page.wait_for_function("(after) => (tinycnnSite.timings().bytecodeSaved || 0) > after", arg=after,
                           timeout=60_000)
    return page.evaluate("tinycnnSite.timings().bytecodeSaved")


def run(page, code: str) -> dict:
    out = page.evaluate("(code) => tinycnnSite.run(code)", code)
    assert out["error"] is None, out["error"]
    return out


def test_second_load_uses_the_cache_and_still_runs_the_pages_cells(built_site, site_url, new_page):
    recorded = new_page()
    page = recorded.page
    page.set_default_timeout(600_000)
    url = site_url + first_page(built_site)
    assert load(page, url)["bytecodeCache"] == "miss"
    assert run(page, CONVOLUTION_EXAMPLE)["stdout"].strip() == "[[-7.]]"
    wait_saved(page)

    records = page.evaluate(READ_RECORDS)
    assert len(records) == 1
    m = manifest(built_site)
    assert records[0]["key"] == [1, m["wheelSha256"], m["runtimeFingerprint"]]
    index = records[0]["index"]
    assert index["pyodide"] == "0.17.0" and index["magic"] == "550d0d0a"  # CPython 3.8's magic number
    files = [entry[0] for entry in index["files"]]
    # NumPy and tinycnn, and modules of Pyodide's own boot (compiled later, while the worker idled).
    for wanted in ("lib/python3.8/site-packages/numpy/__init__.cpython-38.pyc",
                   "lib/python3.8/site-packages/numpy/core/numeric.cpython-38.pyc",
                   "home/pyodide/tinycnn_site/tinycnn/__init__.cpython-38.pyc",
                   "lib/python3.8/asyncio/base_events.cpython-38.pyc"):
        assert wanted in files, wanted
    assert all(path.startswith(("lib/python3.8/", "home/pyodide/tinycnn_site/tinycnn/")) for path in files)

    # The returning reader: the same context (its IndexedDB) loads the page again.
    info = load(page, url)
    assert info["bytecodeCache"] == "hit"
    assert run(page, CONVOLUTION_EXAMPLE)["stdout"].strip() == "[[-7.]]"
    run(page, PYC_OF)
    import_flags = json.loads(run(page, "import json\nprint(json.dumps([pyc_of('numpy'), pyc_of("
                                        "'numpy.core.numeric'), pyc_of('tinycnn'), pyc_of('asyncio.base_events')]))"
                                  )["stdout"])
    # Flags 0b01: the cache's unchecked hash-based files, used as they are (Python did not compile
    # these modules again: it would have rewritten them as timestamp-based .pyc, flags 0).
    assert [item["flags"] for item in import_flags] == [1, 1, 1, 1], import_flags
    assert all(item["path"].startswith("/tc_pycache/") for item in import_flags)
    # Pyodide's boot already had the cache: its Python started with the prefix set (see also
    # test_boot_modules_come_from_the_cache).
    assert run(page, "import os\nos.environ.get('PYTHONPYCACHEPREFIX')")["result"] == "'/tc_pycache'"

    outputs = page.evaluate("tinycnnSite.runAll()")
    errors = [(i + 1, out["error"]) for i, out in enumerate(outputs) if out["error"]]
    assert not errors, errors[0]
    assert len(outputs) == page.locator(".tc-cell[data-runnable]").count()
    assert recorded.foreign_requests() == []


def test_a_record_under_another_key_is_not_used_and_is_replaced(built_site, site_url, new_page):
    page = new_page().page
    url = site_url + first_page(built_site)
    assert load(page, url)["bytecodeCache"] == "miss"
    wait_saved(page)
    other = "0" * 64  # another wheel
    page.evaluate(REWRITE_RECORD, "(key, value) => [[key[0], %r, key[2]], value]" % other)

    assert load(page, url)["bytecodeCache"] == "miss"
    assert run(page, CONVOLUTION_EXAMPLE)["stdout"].strip() == "[[-7.]]"
    wait_saved(page)
    keys = [record["key"] for record in page.evaluate(READ_RECORDS)]
    assert keys == [[1, manifest(built_site)["wheelSha256"], manifest(built_site)["runtimeFingerprint"]]]


def test_a_damaged_record_is_ignored_and_rewritten(built_site, site_url, new_page):
    page = new_page().page
    url = site_url + first_page(built_site)
    load(page, url)
    wait_saved(page)
    # Flip bytes in the middle of the stored .pyc data (the checksum no longer matches).
    page.evaluate(REWRITE_RECORD, """(key, value) => {
        const bytes = new Uint8Array(value.data);
        for (let i = bytes.length >> 1; i < (bytes.length >> 1) + 64; i++) bytes[i] ^= 0x5a;
        return [key, value];
    }""")

    assert load(page, url)["bytecodeCache"] == "miss"
    assert run(page, CONVOLUTION_EXAMPLE)["stdout"].strip() == "[[-7.]]"
    assert run(page, "import numpy as np\nfloat(np.arange(10).sum())")["result"] == "45.0"
    wait_saved(page)
    assert load(page, url)["bytecodeCache"] == "hit"  # the page stored a good record again
    assert run(page, CONVOLUTION_EXAMPLE)["stdout"].strip() == "[[-7.]]"


REPLACE_PYCS = """(key, value) => {
    const replacements = %s;  // {path: payload as hex}: a new code object for that .pyc
    const adler32 = %s;
    const index = JSON.parse(value.index);
    const old = new Uint8Array(value.data);
    const parts = [];
    let offset = 0;
    for (const entry of index.files) {
        let bytes = old.subarray(entry[1], entry[1] + entry[2]);
        if (entry[0] in replacements) {
            const payload = Uint8Array.from(replacements[entry[0]].match(/../g).map((hex) => parseInt(hex, 16)));
            const replaced = new Uint8Array(16 + payload.length);
            replaced.set(bytes.subarray(0, 16));  // same magic number, flags and source hash
            replaced.set(payload, 16);
            bytes = replaced;
        }
        parts.push(bytes);
        entry[1] = offset;
        entry[2] = bytes.length;
        offset += bytes.length;
    }
    const data = new Uint8Array(offset);
    offset = 0;
    for (const bytes of parts) { data.set(bytes, offset); offset += bytes.length; }
    index.size = data.length;
    index.adler32 = adler32(data);  // a well-formed record: only its code differs
    return [key, { index: JSON.stringify(index), data: data.buffer }];
}"""


def replace_pycs(page, replacements: dict) -> None:
    """Give modules other code in the stored record (``{pyc path: Python source}``), compiled by
    the page's own Python 3.8."""
    compiled = {}
    for path, source in replacements.items():
        out = run(page, "import marshal\nprint(marshal.dumps(compile(%r, 'replaced.py', 'exec')).hex())" % source)
        compiled[path] = out["stdout"].strip()
    page.evaluate(REWRITE_RECORD, REPLACE_PYCS % (json.dumps(compiled), ADLER32))


def test_boot_modules_come_from_the_cache(built_site, site_url, new_page):
    """Pyodide's own boot imports textwrap: a marked copy of its code in the record shows up."""
    page = new_page().page
    url = site_url + first_page(built_site)
    load(page, url)
    wait_saved(page)
    source = run(page, "import textwrap\nprint(open(textwrap.__file__).read())")["stdout"]
    replace_pycs(page, {"lib/python3.8/textwrap.cpython-38.pyc": source + "\nLOADED_FROM_THE_CACHE = True\n"})
    assert load(page, url)["bytecodeCache"] == "hit"
    assert run(page, "import sys\nhasattr(sys.modules['textwrap'], 'LOADED_FROM_THE_CACHE')")["result"] == "True"
    assert run(page, "import textwrap\ntextwrap.dedent('  a')")["result"] == "'a'"


@pytest.mark.parametrize("pyc", ["lib/python3.8/site-packages/numpy/__init__.cpython-38.pyc",
                                 "lib/python3.8/textwrap.cpython-38.pyc"])  # imported by Pyodide's boot
def test_a_well_formed_record_that_breaks_an_import_is_dropped(built_site, site_url, new_page, pyc):
    """The last safety net: valid headers and checksum, but a module's code raises on import."""
    page = new_page().page
    url = site_url + first_page(built_site)
    load(page, url)
    wait_saved(page)
    replace_pycs(page, {pyc: "raise ImportError('poisoned')"})

    info = load(page, url)  # the poisoned import fails; the page starts Python again without the cache
    assert info["bytecodeCache"] == "off"
    assert run(page, CONVOLUTION_EXAMPLE)["stdout"].strip() == "[[-7.]]"
    assert page.evaluate(READ_RECORDS) == []  # the worker dropped the record
    assert load(page, url)["bytecodeCache"] == "miss"


def test_readers_files_never_enter_the_cache(built_site, site_url, new_page):
    page = new_page().page
    url = site_url + first_page(built_site)
    load(page, url)
    saved = wait_saved(page)
    # A module of the reader's own, a module the reader put into tinycnn's folder, a standard
    # library module the reader edited, and an untouched one the reader merely imported.
    run(page, """
import colorsys, importlib, os, sys
with open("/home/pyodide/reader_module.py", "w") as handle:
    handle.write("VALUE = 42\\n")
with open("/home/pyodide/tinycnn_site/tinycnn/reader_extra.py", "w") as handle:
    handle.write("VALUE = 43\\n")
original = open(colorsys.__file__).read()
os.remove(colorsys.__file__)  # Pyodide 0.17's packaged files cannot be rewritten in place
with open(colorsys.__file__, "w") as handle:
    handle.write(original + "\\nEDITED_BY_THE_READER = True\\n")
del sys.modules["colorsys"]
sys.path.insert(0, "/home/pyodide")
importlib.invalidate_caches()
import reader_module, tinycnn.reader_extra, colorsys, fractions
assert reader_module.VALUE == 42 and tinycnn.reader_extra.VALUE == 43 and colorsys.EDITED_BY_THE_READER
""")
    wait_saved(page, saved)
    files = [entry[0] for entry in page.evaluate(READ_RECORDS)[0]["index"]["files"]]
    assert "lib/python3.8/fractions.cpython-38.pyc" in files  # the runtime's own file: cached
    assert not any("reader_module" in path or "reader_extra" in path or "colorsys" in path for path in files)

    assert load(page, url)["bytecodeCache"] == "hit"
    # The next page load has the original colorsys again, and runs it (not the edited code).
    assert run(page, "import colorsys\nhasattr(colorsys, 'EDITED_BY_THE_READER')")["result"] == "False"


def test_the_cache_can_be_turned_off(built_site, site_url, new_page):
    page = new_page(init_script="window.tinycnnSiteOptions = {bytecodeCache: false};").page
    url = site_url + first_page(built_site)
    assert load(page, url)["bytecodeCache"] == "off"
    assert run(page, CONVOLUTION_EXAMPLE)["stdout"].strip() == "[[-7.]]"
    assert run(page, "import sys\nsys.dont_write_bytecode")["result"] == "True"  # Pyodide's default
    assert load(page, url)["bytecodeCache"] == "off"
