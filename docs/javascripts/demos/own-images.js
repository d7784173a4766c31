/* The reader's own images: decode an image file in the browser (createImageBitmap + a canvas), check
 * it, and downsize it on decode. Nothing is uploaded: the file never leaves the page.
 *
 * tinycnnDemos.images:
 * - readImage(file, {size, fit}) -> Promise of {rgb: Uint8ClampedArray (rows*cols*3), grey: rows of
 *   numbers in [0, 1] (mean of red, green, blue / 255, like the site's photo), rows, cols, name}.
 *   fit "square" (default) crops the centre square and scales it to size x size; fit "inside" keeps
 *   the aspect ratio, the longer side becomes at most `size`. Rejects with an Error whose message is
 *   meant for the reader: empty file, not an image, too large (MAX_BYTES, MAX_PIXELS).
 * - picker({label, multiple, directory, onFiles}) -> a labelled <input type=file accept="image/*">.
 * - base64(bytes) -> the bytes as base64 (to hand pixels to Python).
 * Placeholder for the "own image" control of a page's cell: <div data-own-image="my_image"
 * data-size="250"></div>; it sets the NumPy array `my_image` (grey, rows x cols, 0..1) in the page's
 * Python, for the cells after it to use.
 */
(function () {
  "use strict";
  const D = window.tinycnnDemos;
  if (!D) return;
  const { el } = D;

  const MAX_BYTES = 25 * 1024 * 1024;       // 25 MB
  const MAX_PIXELS = 40 * 1000 * 1000;      // 40 megapixels

  function megabytes(n) { return (n / 1024 / 1024).toFixed(1) + " MB"; }

  async function readImage(file, options) {
    const size = (options && options.size) || 64;
    const fit = (options && options.fit) || "square";
    const name = file && file.name ? `"${file.name}"` : "the file";
    if (!file || file.size === 0) throw new Error(`${name} is empty (0 bytes): pick an image file (PNG, JPEG, GIF, WebP…).`);
    if (file.size > MAX_BYTES) {
      throw new Error(`${name} is too large (${megabytes(file.size)}); pick an image of at most ${megabytes(MAX_BYTES)}.`);
    }
    if (file.type && !file.type.startsWith("image/")) {
      throw new Error(`${name} is not an image (its type is ${file.type}); pick a PNG, JPEG, GIF or WebP file.`);
    }
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (error) {
      throw new Error(`${name} could not be read as an image: your browser cannot decode it ` +
        "(is it really a PNG, JPEG, GIF or WebP file?).");
    }
    try {
      const w = bitmap.width; const h = bitmap.height;
      if (!w || !h) throw new Error(`${name} has no pixels.`);
      if (w * h > MAX_PIXELS) {
        throw new Error(`${name} is too large (${w}×${h}, ${(w * h / 1e6).toFixed(1)} megapixels); ` +
          `pick an image of at most ${MAX_PIXELS / 1e6} megapixels.`);
      }
      let sx = 0; let sy = 0; let sw = w; let sh = h; let cols = size; let rows = size;
      if (fit === "square") {
        const side = Math.min(w, h);
        sx = Math.floor((w - side) / 2); sy = Math.floor((h - side) / 2); sw = side; sh = side;
      } else {
        const scale = Math.min(1, size / Math.max(w, h));
        cols = Math.max(1, Math.round(w * scale)); rows = Math.max(1, Math.round(h * scale));
      }
      const canvas = document.createElement("canvas");
      canvas.width = cols; canvas.height = rows;
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, cols, rows);           // transparent pixels count as white
      ctx.drawImage(bitmap, sx, sy, sw, sh, 0, 0, cols, rows);
      const data = ctx.getImageData(0, 0, cols, rows).data;
      const rgb = new Uint8ClampedArray(rows * cols * 3);
      const grey = [];
      for (let r = 0; r < rows; r++) {
        const row = new Array(cols);
        for (let c = 0; c < cols; c++) {
          const k = r * cols + c;
          rgb[3 * k] = data[4 * k]; rgb[3 * k + 1] = data[4 * k + 1]; rgb[3 * k + 2] = data[4 * k + 2];
          row[c] = Math.round((data[4 * k] + data[4 * k + 1] + data[4 * k + 2]) / 3 / 255 * 1000) / 1000;
        }
        grey.push(row);
      }
      return { rgb, grey, rows, cols, name: file.name || "" };
    } finally {
      bitmap.close();
    }
  }

  function base64(bytes) {
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  /** A labelled file input for images; onFiles(list of File) runs on every pick. */
  function picker({ label, multiple, directory, onFiles }) {
    const name = D.id("file");
    const input = el("input", { type: "file", id: name, accept: "image/*", multiple: !!multiple || !!directory,
      class: "tcd-file" });
    if (directory) { input.webkitdirectory = true; input.setAttribute("webkitdirectory", ""); }
    input.addEventListener("change", () => {
      const files = Array.from(input.files || []);
      if (files.length) onFiles(files);
    });
    const root = el("label", { class: "tcd-field tcd-file-field", for: name }, el("span", {}, label), input);
    return { root, input };
  }

  /** The control above a page's cell: pick an image, it becomes `my_image` in the page's Python. */
  function mountCellImage(root) {
    const variable = root.dataset.ownImage || "my_image";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw new Error(`bad variable name ${variable}`);
    const size = Number(root.dataset.size) || 250;
    root.textContent = "";
    root.classList.add("tcd-own-image");
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Your own image for the cells below");
    const preview = el("canvas", { class: "tcd-small-canvas", role: "img", "aria-label": "Your image, in grey", hidden: true });
    const status = D.status(root);
    const field = picker({ label: "Use your own image (stays in your browser):", onFiles: async ([file]) => {
      status.set("Decoding your image in your browser…", "busy");
      try {
        const image = await readImage(file, { size, fit: "inside" });
        const bytes = new Uint8Array(image.rows * image.cols);
        image.grey.forEach((row, r) => row.forEach((v, c) => { bytes[r * image.cols + c] = Math.round(v * 255); }));
        if (window.tinycnnSite && window.tinycnnSite.loadPython) window.tinycnnSite.loadPython();
        status.loading();
        const output = await window.tinycnnSite.run(
          `import base64 as _b64, numpy as _np\n` +
          `${variable} = _np.frombuffer(_b64.b64decode("${base64(bytes)}"), dtype=_np.uint8)` +
          `.reshape(${image.rows}, ${image.cols}) / 255\n`);
        if (output.error) throw new Error(output.error);
        D.paint(preview, image.grey, "grey", [0, 1]);
        preview.hidden = false;
        status.set(`Your image is ${variable}, ${image.rows}×${image.cols} grey pixels in [0, 1]: ` +
          "run the cells below (▶ Run) to see its edges.", "ok");
      } catch (error) {
        status.set(error.message, "error");
      }
    } });
    root.insertBefore(el("div", { class: "tcd-controls" }, field.root, preview), status.node);
  }

  D.images = { readImage, picker, base64, MAX_BYTES, MAX_PIXELS };
  D.register("[data-own-image]", mountCellImage);
})();
