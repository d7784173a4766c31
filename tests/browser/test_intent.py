"""Python on intent, the editor's keyboard hint and the demos' focus rings, in Chromium.

Oracles: the request log (Playwright sees every request of the page and its workers: nothing of
the Python runtime before the reader shows intent), the built site's runtime.json (the sizes the
page must announce), the page's own state and events, and WCAG's contrast formula for focus rings.
"""
from __future__ import annotations

import json
import re
from typing import List

import pytest

pytestmark = pytest.mark.browser

#: Files that only Python (or the editor) needs: none may be requested before intent. The small
#: assets/tinycnn/runtime.json (sizes and versions for the page bar) and the demos' drawing data
#: (article_model.json, digits_model.json) are what the page needs to render, and are allowed.
RUNTIME_FILES = re.compile(
    r"/assets/pyodide/|/assets/codemirror/|/javascripts/tinycnn-worker\.js|/javascripts/demos/demos\.py"
    r"|/assets/tinycnn/(?!runtime\.json|exercises\.json)|/assets/data/(digits\.npz|digits_model\.npz|grace_hopper)")

SAVE_DATA = """Object.defineProperty(Navigator.prototype, "connection", {configurable: true,
    get: () => ({saveData: true, effectiveType: "4g", addEventListener() {}, removeEventListener() {}})});"""


def runtime_requests(urls: List[str]) -> List[str]:
    return [url for url in urls if RUNTIME_FILES.search(url.split("?", 1)[0])]


def open_and_read(page, url: str) -> None:
    """Open a page as a reader who only reads: wait until the network is quiet, scroll to the end
    (without the pointer over the content) and wait again, so that anything deferred would show."""
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("(document.querySelector('.tc-pagebar .tc-version') || {}).textContent")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # longer than the old browser-idle warm-up took to start


def wait_for_python(page) -> None:
    page.wait_for_function("tinycnnSite.state() === 'ready'")


def expected_download_mb(built_site) -> str:
    """What the first load downloads, from the built runtime.json (Pyodide, NumPy, wheel, data)."""
    m = json.loads((built_site / "assets" / "tinycnn" / "runtime.json").read_text())
    total = (m["runtime"]["sizes"]["runtime"] + m["runtime"]["sizes"]["numpy"] + m["wheelSize"]
             + sum(item["size"] for item in m["data"]))
    return "%.1f MB" % (total / 1e6)


@pytest.mark.parametrize("path", ["", "convolution/", "training/"])
def test_reading_a_page_downloads_nothing_of_python(site_url, new_page, path):
    recorded = new_page()
    page = recorded.page
    open_and_read(page, site_url + path)
    assert runtime_requests(recorded.requests) == []
    assert page.evaluate("tinycnnSite.state()") == "idle"
    # the cells show the build's highlighted code until then, and the demos say how to start them
    cells = page.locator(".tc-cell[data-runnable]")
    assert cells.count() > 0
    assert page.locator(".tc-cell[data-runnable] .highlight").count() == cells.count()
    kinds = page.eval_on_selector_all(".tcd-demo .tcd-status", "s => s.map(x => x.dataset.kind)")
    if path in ("", "convolution/"):
        # every demo that computes says how to start it; a file picker (the reader's own image)
        # has an empty status until it is used
        assert "waiting" in kinds and set(kinds) <= {"waiting", None}, kinds
    assert page.get_by_role("button", name="Load Python now").is_visible()
    assert recorded.foreign_requests() == []


def _hover_cell(page):
    page.locator(".tc-cell[data-runnable]").first.hover()


def _focus_cell(page):
    page.locator(".tc-cell[data-runnable]").first.get_by_role("button", name="Copy", exact=True).focus()


def _touch_cell(page):
    page.locator(".tc-cell[data-runnable] .highlight").first.tap()


def _run(page):
    # a click event alone (no pointer movement, no focus): Run itself is the intent
    page.locator(".tc-cell[data-runnable]").first.get_by_role("button", name="Run", exact=True).dispatch_event("click")


def _load_now(page):
    page.get_by_role("button", name="Load Python now").dispatch_event("click")


def _hover_demo(page):
    page.locator("#convolution-demo").hover(position={"x": 5, "y": 5})


def _focus_demo(page):
    page.locator("#convolution-demo select").first.focus()


def _touch_demo(page):
    page.locator("#convolution-demo").tap(position={"x": 5, "y": 5})


INTENTS = {"pointer over a cell": _hover_cell, "focus in a cell": _focus_cell, "touch on a cell": _touch_cell,
           "Run": _run, "Load Python now": _load_now, "pointer over a demo": _hover_demo,
           "focus in a demo": _focus_demo, "touch on a demo": _touch_demo}


