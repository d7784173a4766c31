"""Helpers that several browser test files share: opening pages, waiting for the editors and
the demos, the convolution example (the article's -7) and a runaway loop for the Stop tests."""
from __future__ import annotations

from pathlib import Path
from typing import List


CONVOLUTION_EXAMPLE = (
    "from tinycnn.functional import conv2d\n"
    "print(conv2d([[3, 1, 1], [1, 0, 7], [2, 3, 5]], [[1, 0, -1]] * 3))\n"
)


def runnable_pages(site: Path) -> List[str]:
    """URL paths (relative to the site root) of every page with a runnable cell."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        if '<div class="tc-cell" data-runnable' in html.read_text(encoding="utf-8"):  # not the docs' mention
            folder = html.parent.relative_to(site).as_posix()
            pages.append("" if folder == "." else folder + "/")
    return pages


def first_page(site: Path) -> str:
    pages = runnable_pages(site)
    assert pages, "the built site has no runnable cell at all"
    # Prefer the convolution page (it has the -7 example), else the first one.
    return next((page for page in pages if "convolution" in page), pages[0])


def point_at(page, target: str = ".tc-cell[data-runnable]") -> None:
    """Show intent as a reader does: move the pointer over the first ``target`` (a cell, a demo, an
    exercise). That builds the editors and starts loading Python (docs/javascripts/intent.js)."""
    page.locator(target).first.hover(position={"x": 5, "y": 5})


def wait_for_editors(page) -> None:
    """The page builds one editor per task (so that Python's worker can start meanwhile), once the
    reader showed intent (the tests call tinycnnSite.loadPython() or point at a cell first)."""
    page.wait_for_function(
        "document.querySelectorAll('.tc-cell[data-runnable]').length > 0 && "
        "document.querySelectorAll('.tc-cell[data-runnable]:not(.tc-enhanced)').length === 0")


def start_infinite_loop(page):
    first = page.locator(".tc-cell[data-runnable]").nth(0)
    page.evaluate("tinycnnSite.ready()")
    wait_for_editors(page)
    page.evaluate("tinycnnSite.run('kept = 123')")
    page.evaluate("(el) => el.querySelector('.CodeMirror').CodeMirror.setValue('while True:\\n    pass')",
                  first.element_handle())
    first.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function("(el) => el.classList.contains('tc-running')", arg=first.element_handle())
    page.wait_for_timeout(500)
    stop = first.get_by_role("button", name="Stop", exact=True)
    assert stop.is_enabled()
    stop.click()
    page.wait_for_function("(el) => !el.classList.contains('tc-running')", arg=first.element_handle(),
                           timeout=15_000)
    return first


def open_page(new_page, site_url: str, path: str, width: int = 1280, scheme: str = "light", use: str = None):
    """Open a page; with ``use`` (a demo's selector), point at that demo, as a reader who is about to
    use it: that is the intent that loads Python (the demos compute nothing before)."""
    recorded = new_page(viewport={"width": width, "height": 1000})
    recorded.page.emulate_media(color_scheme=scheme)
    recorded.page.goto(site_url + path)
    if use:
        recorded.page.locator(use + " .tcd-status").wait_for(state="attached")
        recorded.page.hover(use, position={"x": 5, "y": 5})
    return recorded


def wait_status(page, demo: str, timeout: float = 90_000) -> str:
    """Wait until the demo's status line says it finished (ok) or failed (error); return its text."""
    page.wait_for_function(
        """(sel) => { const s = document.querySelector(sel + ' .tcd-status');
                      return s && (s.dataset.kind === 'ok' || s.dataset.kind === 'error'); }""",
        arg=demo, timeout=timeout)
    text = page.inner_text(demo + " .tcd-status")
    assert page.get_attribute(demo + " .tcd-status", "data-kind") == "ok", text
    return text
