/* Architecture view (recap page, also the introduction): the article's CNN as a diagram of its
 * stages with output shapes and parameter counts (from tinycnn's summary() / layer.output_shape /
 * count_params(), computed when the site was built and again in the page); click a stage to see its
 * activations for a chosen input, computed by tinycnn's model.layer_outputs in the page's Python.
 * Placeholder: <div id="architecture-demo"></div> (or id="architecture-view"). */
(function () {
  "use strict";
  const D = window.tinycnnDemos;
  if (!D) return;
  const { el } = D;

  const DESCRIBE = {
    Input: "the image: 64×64 pixels, 3 colour channels",
    Conv2D: "one feature map per kernel (ReLU applied): high (dark in the pictures) where the kernel's pattern is",
    MaxPooling2D: "each feature map halved: the strongest value of every 2×2 window",
    Flatten: "all the numbers of the last feature maps in one long vector",
    Dense: "fully connected: every output looks at every input",
  };

  function number(n) { return Number(n).toLocaleString("en-US"); }

  function decode(activations) {
    const binary = atob(activations.data);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  /** One canvas per channel from channel-major bytes (channels, rows, cols). */
  function channelCanvases(activations, limit) {
    const bytes = decode(activations);
    const [rows, cols, channels] = activations.shape;
    const out = [];
    for (let k = 0; k < Math.min(channels, limit || channels); k++) {
      const canvas = el("canvas", { width: String(cols), height: String(rows), title: `channel ${k + 1}` });
      const ctx = canvas.getContext("2d");
      const image = ctx.createImageData(cols, rows);
      for (let i = 0; i < rows * cols; i++) {
        const rgb = D.sequential(bytes[k * rows * cols + i] / 255);
        image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
      }
      ctx.putImageData(image, 0, 0);
      out.push(canvas);
    }
    return out;
  }

  function rgbCanvas(activations) {
    const bytes = decode(activations);
    const [rows, cols] = activations.shape;
    const canvas = el("canvas", { width: String(cols), height: String(rows), class: "tcd-small-canvas",
      role: "img", "aria-label": "The input image" });
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(cols, rows);
    const low = activations.low; const high = activations.high;
    for (let i = 0; i < rows * cols; i++) {
      for (let k = 0; k < 3; k++) {
        // undo the per-channel scaling so that the colours are the real ones (values in [0, 1])
        const v = low[k] + bytes[k * rows * cols + i] / 255 * (high[k] - low[k]);
        image.data[4 * i + k] = Math.round(255 * Math.max(0, Math.min(1, v)));
      }
      image.data[4 * i + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
    canvas.style.width = "8rem"; canvas.style.height = "8rem";
    return canvas;
  }

  function vectorCanvas(activations, perRow) {
    const bytes = decode(activations);
    const length = bytes.length;
    const cols = Math.min(perRow, length); const rows = Math.ceil(length / cols);
    const canvas = el("canvas", { width: String(cols), height: String(rows), role: "img",
      "aria-label": `${length} numbers, ${cols} per row` });
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(cols, rows);
    for (let i = 0; i < rows * cols; i++) {
      const rgb = i < length ? D.sequential(bytes[i] / 255) : [128, 128, 128];
      image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
    }
    ctx.putImageData(image, 0, 0);
    canvas.className = "tcd-vector";
    canvas.style.width = Math.min(32, cols * 0.5) + "rem";
    canvas.style.maxWidth = "100%";
    canvas.style.aspectRatio = `${cols} / ${rows}`;
    canvas.style.height = "auto";
    canvas.style.imageRendering = "pixelated";
    return canvas;
  }

  function mount(root) {
    root.textContent = "";
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Architecture of the article's CNN");
    const state = { stages: null, stage: 0, input: "photo", photo: null, seq: 0 };

    root.appendChild(el("p", { class: "tcd-title" }, "The article's CNN, stage by stage"));
    root.appendChild(el("p", { class: "tcd-note" }, "Shapes and weight counts come from tinycnn's model.summary(). " +
      "Choose a stage (click, or Tab then Enter) to see what it outputs for the chosen input. The weights are " +
      "random: this is the model before training, so the feature maps show what random kernels pick up."));
    const inputField = D.select("Input", [["photo", "A photo (64×64 colour)"], ["circle", "A circle (tinycnn.datasets.make_shapes)"],
      ["square", "A square"], ["triangle", "A triangle"], ["cross", "A cross"]], "photo");
    root.appendChild(el("div", { class: "tcd-controls" }, inputField.root));
    const diagram = el("div", { class: "tcd-arch", role: "toolbar", "aria-label": "Stages of the model" });
    root.appendChild(diagram);
    const total = el("p", { class: "tcd-note" });
    root.appendChild(total);
    const detail = el("div", { class: "tcd-arch-detail", "aria-live": "polite" });
    root.appendChild(detail);
    const summary = el("pre", {});
    root.appendChild(el("details", {}, el("summary", {}, "model.summary()"), summary));
    const status = D.status(root);

    function drawDiagram() {
      diagram.textContent = "";
      const c = D.theme(root);
      state.stages.forEach((stage, index) => {
        const shape = stage.shape.slice(1);
        const block = el("div", { class: "tcd-stage-block", "aria-hidden": "true" });
        if (shape.length === 3) {
          block.style.height = (0.8 + 2.6 * shape[0] / 64).toFixed(2) + "rem";
          block.style.width = (0.5 + 0.35 * Math.log2(shape[2])).toFixed(2) + "rem";
          block.style.background = index === 0 ? "linear-gradient(135deg,#e57373,#81c784,#64b5f6)" : c.primary;
        } else {
          block.style.height = (0.6 + 0.28 * Math.log2(shape[0] + 1)).toFixed(2) + "rem";
          block.style.width = "0.5rem";
          block.style.background = "#ffb300";
        }
        const button = el("button", { type: "button", class: "tcd-stage", "aria-pressed": index === state.stage ? "true" : "false",
          "data-stage": String(index) },
          block,
          el("span", { class: "tcd-stage-kind" }, stage.label),
          el("span", { class: "tcd-stage-shape" }, shape.join("×")),
          el("span", { class: "tcd-stage-params" }, stage.params ? `${number(stage.params)} weights` : "no weights"));
        // no aria-label: the visible text is the name (axe: label-content-name-mismatch)
        button.addEventListener("click", () => choose(index));
        diagram.appendChild(button);
        if (index < state.stages.length - 1) diagram.appendChild(el("span", { class: "tcd-op tcd-arch-arrow", "aria-hidden": "true" }, "→"));
      });
    }

    function setModel(info) {
      const stages = [{ name: "input", kind: "Input", label: "Input", shape: info.input_shape, params: 0 }];
      for (const layer of info.layers) {
        let label = layer.kind;
        if (layer.kind === "Conv2D") label = `Conv2D ${layer.shape[3]}@3×3`;
        if (layer.kind === "MaxPooling2D") label = "MaxPool 2×2";
        if (layer.kind === "Dense") label = `Dense ${layer.shape[1]}`;
        stages.push(Object.assign({}, layer, { label }));
      }
      state.stages = stages;
      total.textContent = `Total: ${number(info.params)} weights, ${stages.length - 1} layers.`;
      root.dataset.params = String(info.params);
      summary.textContent = info.summary;
      drawDiagram();
    }

    async function choose(index) {
      state.stage = index;
      diagram.querySelectorAll(".tcd-stage").forEach((b) =>
        b.setAttribute("aria-pressed", Number(b.dataset.stage) === index ? "true" : "false"));
      const seq = ++state.seq;
      status.loading();
      try {
        let result = await D.python(`_demo.article_activations(${D.py(state.input)}, ${index})`);
        if (result.need_image) {   // first use of the photo in this Python: send it once
          if (!state.photo) {
            const photo = await D.fetchJSON("assets/data/photo64.json");
            state.photo = photo.rgb.map((row) => row.map((px) => px.map((v) => Math.round(v / 255 * 1000) / 1000)));
          }
          result = await D.python(`_demo.article_activations("photo", ${index}, ${D.py(state.photo)})`);
        }
        if (seq !== state.seq) return;
        showDetail(result);
        status.set("Activations computed in your browser by tinycnn (model.layer_outputs).", "ok");
      } catch (error) {
        if (seq === state.seq) status.error(error);
      }
    }

    function showDetail(result) {
      const stage = state.stages[result.stage];
      const shape = stage.shape.slice(1);
      detail.textContent = "";
      detail.dataset.stage = String(result.stage);
      detail.appendChild(el("p", { class: "tcd-section-title" },
        `${stage.name} (${stage.kind}), output ${shape.join("×")}: ${DESCRIBE[stage.kind] || ""}`));
      const a = result.activations;
      if (result.rgb) {
        detail.appendChild(rgbCanvas(a));
      } else if (shape.length === 3) {
        const maps = el("div", { class: "tcd-maps" + (shape[0] > 20 ? " tcd-maps-big" : "") });
        channelCanvases(a).forEach((c) => maps.appendChild(c));
        detail.appendChild(maps);
        detail.appendChild(el("p", { class: "tcd-note" }, `${shape[2]} feature maps of ${shape[0]}×${shape[1]} ` +
          "(each scaled to its own range: dark = high)."));
      } else if (result.value != null) {
        detail.appendChild(el("p", { class: "tcd-guess" }, result.value.toFixed(3)));
        detail.appendChild(el("p", { class: "tcd-note" }, "The sigmoid output: the model's probability that the image " +
          "is of class 1 (a dog, in the article). Untrained, it is a coin toss near 0.5; training moves it."));
      } else {
        detail.appendChild(vectorCanvas(a, shape[0] > 1000 ? 98 : 16));
        detail.appendChild(el("p", { class: "tcd-note" }, `${number(shape[0])} numbers, drawn ` +
          `${shape[0] > 1000 ? 98 : 16} per row (dark = high).`));
      }
    }

    inputField.select.addEventListener("change", () => { state.input = inputField.select.value; choose(state.stage); });
    D.fetchJSON("assets/data/article_model.json").then((info) => {
      setModel(info);
      status.set("Choose a stage to compute its activations in your browser.", "");
      choose(1);
    }).catch((error) => status.error(error));
  }

  D.register("#architecture-demo, #architecture-view, [data-demo='architecture']", mount);
})();
