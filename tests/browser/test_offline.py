"""The site's service worker (docs/hooks/offline.py, docs/hooks/sw.js, docs/javascripts/offline.js).

Oracles: the network itself (Playwright's offline mode; the test server's log of what it sent),
hand-worked numbers (the convolution example prints -7), Python semantics (a variable defined
before a Stop still exists after it), the browser's own checks (crossOriginIsolated, Chromium's
installability errors for the web app manifest), and the two builds' files on disk.
"""
from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import List
from urllib.parse import urlsplit

import pytest

from .pages import CONVOLUTION_EXAMPLE, start_infinite_loop, first_page, point_at, wait_for_editors

SERVICE_WORKERS = "allow"  # conftest.new_page blocks the service worker elsewhere

pytestmark = pytest.mark.browser

def site_pages(site: Path) -> List[str]:
    """URL paths (relative to the site root) of every page of the built site."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        folder = html.parent.relative_to(site).as_posix()
        pages.append("" if folder == "." else folder + "/")
    return pages


def sw_config(site: Path) -> dict:
    text = (site / "sw.js").read_text(encoding="utf-8")
    return json.loads(re.search(r"/\*CONFIG\*/(.*?)/\*END\*/", text, re.S).group(1))


def poll(page, expression: str, timeout_s: float = 120.0, what: str = ""):
    """Evaluate ``expression`` (it may return a promise) until it is truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or expression}")
        page.wait_for_timeout(250)


def wait_controlled(page) -> None:
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def wait_saved(page) -> dict:
    """Wait until the worker holds every file of its build (the whole course is offline)."""
    return poll(page, "tinycnnOffline.status().then((s) => s && !s.saving && s.cachedFiles === s.files && s)",
                what="the offline copy")


def cache_names(page) -> List[str]:
    return page.evaluate("caches.keys()")


# ----------------------------------------------------------------------------------------------
# Offline after one visit
# ----------------------------------------------------------------------------------------------
def test_after_one_visit_with_python_every_page_opens_offline_and_python_runs(built_site, serve, new_page):
    server = serve({"/": built_site})
    recorded = new_page()
    page = recorded.page
    path = first_page(built_site)
    page.goto(server.url + path)
    page.evaluate("tinycnnSite.ready()")  # Python loaded once: the reader showed intent
    status = wait_saved(page)
    config = sw_config(built_site)
    assert status["build"] == config["build"] and status["files"] == len(config["files"])
    assert status["cachedBytes"] == sum(size for _, size in config["files"].values())
    assert sorted(cache_names(page)) == ["tinycnn-build-" + config["build"], "tinycnn-settings"]
    footer = page.locator(".tc-offline .tc-offline__status")
    assert "Available offline" in footer.inner_text()

    # Each file came from the server once: the page's own downloads (Python's 27 MB) were kept,
    # not downloaded again for the offline copy.
    served = [path for path, code, _ in server.log if code == 200]
    assert sorted({p for p in served if served.count(p) > 1}) == []
    page.context.set_offline(True)
    served_before = len(server.log)
    for url_path in site_pages(built_site):
        response = page.goto(server.url + url_path)
        assert response.status == 200, url_path
        assert page.locator("article h1").count() == 1, url_path
        assert page.evaluate("crossOriginIsolated") is True, url_path
    # A page of the course opens offline and runs Python from the offline copy, in a new document.
    page.goto(server.url + path)
    assert page.evaluate("tinycnnSite.ready()")["numpy"] == "1.17.5"
    out = page.evaluate("(code) => tinycnnSite.run(code)", CONVOLUTION_EXAMPLE)
    assert out["error"] is None and out["stdout"].strip() == "[[-7.]]"
    # ... and the cell on the page itself, with its Run button
    wait_for_editors(page)
    # Nothing reached the server. (Chromium's own update check for the worker script is not cut off
    # by Playwright's offline mode; offline it would simply fail, and the worker carries on.)
    reached = [entry for entry in server.log[served_before:] if entry[0] != "/sw.js"]
    assert reached == [], reached
    assert recorded.foreign_requests() == []


