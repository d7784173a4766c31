/* tinycnn in-page Python: the Web Worker that owns Pyodide.
 *
 * Started as a classic worker (importScripts(pyodide.js): Pyodide 0.17) or, for current Pyodide
 * releases that refuse classic workers, as a module worker (import(pyodide.mjs)); the file is valid
 * as both. It only uses the JS API common to both: loadPyodide({indexURL}), loadPackage(names),
 * loadPackagesFromImports(code), runPython, setInterruptBuffer, version. Binary files (the wheel,
 * the data) are fetched here and handed to Python as base64 strings; Python unpacks them.
 *
 * The Python half of this worker is docs/hooks/worker.py (shipped as assets/tinycnn/worker.py,
 * tested natively in tests/site/): it is downloaded while Pyodide boots and run as the module
 * tinycnn_worker; this file only calls its functions.
 *
 * Messages in:  {type: "init", config}            config: see runtime.js (indexURL, wheelURL, ...)
 *               {type: "run", id, code, namespace, cellName}
 * Messages out: {type: "progress", stage, label}  stage: runtime | numpy | tinycnn | package
 *               {type: "packages-loaded"}         the packages of a "package" stage are loaded
 *               {type: "ready", info, marks}      info: {pyodide, python, numpy, tinycnn};
 *                                                 marks: {step: epoch ms} (see mark())
 *               {type: "failed", message, kind}   kind: load | needs-module-worker | numpy-missing |
 *                                                 setup | bytecode-cache (the page retries without it)
 *               {type: "result", id, output}      output: run_cell's dict
 *               {type: "bytecode-saved", files, bytes, fresh}  the byte-code cache is stored (below)
 */
"use strict";

let py = null;
let config = null;
let interruptBuffer = null;
const loadedExtras = new Set();
const TINYCNN_DIR = "/home/pyodide/tinycnn_site";  // where the wheel is unpacked

function post(message) { self.postMessage(message); }

// When each loading step ended, in ms since the epoch (the page converts them to its own clock).
const marks = {};
function mark(name) { marks[name] = performance.timeOrigin + performance.now(); }

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

// ------------------------------------------------------------------------------------------
// Byte-code cache for returning readers
// ------------------------------------------------------------------------------------------
// Pyodide 0.17 ships Python sources without .pyc files, so every page load compiles every module
// it imports, its own boot's included (about 1 s of a warm start) -- and ordinary timestamp .pyc
// files could not help: the packaged files get a new mtime at each load. So Python writes a .pyc
// for what it compiles under PYC_PREFIX (sys.pycache_prefix), and once the runtime is ready and
// the worker idle, the .pyc files of the runtime's own modules (the standard library, Pyodide's
// packages, tinycnn -- never a reader's files) are rewritten as *unchecked hash-based* .pyc
// (PEP 552: flags 0b01 and the source's hash; Python then loads them without looking at the
// source's mtime) and stored in IndexedDB as one record: a JSON index and the concatenated bytes,
// under the key [PYC_FORMAT, the wheel's sha256, the runtime's fingerprint] (both from
// runtime.json; the record also names the Pyodide version and Python's magic number, checked after
// boot). Other keys' records are deleted. The next load reads the record while Pyodide boots and
// writes the files back under PYC_PREFIX -- with Pyodide 0.17 before Python even starts (an
// emscripten preRun, PYTHONPYCACHEPREFIX), else right after boot -- so that Python loads them
// instead of compiling. Any problem (no IndexedDB, quota, a corrupt or foreign record) means "no
// cache": the page works as without it.
const PYC_FORMAT = 1;
const PYC_PREFIX = "/tc_pycache";
const PYC_DB = "tinycnn-bytecode";
const PYC_STORE = "pyc";
const PYC_BLOB = "/tmp/tc_pycache.blob";
const PYC_IDLE_MS = 1000;    // collect once the worker has been idle this long...
const PYC_SLICE_MS = 40;     // ...in slices of about this much work, so that a Run never waits long
const PYC_BOOT_WAIT_MS = 500;  // the longest Pyodide's boot waits for IndexedDB

