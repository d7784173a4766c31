"""The built site runs tinycnn in the page (Pyodide 0.17 in a Web Worker), offline, in Chromium.

Oracles: hand-worked numbers (the convolution example is -7), Python semantics (state shared
between cells, tracebacks), the outputs the site build computed with CPython (kept when the
runtime cannot load), and the request log (nothing leaves 127.0.0.1).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import List

import pytest

import tinycnn

from .pages import CONVOLUTION_EXAMPLE, first_page, runnable_pages, start_infinite_loop, wait_for_editors

pytestmark = pytest.mark.browser







def status_text(page) -> str:
    return page.locator(".tc-pagebar .tc-status").inner_text()




def test_cells_are_enhanced_with_editor_buttons_and_build_outputs(built_site, site_url, new_page):
    recorded = new_page()
    page = recorded.page
    path = first_page(built_site)
    page.goto(site_url + path)
    cells = page.locator(".tc-cell[data-runnable]")
    count = cells.count()
    assert count > 0
    # The version of tinycnn that the page runs is the checkout's (shown before loading, too).
    page.wait_for_function("document.querySelector('.tc-pagebar .tc-version').textContent !== ''")
    assert page.locator(".tc-version").inner_text() == "tinycnn %s" % tinycnn.__version__
    cells.nth(0).hover()    # the reader's intent: the editors and Python load
    wait_for_editors(page)  # the editor replaced the highlighted code
    first = cells.nth(0)
    for label in ("Run", "Stop", "Reset", "Copy"):
        assert first.get_by_role("button", name=label, exact=True).count() == 1, label
    assert page.get_by_role("button", name="Run all").count() == 1
    assert first.locator(".CodeMirror-linenumber").count() > 0
    assert first.locator(".tc-output").get_attribute("aria-live") == "polite"
    # The editor holds exactly the cell's source (the JSON the build embedded).
    source = json.loads(first.locator("script.tc-source").text_content())
    assert page.evaluate("(el) => el.querySelector('.CodeMirror').CodeMirror.getValue()",
                         first.element_handle()) == source
    page.evaluate("tinycnnSite.ready()")
    assert page.locator(".tc-version").inner_text() == (
        "tinycnn %s · Python 3.8.2 · NumPy 1.17.5 · Pyodide 0.17.0" % tinycnn.__version__)


def test_convolution_example_prints_minus_seven_and_info(built_site, site_url, new_page):
    page = new_page().page
    page.goto(site_url + first_page(built_site))
    info = page.evaluate("tinycnnSite.ready()")
    # A new browser context: nothing stored yet, so the byte-code cache misses.
    assert info == {"pyodide": "0.17.0", "python": "3.8.2", "numpy": "1.17.5",
                    "tinycnn": tinycnn.__version__, "bytecodeCache": "miss"}
    assert page.evaluate("tinycnnSite.info()") == info
    out = page.evaluate("(code) => tinycnnSite.run(code)", CONVOLUTION_EXAMPLE)
    assert out["error"] is None
    assert out["stdout"].strip() == "[[-7.]]"
    assert "Python is ready" in status_text(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_page_bar_keeps_its_height_while_python_loads(built_site, site_url, new_page, width):
    """The status text, progress bar and version line change while Python loads; the bar must
    not change height, or the page below it jumps (it moved the digit pad under a stroke)."""
    page = new_page(viewport={"width": width, "height": 900}).page
    page.goto(site_url + first_page(built_site))
    page.wait_for_selector(".tc-pagebar")
    # record the bar's height at every change of its text, until Python is ready
    page.evaluate("""() => {
        const bar = document.querySelector('.tc-pagebar');
        window.__barHeights = [[bar.getBoundingClientRect().height, bar.textContent]];
        new MutationObserver(() => window.__barHeights.push(
            [bar.getBoundingClientRect().height, bar.textContent]))
          .observe(bar, {subtree: true, childList: true, characterData: true, attributes: true});
    }""")
    page.evaluate("tinycnnSite.ready()")
    page.wait_for_timeout(100)
    heights = page.evaluate("window.__barHeights")
    texts = {text for _, text in heights}
    assert any("Loading" in text for text in texts) and any("ready" in text for text in texts), texts
    assert len({round(height) for height, _ in heights}) == 1, heights


def test_cell_run_button_keyboard_reset_and_shared_state(built_site, site_url, new_page):
    page = new_page().page
    page.goto(site_url + first_page(built_site))
    page.evaluate("tinycnnSite.loadPython()")
    wait_for_editors(page)
    cells = page.locator(".tc-cell[data-runnable]")
    first, second = cells.nth(0), cells.nth(1 if cells.count() > 1 else 0)
    set_code = "(args) => args[0].querySelector('.CodeMirror').CodeMirror.setValue(args[1])"
    page.evaluate(set_code, [first.element_handle(), "shared_value = 6 * 7\nprint('set')"])
    first.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function("(el) => el.querySelector('.tc-output').dataset.origin === 'browser'",
                           arg=first.element_handle())
    assert first.locator(".tc-output .tc-stdout").inner_text().strip() == "set"
    assert "in your browser" in first.locator(".tc-origin").inner_text()

    # Keyboard: type in the second cell's editor, Shift+Enter runs it, Escape leaves the editor.
    page.evaluate(set_code, [second.element_handle(), ""])
    second.locator(".CodeMirror").click()
    page.keyboard.type("shared_value + 1")
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "(el) => { const r = el.querySelector('.tc-output .tc-result'); return r && r.textContent === '43'; }",
        arg=second.element_handle())
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.textContent") == "Run"
    assert page.evaluate("(el) => document.activeElement.closest('.tc-cell') === el", second.element_handle())

    # Reset puts the original code back.
    original = json.loads(second.locator("script.tc-source").text_content())
    second.get_by_role("button", name="Reset").click()
    assert page.evaluate("(el) => el.querySelector('.CodeMirror').CodeMirror.getValue()",
                         second.element_handle()) == original


def test_output_is_shown_live_while_a_cell_runs(built_site, site_url, new_page):
    page = new_page().page
    page.goto(site_url + first_page(built_site))
    first = page.locator(".tc-cell[data-runnable]").nth(0)
    page.evaluate("tinycnnSite.ready()")
    wait_for_editors(page)
    code = ("import time\nfor step in range(1, 4):\n    print('\\rstep', step, end='')\n"
            "    start = time.time()\n    while time.time() - start < 1.0:\n        pass\nprint()\n'done'")
    page.evaluate("(args) => args[0].querySelector('.CodeMirror').CodeMirror.setValue(args[1])",
                  [first.element_handle(), code])
    first.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        "(el) => { const live = el.querySelector('.tc-output .tc-live');"
        " return live && /^step [12]$/.test(live.textContent); }",  # \r redraws resolved, as at build time
        arg=first.element_handle(), timeout=20_000)
    assert first.evaluate("(el) => el.classList.contains('tc-running')")
    assert first.locator(".tc-output").get_attribute("aria-busy") == "true"
    first.locator(".tc-output .tc-result").wait_for()
    assert first.locator(".tc-output .tc-stdout").inner_text().strip() == "step 3"
    assert first.locator(".tc-output .tc-result").inner_text() == "'done'"
    assert first.locator(".tc-output").get_attribute("aria-busy") is None


def test_exception_shows_traceback_and_page_keeps_working(built_site, site_url, new_page):
    page = new_page().page
    page.goto(site_url + first_page(built_site))
    first = page.locator(".tc-cell[data-runnable]").nth(0)
    page.evaluate("tinycnnSite.loadPython()")
    wait_for_editors(page)
    page.evaluate("(el) => el.querySelector('.CodeMirror').CodeMirror.setValue("
                  "'def f(x):\\n    return x / 0\\n\\nf(1)')", first.element_handle())
    first.get_by_role("button", name="Run", exact=True).click()
    error = first.locator(".tc-output .tc-error")
    error.wait_for()
    text = error.inner_text()
    assert "ZeroDivisionError" in text
    assert "line 4" in text and "line 2, in f" in text          # the user's own frames
    assert "cellrunner" not in text and "worker.py" not in text  # the runner's frames are trimmed
    assert "Failed" in first.locator(".tc-origin").inner_text()
    out = page.evaluate("tinycnnSite.run('sum(range(10))')")
    assert out == {"stdout": "", "stderr": "", "result": "45", "error": None, "images": []}




def test_stop_ends_an_infinite_loop_by_restarting_the_worker(built_site, site_url, new_page):
    page = new_page().page
    page.goto(site_url + first_page(built_site))
    assert page.evaluate("window.crossOriginIsolated") is False
    first = start_infinite_loop(page)
    notice = first.locator(".tc-output .tc-notice").inner_text()
    assert "Stopped" in notice and "reset" in notice
    # The next run works, in a fresh interpreter (the old variables are gone, as the notice says).
    assert page.evaluate("tinycnnSite.run('1 + 1')")["result"] == "2"
    assert "NameError" in page.evaluate("tinycnnSite.run('kept')")["error"]
    assert "Python is ready" in status_text(page)


def test_stop_interrupts_when_cross_origin_isolated(built_site, isolated_site_url, new_page):
    page = new_page().page
    page.goto(isolated_site_url + first_page(built_site))
    assert page.evaluate("window.crossOriginIsolated") is True
    first = start_infinite_loop(page)
    assert "KeyboardInterrupt" in first.locator(".tc-output .tc-error").inner_text()
    # Interrupted, not restarted: the page's variables survive.
    assert page.evaluate("tinycnnSite.run('kept + 1')")["result"] == "124"


DOCS = Path(__file__).resolve().parents[2] / "docs"
CELL_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*python[ \t]*$", re.M)


def pages_with_cells() -> List[str]:
    """URL paths of the Markdown pages that hold a runnable cell (known before the site is built)."""
    pages = []
    for md in sorted(DOCS.rglob("*.md")):
        if CELL_FENCE.search(md.read_text(encoding="utf-8")):
            rel = md.relative_to(DOCS).with_suffix("").as_posix()
            pages.append("" if rel == "index" else (rel[:-len("/index")] if rel.endswith("/index") else rel) + "/")
    return pages


def test_the_built_site_has_every_page_with_cells(built_site):
    assert sorted(runnable_pages(built_site)) == sorted(pages_with_cells())


@pytest.mark.parametrize("path", pages_with_cells())
def test_every_runnable_cell_of_the_page_runs_without_error(built_site, site_url, new_page, path):
    recorded = new_page()
    page = recorded.page
    page.set_default_timeout(900_000)
    page.goto(site_url + path)
    expected = page.locator(".tc-cell[data-runnable]").count()
    assert expected > 0
    outputs = page.evaluate("tinycnnSite.runAll()")
    errors = [(i + 1, out["error"]) for i, out in enumerate(outputs) if out["error"]]
    assert not errors, "cell %d of %s failed in the browser:\n%s" % (errors[0][0], path or "index", errors[0][1])
    assert len(outputs) == expected
    # The outputs are now the browser's, for every cell.
    assert page.locator(".tc-output[data-origin=browser]").count() == expected
    assert recorded.foreign_requests() == []
    assert any(url.endswith("/assets/pyodide/pyodide.asm.wasm") for url in recorded.requests)


def _serve_sitemap_for(page, site_url: str) -> None:
    """Material's instant navigation only intercepts links to pages listed in sitemap.xml, matched
    with the port of ``site_url`` from mkdocs.yml; rewrite the listed URLs to the test server's."""
    def handle(route):
        response = route.fetch()
        body = re.sub(r"<loc>https?://[^/<]+/", "<loc>" + site_url, response.text())
        route.fulfill(response=response, body=body)

    page.route("**/sitemap.xml", handle)


