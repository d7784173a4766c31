/* tinycnn: Python on intent. Decides WHEN the page loads Python (docs/javascripts/runtime.js does
 * the loading): nothing of the ~28 MB runtime is downloaded for a reader who only reads.
 *
 * The reader shows intent by
 *   - moving the pointer over, focusing or touching a runnable cell (.tc-cell) or a demo (.tcd-demo),
 *     once per page view (after Stop during loading, moving the pointer does not start it again);
 *   - pressing Run or Run all (runtime.js), or "Load Python now" in the page bar (added here).
 * The page bar also offers a remembered preference, "Load Python whenever I open a page"
 * (localStorage key tinycnn.loadPython = "on-open"). It never applies while the browser asks to save
 * data (navigator.connection.saveData); intent still works then.
 * Uses only the public API: tinycnnSite.loadPython(), state(), downloadSize().
 */
(function () {
  "use strict";
  const site = window.tinycnnSite;
  if (!site || site.intentInstalled) return;  // no runtime on this page, or loaded twice
  site.intentInstalled = true;

  const KEY = "tinycnn.loadPython";
  const TARGETS = ".tc-cell[data-runnable], .tcd-demo, .tc-exercise[data-exercise]";

  function saveData() { return !!(navigator.connection && navigator.connection.saveData); }
  function preference() {
    try { return localStorage.getItem(KEY) === "on-open"; } catch (error) { return false; }
  }
  function setPreference(on) {
    try {
      if (on) localStorage.setItem(KEY, "on-open"); else localStorage.removeItem(KEY);
    } catch (error) { /* storage blocked: the choice holds for this page only */ }
  }
  function megabytes(bytes, after) { return bytes ? ` (${(bytes / 1e6).toFixed(1)} MB${after || ""})` : ""; }

  // ---------------------------------------------------------------- pointer, focus, touch
  let passiveUsed = false;  // hover/focus/touch start loading once per page view
  function onIntent(event) {
    if (passiveUsed || !event.target || !event.target.closest || !event.target.closest(TARGETS)) return;
    passiveUsed = true;
    if (site.state() === "idle") site.loadPython();
  }
  document.addEventListener("pointerover", onIntent, { passive: true });
  document.addEventListener("focusin", onIntent);
  document.addEventListener("touchstart", onIntent, { passive: true });

  // ---------------------------------------------------------------- the page bar's controls
  let counter = 0;
  function addControls(bar) {
    if (bar.querySelector(".tc-intent")) return;
    const id = `tc-always-${++counter}`;
    const now = document.createElement("button");
    now.type = "button";
    now.className = "md-button tc-loadnow";
    now.textContent = "Load Python now";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = id;
    box.checked = preference();
    const label = document.createElement("label");
    label.htmlFor = id;
    label.className = "tc-always";
    const text = document.createElement("span");
    label.append(box, " ", text);
    const group = document.createElement("div");
    group.className = "tc-intent";
    group.append(now, label);
    const version = bar.querySelector(".tc-version");
    bar.insertBefore(group, version || null);

    function describe(bytes) {
      text.textContent = "Load Python whenever I open a page" + megabytes(bytes, " the first time") +
        (saveData() ? ": not while your browser asks to save data" : "");
    }
    describe(0);
    site.downloadSize().then(describe, () => {});
    now.addEventListener("click", () => { site.loadPython(); });
    box.addEventListener("change", () => {
      setPreference(box.checked);
      if (box.checked && !saveData() && site.state() === "idle") site.loadPython();
    });
    const sync = () => {  // "Load Python now" is off while Python loads or is ready
      const state = site.state();
      now.disabled = state === "loading" || state === "ready";
    };
    sync();
    new MutationObserver(sync).observe(bar, { attributes: true, attributeFilter: ["data-state"] });
  }

  function pageView() {
    passiveUsed = false;
    document.querySelectorAll(".tc-pagebar").forEach(addControls);
    if (preference() && !saveData() && site.state() === "idle") site.loadPython();
  }

  // After runtime.js (which builds the page bar on the same events, subscribed before this script).
  site.onEveryPage(pageView);
})();
