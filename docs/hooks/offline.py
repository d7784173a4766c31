"""MkDocs hook: the site works offline, updates cleanly and is installable.

What it adds to the built site (``site/``)::

    sw.js                    the service worker (template: docs/hooks/sw.js) with this build's
                             precache manifest: every built file, its content hash and size, and the
                             build hash (a hash over all of them) that names the worker's cache
    manifest.webmanifest     the web app manifest (name, icons, theme colours, relative start URL)
    assets/icons/icon-192.png, icon-512.png   the app icons, drawn here (maskable: the motif stays
                             inside the safe zone)

and, in every page's ``<head>``, the manifest link, the theme colour and a
``<meta name="tinycnn-offline">`` that tells docs/javascripts/offline.js to register the worker.

Settings (``extra.tinycnn`` in mkdocs.yml):

- ``offline: false`` turns it off (no worker is registered; the written sw.js unregisters an
  earlier one). ``mkdocs serve`` never registers the worker either: a cache-first worker on a
  development server would show stale pages.
- ``isolation``: which ``Cross-Origin-Embedder-Policy`` the worker adds to the site's own
  responses (with ``Cross-Origin-Opener-Policy: same-origin``), so that the page is cross-origin
  isolated and Stop can interrupt Python instead of restarting it: ``require-corp``,
  ``credentialless`` (that host's files then need no ``Cross-Origin-Resource-Policy`` header),
  ``off``, or ``auto`` (the default: ``require-corp`` for the self-hosted runtime,
  ``credentialless`` when ``runtime`` is another origin's URL).

How the worker caches, updates and isolates is described in docs/in-browser.md ("Offline").
"""
from __future__ import annotations

import hashlib
import json
import posixpath
import re
from pathlib import Path
from typing import Dict, List, Tuple

import common

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "sw.js"
CONFIG_SLOT = re.compile(r"/\*CONFIG\*/.*?/\*END\*/", re.S)

#: Built files that never go into the offline copy: the worker itself, and source maps (only a
#: browser's developer tools ever ask for them).
EXCLUDED = re.compile(r"^sw\.js$|\.map$")
ICON_SIZES = (192, 512)
ISOLATION_MODES = ("auto", "require-corp", "credentialless", "off")
#: Material's primary colours (theme.palette.primary) used for the app's theme colour.
MATERIAL_PRIMARY = {
    "red": "#ef5552", "pink": "#e92063", "purple": "#ab47bd", "deep-purple": "#7e56c2",
    "indigo": "#4051b5", "blue": "#2094f3", "light-blue": "#02a6f2", "cyan": "#00bdd6",
    "teal": "#009485", "green": "#4cae4f", "light-green": "#8bc34b", "lime": "#cbdc38",
    "yellow": "#ffec3d", "amber": "#ffc105", "orange": "#ffa724", "deep-orange": "#ff6e42",
    "brown": "#795649", "grey": "#757575", "blue-grey": "#546d78", "black": "#000000",
    "white": "#ffffff",
}

_command = {"name": "build"}


def enabled(config) -> bool:
    """``extra.tinycnn.offline`` (default true), and never under ``mkdocs serve``."""
    setting = common.setting(config, "offline")
    if not isinstance(setting, bool):
        raise ValueError(f"extra.tinycnn.offline in mkdocs.yml must be true or false, got {setting!r}")
    return setting and _command["name"] != "serve"


def isolation(config) -> str:
    """The Cross-Origin-Embedder-Policy the worker adds (or ``off``); see the module docstring."""
    setting = common.setting(config, "isolation")
    if setting not in ISOLATION_MODES:
        raise ValueError(f"extra.tinycnn.isolation in mkdocs.yml must be one of "
                         f"{', '.join(ISOLATION_MODES)}, got {setting!r}")
    if setting == "auto":
        runtime = str(common.setting(config, "runtime")).strip()
        return "credentialless" if re.match(r"^(https?:)?//", runtime) else "require-corp"
    return setting


def theme_colour(config) -> str:
    palette = (config.get("theme") or {}).get("palette") or {}
    if isinstance(palette, list):
        palette = palette[0] if palette else {}
    return MATERIAL_PRIMARY.get(str(palette.get("primary", "indigo")).replace(" ", "-").lower(),
                                MATERIAL_PRIMARY["indigo"])


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes, hex, first 32 digits (what the worker checks downloads against)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def precache_manifest(site: Path) -> Dict[str, Tuple[str, int]]:
    """``{path relative to the site root: (content hash, size)}`` of every built file it keeps."""
    files = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        if not EXCLUDED.search(rel):
            files[rel] = (file_hash(path), path.stat().st_size)
    return files


def build_hash(site: Path, files: Dict[str, Tuple[str, int]], extra: str) -> str:
    """A hash over the paths and bytes of the kept files (and ``extra``: the worker's code)."""
    digest = hashlib.sha256(extra.encode())
    return common.hash_files([site / rel for rel in sorted(files)], base=site, digest=digest).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------