def test_an_address_that_is_not_saved_says_so_offline(built_site, serve, new_page):
    server = serve({"/": built_site})
    page = new_page().page
    page.goto(server.url)
    wait_controlled(page)
    page.context.set_offline(True)
    response = page.goto(server.url + "pooling/")  # never visited, nothing saved yet
    assert response.status == 503
    assert "You are offline" in page.locator("h1").inner_text()
    # The page that was visited (before the worker controlled it) opens offline.
    assert page.goto(server.url).status == 200
    assert page.locator("article h1").count() == 1


# ----------------------------------------------------------------------------------------------
# First view: nothing extra
# ----------------------------------------------------------------------------------------------
NO_INTENT = "window.tinycnnSiteOptions = Object.assign(window.tinycnnSiteOptions || {}, {warmup: false});"


@pytest.mark.parametrize("url_path", ["", "convolution/", "training/"])
def test_first_view_with_the_worker_downloads_nothing_extra(built_site, serve, new_page, url_path):
    server = serve({"/": built_site})
    recorded = new_page(init_script=NO_INTENT)
    page = recorded.page
    page.goto(server.url + url_path, wait_until="load")
    wait_controlled(page)
    poll(page, "tinycnnOffline.status().then((s) => s && s.cachedFiles > 0)", what="the kept page")
    page.wait_for_timeout(1500)  # anything late (the search index) is in the log too
    status = page.evaluate("tinycnnOffline.status()")
    assert status["offline"] is False and status["cachedFiles"] < status["files"]
    # Every file the server sent was asked for by the page itself (or its Web Workers), once; the
    # worker only added itself. What the page used is kept from the browser's HTTP cache.
    served = [path for path, code, _ in server.log if code == 200]
    asked = {urlsplit(url).path for url in recorded.requests}
    assert [path for path in served if path != "/sw.js" and path not in asked] == []
    assert sorted({path for path in served if served.count(path) > 1}) == []
    sizes = {path: sent for path, code, sent in server.log if code == 200}
    assert server.bytes_sent() == sum(sizes.values())
    assert sizes["/sw.js"] == (built_site / "sw.js").stat().st_size
    # What the page used is kept: this page opens offline.
    page.context.set_offline(True)
    assert page.reload().status == 200
    assert page.locator("article h1").count() == 1
    assert recorded.foreign_requests() == []


def test_save_data_saves_nothing_by_itself_but_the_button_works(built_site, serve, new_page):
    server = serve({"/": built_site})
    recorded = new_page(init_script="Object.defineProperty(navigator, 'connection', "
                                    "{value: {saveData: true}, configurable: true});")
    page = recorded.page
    path = first_page(built_site)
    page.goto(server.url + path)
    wait_controlled(page)
    page.evaluate("tinycnnSite.ready()")
    page.wait_for_timeout(2000)
    status = page.evaluate("tinycnnOffline.status()")
    assert status["offline"] is False and status["cachedFiles"] < status["files"]
    other_pages = [p for p in site_pages(built_site) if p and p != path]
    assert not any(logged.startswith("/" + p) for logged, _, _ in server.log for p in other_pages)
    button = page.get_by_role("button", name=re.compile(r"^Make available offline \(\d+ MB\)$"))
    assert "save data" in page.locator(".tc-offline__status").inner_text()
    button.click()
    status = wait_saved(page)
    assert status["offline"] is True
    assert recorded.foreign_requests() == []


# ----------------------------------------------------------------------------------------------
# Stop keeps the page's state once the worker isolates the page
# ----------------------------------------------------------------------------------------------
def test_stop_on_a_second_visit_interrupts_and_keeps_variables(built_site, serve, new_page):
    server = serve({"/": built_site})  # a plain static server: no COOP/COEP headers of its own
    recorded = new_page()
    page = recorded.page
    path = first_page(built_site)
    page.goto(server.url + path)
    assert page.evaluate("crossOriginIsolated") is False
    wait_controlled(page)
    page.reload()
    assert page.evaluate("crossOriginIsolated") is True
    first = start_infinite_loop(page)  # defines kept = 123, then runs `while True: pass`, Stop
    assert "KeyboardInterrupt" in first.locator(".tc-output .tc-error").inner_text()
    assert page.evaluate("tinycnnSite.run('kept + 1')")["result"] == "124"
    assert recorded.foreign_requests() == []


