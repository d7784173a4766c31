"""Fixtures for the browser tests: the built site served on 127.0.0.1 and Debian's Chromium.

Everything stays on this machine: the server listens on 127.0.0.1 (port 0: the OS picks a free
port), Chromium is started with its background networking off, and every request a page makes
(including the Web Worker's) is recorded so that a test can assert none left 127.0.0.1.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from typing import Dict, Iterator, List, Optional
from urllib.parse import urlsplit

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

#: How long a test waits for Python to load and a cell to run (ms).
LOAD_TIMEOUT_MS = 90_000


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serve several folders under URL prefixes, optionally cross-origin isolated, optionally
    answering a missing path with a 404 page (as GitHub Pages serves the site's 404.html)."""

    mounts: Dict[str, Path] = {}
    isolated = False
    not_found: Optional[Path] = None
    extra_headers: Dict[str, str] = {}

    def translate_path(self, path: str) -> str:
        url_path = urlsplit(path).path
        for prefix, folder in sorted(self.mounts.items(), key=lambda item: -len(item[0])):
            if url_path.startswith(prefix):
                rest = url_path[len(prefix):]
                handler = functools.partial(http.server.SimpleHTTPRequestHandler.translate_path, self)
                self.directory = str(folder)
                return handler("/" + rest)
        return str(Path(self.directory) / "__missing__")

    def end_headers(self) -> None:
        if self.isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def send_error(self, code, message=None, explain=None):
        if code != 404 or self.not_found is None or not self.not_found.exists():
            return super().send_error(code, message, explain)
        body = self.not_found.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code="-", size="-") -> None:
        # What the server sent: (path, status, bytes of the file for a 200), for the tests that
        # count what a visit downloads (see SiteServer.log).
        sent = 0
        if str(code) == "200" and self.command == "GET":
            path = self.translate_path(self.path)
            if os.path.isdir(path):
                path = os.path.join(path, "index.html")
            sent = os.path.getsize(path) if os.path.isfile(path) else 0
        self.server.log.append((urlsplit(self.path).path, int(code) if str(code).isdigit() else 0, sent))

    def log_message(self, *args) -> None:  # keep test output readable
        pass


class SiteServer:
    """A threaded HTTP server on 127.0.0.1 serving ``mounts`` (URL prefix -> folder)."""

    def __init__(self, mounts: Dict[str, Path], isolated: bool = False,
                 not_found: Optional[Path] = None, headers: Optional[Dict[str, str]] = None) -> None:
        handler = type("Handler", (_Handler,), {"mounts": dict(mounts), "isolated": isolated,
                                                "not_found": not_found,
                                                "extra_headers": dict(headers or {})})
        handler.extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map)
        handler.extensions_map.update({".wasm": "application/wasm", ".js": "text/javascript",
                                       ".mjs": "text/javascript", ".data": "application/octet-stream"})
        self.handler = handler
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.log = []  # (URL path, status, bytes) of every request served
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def log(self) -> List[tuple]:
        return self.httpd.log

    def bytes_sent(self) -> int:
        return sum(sent for _, _, sent in self.httpd.log)

    def mount(self, prefix: str, folder: Path) -> None:
        """Serve another folder under ``prefix`` from now on (e.g. a new build at the same address)."""
        self.handler.mounts[prefix] = Path(folder)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """Base URL of the built site, served on 127.0.0.1 (not cross-origin isolated)."""
    server = SiteServer({"/": built_site})
    yield server.url
    server.close()


@pytest.fixture(scope="session")
def isolated_site_url(built_site: Path) -> Iterator[str]:
    """The built site served with COOP/COEP headers (``crossOriginIsolated`` is true)."""
    server = SiteServer({"/": built_site}, isolated=True)
    yield server.url
    server.close()


@pytest.fixture()
def serve() -> Iterator[object]:
    """Factory: ``serve({url_prefix: folder}, isolated=False, headers=None)`` -> SiteServer (closed
    after the test); ``headers`` are sent with every response (e.g. a CDN's CORS header)."""
    servers: List[SiteServer] = []

    def make(mounts: Dict[str, Path], isolated: bool = False, headers: Optional[Dict[str, str]] = None) -> SiteServer:
        server = SiteServer(mounts, isolated=isolated, headers=headers)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Debian's chromium is needed for the browser tests: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class RecordedPage:
    """A Playwright page plus every request URL it (and its workers) made and its console errors.

    ``requests``: what the page and its Web Workers asked for (served by the network or by the
    site's service worker); ``sw_requests``: what the service worker itself fetched from the network.
    """

    def __init__(self, context, page) -> None:
        self.context = context
        self.page = page
        self.requests: List[str] = []
        self.sw_requests: List[str] = []
        self.console: List[str] = []
        context.on("request", lambda request: (
            self.sw_requests if request.service_worker else self.requests).append(request.url))
        page.on("console", lambda message: self.console.append("%s: %s" % (message.type, message.text)))
        page.on("pageerror", lambda error: self.console.append("pageerror: %s" % error))

    def foreign_requests(self) -> List[str]:
        allowed = ("data:", "blob:", "http://127.0.0.1:", "about:")
        return [url for url in self.requests + self.sw_requests if not url.startswith(allowed)]


@pytest.fixture()
def new_page(browser, request) -> Iterator[object]:
    """Factory: ``new_page(init_script=None, viewport=None, **context_options)`` -> RecordedPage
    (closed after the test); ``context_options`` go to ``browser.new_context`` (e.g. has_touch).

    The offline service worker is blocked unless the test module sets ``SERVICE_WORKERS = "allow"``
    (test_offline.py): once Python loads it caches the whole site (~50 MB) in the background, which
    only the offline tests look at and which every other test would pay for in time."""
    opened: List[RecordedPage] = []
    service_workers = getattr(request.module, "SERVICE_WORKERS", "block")

    def make(init_script: Optional[str] = None, viewport: Optional[dict] = None, **options) -> RecordedPage:
        options.setdefault("service_workers", service_workers)
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, **options)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        recorded = RecordedPage(context, page)
        opened.append(recorded)
        return recorded

    yield make
    for recorded in opened:
        recorded.context.close()
