"""Tests of the built tutorial site (marker ``site``): the pages exist at their fixed slugs, the
worked numbers come out of the executed code, every generated figure is a real PNG with alt text,
the API page documents every public name, and the build hook behaves as promised."""
from __future__ import annotations

import base64
import html
import importlib
import json
import re
import struct
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[2]
SLUGS = ["", "convolution", "pooling", "stacking", "flattening", "fully-connected", "recap",
         "training", "keras-program", "api", "notebooks/cnn-from-scratch"]
API_MODULES = ["functional", "layers", "models", "losses", "optimizers", "callbacks", "datasets",
               "preprocessing", "preprocessing.image", "utils"]

# Figures drawn by matplotlib at build time: page -> start of the alt text of each one.
FIGURES = {
    "": ["Architecture of the article's CNN"],
    "convolution": ["Grace Hopper's photo, its vertical edges", "Six 3x3 kernels",
                    "The vertical-edge feature map of the photo before and after ReLU"],
    "pooling": ["The photo's vertical-edge feature map, max-pooled"],
    "stacking": ["Sixteen training images", "One test image and the feature maps",
                 "The eight learned 3x3 RGB kernels"],
    "flattening": ["Three 2x2 feature maps, one colour per channel"],
    "fully-connected": ["Eight test images of bars"],
    "training": ["Thirty of the 8x8 handwritten digits", "Learning curves", "Confusion matrix",
                 "The 16 learned 3x3 kernels", "A test digit and the 16 feature maps"],
    "keras-program": ["Eight random augmentations of the same photo"],
}


def page(site: Path, slug: str) -> str:
    path = site / slug / "index.html" if slug else site / "index.html"
    assert path.exists(), f"missing page /{slug}/ ({path})"
    return path.read_text(encoding="utf-8")


def outputs(text: str, kind: str) -> list:
    """Unescaped text of every ``<pre class="tc-<kind>">`` produced at build time."""
    return [html.unescape(m) for m in re.findall(r'<pre class="tc-%s">(.*?)</pre>' % kind, text, re.S)]


def images(text: str) -> list:
    """(alt, png bytes) of every build-time cell image."""
    found = []
    for tag in re.findall(r'<img class="tc-image"[^>]*>', text):
        src = re.search(r'src="data:image/png;base64,([^"]+)"', tag).group(1)
        alt = html.unescape(re.search(r'alt="([^"]*)"', tag).group(1))
        found.append((alt, base64.b64decode(src)))
    return found


def png_size(data: bytes) -> tuple:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# ---------------------------------------------------------------------------------- pages
@pytest.mark.parametrize("slug", SLUGS)
def test_page_exists_at_its_fixed_slug_with_a_title(built_site, slug):
    text = page(built_site, slug)
    assert re.search(r"<h1[^>]*>", text), f"/{slug}/ has no <h1>"


def test_nav_links_every_tutorial_page(built_site):
    text = page(built_site, "")
    for slug in SLUGS[1:]:
        assert 'href="%s/"' % slug in text or 'href="./%s/"' % slug in text, slug


@pytest.mark.parametrize("slug", SLUGS[:-2])  # every Markdown page (the API page has no cells)
def test_no_cell_printed_an_error_or_a_warning(built_site, slug):
    text = page(built_site, slug)
    assert outputs(text, "error") == []
    assert outputs(text, "stderr") == [], outputs(text, "stderr")
    # no "<... object at 0x7f...>" results: the pages show values, not object addresses
    assert not [r for r in outputs(text, "result") if " object at 0x" in r]


# -------------------------------------------------------------------------- worked numbers
def test_convolution_worked_example_gives_minus_seven(built_site):
    text = page(built_site, "convolution")
    assert "3*1 + 1*0 + 1*-1 + 1*1 + 0*0 + 7*-1 + 2*1 + 3*0 + 5*-1 = -7" in text
    results = outputs(text, "result") + outputs(text, "stdout")
    # products.sum() and conv2d(patch, kernel), both computed at build time
    assert any(re.fullmatch(r"(np\.int64\()?-7\)?", r.strip()) for r in results), results
    assert any(re.match(r"array\(\[\[-7\.\]\]", r) for r in results), results
    # the 6x6 edge image gives a feature map of 0s and 30s
    assert any("30." in r and r.startswith("array([[ 0., 30., 30.,  0.]") for r in results), results


def test_pooling_first_window_4_6_1_3_gives_6(built_site):
    text = page(built_site, "pooling")
    results = outputs(text, "result")
    max_pooled = [r for r in results if re.match(r"array\(\[\[6\.?, 8\.?\],\s+\[9\.?, 4\.?\]\]", r)]
    assert max_pooled, results
    averaged = [r for r in results if re.match(r"array\(\[\[3\.5 *, 3\.75\],\s+\[4\.5 *, 2\.25\]\]", r)]
    assert averaged, results


