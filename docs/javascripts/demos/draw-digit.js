/* Draw a digit (training page): the reader draws on a canvas (mouse, touch, pen or keyboard), the
 * drawing is cropped, centred and averaged down to 8x8 like the digits the model learned from, and
 * the model -- the one just trained by the dashboard, the one trained when the site was built
 * (assets/data/digits_model.npz), or a model file the reader chose ("Use my model", opened with
 * tinycnn.models.load_model) -- gives class probabilities (temperature-scaled: see
 * demos.fit_temperature) and every layer's feature maps (model.layer_outputs). Placeholder: <div id="draw-digit-demo"></div>. */
(function () {
  "use strict";
  const D = window.tinycnnDemos;
  if (!D) return;
  const { el, fmt } = D;
  const SIZE = 224;          // drawing canvas, in canvas pixels
  const PEN = 20;            // stroke width, in canvas pixels

  /** The ink of the drawing as an 8x8 image in [0, 1], cropped and centred like the UCI digits
   * (the digit spans the full height and about 6 of the 8 columns). null when nothing is drawn. */
  function toDigit(canvas) {
    const ctx = canvas.getContext("2d");
    const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let x0 = width; let y0 = height; let x1 = -1; let y1 = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (data[4 * (y * width + x)] > 40) {
          if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
        }
      }
    }
    if (x1 < 0) return null;
    const w = x1 - x0 + 1; const h = y1 - y0 + 1;
    const scale = Math.min(8 / h, 6 / w);                  // 8x8 cells per canvas pixel
    const ox = (8 - w * scale) / 2; const oy = (8 - h * scale) / 2;
    const cells = Array.from({ length: 8 }, () => new Array(8).fill(0));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const v = data[4 * (y * width + x)] / 255;
        if (!v) continue;
        const r = Math.min(7, Math.floor(oy + (y - y0 + 0.5) * scale));
        const c = Math.min(7, Math.floor(ox + (x - x0 + 0.5) * scale));
        cells[r][c] += v * scale * scale;
      }
    }
    let max = 0;
    for (const row of cells) for (const v of row) max = Math.max(max, v);
    return cells.map((row) => row.map((v) => Math.round(Math.min(1, 1.4 * v / max) * 1000) / 1000));
  }

  /** A probability as a whole percentage; never "100%" or "0%" for what is only nearly sure. */
  function percent(p) {
    if (p > 0.995) return ">99%";
    if (p < 0.005) return "<1%";
    return Math.round(100 * p) + "%";
  }

  function mount(root) {
    root.textContent = "";
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Draw a digit");
    const state = { pen: null, keyPen: [SIZE / 2, SIZE / 2], keyDown: false, seq: 0, sample: 0, trained: false,
      weightsSent: false, pixels: null };

    root.appendChild(el("p", { class: "tcd-title" }, "Draw a digit"));
    root.appendChild(el("p", { class: "tcd-note" }, "Draw one digit, 0 to 9, large, in the black square (mouse, finger " +
      "or pen; with the keyboard: focus the square, arrow keys move the pen, Space puts it down or lifts it)."));

    const pad = el("canvas", { class: "tcd-pad-canvas", width: String(SIZE), height: String(SIZE), tabindex: "0",
      role: "img", "aria-label": "Drawing pad. Arrow keys move the pen, Space puts it down or lifts it, Delete clears." });
    const ctx = pad.getContext("2d", { willReadFrequently: true });
    const ring = el("div", { class: "tcd-pen-ring", "aria-hidden": "true" });
    const preview = el("canvas", { class: "tcd-small-canvas", role: "img", "aria-label": "What the model sees: 8×8 pixels" });
    const guess = el("p", { class: "tcd-guess", "aria-live": "polite" }, "?");
    const bars = el("div", { class: "tcd-bars", role: "list", "aria-label": "Class probabilities" });
    const clear = D.button("Clear");
    const sample = D.button("Show me a real digit");
    const model = D.radios("Model", [["trained", "trained above"], ["pretrained", "pre-trained when the site was built"],
      ["user", "my model (from a file)"]], "pretrained");
    model.inputs[0].disabled = true;
    model.inputs[2].disabled = true;
    const fileId = D.id("model-file");
    const fileInput = el("input", { type: "file", id: fileId, accept: ".npz,application/octet-stream",
      class: "tcd-file" });
    const fileField = el("label", { class: "tcd-field tcd-file-field", for: fileId },
      el("span", {}, "Use my model: a file from “Download model” (or model.save)"), fileInput);
    const confidenceNote = el("p", { class: "tcd-note tcd-confidence" });

    root.appendChild(el("div", { class: "tcd-draw-row" },
      el("div", {}, el("div", { class: "tcd-pad-wrap" }, pad, ring), el("div", { class: "tcd-controls" }, clear, sample)),
      el("figure", { class: "tcd-figure tcd-preview" }, preview,
        el("figcaption", {}, "what the model sees (8×8)")),
      el("div", {}, el("span", { class: "tcd-label" }, "The model's answer"), guess, bars, confidenceNote)));
    root.appendChild(el("div", { class: "tcd-controls" }, model.root, fileField));
    const mapsBox = el("div", { class: "tcd-layers" });
    root.appendChild(el("details", { class: "tcd-feature-maps", open: true },
      el("summary", {}, "Feature maps of each layer for your drawing"), mapsBox));
    const status = D.status(root);

    function resetPad() {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, SIZE, SIZE);
      ctx.strokeStyle = "#fff";
      ctx.fillStyle = "#fff";
      ctx.lineWidth = PEN;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
    }
    resetPad();

    function drawCursor() {
      // the keyboard pen: a ring over the pad while it has the focus (green when the pen is down)
      pad.dataset.pen = state.keyDown ? "down" : "up";
      ring.dataset.pen = pad.dataset.pen;
      ring.style.left = (100 * state.keyPen[0] / SIZE) + "%";
      ring.style.top = (100 * state.keyPen[1] / SIZE) + "%";
    }

    function point(event) {
      const rect = pad.getBoundingClientRect();
      return [(event.clientX - rect.left) / rect.width * SIZE, (event.clientY - rect.top) / rect.height * SIZE];
    }

    function stroke(from, to) {
      ctx.beginPath();
      ctx.moveTo(from[0], from[1]);
      ctx.lineTo(to[0], to[1]);
      ctx.stroke();
    }

    pad.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      pad.setPointerCapture(event.pointerId);
      state.pen = point(event);
      stroke(state.pen, [state.pen[0] + 0.01, state.pen[1]]);
    });
    pad.addEventListener("pointermove", (event) => {
      if (!state.pen) return;
      const p = point(event);
      stroke(state.pen, p);
      state.pen = p;
    });
    const up = () => { if (state.pen) { state.pen = null; predictSoon(); } };
    pad.addEventListener("pointerup", up);
    pad.addEventListener("pointercancel", up);

    pad.addEventListener("keydown", (event) => {
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if (event.key in moves) {
        event.preventDefault();
        const step = event.shiftKey ? 4 : 12;
        const from = state.keyPen.slice();
        state.keyPen = [Math.max(PEN / 2, Math.min(SIZE - PEN / 2, from[0] + moves[event.key][0] * step)),
          Math.max(PEN / 2, Math.min(SIZE - PEN / 2, from[1] + moves[event.key][1] * step))];
        if (state.keyDown) { stroke(from, state.keyPen); predictSoon(); }
        drawCursor();
      } else if (event.key === " " || event.key === "Enter") {
        event.preventDefault();
        state.keyDown = !state.keyDown;
        if (state.keyDown) { stroke(state.keyPen, [state.keyPen[0] + 0.01, state.keyPen[1]]); predictSoon(); }
        drawCursor();
      } else if (event.key === "Delete" || event.key === "Backspace") {
        event.preventDefault();
        clearAll();
      }
    });

    function clearAll() {
      resetPad();
      state.keyDown = false;
      state.pixels = null;
      drawCursor();
      D.paint(preview, [[0]], "grey", [0, 1]);
      guess.textContent = "?";
      bars.textContent = "";
      confidenceNote.textContent = "";
      delete root.dataset.probabilities;
      mapsBox.textContent = "";
      delete root.dataset.prediction;
    }
    clear.addEventListener("click", clearAll);

    sample.addEventListener("click", async () => {
      try {
        status.loading();
        const digit = await D.python(`_demo.sample_digit(${state.sample})`);
        state.sample += 37;
        resetPad();
        // draw the 8x8 digit big on the pad, so that what is shown is what is predicted
        const cell = SIZE / 8;
        digit.pixels.forEach((row, r) => row.forEach((v, c) => {
          const g = Math.round(255 * v);
          ctx.fillStyle = `rgb(${g},${g},${g})`;
          ctx.fillRect(c * cell, r * cell, cell, cell);
        }));
        ctx.fillStyle = "#fff";
        predict(digit.pixels, `a held-out digit labelled ${digit.label}`);
      } catch (error) { status.error(error); }
    });

    // An image of a digit (own-images.js decodes it in the browser): drawn on the pad as light ink
    // on black (a dark digit on light paper is inverted), then cropped and averaged to 8x8 like a drawing.
    if (D.images) {
      const own = D.images.picker({ label: "Or use an image of a digit", onFiles: async ([file]) => {
        try {
          const image = await D.images.readImage(file, { size: SIZE, fit: "square" });
          const values = image.grey.flat();
          const mean = values.reduce((a, b) => a + b, 0) / values.length;
          const ink = values.map((v) => (mean > 0.5 ? 1 - v : v));
          const low = Math.min(...ink); const high = Math.max(...ink);
          if (high - low < 0.1) throw new Error(`"${file.name}" is almost one flat colour: no digit found in it.`);
          resetPad();
          const pixels = ctx.createImageData(SIZE, SIZE);
          ink.forEach((v, k) => {
            const g = Math.round(255 * Math.max(0, (v - low) / (high - low) - 0.2) / 0.8);
            pixels.data[4 * k] = g; pixels.data[4 * k + 1] = g; pixels.data[4 * k + 2] = g; pixels.data[4 * k + 3] = 255;
          });
          ctx.putImageData(pixels, 0, 0);
          const digit = toDigit(pad);
          if (!digit) throw new Error(`"${file.name}": no digit found in it.`);
          predict(digit, `your image "${file.name}"`);
        } catch (error) { status.set(error.message, "error"); }
      } });
      root.insertBefore(el("div", { class: "tcd-controls" }, own.root), status.node);
    }

    model.onChange(() => { if (state.pixels) predict(state.pixels); });

    // "Use my model": the file goes to the page's Python, which opens it with load_model
    fileInput.addEventListener("change", async () => {
      const file = fileInput.files && fileInput.files[0];
      if (!file) return;
      status.loading();
      try {
        const data = D.bytesToBase64(await file.arrayBuffer());
        const opened = await D.python(`_demo.load_user_model(${D.py(data)}, ${D.py(file.name)})`);
        if (opened.error) {
          delete root.dataset.userModel;
          status.set(`Could not use ${file.name}: ${opened.error}`, "error");
          return;
        }
        model.inputs[2].disabled = false;
        model.value = "user";
        root.dataset.userModel = file.name;
        status.set(`Using your model ${file.name} (${opened.params} weights, ${opened.layers} layers` +
          (opened.test_accuracy != null ? `; its file says ${(100 * opened.test_accuracy).toFixed(1)}% held-out accuracy` : "") +
          "). Draw a digit.", "ok");
        if (state.pixels) predict(state.pixels);
      } catch (error) { status.error(error); }
    });

    let timer = null;
    function predictSoon() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const pixels = toDigit(pad);
        if (pixels) predict(pixels);
      }, 250);
    }

    async function predict(pixels, what) {
      const seq = ++state.seq;
      state.pixels = pixels;
      D.paint(preview, pixels, "grey", [0, 1]);
      status.loading();
      try {
        let result = await D.python(`_demo.predict_digit(${D.py(pixels)}, ${D.py(model.value)})`);
        if (result.need_weights) {
          const [weights, info] = await Promise.all([D.fetchBase64("assets/data/digits_model.npz"),
            D.fetchJSON("assets/data/digits_model.json")]);
          await D.python(`_demo.load_pretrained(${D.py(weights)}, ${D.py(info.temperature || null)})`);
          result = await D.python(`_demo.predict_digit(${D.py(pixels)}, ${D.py(model.value)})`);
        }
        if (seq !== state.seq) return;
        show(result);
        const by = { trained: "the model trained above", user: "your model" }[result.source] ||
          "the model pre-trained when the site was built";
        status.set(`Predicted in your browser by ${by}` + (what ? `, on ${what}.` : "."), "ok");
      } catch (error) {
        if (seq === state.seq) status.error(error);
      }
    }

    function show(result) {
      const probabilities = result.probabilities;
      guess.textContent = String(result.label);
      root.dataset.prediction = String(result.label);
      bars.textContent = "";
      root.dataset.probabilities = JSON.stringify(probabilities);
      probabilities.forEach((p, digit) => {
        const bar = el("div", { class: "tcd-bar" + (digit === result.label ? " tcd-top" : "") });
        bar.style.width = (100 * p).toFixed(1) + "%";
        bars.append(el("span", { role: "listitem" }, String(digit)), el("div", { class: "tcd-bar-track" }, bar),
          el("span", {}, percent(p)));
      });
      confidenceNote.textContent = "How sure the model is: its softmax output after temperature scaling " +
        `(T = ${result.temperature}, fitted on the 359 held-out digits so that, on digits like those, an answer ` +
        "shown at 80% is right about 80% of the time). Drawings unlike the training digits can still get " +
        "answers that are too sure.";
      if (result.source === "trained" || result.source === "user") model.value = result.source;
      mapsBox.textContent = "";
      for (const layer of result.layers) {
        const shape = layer.shape;
        const title = el("p", { class: "tcd-label" }, `${layer.name} (${layer.kind}): ${shape.join("×")}`);
        const maps = el("div", { class: "tcd-maps" + (shape[0] >= 8 ? " tcd-maps-big" : "") });
        if (shape.length === 3) {
          let max = 0;
          for (const row of layer.values) for (const cell of row) for (const v of cell) max = Math.max(max, v);
          for (let k = 0; k < shape[2]; k++) {
            const matrix = layer.values.map((row) => row.map((cell) => cell[k]));
            maps.appendChild(D.paint(el("canvas", { title: `feature map ${k + 1}` }), matrix, "sequential", [0, max || 1]));
          }
        } else if (layer.kind === "Dense" && shape[0] === 10) {
          continue;  // the probabilities, drawn as bars above
        } else {
          const values = [layer.values];
          const strip = D.paint(el("canvas", { title: `${shape[0]} numbers` }), values, "sequential");
          strip.style.width = "100%"; strip.style.maxWidth = "32rem"; strip.style.height = "1.2rem";
          maps.appendChild(strip);
        }
        mapsBox.append(title, maps);
      }
    }

    document.addEventListener("tinycnn-demos:trained", () => {
      model.inputs[0].disabled = false;
      model.value = "trained";
      if (state.pixels && root.isConnected) predict(state.pixels);
    });
    D.paint(preview, [[0]], "grey", [0, 1]);
    drawCursor();
    // If the dashboard trained a model on an earlier visit to this page, it is still in Python.
    if (window.tinycnnSite && window.tinycnnSite.state && window.tinycnnSite.state() === "ready") {
      D.python("_demo.models()").then((found) => {
        if (found.trained) { model.inputs[0].disabled = false; model.value = "trained"; }
      }).catch(() => {});
    }
  }

  D.register("#draw-digit-demo, #draw-demo, [data-demo='draw']", mount);
})();
