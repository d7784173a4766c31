/* Pooling explorer (pooling page): max or average pooling of the article's 4x4 feature map or of a
 * real feature map (vertical edges of a photo), computed by tinycnn.functional.max_pool2d /
 * avg_pool2d in the page's Python; window and stride controls; the winning cell of each window is
 * circled. Placeholder: <div id="pooling-demo"></div> (or id="pool-explorer"). */
(function () {
  "use strict";
  const D = window.tinycnnDemos;
  if (!D) return;
  const { el, fmt } = D;

  // The pooling page's feature map: its first 2x2 window holds 4, 6, 1, 3 (max 6, mean 3.5).
  const ARTICLE = [
    [4, 6, 2, 0],
    [1, 3, 5, 8],
    [7, 2, 1, 1],
    [0, 9, 3, 4],
  ];

  function mount(root) {
    root.textContent = "";
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Pooling explorer");
    const state = { input: "article", matrix: ARTICLE, mode: "max", size: 2, strides: 2, padding: "valid",
      result: null, position: 0, edges: null, seq: 0 };

    root.appendChild(el("p", { class: "tcd-title" }, "Pooling explorer"));
    const inputField = D.select("Feature map", [["article", "The 4×4 example"],
      ["edges", "Vertical edges of a photo (62×62)"]], "article");
    const mode = D.radios("Pooling", [["max", "max"], ["average", "average"]], "max");
    const sizeField = D.select("Window", [[2, "2×2"], [3, "3×3"]], 2);
    const strideField = D.select("Stride", [[1, "1"], [2, "2"], [3, "3"]], 2);
    const paddingField = D.select("Padding", [["valid", "valid"], ["same", "same"]], "valid");
    root.appendChild(el("div", { class: "tcd-controls" }, inputField.root, mode.root, sizeField.root,
      strideField.root, paddingField.root));

    const { inputPanel, outputPanel, inputCaption, outputCaption } = D.inputOutputPanels(root);
    const prev = D.button("◀ Previous", { "aria-label": "Previous window" });
    const next = D.button("Next ▶", { "aria-label": "Next window" });
    const where = el("span", { class: "tcd-where" });
    root.appendChild(el("div", { class: "tcd-step", role: "group", "aria-label": "Step through the windows" },
      prev, next, where));
    const sum = el("p", { class: "tcd-sum", "aria-live": "polite" });
    root.appendChild(sum);
    const status = D.status(root);

    function pads() { return state.result ? state.result.pads : [[0, 0], [0, 0]]; }

    function windowCells() {
      if (!state.result) return null;
      const cols = state.result.shape[1];
      const i = Math.floor(state.position / cols); const j = state.position % cols;
      const p = pads();
      const r0 = i * state.strides - p[0][0]; const c0 = j * state.strides - p[1][0];
      const cells = [];
      for (let r = Math.max(0, r0); r < Math.min(r0 + state.size, state.matrix.length); r++) {
        for (let c = Math.max(0, c0); c < Math.min(c0 + state.size, state.matrix[0].length); c++) cells.push([r, c]);
      }
      return { i, j, r0, c0, cells, winner: state.result.winners[i][j] };
    }

    function renderInput() {
      const win = windowCells();
      const rows = state.matrix.length; const cols = state.matrix[0].length;
      inputPanel.textContent = "";
      if (cols <= 8) {
        const grid = el("div", { class: "tcd-grid tcd-plain", style: `grid-template-columns: repeat(${cols}, 1fr)`,
          role: "img", "aria-label": `Feature map ${rows}×${cols}` });
        state.matrix.forEach((row, r) => row.forEach((v, c) => {
          const inWin = win && win.cells.some(([a, b]) => a === r && b === c);
          const wins = win && state.mode === "max" && win.winner[0] === r && win.winner[1] === c;
          grid.appendChild(el("div", { class: "tcd-cell" + (inWin ? " tcd-in-window" : "") + (wins ? " tcd-winner" : "") },
            fmt(v, 2)));
        }));
        inputPanel.appendChild(grid);
      } else {
        const canvas = D.paint(el("canvas", { class: "tcd-canvas", role: "img",
          "aria-label": `Feature map ${rows}×${cols}: vertical edges of the photo after ReLU` }), state.matrix, "sequential");
        const wrap = el("div", { class: "tcd-canvas-wrap" }, canvas);
        if (win) {
          wrap.appendChild(D.windowBox("tcd-box", Math.max(0, win.r0), Math.max(0, win.c0), state.size, rows, cols));
          if (state.mode === "max") {  // a dot two cells wide, centred on the winning cell
            wrap.appendChild(D.windowBox("tcd-winner-dot", win.winner[0] - 0.5, win.winner[1] - 0.5, 2, rows, cols));
          }
        }
        inputPanel.appendChild(wrap);
      }
      inputCaption.textContent = `feature map ${rows}×${cols}` + (cols > 8 ? " (dark = strong edge)" : "");
    }

    function renderOutput() {
      outputPanel.textContent = "";
      if (!state.result) {
        outputPanel.appendChild(el("div", { class: "tcd-placeholder" }, D.pendingText()));
        outputCaption.textContent = "pooled";
        return;
      }
      const [rows, cols] = state.result.shape;
      const out = state.result.output;
      const win = windowCells();
      if (cols <= 8) {
        const grid = el("div", { class: "tcd-grid tcd-plain", tabindex: "0",
          style: `grid-template-columns: repeat(${cols}, 1fr); max-width: ${Math.max(4, cols) * 3.2}rem`,
          "aria-label": "Pooled map: arrow keys choose the window" });
        const cells = out.map((row, i) => row.map((v, j) =>
          el("div", { class: "tcd-cell" + (i === win.i && j === win.j ? " tcd-current tcd-in-window" : ""),
            "data-i": i, "data-j": j }, fmt(v, 2))));
        D.gridOf(grid, cells);
        D.activeCell(grid, cells[win.i][win.j]);
        outputPanel.appendChild(D.mapNavigation(grid, rows, cols, () => state.position, goTo));
      } else {
        const canvas = D.paint(el("canvas", { class: "tcd-canvas", role: "img", tabindex: "0",
          "aria-label": "Pooled map: arrow keys choose the window" }), out, "sequential", D.range(state.matrix));
        D.mapNavigation(canvas, rows, cols, () => state.position, goTo);
        const box = D.windowBox("tcd-box tcd-box-out", win.i, win.j, 1, rows, cols);
        outputPanel.appendChild(el("div", { class: "tcd-canvas-wrap" }, canvas, box));
      }
      outputCaption.textContent = `${state.mode} pooled ${rows}×${cols}`;
    }

    function renderSum() {
      sum.textContent = "";
      if (!state.result) { where.textContent = ""; return; }
      const [rows, cols] = state.result.shape;
      const win = windowCells();
      where.textContent = `window ${state.position + 1} of ${rows * cols}`;
      const values = win.cells.map(([r, c]) => state.matrix[r][c]);
      const value = state.result.output[win.i][win.j];
      const list = values.map((v) => fmt(v, 2)).join(", ");
      let text;
      if (state.mode === "max") {
        text = `max(${list}) = `;
      } else {
        text = `(${values.map((v) => fmt(v, 2)).join(" + ")}) / ${values.length} = `;
      }
      sum.append(el("span", { class: "tcd-terms" }, text), el("span", { class: "tcd-equals" }, fmt(value, 3)));
      if (values.length < state.size * state.size) {
        sum.append(el("span", { class: "tcd-note" }, ` (this ${state.size}×${state.size} window hangs over the edge ` +
          `("same" padding): only its ${values.length} real cells count)`));
      }
      if (state.mode === "max") {
        sum.append(el("span", { class: "tcd-note" },
          ` (the winner, circled, is at row ${win.winner[0] + 1}, column ${win.winner[1] + 1})`));
      }
      prev.disabled = state.position === 0;
      next.disabled = state.position >= rows * cols - 1;
    }

    function goTo(position, keepFocus) {
      if (!state.result) return;
      const [rows, cols] = state.result.shape;
      state.position = Math.max(0, Math.min(rows * cols - 1, position));
      renderInput();
      renderOutput();
      renderSum();
      if (keepFocus) { const t = outputPanel.querySelector("[tabindex]"); if (t) t.focus(); }
    }

    async function compute() {
      const seq = ++state.seq;
      state.result = null;
      state.position = 0;
      renderInput(); renderOutput(); renderSum();
      status.loading();
      try {
        if (state.input === "edges" && !state.edges) {
          const photo = await D.fetchJSON("assets/data/photo64.json");
          const grey = photo.grey.map((row) => row.map((v) => Math.round(v / 255 * 100) / 100));
          state.edges = (await D.python(`_demo.edge_map(${D.py(grey)})`)).output;
        }
        state.matrix = state.input === "edges" ? state.edges : ARTICLE;
        const fn = state.mode === "max" ? "max_pool2d" : "avg_pool2d";
        const result = await D.python(`_demo.pool(${D.py(state.matrix)}, ${D.py(state.mode)}, ${state.size}, ` +
          `${state.strides}, ${D.py(state.padding)})`);
        if (seq !== state.seq) return;
        state.result = result;
        status.set(`Computed in your browser by tinycnn.functional.${fn}(feature_map, pool_size=${state.size}, ` +
          `strides=${state.strides}, padding="${state.padding}").`, "ok");
        const focused = outputPanel.contains(document.activeElement);
        renderInput(); renderOutput(); renderSum();
        if (focused) { const t = outputPanel.querySelector("[tabindex]"); if (t) t.focus(); }
      } catch (error) {
        if (seq === state.seq) status.error(error);
      }
    }

    inputField.select.addEventListener("change", () => { state.input = inputField.select.value; compute(); });
    mode.onChange(() => { state.mode = mode.value; compute(); });
    sizeField.select.addEventListener("change", () => {
      state.size = Number(sizeField.select.value);
      state.strides = state.size;           // Keras default: stride = window size
      strideField.select.value = String(state.size);
      compute();
    });
    strideField.select.addEventListener("change", () => { state.strides = Number(strideField.select.value); compute(); });
    paddingField.select.addEventListener("change", () => { state.padding = paddingField.select.value; compute(); });
    prev.addEventListener("click", () => goTo(state.position - 1));
    next.addEventListener("click", () => goTo(state.position + 1));
    compute();
  }

  D.register("#pooling-demo, #pool-explorer, [data-demo='pooling']", mount);
})();