# ----------------------------------------------------------------------------------------------
# Updates
# ----------------------------------------------------------------------------------------------
def second_build(offline_hook, site: Path, folder: Path, marker: str) -> Path:
    """A copy of the built site with one changed page and a changed runtime manifest, and its
    service worker written again by the hook (as a new deploy would be)."""
    shutil.copytree(site, folder, symlinks=True)
    page = folder / "convolution" / "index.html"
    html = page.read_text(encoding="utf-8")
    page.write_text(re.sub(r"(<h1[^>]*>)", r"\1" + marker + " ", html, count=1), encoding="utf-8")
    runtime = folder / "assets" / "tinycnn" / "runtime.json"
    manifest = json.loads(runtime.read_text(encoding="utf-8"))
    manifest["tinycnn"] += "+second"
    runtime.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    offline_hook.write_service_worker(folder, {"extra": {"tinycnn": {}}})
    return folder


def _visit_and_save(server, new_page, path):
    recorded = new_page()
    page = recorded.page
    page.goto(server.url + path)
    page.evaluate("tinycnnSite.ready()")
    wait_saved(page)
    return recorded, page


def test_a_new_deploy_shows_within_two_reloads_and_reuses_unchanged_files(built_site, serve, new_page, tmp_path,
                                                                         hook):
    first = sw_config(built_site)
    second = second_build(hook("offline"), built_site, tmp_path / "second", "Updated:")
    new = sw_config(second)
    assert new["build"] != first["build"]
    changed = {p for p in new["files"] if first["files"].get(p) != new["files"][p]}
    assert changed == {"convolution/index.html", "assets/tinycnn/runtime.json"}

    server = serve({"/": built_site})
    recorded, page = _visit_and_save(server, new_page, "convolution/")
    server.mount("/", second)  # the deploy: same address, new files
    start = len(server.log)
    page.reload()  # 1st reload: the old build still serves, the browser finds the new worker
    assert "Updated:" not in page.locator("article h1").inner_text()
    poll(page, "tinycnnOffline.registration() && tinycnnOffline.registration().waiting !== null",
         what="the new worker to be installed")
    page.locator(".tc-update").wait_for()
    assert "Reload for the new version" in page.locator(".tc-update").inner_text()
    page.reload()  # 2nd reload: the new build
    assert page.locator("article h1").inner_text().startswith("Updated:")
    page.wait_for_function("document.querySelector('.tc-version').textContent.includes('+second')")
    assert page.evaluate("fetch('../assets/tinycnn/runtime.json').then((r) => r.json())")["tinycnn"].endswith("+second")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == server.url + "sw.js"
    # One cache, the new build's, complete; the old one deleted.
    poll(page, "caches.keys().then((k) => k.length === 2)", what="the old cache to go")
    assert sorted(cache_names(page)) == sorted(["tinycnn-build-" + new["build"], "tinycnn-settings"])
    status = page.evaluate("tinycnnOffline.status()")
    assert status["build"] == new["build"] and status["cachedFiles"] == status["files"]
    # Only what changed was downloaded (and the worker): the runtime was copied from the old cache.
    fetched = {path for path, status, _ in server.log[start:] if status == 200}
    # (a page is downloaded by its folder's address, "convolution/", as it is linked)
    assert fetched == {"/sw.js"} | {"/" + re.sub(r"index\.html$", "", p) for p in changed}, fetched
    # Offline, the new build (page and runtime) is what opens.
    page.context.set_offline(True)
    page.goto(server.url + "convolution/")
    assert page.locator("article h1").inner_text().startswith("Updated:")
    assert recorded.foreign_requests() == []


