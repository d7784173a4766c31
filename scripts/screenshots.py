"""Screenshot every page of the built site at desktop and phone width, to look at it.

Serves the built site (default ``./site``) on 127.0.0.1 (a free port), opens each page in
Debian's headless Chromium through Playwright, and saves full-page PNGs to ``--out``
(default ``tmp/screenshots``), named ``<page>-<width>.png``. Tall pages are also cut into
``<page>-<width>-<n>.png`` slices (``--slice`` pixels high) that are easy to view one by one.

Usage::

    mkdocs build --strict && python scripts/screenshots.py
    python scripts/screenshots.py --pages convolution pooling --widths 390 --dark
"""
from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

PAGES = ["", "convolution", "pooling", "stacking", "flattening", "fully-connected", "recap",
         "training", "keras-program", "api", "notebooks/cnn-from-scratch"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the console readable
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):  # the page cancelled a download
            pass


def serve(site: Path) -> http.server.ThreadingHTTPServer:
    """Serve ``site`` on 127.0.0.1 on a free port, in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=Path("site"), help="built site folder")
    parser.add_argument("--out", type=Path, default=Path("tmp/screenshots"))
    parser.add_argument("--pages", nargs="*", default=None,
                        help="page slugs (default: all); use 'index' for the home page")
    parser.add_argument("--widths", nargs="*", type=int, default=[1280, 390])
    parser.add_argument("--slice", type=int, default=1800, help="slice height in CSS pixels (0: no slices)")
    parser.add_argument("--dark", action="store_true", help="prefer the dark colour scheme")
    parser.add_argument("--wait", type=int, default=400, help="extra milliseconds after load")
    args = parser.parse_args(argv)

    if not (args.site / "index.html").exists():
        sys.exit(f"{args.site} holds no built site: run 'mkdocs build' first")
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("Debian's chromium is needed: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    pages = PAGES if not args.pages else ["" if p == "index" else p.strip("/") for p in args.pages]
    args.out.mkdir(parents=True, exist_ok=True)
    server = serve(args.site)
    base = "http://127.0.0.1:%d/" % server.server_address[1]
    problems = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for width in args.widths:
                context = browser.new_context(
                    viewport={"width": width, "height": 900 if width > 600 else 844},
                    device_scale_factor=1, color_scheme="dark" if args.dark else "light")
                page = context.new_page()
                page.on("pageerror", lambda error: problems.append("page error: %s" % error))
                for slug in pages:
                    url = base + (slug + "/" if slug else "")
                    response = page.goto(url, wait_until="load")
                    if response is None or response.status != 200:
                        problems.append("%s -> HTTP %s" % (url, response and response.status))
                        continue
                    page.wait_for_timeout(args.wait)
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
                    if overflow > 0:
                        problems.append("%s at %d px: page is %d px wider than the screen"
                                        % (slug or "index", width, overflow))
                    name = (slug or "index").replace("/", "_")
                    path = args.out / ("%s-%d.png" % (name, width))
                    page.screenshot(path=str(path), full_page=True)
                    height = page.evaluate("document.documentElement.scrollHeight")
                    print("%-32s %5d x %-6d %s" % (slug or "index", width, height, path))
                    if args.slice and height > args.slice:
                        _slice(path, args.slice)
                context.close()
            browser.close()
    finally:
        server.shutdown()
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


def _slice(path: Path, height: int) -> None:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # our own screenshots (the API page is very tall)
    with Image.open(path) as image:
        for number, top in enumerate(range(0, image.height, height), start=1):
            box = (0, top, image.width, min(image.height, top + height))
            image.crop(box).save(path.with_name("%s-%d.png" % (path.stem, number)))


if __name__ == "__main__":
    sys.exit(main())
