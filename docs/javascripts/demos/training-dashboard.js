/* Training dashboard (training page): trains a small CNN on the real 8x8 digits in the page's
 * Python, a fraction of a second at a time (tinycnn_demos.Trainer.step), and redraws between the
 * steps: progress bar, loss and accuracy curves (training: running mean over the epoch; validation:
 * held-out digits after each epoch), the first layer's kernels, and a confusion matrix at the end.
 * Python runs in a Web Worker, so the page stays responsive; Pause and Stop take effect after the
 * current step (at most about 0.3 s). Placeholder: <div id="training-demo"></div>. */
(function () {
  "use strict";
  const D = window.tinycnnDemos;
  if (!D) return;
  const { el, fmt } = D;
  const STEP_SECONDS = 0.3;

  /** Line chart on a canvas: series = [{points: [[x, y], ...], colour, dots}], fixed axes. */
  function drawChart(canvas, series, options) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 300; const height = canvas.clientHeight || 170;
    canvas.width = Math.round(width * ratio); canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const colours = D.theme(canvas);
    const left = 38; const right = 8; const top = 16; const bottom = 24;
    const plotW = width - left - right; const plotH = height - top - bottom;
    const [x0, x1] = [0, Math.max(1, options.xmax)];
    const [y0, y1] = [options.ymin, options.ymax];
    const X = (x) => left + (x - x0) / (x1 - x0) * plotW;
    const Y = (y) => top + (1 - (Math.min(y1, Math.max(y0, y)) - y0) / (y1 - y0)) * plotH;
    ctx.clearRect(0, 0, width, height);
    ctx.font = "11px sans-serif";
    ctx.fillStyle = colours.light;
    ctx.strokeStyle = colours.lighter;
    ctx.lineWidth = 1;
    ctx.fillText(options.title, left, 11);
    const ticks = options.ticks || 4;
    for (let k = 0; k <= ticks; k++) {
      const y = y0 + (y1 - y0) * k / ticks;
      ctx.beginPath(); ctx.moveTo(left, Y(y) + 0.5); ctx.lineTo(left + plotW, Y(y) + 0.5); ctx.stroke();
      ctx.textAlign = "right"; ctx.fillText(options.format(y), left - 4, Y(y) + 4);
    }
    // whole epochs only, as many as fit without the labels touching (about 28 px each)
    const step = Math.max(1, Math.ceil(x1 / Math.max(1, Math.min(10, Math.floor(plotW / 28)))));
    ctx.textAlign = "center";
    for (let e = 0; e <= x1; e += step) ctx.fillText(String(e), X(e), top + plotH + 14);
    ctx.textAlign = "left";
    for (const s of series) {
      if (!s.points.length) continue;
      ctx.strokeStyle = s.colour; ctx.fillStyle = s.colour; ctx.lineWidth = s.dots ? 2 : 1.5;
      ctx.beginPath();
      s.points.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
      ctx.stroke();
      if (s.dots) for (const [x, y] of s.points) { ctx.beginPath(); ctx.arc(X(x), Y(y), 3, 0, 7); ctx.fill(); }
    }
  }

  function mount(root) {
    root.textContent = "";
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Training dashboard");
    const run = { active: false, paused: false, stopped: false, points: [], history: null, state: null,
      started: 0, seconds: 0, layers: null, learningRate: 0.01, epochs: 15 };

    root.appendChild(el("p", { class: "tcd-title" }, "Train a CNN on the digits, in your browser"));
    const intro = el("p", { class: "tcd-note" }, "A smaller model than the page's own, so that it trains in seconds: " +
      "Conv2D(8) → MaxPooling2D → Conv2D(16) → MaxPooling2D → " +
      "Flatten → Dense(10, softmax), trained with Adam on the 8×8 digits; 20% of the digits are held out " +
      "for validation.");
    root.appendChild(intro);
    const code = el("pre", {});
    root.appendChild(el("details", { class: "tcd-code" }, el("summary", {}, "The model in tinycnn"), code));
    D.fetchJSON("assets/data/digits_model.json").then((info) => {
      code.textContent = "from tinycnn.models import Sequential\nfrom tinycnn.layers import Conv2D, MaxPooling2D, " +
        "Flatten, Dense\nfrom tinycnn.optimizers import Adam\n\n" + info.source.replace("learning_rate=learning_rate",
        "learning_rate=0.01") + `\n# ${info.params} weights; ${info.train_size} training and ${info.test_size} held-out digits`;
    }).catch(() => { code.textContent = "(model description unavailable)"; });

    const lrField = D.select("Learning rate", [[0.001, "0.001"], [0.003, "0.003"], [0.01, "0.01"], [0.03, "0.03"],
      [0.1, "0.1"]], 0.01);
    const epochsInput = el("input", { type: "number", min: "1", max: "50", step: "1", value: "15", inputmode: "numeric" });
    const epochsId = D.id("epochs");
    epochsInput.id = epochsId;
    const epochsField = el("label", { class: "tcd-field", for: epochsId }, el("span", {}, "Epochs"), epochsInput);
    const trainButton = D.button("Train", { class: "tcd-button tcd-primary tcd-train" });
    const pauseButton = D.button("Pause", { class: "tcd-button tcd-pause", "aria-pressed": "false", disabled: true });
    const stopButton = D.button("Stop", { class: "tcd-button tcd-stop", disabled: true });
    const downloadButton = D.button("Download model", { class: "tcd-button tcd-download", disabled: true,
      title: "Save the trained model as a file that tinycnn.models.load_model opens" });
    root.appendChild(el("div", { class: "tcd-controls" }, lrField.root, epochsField, trainButton, pauseButton, stopButton,
      downloadButton));

    const progress = el("progress", { max: "1", value: "0", "aria-label": "Training progress" });
    const progressText = el("span", { class: "tcd-where", "aria-live": "off" }, "Not started.");
    root.appendChild(el("div", { class: "tcd-progress-row" }, progress, progressText));

    const lossCanvas = el("canvas", { class: "tcd-chart", role: "img", "aria-label": "Loss curves" });
    const accCanvas = el("canvas", { class: "tcd-chart", role: "img", "aria-label": "Accuracy curves" });
    const legend = el("p", { class: "tcd-legend" },
      el("span", {}, el("span", { class: "tcd-swatch tcd-swatch-train" }), "training batches (smoothed)"),
      el("span", {}, el("span", { class: "tcd-swatch tcd-swatch-val" }), "validation (held-out digits, end of each epoch)"));
    root.appendChild(el("div", { class: "tcd-charts" }, el("div", {}, lossCanvas), el("div", {}, accCanvas)));
    root.appendChild(legend);

    const kernelsBox = el("div", { class: "tcd-kernels", role: "img", "aria-label": "The 8 kernels of the first layer" });
    root.appendChild(el("p", { class: "tcd-section-title" }, "The first layer's 8 kernels (3×3; blue < 0 < red)"));
    root.appendChild(kernelsBox);
    const result = el("div", { class: "tcd-result", "aria-live": "polite" });
    root.appendChild(result);
    const status = D.status(root);

    function colours() {
      const t = D.theme(root);
      return { train: t.primary === "" ? "#3f51b5" : t.primary, val: "#ef6c00", fg: t.fg };
    }

    function redraw() {
      const c = colours();
      const legendTrain = root.querySelector(".tcd-swatch-train");
      const legendVal = root.querySelector(".tcd-swatch-val");
      if (legendTrain) legendTrain.style.background = c.train;
      if (legendVal) legendVal.style.background = c.val;
      const h = run.history || { epoch: [], loss: [], val_loss: [], accuracy: [], val_accuracy: [] };
      const xmax = Math.max(run.epochs, h.epoch.length);
      const losses = run.points.map((p) => p[1]).concat(h.val_loss);
      const lossMax = Math.max(0.5, Math.min(3, Math.ceil((Math.max(...losses, 0) || 2.5) * 2) / 2));
      drawChart(lossCanvas, [
        { points: run.points.map((p) => [p[0], p[1]]), colour: c.train },
        { points: h.epoch.map((e, i) => [e, h.val_loss[i]]), colour: c.val, dots: true },
      ], { title: "loss (cross-entropy) by epoch", ymin: 0, ymax: lossMax, xmax, ticks: Math.round(lossMax / 0.5),
        format: (v) => v.toFixed(1) });
      drawChart(accCanvas, [
        { points: run.points.map((p) => [p[0], p[2]]), colour: c.train },
        { points: h.epoch.map((e, i) => [e, h.val_accuracy[i]]), colour: c.val, dots: true },
      ], { title: "accuracy by epoch", ymin: 0, ymax: 1, xmax, format: (v) => Math.round(v * 100) + "%" });
    }

    function drawKernels(kernels) {
      kernelsBox.textContent = "";
      let limit = 0;
      for (const k of kernels) for (const row of k) for (const v of row) limit = Math.max(limit, Math.abs(v));
      kernels.forEach((k, i) => {
        const canvas = D.paint(el("canvas", { title: `kernel ${i + 1}` }), k, "diverging", [-limit, limit]);
        canvas.style.imageRendering = "pixelated";
        kernelsBox.appendChild(canvas);
      });
    }

    function showProgress(s) {
      const total = s.epochs * s.batches;
      const doneBatches = s.epoch * s.batches + s.batch;
      progress.max = total;
      progress.value = Math.min(total, doneBatches);
      const rate = s.seconds > 0 ? Math.round(s.examples / s.seconds) : 0;
      const last = run.history && run.history.val_accuracy.length
        ? ` · validation accuracy ${(100 * run.history.val_accuracy[run.history.val_accuracy.length - 1]).toFixed(1)}%` : "";
      const epochShown = Math.min(s.epoch + (s.batch > 0 ? 1 : 0), s.epochs) || 1;
      progressText.textContent = `epoch ${epochShown} of ${s.epochs} · batch ${s.batch || s.batches} of ${s.batches}` +
        ` · ${rate} images/s · ${s.seconds.toFixed(1)} s${last}` + (run.paused ? " · paused" : "");
      root.dataset.epoch = String(s.epoch);
      root.dataset.seconds = String(s.seconds);
    }

    function showResult(final, s) {
      result.textContent = "";
      const acc = final.test_accuracy;
      const n = s.test_size;
      root.dataset.testAccuracy = String(acc);
      result.appendChild(el("p", { class: "tcd-section-title tcd-final" },
        `Held-out accuracy: ${(100 * acc).toFixed(1)}% (${Math.round(acc * n)} of ${n} digits the model never trained on), ` +
        `after ${s.epoch} epoch${s.epoch === 1 ? "" : "s"} and ${s.seconds.toFixed(1)} s of training in your browser.`));
      const table = el("table", { class: "tcd-confusion" });
      table.appendChild(el("caption", {}, "rows: true digit · columns: predicted digit"));
      const head = el("tr", {}, el("th", { scope: "col" }, el("span", { class: "tcd-sr" }, "true digit")));
      for (let j = 0; j < 10; j++) head.appendChild(el("th", { scope: "col" }, String(j)));
      table.appendChild(el("thead", {}, head));
      const body = el("tbody", {});
      const max = Math.max(...final.confusion.map((row) => Math.max(...row))) || 1;
      final.confusion.forEach((row, i) => {
        const tr = el("tr", {}, el("th", { scope: "row" }, String(i)));
        row.forEach((count, j) => {
          const td = el("td", {}, count ? String(count) : "");
          if (count) {
            const rgb = i === j ? D.sequential(0.15 + 0.7 * count / max) : [239, 154, 154];
            td.style.background = D.css(rgb);
            td.style.color = D.ink(rgb);
          }
          td.title = `${count} digit(s) ${i} predicted as ${j}`;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      table.appendChild(body);
      result.appendChild(el("p", { class: "tcd-section-title" }, "Confusion matrix on the held-out digits"));
      result.appendChild(el("div", { class: "tcd-table-wrap" }, table));
      result.appendChild(el("p", { class: "tcd-note" }, "Rows: the true digit; columns: the model's answer. " +
        "The diagonal counts the right answers; anything off the diagonal (red) is a mistake. " +
        "Draw your own digit below to test this model."));
    }

    function setButtons() {
      trainButton.disabled = run.active;
      pauseButton.disabled = !run.active;
      stopButton.disabled = !run.active;
      pauseButton.textContent = run.paused ? "Resume" : "Pause";
      pauseButton.setAttribute("aria-pressed", run.paused ? "true" : "false");
      trainButton.textContent = run.state && run.state.epoch > 0 && !run.active ? "Train again" : "Train";
      downloadButton.disabled = run.active || !run.finished || !run.state || (run.state.epoch === 0 && run.state.batch === 0);
      root.dataset.training = run.active ? (run.paused ? "paused" : "running") : "idle";
    }

    async function finish(stoppedEarly) {
      if (run.finished) return;
      run.finished = true;
      run.active = false;
      setButtons();
      try {
        const final = stoppedEarly ? await D.python("_demo.train_finish()") : run.state;
        if (final && final.confusion) showResult(final, run.state);
        status.set(stoppedEarly ? "Stopped. The confusion matrix shows the model as it was when you stopped."
          : "Done. The model stays in this page: the draw-a-digit demo below uses it.", "ok");
        if (run.state && run.state.epoch > 0) {
          document.dispatchEvent(new CustomEvent("tinycnn-demos:trained", { detail: { final } }));
        }
      } catch (error) { status.error(error); }
    }

    async function loop() {
      if (run.looping) return;
      run.looping = true;
      root.dataset.stepping = "true";
      try {
        await steps();
      } finally {
        run.looping = false;
        delete root.dataset.stepping;
      }
    }

    async function steps() {
      while (run.active && !run.paused && !run.stopped) {
        let s;
        try {
          const lr = Number(lrField.select.value);
          const epochs = Math.max(1, Math.min(50, Math.round(Number(epochsInput.value) || run.epochs)));
          s = await D.python(`_demo.train_step(${STEP_SECONDS}, ${run.points.length}, ${lr}, ${epochs})`);
        } catch (error) {
          run.active = false; setButtons();
          status.error(error.stopped ? new Error("the Python runtime was stopped and restarted; press Train to start again") : error);
          return;
        }
        if (s.error) { run.active = false; setButtons(); status.error(new Error(s.error)); return; }
        run.state = s;
        run.epochs = s.epochs;
        run.points = run.points.concat(s.points);
        run.history = s.history;
        showProgress(s);
        drawKernels(s.kernels);
        redraw();
        if (s.done) { await finish(false); return; }
      }
      if (run.stopped) await finish(true);
    }

    async function start() {
      run.active = true; run.paused = false; run.stopped = false; run.finished = false;
      run.points = []; run.history = null;
      run.epochs = Math.max(1, Math.min(50, Math.round(Number(epochsInput.value) || 15)));
      epochsInput.value = String(run.epochs);
      result.textContent = "";
      delete root.dataset.testAccuracy;
      setButtons();
      redraw();
      status.loading();
      try {
        const started = await D.python(`_demo.train_start(${Number(lrField.select.value)}, ${run.epochs}, 0)`);
        run.layers = started.layers;
        run.state = started.state;
        drawKernels(started.state.kernels);
        showProgress(started.state);
        status.set("Training in your browser (tinycnn in Pyodide, in a Web Worker: the page stays usable).", "busy");
      } catch (error) {
        run.active = false; setButtons(); status.error(error); return;
      }
      loop();
    }

    /** The model as a file: the page's Python writes it with model.save; the browser saves it. */
    async function download() {
      downloadButton.disabled = true;
      try {
        const file = await D.python("_demo.model_file()");
        if (file.error) throw new Error(file.error);
        const blob = new Blob([D.base64ToBytes(file.data)], { type: "application/octet-stream" });
        const link = el("a", { href: URL.createObjectURL(blob), download: "tinycnn-digits-model.npz" });
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 10000);
        root.dataset.downloaded = String(file.test_accuracy);
        status.set(`Saved tinycnn-digits-model.npz (${Math.round(file.bytes / 1024)} KB: layers, weights, ` +
          `optimizer state; held-out accuracy ${(100 * file.test_accuracy).toFixed(1)}%). Open it in Python with ` +
          "tinycnn.models.load_model(\"tinycnn-digits-model.npz\"), or below with \"Use my model\".", "ok");
      } catch (error) { status.error(error); } finally { setButtons(); }
    }

    trainButton.addEventListener("click", start);
    downloadButton.addEventListener("click", download);
    pauseButton.addEventListener("click", () => {
      if (!run.active) return;
      run.paused = !run.paused;
      setButtons();
      if (run.state) showProgress(run.state);
      if (run.paused) status.set("Paused after the current step. Press Resume to go on.", "ok");
      else { status.set("Training in your browser…", "busy"); loop(); }
    });
    stopButton.addEventListener("click", () => {
      if (!run.active) return;
      run.stopped = true;
      setButtons();
      status.set("Stopping after the current step…", "busy");
      if (run.paused) { run.paused = false; finish(true); }
    });
    if (window.ResizeObserver) new ResizeObserver(() => redraw()).observe(lossCanvas);
    new MutationObserver(() => redraw()).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
    setButtons();
    redraw();
  }

  D.register("#training-demo, [data-demo='training']", mount);
})();