def test_the_update_notice_reloads_into_the_new_version(built_site, serve, new_page, tmp_path, hook):
    second = second_build(hook("offline"), built_site, tmp_path / "second", "Updated:")
    server = serve({"/": built_site})
    recorded, page = _visit_and_save(server, new_page, "convolution/")
    server.mount("/", second)
    # A page stays open while a new version is deployed: the page checks on the next navigation.
    page.evaluate("tinycnnOffline.registration().update()")
    notice = page.locator(".tc-update")
    notice.wait_for()
    assert "Updated:" not in page.locator("article h1").inner_text()
    with page.expect_navigation():
        notice.get_by_role("button", name="Reload for the new version").click()
    assert page.locator("article h1").inner_text().startswith("Updated:")
    assert recorded.foreign_requests() == []


def test_another_tab_keeps_its_build_until_it_reloads(built_site, serve, new_page, tmp_path, hook):
    """Tab A takes the new version; tab B, still showing the old page, is never served the new
    build's files (its runtime.json stays the old one, also from its Python worker) until B reloads;
    then the old build's cache goes."""
    first, second_folder = sw_config(built_site), second_build(hook("offline"), built_site, tmp_path / "second", "Updated:")
    second = sw_config(second_folder)
    server = serve({"/": built_site})
    recorded, tab_a = _visit_and_save(server, new_page, "convolution/")
    tab_b = recorded.context.new_page()
    tab_b.set_default_timeout(120_000)
    tab_b.goto(server.url + "pooling/")
    wait_controlled(tab_b)
    tab_b.evaluate("tinycnnSite.ready()")
    old_version = tab_b.evaluate("fetch('../assets/tinycnn/runtime.json').then((r) => r.json())")["tinycnn"]
    assert not old_version.endswith("+second")
    server.mount("/", second_folder)
    tab_a.evaluate("tinycnnOffline.registration().update()")
    tab_a.locator(".tc-update").wait_for()
    with tab_a.expect_navigation():
        tab_a.locator(".tc-update").get_by_role("button", name="Reload for the new version").click()
    assert tab_a.locator("article h1").inner_text().startswith("Updated:")
    # B: told, and still on its own build, for the page and for its Python worker
    notice = tab_b.locator(".tc-update")
    notice.wait_for()
    assert "keeps the version it opened with" in notice.inner_text()
    for _ in range(3):
        assert tab_b.evaluate("fetch('../assets/tinycnn/runtime.json').then((r) => r.json())")["tinycnn"] == old_version
        tab_b.wait_for_timeout(1000)
    # the page's Python worker asks too (a synchronous request, from the worker's own client)
    code = ("import json\nfrom pyodide import open_url\n"
            "print(json.load(open_url(%r))['tinycnn'])" % (server.url + "assets/tinycnn/runtime.json"))
    worker_sees = tab_b.evaluate("(code) => tinycnnSite.run(code)", code)
    assert worker_sees["error"] is None and worker_sees["stdout"].strip() == old_version, worker_sees
    assert sorted(cache_names(tab_a)) == sorted(["tinycnn-build-" + first["build"], "tinycnn-build-" + second["build"],
                                                 "tinycnn-settings"])  # B still uses the old one
    # B reloads: the new build, and the old cache is deleted
    tab_b.reload()
    assert tab_b.evaluate("fetch('../assets/tinycnn/runtime.json').then((r) => r.json())")["tinycnn"] == old_version + "+second"
    poll(tab_a, "caches.keys().then((k) => k.length === 2)", what="the old build's cache to go")
    assert sorted(cache_names(tab_a)) == sorted(["tinycnn-build-" + second["build"], "tinycnn-settings"])
    assert recorded.foreign_requests() == []


