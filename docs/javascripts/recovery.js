/* tinycnn recovery: help the reader after Python restarted and the page's variables are gone.
 *
 * Stop restarts Python when the page is not cross-origin isolated (a first visit, before the
 * site's service worker controls the page, or a browser without service workers), and a crash
 * restarts it too. Then:
 * - a cell that fails with NameError on a name that a cell above defines says why (Python was
 *   restarted, or the cell above has not run yet) and offers ONE button, "Run the cells above,
 *   then this one", which replays the page's cells in order (tinycnnSite.runAll({through}));
 * - the restart notice of the stopped cell offers the same button.
 * It listens to runtime.js's events: tinycnn:runtime-ready (a new interpreter), tinycnn:cell-run.
 */
(function () {
  "use strict";
  if (window.tinycnnRecovery) return;
  const REPLAY = "Run the cells above, then this one";

  let interpreter = 0;          // +1 each time a Python interpreter becomes ready
  const lastRun = new Map();    // page path -> Map(cell index -> interpreter it last ran in, no error)

  function pageRuns() {
    if (!lastRun.has(location.pathname)) lastRun.set(location.pathname, new Map());
    return lastRun.get(location.pathname);
  }

  function cellRoots() {
    return Array.from(document.querySelectorAll(".tc-cell[data-runnable]"));
  }

  function codeOf(root) {
    const editor = root.querySelector(".CodeMirror");
    if (editor && editor.CodeMirror) return editor.CodeMirror.getValue();
    const area = root.querySelector("textarea.tc-plain-editor");
    if (area) return area.value;
    const source = root.querySelector("script.tc-source");
    try { return source ? JSON.parse(source.textContent) : ""; } catch (error) { return ""; }
  }

  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  /** Does this code bind `name` (assignment, def, class, import, for, with ... as)? */
  function defines(code, name) {
    const n = escapeRegExp(name);
    const patterns = [
      `^[ \\t]*(?:[\\w.\\[\\], ()*]*[,( ])?${n}\\s*(?:,[^=\\n]*)?(?:[-+*/%@&|^]|\\*\\*|//|>>|<<)?=(?!=)`,
      `^[ \\t]*(?:async[ \\t]+)?(?:def|class)[ \\t]+${n}\\b`,
      `^[ \\t]*(?:from[ \\t]+\\S+[ \\t]+)?import[ \\t].*\\b${n}\\b`,
      `\\bas[ \\t]+${n}\\b`,
      `^[ \\t]*(?:async[ \\t]+)?for[ \\t].*\\b${n}\\b.*[ \\t]in[ \\t]`,
    ];
    return patterns.some((pattern) => new RegExp(pattern, "m").test(code));
  }

  function replayBox(index, message) {
    const box = document.createElement("div");
    box.className = "tc-recover";
    const text = document.createElement("p");
    text.textContent = message;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "md-button tc-recover__replay";
    button.textContent = REPLAY;
    button.addEventListener("click", () => {
      button.disabled = true;
      button.textContent = "Running the cells…";
      window.tinycnnSite.runAll({ through: index }).catch(() => {});
    });
    box.append(text, button);
    return box;
  }

  function onCellRun(event) {
    const { index, output } = event.detail || {};
    const roots = cellRoots();
    const root = roots[index];
    if (!root || !output) return;
    const runs = pageRuns();
    const outputBox = root.querySelector(".tc-output");
    if (!output.error && !output.stopped) {
      runs.set(index, interpreter);
      return;
    }
    runs.delete(index);
    if (output.stopped && /restarted/.test(output.error || "") && index > 0) {
      outputBox.appendChild(replayBox(index,
        "The cells above made this page's variables; run them again to get them back."));
      return;
    }
    const missing = /NameError: name '([A-Za-z_][A-Za-z0-9_]*)' is not defined/.exec(output.error || "");
    if (!missing) return;
    const name = missing[1];
    const above = [];
    for (let i = 0; i < index; i++) if (defines(codeOf(roots[i]), name)) above.push(i);
    if (!above.length) return;  // not made by a cell above: a typo, say nothing more
    const cellNumbers = above.map((i) => roots[i].getAttribute("data-cell") || String(i + 1));
    const which = cellNumbers.length > 1 ? `cells ${cellNumbers.join(", ")}` : `cell ${cellNumbers[0]}`;
    const lost = above.some((i) => runs.has(i) && runs.get(i) < interpreter);
    const message = lost
      ? `${name} is gone because Python was restarted (by Stop, or after a crash), which reset this ` +
        `page's variables. It is made by ${which} above.`
      : `${name} is made by ${which} above, which has not run yet in this page's Python.`;
    outputBox.appendChild(replayBox(index, message));
  }

  document.addEventListener("tinycnn:runtime-ready", () => { interpreter++; });
  document.addEventListener("tinycnn:cell-run", onCellRun);
  window.tinycnnRecovery = { replayLabel: REPLAY };
})();
