/* tinycnn in-page Python: turns the site's runnable cells into editable, runnable code.
 *
 * The build (docs/hooks/execute.py) renders each ```python block as
 *   <div class="tc-cell" data-runnable data-cell="N"> <script class="tc-source"> (JSON source)
 *   <div class="highlight"> (highlighted code) <div class="tc-output"> (build-time output) </div>
 * This script replaces the highlighted code by an editor with Run / Stop / Reset / Copy buttons, adds a
 * page bar (Run all, Stop, loading status), and runs the code in a Web Worker with Pyodide
 * (docs/javascripts/tinycnn-worker.js) against the tinycnn wheel built from the checkout.
 *
 * Page API (documented in docs/in-browser.md): window.tinycnnSite = {ready, loadPython, run, stop, runAll,
 * info, state, timings, downloadSize, cells,
 * runIn, editor}. Events on document: tinycnn:runtime-loading, tinycnn:runtime-ready.
 * Options, set before this script loads: window.tinycnnSiteOptions = {runtimeURL, bytecodeCache}.
 *
 * Python on intent: nothing of the runtime (Pyodide, NumPy, the wheel, the data) and not the editor
 * (CodeMirror, ~420 kB) is fetched until something asks for Python: Run, Run all, loadPython() or
 * ready(). docs/javascripts/intent.js decides when the reader has shown intent (pointer, focus or
 * touch on a cell or a demo, "Load Python now", the remembered preference) and calls loadPython().
 * Until then the cells show the build's highlighted code and outputs; only the small runtime.json
 * (sizes and versions for the page bar) is read.
 * tinycnnSite.cells() lists the page's cells; every change of a cell's code (typing, Reset,
 * setCode) fires "tinycnn:cell-change" on document, detail {index}.
 */
