/* tinycnn in-page Python: the Web Worker that owns Pyodide.
 *
 * Started as a classic worker (importScripts(pyodide.js): Pyodide 0.17) or, for current Pyodide
 * releases that refuse classic workers, as a module worker (import(pyodide.mjs)); the file is valid
 * as both. It only uses the JS API common to both: loadPyodide({indexURL}), loadPackage(names),
 * loadPackagesFromImports(code), runPython, setInterruptBuffer, version. Binary files (the wheel,
 * the data) are fetched here and handed to Python as base64 strings; Python unpacks them.
 *
 * Messages in:  {type: "init", config}            config: see runtime.js (indexURL, wheelURL, ...)
 *               {type: "run", id, code, namespace, cellName}
 *               {type: "forget", namespace}
 * Messages out: {type: "progress", stage, label}  stage: runtime | numpy | tinycnn | package
 *               {type: "ready", info}             info: {pyodide, python, numpy, tinycnn}
 *               {type: "failed", message, kind}   kind: load | numpy-missing | setup
 *               {type: "result", id, output}      output: run_cell's dict
 */
"use strict";

let py = null;
let config = null;
let interruptBuffer = null;
const loadedExtras = new Set();

function post(message) { self.postMessage(message); }

function toBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

async function fetchOk(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`could not download ${what} from ${url} (${error.message || error})`);
  }
  if (!response.ok) {
    throw new Error(`could not download ${what} from ${url} (HTTP ${response.status})`);
  }
  return response;
}

// Python side of the bootstrap: unpack the wheel onto sys.path, write data files, load the
// cell runner (the very file the site build uses) as a module.
const SETUP_PY = `
import base64, io, json, os, sys, types, zipfile, importlib
import js

def _tc_setup():
    target = "/home/pyodide/tinycnn_site"
    os.makedirs(target, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(js.tcWheel))) as wheel:
        wheel.extractall(target)
    if target not in sys.path:
        sys.path.insert(0, target)
    importlib.invalidate_caches()
    data_dir = str(js.tcDataDir)
    os.makedirs(data_dir, exist_ok=True)
    files = json.loads(js.tcDataFiles)
    for name, payload in files.items():
        with open(os.path.join(data_dir, name), "wb") as handle:
            handle.write(base64.b64decode(payload))
    os.environ["TINYCNN_DATA"] = data_dir
    os.environ.setdefault("MPLBACKEND", "Agg")
    module = types.ModuleType("tinycnn_cellrunner")
    module.__file__ = "cellrunner.py"
    exec(compile(str(js.tcCellrunner), "cellrunner.py", "exec"), module.__dict__)
    sys.modules["tinycnn_cellrunner"] = module
    import numpy, tinycnn
    return json.dumps({
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "tinycnn": tinycnn.__version__,
    })

_tc_namespaces = {}

class _TcLiveText(io.StringIO):
    """A StringIO that also streams what is written to the page (live progress bars).

    run_cell captures stdout then stderr in two io.StringIO objects; while a cell runs, the runner
    module sees this class instead, so the page can show output before the cell ends. The final
    output still comes from run_cell's return value."""
    created = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tc_kind = "stdout" if _TcLiveText.created == 0 else "stderr"
        _TcLiveText.created += 1

    def write(self, text):
        count = super().write(text)
        try:
            js.tcStream(self._tc_kind, text)
        except Exception:
            pass
        return count


def _tc_run(namespace_key, cell_name):
    import tinycnn_cellrunner
    namespace = _tc_namespaces.setdefault(str(namespace_key), {"__name__": "__main__"})
    real_io = tinycnn_cellrunner.__dict__.get("io")
    if real_io is io:
        live_io = types.ModuleType("io")
        live_io.__dict__.update(io.__dict__)
        live_io.StringIO = _TcLiveText
        _TcLiveText.created = 0
        tinycnn_cellrunner.io = live_io
    try:
        output = tinycnn_cellrunner.run_cell(str(js.tcCode), namespace, str(cell_name))
    finally:
        if real_io is io:
            tinycnn_cellrunner.io = real_io
    return json.dumps(output)

def _tc_forget(namespace_key):
    _tc_namespaces.pop(str(namespace_key), None)
`;