@pytest.mark.parametrize("intent", list(INTENTS))
def test_each_kind_of_intent_loads_python(site_url, new_page, intent):
    recorded = new_page(has_touch=intent.startswith("touch"))
    page = recorded.page
    open_and_read(page, site_url + "convolution/")
    assert runtime_requests(recorded.requests) == []
    INTENTS[intent](page)
    wait_for_python(page)
    assert any(url.endswith("/assets/pyodide/pyodide.asm.wasm") for url in recorded.requests)
    # the editors came with it
    page.wait_for_function("document.querySelectorAll('.tc-cell[data-runnable]:not(.tc-enhanced)').length === 0")
    assert page.locator(".tc-cell[data-runnable] .CodeMirror").count() == page.locator(".tc-cell[data-runnable]").count()
    assert page.get_by_role("button", name="Load Python now").is_disabled()
    if intent == "Run":  # and the cell ran, in the browser: the article's window gives -7 in its products
        first = page.locator(".tc-cell[data-runnable]").first
        page.wait_for_function("(el) => el.querySelector('.tc-output').dataset.origin === 'browser'",
                               arg=first.element_handle())
    if intent.endswith("demo"):  # the demo computed: the article's -7
        page.wait_for_function("document.querySelector('#convolution-demo .tcd-status').dataset.kind === 'ok'")
        assert page.inner_text("#convolution-demo .tcd-equals").strip() == "= \u22127"
    assert recorded.foreign_requests() == []


def test_loading_and_ready_events_are_dispatched(site_url, new_page):
    recorded = new_page(init_script="""window.__events = [];
        for (const name of ["tinycnn:runtime-loading", "tinycnn:runtime-ready"]) {
          document.addEventListener(name, (e) => window.__events.push([name, e.detail,
            (window.tinycnnSite && tinycnnSite.state()) || null]));
        }""")
    page = recorded.page
    open_and_read(page, site_url + "convolution/")
    assert page.evaluate("window.__events") == []
    info = page.evaluate("tinycnnSite.loadPython()")
    events = page.evaluate("window.__events")
    assert [name for name, _, _ in events] == ["tinycnn:runtime-loading", "tinycnn:runtime-ready"]
    assert events[0][2] == "loading" and events[1][2] == "ready"
    assert events[1][1]["info"]["numpy"] == info["numpy"] == "1.17.5"


def test_the_preference_loads_python_on_every_page_and_is_remembered(built_site, site_url, new_page):
    recorded = new_page()
    page = recorded.page
    open_and_read(page, site_url + "pooling/")
    box = page.get_by_label(re.compile("Load Python whenever I open a page"))
    assert not box.is_checked()
    # the choice says what it costs: the first load's size, from the built runtime.json
    assert expected_download_mb(built_site) in page.inner_text(".tc-always")
    box.check()
    wait_for_python(page)
    assert page.evaluate("localStorage.getItem('tinycnn.loadPython')") == "on-open"

    # a new page load, no interaction at all: Python loads by itself
    page.mouse.move(0, 0)  # over the header, away from any cell or demo
    recorded.requests.clear()
    page.reload()
    page.wait_for_function("tinycnnSite.state() !== 'idle'")
    wait_for_python(page)
    assert page.get_by_label(re.compile("Load Python whenever I open a page")).is_checked()
    assert any(url.endswith("/assets/pyodide/pyodide.js") for url in recorded.requests)

    # turned off, the next load downloads nothing again
    page.get_by_label(re.compile("Load Python whenever I open a page")).uncheck()
    page.mouse.move(0, 0)
    recorded.requests.clear()
    open_and_read(page, site_url + "pooling/")
    assert page.evaluate("tinycnnSite.state()") == "idle"
    assert runtime_requests(recorded.requests) == []


def test_save_data_blocks_automatic_loading_but_not_intent(site_url, new_page):
    recorded = new_page(init_script=SAVE_DATA)
    page = recorded.page
    open_and_read(page, site_url + "convolution/")
    assert page.evaluate("navigator.connection.saveData") is True
    box = page.get_by_label(re.compile("Load Python whenever I open a page"))
    assert "not while your browser asks to save data" in page.inner_text(".tc-always")
    box.check()  # remembered, but not applied while saving data
    page.wait_for_timeout(1000)
    assert page.evaluate("tinycnnSite.state()") == "idle"
    page.mouse.move(0, 0)
    recorded.requests.clear()
    open_and_read(page, site_url + "convolution/")
    assert page.evaluate("localStorage.getItem('tinycnn.loadPython')") == "on-open"
    assert page.evaluate("tinycnnSite.state()") == "idle"
    assert runtime_requests(recorded.requests) == []
    _hover_cell(page)  # intent still loads Python
    wait_for_python(page)
    assert any(url.endswith("/assets/pyodide/pyodide.asm.wasm") for url in recorded.requests)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_editor_says_how_to_leave_it_while_it_has_the_focus(site_url, new_page, width):
    page = new_page(viewport={"width": width, "height": 900}).page
    page.goto(site_url + "convolution/")
    page.evaluate("tinycnnSite.loadPython()")
    page.wait_for_function("document.querySelectorAll('.tc-cell[data-runnable]:not(.tc-enhanced)').length === 0")
    cell = page.locator(".tc-cell[data-runnable]").first
    hint = cell.locator(".tc-editor-hint")
    assert not hint.is_visible()
    toolbar_height = cell.locator(".tc-toolbar").bounding_box()["height"]
    cell.locator(".CodeMirror").click()
    assert hint.is_visible()
    assert hint.inner_text().split() == "Esc then Tab leaves the editor".split()
    # the editor's input is described by the hint (screen readers read it too)
    described = page.evaluate("document.activeElement.getAttribute('aria-describedby')")
    assert described and page.evaluate("(id) => document.getElementById(id).textContent", described) == \
        "Esc then Tab leaves the editor"
    assert cell.locator(".tc-toolbar").bounding_box()["height"] == toolbar_height  # nothing below moves
    # and the hint is right: Esc, then Tab, and the focus is out of the editor
    page.keyboard.press("Escape")
    assert not hint.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("!document.activeElement.closest('.CodeMirror')")
    assert page.evaluate("(el) => el.contains(document.activeElement)", cell.element_handle())