const bytecode = {
  status: "off",   // off | miss | hit (what info().bytecodeCache reports)
  enabled: false,  // writing, collecting and saving .pyc files
  key: null,       // IndexedDB key of this runtime's record
  reading: null,   // promise of the stored record's value (or null), read while Pyodide boots
  restored: null,  // the index of the record whose files were written back
  early: false,    // restored before Python started (Pyodide 0.17's boot hook)
  booting: false,  // Pyodide is booting (with restored files, a failure drops the record)
  FS: null,
  roots: [],       // .pyc paths (relative to PYC_PREFIX) that may be collected
  trusted: [],     // [start, end] Date.now() windows in which only the runtime wrote files
  timer: null,
  modules: -1,     // len(sys.modules) when the .pyc files were last collected
  current: false,  // the stored record holds every .pyc collected so far
};

function idbRequest(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let pycDatabase = null;
function openPycDatabase() {
  if (!pycDatabase) {
    pycDatabase = new Promise((resolve, reject) => {
      const request = indexedDB.open(PYC_DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(PYC_STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("IndexedDB is blocked"));
    });
  }
  return pycDatabase;
}

async function readPycRecord(key) {
  const db = await openPycDatabase();
  return idbRequest(db.transaction(PYC_STORE, "readonly").objectStore(PYC_STORE).get(key));
}

async function writePycRecord(key, value) {
  // Store this runtime's record and delete every other one (older wheels, formats, runtimes).
  const db = await openPycDatabase();
  const transaction = db.transaction(PYC_STORE, "readwrite");
  const store = transaction.objectStore(PYC_STORE);
  const done = new Promise((resolve, reject) => {
    transaction.oncomplete = resolve;
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error || new Error("aborted"));
  });
  for (const old of await idbRequest(store.getAllKeys())) {
    if (indexedDB.cmp(old, key) !== 0) store.delete(old);
  }
  store.put(value, key);
  return done;
}

async function deletePycRecord(key) {
  const db = await openPycDatabase();
  const transaction = db.transaction(PYC_STORE, "readwrite");
  transaction.objectStore(PYC_STORE).delete(key);
  return new Promise((resolve) => { transaction.oncomplete = transaction.onerror = transaction.onabort = resolve; });
}

function adler32(bytes) {  // the same number as Python's zlib.adler32
  let a = 1, b = 0;
  for (let i = 0; i < bytes.length;) {
    const end = Math.min(i + 5552, bytes.length);  // the largest run before b could pass 2**53
    for (; i < end; i++) { a += bytes[i]; b += a; }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function checkPycRecord(value) {
  // The record's index and bytes if the record is whole and well-formed (else throws). Every entry
  // must be an unchecked hash-based .pyc with the index's magic number under one of the roots.
  if (!value || typeof value.index !== "string" || !(value.data instanceof ArrayBuffer)) {
    throw new Error("not a byte-code cache record");
  }
  const index = JSON.parse(value.index);
  const bytes = new Uint8Array(value.data);
  if (index.format !== PYC_FORMAT || typeof index.magic !== "string" || !/^([0-9a-f]{2}){4}$/.test(index.magic) ||
      !Array.isArray(index.files) || !Array.isArray(index.roots) || index.size !== bytes.length ||
      adler32(bytes) !== index.adler32) {
    throw new Error("the byte-code cache record is damaged or of another format");
  }
  const magic = index.magic.match(/../g).map((hex) => parseInt(hex, 16));
  const flags = [1, 0, 0, 0];
  for (const entry of index.files) {
    const [path, offset, length] = Array.isArray(entry) ? entry : [];
    const parts = typeof path === "string" ? path.split("/") : [];
    const ok = parts.length > 1 && parts.every((part) => part && part !== "." && part !== "..") &&
      path.endsWith(".pyc") && index.roots.some((root) => typeof root === "string" && path.startsWith(root)) &&
      Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length > 16 &&
      offset + length <= bytes.length && magic.every((byte, i) => bytes[offset + i] === byte) &&
      flags.every((byte, i) => bytes[offset + 4 + i] === byte);
    if (!ok) throw new Error("the byte-code cache record holds an invalid entry");
  }
  return { index, bytes };
}

function writePycFiles(FS, index, bytes) {
  const made = new Set();
  for (const [path, offset, length] of index.files) {
    const target = PYC_PREFIX + "/" + path;
    const folder = target.slice(0, target.lastIndexOf("/"));
    if (!made.has(folder)) {
      FS.mkdirTree(folder);
      made.add(folder);
    }
    FS.writeFile(target, bytes.subarray(offset, offset + length));
  }
}

function restorePycRecord(FS, value) {
  // Write a stored record's files back (all or, should writing fail, those written are still valid).
  if (!value) return false;
  try {
    const { index, bytes } = checkPycRecord(value);
    writePycFiles(FS, index, bytes);
    bytecode.restored = index;
    return true;
  } catch (error) {
    console.warn("tinycnn: the byte-code cache was not used:", error.message || error);
    return false;
  }
}

function hookPyodideBoot() {
  // Pyodide 0.17's loadPyodide() importScripts pyodide.asm.js, then calls the emscripten factory
  // _createPyodideModule(Module) it defines. Wrapping that factory once adds a preRun step: it
  // points Python at PYC_PREFIX (PYTHONPYCACHEPREFIX) and writes the stored .pyc files before
  // Python starts, so that Pyodide's own boot imports them too. Other runtimes are left alone.
  const importScripts = self.importScripts;
  self.importScripts = function (...urls) {
    const result = importScripts.apply(this, urls);
    const create = self._createPyodideModule;
    if (urls.some((url) => /\/pyodide\.asm\.js$/.test(String(url))) && typeof create === "function") {
      self.importScripts = importScripts;
      self._createPyodideModule = function (Module, ...rest) {
        self._createPyodideModule = create;
        try {
          Module.preRun = [].concat(Module.preRun || [], [() => restoreBeforeBoot(Module)]);
        } catch (error) { /* boot without the cache */ }
        return create.call(this, Module, ...rest);
      };
    }
    return result;
  };
  return () => { if (self.importScripts !== importScripts) self.importScripts = importScripts; };
}

function restoreBeforeBoot(Module) {
  const FS = Module.FS;
  if (!FS || !Module.ENV || typeof Module.addRunDependency !== "function" || typeof FS.mkdirTree !== "function") return;
  Module.ENV.PYTHONPYCACHEPREFIX = PYC_PREFIX;
  bytecode.early = true;
  const dependency = "tinycnn-bytecode-cache";
  let waiting = true;
  const go = () => {
    if (!waiting) return;
    waiting = false;
    Module.removeRunDependency(dependency);
  };
  Module.addRunDependency(dependency);  // Python starts once the record is read (or not found)
  setTimeout(go, PYC_BOOT_WAIT_MS);
  bytecode.reading.then((value) => {
    if (waiting) restorePycRecord(FS, value);
    go();
  }, go);
}

function startBytecodeCache(cfg) {
  // At the start of init: reads this runtime's record while Pyodide boots. Returns a function
  // that undoes the boot hook.
  if (!cfg.bytecodeCache || !cfg.wheelSha256 || !cfg.runtimeId || typeof indexedDB === "undefined") {
    return () => {};
  }
  bytecode.key = [PYC_FORMAT, cfg.wheelSha256, cfg.runtimeId];
  bytecode.booting = true;
  bytecode.reading = readPycRecord(bytecode.key).catch(() => null);
  bytecode.trusted.push([Date.now(), Infinity]);  // closed when init ends
  return cfg.module ? () => {} : hookPyodideBoot();
}

async function setUpBytecodeCache(version) {
  // Right after Pyodide booted, before NumPy is loaded: checks what the boot hook restored (or
  // restores now), and makes Python write a .pyc for whatever it compiles from now on.
  const FS = py.FS || (py._module && py._module.FS);
  if (!bytecode.reading || !FS || typeof FS.writeFile !== "function" || typeof FS.mkdirTree !== "function" ||
      typeof FS.stat !== "function") {
    bytecode.status = "off";
    return;
  }
  let magic, stdlib;
  try {
    [magic, stdlib] = py.runPython(`tinycnn_worker.start_bytecode_cache(${JSON.stringify(PYC_PREFIX)})`).split(" ");
  } catch (error) {
    bytecode.status = "off";
    return;
  }
  bytecode.FS = FS;
  self.tcPycMtime = (path) => {
    try { return FS.stat(String(path)).mtime.getTime(); } catch (error) { return -1; }
  };
  // The standard library with Pyodide's packages, and tinycnn's package (relative to PYC_PREFIX).
  bytecode.roots = [stdlib.replace(/^\/+/, "") + "/", TINYCNN_DIR.replace(/^\/+/, "") + "/tinycnn/"];
  bytecode.enabled = true;
  bytecode.status = "miss";
  if (!bytecode.early) restorePycRecord(FS, await bytecode.reading);
  const index = bytecode.restored;
  if (!index) return;
  if (index.magic === magic && index.pyodide === version && String(index.roots) === String(bytecode.roots)) {
    bytecode.status = "hit";
    bytecode.current = true;
  } else {  // a record of another runtime under this key: Python ignored it or must not use it
    try { py.runPython(`tinycnn_worker.drop_bytecode_cache(${JSON.stringify(PYC_PREFIX)})`); } catch (e) { /* */ }
    bytecode.restored = null;
  }
}

let bootFailure = null;
function bootFailedWithCache(text) {
  // Pyodide's boot failed after cached .pyc files were put back: forget them; the page starts a
  // fresh worker without the cache (see the "error" listener below for fatal errors).
  if (!bootFailure) {
    bootFailure = deletePycRecord(bytecode.key).catch(() => {}).then(() => {
      throw Object.assign(new Error(`Pyodide failed to start with the byte-code cache (${text})`),
        { kind: "bytecode-cache" });
    });
  }
  return bootFailure;
}

// A fatal error inside Pyodide's boot (Python's start-up runs from whichever callback removed the
// last run dependency) surfaces as an uncaught error or an unhandled rejection, not as a rejected
// loadPyodide() promise.
function onBootError(event, reason) {
  if (!bytecode.booting || !bytecode.restored) return;
  event.preventDefault();  // not a crash for the page: it retries without the cache
  bootFailedWithCache(String(reason && reason.message || reason || "a fatal error")).catch((error) => {
    post({ type: "failed", kind: error.kind, message: error.message });
  });
}
self.addEventListener("error", (event) => onBootError(event, event.error || event.message));
self.addEventListener("unhandledrejection", (event) => onBootError(event, event.reason));

function trustUntilNow() {
  // Closes the open trusted window (files written so far were written by the runtime itself).
  const open = bytecode.trusted.find((window) => window[1] === Infinity);
  if (open) open[1] = Date.now();
}

function saveBytecodeCache() {
  // Off the critical path (the worker is idle): collect the .pyc files and, if any is new, store
  // them. The collection runs in the worker's queue; the IndexedDB write does not hold it up.
  if (!bytecode.enabled) return;
  let result, data;
  try {
    // called slice after slice (budget: PYC_SLICE_MS) until it is done
    result = JSON.parse(py.runPython(`tinycnn_worker.collect_pyc(${JSON.stringify(PYC_PREFIX)}, ` +
      `${JSON.stringify(bytecode.roots)}, ${JSON.stringify(bytecode.trusted.filter((w) => w[1] !== Infinity))}, ` +
      `${JSON.stringify(PYC_BLOB)}, ${PYC_SLICE_MS / 1000}, js.tcPycMtime)`));
    if (result.more) {
      scheduleBytecodeSave(0);
      return;
    }
    bytecode.modules = py.runPython("tinycnn_worker.module_count()");
    data = bytecode.FS.readFile(PYC_BLOB);
    bytecode.FS.unlink(PYC_BLOB);
  } catch (error) {
    console.warn("tinycnn: could not collect the byte-code cache:", error.message || error);
    bytecode.enabled = false;
    return;
  }
  const files = result.index.files.length;
  if (!result.fresh && bytecode.current) {  // the stored record already holds all of them
    post({ type: "bytecode-saved", files, bytes: data.length, fresh: 0 });
    return;
  }
  const index = Object.assign({ format: PYC_FORMAT, pyodide: String(py.version) }, result.index);
  const value = { index: JSON.stringify(index), data: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) };
  writePycRecord(bytecode.key, value).then(() => {
    bytecode.current = true;
    post({ type: "bytecode-saved", files, bytes: data.length, fresh: result.fresh });
  }, (error) => {
    console.warn("tinycnn: could not store the byte-code cache:", error && (error.message || error));
  });
}

function loadWorkerModule(source) {
  // Runs docs/hooks/worker.py as the module tinycnn_worker, also bound in Pyodide's globals.
  self.tcWorkerPython = source;
  py.runPython(`import js, sys, types
tinycnn_worker = types.ModuleType("tinycnn_worker")
tinycnn_worker.__file__ = "worker.py"
exec(compile(str(js.tcWorkerPython), "worker.py", "exec", dont_inherit=True), tinycnn_worker.__dict__)
sys.modules["tinycnn_worker"] = tinycnn_worker`);
  self.tcWorkerPython = null;
}

async function init(cfg) {
  mark("worker");
  config = cfg;
  const sizes = cfg.sizes || {};
  const unhook = startBytecodeCache(cfg);  // IndexedDB is read while Pyodide boots
  // NumPy's data file too: Pyodide 0.17's package loader would only request it after the boot.
  const numpyData = cfg.module ? null : fetch(cfg.indexURL + "numpy.data")
    .then((response) => (response.ok ? response.arrayBuffer() : null)).catch(() => null);
  // The small files download while Pyodide boots.
  const workerPython = fetchOk(cfg.workerURL, "the worker's Python").then((r) => r.text());
  workerPython.catch(() => {});  // reported when awaited below
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
    unhook();
    const text = String(error && error.message || error);
    if (!cfg.module && /Classic web workers are not supported/.test(text)) {
      throw Object.assign(new Error(text), { kind: "needs-module-worker" });
    }
    if (bytecode.restored) await bootFailedWithCache(text);
    throw Object.assign(new Error(
      `the Python runtime at ${cfg.indexURL} failed to start (${text})`), { kind: "load" });
  }
  unhook();
  bytecode.booting = false;
  // Pyodide 0.17 resolves with the API object and also sets globalThis.pyodide.
  if (!py || typeof py.runPython !== "function") py = self.pyodide;
  mark("booted");
  const version = String(py.version);
  try {
    loadWorkerModule(await workerPython);
  } catch (error) {
    throw Object.assign(error, { kind: error.kind || "setup" });
  }
  await setUpBytecodeCache(version);
  mark("bytecode");
  if (cfg.interruptBuffer && typeof py.setInterruptBuffer === "function") {
    interruptBuffer = cfg.interruptBuffer;
    py.setInterruptBuffer(interruptBuffer);
  }

  post({ type: "progress", stage: "numpy", bytes: sizes.numpy || null, cached: bytecode.status === "hit" });
  let loadError = null;
  const Module = py._module;
  const prefetched = numpyData ? await numpyData : null;
  if (prefetched && Module && !Module.getPreloadedPackage) {
    // Emscripten's package loader asks Module.getPreloadedPackage(url, size) before downloading.
    Module.getPreloadedPackage = (url, size) =>
      (/(^|\/)numpy\.data$/.test(String(url)) && size === prefetched.byteLength ? prefetched : null);
  }
  try {
    await py.loadPackage(["numpy"]);
  } catch (error) {
    loadError = error;
  }
  if (Module && Module.getPreloadedPackage) delete Module.getPreloadedPackage;
  mark("numpyLoaded");
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
    py.runPython("import numpy");
    mark("numpyImported");
    info = JSON.parse(py.runPython(`tinycnn_worker.setup(${JSON.stringify(TINYCNN_DIR)}, js.tcWheel, ` +
      "js.tcDataDir, js.tcDataFiles, js.tcCellrunner)"));
  } catch (error) {
    if (bytecode.status === "hit") {
      // Should a cached .pyc ever break an import, forget the record: the page starts a fresh
      // worker without the cache.
      await deletePycRecord(bytecode.key).catch(() => {});
      throw Object.assign(new Error(`importing with the byte-code cache failed: ${error.message || error}`),
        { kind: "bytecode-cache" });
    }
    throw Object.assign(new Error(`installing tinycnn in the page failed: ${error.message || error}`),
      { kind: "setup" });
  }
  self.tcWheel = self.tcDataFiles = self.tcCellrunner = null;
  mark("setup");
  info.pyodide = version;
  info.bytecodeCache = bytecode.status;
  trustUntilNow();  // from now on readers' code runs too
  return info;
}