async function init(cfg) {
  config = cfg;
  const sizes = cfg.sizes || {};
  // The small files download while Pyodide boots.
  const downloads = Promise.all([
    fetchOk(cfg.wheelURL, "the tinycnn wheel").then((r) => r.arrayBuffer()),
    fetchOk(cfg.cellrunnerURL, "the cell runner").then((r) => r.text()),
    ...cfg.data.map((item) => fetchOk(item.url, item.name).then((r) => r.arrayBuffer())),
  ]);
  downloads.catch(() => {});  // reported when awaited below
  post({ type: "progress", stage: "runtime", bytes: sizes.runtime || null });
  let load = null;
  if (cfg.module) {  // module worker (current Pyodide): the ES module build
    try {
      load = (await import(cfg.indexURL + "pyodide.mjs")).loadPyodide;
    } catch (error) {
      throw Object.assign(new Error(
        `could not load the Python runtime from ${cfg.indexURL}pyodide.mjs (${error.message || error})`),
        { kind: "load" });
    }
  } else {  // classic worker (Pyodide 0.17 and later): the classic script defines loadPyodide
    try {
      importScripts(cfg.indexURL + "pyodide.js");
    } catch (error) {
      if (/Classic web workers are not supported/.test(String(error && error.message || error))) {
        throw Object.assign(new Error(String(error.message)), { kind: "needs-module-worker" });
      }
      throw Object.assign(new Error(
        `could not load the Python runtime from ${cfg.indexURL}pyodide.js (${error.message || error})`),
        { kind: "load" });
    }
    load = self.loadPyodide;
  }
  if (typeof load !== "function") {
    throw Object.assign(new Error(`${cfg.indexURL} does not provide loadPyodide()`), { kind: "load" });
  }
  try {
    py = await load({ indexURL: cfg.indexURL });
  } catch (error) {
    const text = String(error && error.message || error);
    if (!cfg.module && /Classic web workers are not supported/.test(text)) {
      throw Object.assign(new Error(text), { kind: "needs-module-worker" });
    }
    throw Object.assign(new Error(
      `the Python runtime at ${cfg.indexURL} failed to start (${text})`), { kind: "load" });
  }
  // Pyodide 0.17 resolves with the API object and also sets globalThis.pyodide.
  if (!py || typeof py.runPython !== "function") py = self.pyodide;
  const version = String(py.version);
  if (cfg.interruptBuffer && typeof py.setInterruptBuffer === "function") {
    interruptBuffer = cfg.interruptBuffer;
    py.setInterruptBuffer(interruptBuffer);
  }

  post({ type: "progress", stage: "numpy", bytes: sizes.numpy || null });
  let loadError = null;
  try {
    await py.loadPackage(["numpy"]);
  } catch (error) {
    loadError = error;
  }
  let hasNumpy = false;
  try {
    hasNumpy = py.runPython("import importlib.util\nimportlib.util.find_spec('numpy') is not None") === true;
  } catch (error) { hasNumpy = false; }
  if (!hasNumpy) {
    throw Object.assign(new Error(
      `this Python runtime (Pyodide ${version}, loaded from ${cfg.indexURL}) has no NumPy package, ` +
      `and tinycnn needs NumPy` + (loadError ? ` (loading it failed: ${loadError.message || loadError})` : "") +
      `. Use a Pyodide distribution that includes NumPy, e.g. the self-hosted default ` +
      `(extra.tinycnn.runtime: self-hosted).`), { kind: "numpy-missing", pyodide: version });
  }

  post({ type: "progress", stage: "tinycnn", bytes: cfg.wheelSize || null });
  let wheel, cellrunner, data;
  try {
    [wheel, cellrunner, ...data] = await downloads;
  } catch (error) {
    throw Object.assign(error, { kind: "load" });
  }
  const dataFiles = {};
  cfg.data.forEach((item, i) => { dataFiles[item.name] = toBase64(data[i]); });
  self.tcWheel = toBase64(wheel);
  self.tcCellrunner = cellrunner;
  self.tcDataFiles = JSON.stringify(dataFiles);
  self.tcDataDir = cfg.dataDir;
  let info;
  try {
    py.runPython(SETUP_PY);
    info = JSON.parse(py.runPython("_tc_setup()"));
  } catch (error) {
    throw Object.assign(new Error(`installing tinycnn in the page failed: ${error.message || error}`),
      { kind: "setup" });
  }
  self.tcWheel = self.tcDataFiles = null;
  info.pyodide = version;
  return info;
}