def test_article_network_has_813217_parameters(built_site):
    for slug in ["", "keras-program"]:
        printed = "\n".join(outputs(page(built_site, slug), "stdout"))
        assert "Total params: 813,217" in printed, slug
    assert "weights: 813,217" in "\n".join(outputs(page(built_site, "recap"), "stdout"))


def test_recap_forward_pass_by_hand_matches_predict(built_site):
    printed = "\n".join(outputs(page(built_site, "recap"), "stdout"))
    by_hand = re.search(r"by hand: +\[([^\]]+)\]", printed).group(1).split()
    predicted = re.search(r"model\.predict: *\[([^\]]+)\]", printed).group(1).split()
    assert by_hand == predicted


def test_training_page_reaches_high_test_accuracy(built_site):
    printed = "\n".join(outputs(page(built_site, "training"), "stdout"))
    accuracy = float(re.search(r"test accuracy ([0-9.]+) %", printed).group(1))
    assert accuracy > 90.0, printed


# ------------------------------------------------------------------------------- figures
@pytest.mark.parametrize("slug", sorted(FIGURES))
def test_every_generated_figure_exists_as_a_png_with_alt_text(built_site, slug):
    found = images(page(built_site, slug))
    for alt, data in found:
        assert alt.strip(), "an image without alt text on /%s/" % slug
        width, height = png_size(data)
        assert width >= 100 and height >= 50, (alt, width, height)
    alts = [alt for alt, _ in found]
    for start in FIGURES[slug]:
        assert any(alt.startswith(start) for alt in alts), (start, alts)


@pytest.mark.parametrize("slug", sorted(FIGURES))
def test_cells_that_draw_figures_show_no_stray_result(built_site, slug):
    """A plotting cell ends with a statement (or ';'), so no tuple of axis limits or artist
    list is printed above its figure."""
    for block in re.findall(r'<div class="tc-output"[^>]*>(.*?)</div>', page(built_site, slug), re.S):
        if re.search(r'<img class="tc-image"[^>]*alt="(?!Heatmap)', block):
            assert '<pre class="tc-result">' not in block, block[:300]


def test_array_results_get_heatmaps(built_site):
    alts = [alt for alt, _ in images(page(built_site, "convolution"))]
    assert any(alt.startswith("Heatmap of a 3\u00d73 array") for alt in alts), alts
    assert any(alt.startswith("Heatmap of a 4\u00d74 array") for alt in alts), alts


def test_math_is_rendered_by_bundled_katex(built_site):
    text = page(built_site, "convolution")
    assert 'class="katex"' in text and 'class="arithmatex' in text
    assert "\\(" not in re.sub(r"<script.*?</script>|<code.*?</code>|<annotation.*?</annotation>",
                               "", text, flags=re.S), "unrendered inline math left"
    assert (built_site / "assets" / "katex" / "katex.min.css").exists()
    fonts = list((built_site / "assets" / "katex" / "fonts").glob("*.woff2"))
    assert len(fonts) > 10
    assert "assets/katex/katex.min.css" in text


@pytest.mark.parametrize("slug", SLUGS)
def test_pages_load_nothing_from_other_hosts(built_site, slug):
    text = page(built_site, slug)
    for url in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', text):
        assert url.startswith("http://127.0.0.1"), url


# --------------------------------------------------------------------------- cell markup
@pytest.mark.parametrize("slug", ["convolution", "keras-program"])
def test_cells_follow_the_html_contract(built_site, slug):
    text = page(built_site, slug)
    cells = re.findall(r'<div class="tc-cell" data-runnable data-cell="(\d+)">'
                       r'<script type="application/json" class="tc-source">(.*?)</script>'
                       r'(<div class="language-python highlight">)', text, re.S)
    assert cells, "no runnable cells on /%s/" % slug
    assert [int(number) for number, _, _ in cells] == list(range(1, len(cells) + 1))
    for _, source, _ in cells:
        json.loads(source)  # the exact source, as a JSON string
    assert text.count('class="tc-output" aria-live="polite"') >= len(cells)


def test_norun_blocks_are_shown_but_not_runnable(built_site):
    text = page(built_site, "keras-program")
    sources = [json.loads(s) for s in re.findall(
        r'<script type="application/json" class="tc-source">(.*?)</script>', text, re.S)]
    assert any("from tinycnn.models import Sequential" in s for s in sources)
    assert not any("keras" in s.split("\n", 1)[0] for s in sources)
    assert "keras" in text and "BCELoss" in text  # the Keras and PyTorch tabs are there


def test_demo_placeholders_are_in_place(built_site):
    for slug, demo in [("convolution", "convolution-demo"), ("pooling", "pooling-demo"),
                       ("training", "training-demo"), ("training", "draw-digit-demo"),
                       ("", "architecture-demo")]:
        assert 'id="%s"' % demo in page(built_site, slug), (slug, demo)


