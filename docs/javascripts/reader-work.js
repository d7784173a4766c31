/* The reader's work is theirs: edits kept, shared by link, and every page as a notebook.
 *
 * Uses runtime.js's public API (tinycnnSite.cells() and the "tinycnn:cell-change" event), so it is
 * listed after runtime.js in mkdocs.yml. What it adds to a page with runnable cells:
 *
 * - Edits kept. Every edited cell is saved (debounced) in localStorage under
 *   "tinycnn:edits:v1:<page path>" as {cells: {<cell index>: {code, base}}}, where base is a hash of
 *   the original source the edit started from. On the next visit the edit is put back, the cell's
 *   root (.tc-cell) gets data-edited and an "Edited" mark; when the site was rebuilt with a
 *   different original (base differs), the cell also gets data-edit-stale and a note with "Show the
 *   new original", "Use the new original" (Reset) and "Keep mine". The cell's Reset forgets the
 *   edit, "Reset page" forgets all of them. A full or disabled storage gives a visible message.
 * - Share. tinycnnSite.shareURL() resolves to this page's URL with the edited cells in the fragment
 *   ("#tc-edits=z.<base64url of deflate-raw JSON>", or "b." uncompressed where CompressionStream is
 *   missing): browsers never send the fragment to a server. Opening such a link puts the edits in
 *   place with a notice, runs nothing and loads no Python (it turns the idle warm-up off); the
 *   reader's own saved edits of the page are put aside ("tinycnn:edits-aside:v1:<path>") and can be
 *   swapped back. A damaged link gives a notice and the page as built.
 * - Notebook. tinycnnSite.notebook() resolves to an nbformat 4 notebook of the page: its prose
 *   (shipped by docs/hooks/notebook.py as assets/tinycnn/notebooks/<page>.json, fetched on
 *   demand), its cells with the reader's edits, and the build-time outputs of the unedited cells.
 *   "Download as notebook" saves it as <page>.ipynb.
 */