async function loadImports(code) {
  // Optional Pyodide packages (matplotlib, Pillow) that this code needs, loaded on demand, then
  // anything else Pyodide recognises in its imports.
  const wanted = (config.packages || []).filter((item) =>
    !loadedExtras.has(item.name) && new RegExp(item.pattern, "m").test(code));
  if (wanted.length) {
    const bytes = wanted.reduce((sum, item) => sum + (item.size || 0), 0);
    post({ type: "progress", stage: "package", label: wanted.map((item) => item.name).join(", "),
      bytes: bytes || null });
    for (const item of wanted) {
      try {
        await py.loadPackage([item.name]);
      } catch (error) { /* the import in the cell reports what is missing */ }
      loadedExtras.add(item.name);
      for (const patch of (config.patches || []).filter((p) => p.package === item.name)) {
        try {
          await applyPatch(patch);
        } catch (error) {
          console.warn(`tinycnn: could not replace ${patch.path} in ${patch.package}:`, error);
        }
      }
    }
  }
  if (typeof py.loadPackagesFromImports === "function") {
    try { await py.loadPackagesFromImports(code); } catch (error) { /* the import itself will report it */ }
  }
  if (wanted.length) post({ type: "progress", stage: "packages-done" });
}

async function applyPatch(patch) {
  // Replace a file inside an installed package (see SAMPLE_PHOTO in docs/hooks/runtime.py).
  const data = await fetchOk(patch.url, patch.path).then((r) => r.arrayBuffer());
  self.tcPatch = toBase64(data);
  py.runPython(`
def _tc_patch(package, path, compressed):
    import base64, gzip, importlib.util, os, js
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return
    data = base64.b64decode(js.tcPatch)
    if compressed:
        data = gzip.decompress(data)
    target = os.path.join(list(spec.submodule_search_locations)[0], path)
    if os.path.exists(target):
        os.remove(target)  # a packaged file cannot be overwritten in place in Pyodide 0.17
    with open(target, "wb") as handle:
        handle.write(data)
_tc_patch(${JSON.stringify(patch.package)}, ${JSON.stringify(patch.path)}, ${patch.gzip ? "True" : "False"})
`);
  self.tcPatch = null;
}

// Live output of the running cell (see _TcLiveText). Python runs synchronously here (no timer can
// fire meanwhile), so every write is posted at once; the page redraws at most once a frame.
let streamId = null;
self.tcStream = (kind, text) => {
  post({ type: "stream", id: streamId, parts: [[String(kind), String(text)]] });
};

async function run(message) {
  await loadImports(message.code);
  streamId = message.id;
  self.tcCode = message.code;
  if (interruptBuffer) interruptBuffer[0] = 0;
  const json = py.runPython(
    `_tc_run(${JSON.stringify(message.namespace)}, ${JSON.stringify(message.cellName || "<cell>")})`);
  self.tcCode = null;
  return JSON.parse(json);
}

let queue = Promise.resolve();

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "init") {
    queue = queue.then(() => init(message.config)).then(
      (info) => post({ type: "ready", info }),
      (error) => post({ type: "failed", kind: error.kind || "load", message: error.message || String(error),
        pyodide: error.pyodide || null }));
  } else if (message.type === "run") {
    queue = queue.then(() => run(message)).then(
      (output) => post({ type: "result", id: message.id, output }),
      (error) => post({ type: "result", id: message.id, output: {
        stdout: "", stderr: "", result: null, images: [],
        error: `the page's Python runtime failed: ${error.message || error}` } }));
  } else if (message.type === "forget") {
    queue = queue.then(() => { if (py) py.runPython(`_tc_forget(${JSON.stringify(message.namespace)})`); });
  }
};
