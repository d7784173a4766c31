"""The chapters show tinycnn's real reference code, included from tinycnn/functional/reference.py
at build time (pymdownx.snippets), so a page cannot drift from the code it teaches.
"""
from __future__ import annotations

import html
import inspect
import re

import pytest

from tinycnn.functional import reference

pytestmark = pytest.mark.site

PAGES = {
    "convolution": [reference.conv2d, reference.conv2d_backward],
    "pooling": [reference.max_pool2d, reference.max_pool2d_backward],
    "fully-connected": [reference.dense, reference.dense_backward],
}


def code_blocks(page_html: str):
    """The text of every highlighted code block of a built page (tags removed, unescaped)."""
    blocks = re.findall(r"<pre[^>]*>(.*?)</pre>", page_html, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in blocks]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_shows_the_exact_source_of_the_reference_functions(built_site, page):
    blocks = code_blocks((built_site / page / "index.html").read_text(encoding="utf-8"))
    for function in PAGES[page]:
        source = inspect.getsource(function)
        assert source.count("\n") > 10
        assert any(source in block for block in blocks), (
            f"the {page} page does not show the source of reference.{function.__name__}")
    assert not any("--8<--" in block for block in blocks)  # every include was expanded
