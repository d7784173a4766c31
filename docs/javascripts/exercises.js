/* tinycnn exercises and "predict, then run" questions (the build renders them: docs/hooks/exercises.py).
 *
 * An exercise (<div class="tc-exercise" data-exercise="ID"> with its data in
 * <script class="tc-exercise-data">) becomes an editor holding the starter code, with three buttons:
 * Check (runs the code in a fresh namespace seeded by the exercise's setup, then the check, and says
 * what is wrong), Hint (one more hint each press) and Show solution (after a first attempt). Solved
 * exercises are remembered in localStorage ("tinycnn:solved"); every page with exercises shows
 * "n of m solved" and the home page the total (from assets/tinycnn/exercises.json).
 *
 * A prediction (<div class="tc-predict">) asks the reader to commit to an answer before running the
 * cell below it, whose build-time output stays hidden until then.
 *
 * Page API (added to window.tinycnnSite, see docs/in-browser.md):
 *   exercises() -> [{id, title, starter, solution, hints}]
 *   check(id, code[, {timeoutSeconds}]) -> Promise of {passed, message}
 */
(function () {
  "use strict";
  const site = window.tinycnnSite;
  if (!site || site.exercises) return;  // runtime.js missing, or this script loaded twice

  const SITE_ROOT = new URL("../", document.currentScript ? document.currentScript.src : location.href).href;
  const STORE = "tinycnn:solved";
  const DEFAULT_TIME_LIMIT = 10;

  const el = site.element;  // runtime.js's DOM helper

  // ------------------------------------------------------------------------------------------
  // Progress, in localStorage (a browser without it just forgets on reload)
  // ------------------------------------------------------------------------------------------
  function solvedIds() {
    try {
      const ids = JSON.parse(localStorage.getItem(STORE) || "[]");
      return new Set(Array.isArray(ids) ? ids.filter((id) => typeof id === "string") : []);
    } catch (error) {
      return new Set();
    }
  }

  function rememberSolved(id) {
    const ids = solvedIds();
    ids.add(id);
    try { localStorage.setItem(STORE, JSON.stringify([...ids].sort())); } catch (error) { /* private mode */ }
  }

  // ------------------------------------------------------------------------------------------
  // Checking an answer
  // ------------------------------------------------------------------------------------------
  let exercises = [];  // of the current page: {data, root, ...}

  function find(id) {
    const exercise = exercises.find((item) => item.data.id === id);
    if (!exercise) throw new Error(`there is no exercise ${JSON.stringify(id)} on this page`);
    return exercise;
  }

  function timeoutMessage(seconds, restarted) {
    return `Your code was still running after ${seconds} s, so it was stopped. Look for a loop that ` +
      "never ends (a while loop whose condition stays true, or a counter that is never increased)." +
      (restarted ? " To stop it, Python was restarted: the variables of this page's cells were reset, " +
        "so run the cells above again before you use them." : "");
  }

  async function check(id, code, options) {
    const data = find(id).data;
    const seconds = (options && options.timeoutSeconds) || data.timeLimit || DEFAULT_TIME_LIMIT;
    const namespace = "exercise:" + id;
    const setup = await site.runIn(namespace, data.setup || "", { fresh: true, timeoutSeconds: seconds,
      cellName: "the exercise's setup" });
    if (setup.timedOut) return { passed: false, message: timeoutMessage(seconds, setup.restarted) };
    if (setup.error) return { passed: false, message: "The exercise's setup failed (a bug of this page):\n" + setup.error };
    const mine = await site.runIn(namespace, String(code), { timeoutSeconds: seconds, cellName: "your code" });
    if (mine.timedOut) return { passed: false, message: timeoutMessage(seconds, mine.restarted), output: mine };
    const verdict = await site.runIn(namespace,
      `__import__("tinycnn.exercises").exercises.run_check(${JSON.stringify(data.check)}, globals(), ` +
      `error=${JSON.stringify(mine.error || "")})`, { timeoutSeconds: seconds, cellName: "the exercise's check" });
    if (verdict.timedOut) return { passed: false, message: timeoutMessage(seconds, verdict.restarted), output: mine };
    let result;
    try {
      result = JSON.parse(verdict.result);
    } catch (error) {
      result = { passed: false, message: "The check itself failed:\n" + (verdict.error || verdict.result || "no result") };
    }
    return { passed: result.passed === true, message: String(result.message), output: mine };
  }

  // ------------------------------------------------------------------------------------------
  // An exercise in the page
  // ------------------------------------------------------------------------------------------
  function setupExercise(root) {
    const tag = root.querySelector("script.tc-exercise-data");
    const data = JSON.parse(tag.textContent);
    const heading = root.querySelector("h3, h2, h4");
    const title = heading ? heading.textContent.replace(/¶$/, "").trim() : "Exercise: " + data.title;
    if (heading && !heading.id) heading.id = "exercise-" + data.id;
    const exercise = { data, root, attempts: 0, hintsShown: 0, editor: null, busy: false };
    root.setAttribute("role", "group");
    if (heading) root.setAttribute("aria-labelledby", heading.id);
    const button = (label, cls, title) => el("button", { type: "button", class: "tc-button " + cls, title }, label);
    exercise.checkButton = button("Check", "tc-run tc-check", "Run your code and check it (Shift+Enter in the editor)");
    exercise.hintButton = button("Hint", "tc-hint-button", `Show one hint (${data.hints.length} in all)`);
    exercise.solutionButton = button("Show solution", "tc-solution-button", "Available after a first attempt");
    exercise.resetButton = button("Reset", "tc-reset", "Put back the starter code");
    exercise.solutionButton.disabled = true;
    exercise.state = el("span", { class: "tc-ex-state" });
    const toolbar = el("div", { class: "tc-toolbar", role: "toolbar", "aria-label": title });
    toolbar.append(exercise.checkButton, exercise.hintButton, exercise.solutionButton, exercise.resetButton, exercise.state);
    exercise.result = el("div", { class: "tc-ex-result", "aria-live": "polite" });
    exercise.hints = Array.from(root.querySelectorAll(".tc-hint"));
    exercise.solution = root.querySelector(".tc-solution");

    const starter = root.querySelector(".tc-exercise-starter");
    // Until the reader shows intent (Python on intent, docs/javascripts/intent.js) the holder shows
    // the build's highlighted starter code; the editor replaces it once Python is wanted.
    const holder = el("div", { class: "tc-editor" });
    (starter || root.lastChild).replaceWith(holder);
    if (starter) holder.appendChild(starter);
    holder.after(toolbar);
    toolbar.after(exercise.result);
    exercise.holder = holder;
    exercise.textarea = null;

    exercise.checkButton.addEventListener("click", () => { checkInPage(exercise); });
    exercise.hintButton.addEventListener("click", () => showHint(exercise));
    exercise.solutionButton.addEventListener("click", () => showSolution(exercise));
    exercise.resetButton.addEventListener("click", () => setCode(exercise, data.starter));
    if (solvedIds().has(data.id)) markSolved(exercise, false);
    else exercise.state.textContent = "Not solved yet";
    return exercise;
  }

  function getCode(exercise) { return exercise.editor ? exercise.editor.getValue() : exercise.data.starter; }
  function setCode(exercise, code) { if (exercise.editor) exercise.editor.setValue(code); }

  function markSolved(exercise, justNow) {
    exercise.root.setAttribute("data-solved", "");
    exercise.state.textContent = justNow ? "Solved ✓ (remembered in this browser)" : "Solved ✓";
    exercise.solutionButton.disabled = false;
    exercise.solutionButton.title = "Compare with the model solution";
    if (justNow) rememberSolved(exercise.data.id);
    renderProgress();
  }

  function showHint(exercise) {
    const next = exercise.hints[exercise.hintsShown];
    if (!next) return;
    next.hidden = false;
    exercise.hintsShown++;
    if (exercise.hintsShown >= exercise.hints.length) {
      exercise.hintButton.disabled = true;
      exercise.hintButton.textContent = "No more hints";
    } else {
      exercise.hintButton.textContent = `Hint (${exercise.hintsShown + 1} of ${exercise.hints.length})`;
    }
    next.setAttribute("tabindex", "-1");
    next.focus({ preventScroll: false });
  }

  function showSolution(exercise) {
    if (!exercise.solution) return;
    exercise.solution.hidden = false;
    exercise.solutionButton.disabled = true;
    exercise.solutionButton.textContent = "Solution shown below";
    exercise.solution.setAttribute("tabindex", "-1");
    exercise.solution.focus();
  }

  async function checkInPage(exercise) {
    if (exercise.busy) return;
    exercise.busy = true;
    exercise.checkButton.disabled = true;
    const box = exercise.result;
    box.setAttribute("aria-busy", "true");
    box.textContent = "";
    box.className = "tc-ex-result tc-ex-checking";
    box.appendChild(el("p", null, site.state() === "ready" ? "Checking…" : "Checking… (Python is loading first)"));
    let verdict;
    try {
      verdict = await check(exercise.data.id, getCode(exercise));
    } catch (error) {
      verdict = { passed: false, message: `The check could not run: ${error.message || error}` };
    }
    exercise.busy = false;
    exercise.checkButton.disabled = false;
    exercise.attempts++;
    box.textContent = "";
    box.className = "tc-ex-result " + (verdict.passed ? "tc-ex-passed" : "tc-ex-failed");
    box.appendChild(el("p", { class: "tc-ex-verdict" }, verdict.passed ? "✓ " + verdict.message : "✗ Not yet."));
    if (!verdict.passed) box.appendChild(el("pre", { class: "tc-ex-message" }, verdict.message));
    const out = verdict.output;
    if (out && (out.stdout || out.result) && !out.error) {
      box.appendChild(el("p", { class: "tc-ex-printed-label" }, "Your code printed:"));
      box.appendChild(el("pre", { class: "tc-stdout" }, (out.stdout || "") + (out.result ? out.result : "")));
    }
    box.removeAttribute("aria-busy");
    if (verdict.passed) markSolved(exercise, true);
    if (exercise.solutionButton.textContent === "Show solution") {
      exercise.solutionButton.disabled = false;
      exercise.solutionButton.title = "Show the model solution";
    }
  }

  // ------------------------------------------------------------------------------------------
  // Progress lines: "n of m solved" on a page, the total on the home page
  // ------------------------------------------------------------------------------------------
  let progressLine = null;
  let indexPromise = null;

  function renderProgress() {
    if (progressLine && exercises.length) {
      const solved = exercises.filter((item) => item.root.hasAttribute("data-solved")).length;
      progressLine.textContent = `Exercises on this page: ${solved} of ${exercises.length} solved.`;
    }
    for (const box of document.querySelectorAll("[data-exercise-progress='site']")) renderSiteProgress(box);
  }

  function renderSiteProgress(box) {
    if (!indexPromise) {
      indexPromise = fetch(SITE_ROOT + "assets/tinycnn/exercises.json").then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      });
    }
    indexPromise.then((index) => {
      const solved = solvedIds();
      const count = (ids) => ids.filter((id) => solved.has(id)).length;
      const all = index.pages.reduce((sum, page) => sum + count(page.ids), 0);
      box.textContent = "";
      box.appendChild(el("p", { class: "tc-ex-total" },
        `You have solved ${all} of ${index.total} exercises` + (all ? " (remembered in this browser)." : ".")));
      const list = el("ul", { class: "tc-ex-pages" });
      for (const page of index.pages) {
        const item = el("li");
        item.append(el("a", { href: SITE_ROOT + page.url + "#practice" }, page.title),
          document.createTextNode(`: ${count(page.ids)} of ${page.ids.length} solved`));
        list.appendChild(item);
      }
      box.appendChild(list);
    }).catch(() => { box.textContent = "The list of exercises could not be loaded."; });
  }

  // ------------------------------------------------------------------------------------------
  // "Predict, then run"
  // ------------------------------------------------------------------------------------------
  function setupPrediction(root) {
    const data = JSON.parse(root.querySelector("script.tc-predict-data").textContent);
    const cell = root.nextElementSibling && root.nextElementSibling.matches(".tc-cell") ? root.nextElementSibling : null;
    const form = el("form", { class: "tc-predict-form" });
    const name = "tc-predict-" + data.id;
    let read;
    if (data.choices.length) {
      const group = el("fieldset");
      group.appendChild(el("legend", null, "Your prediction"));
      data.choices.forEach((choice, i) => {
        const id = `${name}-${i}`;
        const label = el("label", { for: id });
        label.append(el("input", { type: "radio", name, id, value: choice }), document.createTextNode(" " + choice));
        group.appendChild(label);
      });
      form.appendChild(group);
      read = () => { const picked = form.querySelector("input:checked"); return picked ? picked.value : null; };
    } else {
      const id = name + "-number";
      const label = el("label", { for: id }, "Your prediction (a number): ");
      const input = el("input", { type: "text", inputmode: "decimal", id, name, autocomplete: "off", size: "8" });
      label.appendChild(input);
      form.appendChild(label);
      read = () => (input.value.trim() === "" || isNaN(Number(input.value)) ? null : input.value.trim());
    }
    const commit = el("button", { type: "submit", class: "tc-button tc-run" }, "Commit my prediction");
    const feedback = el("p", { class: "tc-predict-feedback", "aria-live": "polite" });
    form.append(commit, feedback);
    root.querySelector("script.tc-predict-data").replaceWith(form);
    if (!cell) return;
    const output = cell.querySelector(".tc-output");
    cell.classList.add("tc-predict-pending");
    const note = el("p", { class: "tc-predict-note" }, "Output hidden: commit a prediction above, then run this cell.");
    if (output) output.before(note);
    let committed = null;
    const right = (value) => (data.choices.length ? value === data.answer
      : Math.abs(Number(value) - Number(data.answer)) < 1e-9 * Math.max(1, Math.abs(Number(data.answer))));
    const reveal = () => {
      cell.classList.remove("tc-predict-pending");
      note.remove();
      if (committed == null) feedback.textContent = "";
      if (committed != null && output.querySelector(".tc-error")) {
        feedback.textContent = `You predicted ${committed}. The cell failed, so it does not show the ` +
          "answer yet: read its error (run the cells above first if it needs their variables).";
        return;
      }
      if (committed != null) {
        feedback.textContent = right(committed)
          ? `You predicted ${committed}: right! The output shows it.`
          : `You predicted ${committed}; the answer is ${data.answer}. The output shows why.`;
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = read();
      if (value == null) {
        feedback.textContent = data.choices.length ? "Pick one of the answers first." : "Type a number first.";
        return;
      }
      committed = value;
      for (const input of form.querySelectorAll("input")) input.disabled = true;
      commit.disabled = true;
      feedback.textContent = `Locked in: ${value}. Now run the cell below to see if you were right.`;
      note.textContent = "Run this cell to see the answer.";
      const run = cell.querySelector(".tc-run");
      if (run) run.focus();
    });
    if (output) {
      // The cell's output is replaced when it runs in the browser (data-origin="browser").
      new MutationObserver(() => {
        if (output.dataset.origin === "browser") reveal();
      }).observe(output, { attributes: true, attributeFilter: ["data-origin"] });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Page set-up (again after each instant navigation)
  // ------------------------------------------------------------------------------------------
  function enhance() {
    const roots = Array.from(document.querySelectorAll(".tc-exercise[data-exercise]:not(.tc-ex-ready)"));
    for (const root of document.querySelectorAll(".tc-predict[data-predict]:not(.tc-ex-ready)")) {
      root.classList.add("tc-ex-ready");
      setupPrediction(root);
    }
    if (!document.querySelector(".tc-exercise[data-exercise]")) {
      exercises = [];
      progressLine = null;
    }
    if (roots.length) {
      roots.forEach((root) => root.classList.add("tc-ex-ready"));
      exercises = roots.map(setupExercise);
      progressLine = document.querySelector("[data-exercise-progress='page']");
      if (!progressLine) {
        progressLine = el("p", { class: "tc-ex-progress", "data-exercise-progress": "page" });
        roots[0].before(progressLine);
      }
      progressLine.setAttribute("role", "status");
      const current = exercises;
      const makeEditors = () => {
        for (const exercise of current) {
          if (exercise.editorRequested) continue;
          exercise.editorRequested = true;
          const box = el("div", { class: "tc-editor-box" });  // filled off-screen, then swapped in
          site.editor(box, {
            value: exercise.data.starter,
            label: `Your code for the exercise ${exercise.data.title}. Shift+Enter checks it, Escape leaves the editor.`,
            onRun: () => { checkInPage(exercise); },
            onEscape: () => exercise.checkButton.focus(),
          }).then((editor) => {
            exercise.holder.textContent = "";
            exercise.holder.appendChild(box);
            if (editor.codemirror) editor.codemirror.refresh();
            exercise.editor = editor;
            exercise.root.classList.add("tc-enhanced");
          });
        }
      };
      if (site.state() !== "idle") makeEditors();
      else document.addEventListener("tinycnn:runtime-loading", makeEditors, { once: true });
    }
    renderProgress();
  }

  site.exercises = () => exercises.map(({ data }) => ({
    id: data.id, title: data.title, starter: data.starter, solution: data.solution, hints: data.hints.slice(),
  }));
  site.check = (id, code, options) => check(id, code, options).then(({ passed, message }) => ({ passed, message }));

  site.onEveryPage(enhance);
})();
