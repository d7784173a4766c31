"""Lighthouse 12 (mobile defaults) on the built site: the four scores and key metrics per page.

A benchmark, not a test (slow, ~30 s a page, and somewhat noisy). Installs ``lighthouse@12.2.3``
from the npm registry (pinned; it runs on Node 20) into ``$TINYCNN_CACHE/lighthouse-12.2.3``
(default ``~/.cache/tinycnn``) on first use, serves the built site on 127.0.0.1 with gzip like a
static host (GitHub Pages compresses HTML, CSS, JS and JSON), and runs Lighthouse with Debian's
Chromium (``CHROME_PATH``, default ``chromium`` on the PATH).

Usage::

    mkdocs build --strict && python scripts/lighthouse.py                # home, convolution, training
    python scripts/lighthouse.py --pages recap api --json tmp/lighthouse  # any pages; keep reports

Targets (issue 11): performance >= 90, accessibility 100, best practices >= 95, SEO 100.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from site_server import serve  # noqa: E402

LIGHTHOUSE = "lighthouse@12.2.3"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
TARGETS = {"performance": 90, "accessibility": 100, "best-practices": 95, "seo": 100}
METRICS = [("first-contentful-paint", "FCP"), ("largest-contentful-paint", "LCP"),
           ("total-blocking-time", "TBT"), ("cumulative-layout-shift", "CLS"),
           ("speed-index", "SI"), ("total-byte-weight", "bytes")]
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking " \
               "--disable-component-update --disable-sync --no-first-run"


def install() -> Path:
    """The ``lighthouse`` executable, installed with npm into the cache on first use."""
    folder = Path(os.environ.get("TINYCNN_CACHE", Path.home() / ".cache" / "tinycnn")) / "lighthouse-12.2.3"
    binary = folder / "node_modules" / ".bin" / "lighthouse"
    if binary.exists():
        return binary
    if shutil.which("npm") is None:
        sys.exit("lighthouse.py needs npm (Node.js 20): apt-get install -y nodejs npm")
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "package.json").exists():
        (folder / "package.json").write_text('{"private": true}\n')
    print("[lighthouse] installing %s from the npm registry into %s" % (LIGHTHOUSE, folder), flush=True)
    subprocess.run(["npm", "install", "--save-exact", "--no-audit", "--no-fund", LIGHTHOUSE],
                   cwd=folder, check=True)
    return binary


def run(binary: Path, url: str, chrome: str, report: Path) -> dict:
    subprocess.run(
        [str(binary), url, "--quiet", "--output=json", "--output-path=%s" % report,
         "--only-categories=%s" % ",".join(CATEGORIES), "--chrome-flags=%s" % CHROME_FLAGS],
        check=True, env=dict(os.environ, CHROME_PATH=chrome))
    return json.loads(report.read_text(encoding="utf-8"))


def summary(result: dict) -> str:
    scores = {name: round(100 * (result["categories"][name]["score"] or 0)) for name in CATEGORIES}
    parts = ["%s %d%s" % (name, score, "" if score >= TARGETS[name] else " (< %d)" % TARGETS[name])
             for name, score in scores.items()]
    audits = result["audits"]
    metrics = []
    for key, label in METRICS:
        value = audits.get(key, {}).get("numericValue")
        if value is None:
            continue
        if key == "cumulative-layout-shift":
            metrics.append("%s %.3f" % (label, value))
        elif key == "total-byte-weight":
            metrics.append("%s %.0f kB" % (label, value / 1e3))
        else:
            metrics.append("%s %.2f s" % (label, value / 1e3))
    failing = [audit["id"] for audit in audits.values()
               if audit.get("score") is not None and audit["score"] < 0.9
               and audit.get("scoreDisplayMode") in ("binary", "metricSavings", "numeric")]
    return " / ".join(parts) + "\n    " + ", ".join(metrics) + (
        "\n    below 0.9: " + ", ".join(sorted(failing)) if failing else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=Path("site"), help="built site folder")
    parser.add_argument("--pages", nargs="*", default=["", "convolution", "training"],
                        help="page slugs ('' or 'index' is the home page)")
    parser.add_argument("--json", type=Path, default=None, help="keep the JSON reports in this folder")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").exists():
        sys.exit("no built site in %s: run 'mkdocs build --strict' first" % args.site)
    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chrome:
        sys.exit("Lighthouse needs Chromium: apt-get install -y chromium (or set CHROME_PATH)")
    binary = install()
    server = serve(args.site)
    base = "http://127.0.0.1:%d/" % server.server_address[1]
    reports = args.json or Path(tempfile.mkdtemp(prefix="tinycnn-lighthouse-"))
    reports.mkdir(parents=True, exist_ok=True)
    try:
        for slug in args.pages:
            slug = "" if slug in ("", "index", "home") else slug.strip("/") + "/"
            name = slug.strip("/").replace("/", "-") or "home"
            try:
                result = run(binary, base + slug, chrome, reports / ("%s.json" % name))
            except subprocess.CalledProcessError as error:  # e.g. PROTOCOL_TIMEOUT on a busy machine
                print("%-14s Lighthouse failed (exit %d); try again on a quieter machine"
                      % (name, error.returncode), flush=True)
                continue
            print("%-14s %s" % (name, summary(result)), flush=True)
    finally:
        server.shutdown()
        server.server_close()
        if args.json is None:
            shutil.rmtree(reports, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