def test_notebook_is_executed_and_downloadable(built_site):
    text = page(built_site, "notebooks/cnn-from-scratch")
    assert "largest difference" in text and "finite differences" in text
    assert "Epoch 10/10" in text  # executed at build time: the training log is there
    assert (built_site / "notebooks" / "cnn-from-scratch" / "cnn-from-scratch.ipynb").exists()
    assert 'href="cnn-from-scratch.ipynb"' in text  # the download link
    figures = re.findall(r'<img[^>]+src="data:image/png;base64,[^>]*>', text)
    assert figures, "the notebook's figure is missing"
    assert all('alt="Training and test accuracy' in tag for tag in figures)


# ---------------------------------------------------------------------------------- API
@pytest.mark.parametrize("module", API_MODULES)
def test_api_page_documents_every_public_name(built_site, module):
    text = page(built_site, "api")
    ids = set(re.findall(r'id="(tinycnn\.[^"]+)"', text))
    public = importlib.import_module("tinycnn." + module)
    names = getattr(public, "__all__", None) or [
        n for n, v in vars(public).items()
        if not n.startswith("_") and getattr(v, "__module__", None) == public.__name__]
    missing = [n for n in names if "tinycnn.%s.%s" % (module, n) not in ids]
    assert not missing, "tinycnn.%s: not on the API page: %s" % (module, missing)


def test_api_page_shows_no_raw_restructuredtext_markup(built_site):
    text = page(built_site, "api")
    body = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    leftovers = re.findall(r":(?:func|meth|class|mod|attr):|``|<blockquote>", body)
    assert not leftovers, "raw markup on the API page: %s" % sorted(set(leftovers))
    # the module docstrings' examples are rendered as highlighted code, e.g. the article's -7
    example = re.search(r'id="tinycnn.functional".*?<div class="highlight"><pre>(.*?)</pre>', text, re.S)
    assert example and "array([[-7.]], dtype=float32)" in html.unescape(re.sub("<[^>]+>", "", example.group(1)))


def test_api_markup_hook_on_hand_written_html(hook):
    module = hook("api_markup")
    html_in = ("<p>see :func:<code>conv2d</code> and :class:<code>Dense</code></p>"
               "<td><code>array of shape ``(F,)``</code></td>"
               "<td><code>list of :class:`tinycnn.callbacks.Callback`</code></td>")
    assert module.tidy(html_in) == (
        "<p>see <code>conv2d</code> and <code>Dense</code></p>"
        "<td><code>array of shape (F,)</code></td>"
        "<td><code>list of tinycnn.callbacks.Callback</code></td>")


# ----------------------------------------------------------------------- the build hook
def test_hook_finds_cells_in_tabs_and_skips_norun_and_other_languages(hook):
    hook = hook("execute")
    markdown = "\n".join([
        "# t", "```python", "a = 1", "```", "", "=== \"tab\"", "", "    ```python", "    b = a + 1",
        "    print(b)", "    ```", "", "```python norun", "import keras", "```", "", "````markdown",
        "```python", "not a cell", "```", "````", "~~~python", "c = 3", "~~~",
    ])
    tagged, cells = hook.find_and_tag_cells(markdown)
    assert [c.source for c in cells] == ["a = 1", "b = a + 1\nprint(b)", "c = 3"]
    assert [c.line for c in cells] == [2, 8, 22]
    assert "    ``` {.python .tc-cell-src-2}" in tagged
    assert "```python\nimport keras" in tagged          # norun: plain highlighted block
    assert "```python\nnot a cell" in tagged            # inside a 4-backtick block: untouched


def test_failing_cell_fails_the_build_with_page_line_and_traceback(hook):
    hook = hook("execute")
    from mkdocs.exceptions import PluginError

    _, cells = hook.find_and_tag_cells("text\n\n```python\nx = 1\n```\n\n```python\ny = x +\n```\n")
    with pytest.raises(PluginError) as info:
        hook._execute(cells, "demo.md")
    message = str(info.value)
    assert "docs/demo.md" in message and "cell 2" in message and "line 8" in message
    assert "SyntaxError" in message


def test_cell_output_html_escapes_and_orders_parts(hook):
    hook = hook("execute")
    markup = hook.output_html({"stdout": "a < b\n", "stderr": "", "result": "'<x>'", "error": None,
                               "images": [{"png": "AAAA", "alt": 'a "quoted" alt'}]})
    assert markup == (
        '<div class="tc-output" aria-live="polite"><pre class="tc-stdout">a &lt; b</pre>'
        '<pre class="tc-result">&#x27;&lt;x&gt;&#x27;</pre><img class="tc-image" '
        'src="data:image/png;base64,AAAA" alt="a &quot;quoted&quot; alt"></div>')
    assert hook._json_for_script("</script><!--") == '"\\u003c/script\\u003e\\u003c!--"'