def test_home_page_tells_how_to_leave_an_editor(built_site):
    html = (built_site / "index.html").read_text(encoding="utf-8")
    section = html[html.index('id="how-to-read-this-site"'):]
    text = re.sub(r"<[^>]+>", "", section)
    assert re.search(r"press Esc then\s+Tab to leave it", text), text[:800]


# ------------------------------------------------------------------------------------------------
# Keyboard: every control of every demo is reached with Tab and shows a visible focus ring

RING = """(sel) => {
  const a = document.activeElement, demo = document.querySelector(sel);
  if (!demo.contains(a)) return null;
  const s = getComputedStyle(a);
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
      .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const bg = rgb(getComputedStyle(document.body).backgroundColor);
  const [l1, l2] = [lum(rgb(s.outlineColor)), lum(bg)].sort((x, y) => y - x);
  return {what: a.tagName + "." + (a.className || "") + " " + (a.getAttribute("aria-label") || a.textContent).slice(0, 30),
          style: s.outlineStyle, width: parseFloat(s.outlineWidth), contrast: (l1 + 0.05) / (l2 + 0.05),
          visible: a.matches(":focus-visible")};
}"""

DEMOS = [("convolution/", "#convolution-demo", 12), ("pooling/", "#pooling-demo", 6),
         ("training/", "#training-demo", 3), ("training/", "#draw-digit-demo", 4), ("", "#architecture-demo", 9)]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path,demo,at_least", DEMOS)
def test_every_demo_control_is_reached_by_tab_with_a_visible_focus_ring(site_url, new_page, path, demo,
                                                                          at_least, scheme):
    page = new_page().page
    page.emulate_media(color_scheme=scheme)
    page.goto(site_url + path)
    page.evaluate("tinycnnSite.loadPython()")  # first, so that no demo redraws itself under the walk
    page.wait_for_function("(sel) => { const s = document.querySelector(sel + ' .tcd-status');"
                           " return s && !['waiting', 'busy'].includes(s.dataset.kind); }", arg=demo)
    # start just before the demo, then Tab through it
    page.evaluate("""(sel) => { const b = document.createElement('button'); b.textContent = 'start';
        document.querySelector(sel).before(b); b.focus(); }""", demo)
    rings = []
    for _ in range(80):
        page.keyboard.press("Tab")
        ring = page.evaluate(RING, demo)
        if ring is None:
            break
        rings.append(ring)
    assert len(rings) >= at_least, rings
    for ring in rings:
        assert ring["visible"] and ring["style"] != "none" and ring["width"] >= 2, ring
        assert ring["contrast"] >= 3, ring  # WCAG 1.4.11: 3:1 against the page


def test_the_readers_page_states_the_sizes_of_the_built_site(built_site):
    """docs/running.md tells readers what Python downloads: its numbers are the built files'."""
    m = json.loads((built_site / "assets" / "tinycnn" / "runtime.json").read_text())
    sizes = m["runtime"]["sizes"]
    editor = sum(p.stat().st_size for p in (built_site / "assets" / "codemirror").rglob("*") if p.is_file())
    expected = {
        "the Python runtime (Pyodide 0.17)": sizes["runtime"],
        "NumPy": sizes["numpy"],
        "tinycnn and its data (the 8×8 digits)": m["wheelSize"] + sum(item["size"] for item in m["data"]),
        "Python, in all": sizes["runtime"] + sizes["numpy"] + m["wheelSize"] + sum(item["size"] for item in m["data"]),
        "the code editor, with Python (until then the code is shown as text)": editor,
        "matplotlib, only when a cell imports it (the figures)": sizes["load:matplotlib"],
    }
    html = (built_site / "running" / "index.html").read_text(encoding="utf-8")
    rows = {re.sub(r"<[^>]+>", "", a).strip(): re.sub(r"<[^>]+>", "", b).strip()
            for a, b in re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*</tr>", html, re.S)}
    for step, size in expected.items():
        assert rows.get(step) == "%.1f MB" % (size / 1e6), (step, rows.get(step), size)
