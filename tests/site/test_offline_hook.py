"""What docs/hooks/offline.py writes into the built site: the service worker's precache manifest,
the web app manifest, the icons and the links in every page.

Oracles: the files on disk hashed here with hashlib, the site's own pages (every page links the
manifest, resolved as a browser would), and the geometry of a maskable icon (everything outside
the safe zone is the plain theme colour).
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

pytestmark = pytest.mark.site


def _sw_config(site: Path) -> dict:
    text = (site / "sw.js").read_text(encoding="utf-8")
    return json.loads(re.search(r"/\*CONFIG\*/(.*?)/\*END\*/", text, re.S).group(1))


def test_the_precache_manifest_lists_every_built_file_with_its_hash_and_size(built_site):
    config = _sw_config(built_site)
    on_disk = {path.relative_to(built_site).as_posix(): path for path in built_site.rglob("*") if path.is_file()}
    expected = {rel for rel in on_disk if rel != "sw.js" and not rel.endswith(".map")}
    assert set(config["files"]) == expected
    for rel, (content, size) in config["files"].items():
        data = on_disk[rel].read_bytes()
        assert size == len(data), rel
        assert content == hashlib.sha256(data).hexdigest()[:32], rel
    assert config["bytes"] == sum(size for _, size in config["files"].values())
    assert config["enabled"] is True and config["isolation"] == "require-corp"
    assert re.fullmatch(r"[0-9a-f]{16}", config["build"])
    for needed in ("index.html", "search/search_index.json", "assets/pyodide/pyodide.asm.wasm",
                   "assets/pyodide/numpy.data", "assets/tinycnn/runtime.json", "assets/data/digits.npz",
                   "manifest.webmanifest", "assets/icons/icon-512.png"):
        assert needed in config["files"], needed
    wheel = json.loads((built_site / "assets/tinycnn/runtime.json").read_text())["wheel"]
    assert wheel in config["files"]


def test_the_build_hash_follows_the_files(hook, tmp_path):
    hook = hook("offline")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>one</h1>")
    (site / "a.css").write_text("a {}")
    first = hook.write_service_worker(site, {"extra": {"tinycnn": {}}})
    again = hook.write_service_worker(site, {"extra": {"tinycnn": {}}})
    assert again["build"] == first["build"]  # the same files: the same build (sw.js is left out)
    (site / "index.html").write_text("<h1>two</h1>")
    second = hook.write_service_worker(site, {"extra": {"tinycnn": {}}})
    assert second["build"] != first["build"]
    assert second["files"]["a.css"] == first["files"]["a.css"]
    assert second["files"]["index.html"] != first["files"]["index.html"]
    off = hook.write_service_worker(site, {"extra": {"tinycnn": {"offline": False}}})
    assert off["enabled"] is False and off["files"] == {}


def test_settings_are_checked_and_isolation_follows_the_runtime(hook):
    hook = hook("offline")
    assert hook.isolation({"extra": {"tinycnn": {}}}) == "require-corp"
    assert hook.isolation({"extra": {"tinycnn": {"runtime": "https://cdn.example/pyodide/"}}}) == "credentialless"
    assert hook.isolation({"extra": {"tinycnn": {"runtime": "/pyodide/"}}}) == "require-corp"  # same origin
    assert hook.isolation({"extra": {"tinycnn": {"isolation": "off"}}}) == "off"
    assert hook.isolation({"extra": {"tinycnn": {"isolation": "credentialless"}}}) == "credentialless"
    with pytest.raises(ValueError, match="isolation .* must be one of auto, require-corp, credentialless, off"):
        hook.isolation({"extra": {"tinycnn": {"isolation": "yes"}}})
    with pytest.raises(ValueError, match="offline in mkdocs.yml must be true or false"):
        hook.enabled({"extra": {"tinycnn": {"offline": "no"}}})


def test_every_page_links_the_web_app_manifest_and_registers_the_worker(built_site):
    manifest = json.loads((built_site / "manifest.webmanifest").read_text())
    assert manifest["start_url"] == "./" and manifest["scope"] == "./" and manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"] and re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    pages = sorted(built_site.rglob("index.html"))
    assert pages
    for html in pages:
        text = html.read_text(encoding="utf-8")
        href = re.search(r'<link rel="manifest" href="([^"]+)">', text).group(1)
        page_url = "http://example.org/" + html.relative_to(built_site).as_posix()
        assert urljoin(page_url, href) == "http://example.org/manifest.webmanifest", html
        assert '<meta name="tinycnn-offline" content="on">' in text, html
        assert "javascripts/offline.js" in text and "javascripts/recovery.js" in text, html


@pytest.mark.image
def test_the_icons_are_maskable(built_site):
    from PIL import Image

    manifest = json.loads((built_site / "manifest.webmanifest").read_text())
    colour = tuple(int(manifest["theme_color"][i:i + 2], 16) for i in (1, 3, 5))
    sources = {icon["src"]: icon["sizes"] for icon in manifest["icons"]}
    assert set(sources.values()) == {"192x192", "512x512"}
    for src, sizes in sources.items():
        with Image.open(built_site / src) as image:
            assert image.size == tuple(int(n) for n in sizes.split("x"))
            pixels = image.convert("RGB").load()
            size = image.size[0]
            centre, safe = (size - 1) / 2, 0.4 * size
            for y in range(0, size, 3):
                for x in range(0, size, 3):
                    if (x - centre) ** 2 + (y - centre) ** 2 > safe ** 2:  # outside the safe zone
                        assert pixels[x, y] == colour, (src, x, y, pixels[x, y])
            assert pixels[int(centre), int(centre)] != colour  # and there is a motif inside