# Icons and the web app manifest
# ----------------------------------------------------------------------------------------------
def draw_icon(size: int, colour: str):
    """The app icon: a 3x3 convolution kernel (the tutorial's [[1, 0, -1]] * 3: light, mid, amber
    columns) on the theme colour. Full bleed, the motif inside the maskable safe zone (the circle of
    40% of the size around the centre), so it serves as both an "any" and a "maskable" icon."""
    from PIL import Image, ImageDraw

    scale = 4  # drawn larger, then reduced: smooth rounded corners
    big = size * scale
    image = Image.new("RGB", (big, big), colour)
    draw = ImageDraw.Draw(image)
    cell, gap = 0.16 * big, 0.035 * big
    start = (big - (3 * cell + 2 * gap)) / 2
    columns = ["#ffffff", "#c5cae9", "#ffc105"]
    for row in range(3):
        for col in range(3):
            x0 = start + col * (cell + gap)
            y0 = start + row * (cell + gap)
            draw.rounded_rectangle([x0, y0, x0 + cell, y0 + cell], radius=0.18 * cell, fill=columns[col])
    return image.resize((size, size), Image.LANCZOS)


def write_icons(site: Path, colour: str) -> List[dict]:
    folder = site / "assets" / "icons"
    folder.mkdir(parents=True, exist_ok=True)
    icons = []
    for size in ICON_SIZES:
        name = f"icon-{size}.png"
        draw_icon(size, colour).save(folder / name, optimize=True)
        for purpose in ("any", "maskable"):
            icons.append({"src": "assets/icons/" + name, "sizes": f"{size}x{size}",
                          "type": "image/png", "purpose": purpose})
    return icons


def web_manifest(config, icons: List[dict]) -> dict:
    name = config.get("site_name") or "tinycnn"
    return {
        "name": name,
        "short_name": name[:12],
        "description": config.get("site_description") or name,
        # Relative to the manifest (the site root): right under a sub-path such as /tinycnn/.
        "id": "./",
        "start_url": "./",
        "scope": "./",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": theme_colour(config),
        "icons": icons,
    }


# ----------------------------------------------------------------------------------------------
# MkDocs events
# ----------------------------------------------------------------------------------------------
def on_startup(command, dirty=False, **kwargs) -> None:
    _command["name"] = command


def on_config(config):
    enabled(config)  # fail early on a bad setting
    isolation(config)
    return config


def _head_tags(config, root: str) -> str:
    tags = [f'<link rel="manifest" href="{root}manifest.webmanifest">',
            f'<meta name="theme-color" content="{theme_colour(config)}">',
            f'<link rel="apple-touch-icon" href="{root}assets/icons/icon-192.png">']
    if enabled(config):
        tags.append('<meta name="tinycnn-offline" content="on">')
    return "".join(tags)


def _inject(html: str, tags: str) -> str:
    return html.replace("</head>", tags + "</head>", 1)


def on_post_page(output, page, config):
    # The page's URL relative to the site root -> the way back up ("" for the home page).
    folder = posixpath.dirname(page.url) if not page.url.endswith("/") else page.url.rstrip("/")
    depth = len([part for part in folder.split("/") if part])
    return _inject(output, _head_tags(config, "../" * depth))


def on_post_template(output_content, template_name, config):
    if template_name != "404.html":
        return output_content
    # The 404 page is served at any depth: link from the site's own path (from site_url).
    from urllib.parse import urlsplit

    root = urlsplit(config.get("site_url") or "/").path or "/"
    return _inject(output_content, _head_tags(config, root if root.endswith("/") else root + "/"))


def write_service_worker(site: Path, config) -> dict:
    """Write ``site/sw.js``: the template with this build's precache manifest (run it last)."""
    template = TEMPLATE.read_text(encoding="utf-8")
    if not CONFIG_SLOT.search(template):
        raise RuntimeError(f"{TEMPLATE} has no /*CONFIG*/.../*END*/ slot for the precache manifest")
    if not enabled(config):
        sw = {"build": "off", "enabled": False, "isolation": "off", "files": {}}
    else:
        files = precache_manifest(site)
        mode = isolation(config)
        sw = {"build": build_hash(site, files, template + mode), "enabled": True, "isolation": mode,
              "bytes": sum(size for _, size in files.values()),
              "files": {rel: [content, size] for rel, (content, size) in files.items()}}
    text = CONFIG_SLOT.sub(lambda _: "/*CONFIG*/" + json.dumps(sw, separators=(",", ":")) + "/*END*/",
                           template)
    (site / "sw.js").write_text(text, encoding="utf-8")
    return sw


def on_post_build(config, **kwargs) -> None:
    site = Path(config["site_dir"])
    icons = write_icons(site, theme_colour(config))
    (site / "manifest.webmanifest").write_text(json.dumps(web_manifest(config, icons), indent=1) + "\n",
                                               encoding="utf-8")
    sw = write_service_worker(site, config)
    if sw["enabled"]:
        common.log("offline", f"service worker: build {sw['build']}, {len(sw['files'])} files, "
             f"{sw['bytes'] / 1e6:.1f} MB for the offline copy, isolation {sw['isolation']}")
    else:
        common.log("offline", "service worker off (it unregisters itself)")
