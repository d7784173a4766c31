"""The site's service worker (docs/hooks/offline.py, docs/hooks/sw.js, docs/javascripts/offline.js).

Oracles: the network itself (Playwright's offline mode; the test server's log of what it sent),
hand-worked numbers (the convolution example prints -7), Python semantics (a variable defined
before a Stop still exists after it), the browser's own checks (crossOriginIsolated, Chromium's
installability errors for the web app manifest), and the two builds' files on disk.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import time
from pathlib import Path
from typing import List

import pytest

from .test_runtime import CONVOLUTION_EXAMPLE, _start_infinite_loop, first_page, wait_for_editors

pytestmark = pytest.mark.browser

HOOK = Path(__file__).resolve().parents[2] / "docs" / "hooks" / "offline.py"


def load_hook():
    spec = importlib.util.spec_from_file_location("tinycnn_offline_hook", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def _first_view_bytes(server, new_page, url_path: str, **options):
    recorded = new_page(init_script=NO_INTENT, **options)
    page = recorded.page
    start = len(server.log)
    page.goto(server.url + url_path, wait_until="load")
    if options.get("service_workers") != "block":
        wait_controlled(page)
        poll(page, "tinycnnOffline.status().then((s) => s && s.cachedFiles > 0)", what="the kept page")
    page.wait_for_timeout(1500)  # anything late (the search index) is in the log too
    log = server.log[start:]
    return page, recorded, log


@pytest.mark.parametrize("url_path", ["", "convolution/", "training/"])
def test_first_view_with_the_worker_downloads_nothing_extra(built_site, serve, new_page, url_path):
    server = serve({"/": built_site})
    _, _, without = _first_view_bytes(server, new_page, url_path, service_workers="block")
    page, recorded, with_sw = _first_view_bytes(server, new_page, url_path)
    sw_size = (built_site / "sw.js").stat().st_size
    fetched = sorted(path for path, status, _ in with_sw if status == 200)
    # The same files as without a worker, plus the worker itself: nothing is fetched for the cache.
    assert sorted(set(fetched) - {"/sw.js"}) == sorted({path for path, status, _ in without if status == 200})
    assert sum(sent for _, _, sent in with_sw) <= sum(sent for _, _, sent in without) + sw_size
    assert not any("/assets/pyodide/" in path for path in fetched)
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
    first = _start_infinite_loop(page)  # defines kept = 123, then runs `while True: pass`, Stop
    assert "KeyboardInterrupt" in first.locator(".tc-output .tc-error").inner_text()
    assert page.evaluate("tinycnnSite.run('kept + 1')")["result"] == "124"
    assert recorded.foreign_requests() == []


# ----------------------------------------------------------------------------------------------
# Updates
# ----------------------------------------------------------------------------------------------
def second_build(site: Path, folder: Path, marker: str) -> Path:
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
    hook = load_hook()
    hook.on_post_build({"site_dir": str(folder), "site_name": "tinycnn", "site_description": "",
                        "theme": {"palette": [{"primary": "indigo"}]}, "extra": {"tinycnn": {}}})
    return folder


def _visit_and_save(server, new_page, path):
    recorded = new_page()
    page = recorded.page
    page.goto(server.url + path)
    page.evaluate("tinycnnSite.ready()")
    wait_saved(page)
    return recorded, page


def test_a_new_deploy_shows_within_two_reloads_and_reuses_unchanged_files(built_site, serve, new_page, tmp_path):
    first = sw_config(built_site)
    second = second_build(built_site, tmp_path / "second", "Updated:")
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
    assert fetched == {"/sw.js"} | {"/" + p for p in changed}, fetched
    # Offline, the new build (page and runtime) is what opens.
    page.context.set_offline(True)
    page.goto(server.url + "convolution/")
    assert page.locator("article h1").inner_text().startswith("Updated:")
    assert recorded.foreign_requests() == []


def test_the_update_notice_reloads_into_the_new_version(built_site, serve, new_page, tmp_path):
    second = second_build(built_site, tmp_path / "second", "Updated:")
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


# ----------------------------------------------------------------------------------------------
# Installable
# ----------------------------------------------------------------------------------------------
def test_the_site_is_installable_and_its_start_url_opens_offline(built_site, serve, new_page):
    server = serve({"/": built_site})
    recorded = new_page()
    page = recorded.page
    page.goto(server.url + "convolution/")
    wait_controlled(page)
    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"] == server.url + "manifest.webmanifest"
    assert manifest["errors"] == []
    parsed = json.loads(manifest["data"])
    assert parsed["start_url"] == "./" and parsed["scope"] == "./"
    assert {(icon["sizes"], icon["purpose"]) for icon in parsed["icons"]} == {
        ("192x192", "any"), ("192x192", "maskable"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in {icon["src"] for icon in parsed["icons"]}:
        from PIL import Image

        size = int(re.search(r"(\d+)\.png$", icon).group(1))
        with Image.open(built_site / icon) as image:
            assert image.size == (size, size)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    # The installed app starts at start_url: it opens offline (it was kept on the first visit).
    page.goto(server.url)
    page.context.set_offline(True)
    assert page.goto(server.url + "./").status == 200
    assert page.locator("article h1").count() == 1
    assert recorded.foreign_requests() == []