(function () {
  "use strict";
  if (window.tinycnnSite) return;  // loaded twice (instant navigation keeps this script alive)

  const script = document.currentScript;
  const SITE_ROOT = new URL("../", script ? script.src : location.href).href;
  const OPTIONS = window.tinycnnSiteOptions = window.tinycnnSiteOptions || {};
  const STOPPED_RESET =
    "Stopped. The Python runtime was restarted, so the variables of this page were reset: " +
    "run the cells above again before this one.";

  // ------------------------------------------------------------------------------------------
  // Small helpers
  // ------------------------------------------------------------------------------------------
  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === true) node.setAttribute(key, "");
      else if (value !== false && value != null) node.setAttribute(key, value);
    }
    if (text != null) node.textContent = text;
    return node;
  }

  /** Runs fn for every page the reader sees: on load, and after each of Material's instant
   *  navigations (document$ emits the new page). Scripts run fn in the order they subscribed. */
  function onEveryPage(fn) {
    if (window.document$ && typeof window.document$.subscribe === "function") {
      window.document$.subscribe(() => fn());
    } else if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", () => fn());
    } else {
      fn();
    }
  }

  function formatBytes(bytes) {
    if (!bytes) return "";
    if (bytes >= 1e6) return (bytes / 1e6).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1e3)) + " kB";
  }

  function announce(name, detail) {  // tinycnn:runtime-loading / -ready, for other scripts (offline cache)
    document.dispatchEvent(new CustomEvent("tinycnn:" + name, { detail }));
  }

  function withSize(text, bytes) {
    return bytes ? `${text} (${formatBytes(bytes)})` : text;
  }

  function loadScript(url) {
    return new Promise((resolve, reject) => {
      const tag = el("script", { src: url });
      tag.onload = resolve;
      tag.onerror = () => reject(new Error("could not load " + url));
      document.head.appendChild(tag);
    });
  }

  let manifestPromise = null;
  function manifest() {
    if (!manifestPromise) {
      manifestPromise = fetch(SITE_ROOT + "assets/tinycnn/runtime.json").then((response) => {
        if (!response.ok) throw new Error(`the runtime manifest is missing (HTTP ${response.status})`);
        return response.json();
      });
    }
    return manifestPromise;
  }

  let editorPromise = null;
  function loadEditor() {
    if (!editorPromise) {
      editorPromise = manifest().then(async (m) => {
        for (const css of m.codemirror.styles) {
          document.head.appendChild(el("link", { rel: "stylesheet", href: SITE_ROOT + css }));
        }
        for (const js of m.codemirror.scripts) await loadScript(SITE_ROOT + js);
        return window.CodeMirror;
      });
    }
    return editorPromise;
  }

  // ------------------------------------------------------------------------------------------
  // The kernel: one Web Worker with Pyodide, shared by all pages of the visit
  // ------------------------------------------------------------------------------------------
  const kernel = {
    worker: null,
    state: "idle",          // idle | loading | ready | failed
    stage: null,            // {stage, label, bytes} while loading
    info: null,
    failure: null,
    readyPromise: null,
    pending: new Map(),     // id -> resolve
    listeners: new Map(),   // id -> callback for live output parts [[kind, text], ...]
    nextId: 1,
    interrupt: null,        // Uint8Array on a SharedArrayBuffer when cross-origin isolated
    generation: 0,          // bumped by stop(): queued runs of an older generation are cancelled
    resets: 0,
    timings: {},            // performance.now() at each loading step (ms since navigation)

    ensure() {
      if (this.state === "ready") return Promise.resolve(this.info);
      if (this.state === "failed") this.readyPromise = null;  // try again (e.g. back online)
      if (this.readyPromise) return this.readyPromise;
      this.readyPromise = this.start();
      return this.readyPromise;
    },

    async start() {
      this.timings = { start: performance.now() };
      this.state = "loading";
      this.stage = { stage: "runtime", bytes: null };
      renderStatus();
      announce("runtime-loading", {});
      let m;
      try {
        m = await manifest();
      } catch (error) {
        return this.fail(`could not read the site's runtime manifest: ${error.message}`);
      }
      const runtimeURL = OPTIONS.runtimeURL || m.runtime.indexURL;
      const indexURL = new URL(runtimeURL.endsWith("/") ? runtimeURL : runtimeURL + "/", SITE_ROOT).href;
      const sizes = OPTIONS.runtimeURL ? {} : (m.runtime.sizes || {});
      this.interrupt = (window.crossOriginIsolated && typeof SharedArrayBuffer === "function")
        ? new Uint8Array(new SharedArrayBuffer(1)) : null;
      const config = {
        indexURL,
        sizes,
        wheelURL: SITE_ROOT + m.wheel,
        wheelSize: m.wheelSize,
        wheelSha256: m.wheelSha256 || null,
        runtimeId: OPTIONS.runtimeURL ? indexURL : (m.runtimeFingerprint || indexURL),
        bytecodeCache: m.bytecodeCache !== false && OPTIONS.bytecodeCache !== false,
        tinycnn: m.tinycnn,
        cellrunnerURL: SITE_ROOT + m.cellrunner,
        workerURL: SITE_ROOT + m.worker,
        data: m.data.map((item) => ({ name: item.name, url: SITE_ROOT + item.url })),
        dataDir: m.dataDir,
        packages: m.packages || [],
        patches: (m.patches || []).map((item) => Object.assign({}, item, { url: SITE_ROOT + item.url })),
        interruptBuffer: this.interrupt,
      };
      return this.spawn(config, this.moduleWorker === true);
    },

    spawn(config, moduleWorker) {
      // Pyodide 0.17 boots in a classic worker (importScripts(pyodide.js)); current Pyodide refuses
      // classic workers, so on its "Classic web workers are not supported" the kernel retries in a
      // module worker (import(pyodide.mjs)). The same worker file serves both.
      const url = SITE_ROOT + "javascripts/tinycnn-worker.js";
      const worker = moduleWorker ? new Worker(url, { type: "module" }) : new Worker(url);
      this.timings.spawn = performance.now();
      config = Object.assign({}, config, { module: moduleWorker });
      this.worker = worker;
      return new Promise((resolve, reject) => {
        this.rejectStart = reject;
        worker.onmessage = (event) => {
          if (worker !== this.worker) return;
          const message = event.data;
          if (message.type === "progress") {
            this.timings[message.stage] = performance.now();
            this.stage = message;
            renderStatus();
          } else if (message.type === "ready") {
            this.timings.ready = performance.now();
            for (const [step, epoch] of Object.entries(message.marks || {})) {
              this.timings[step] = epoch - performance.timeOrigin;  // the worker's clock -> the page's
            }
            this.state = "ready";
            this.stage = null;
            this.info = message.info;
            renderStatus();
            announce("runtime-ready", { info: this.info });
            resolve(this.info);
          } else if (message.type === "failed" && message.kind === "needs-module-worker" && !moduleWorker) {
            worker.terminate();
            this.moduleWorker = true;
            this.spawn(config, true).then(resolve, reject);
          } else if (message.type === "failed" && message.kind === "bytecode-cache" && config.bytecodeCache) {
            worker.terminate();  // a cached .pyc broke an import (the worker forgot it): start afresh
            this.spawn(Object.assign({}, config, { bytecodeCache: false }), moduleWorker).then(resolve, reject);
          } else if (message.type === "packages-loaded") {
            if (this.stage && this.stage.stage === "package") this.stage = null;
            renderStatus();
          } else if (message.type === "bytecode-saved") {
            this.timings.bytecodeSaved = performance.now();
          } else if (message.type === "failed") {
            this.fail(message.message).catch(reject);
          } else if (message.type === "stream") {
            const listener = this.listeners.get(message.id);
            if (listener) listener(message.parts);
          } else if (message.type === "result") {
            this.listeners.delete(message.id);
            const done = this.pending.get(message.id);
            this.pending.delete(message.id);
            if (done) done(message.output);
            if (this.stage && this.stage.stage === "package") { this.stage = null; }
            renderStatus();
          }
        };
        worker.onerror = (event) => {
          if (worker !== this.worker) return;
          event.preventDefault();
          this.fail(`the Python worker crashed (${event.message || "unknown error"})`).catch(reject);
        };
        worker.postMessage({ type: "init", config });
      });
    },

    async fail(message) {
      this.state = "failed";
      this.failure = message;
      this.stage = null;
      if (this.worker) this.worker.terminate();
      this.worker = null;
      for (const done of this.pending.values()) {
        done({ stdout: "", stderr: "", result: null, images: [], error: "Python is not available: " + message });
      }
      this.pending.clear();
      renderStatus();
      throw new Error(message);
    },

    exec(code, namespace, cellName, onStream) {
      return this.ensure().then(() => new Promise((resolve) => {
        const id = this.nextId++;
        this.pending.set(id, resolve);
        if (onStream) this.listeners.set(id, onStream);
        this.worker.postMessage({ type: "run", id, code, namespace, cellName });
        renderStatus();
      }), (error) => {
        if (error.stopped) return { stdout: "", stderr: "", result: null, images: [], error: error.message, stopped: true };
        throw error;
      });
    },

    busy() { return this.pending.size > 0; },

    stop() {
      this.generation++;
      if (this.state === "loading") {
        this.restart(false);
        return;
      }
      if (!this.busy()) return;
      if (this.interrupt) {
        this.interrupt[0] = 2;  // SIGINT: Python raises KeyboardInterrupt at the next bytecode
        const waiting = new Set(this.pending.keys());
        setTimeout(() => {
          if ([...waiting].some((id) => this.pending.has(id))) this.restart(true);
        }, 2000);
      } else {
        this.restart(true);
      }
    },

    restart(hadState) {
      if (this.worker) this.worker.terminate();
      this.worker = null;
      if (this.state === "loading" && this.rejectStart) {
        this.rejectStart(Object.assign(new Error("Stopped while Python was loading."), { stopped: true }));
      }
      this.rejectStart = null;
      this.state = "idle";
      this.readyPromise = null;
      this.info = null;
      if (hadState) this.resets++;
      const stopped = { stdout: "", stderr: "", result: null, images: [], error: STOPPED_RESET, stopped: true };
      for (const done of this.pending.values()) done(stopped);
      this.pending.clear();
      this.listeners.clear();
      renderStatus();
      if (hadState) document.dispatchEvent(new CustomEvent("tinycnn:runtime-restarted"));
      if (hadState) this.ensure().catch(() => {});  // a fresh worker, ready for the next run
    },
  };

  // ------------------------------------------------------------------------------------------
  // Running code: one queue for the page (cells run in the order they were asked to)
  // ------------------------------------------------------------------------------------------
  let queue = Promise.resolve();

  function namespaceKey() { return location.pathname; }

  function enqueue(task) {
    const generation = kernel.generation;
    const result = queue.then(() => {
      if (generation !== kernel.generation) {
        return { stdout: "", stderr: "", result: null, images: [], error: "Cancelled by Stop.", stopped: true };
      }
      return task();
    });
    queue = result.catch(() => {});
    return result;
  }

  function publicOutput(output) {
    return { stdout: output.stdout, stderr: output.stderr, result: output.result, error: output.error,
      images: output.images || [] };
  }

  function runIn(namespace, code, options) {
    // Runs code in a named namespace of its own (not the page's), optionally emptied first
    // (fresh) and stopped after timeoutSeconds (then {timedOut: true, restarted}: restarted means
    // the worker was restarted, so every namespace, the page's too, is gone).
    const opts = options || {};
    return enqueue(async () => {
      await kernel.ensure();  // loading Python does not count towards the time limit
      const resets = kernel.resets;
      const key = "runIn:" + String(namespace);
      if (opts.fresh) await kernel.exec("globals().clear()", key, "<fresh>");  // the runner puts __builtins__ back
      const run = kernel.exec(String(code), key, opts.cellName || "<run>");
      if (!(opts.timeoutSeconds > 0)) return publicOutput(await run);
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; kernel.stop(); }, opts.timeoutSeconds * 1000);
      const output = publicOutput(await run);
      clearTimeout(timer);
      if (timedOut) Object.assign(output, { timedOut: true, restarted: kernel.resets > resets });
      return output;
    });
  }

  // ------------------------------------------------------------------------------------------
  // Page UI
  // ------------------------------------------------------------------------------------------
  let cells = [];      // cells of the current page
  let pageBar = null;  // {root, status, progress, runAll, stop}

  const STAGES = { runtime: 1, numpy: 2, tinycnn: 3 };

  function statusText() {
    const m = manifestCache;
    const version = m ? `tinycnn ${m.tinycnn}` : "tinycnn";
    if (kernel.state === "failed") {
      return `Python could not be loaded: ${kernel.failure}. The outputs below are the ones computed ` +
        "when this site was built.";
    }
    if (kernel.state === "loading" && kernel.stage) {
      const s = kernel.stage;
      if (s.stage === "runtime") return withSize("Loading the Python runtime, Pyodide", s.bytes) + "… step 1 of 3";
      if (s.stage === "numpy") {
        return withSize("Loading NumPy", s.bytes) + (s.cached ? ", compiled code from your browser's cache" : "") +
          "… step 2 of 3";
      }
      if (s.stage === "tinycnn") return withSize(`Installing ${version} and its data`, s.bytes) + "… step 3 of 3";
    }
    if (kernel.state === "ready") {
      if (kernel.stage && kernel.stage.stage === "package") {
        return withSize(`Loading ${kernel.stage.label}`, kernel.stage.bytes) + "…";
      }
      return kernel.busy() ? "Python is running…" : "Python is ready: edit and run any cell.";
    }
    const total = m ? downloadBytes(m) : 0;
    const restarted = kernel.resets ? "Python was restarted (variables reset). " : "";
    return restarted + `${version} runs in your browser: press Run on a cell` +
      (total ? ` (the first run downloads ${formatBytes(total)})` : "") + ".";
  }

  /** Bytes the first load downloads (runtime, NumPy, wheel, data); 0 when the runtime is elsewhere. */
  function downloadBytes(m) {
    if (OPTIONS.runtimeURL) return 0;
    const sizes = m.runtime.sizes || {};
    return (sizes.runtime || 0) + (sizes.numpy || 0) + (m.wheelSize || 0) +
      (m.data || []).reduce((sum, item) => sum + (item.size || 0), 0);
  }

  let manifestCache = null;

  function versionText() {
    const i = kernel.info;
    if (i) return `tinycnn ${i.tinycnn} · Python ${i.python} · NumPy ${i.numpy} · Pyodide ${i.pyodide}`;
    return manifestCache ? `tinycnn ${manifestCache.tinycnn}` : "";
  }

  function renderStatus() {
    if (!pageBar) return;
    pageBar.status.textContent = statusText();
    pageBar.version.textContent = versionText();
    pageBar.root.dataset.state = kernel.state;
    const stage = kernel.state === "loading" && kernel.stage ? STAGES[kernel.stage.stage] || 0 : 0;
    pageBar.progress.hidden = kernel.state !== "loading";
    pageBar.progress.value = Math.max(0, stage - 1);
    pageBar.stop.disabled = !(kernel.busy() || kernel.state === "loading");
    for (const cell of cells) cell.stop.disabled = !cell.running;
  }

  /** Fills the page bar the build placed before the page's first cell (docs/hooks/execute.py,
   *  PAGE_BAR), as it does each cell's toolbar. */
  function buildPageBar() {
    const root = document.querySelector(".tc-pagebar:empty");
    const runAllButton = el("button", { type: "button", class: "md-button tc-runall" }, "Run all");
    const stopButton = el("button", { type: "button", class: "md-button tc-stopall" }, "Stop");
    const status = el("span", { class: "tc-status", role: "status", "aria-live": "polite" });
    const progress = el("progress", { class: "tc-progress", max: "3", value: "0", "aria-label": "Loading Python" });
    const version = el("span", { class: "tc-version", title: "The versions running in this page" });
    runAllButton.addEventListener("click", () => { loadPython(); runAll().catch(() => {}); });
    stopButton.addEventListener("click", () => kernel.stop());
    root.append(runAllButton, stopButton, status, progress, version);
    return { root, status, progress, version, runAll: runAllButton, stop: stopButton };
  }

  function readSource(root) {
    const tag = root.querySelector("script.tc-source");
    if (tag) {
      try { return JSON.parse(tag.textContent); } catch (error) { /* fall back to the code text */ }
    }
    const code = root.querySelector(".highlight code, pre code");
    return code ? code.textContent.replace(/\n$/, "") : "";
  }

  function setupCell(root, index) {
    const source = readSource(root);
    const number = root.getAttribute("data-cell") || String(index + 1);
    const cell = { root, source, number, editor: null, textarea: null, running: false };
    // The toolbar is in the page already (docs/hooks/execute.py, CELL_TOOLBAR), its buttons
    // disabled until now: taking it over moves nothing on the page.
    const toolbar = root.querySelector(".tc-toolbar");
    cell.run = toolbar.querySelector(".tc-run");
    cell.stop = toolbar.querySelector(".tc-stop");
    cell.reset = toolbar.querySelector(".tc-reset");
    cell.copy = toolbar.querySelector(".tc-copy");
    cell.origin = toolbar.querySelector(".tc-origin");
    cell.run.disabled = cell.reset.disabled = cell.copy.disabled = false;
    cell.stop.disabled = true;
    cell.run.addEventListener("click", () => { loadPython(); runCell(cell).catch(() => {}); });
    cell.stop.addEventListener("click", () => kernel.stop());
    cell.reset.addEventListener("click", () => setCode(cell, cell.source));
    cell.copy.addEventListener("click", () => copyCode(cell));
    let output = root.querySelector(".tc-output");
    if (!output) {
      output = el("div", { class: "tc-output" });
      root.appendChild(output);
    }
    output.setAttribute("aria-live", "polite");
    output.dataset.origin = "build";
    cell.output = output;
    cell.toolbar = toolbar;
    return cell;
  }

  function getCode(cell) {
    if (cell.editor) return cell.editor.getValue();
    if (cell.textarea) return cell.textarea.value;
    return cell.pending != null ? cell.pending : cell.source;
  }

  function setCode(cell, code) {
    if (cell.editor) cell.editor.setValue(code);
    else if (cell.textarea) cell.textarea.value = code;
    else {
      cell.pending = code;  // the editor is not there yet: it starts with this code
      // The highlighted text shows the original: a cell with other code (the reader's saved edit,
      // a shared link) gets its editor now, so that what is shown is what runs (no Python loads).
      if (code !== cell.source) showEditors();
    }
    codeChanged(cell);
  }

  function codeChanged(cell) {
    document.dispatchEvent(new CustomEvent("tinycnn:cell-change", { detail: { index: cells.indexOf(cell) } }));
  }

  async function copyCode(cell) {
    const code = getCode(cell);
    let ok = false;
    try {
      await navigator.clipboard.writeText(code);
      ok = true;
    } catch (error) {
      const area = el("textarea", { class: "tc-clipboard" });
      area.value = code;
      document.body.appendChild(area);
      area.select();
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
    }
    cell.copy.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => { cell.copy.textContent = "Copy"; }, 1500);
  }

  function createEditor(holder, CodeMirror, { value, label, onRun, onEscape }) {
    // The code editor of a cell or an exercise (CodeMirror, or a plain text area if it could not be
    // loaded): Shift/Ctrl/Cmd+Enter calls onRun, Escape leaves the editor (onEscape moves the focus on).
    if (CodeMirror) {
      const run = () => { onRun(); };
      return CodeMirror(holder, {
        value,
        mode: "python",
        lineNumbers: true,
        indentUnit: 4,
        matchBrackets: true,
        viewportMargin: Infinity,
        // Long lines wrap (lines without a number continue the one above): the editor never scrolls
        // sideways, e.g. on a phone. A scrolling editor is a scroll region that the keyboard cannot
        // reach (CodeMirror's input sits outside its scroller, which has tabindex=-1; axe:
        // scrollable-region-focusable), and the ends of long lines would be out of sight.
        lineWrapping: true,
        extraKeys: {
          "Shift-Enter": run,
          "Ctrl-Enter": run,
          "Cmd-Enter": run,
          "Esc": (cm) => { cm.getInputField().blur(); onEscape(); },
          "Tab": (cm) => {
            if (cm.somethingSelected()) cm.indentSelection("add");
            else cm.replaceSelection("    ", "end");
          },
          "Shift-Tab": (cm) => cm.indentSelection("subtract"),
          "Ctrl-/": "toggleComment",
        },
        screenReaderLabel: label,
      });
    }
    const area = el("textarea", { class: "tc-plain-editor", spellcheck: "false", "aria-label": label });
    area.value = value;
    area.rows = Math.min(30, value.split("\n").length + 1);
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.shiftKey || event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        onRun();
      } else if (event.key === "Escape") {
        area.blur();
        onEscape();
      }
    });
    holder.appendChild(area);
    return area;
  }

  let hintCount = 0;

  /** Leaving an editor is discoverable: Tab indents inside it, so while it has the focus a hint
   *  says how to get out (and the editor's input is described by that text). Returns the hint. */
  function editorHint(root, before) {
    const hint = el("span", { class: "tc-editor-hint", id: `tc-editor-hint-${++hintCount}` });
    hint.append(el("kbd", {}, "Esc"), " then ", el("kbd", {}, "Tab"), " leaves the editor");
    before.parentNode.insertBefore(hint, before);
    return hint;
  }

  /** Wires an editor made by createEditor to its hint and to the root's "tc-editing" class. */
  function describeEditor(editor, root, hint) {
    const input = editor.getInputField ? editor.getInputField() : editor;
    input.setAttribute("aria-describedby", hint.id);
    const editing = (on) => root.classList.toggle("tc-editing", on);
    editor.addEventListener ? (editor.addEventListener("focus", () => editing(true)),
      editor.addEventListener("blur", () => editing(false)))
      : (editor.on("focus", () => editing(true)), editor.on("blur", () => editing(false)));
  }

  function attachEditor(cell, CodeMirror) {
    const highlight = cell.root.querySelector(".highlight");
    const hadFocus = !!highlight && highlight.contains(document.activeElement);  // keyboard reader on the code
    const holder = el("div", { class: "tc-editor" });
    const hint = editorHint(cell.root, cell.origin);
    if (highlight) highlight.replaceWith(holder);
    else cell.root.insertBefore(holder, cell.toolbar);
    const editor = createEditor(holder, CodeMirror, {
      value: getCode(cell),
      label: `Code of cell ${cell.number}. Shift+Enter runs it, Escape leaves the editor.`,
      onRun: () => { runCell(cell).catch(() => {}); },
      onEscape: () => cell.run.focus(),
    });
    describeEditor(editor, cell.root, hint);
    if (CodeMirror) {
      cell.editor = editor;
      editor.on("changes", (cm, changes) => {
        if (changes.some((change) => change.origin !== "setValue")) codeChanged(cell);
      });
    } else {
      cell.textarea = editor;
      editor.addEventListener("input", () => codeChanged(cell));
    }
    if (hadFocus) editor.focus();
    cell.root.classList.add("tc-enhanced");
  }

  function renderOutput(cell, output, seconds) {
    const box = cell.output;
    box.textContent = "";
    box.dataset.origin = "browser";
    const part = (cls, text) => { if (text) box.appendChild(el("pre", { class: cls }, text)); };
    if (output.stopped) {
      box.appendChild(el("p", { class: "tc-notice" }, output.error));
    } else {
      part("tc-stdout", output.stdout);
      part("tc-stderr", output.stderr);
      part("tc-result", output.result);
      part("tc-error", output.error);
    }
    for (const image of output.images || []) {
      box.appendChild(el("img", { class: "tc-image", src: "data:image/png;base64," + image.png, alt: image.alt }));
    }
    if (!box.childNodes.length) box.appendChild(el("p", { class: "tc-empty" }, "(no output)"));
    cell.origin.textContent = output.stopped ? "Stopped"
      : `${output.error ? "Failed" : "Ran"} in your browser` + (seconds != null ? ` in ${seconds.toFixed(2)} s` : "");
  }

  function resolveCarriageReturns(text) {
    // Like cellrunner.resolve_carriage_returns (tested on the same cases,
    // tests/site/carriage_returns.json): each "\r" redraw overwrites the start of its line.
    if (text.indexOf("\r") < 0) return text;
    return text.split("\n").map((line) => {
      if (line.indexOf("\r") < 0) return line;
      let screen = "";
      for (const segment of line.split("\r")) screen = segment + screen.slice(segment.length);
      return screen;
    }).join("\n");
  }

  function liveOutput(cell) {
    // Shows stdout/stderr while the cell runs (e.g. a training progress bar).
    const text = { stdout: "", stderr: "" };
    let scheduled = false;
    return (parts) => {
      for (const [kind, chunk] of parts) text[kind] = (text[kind] || "") + chunk;
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(() => {
        scheduled = false;
        if (!cell.running) return;
        const box = cell.output;
        box.textContent = "";
        box.dataset.origin = "live";
        for (const kind of ["stdout", "stderr"]) {
          if (text[kind]) box.appendChild(el("pre", { class: `tc-${kind} tc-live` }, resolveCarriageReturns(text[kind])));
        }
      });
    };
  }

  function runCell(cell) {
    const code = getCode(cell);
    const key = namespaceKey();
    const name = `${key} cell ${cell.number}`;
    cell.root.classList.add("tc-queued");
    cell.origin.textContent = "Waiting…";
    return enqueue(async () => {
      cell.root.classList.remove("tc-queued");
      cell.root.classList.add("tc-running");
      cell.running = true;
      cell.output.setAttribute("aria-busy", "true");  // screen readers wait for the final output
      cell.origin.textContent = "Running…";
      renderStatus();
      const started = performance.now();
      const live = liveOutput(cell);
      let output;
      try {
        output = await kernel.exec(code, key, name, live);
      } catch (error) {
        output = { stdout: "", stderr: "", result: null, images: [], error: null, failed: error.message };
      }
      cell.running = false;
      cell.output.removeAttribute("aria-busy");
      cell.root.classList.remove("tc-running");
      if (output.failed) {
        cell.origin.textContent = "Python is not available: showing the output computed at build time";
        renderStatus();
        throw new Error(output.failed);
      }
      renderOutput(cell, output, (performance.now() - started) / 1000);
      renderStatus();
      document.dispatchEvent(new CustomEvent("tinycnn:cell-run", { detail: { index: cells.indexOf(cell), code,
        output: Object.assign(publicOutput(output), { stopped: !!output.stopped }) } }));
      return publicOutput(output);
    }).finally(() => cell.root.classList.remove("tc-queued"));
  }

  async function runAll(options) {
    const through = options && Number.isInteger(options.through) ? options.through : cells.length - 1;
    const results = [];
    for (const cell of cells.slice(0, through + 1)) {
      const output = await runCell(cell);
      results.push(output);
      if (output.error) break;
    }
    return results;
  }

  function enhance() {
    const roots = Array.from(document.querySelectorAll(".tc-cell[data-runnable]"))
      .filter((root) => !root.classList.contains("tc-setup"));
    const all = Array.from(document.querySelectorAll(".tc-cell[data-runnable]"));
    if (!roots.length) {
      if (!all.length) { cells = []; pageBar = null; }
      return;
    }
    roots.forEach((root) => root.classList.add("tc-setup"));
    cells = roots.map(setupCell);
    pageBar = buildPageBar();
    renderStatus();
    manifest().then((m) => { manifestCache = m; renderStatus(); }).catch(() => {});
    if (editorsWanted) showEditors();  // the reader showed intent earlier in this visit
  }

  // ------------------------------------------------------------------------------------------
  // Python on intent: the editor and the runtime load only when asked for (see the header)
  // ------------------------------------------------------------------------------------------
  let editorsWanted = false;

  /** Replaces the highlighted code of this page's cells by editors (CodeMirror is fetched once). */
  function showEditors() {
    editorsWanted = true;
    const waiting = cells.filter((cell) => !cell.editorRequested);
    if (!waiting.length) return;
    waiting.forEach((cell) => { cell.editorRequested = true; });
    loadEditor()
      .catch(() => null)
      .then(async (CodeMirror) => {
        // One editor per task: building them all at once blocked the page for ~0.2 s, and a Web
        // Worker created meanwhile (Python's) cannot start until the page's thread is free.
        for (const cell of waiting) {
          attachEditor(cell, CodeMirror);
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      });
  }

  /** Intent: show the editors and load Python (idempotent). Resolves with info(), rejects when
   *  Python cannot be loaded (callers that do not wait for it need not catch). */
  function loadPython() {
    showEditors();
    const ready = kernel.ensure().then(() => window.tinycnnSite.info());
    ready.catch(() => {});
    return ready;
  }

  window.tinycnnSite = {
    /** Promise: loads Python, NumPy and tinycnn (and the editors); resolves with info(). */
    ready: loadPython,
    /** The reader's intent (docs/javascripts/intent.js): the same as ready(), for callers that do
     *  not wait (starts loading; the page bar shows the progress and any failure). */
    loadPython,
    /** Promise of the bytes the first load downloads (Pyodide, NumPy, tinycnn and its data), from
     *  the site's runtime.json; 0 when the runtime comes from another site (runtimeURL). */
    downloadSize: () => manifest().then(downloadBytes),
    /** Promise of {stdout, stderr, result, error, images}: runs code in this page's namespace. */
    run: (code) => enqueue(() => kernel.exec(String(code), namespaceKey(), "<run>")).then(publicOutput),
    /** Promise of {stdout, stderr, result, error, images[, timedOut, restarted]}: runs code in a
     *  separate, named namespace (options: {timeoutSeconds, fresh, cellName}; see runIn above). */
    runIn,
    /** Promise of {getValue(), setValue(text), focus()}: the cells' code editor in holder (an
     *  element). options: {value, label, onRun, onEscape}. */
    editor: (holder, options) => loadEditor().catch(() => null).then((CodeMirror) => {
      const made = createEditor(holder, CodeMirror, Object.assign({ onRun() {}, onEscape() {} }, options));
      return CodeMirror ? { getValue: () => made.getValue(), setValue: (text) => made.setValue(text), focus: () => made.focus(), codemirror: made }
        : { getValue: () => made.value, setValue: (text) => { made.value = text; }, focus: () => made.focus() };
    }),
    /** Stops the running code (and cancels queued runs). */
    stop: () => kernel.stop(),
    /** Promise of a list of outputs: runs the page's cells in order, stopping at the first error;
     *  runAll({through: i}) runs cells 0..i only. */
    runAll,
    /** Versions: {pyodide, python, numpy, tinycnn} (null until loaded, tinycnn from the manifest), and
     *  bytecodeCache: "hit" | "miss" | "off" (null until loaded): did Python start from compiled code
     *  kept by an earlier visit? */
    info: () => {
      const i = kernel.info || {};
      return { pyodide: i.pyodide || null, python: i.python || null, numpy: i.numpy || null,
        tinycnn: i.tinycnn || (manifestCache ? manifestCache.tinycnn : null),
        bytecodeCache: i.bytecodeCache || null };
    },
    /** The page's runnable cells, in order: [{index, root, code(), setCode(text), original}]
     *  (original: the source the site was built with; setCode works before the editor exists). */
    cells: () => cells.map((cell, index) => ({
      index, root: cell.root, original: cell.source,
      code: () => getCode(cell), setCode: (text) => setCode(cell, String(text)) })),
    /** DOM helper for the site's scripts: element(tag, {attribute: value}, text). */
    element: el,
    /** onEveryPage(fn): runs fn on this page and on every page reached by instant navigation. */
    onEveryPage,
    /** State of the runtime: "idle" | "loading" | "ready" | "failed". */
    state: () => kernel.state,
    /** When each loading step happened, in ms since navigation: {start, spawn, runtime, numpy, tinycnn,
     *  ready} seen by the page, the worker's {worker, booted, bytecode, numpyLoaded, numpyImported,
     *  setup}, and bytecodeSaved once the byte-code cache is stored (or found up to date). */
    timings: () => Object.assign({}, kernel.timings),
  };

  onEveryPage(enhance);
})();
