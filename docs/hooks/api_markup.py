"""MkDocs hook: tidy reStructuredText markup that mkdocstrings leaves in the API pages.

tinycnn's docstrings are NumPy style and use two bits of Sphinx/reST markup that read well in
the source and in ``help()``: roles such as :func:`conv2d` and double-backtick literals. The
Markdown renderer turns the role's argument into code but prints the ``:func:`` prefix, and
leaves double backticks and whole roles inside the parameter *type* cells. This hook drops that
markup, so the page shows plain ``conv2d`` code, as the reader expects.
"""
from __future__ import annotations

import re
from typing import Any

_ROLE_NAME = r":(?:func|meth|class|mod|attr|data|obj|exc|const):"
# ":func:" (or :meth:, :class:, ...) immediately before the code element it introduces
_ROLE = re.compile(_ROLE_NAME + r"(?=<code>)")
# a <code> element whose text still holds reST markup (type cells): ``literal`` or :role:`name`
_CODE = re.compile(r"<code>([^<]*`[^<]*)</code>")
_ROLE_IN_CODE = re.compile(_ROLE_NAME + r"`([^`]*)`")


def tidy(html: str) -> str:
    """``html`` without reST roles and double backticks (the code text is kept)."""
    html = _ROLE.sub("", html)

    def plain(match: "re.Match[str]") -> str:
        text = _ROLE_IN_CODE.sub(r"\1", match.group(1)).replace("``", "")
        return "<code>" + text + "</code>"

    return _CODE.sub(plain, html)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    if "doc doc-" not in html:  # only pages with mkdocstrings output
        return html
    return tidy(html)