# ----------------------------------------------------------------------------------------------
# Installable
# ----------------------------------------------------------------------------------------------
def test_the_site_is_installable_and_its_start_url_opens_offline(built_site, serve, browser, tmp_path):
    from PIL import Image

    from .conftest import CHROMIUM_ARGS, RecordedPage

    server = serve({"/": built_site})
    # Chromium offers no install in an incognito context (Playwright's default): a real profile.
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        recorded = RecordedPage(context, page)
        page.goto(server.url + "convolution/")
        wait_controlled(page)
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == server.url + "manifest.webmanifest"
        assert manifest["errors"] == []
        parsed = json.loads(manifest["data"])
        assert parsed["start_url"] == "./" and parsed["scope"] == "./" and parsed["display"] == "standalone"
        assert {(icon["sizes"], icon["purpose"]) for icon in parsed["icons"]} == {
            ("192x192", "any"), ("192x192", "maskable"), ("512x512", "any"), ("512x512", "maskable")}
        for icon in {icon["src"] for icon in parsed["icons"]}:
            size = int(re.search(r"(\d+)\.png$", icon).group(1))
            with Image.open(built_site / icon) as image:
                assert image.size == (size, size)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        # The installed app starts at start_url: it opens offline once visited.
        page.goto(server.url)
        context.set_offline(True)
        assert page.goto(server.url + "./").status == 200
        assert page.locator("article h1").count() == 1
        assert recorded.foreign_requests() == []
    finally:
        context.close()


# ----------------------------------------------------------------------------------------------
# A runtime from another origin (a CDN): isolation must not break it
# ----------------------------------------------------------------------------------------------
#: What a CDN sends for Pyodide's files: CORS (the runtime needs it with or without isolation).
CDN_CORS = {"Access-Control-Allow-Origin": "*"}