def test_instant_navigation_keeps_the_runtime_and_no_request_leaves_the_site(built_site, site_url, new_page):
    recorded = new_page()
    page = recorded.page
    _serve_sitemap_for(page, site_url)
    pages = runnable_pages(built_site)
    page.goto(site_url + pages[0])
    page.evaluate("tinycnnSite.ready()")
    assert page.evaluate("tinycnnSite.run('page_one = 1')")["error"] is None
    target = pages[1] if len(pages) > 1 else pages[0]
    # Material's instant navigation: a click on an internal link swaps the content, no page load.
    page.evaluate("window.__sameDocument = true")
    href = site_url + target
    page.evaluate("(href) => { const a = document.createElement('a'); a.href = href; a.textContent = 'go';"
                  " document.querySelector('.md-content').prepend(a); }", href)
    page.locator(".md-content a", has_text="go").first.click()
    page.wait_for_function("(href) => location.href === href", arg=href)
    page.wait_for_selector(".tc-pagebar")
    assert page.evaluate("window.__sameDocument") is True, "the page was fully reloaded"
    assert page.evaluate("tinycnnSite.state()") == "ready"
    # Each page has its own namespace.
    assert "NameError" in page.evaluate("tinycnnSite.run('page_one')")["error"]
    assert page.evaluate("tinycnnSite.run('2 + 3')")["result"] == "5"
    wasm = [url for url in recorded.requests if url.endswith("pyodide.asm.wasm")]
    assert len(wasm) == 1, wasm
    assert recorded.foreign_requests() == []
    assert any(url.startswith(site_url + "assets/pyodide/") for url in recorded.requests)


