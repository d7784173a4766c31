/* tinycnn demos: what every demo shares.
 *
 * - tinycnnDemos.python(call): runs `call` (a Python expression on the module `_demo`, e.g.
 *   "_demo.conv([[1]], [[1]])") in the page's Python (window.tinycnnSite.run, a Pyodide Web Worker
 *   with tinycnn) and returns the parsed JSON it printed. The module is docs/javascripts/demos/demos.py,
 *   loaded into the worker on first use (and again after the runtime was restarted by Stop).
 * - tinycnnDemos.register(selector, mount): mounts a demo into every placeholder that matches,
 *   also after Material's instant navigation swaps the page.
 * - small DOM and drawing helpers (colour maps, heat maps on canvases, number formatting).
 */
(function () {
  "use strict";
  if (window.tinycnnDemos) return;

  const script = document.currentScript;
  const SITE_ROOT = new URL("../../", script ? script.src : location.href).href;

  // ----------------------------------------------------------------------------------------------
  // DOM helpers
  // ----------------------------------------------------------------------------------------------
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === true) node.setAttribute(key, "");
      else if (value !== false && value != null) node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child == null) continue;
      node.appendChild(typeof child === "string" || typeof child === "number"
        ? document.createTextNode(String(child)) : child);
    }
    return node;
  }

  let uid = 0;
  function id(prefix) { uid += 1; return `tcd-${prefix}-${uid}`; }

  /** A labelled <select>: returns {root, select}. options: [[value, label], ...]. */
  function select(label, options, value) {
    const name = id("select");
    const node = el("select", { id: name });
    for (const [v, text] of options) node.appendChild(el("option", { value: String(v) }, text));
    node.value = String(value);
    return { root: el("label", { class: "tcd-field", for: name }, el("span", {}, label), node), select: node };
  }

  /** A group of radio buttons (keyboard: arrows move between them). */
  function radios(legend, options, value) {
    const name = id("radio");
    const root = el("fieldset", { class: "tcd-radios" }, el("legend", {}, legend));
    const inputs = options.map(([v, text]) => {
      const input = el("input", { type: "radio", name, value: String(v) });
      input.checked = String(v) === String(value);
      root.appendChild(el("label", {}, input, " " + text));
      return input;
    });
    return {
      root,
      inputs,
      get value() { const on = inputs.find((i) => i.checked); return on ? on.value : null; },
      set value(v) { inputs.forEach((i) => { i.checked = i.value === String(v); }); },
      onChange(fn) { inputs.forEach((i) => i.addEventListener("change", fn)); },
    };
  }

  function button(label, attributes) {
    return el("button", Object.assign({ type: "button", class: "tcd-button" }, attributes || {}), label);
  }

  /** The explorers' "input -> output" pair of figures, appended to `root`; returns its parts. */
  function inputOutputPanels(root) {
    const parts = {
      inputPanel: el("div", { class: "tcd-view" }),
      outputPanel: el("div", { class: "tcd-view" }),
      inputCaption: el("figcaption", {}),
      outputCaption: el("figcaption", {}),
    };
    root.appendChild(el("div", { class: "tcd-panels" },
      el("figure", { class: "tcd-figure" }, parts.inputPanel, parts.inputCaption),
      el("div", { class: "tcd-op", "aria-hidden": "true" }, "→"),
      el("figure", { class: "tcd-figure" }, parts.outputPanel, parts.outputCaption)));
    return parts;
  }

  // ----------------------------------------------------------------------------------------------
  // Numbers and colours
  // ----------------------------------------------------------------------------------------------
  /** Compact number for cells and formulas: integers stay integers, others get <= 3 decimals. */
  function fmt(value, digits) {
    if (value == null || Number.isNaN(value)) return "";
    const d = digits == null ? 3 : digits;
    if (Math.abs(value - Math.round(value)) < 1e-9) return String(Math.round(value)).replace("-", "−");
    let text = Number(value).toFixed(d).replace(/0+$/, "").replace(/\.$/, "");
    if (text === "-0") text = "0";
    return text.replace("-", "−");
  }

  /** In formulas negative numbers get brackets: 1·(−1). */
  function term(value) {
    const text = fmt(value);
    return value < 0 ? `(${text})` : text;
  }

  /** Blue (negative) - white (0) - red (positive), the colours the site's figures use. t in [-1, 1]. */
  function diverging(t) {
    const v = Math.max(-1, Math.min(1, t || 0));
    if (v >= 0) return [255 - Math.round(v * 75), 255 - Math.round(v * 200), 255 - Math.round(v * 215)];
    const a = -v;
    return [255 - Math.round(a * 222), 255 - Math.round(a * 153), 255 - Math.round(a * 75)];
  }

  /** Black (0) to white (1). */
  function grey(t) {
    const v = Math.round(255 * Math.max(0, Math.min(1, t || 0)));
    return [v, v, v];
  }

  /** Light yellow (0) to dark purple (1), for activations and the confusion matrix. */
  function sequential(t) {
    const stops = [[252, 253, 191], [254, 159, 109], [222, 73, 104], [140, 41, 129], [59, 15, 112]];
    const v = Math.max(0, Math.min(1, t || 0)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(v));
    const f = v - i;
    return stops[i].map((c, k) => Math.round(c + (stops[i + 1][k] - c) * f));
  }

  function css(rgb) { return `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`; }

  /** Readable text colour on a background. */
  function ink(rgb) {
    // The text colour with the higher WCAG contrast on this background, white or black: at least 4.58:1 on any colour.
    const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    const luminance = 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
    return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 ? "#fff" : "#000";
  }

  function range(matrix) {
    let low = Infinity; let high = -Infinity;
    for (const row of matrix) for (const v of row) { if (v < low) low = v; if (v > high) high = v; }
    return [low, high];
  }

  /** A colour function for a matrix: "diverging" (symmetric around 0), "grey" or "sequential". */
  function scaleFor(matrix, kind, fixed) {
    const [low, high] = fixed || range(matrix);
    if (kind === "diverging") {
      const limit = Math.max(Math.abs(low), Math.abs(high)) || 1;
      return (v) => diverging(v / limit);
    }
    const span = high - low || 1;
    const map = kind === "sequential" ? sequential : grey;
    return (v) => map((v - low) / span);
  }

  /** Draw a matrix as a heat map onto a canvas, one canvas pixel per cell (CSS scales it up). */
  function paint(canvas, matrix, kind, fixed) {
    const rows = matrix.length; const cols = rows ? matrix[0].length : 0;
    canvas.width = cols; canvas.height = rows;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(cols, rows);
    const colour = scaleFor(matrix, kind, fixed);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const [red, green, blue] = colour(matrix[r][c]);
        const k = 4 * (r * cols + c);
        image.data[k] = red; image.data[k + 1] = green; image.data[k + 2] = blue; image.data[k + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
    return canvas;
  }

  /** A box over a painted canvas that marks the window at (row, col), span cells high and wide,
   *  on a map of rows x cols cells (positions in %, so it scales with the canvas). */
  function windowBox(className, row, col, span, rows, cols) {
    const box = el("div", { class: className });
    box.style.left = (100 * col / cols) + "%";
    box.style.top = (100 * row / rows) + "%";
    box.style.width = (100 * span / cols) + "%";
    box.style.height = (100 * span / rows) + "%";
    return box;
  }

  /** Choosing a position (row * cols + col) on an output map of rows x cols, a grid of .tcd-cell
   *  (data-i, data-j) or a canvas: a click picks it, the arrow keys move it from position(). */
  function mapNavigation(node, rows, cols, position, goTo) {
    node.addEventListener("click", (event) => {
      if (node.tagName === "CANVAS") {
        const rect = node.getBoundingClientRect();
        const j = Math.floor((event.clientX - rect.left) / rect.width * cols);
        const i = Math.floor((event.clientY - rect.top) / rect.height * rows);
        goTo(i * cols + j);
        return;
      }
      const cell = event.target.closest(".tcd-cell");
      if (cell) goTo(Number(cell.dataset.i) * cols + Number(cell.dataset.j));
    });
    node.addEventListener("keydown", (event) => {
      const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const target = position() + moves[event.key];
      if (target >= 0 && target < rows * cols) goTo(target, true);
    });
    return node;
  }

  /** Makes `grid` an ARIA grid of `cells` (rows × cols .tcd-cell elements): role=grid > role=row >
   *  role=gridcell. A row is display: contents (demos.css .tcd-row), so the cells stay the items of
   *  the grid's CSS columns. The grid keeps the focus (one tab stop, arrow keys: mapNavigation);
   *  the current cell is its aria-activedescendant (activeCell). Returns the grid. */
  function gridOf(grid, cells) {
    grid.setAttribute("role", "grid");
    for (const row of cells) {
      const line = el("div", { class: "tcd-row", role: "row" });
      for (const cell of row) {
        cell.setAttribute("role", "gridcell");
        if (!cell.id) cell.id = id("cell");
        line.appendChild(cell);
      }
      grid.appendChild(line);
    }
    return grid;
  }

  /** The grid's current cell, the one assistive technology reads (aria-activedescendant). */
  function activeCell(grid, cell) {
    if (cell) grid.setAttribute("aria-activedescendant", cell.id);
    else grid.removeAttribute("aria-activedescendant");
  }

  /** Theme colours for chart lines and text, read from Material's CSS variables. */
  function theme(node) {
    const style = getComputedStyle(node || document.body);
    const get = (name, fallback) => (style.getPropertyValue(name) || "").trim() || fallback;
    return {
      fg: get("--md-default-fg-color", "#222"),
      light: get("--md-default-fg-color--light", "#777"),
      lighter: get("--md-default-fg-color--lighter", "#bbb"),
      primary: get("--md-primary-fg-color", "#3f51b5"),
      accent: get("--md-accent-fg-color", "#ffb300"),
      bg: get("--md-default-bg-color", "#fff"),
    };
  }

  // ----------------------------------------------------------------------------------------------
  // Python
  // ----------------------------------------------------------------------------------------------
  /** A JavaScript value as Python source (numbers, strings, booleans, null, arrays, objects). */
  function py(value) {
    if (value === null || value === undefined) return "None";
    if (value === true) return "True";
    if (value === false) return "False";
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw new Error(`cannot send ${value} to Python`);
      return String(value);
    }
    if (typeof value === "string") return JSON.stringify(value);
    if (Array.isArray(value)) return "[" + value.map(py).join(",") + "]";
    return "{" + Object.entries(value).map(([k, v]) => JSON.stringify(k) + ":" + py(v)).join(",") + "}";
  }

  let sourcePromise = null;
  function demoSource() {
    if (!sourcePromise) {
      sourcePromise = fetch(SITE_ROOT + "javascripts/demos/demos.py").then((response) => {
        if (!response.ok) throw new Error(`could not load the demos' Python code (HTTP ${response.status})`);
        return response.text();
      });
      sourcePromise.catch(() => { sourcePromise = null; });
    }
    return sourcePromise;
  }

  function waitForSite(timeoutMs) {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      (function check() {
        if (window.tinycnnSite) return resolve(window.tinycnnSite);
        if (Date.now() - started > timeoutMs) {
          return reject(new Error("the in-page Python runtime (javascripts/runtime.js) is not on this page"));
        }
        setTimeout(check, 50);
      })();
    });
  }

  let lastError = null;

  /** Resolves once the page loads Python: a demo computes (and downloads) nothing before the reader
   *  shows intent (docs/javascripts/intent.js: pointer, focus or touch on the demo, Run, "Load
   *  Python now", the remembered preference). */
  function pythonWanted(site) {
    if (site.state() !== "idle") return Promise.resolve();
    return new Promise((resolve) => document.addEventListener("tinycnn:runtime-loading", resolve, { once: true }));
  }

  /** Run `call` (Python expression using `_demo`) and return the JSON value it produced. */
  async function python(call) {
    const site = await waitForSite(10000);
    await pythonWanted(site);
    const source = await demoSource();
    await site.ready();
    const code =
      'if "tinycnn_demos" not in __import__("sys").modules:\n' +
      '    _demo = __import__("types").ModuleType("tinycnn_demos")\n' +
      "    _demo.__file__ = \"demos.py\"\n" +
      `    exec(compile(${JSON.stringify(source)}, "demos.py", "exec"), _demo.__dict__)\n` +
      '    __import__("sys").modules["tinycnn_demos"] = _demo\n' +
      '_demo = __import__("sys").modules["tinycnn_demos"]\n' +
      `print(${call})\n`;
    const output = await site.run(code);
    if (output.error) {
      lastError = output.error;
      const error = new Error(output.error);
      error.stopped = /Stopped|Cancelled/.test(output.error);
      throw error;
    }
    const lines = (output.stdout || "").trim().split("\n");
    return JSON.parse(lines[lines.length - 1]);
  }

  /** What an output still to come says: Python may not be loaded yet (it loads on intent). */
  function pendingText() {
    const site = window.tinycnnSite;
    return site && site.state && site.state() === "ready" ? "computing…" : "waiting for Python…";
  }

  function assetURL(path) { return SITE_ROOT + path; }

  const jsonCache = new Map();
  function fetchJSON(path) {
    if (!jsonCache.has(path)) {
      const promise = fetch(assetURL(path)).then((response) => {
        if (!response.ok) throw new Error(`could not load ${path} (HTTP ${response.status})`);
        return response.json();
      });
      promise.catch(() => jsonCache.delete(path));
      jsonCache.set(path, promise);
    }
    return jsonCache.get(path);
  }

  /** Bytes (ArrayBuffer or Uint8Array) as base64 text, to hand a file to Python. */
  function bytesToBase64(buffer) {
    const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  /** base64 text from Python as bytes (e.g. for a Blob download). */
  function base64ToBytes(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function fetchBase64(path) {
    return fetch(assetURL(path)).then((response) => {
      if (!response.ok) throw new Error(`could not load ${path} (HTTP ${response.status})`);
      return response.arrayBuffer();
    }).then(bytesToBase64);
  }

  /** A status line under a demo: "Loading Python…", errors in red. */
  function status(root) {
    const node = el("p", { class: "tcd-status", role: "status", "aria-live": "polite" });
    root.appendChild(node);
    return {
      node,
      set(text, kind) { node.textContent = text; node.dataset.kind = kind || ""; },
      loading() {
        const state = window.tinycnnSite && window.tinycnnSite.state ? window.tinycnnSite.state() : "idle";
        if (state === "idle") {  // Python on intent: nothing is loaded until the reader uses the demo
          this.set("Point at, touch or focus this demo to load Python and compute it in your browser.", "waiting");
          const update = () => { if (node.dataset.kind === "waiting") this.loading(); };
          document.addEventListener("tinycnn:runtime-loading", update, { once: true });
          return;
        }
        this.set(state === "ready" ? "Computing in your browser…"
          : "Loading Python (Pyodide, NumPy and tinycnn) in your browser…", "busy");
      },
      error(error) { this.set("Python error: " + (error && error.message ? error.message : error), "error"); },
    };
  }

  // ----------------------------------------------------------------------------------------------
  // Mounting
  // ----------------------------------------------------------------------------------------------
  const registry = [];

  function mountAll() {
    for (const { selector, mount } of registry) {
      for (const node of document.querySelectorAll(selector)) {
        if (node.dataset.tcdMounted) continue;
        node.dataset.tcdMounted = "1";
        node.classList.add("tcd-demo");
        try {
          mount(node);
        } catch (error) {
          node.appendChild(el("p", { class: "tcd-status", "data-kind": "error" },
            "This demo could not start: " + error.message));
          console.error(error);
        }
      }
    }
  }

  function register(selector, mount) {
    registry.push({ selector, mount });
    if (document.readyState !== "loading") mountAll();
  }

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(() => mountAll());
  }
  document.addEventListener("DOMContentLoaded", mountAll);

  window.tinycnnDemos = {
    SITE_ROOT, el, id, select, radios, button, inputOutputPanels, fmt, term, diverging, grey, sequential, css, ink, range,
    scaleFor, paint, windowBox, mapNavigation, gridOf, activeCell, theme, py, python, pendingText, assetURL, fetchJSON, fetchBase64, bytesToBase64, base64ToBytes,
    status, register,
    get lastError() { return lastError; },
  };
})();
