/* tinycnn offline: registers the site's service worker and shows what it does.
 *
 * - Registers sw.js (written by docs/hooks/offline.py at the site root) when the page carries
 *   <meta name="tinycnn-offline" content="on"> (the build adds it; not under `mkdocs serve`).
 * - A first view keeps only what the page itself used. Once the reader shows intent (Python is
 *   ready, or the "Make available offline" button in the footer), the worker saves the whole
 *   course in the background; the footer shows its progress and size. When the browser asks to
 *   save data (navigator.connection.saveData), nothing is saved automatically, the button works.
 * - A new build waiting while a page is open: a small notice offers "Reload for the new version".
 *
 * Page API: window.tinycnnOffline = {status(), makeAvailable(), registration()} (docs/in-browser.md).
 */
(function () {
  "use strict";
  if (window.tinycnnOffline) return;  // loaded twice (instant navigation keeps this script alive)

  const script = document.currentScript;
  const ROOT = new URL("../", script ? script.src : location.href).href;
  const meta = document.querySelector('meta[name="tinycnn-offline"]');
  const sw = navigator.serviceWorker;
  const supported = !!(meta && meta.content === "on" && sw && window.isSecureContext);
  const saveData = !!(navigator.connection && navigator.connection.saveData);
  const UPDATE_CHECK_MS = 10 * 60 * 1000;

  const state = {
    registration: null,
    status: null,         // the worker's {files, bytes, cachedFiles, cachedBytes, offline, saving, ...}
    saving: false,
    failed: 0,
    wanted: false,        // the reader (or Python loading) asked for the offline copy
    notice: null,
    lastUpdateCheck: Date.now(),
    reloadOnChange: false,
    hadController: !!(sw && sw.controller),
  };

  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (text != null) node.textContent = text;
    return node;
  }

  function formatBytes(bytes) {
    if (bytes >= 1e6) return (bytes / 1e6).toFixed(bytes >= 1e7 ? 0 : 1) + " MB";
    return Math.max(1, Math.round(bytes / 1e3)) + " kB";
  }

  // ------------------------------------------------------------------------------------------
  // Talking to the worker
  // ------------------------------------------------------------------------------------------
  function active() {
    return (state.registration && state.registration.active) || (sw && sw.controller) || null;
  }

  function ask(message) {
    const worker = active();
    if (!worker) return Promise.resolve(null);
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      const timer = setTimeout(() => resolve(null), 5000);
      channel.port1.onmessage = (event) => { clearTimeout(timer); resolve(event.data); };
      worker.postMessage(message, [channel.port2]);
    });
  }

  async function refreshStatus() {
    const status = await ask({ type: "status" });
    if (status) {
      state.status = status;
      state.saving = status.saving;
      // An offline copy was asked for on an earlier visit and is not complete (the download was
      // cut off, or a new build came with new files): carry on.
      if (status.offline && status.cachedFiles < status.files && !status.saving && !saveData && !state.failed) {
        makeAvailable();
      }
    }
    render();
    return state.status;
  }

  function makeAvailable() {
    state.wanted = true;
    state.failed = 0;
    const worker = active();
    if (worker) {
      state.saving = true;
      worker.postMessage({ type: "make-offline" });
    }
    render();
  }

  function onMessage(event) {
    const data = event.data || {};
    if (data.source !== "tinycnn-sw") return;
    if (data.type === "progress") {
      state.saving = true;
      state.status = Object.assign({}, state.status || {}, data);
    } else if (data.type === "saved" || data.type === "save-failed") {
      state.saving = false;
      state.failed = data.type === "save-failed" ? data.failed || 1 : 0;
      state.status = Object.assign({}, state.status || {}, data);
    } else if (data.type === "activated") {
      refreshStatus();
      return;
    }
    render();
  }

  function keepThisPage() {
    // The page was loaded before the worker controlled it: hand it the URLs the page used (they
    // are in the browser's HTTP cache), so this page opens offline too. Nothing else is fetched.
    const urls = [location.href].concat(performance.getEntriesByType("resource").map((entry) => entry.name));
    return ask({ type: "keep", urls });
  }

  async function register() {
    let registration;
    try {
      registration = await sw.register(ROOT + "sw.js", { scope: ROOT });
    } catch (error) {
      console.warn("tinycnn: the offline service worker could not be registered:", error.message || error);
      return;
    }
    if (!registration) {  // service workers switched off (some privacy settings, test browsers)
      console.warn("tinycnn: service workers are switched off in this browser: the site is not kept for offline use.");
      return;
    }
    state.registration = registration;
    const watch = (worker) => {
      if (!worker) return;
      worker.addEventListener("statechange", () => {
        if (worker.state === "installed" && sw.controller) showNotice(false);
      });
    };
    if (registration.waiting && sw.controller) showNotice(false);
    watch(registration.installing);  // the browser's own update check may have started already
    registration.addEventListener("updatefound", () => watch(registration.installing));
    await sw.ready;
    if (!sw.controller) {
      await new Promise((resolve) => sw.addEventListener("controllerchange", resolve, { once: true }));
    }
    if (!state.hadController) await keepThisPage();
    state.hadController = true;
    if (state.wanted && !state.saving) makeAvailable();
    await refreshStatus();
  }

  function checkForUpdate() {
    if (!state.registration || Date.now() - state.lastUpdateCheck < UPDATE_CHECK_MS) return;
    state.lastUpdateCheck = Date.now();
    state.registration.update().catch(() => {});
  }

  // ------------------------------------------------------------------------------------------
  // The footer control: "Make available offline (51 MB)", then progress, then "Available offline"
  // ------------------------------------------------------------------------------------------
  function render() {
    const footer = document.querySelector(".md-footer-meta__inner");
    if (!footer || !supported) return;
    let box = footer.querySelector(".tc-offline");
    if (!box) {
      box = el("div", { class: "tc-offline", role: "group", "aria-label": "Offline copy of the course" });
      const button = el("button", { type: "button", class: "md-button tc-offline__button" });
      const text = el("span", { class: "tc-offline__status", role: "status", "aria-live": "polite" });
      const progress = el("progress", { class: "tc-offline__progress", "aria-label": "Saved for offline use" });
      button.addEventListener("click", makeAvailable);
      box.append(button, progress, text);
      footer.prepend(box);
    }
    const button = box.querySelector(".tc-offline__button");
    const text = box.querySelector(".tc-offline__status");
    const progress = box.querySelector(".tc-offline__progress");
    const s = state.status;
    const size = s && s.bytes ? ` (${formatBytes(s.bytes)})` : "";
    const complete = s && s.files && s.cachedFiles >= s.files;
    box.dataset.state = complete ? "saved" : state.saving ? "saving" : state.failed ? "failed" : "idle";
    progress.hidden = !state.saving;
    if (s && s.bytes) { progress.max = s.bytes; progress.value = s.cachedBytes || 0; }
    button.hidden = complete || state.saving;
    if (complete) {
      text.textContent = `Available offline: every page and Python are saved on this device (${formatBytes(s.bytes)}).`;
    } else if (state.saving) {
      text.textContent = s && s.bytes
        ? `Saving the course for offline use: ${formatBytes(s.cachedBytes || 0)} of ${formatBytes(s.bytes)}…`
        : "Saving the course for offline use…";
    } else if (state.failed) {
      button.textContent = "Try again";
      text.textContent = `Saving stopped at ${formatBytes((s && s.cachedBytes) || 0)} of ` +
        `${formatBytes((s && s.bytes) || 0)}: ${state.failed} file${state.failed > 1 ? "s" : ""} could not be ` +
        "downloaded (no network?).";
    } else {
      button.textContent = "Make available offline" + size;
      text.textContent = saveData
        ? "Your browser asks to save data, so nothing is saved unless you press the button."
        : "Saves every page, figure and the Python runtime on this device (it starts by itself once you run Python).";
    }
  }

  // ------------------------------------------------------------------------------------------
  // The update notice
  // ------------------------------------------------------------------------------------------
  const UPDATED_ELSEWHERE = "This course was updated in another tab. This tab keeps the version it opened with until you reload it.";

  function showNotice(activatedElsewhere) {
    if (state.notice && document.body.contains(state.notice)) {
      // "ready" became "taken over in another tab": say so in the notice already shown
      if (activatedElsewhere) state.notice.querySelector(".tc-update__text").textContent = UPDATED_ELSEWHERE;
      return;
    }
    const notice = el("div", { class: "tc-update md-typeset", role: "status", "aria-live": "polite" });
    const text = el("span", { class: "tc-update__text" }, activatedElsewhere
      ? UPDATED_ELSEWHERE : "A new version of this course is ready.");
    const reload = el("button", { type: "button", class: "md-button md-button--primary tc-update__reload" },
      "Reload for the new version");
    const close = el("button", { type: "button", class: "tc-update__close", "aria-label": "Dismiss", title: "Dismiss" }, "×");
    reload.addEventListener("click", () => {
      const waiting = state.registration && state.registration.waiting;
      if (waiting) {
        state.reloadOnChange = true;
        waiting.postMessage({ type: "activate-now" });
      } else {
        location.reload();
      }
    });
    close.addEventListener("click", () => { notice.remove(); });
    notice.append(text, reload, close);
    document.body.appendChild(notice);
    state.notice = notice;
  }

  // ------------------------------------------------------------------------------------------
  // Wiring
  // ------------------------------------------------------------------------------------------
  window.tinycnnOffline = {
    /** Promise of the worker's status: {build, files, bytes, cachedFiles, cachedBytes, offline,
     *  saving, isolation}, or null without a worker. */
    status: () => (supported ? refreshStatus() : Promise.resolve(null)),
    /** Save the whole course on this device (what the footer button does). */
    makeAvailable: () => { if (supported) makeAvailable(); },
    /** The ServiceWorkerRegistration (null before registration or without service workers). */
    registration: () => state.registration,
    supported,
  };

  if (!supported) return;
  sw.addEventListener("message", onMessage);
  sw.addEventListener("controllerchange", () => {
    if (state.reloadOnChange) { location.reload(); return; }
    if (state.hadController) showNotice(true);  // a new build took over from another tab
  });
  // Intent: Python was loaded, so the reader runs code: keep the whole course (not on save-data).
  document.addEventListener("tinycnn:runtime-ready", () => {
    if (!saveData && !state.wanted) makeAvailable();
  });
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(() => { render(); checkForUpdate(); });
  } else {
    render();
  }
  register();
})();