@pytest.mark.parametrize("isolation, cdn_headers, works", [
    ("credentialless", CDN_CORS, True),   # the default for a runtime URL: no CORP header needed
    ("require-corp", dict(CDN_CORS, **{"Cross-Origin-Resource-Policy": "cross-origin"}), True),
    ("require-corp", CDN_CORS, False),    # require-corp and a host without CORP: Python is blocked
])
def test_a_runtime_from_another_origin_under_isolation(built_site, serve, new_page, tmp_path, hook,
                                                       isolation, cdn_headers, works):
    site = tmp_path / "site"
    shutil.copytree(built_site, site, symlinks=True, ignore=shutil.ignore_patterns("pyodide"))
    cdn = serve({"/pyodide/": built_site / "assets" / "pyodide"}, headers=cdn_headers)  # another port
    hook = hook("offline")
    settings = {"runtime": cdn.url + "pyodide/"}
    if isolation != hook.isolation({"extra": {"tinycnn": settings}}):
        settings["isolation"] = isolation
    assert hook.write_service_worker(site, {"extra": {"tinycnn": settings}})["isolation"] == isolation
    server = serve({"/": site})
    recorded = new_page(init_script="window.tinycnnSiteOptions = {runtimeURL: %s};" % json.dumps(cdn.url + "pyodide/"))
    page = recorded.page
    path = first_page(built_site)
    page.goto(server.url + path)
    wait_controlled(page)
    page.reload()
    assert page.evaluate("crossOriginIsolated") is True
    if not works:
        with pytest.raises(Exception, match="could not load the Python runtime"):
            page.evaluate("tinycnnSite.ready()")
        return
    assert page.evaluate("tinycnnSite.ready()")["pyodide"] == "0.17.0"
    assert any(url.startswith(cdn.url + "pyodide/") for url in recorded.requests)
    first = start_infinite_loop(page)
    assert "KeyboardInterrupt" in first.locator(".tc-output .tc-error").inner_text()
    assert page.evaluate("tinycnnSite.run('kept + 1')")["result"] == "124"
    # The worker keeps only the site's own files, never the CDN's.
    kept = page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
        }
        return urls; }""")
    assert kept and all(url.startswith(server.url) for url in kept), kept
    assert recorded.foreign_requests() == []


# ----------------------------------------------------------------------------------------------
# After a restart: the reader gets the page's state back with one button
# ----------------------------------------------------------------------------------------------
def _set_code(page, index: int, code: str) -> None:
    page.evaluate("([i, code]) => document.querySelectorAll('.tc-cell[data-runnable]')[i]"
                  ".querySelector('.CodeMirror').CodeMirror.setValue(code)", [index, code])


def _run_cell(page, index: int) -> str:
    cell = page.locator(".tc-cell[data-runnable]").nth(index)
    cell.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function("(el) => el.querySelector('.tc-output').dataset.origin === 'browser' && "
                           "!el.classList.contains('tc-running') && !el.classList.contains('tc-queued')",
                           arg=cell.element_handle())
    return cell.locator(".tc-output").inner_text()


def test_after_stop_restarts_python_one_button_replays_the_cells_above(built_site, serve, new_page):
    server = serve({"/": built_site})
    recorded = new_page()
    page = recorded.page
    page.goto(server.url + first_page(built_site))
    assert page.evaluate("crossOriginIsolated") is False  # a first visit: Stop restarts Python
    point_at(page)
    wait_for_editors(page)
    _set_code(page, 0, "kept = 123")
    _set_code(page, 1, "print(kept + 1)")
    _run_cell(page, 0)
    assert _run_cell(page, 1).strip() == "124"
    # A name that no cell above defines is a plain error: no button.
    _set_code(page, 2, "print(not_defined_anywhere)")
    assert "NameError" in _run_cell(page, 2)
    assert page.locator(".tc-cell[data-runnable]").nth(2).locator(".tc-recover").count() == 0

    # Stop on a runaway cell 2: Python restarts; its notice offers the replay.
    _set_code(page, 2, "while True:\n    pass")
    third = page.locator(".tc-cell[data-runnable]").nth(2)
    third.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function("(el) => el.classList.contains('tc-running')", arg=third.element_handle())
    page.wait_for_timeout(500)
    third.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function("(el) => !el.classList.contains('tc-running')", arg=third.element_handle())
    assert "restarted" in third.locator(".tc-notice").inner_text()
    assert third.get_by_role("button", name="Run the cells above, then this one").count() == 1

    # Cell 1 now fails: kept is gone. It says why, and its button replays cells 0 and 1.
    page.wait_for_function("tinycnnSite.state() === 'ready'")
    second = page.locator(".tc-cell[data-runnable]").nth(1)
    out = _run_cell(page, 1)
    assert "NameError" in out
    message = second.locator(".tc-recover").inner_text()
    assert "kept is gone because Python was restarted" in message and "cell" in message
    second.get_by_role("button", name="Run the cells above, then this one").click()
    page.wait_for_function("(el) => el.querySelector('.tc-output').innerText.trim() === '124'",
                           arg=second.element_handle())
    assert page.locator(".tc-cell[data-runnable]").nth(0).locator(".tc-output").get_attribute("data-origin") == "browser"

    # The stopped cell, fixed by the reader, is replayed with the cells above from its notice.
    _set_code(page, 2, "print(kept * 2)")
    third.get_by_role("button", name="Run the cells above, then this one").click()
    page.wait_for_function("(el) => el.querySelector('.tc-output').innerText.trim() === '246'",
                           arg=third.element_handle())
    assert recorded.foreign_requests() == []


def test_under_a_sub_path_the_worker_covers_the_site_and_only_the_site(built_site, serve, new_page):
    server = serve({"/tinycnn/": built_site})
    recorded = new_page()
    page = recorded.page
    page.goto(server.url + "tinycnn/convolution/")
    wait_controlled(page)
    assert page.evaluate("tinycnnOffline.registration().scope") == server.url + "tinycnn/"
    page.reload()
    assert page.evaluate("crossOriginIsolated") is True
    cdp = page.context.new_cdp_session(page)
    assert cdp.send("Page.getAppManifest")["url"] == server.url + "tinycnn/manifest.webmanifest"
    page.context.set_offline(True)
    assert page.reload().status == 200
    assert page.locator("article h1").count() == 1
    assert recorded.foreign_requests() == []