async function loadImports(code) {
  // Optional Pyodide packages (matplotlib, Pillow) that this code needs, loaded on demand, then
  // anything else Pyodide recognises in its imports.
  const wanted = (config.packages || []).filter((item) =>
    !loadedExtras.has(item.name) && new RegExp(item.pattern, "m").test(code));
  const loaded = Object.keys(py.loadedPackages || {}).length;
  bytecode.trusted.push([Date.now(), Infinity]);  // files written now are the packages' own
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
  trustUntilNow();
  if (Object.keys(py.loadedPackages || {}).length === loaded) bytecode.trusted.pop();  // nothing installed
  if (wanted.length) post({ type: "packages-loaded" });
}

async function applyPatch(patch) {
  // Replace a file inside an installed package (see SAMPLE_PHOTO in docs/hooks/runtime.py).
  const data = await fetchOk(patch.url, patch.path).then((r) => r.arrayBuffer());
  self.tcPatch = toBase64(data);
  py.runPython(`tinycnn_worker.apply_patch(${JSON.stringify(patch.package)}, ${JSON.stringify(patch.path)}, ` +
    `js.tcPatch, ${patch.gzip ? "True" : "False"})`);
  self.tcPatch = null;
}

// Live output of the running cell (see tinycnn_worker.run). Python runs synchronously here (no timer can
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
  const json = py.runPython(`tinycnn_worker.run(${JSON.stringify(message.namespace)}, ` +
    `${JSON.stringify(message.cellName || "<cell>")}, js.tcCode, js.tcStream)`);
  self.tcCode = null;
  if (bytecode.enabled) {  // the code imported new modules (e.g. matplotlib): update the cache
    try {
      if (py.runPython("tinycnn_worker.module_count()") !== bytecode.modules) scheduleBytecodeSave();
    } catch (error) { /* the cache is only an optimisation */ }
  }
  return JSON.parse(json);
}

// One queue: init, runs and the cache's collection never overlap.
let queue = Promise.resolve();
let queued = 0;

function schedule(task) {
  queued++;
  const result = queue.then(task);
  queue = result.catch(() => {}).then(() => { queued--; });
  return result;
}

function scheduleBytecodeSave(delay = PYC_IDLE_MS) {
  // Debounced: collect once the worker has been idle for PYC_IDLE_MS.
  if (!bytecode.enabled) return;
  clearTimeout(bytecode.timer);
  bytecode.timer = setTimeout(() => {
    if (queued) scheduleBytecodeSave();
    else schedule(saveBytecodeCache);
  }, delay);
}

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "init") {
    schedule(() => init(message.config)).then(
      (info) => { post({ type: "ready", info, marks }); scheduleBytecodeSave(); },
      (error) => post({ type: "failed", kind: error.kind || "load", message: error.message || String(error),
        pyodide: error.pyodide || null }));
  } else if (message.type === "run") {
    schedule(() => run(message)).then(
      (output) => post({ type: "result", id: message.id, output }),
      (error) => post({ type: "result", id: message.id, output: {
        stdout: "", stderr: "", result: null, images: [],
        error: `the page's Python runtime failed: ${error.message || error}` } }));
  }
};