(function () {
  "use strict";
  if (!window.tinycnnSite || window.tinycnnSite.shareURL) return;

  const script = document.currentScript;
  const SITE_ROOT = new URL("../", script ? script.src : location.href).href;
  const STORE_PREFIX = "tinycnn:edits:v1:";
  const ASIDE_PREFIX = "tinycnn:edits-aside:v1:";
  const SHARE_PREFIX = "#tc-edits=";
  const SAVE_DELAY_MS = 400;
  const site = window.tinycnnSite;

  const el = site.element;  // runtime.js's DOM helper

  /** A short, stable hash of a cell's source (53-bit cyrb53, as 14 hex digits). */
  function hashText(text) {
    let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
  }

  // ------------------------------------------------------------------------------------------
  // Storage: one entry per page, never throws (a failure is reported to the reader instead)
  // ------------------------------------------------------------------------------------------
  function storage() {
    try { return window.localStorage; } catch (error) { return null; }
  }

  function readEntry(key) {
    const store = storage();
    if (!store) return {};
    try {
      const data = JSON.parse(store.getItem(key) || "{}");
      return data && typeof data.cells === "object" && data.cells ? data.cells : {};
    } catch (error) {
      return {};
    }
  }

  function writeEntry(key, edits) {
    const store = storage();
    if (!store) return false;
    try {
      if (Object.keys(edits).length) store.setItem(key, JSON.stringify({ cells: edits, saved: Date.now() }));
      else store.removeItem(key);
      return true;
    } catch (error) {  // QuotaExceededError, SecurityError (storage switched off), ...
      return false;
    }
  }

  // ------------------------------------------------------------------------------------------
  // The current page
  // ------------------------------------------------------------------------------------------
  let page = null;  // {path, cells, edits, timer, bar, notice, buildOutputs, shareNotice}

  function pageKey() { return location.pathname; }

  function editedCount() { return page ? Object.keys(page.edits).length : 0; }

  function scheduleSave() {
    if (!page) return;
    clearTimeout(page.timer);
    page.timer = setTimeout(save, SAVE_DELAY_MS);
  }

  function save() {
    if (!page) return;
    clearTimeout(page.timer);
    page.timer = null;
    if (!page.dirty) return;
    if (writeEntry(STORE_PREFIX + page.path, page.edits)) {
      page.dirty = false;
      if (page.storageFailed) {
        page.storageFailed = false;
        showNotice("storage", null);
      }
    } else if (!page.storageFailed) {
      page.storageFailed = true;
      showNotice("storage", [
        "Your edits of this page could not be saved in this browser (its storage is full or " +
        "switched off). They stay here until you leave or reload the page: to keep them, use " +
        "“Copy link” or “Download as notebook”.",
      ]);
    }
  }

  function markCell(cell) {
    const record = page.edits[cell.index];
    const edited = Boolean(record);
    const stale = edited && record.base !== hashText(cell.original);
    cell.root.toggleAttribute("data-edited", edited);
    cell.root.toggleAttribute("data-edit-stale", stale);
    cell.mark.hidden = !edited;
    cell.staleNote.hidden = !stale;
    if (!stale) {
      cell.newOriginal.hidden = true;
      cell.showOriginal.setAttribute("aria-expanded", "false");
      cell.showOriginal.textContent = "Show the new original";
    }
    if (page.resetPage) page.resetPage.disabled = editedCount() === 0;
  }

  function onCellChange(event) {
    if (!page) return;
    const cell = page.cells[event.detail && event.detail.index];
    if (!cell || page.applying) return;
    const code = cell.code();
    const previous = page.edits[cell.index];
    if (code === cell.original) {
      delete page.edits[cell.index];
    } else {
      page.edits[cell.index] = { code, base: previous ? previous.base : hashText(cell.original) };
    }
    page.dirty = true;
    markCell(cell);
    scheduleSave();
  }

  /** Put edits ({index: {code, base}}) into the cells; cells without one get their original back. */
  function applyEdits(edits) {
    page.applying = true;
    try {
      for (const cell of page.cells) {
        const record = edits[cell.index];
        const wanted = record ? record.code : cell.original;
        if (cell.code() !== wanted) cell.setCode(wanted);
      }
    } finally {
      page.applying = false;
    }
    page.edits = {};
    for (const cell of page.cells) {
      const record = edits[cell.index];
      if (record && record.code !== cell.original) page.edits[cell.index] = record;
      markCell(cell);
    }
    page.dirty = true;
    save();
  }

  function resetPage() {
    applyEdits({});
    showNotice("share", null);
    say(page.resetPage, "All cells are back to their original code.");
  }

  // ------------------------------------------------------------------------------------------
  // Notices (non-blocking, above the first cell) and short confirmations
  // ------------------------------------------------------------------------------------------
  function showNotice(kind, parts, buttons) {
    if (!page) return;
    const existing = page.notices[kind];
    if (existing) { existing.remove(); delete page.notices[kind]; }
    if (!parts) return;
    const box = el("div", { class: "tc-work-notice", "data-kind": kind, role: kind === "storage" ? "alert" : "status" });
    const text = el("p");
    for (const part of parts) text.append(part);
    box.appendChild(text);
    if (buttons && buttons.length) {
      const row = el("div", { class: "tc-work-notice-buttons" });
      for (const [label, action] of buttons) {
        const button = el("button", { type: "button", class: "tc-button" }, label);
        button.addEventListener("click", action);
        row.appendChild(button);
      }
      box.appendChild(row);
    }
    const close = el("button", { type: "button", class: "tc-work-close", "aria-label": "Close this message" }, "×");
    close.addEventListener("click", () => showNotice(kind, null));
    box.appendChild(close);
    let last = page.bar;  // below the page bar and the notices already shown, in order
    while (last.nextElementSibling && last.nextElementSibling.classList.contains("tc-work-notice")) {
      last = last.nextElementSibling;
    }
    last.after(box);
    page.notices[kind] = box;
  }

  function say(button, message) {
    page.status.textContent = message;
    if (button) {
      clearTimeout(page.statusTimer);
      page.statusTimer = setTimeout(() => { if (page) page.status.textContent = ""; }, 6000);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Share: edits in the URL fragment
  // ------------------------------------------------------------------------------------------
  function toBase64url(bytes) {
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("the link holds characters that base64url does not use");
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  async function transform(bytes, Stream) {
    const stream = new Blob([bytes]).stream().pipeThrough(new Stream("deflate-raw"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  async function encodeEdits(edits) {
    const list = Object.keys(edits).map(Number).sort((a, b) => a - b)
      .map((index) => [index, edits[index].base, edits[index].code]);
    const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, cells: list }));
    if (typeof CompressionStream === "function") {
      try { return "z." + toBase64url(await transform(bytes, CompressionStream)); } catch (error) { /* plain below */ }
    }
    return "b." + toBase64url(bytes);
  }

  async function decodeEdits(fragment) {
    const dot = fragment.indexOf(".");
    const kind = fragment.slice(0, dot);
    let bytes = fromBase64url(decodeURIComponent(fragment.slice(dot + 1)));
    if (kind === "z") {
      if (typeof DecompressionStream !== "function") throw new Error("this browser cannot decompress it");
      bytes = await transform(bytes, DecompressionStream);
    } else if (kind !== "b") {
      throw new Error("it is not in a format this site knows");
    }
    const data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    if (!data || data.v !== 1 || !Array.isArray(data.cells)) throw new Error("it is not in a format this site knows");
    const edits = {};
    for (const item of data.cells) {
      if (!Array.isArray(item) || item.length !== 3 || !Number.isInteger(item[0]) || item[0] < 0 ||
          typeof item[1] !== "string" || typeof item[2] !== "string") {
        throw new Error("one of its cells is malformed");
      }
      edits[item[0]] = { base: item[1], code: item[2] };
    }
    return edits;
  }

  async function shareURL() {
    const base = location.href.split("#")[0];
    if (!page || !editedCount()) return base;
    return base + SHARE_PREFIX + (await encodeEdits(page.edits));
  }

  async function copyLink() {
    let url;
    try {
      url = await shareURL();
    } catch (error) {
      say(page.copyLink, "The link could not be made: " + error.message);
      return;
    }
    const what = editedCount() ? `Link with your ${plural(editedCount(), "edited cell")} copied.`
      : "No cell is edited: copied the page's plain link.";
    try {
      await navigator.clipboard.writeText(url);
      say(page.copyLink, what);
    } catch (error) {  // no clipboard permission: show the link, selected, to copy by hand
      const field = el("input", { type: "text", readonly: true, class: "tc-work-link", "aria-label": "Link to this page with your edits" });
      field.value = url;
      showNotice("link", ["The browser did not allow copying: copy this link by hand. ", field]);
      field.focus();
      field.select();
    }
  }

  function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

  function swapAside() {
    const aside = readEntry(ASIDE_PREFIX + page.path);
    const current = page.edits;
    const store = storage();
    let ok = true;
    if (Object.keys(current).length) ok = writeEntry(ASIDE_PREFIX + page.path, current);
    else if (store) { try { store.removeItem(ASIDE_PREFIX + page.path); } catch (error) { ok = false; } }
    if (!ok) {
      showNotice("aside", ["Your edits could not be swapped: this browser's storage refused to save."]);
      return;
    }
    applyEdits(aside);
    offerAside();
  }

  function offerAside() {
    const aside = readEntry(ASIDE_PREFIX + page.path);
    const count = Object.keys(aside).length;
    if (!count) { showNotice("aside", null); return; }
    showNotice("aside", [
      `Other edits of this page (${plural(count, "cell")}) were put aside when a shared link was ` +
      "opened. Swapping shows them and puts the current edits aside instead.",
    ], [
      ["Swap in the edits put aside", swapAside],
      ["Forget the edits put aside", () => {
        const store = storage();
        try { if (store) store.removeItem(ASIDE_PREFIX + page.path); } catch (error) { /* nothing kept */ }
        showNotice("aside", null);
      }],
    ]);
  }

  let pendingLink = null;  // a link pasted over the open page, not opened yet
  // fragment -> the notices it gave: a link is applied once, even when the page is rendered again
  const handledLinks = new Map();

  async function openSharedLink(fragment) {
    const current = page;
    const seen = handledLinks.get(fragment);
    if (seen) {  // already applied (and saved): the page restored it from storage; say it again
      history.replaceState(history.state, "", location.href.split("#")[0]);
      for (const [kind, parts] of seen) showNotice(kind, parts);
      offerAside();
      return;
    }
    const notices = [];
    handledLinks.set(fragment, notices);
    const notify = (kind, parts) => { notices.push([kind, parts]); showNotice(kind, parts); };
    let shared;
    try {
      shared = await decodeEdits(fragment);
    } catch (error) {
      if (current !== page) return;
      notify("share", [`This link was meant to show edited cells, but they could not be read (${error.message}; ` +
        "the link may be cut short or damaged). The page shows its own code."]);
      return;
    } finally {
      history.replaceState(history.state, "", location.href.split("#")[0]);
    }
    if (current !== page) return;
    const own = page.edits;
    const ownCount = Object.keys(own).length;
    const placed = {};
    let missing = 0;
    for (const [index, record] of Object.entries(shared)) {
      if (page.cells[index]) placed[index] = record;
      else missing++;
    }
    const same = JSON.stringify(own) === JSON.stringify(placed);
    let aside = false;
    if (ownCount && !same) aside = writeEntry(ASIDE_PREFIX + page.path, own);
    if (ownCount && !same && !aside) {
      notify("share", ["This link shows edited cells, but your own saved edits of this page could not " +
        "be put aside (this browser's storage refused), so the link's edits were not applied."]);
      return;
    }
    applyEdits(placed);
    const count = Object.keys(placed).length;
    const parts = [
      `This page was opened from a shared link: ${plural(count, "cell")} show${count === 1 ? "s" : ""} ` +
      "the edits it carries (marked “Edited”). Nothing has run: press Run on a cell, or Run all, " +
      "to run them. Reset page puts the original code back.",
    ];
    if (missing) parts.push(` ${plural(missing, "edited cell")} of the link no longer exist${missing === 1 ? "s" : ""} on this page.`);
    notify("share", parts);
    if (aside) offerAside();
  }

  // ------------------------------------------------------------------------------------------
  // Notebook
  // ------------------------------------------------------------------------------------------
  function buildOutputs(root) {
    const box = root.querySelector(".tc-output");
    const outputs = [];
    if (!box) return outputs;
    const text = (node) => node.textContent.replace(/\n?$/, "\n");
    let result = null;
    for (const node of box.children) {
      if (node.matches("pre.tc-stdout")) outputs.push({ output_type: "stream", name: "stdout", text: text(node) });
      else if (node.matches("pre.tc-stderr")) outputs.push({ output_type: "stream", name: "stderr", text: text(node) });
      else if (node.matches("pre.tc-result")) result = node.textContent;
      else if (node.matches("img.tc-image:not(.tc-figure-dark)")) {  // a figure once, in its light colours
        // The build's figures are WebP files (Jupyter shows PNG): notebook() converts them, here
        // only the address is kept. A figure made in this page is a PNG data URL already.
        outputs.push({ output_type: "display_data", metadata: {}, figure: node.src,
          data: { "text/plain": node.getAttribute("alt") || "<Figure>" } });
      }
    }
    if (result != null) {
      outputs.push({ output_type: "execute_result", execution_count: null, metadata: {}, data: { "text/plain": result } });
    }
    return outputs;
  }

  function lines(text) { return text; }  // nbformat takes a cell's source as one string

  /** Promise of the base64 PNG of the image at url (a figure of the page, WebP or PNG). */
  async function pngOf(url) {
    const prefix = "data:image/png;base64,";
    if (url.startsWith(prefix)) return url.slice(prefix.length);
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    canvas.getContext("2d").drawImage(image, 0, 0);
    return canvas.toDataURL("image/png").slice(prefix.length);
  }

  /** The build-time outputs of a cell for nbformat: figures as PNG; a figure that cannot be read
   *  (offline, not kept) stays as its description, said in the text. */
  async function notebookOutputs(outputs) {
    return Promise.all(outputs.map(async (output) => {
      if (!output.figure) return output;
      const { figure, ...rest } = output;
      try {
        return Object.assign({}, rest, { data: Object.assign({ "image/png": await pngOf(figure) }, rest.data) });
      } catch (error) {
        return Object.assign({}, rest, { data: { "text/plain": `${rest.data["text/plain"]} (the figure could not be read: ${figure})` } });
      }
    }));
  }

  function notebookMeta() {
    // not a <script>: Material's instant navigation re-creates scripts without their type
    const tag = document.querySelector(".tc-notebook-meta[data-prose]");
    return tag ? { prose: tag.getAttribute("data-prose") } : null;
  }

  async function notebook() {
    const meta = notebookMeta();
    if (!page || !meta) throw new Error("this page has no runnable cells, so it has no notebook");
    const current = page;
    const response = await fetch(SITE_ROOT + meta.prose);
    if (!response.ok) throw new Error(`the page's text for the notebook is missing (HTTP ${response.status})`);
    const info = await response.json();
    if (!Array.isArray(info.prose) || info.prose.length !== current.cells.length + 1) {
      throw new Error("the page's text does not match its cells (the site was rebuilt: reload the page)");
    }
    const cells = [];
    let number = 0;
    const markdown = (text) => {
      if (text.trim()) cells.push({ id: `md-${++number}`, cell_type: "markdown", metadata: {}, source: lines(text) });
    };
    const edited = Object.keys(current.edits).length;
    markdown(
      `*This notebook is the page [${info.title}](${info.url}) of the tinycnn tutorial*` +
      (edited ? `*, with your edits of ${plural(edited, "cell")}*` : "") + ". " +
      `To run it in Jupyter: \`${info.install}\`, then run the cells from top to bottom. ` +
      "The outputs shown are the ones computed when the site was built" +
      (edited ? " (edited cells have none until you run them)." : "."));
    for (const [i, cell] of current.cells.entries()) {
      markdown(info.prose[i]);
      const code = cell.code();
      const isEdited = code !== cell.original;
      cells.push({
        id: `code-${i + 1}`, cell_type: "code", execution_count: null,
        metadata: isEdited ? { tinycnn: { edited: true } } : {},
        source: lines(code),
        outputs: isEdited ? [] : await notebookOutputs(current.buildOutputs[i]),
      });
    }
    markdown(info.prose[current.cells.length]);
    return {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: { name: "python3", display_name: "Python 3", language: "python" },
        language_info: { name: "python" },
        tinycnn: { page: info.url, title: info.title, edited_cells: Object.keys(current.edits).map(Number) },
      },
      cells,
    };
  }

  async function downloadNotebook() {
    const button = page.download;
    let nb;
    try {
      nb = await notebook();
    } catch (error) {
      say(button, "The notebook could not be made: " + error.message + ".");
      return;
    }
    const meta = notebookMeta();
    const name = meta.prose.split("/").pop().replace(/\.json$/, ".ipynb");
    const url = URL.createObjectURL(new Blob([JSON.stringify(nb, null, 1) + "\n"], { type: "application/x-ipynb+json" }));
    const link = el("a", { href: url, download: name, hidden: true });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    say(button, `Notebook ${name} downloaded.`);
  }

  // ------------------------------------------------------------------------------------------
  // Setting up a page
  // ------------------------------------------------------------------------------------------
  function setupCell(cell) {
    const toolbar = cell.root.querySelector(".tc-toolbar");
    const mark = el("span", { class: "tc-edited-mark", title: "You edited this cell; Reset puts the original back" }, "Edited");
    mark.hidden = true;
    const staleNote = el("div", { class: "tc-edit-stale", role: "note" });
    staleNote.hidden = true;
    const text = el("p", null, "This cell changed since you edited it (the site was updated). Your version is kept.");
    const showOriginal = el("button", { type: "button", class: "tc-button", "aria-expanded": "false" }, "Show the new original");
    const useOriginal = el("button", { type: "button", class: "tc-button" }, "Use the new original");
    const keepMine = el("button", { type: "button", class: "tc-button" }, "Keep mine");
    const newOriginal = el("pre", { class: "tc-new-original" });
    newOriginal.appendChild(el("code", null, cell.original));
    newOriginal.hidden = true;
    showOriginal.addEventListener("click", () => {
      newOriginal.hidden = !newOriginal.hidden;
      showOriginal.setAttribute("aria-expanded", String(!newOriginal.hidden));
      showOriginal.textContent = newOriginal.hidden ? "Show the new original" : "Hide the new original";
    });
    useOriginal.addEventListener("click", () => cell.setCode(cell.original));
    keepMine.addEventListener("click", () => {
      const record = page.edits[cell.index];
      if (record) record.base = hashText(cell.original);
      page.dirty = true;
      markCell(cell);
      save();
    });
    const row = el("div", { class: "tc-work-notice-buttons" });
    row.append(showOriginal, useOriginal, keepMine);
    staleNote.append(text, row, newOriginal);
    if (toolbar) {
      const origin = toolbar.querySelector(".tc-origin");
      toolbar.insertBefore(mark, origin);
      toolbar.after(staleNote);
      const reset = toolbar.querySelector(".tc-reset");
      if (reset) reset.title = "Put back the original code (and forget your saved edit)";
    } else {
      cell.root.prepend(mark, staleNote);
    }
    return Object.assign(cell, { mark, staleNote, newOriginal, showOriginal });
  }

  function buildControls(bar) {
    const group = el("div", { class: "tc-work-controls", role: "group", "aria-label": "Your edits" });
    const button = (label, title) => el("button", { type: "button", class: "md-button tc-work-button", title }, label);
    const reset = button("Reset page", "Put every cell of this page back to its original code");
    const copy = button("Copy link", "Copy a link that opens this page with your edits (nothing is sent anywhere)");
    const download = button("Download as notebook", "Save this page, with your edits, as a Jupyter notebook");
    const status = el("span", { class: "tc-work-status", role: "status", "aria-live": "polite" });
    reset.addEventListener("click", resetPage);
    copy.addEventListener("click", () => { copyLink(); });
    download.addEventListener("click", () => { downloadNotebook(); });
    group.append(reset, copy, download, status);
    const version = bar.querySelector(".tc-version");
    bar.insertBefore(group, version || null);
    return { reset, copy, download, status };
  }

  function enhance() {
    const cells = site.cells ? site.cells() : [];
    if (!cells.length) {
      if (page && !document.contains(page.bar)) { save(); page = null; }
      return;
    }
    if (page && page.cells[0] && page.cells[0].root === cells[0].root) return;  // this page is set up
    if (page) save();  // the previous page (instant navigation)
    const bar = cells[0].root.parentNode.querySelector(".tc-pagebar") || document.querySelector(".tc-pagebar");
    if (!bar) return;
    const fragment = location.hash.startsWith(SHARE_PREFIX) ? location.hash.slice(SHARE_PREFIX.length) : pendingLink;
    pendingLink = null;
    page = { path: pageKey(), cells: [], edits: {}, timer: null, dirty: false, notices: {}, bar,
      buildOutputs: cells.map((cell) => buildOutputs(cell.root)) };
    page.cells = cells.map(setupCell);
    const controls = buildControls(bar);
    page.resetPage = controls.reset;
    page.copyLink = controls.copy;
    page.download = controls.download;
    page.status = controls.status;
    const saved = readEntry(STORE_PREFIX + page.path);
    const restored = {};
    for (const [index, record] of Object.entries(saved)) {
      if (record && typeof record.code === "string" && typeof record.base === "string") restored[index] = record;
    }
    const orphans = Object.keys(restored).filter((index) => !page.cells[index]);
    page.applying = true;
    for (const cell of page.cells) {
      const record = restored[cell.index];
      if (record && record.code !== cell.original) {
        cell.setCode(record.code);
        page.edits[cell.index] = record;
      }
    }
    page.applying = false;
    for (const index of orphans) page.edits[index] = restored[index];  // kept: a later build may bring the cell back
    page.cells.forEach(markCell);
    if (orphans.length) {
      showNotice("orphans", [`${plural(orphans.length, "saved edit")} of this page belong${orphans.length === 1 ? "s" : ""} ` +
        "to cells that no longer exist (the page was updated). They are kept; here is their code: ",
      ...orphans.map((index) => { const pre = el("pre", { class: "tc-new-original" }); pre.appendChild(el("code", null, restored[index].code)); return pre; })]);
    }
    if (fragment != null) openSharedLink(fragment);
    else offerAside();
  }

  document.addEventListener("tinycnn:cell-change", onCellChange);
  window.addEventListener("hashchange", () => {
    // A shared link pasted over the open page. Material's instant navigation usually renders the
    // page again (then enhance() opens the link); if it has not after a moment, open it here.
    if (!location.hash.startsWith(SHARE_PREFIX)) return;
    const fragment = location.hash.slice(SHARE_PREFIX.length);
    const current = page;
    pendingLink = fragment;  // enhance() takes it if the page is rendered again
    setTimeout(() => {
      if (pendingLink !== fragment) return;
      pendingLink = null;
      if (page && page === current && document.contains(page.bar) && !handledLinks.has(fragment)) {
        save();
        openSharedLink(fragment);
      }
    }, 1000);
  });
  window.addEventListener("pagehide", save);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") save(); });

  /** Promise of this page's URL with its edited cells in the fragment (the plain URL when none is edited). */
  site.shareURL = shareURL;
  /** Promise of this page as an nbformat 4 notebook (prose, cells with the reader's edits, build-time outputs). */
  site.notebook = notebook;
  /** Puts every cell of the page back to its original code and forgets the saved edits. */
  site.resetPage = () => { if (page) resetPage(); };

  site.onEveryPage(enhance);
})();
