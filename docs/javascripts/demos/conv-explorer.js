/* Convolution explorer (convolution page): pick an input and a 3x3 kernel, see the feature map that
 * tinycnn.functional.conv2d computes in the page's Python, step the window cell by cell with the
 * multiply-add written out, and change stride and padding with the output-size formula updating.
 * Placeholder: <div id="convolution-demo"></div> (or id="conv-explorer"). */
(function () {
  "use strict";
  const D = window.tinycnnDemos;
  if (!D) return;
  const { el, fmt, term } = D;

  // The worked example: a 6x6 image whose top-left window is the article's patch
  // [[3, 1, 1], [1, 0, 7], [2, 3, 5]] (vertical-edge kernel -> -7).
  const ARTICLE = [
    [3, 1, 1, 2, 8, 4],
    [1, 0, 7, 3, 2, 6],
    [2, 3, 5, 1, 1, 3],
    [1, 4, 1, 2, 6, 5],
    [3, 2, 1, 3, 7, 2],
    [9, 2, 6, 2, 5, 1],
  ];

  const KERNELS = {
    vertical: { label: "Vertical edges", k: [[1, 0, -1], [1, 0, -1], [1, 0, -1]] },
    horizontal: { label: "Horizontal edges", k: [[1, 1, 1], [0, 0, 0], [-1, -1, -1]] },
    blur: { label: "Blur (box, 1/9 each)", k: [[1 / 9, 1 / 9, 1 / 9], [1 / 9, 1 / 9, 1 / 9], [1 / 9, 1 / 9, 1 / 9]] },
    sharpen: { label: "Sharpen", k: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]] },
    outline: { label: "Outline (Laplacian)", k: [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]] },
    identity: { label: "Identity", k: [[0, 0, 0], [0, 1, 0], [0, 0, 0]] },
    custom: { label: "Custom (edit the numbers)", k: null },
  };

  function shapes() {
    const n = 16;
    const m = Array.from({ length: n }, () => new Array(n).fill(0));
    for (let r = 2; r <= 7; r++) for (let c = 2; c <= 7; c++) m[r][c] = 1;          // a square
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {                       // a disc
      if ((r - 11) ** 2 + (c - 11) ** 2 <= 9.5) m[r][c] = 1;
    }
    for (let i = 0; i < 6; i++) m[9 + i][1 + i] = 1;                               // a diagonal line
    for (let r = 1; r <= 6; r++) m[r][12] = 0.5;                                     // a grey bar
    return m;
  }

  function drawing() {
    const n = 12;
    const m = Array.from({ length: n }, () => new Array(n).fill(0));
    for (let r = 2; r <= 9; r++) m[r][3] = 1;       // an L to start with
    for (let c = 3; c <= 8; c++) m[9][c] = 1;
    return m;
  }

  function samePads(size, k, s) {
    const out = Math.ceil(size / s);
    const total = Math.max((out - 1) * s + k - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }

  function mount(root) {
    root.textContent = "";
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Convolution explorer");
    const state = {
      input: "article", image: ARTICLE.map((r) => r.slice()), kernel: KERNELS.vertical.k.map((r) => r.slice()),
      preset: "vertical", strides: 1, padding: "valid", result: null, position: 0, playing: null,
      photo: null, drawn: drawing(), seq: 0, cursor: [0, 0],
    };

    root.appendChild(el("p", { class: "tcd-title" }, "Convolution explorer"));
    const inputField = D.select("Input", [["article", "The worked example (6×6)"], ["photo", "A photo (64×64)"],
      ["shapes", "Shapes (16×16)"], ["draw", "Draw your own (12×12)"]], "article");
    const presetField = D.select("Kernel", Object.entries(KERNELS).map(([key, v]) => [key, v.label]), "vertical");
    const strideField = D.select("Stride", [[1, "1"], [2, "2"], [3, "3"]], 1);
    const paddingField = D.select("Padding", [["valid", "valid (none)"], ["same", "same (zeros)"]], "valid");
    root.appendChild(el("div", { class: "tcd-controls" }, inputField.root, presetField.root, strideField.root,
      paddingField.root));
    // the reader's own image: decoded in the browser (own-images.js), grey, 64x64 like the photo
    if (D.images) {
      const own = D.images.picker({ label: "Your own image (stays in your browser)", onFiles: async ([file]) => {
        status.set("Decoding your image in your browser…", "busy");
        try {
          const image = await D.images.readImage(file, { size: 64, fit: "square" });
          state.own = image.grey.map((row) => row.map((v) => Math.round(v * 100) / 100));
          if (!inputField.select.querySelector("option[value='own']")) {
            inputField.select.appendChild(el("option", { value: "own" }, "Your image (64×64)"));
          }
          inputField.select.value = "own";
          setInput("own");
        } catch (error) { status.set(error.message, "error"); }
      } });
      root.appendChild(el("div", { class: "tcd-controls" }, own.root));
    }

    // 3x3 editable kernel
    const kernelInputs = [];
    const kernelGrid = el("div", { class: "tcd-kernel", role: "group", "aria-label": "Kernel weights (3×3)" });
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        const input = el("input", { type: "number", step: "any", inputmode: "decimal",
          "aria-label": `Kernel row ${r + 1}, column ${c + 1}` });
        input.addEventListener("input", () => {
          const value = parseFloat(input.value);
          if (!Number.isFinite(value)) return;
          state.kernel[r][c] = value;
          state.preset = "custom";
          presetField.select.value = "custom";
          compute();
        });
        kernelInputs.push(input);
        kernelGrid.appendChild(input);
      }
    }
    const formula = el("p", { class: "tcd-formula", "aria-live": "polite" });
    root.appendChild(el("div", { class: "tcd-kernel-row" },
      el("div", {}, el("span", { class: "tcd-label" }, "Kernel (editable)"), kernelGrid), formula));

    // input and output panels
    const { inputPanel, outputPanel, inputCaption, outputCaption } = D.inputOutputPanels(root);

    // step controls
    const prev = D.button("◀ Previous", { "aria-label": "Previous window position" });
    const next = D.button("Next ▶", { "aria-label": "Next window position" });
    const play = D.button("▶ Play", { "aria-pressed": "false" });
    const where = el("span", { class: "tcd-where" });
    root.appendChild(el("div", { class: "tcd-step", role: "group", "aria-label": "Step through the window positions" },
      prev, next, play, where));
    const sum = el("p", { class: "tcd-sum", "aria-live": "polite" });
    root.appendChild(sum);
    const status = D.status(root);

    function syncKernelInputs() {
      kernelInputs.forEach((input, i) => {
        const v = state.kernel[Math.floor(i / 3)][i % 3];
        if (document.activeElement !== input) input.value = fmt(v, 4).replace("−", "-");
      });
    }

    function padsNow() {
      const rows = state.image.length; const cols = state.image[0].length;
      if (state.padding !== "same") return [[0, 0], [0, 0]];
      return [samePads(rows, 3, state.strides), samePads(cols, 3, state.strides)];
    }

    function padded() {
      const pads = padsNow();
      const rows = state.image.length; const cols = state.image[0].length;
      const out = [];
      for (let r = -pads[0][0]; r < rows + pads[0][1]; r++) {
        const row = [];
        for (let c = -pads[1][0]; c < cols + pads[1][1]; c++) {
          row.push(r >= 0 && r < rows && c >= 0 && c < cols ? state.image[r][c] : null);
        }
        out.push(row);
      }
      return { matrix: out, pads };
    }

    function outSize() {
      const rows = state.image.length; const cols = state.image[0].length;
      const pads = padsNow();
      const s = state.strides;
      return [Math.floor((rows + pads[0][0] + pads[0][1] - 3) / s) + 1,
        Math.floor((cols + pads[1][0] + pads[1][1] - 3) / s) + 1];
    }

    function updateFormula() {
      const rows = state.image.length; const cols = state.image[0].length;
      const pads = padsNow();
      const [outRows, outCols] = outSize();
      const line = (what, n, p, out) =>
        `${what}: ⌊(${n} + ${p[0] + p[1]} − 3) / ${state.strides}⌋ + 1 = ${out}`;
      formula.textContent = "";
      formula.append(
        el("span", { class: "tcd-label" }, "Output size = ⌊(n + padding − k) / stride⌋ + 1"),
        el("span", {}, line("rows", rows, pads[0], outRows)),
        el("span", {}, line("columns", cols, pads[1], outCols)),
        el("span", { class: "tcd-note" }, state.padding === "same"
          ? `"same" adds ${pads[0][0] + pads[0][1]} zero row(s) and ${pads[1][0] + pads[1][1]} zero column(s)`
          : '"valid": no padding, the window stays inside the image'));
    }

    // ---------------------------------------------------------------- drawing the two panels
    function windowOf(position) {
      const [, outCols] = outSize();
      const i = Math.floor(position / outCols); const j = position % outCols;
      return { i, j, r0: i * state.strides, c0: j * state.strides };
    }

    function renderInput() {
      const { matrix } = padded();
      const win = windowOf(state.position);
      const rows = matrix.length; const cols = matrix[0].length;
      inputPanel.textContent = "";
      const inWindow = (r, c) => r >= win.r0 && r < win.r0 + 3 && c >= win.c0 && c < win.c0 + 3;
      if (cols <= 20) {
        const values = matrix.map((row) => row.map((v) => (v == null ? 0 : v)));
        const colour = D.scaleFor(values, state.input === "article" ? "sequential" : "grey",
          state.input === "article" ? [0, 9] : [0, 1]);
        const plain = state.input === "article";
        const grid = el("div", { class: "tcd-grid" + (cols > 8 ? " tcd-grid-small" : "") + (plain ? " tcd-plain" : ""),
          style: `grid-template-columns: repeat(${cols}, 1fr)`, role: "img",
          "aria-label": `Input ${rows}×${cols}` + (state.padding === "same" ? " with zero padding" : "") });
        const drawing = state.input === "draw";
        const cells = matrix.map((row, r) => row.map((v, c) => {
          const rgb = v == null ? null : colour(v);
          const cell = el("div", { class: "tcd-cell" + (v == null ? " tcd-pad" : "") +
            (inWindow(r, c) ? " tcd-in-window" : "") });
          if (rgb && !plain) { cell.style.background = D.css(rgb); cell.style.color = D.ink(rgb); }
          if (cols <= 8) cell.textContent = v == null ? "0" : fmt(v, 2);
          if (drawing && v != null) {
            const pads = padsNow();
            const rr = r - pads[0][0]; const cc = c - pads[1][0];
            cell.dataset.r = rr; cell.dataset.c = cc;
            if (rr === state.cursor[0] && cc === state.cursor[1] && grid === document.activeElement) {
              cell.classList.add("tcd-cursor");
            }
          }
          if (drawing && cols > 8) cell.setAttribute("aria-label", drawnLabel(v));
          return cell;
        }));
        if (drawing) {
          // the drawing is a grid widget: one tab stop, the cursor cell is the active one
          grid.setAttribute("tabindex", "0");
          grid.setAttribute("aria-label", "Drawing grid: arrow keys move, Space paints or erases the cell");
          D.gridOf(grid, cells);
          D.activeCell(grid, cursorCell(grid));
          wireDrawing(grid);
        } else {
          cells.flat().forEach((cell) => grid.appendChild(cell));
        }
        inputPanel.appendChild(grid);
      } else {
        const values = matrix.map((row) => row.map((v) => (v == null ? 0 : v)));
        const canvas = D.paint(el("canvas", { class: "tcd-canvas", role: "img",
          "aria-label": `Photo, ${rows}×${cols} grey pixels` }), values, "grey", [0, 1]);
        const box = D.windowBox("tcd-box", win.r0, win.c0, 3, rows, cols);
        inputPanel.appendChild(el("div", { class: "tcd-canvas-wrap" }, canvas, box));
      }
      inputCaption.textContent = `input ${state.image.length}×${state.image[0].length}` +
        (state.padding === "same" ? `, padded to ${rows}×${cols}` : "");
    }

    function renderOutput() {
      outputPanel.textContent = "";
      const [outRows, outCols] = outSize();
      const result = state.result;
      const win = windowOf(state.position);
      if (!result) {
        outputPanel.appendChild(el("div", { class: "tcd-placeholder" }, D.pendingText()));
        outputCaption.textContent = `feature map ${outRows}×${outCols}`;
        return;
      }
      const out = result.output;
      if (outCols <= 20) {
        const colour = D.scaleFor(out, "diverging");
        const grid = el("div", { class: "tcd-grid" + (outCols > 8 ? " tcd-grid-small" : ""), tabindex: "0",
          style: `grid-template-columns: repeat(${outCols}, 1fr)`,
          "aria-label": "Feature map: arrow keys move the window" });
        const cells = out.map((row, i) => row.map((v, j) => {
          const rgb = colour(v);
          const cell = el("div", { class: "tcd-cell" + (i === win.i && j === win.j ? " tcd-current" : ""),
            "data-i": i, "data-j": j });
          cell.style.background = D.css(rgb);
          cell.style.color = D.ink(rgb);
          if (outCols <= 8) cell.textContent = fmt(v, 2);
          else cell.setAttribute("aria-label", fmt(v, 2));
          return cell;
        }));
        D.gridOf(grid, cells);
        D.activeCell(grid, cells[win.i][win.j]);
        outputPanel.appendChild(D.mapNavigation(grid, outRows, outCols, () => state.position, goTo));
      } else {
        const canvas = D.paint(el("canvas", { class: "tcd-canvas", role: "img", tabindex: "0",
          "aria-label": "Feature map: arrow keys move the window" }), out, "diverging");
        D.mapNavigation(canvas, outRows, outCols, () => state.position, goTo);
        const box = D.windowBox("tcd-box tcd-box-out", win.i, win.j, 1, outRows, outCols);
        outputPanel.appendChild(el("div", { class: "tcd-canvas-wrap" }, canvas, box));
      }
      outputCaption.textContent = `feature map ${outRows}×${outCols} (blue < 0 < red)`;
    }

    function renderSum() {
      const [outRows, outCols] = outSize();
      const win = windowOf(state.position);
      where.textContent = `window ${state.position + 1} of ${outRows * outCols} (row ${win.i + 1}, column ${win.j + 1})`;
      const { matrix } = padded();
      const terms = [];
      for (let m = 0; m < 3; m++) {
        for (let n = 0; n < 3; n++) {
          const v = matrix[win.r0 + m][win.c0 + n];
          terms.push(`${term(v == null ? 0 : v)}·${term(state.kernel[m][n])}`);
        }
      }
      sum.textContent = "";
      const value = state.result ? state.result.output[win.i][win.j] : null;
      sum.append(el("span", { class: "tcd-terms" }, terms.join(" + ")),
        el("span", { class: "tcd-equals" }, " = " + (value == null ? "…" : fmt(value, 3))));
      prev.disabled = state.position === 0;
      next.disabled = state.position >= outRows * outCols - 1;
    }

    function render() {
      syncKernelInputs();
      updateFormula();
      renderInput();
      renderOutput();
      renderSum();
    }

    function goTo(position, keepFocus) {
      const [outRows, outCols] = outSize();
      state.position = Math.max(0, Math.min(outRows * outCols - 1, position));
      const focused = document.activeElement;
      const refocus = keepFocus && outputPanel.contains(focused);
      renderInput();
      renderOutput();
      renderSum();
      if (refocus) {
        const target = outputPanel.querySelector("[tabindex]");
        if (target) target.focus();
      }
    }

    // ---------------------------------------------------------------- drawing input
    function wireDrawing(grid) {
      let painting = null;
      const cellAt = (event) => {
        const node = document.elementFromPoint(event.clientX, event.clientY);
        return node && node.closest && node.closest(".tcd-cell[data-r]");
      };
      grid.addEventListener("pointerdown", (event) => {
        const cell = cellAt(event);
        if (!cell) return;
        event.preventDefault();
        const r = Number(cell.dataset.r); const c = Number(cell.dataset.c);
        painting = state.drawn[r][c] > 0.5 ? 0 : 1;
        setPixel(r, c, painting);
      });
      grid.addEventListener("pointermove", (event) => {
        if (painting == null) return;
        const cell = cellAt(event);
        if (cell) setPixel(Number(cell.dataset.r), Number(cell.dataset.c), painting);
      });
      const end = () => { if (painting != null) { painting = null; compute(); } };
      grid.addEventListener("pointerup", end);
      grid.addEventListener("pointerleave", end);
      grid.addEventListener("focus", () => markCursor(grid));
      grid.addEventListener("keydown", (event) => {
        const n = state.drawn.length;
        const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
        if (event.key in moves) {
          event.preventDefault();
          const [dr, dc] = moves[event.key];
          state.cursor = [Math.max(0, Math.min(n - 1, state.cursor[0] + dr)),
            Math.max(0, Math.min(n - 1, state.cursor[1] + dc))];
          markCursor(grid);
        } else if (event.key === " " || event.key === "Enter") {
          event.preventDefault();
          const [r, c] = state.cursor;
          setPixel(r, c, state.drawn[r][c] > 0.5 ? 0 : 1);
          compute(true);
        }
      });
    }

    function cursorCell(grid) {
      return grid.querySelector(`.tcd-cell[data-r="${state.cursor[0]}"][data-c="${state.cursor[1]}"]`);
    }

    function drawnLabel(v) {
      return v == null ? "padding" : v > 0.5 ? "painted" : "blank";
    }

    function markCursor(grid) {
      grid.querySelectorAll(".tcd-cursor").forEach((c) => c.classList.remove("tcd-cursor"));
      const cell = cursorCell(grid);
      if (cell) cell.classList.add("tcd-cursor");
      D.activeCell(grid, cell);
    }

    function setPixel(r, c, value) {
      if (state.drawn[r][c] === value) return;
      state.drawn[r][c] = value;
      state.image = state.drawn.map((row) => row.slice());
      const grid = inputPanel.querySelector(".tcd-grid");
      const cell = grid && grid.querySelector(`.tcd-cell[data-r="${r}"][data-c="${c}"]`);
      if (cell) {
        const rgb = D.grey(value);
        cell.style.background = D.css(rgb);
        if (cell.hasAttribute("aria-label")) cell.setAttribute("aria-label", drawnLabel(value));
      }
    }

    // ---------------------------------------------------------------- computing with tinycnn
    let timer = null;
    function compute(keepFocus) {
      const focusDraw = keepFocus && state.input === "draw";
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const seq = ++state.seq;
        state.result = null;
        const [outRows, outCols] = outSize();
        if (state.position >= outRows * outCols) state.position = 0;
        render();
        if (focusDraw) { const g = inputPanel.querySelector(".tcd-grid"); if (g) { g.focus(); markCursor(g); } }
        status.loading();
        try {
          const call = `_demo.conv(${D.py(state.image)}, ${D.py(state.kernel)}, ${state.strides}, ${D.py(state.padding)})`;
          const result = await D.python(call);
          if (seq !== state.seq) return;
          state.result = result;
          status.set("Feature map computed in your browser by tinycnn.functional.conv2d" +
            `(image, kernel, strides=${state.strides}, padding="${state.padding}").`, "ok");
          const focusedOut = outputPanel.contains(document.activeElement);
          renderOutput();
          renderSum();
          if (focusedOut) { const t = outputPanel.querySelector("[tabindex]"); if (t) t.focus(); }
        } catch (error) {
          if (seq === state.seq) status.error(error);
        }
      }, 120);
    }

    async function setInput(kind) {
      state.input = kind;
      state.position = 0;
      if (kind === "article") state.image = ARTICLE.map((r) => r.slice());
      else if (kind === "shapes") state.image = shapes();
      else if (kind === "draw") state.image = state.drawn.map((r) => r.slice());
      else if (kind === "own") state.image = state.own;
      else if (kind === "photo") {
        if (!state.photo) {
          try {
            const photo = await D.fetchJSON("assets/data/photo64.json");
            state.photo = photo.grey.map((row) => row.map((v) => Math.round(v / 255 * 100) / 100));
          } catch (error) { status.error(error); return; }
        }
        state.image = state.photo;
      }
      compute();
    }

    inputField.select.addEventListener("change", () => setInput(inputField.select.value));
    presetField.select.addEventListener("change", () => {
      const preset = KERNELS[presetField.select.value];
      state.preset = presetField.select.value;
      if (preset.k) state.kernel = preset.k.map((r) => r.slice());
      else { kernelInputs[0].focus(); }
      compute();
    });
    strideField.select.addEventListener("change", () => { state.strides = Number(strideField.select.value); state.position = 0; compute(); });
    paddingField.select.addEventListener("change", () => { state.padding = paddingField.select.value; state.position = 0; compute(); });
    prev.addEventListener("click", () => goTo(state.position - 1));
    next.addEventListener("click", () => goTo(state.position + 1));
    play.addEventListener("click", () => {
      if (state.playing) {
        clearInterval(state.playing); state.playing = null;
        play.textContent = "▶ Play"; play.setAttribute("aria-pressed", "false");
        return;
      }
      const [outRows, outCols] = outSize();
      if (state.position >= outRows * outCols - 1) goTo(0);
      play.textContent = "⏸ Pause"; play.setAttribute("aria-pressed", "true");
      state.playing = setInterval(() => {
        const [r, c] = outSize();
        if (state.position >= r * c - 1 || !root.isConnected) {
          clearInterval(state.playing); state.playing = null;
          play.textContent = "▶ Play"; play.setAttribute("aria-pressed", "false");
          return;
        }
        goTo(state.position + 1);
      }, state.image[0].length > 20 ? 120 : 700);
    });

    render();
    compute();
  }

  D.register("#convolution-demo, #conv-explorer, [data-demo='convolution']", mount);
})();
