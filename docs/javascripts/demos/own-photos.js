/* The article's task on the reader's own photos (Keras program page): two classes of photos the reader
 * picks (files or a folder each), decoded and downsized to 32x32 by the browser (own-images.js; no photo
 * leaves the page), handed to the page's Python as bytes, and a small version of the article's model
 * trained with the article's augmentation (demos.py: photos_*). Then the reader tries a new photo.
 * Placeholder: <div id="own-photos-demo"></div>. */
(function () {
  "use strict";
  const D = window.tinycnnDemos;
  if (!D || !D.images) return;
  const { el } = D;
  const SIZE = 32;           // demos.PHOTOS_SIZE
  const MIN = 5;             // demos.PHOTOS_MIN
  const MAX = 500;           // demos.PHOTOS_MAX
  const EPOCHS = 15;

  function mount(root) {
    root.textContent = "";
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", "Train the article's model on your own photos");
    root.appendChild(el("p", { class: "tcd-title" }, "Your own photos: cats and dogs, or anything else"));
    root.appendChild(el("p", { class: "tcd-note" }, `Pick at least ${MIN} photos for each class (at most ${MAX}); ` +
      "your browser decodes them and shrinks them to 32×32. Nothing is uploaded: the photos stay on your computer."));
    const classes = [0, 1].map((k) => ({ name: k ? "dog" : "cat", files: [], images: [], failed: [] }));
    let trained = false;
    let busy = false;

    const boxes = classes.map((cls, k) => {
      const nameId = D.id("name");
      const name = el("input", { type: "text", id: nameId, value: cls.name, maxlength: "30", class: "tcd-text" });
      name.addEventListener("input", () => { cls.name = name.value.trim() || (k ? "dog" : "cat"); });
      const count = el("p", { class: "tcd-note", "aria-live": "polite", "data-class-count": String(k) }, "no photos yet");
      const onFiles = (files) => addFiles(k, files, count);
      const files = D.images.picker({ label: "Photos", multiple: true, onFiles });
      const folder = D.images.picker({ label: "or a folder", directory: true, onFiles });
      files.input.dataset.photosClass = String(k);
      folder.input.dataset.photosFolder = String(k);
      return el("fieldset", { class: "tcd-photos-class" }, el("legend", {}, `Class ${k + 1}`),
        el("label", { class: "tcd-field", for: nameId }, el("span", {}, "Name"), name), files.root, folder.root, count);
    });
    root.appendChild(el("div", { class: "tcd-controls tcd-photos-classes" }, ...boxes));

    const train = D.button("Train on my photos");
    const progress = el("progress", { max: String(EPOCHS), value: "0", "aria-label": "Training progress (epochs)" });
    const report = el("p", { class: "tcd-note tcd-photos-report", "aria-live": "polite" });
    root.appendChild(el("div", { class: "tcd-controls" }, train, progress));
    root.appendChild(report);
    const tryIt = D.images.picker({ label: "Try a new photo", onFiles: ([file]) => classify(file) });
    tryIt.input.disabled = true;
    tryIt.input.dataset.photosTry = "1";
    const answer = el("p", { class: "tcd-guess", "aria-live": "polite" });
    const downloadButton = D.button("Download model", { class: "tcd-button tcd-download", disabled: true,
      title: "Save the trained model as a file that tinycnn.models.load_model opens" });
    root.appendChild(el("div", { class: "tcd-controls" }, tryIt.root, answer, downloadButton));
    const status = D.status(root);

    async function addFiles(k, files, count) {
      const cls = classes[k];
      const images = files.filter((f) => !f.type || f.type.startsWith("image/"));
      if (!images.length) { status.set(`None of the ${files.length} file(s) for class ${k + 1} is an image.`, "error"); return; }
      if (images.length > MAX) {
        status.set(`Class ${k + 1} has ${images.length} photos: that is too many to train on in the browser; ` +
          `pick at most ${MAX}.`, "error");
        return;
      }
      status.set(`Decoding ${images.length} photo(s) in your browser…`, "busy");
      cls.images = []; cls.failed = [];
      for (const file of images) {
        try {
          cls.images.push((await D.images.readImage(file, { size: SIZE, fit: "square" })).rgb);
        } catch (error) { cls.failed.push(file.name); }
      }
      trained = false;
      count.textContent = `${cls.images.length} photo(s) ready` +
        (cls.failed.length ? `; ${cls.failed.length} could not be read: ${cls.failed.slice(0, 3).join(", ")}` +
          (cls.failed.length > 3 ? "…" : "") : "");
      status.set(cls.failed.length ? `${cls.failed.length} file(s) of class ${k + 1} could not be read as images ` +
        "and are left out." : `Class ${k + 1}: ${cls.images.length} photo(s) ready.`, cls.failed.length ? "error" : "ok");
    }

    function problem() {
      const names = classes.map((c) => c.name);
      if (names[0] === names[1]) return `The two classes have the same name, "${names[0]}": give them different names.`;
      const empty = classes.filter((c) => !c.images.length);
      if (empty.length === 2) return "Pick photos for both classes first.";
      if (empty.length === 1) return `Only one class has photos: pick photos of "${empty[0].name}" too (the model tells two classes apart).`;
      for (const c of classes) {
        if (c.images.length < MIN) return `"${c.name}" has only ${c.images.length} photo(s): pick at least ${MIN} per class.`;
      }
      return null;
    }

    function bytesOf(list) {
      const bytes = new Uint8Array(list.length * SIZE * SIZE * 3);
      list.forEach((rgb, i) => bytes.set(rgb, i * SIZE * SIZE * 3));
      return D.images.base64(bytes);
    }

    train.addEventListener("click", async () => {
      if (busy) return;
      const why = problem();
      if (why) { status.set(why, "error"); return; }
      busy = true; train.disabled = true; tryIt.input.disabled = true; downloadButton.disabled = true; trained = false;
      answer.textContent = "";
      try {
        if (window.tinycnnSite && window.tinycnnSite.loadPython) window.tinycnnSite.loadPython();
        status.loading();
        await D.python("_demo.photos_reset()");
        for (const k of [0, 1]) {
          const list = classes[k].images;
          for (let i = 0; i < list.length; i += 50) {      // chunks keep each message small
            const chunk = list.slice(i, i + 50);
            await D.python(`_demo.photos_add(${k}, "${bytesOf(chunk)}", ${chunk.length})`);
          }
        }
        let state = (await D.python(`_demo.photos_start(${EPOCHS})`)).state;
        status.set(`Training on ${state.train_size} photos, checking on ${state.val_size} held-out photos…`, "busy");
        while (!state.done) {
          state = await D.python("_demo.photos_step(0.5)");
          progress.value = state.epoch + state.batch / state.batches;
          const acc = state.history.val_accuracy;
          report.textContent = `epoch ${state.epoch} of ${state.epochs}` + (acc.length
            ? `: training loss ${state.history.loss[acc.length - 1]}, validation accuracy ${Math.round(100 * acc[acc.length - 1])}%`
            : "");
        }
        const acc = state.history.val_accuracy;
        root.dataset.valAccuracy = String(acc[acc.length - 1]);
        root.dataset.seconds = String(state.seconds);
        trained = true;
        tryIt.input.disabled = false;
        downloadButton.disabled = false;
        status.set(`Trained in ${Math.round(state.seconds)} s: validation accuracy ` +
          `${Math.round(100 * acc[acc.length - 1])}% on ${state.val_size} photos the model did not train on. ` +
          "Now try a new photo.", "ok");
      } catch (error) {
        status.set(error.message.split("\n").filter(Boolean).pop(), "error");
      } finally {
        busy = false; train.disabled = false;
      }
    });

    /** The model as a file, like the training dashboard's: Python writes it with model.save. */
    downloadButton.addEventListener("click", async () => {
      try {
        const names = JSON.stringify(classes.map((cls) => cls.name));
        const file = await D.python(`_demo.photos_model_file(${JSON.stringify(names)})`);
        if (file.error) throw new Error(file.error);
        const blob = new Blob([D.base64ToBytes(file.data)], { type: "application/octet-stream" });
        const link = el("a", { href: URL.createObjectURL(blob), download: "tinycnn-photos-model.npz" });
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 10000);
        status.set(`Saved tinycnn-photos-model.npz (${Math.round(file.bytes / 1024)} KB). Open it in Python with ` +
          "tinycnn.models.load_model(\"tinycnn-photos-model.npz\"); model.metadata names your classes.", "ok");
      } catch (error) { status.set(error.message, "error"); }
    });

    async function classify(file) {
      if (!trained) { status.set("Train the model first.", "error"); return; }
      try {
        const image = await D.images.readImage(file, { size: SIZE, fit: "square" });
        const { p1 } = await D.python(`_demo.photos_predict("${bytesOf([image.rgb])}")`);
        const k = p1 > 0.5 ? 1 : 0;
        const p = k ? p1 : 1 - p1;
        answer.textContent = `${classes[k].name} (${Math.round(100 * p)}%)`;
        root.dataset.prediction = classes[k].name;
        status.set(`"${file.name}": the model says ${classes[k].name}, with probability ${p.toFixed(2)}.`, "ok");
      } catch (error) { status.set(error.message, "error"); }
    }
  }

  D.register("#own-photos-demo", mount);
})();
