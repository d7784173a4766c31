"""What a reader downloads on a first view (empty cache, no interaction) stays within budget, and
the figure variant of the other colour scheme is never downloaded.

Budgets (issue 11): at most 1,000 kB transferred per page in all; a chapter's HTML at most 300 kB
(the file; tests/site/test_figures.py). Bytes are counted as Playwright reports them
(``request.sizes()``: headers + body as sent) from a server that compresses text like a static
host does (``scripts/site_server.py``).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["", "convolution", "pooling", "stacking", "flattening", "fully-connected", "recap",
         "training", "keras-program", "notebooks/cnn-from-scratch", "api", "in-browser", "404.html"]
FIRST_VIEW_BUDGET = 1_000_000
#: The Python runtime (Pyodide, the worker, tinycnn's wheel, data) loads only on the reader's intent
#: (docs/javascripts/intent.js): a first view without interaction must not request any of it.
RUNTIME = re.compile(r"/assets/pyodide/|/tinycnn-worker\.js|\.whl$|/assets/tinycnn/[^/]+\.py$|/assets/data/.*\.npz$")


@pytest.fixture(scope="module")
def gzip_site_url(built_site):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from site_server import serve
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    server = serve(built_site)
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


def palette_script(scheme: str) -> str:
    index = 0 if scheme == "default" else 1
    media = "(prefers-color-scheme: %s)" % ("light" if index == 0 else "dark")
    value = json.dumps({"index": index, "color": {"media": media, "scheme": scheme,
                                                  "primary": "indigo", "accent": "amber"}})
    return "localStorage.setItem('/.__palette', %s);" % json.dumps(value)


def fresh_context(browser, width: int, init_script: str):
    """A new browser context (empty cache) at this width, a phone's height below 500 px."""
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 844})
    context.add_init_script(init_script)
    return context


def first_view(browser, url: str, width: int, scheme: str = "default", scroll: bool = False):
    """[(url, bytes)] of every finished request of one fresh visit (new context: empty cache)."""
    context = fresh_context(browser, width, palette_script(scheme))
    page = context.new_page()
    page.set_default_timeout(90_000)  # a busy 2-core machine: /api/ took > 30 s to load once
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    try:
        page.goto(url, wait_until="load")
        page.wait_for_timeout(2500)  # idle-time work (search index, lazy images in view)
        if scroll:
            height = page.evaluate("document.body.scrollHeight")
            for y in range(0, height, 600):
                page.mouse.wheel(0, 600)
                page.wait_for_timeout(60)
            page.wait_for_timeout(800)
        sizes = []
        for request in finished:
            size = request.sizes()
            sizes.append((request.url, size["responseHeadersSize"] + size["responseBodySize"]))
        return sizes
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_first_view_of_every_page_is_within_budget(browser, gzip_site_url, width):
    over = {}
    for slug in PAGES:
        sizes = first_view(browser, gzip_site_url + slug, width)
        runtime = [url for url, _ in sizes if RUNTIME.search(url)]
        assert not runtime, "/%s requested the Python runtime before any intent: %s" % (slug, runtime[:5])
        counted = sizes
        total = sum(size for _, size in counted)
        assert all(url.startswith(gzip_site_url) or url.startswith("data:") for url, _ in sizes)
        if total > FIRST_VIEW_BUDGET:
            largest = sorted(counted, key=lambda item: -item[1])[:6]
            over["/" + slug] = "%d bytes: %s" % (total, ", ".join(
                "%s %d" % (url[len(gzip_site_url):], size) for url, size in largest))
    assert not over, "\n".join("%s %s" % item for item in over.items())


@pytest.mark.parametrize("scheme, shown, hidden", [("default", "tc-figure-light", "tc-figure-dark"),
                                                   ("slate", "tc-figure-dark", "tc-figure-light")])
def test_only_the_figures_of_the_current_scheme_are_downloaded(browser, gzip_site_url, built_site,
                                                               scheme, shown, hidden):
    text = (built_site / "convolution" / "index.html").read_text(encoding="utf-8")
    files = {cls: set(re.findall(r'<img class="tc-image %s" src="\.\./([^"]+)"' % cls, text))
             for cls in (shown, hidden)}
    assert len(files[shown]) >= 3 and len(files[hidden]) == len(files[shown])
    sizes = first_view(browser, gzip_site_url + "convolution/", 1280, scheme, scroll=True)
    fetched = {url[len(gzip_site_url):] for url, _ in sizes}
    assert files[shown] <= fetched, files[shown] - fetched      # scrolled past: all were shown
    assert not files[hidden] & fetched, files[hidden] & fetched


#: Layout-shift entries (the browser's own measure, as Lighthouse's "cumulative layout shift"),
#: each with the elements that moved.
LAYOUT_SHIFTS = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.__shifts.push({ value: entry.value, moved: (entry.sources || []).map((source) => {
      const node = source.node;
      return node && node.nodeType === 1 ? node.tagName + "." + node.className : String(node && node.nodeName);
    }) });
  }
}).observe({ type: "layout-shift", buffered: true });
"""


@pytest.mark.parametrize("width", [360, 390, 412, 600, 768, 1280])
def test_nothing_moves_while_a_first_view_loads(browser, gzip_site_url, width):
    """The scripts that take over the page (the cells' toolbars, the page bar, the theme's widgets)
    move none of what a reader is already looking at: the page bar keeps its height when filled
    (docs/stylesheets/runtime.css) and the toolbars are in the built page."""
    moved = {}
    for slug in ["", "convolution", "training", "recap", "keras-program"]:
        context = fresh_context(browser, width, LAYOUT_SHIFTS)
        page = context.new_page()
        page.set_default_timeout(90_000)
        try:
            page.goto(gzip_site_url + slug, wait_until="load")
            page.wait_for_function("document.querySelector('.tc-pagebar .tc-runall') !== null")
            page.wait_for_timeout(1500)  # the scripts' later work (intent controls, saved work)
            shifts = page.evaluate("window.__shifts")
        finally:
            context.close()
        total = sum(shift["value"] for shift in shifts)
        if total > 0.01:  # Lighthouse rates a cumulative shift below 0.1 good; this page moves none
            moved["/" + slug] = "%.3f: %s" % (total, shifts)
    assert not moved, "\n".join("%s %s" % item for item in moved.items())
