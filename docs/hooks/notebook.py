"""MkDocs hook: ship each page's prose, so that the page can be downloaded as a Jupyter notebook.

For every page with runnable cells it writes ``assets/tinycnn/notebooks/<page>.json``::

    {"title": ..., "url": ..., "install": "pip install tinycnn matplotlib",
     "prose": [markdown before cell 1, between cells 1 and 2, ..., after the last cell]}

and puts ``<div class="tc-notebook-meta" hidden data-prose="<that file, relative to the site
root>">`` into the page (not a ``<script>``: Material's instant navigation re-creates scripts
without their ``type``, and would run JSON as JavaScript). ``docs/javascripts/reader-work.js`` fetches
the file only when the reader asks for the notebook, and builds it with the cells' code (the
reader's edits included) and their build-time outputs (from the page).

The cells are found by the build's one fence parser (``common.find_cells``), so the prose is
exactly the Markdown around the cells that run. MkDocs-only syntax is rewritten for
Jupyter: content tabs (``=== "Title"``) become bold titles, admonitions (``!!! note "Title"``)
become block quotes, links to other pages point at the published site, and ``\\( \\)`` /
``\\[ \\]`` math becomes ``$ $`` / ``$$ $$``. This hook must run before ``execute.py`` (which
rewrites the cells' fences).
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any, Dict, List

import common
from mkdocs.exceptions import PluginError

NOTEBOOK_DIR = "assets/tinycnn/notebooks"

_BLOCK_START = re.compile(r'^(?P<kind>===|!!!|\?\?\?\+?)[ \t]+(?P<rest>.*)$')
_TITLE = re.compile(r'^(?P<type>[\w-]+)?(?:[ \t]+[\w-]+)*[ \t]*(?:"(?P<title>[^"]*)")?[ \t]*$')
_PAGE_LINK = re.compile(r'\]\((?P<path>[\w./-]+?)\.md(?P<anchor>#[^)\s]*)?\)')


def _page_url(path: str) -> str:
    """MkDocs' directory URL of a page: ``training`` -> ``training/``, ``index`` -> ``""``."""
    if path == "index" or path.endswith("/index"):
        return path[: -len("index")]
    return path + "/"


def _blocks_for_jupyter(lines: List[str]) -> List[str]:
    """Content tabs -> bold titles, admonitions -> block quotes (their bodies dedented)."""
    out: List[str] = []
    i = 0
    while i < len(lines):
        match = _BLOCK_START.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        body: List[str] = []
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
            body.append(lines[i][4:])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        inner = _blocks_for_jupyter(body)
        rest = match.group("rest").strip()
        if match.group("kind") == "===":
            out.append("**%s**" % rest.strip('"'))
            out.append("")
            out.extend(inner)
        else:
            title = _TITLE.match(rest)
            text = (title.group("title") if title and title.group("title") is not None
                    else (title.group("type") or "Note").capitalize() if title else rest)
            out.append("> **%s**" % text)
            out.append(">")
            out.extend(("> " + line).rstrip() for line in inner)
        out.append("")
    return out


def markdown_for_jupyter(markdown: str, site_url: str) -> str:
    """One prose segment of a page, rewritten so that Jupyter renders it."""
    text = "\n".join(_blocks_for_jupyter(markdown.split("\n")))
    text = re.sub(r"^([ \t]*(?:`{3,}|~{3,})[ \t]*)python[ \t]+norun[ \t]*$", r"\1python", text,
                  flags=re.MULTILINE)  # a block shown, not run, in the page: plain Python here
    text = re.sub(r"\\\((.+?)\\\)", lambda m: "$%s$" % m.group(1).strip(), text, flags=re.DOTALL)
    text = re.sub(r"\\\[(.+?)\\\]", lambda m: "$$%s$$" % m.group(1).strip(), text, flags=re.DOTALL)
    if site_url:
        base = site_url if site_url.endswith("/") else site_url + "/"
        text = _PAGE_LINK.sub(lambda m: "](%s%s%s)" % (base, _page_url(m.group("path")),
                                                       m.group("anchor") or ""), text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def split_prose(markdown: str) -> List[str]:
    """The Markdown around the page's cells: one segment more than there are cells."""
    lines = markdown.split("\n")
    segments: List[str] = []
    start = 0
    for cell in common.find_cells(markdown, PluginError):
        segments.append("\n".join(lines[start:cell.start]))
        start = cell.end + 1
    segments.append("\n".join(lines[start:]))
    return segments


def requirements(sources: List[str]) -> List[str]:
    """What ``pip install`` needs for these cells (tinycnn always; matplotlib, Pillow if used)."""
    code = "\n".join(sources)
    needs = ["tinycnn"]
    if re.search(r"^\s*(import|from)\s+matplotlib\b", code, re.MULTILINE):
        needs.append("matplotlib")
    if re.search(r"^\s*(import|from)\s+PIL\b|load_img|make_image_folder|image_dataset", code,
                 re.MULTILINE):
        needs.append("pillow")
    return needs


# ----------------------------------------------------------------------------------------------
# MkDocs events
# ----------------------------------------------------------------------------------------------
_pages: Dict[str, Dict[str, Any]] = {}


def _json_name(src_uri: str) -> str:
    return "%s/%s.json" % (NOTEBOOK_DIR, src_uri.rsplit(".", 1)[0])


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if not page.file.src_uri.endswith(".md"):
        return markdown
    cells = common.find_cells(markdown, PluginError)
    if not cells:
        return markdown
    site_url = config.get("site_url") or ""
    _pages[page.file.src_uri] = {
        "title": page.title,
        "url": (site_url.rstrip("/") + "/" + page.url) if site_url else page.url,
        "install": "pip install " + " ".join(requirements([cell.source for cell in cells])),
        "prose": [markdown_for_jupyter(segment, site_url) for segment in split_prose(markdown)],
    }
    return markdown


def on_page_content(page_html: str, page: Any, config: Any, files: Any) -> str:
    info = _pages.get(page.file.src_uri)
    if info is None:
        return page_html
    return page_html + '<div class="tc-notebook-meta" hidden data-prose="%s"></div>' % html.escape(
        _json_name(page.file.src_uri), quote=True)


def on_post_page(output: str, page: Any, config: Any) -> str:
    info = _pages.pop(page.file.src_uri, None)
    if info is not None:
        info["title"] = page.title or info["title"]
        target = Path(config["site_dir"]) / _json_name(page.file.src_uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return output
