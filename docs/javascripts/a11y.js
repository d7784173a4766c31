/* tinycnn accessibility fixes for what the theme and the third-party widgets leave out (axe-core).
 *
 * - Material's copy/select buttons sit in one unnamed <nav class="md-code__nav"> per code block:
 *   many identical landmarks (axe: landmark-unique). Each gets a name. (The table of contents'
 *   landmarks get unique names in the template: overrides/partials/toc-item.html.)
 * - Scrolling boxes without anything focusable inside (cell outputs, the notebook's code and
 *   outputs, formulas) cannot be scrolled by keyboard
 *   (axe: scrollable-region-focusable): each becomes focusable (tabindex=0) while it overflows.
 *   (The editors wrap long lines instead: runtime.js, createEditor.)
 * Runs on every page (instant navigation included) and on content added later (editors, outputs).
 */
(function () {
  "use strict";
  const SCROLLERS = ".tc-output pre, .jp-OutputArea-output pre, .highlight-ipynb, " +
    ".md-typeset__scrollwrap, .tc-math-display";
  let codeNavs = 0;

  function fix() {
    document.querySelectorAll("nav.md-code__nav:not([aria-label])").forEach((nav) => {
      codeNavs += 1;
      nav.setAttribute("aria-label", `Code block ${codeNavs} actions`);
    });
    document.querySelectorAll(SCROLLERS).forEach((box) => {
      const overflows = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (overflows && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.dataset.tcScrollFocus = "";
      } else if (!overflows && box.dataset.tcScrollFocus !== undefined) {
        box.removeAttribute("tabindex");
        delete box.dataset.tcScrollFocus;
      }
    });
  }

  let scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; fix(); });
  }

  new MutationObserver(schedule).observe(document.documentElement, { childList: true, subtree: true });
  window.addEventListener("resize", schedule);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", schedule);
  else schedule();
})();
