"""The site published under a sub-path, as a GitHub project site (https://user.github.io/tinycnn/).

The site is built with ``SITE_URL=http://127.0.0.1:PORT/tinycnn/`` and served under ``/tinycnn/``
only (nothing at the server's root), a missing path answered with the site's 404.html like GitHub
Pages does.
Oracles: the address the build was given (canonical links, sitemap), the request log (every file
comes from under /tinycnn/, none from the server's root), the browser's computed styles (the 404
page is styled) and the hand-worked -7 of the convolution example.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SiteServer

pytestmark = [pytest.mark.browser, pytest.mark.site, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/tinycnn/"


@pytest.fixture(scope="module")
def project_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("project-site")
    server = SiteServer({PREFIX: folder}, not_found=folder / "404.html")  # the port first: the build needs it
    base = server.url.rstrip("/") + PREFIX
    env = dict(os.environ, SITE_URL=base, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(folder)],
                          cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    assert proc.returncode == 0, "mkdocs build with SITE_URL=%s failed:\n%s" % (base, proc.stdout[-5000:])
    yield folder, base
    server.close()


def test_canonical_links_and_sitemap_use_the_sub_path(project_site):
    folder, base = project_site
    html = (folder / "convolution" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="%sconvolution/">' % base in html
    locs = re.findall(r"<loc>([^<]+)</loc>", (folder / "sitemap.xml").read_text(encoding="utf-8"))
    assert locs and all(loc.startswith(base) for loc in locs), locs[:3]
    assert base + "convolution/" in locs


def test_a_cell_runs_under_the_sub_path(project_site, new_page):
    folder, base = project_site
    recorded = new_page()
    page = recorded.page
    page.goto(base + "convolution/")
    out = page.evaluate("(code) => tinycnnSite.run(code)",
                        "from tinycnn.functional import conv2d\n"
                        "print(conv2d([[3, 1, 1], [1, 0, 7], [2, 3, 5]], [[1, 0, -1]] * 3))\n")
    assert out["error"] is None and out["stdout"].strip() == "[[-7.]]"
    origin = base[:-len(PREFIX)] + "/"
    outside = [url for url in recorded.requests if url.startswith(origin) and not url.startswith(base)]
    assert outside == []
    assert any(url.startswith(base + "assets/pyodide/") for url in recorded.requests)
    assert recorded.foreign_requests() == []


def test_the_404_page_is_styled_anywhere_under_the_sub_path(project_site, new_page):
    folder, base = project_site
    recorded = new_page()
    page = recorded.page
    statuses = {}
    page.on("response", lambda response: statuses.__setitem__(response.url, response.status))
    response = page.goto(base + "anything/deeper/")
    assert response.status == 404
    assert "404" in page.inner_text(".md-content")
    sheets = [url for url in statuses if re.search(r"/assets/stylesheets/main\.[0-9a-f]+\.min\.css$", url)]
    assert sheets and all(url.startswith(base) and statuses[url] == 200 for url in sheets), statuses
    # styled: Material's header has its indigo background and the page its layout
    assert page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") == "sticky"
    assert page.evaluate("getComputedStyle(document.querySelector('.md-header')).backgroundColor") == "rgb(64, 81, 181)"
    # and its links lead back into the site
    home = page.evaluate("document.querySelector('.md-header__button.md-logo').href")
    assert home.startswith(base), home
    assert recorded.foreign_requests() == []