def test_blocked_runtime_shows_message_and_keeps_build_outputs(built_site, site_url, new_page):
    recorded = new_page()
    page = recorded.page
    page.context.route("**/assets/pyodide/**", lambda route: route.abort("blockedbyclient"))
    path = first_page(built_site)
    page.goto(site_url + path)
    build_outputs = page.evaluate(
        "Array.from(document.querySelectorAll('.tc-cell .tc-output')).map((o) => o.innerHTML)")
    assert any(build_outputs), "the build rendered no output on %s" % path
    with pytest.raises(Exception, match="could not load the Python runtime"):
        page.evaluate("tinycnnSite.ready()")
    page.locator(".tc-cell[data-runnable]").nth(0).get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function("document.querySelector('.tc-pagebar').dataset.state === 'failed'")
    status = status_text(page)
    assert "Python could not be loaded" in status and "computed when this site was built" in status
    page.wait_for_timeout(300)
    after = page.evaluate(
        "Array.from(document.querySelectorAll('.tc-cell .tc-output')).map((o) => o.innerHTML)")
    assert after == build_outputs
    assert recorded.foreign_requests() == []


def test_modern_pyodide_boots_with_the_same_glue_and_reports_missing_numpy(built_site, new_page, serve,
                                                                           npm_fetch):
    modern = npm_fetch("pyodide@314.0.7")
    server = serve({"/": built_site, "/modern-pyodide/": modern})
    recorded = new_page(init_script="window.tinycnnSiteOptions = {runtimeURL: '/modern-pyodide/'};")
    page = recorded.page
    page.goto(server.url + first_page(built_site))
    with pytest.raises(Exception) as raised:
        page.evaluate("tinycnnSite.ready()")
    message = str(raised.value)
    # It booted (the version comes from the running interpreter) and names what is missing.
    assert re.search(r"Pyodide 314\.0\.7, loaded from http://127\.0\.0\.1:\d+/modern-pyodide/", message), message
    assert "has no NumPy package, and tinycnn needs NumPy" in message
    assert "has no NumPy" in status_text(page)
    assert any(url.endswith("/modern-pyodide/pyodide.asm.wasm") for url in recorded.requests)
    assert recorded.foreign_requests() == []
