"""Build-time figures are image files (docs/hooks/figures.py): right-sized, with width, height,
alt text and lazy loading, a dark variant for every matplotlib figure, and light pages.

The unit tests check the encoder and the dark restyling against independent facts (the pixels
that went in; colours set by hand), the ``site`` tests check the built site."""
from __future__ import annotations

import html
import importlib.util
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Pages exempt from the 300 kB HTML budget (they still count toward the 1,000 kB first view).
HTML_BUDGET_EXEMPT = {"api", "notebooks/cnn-from-scratch"}
HTML_BUDGET = 300_000


def _figures():
    spec = importlib.util.spec_from_file_location("figures_under_test", ROOT / "docs/hooks/figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def site_pages(site: Path):
    """(slug, html text) of every page of the built site, 404 included."""
    for path in sorted(site.rglob("*.html")):
        if "assets" in path.relative_to(site).parts:
            continue
        slug = path.relative_to(site).parent.as_posix().strip(".")
        yield (slug if path.name == "index.html" else path.stem), path, path.read_text(encoding="utf-8")


def attributes(tag: str) -> dict:
    return {name: html.unescape(value) for name, value in re.findall(r'([\w-]+)="([^"]*)"', tag)}


# ---------------------------------------------------------------------------------- unit
@pytest.mark.image
def test_encode_keeps_every_pixel_of_a_flat_figure_and_right_sizes_wide_ones():
    from PIL import Image

    figures = _figures()
    picture = Image.new("RGB", (300, 120), (255, 255, 255))
    for x in range(0, 300, 7):  # thin coloured stripes: lossless formats only are worth it
        for y in range(120):
            picture.putpixel((x, y), (31, 119, 180) if x % 2 else (255, 127, 14))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    data, extension, width, height, sizes = figures.encode(buffer.getvalue())
    assert (width, height) == (300, 120)
    assert sizes["chosen"] != "webp-lossy"
    decoded = Image.open(io.BytesIO(data)).convert("RGB")
    assert decoded.tobytes() == picture.tobytes()
    assert len(data) == min(size for name, size in sizes.items() if name not in ("chosen", "webp-lossy"))

    wide = Image.new("RGB", (1600, 400), (200, 10, 10))
    buffer = io.BytesIO()
    wide.save(buffer, "PNG")
    _, _, width, height, _ = figures.encode(buffer.getvalue())
    assert (width, height) == (figures.MAX_WIDTH, 200)


@pytest.mark.image
def test_dark_variant_recolours_the_frame_but_not_the_data_or_text_over_it():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import to_hex

    figures = _figures()
    fig, ax = plt.subplots()
    ax.imshow(np.arange(4.0).reshape(2, 2), cmap="gray")
    over = ax.text(0, 0, "on the image", color="black")
    beside = ax.text(3.0, 0.5, "beside it", color="black")
    ax.set_title("title")
    ax.set_xlim(-0.5, 4)
    figures.restyle_dark(fig)
    assert to_hex(over.get_color()) == "#000000"
    assert to_hex(beside.get_color()) == figures.DARK_TEXT
    assert to_hex(ax.title.get_color()) == figures.DARK_TEXT
    assert fig.patch.get_alpha() == 0.0
    plt.close(fig)


# ---------------------------------------------------------------------------------- site
@pytest.mark.site
def test_no_page_embeds_build_time_images(built_site):
    for slug, _, text in site_pages(built_site):
        inline = re.findall(r'<img\b[^>]*src="data:[^>]*>', text)  # (CSS icons may stay inline)
        assert not inline, "/%s/ still inlines images: %s" % (slug, inline[0][:100])


@pytest.mark.site
def test_figures_are_files_with_their_size_alt_text_and_lazy_loading(built_site):
    from PIL import Image

    count = 0
    for slug, path, text in site_pages(built_site):
        for tag in re.findall(r"<img\b[^>]*>", text):
            attrs = attributes(tag)
            if "tc-image" not in attrs.get("class", "").split():
                continue
            count += 1
            file = (path.parent / attrs["src"]).resolve()
            assert file.is_file() and "assets/figures" in file.as_posix(), (slug, attrs["src"])
            assert attrs.get("alt", "").strip(), (slug, tag)
            with Image.open(file) as image:
                assert (int(attrs["width"]), int(attrs["height"])) == image.size, (slug, tag)
            assert attrs.get("loading") == "lazy" and attrs.get("decoding") == "async", tag
    assert count >= 40, count  # 24 light + dark figures, heatmaps and the notebook's figure


@pytest.mark.site
def test_every_matplotlib_figure_has_a_transparent_dark_variant(built_site):
    from PIL import Image

    pairs = 0
    for slug, path, text in site_pages(built_site):
        for light, dark in re.findall(r'(<img class="tc-image tc-figure-light"[^>]*>)'
                                      r'(<img class="tc-image tc-figure-dark"[^>]*>)?', text):
            assert dark, "/%s/: a figure without a dark variant: %s" % (slug, light[:120])
            light, dark = attributes(light), attributes(dark)
            assert light["alt"] == dark["alt"]
            assert (light["width"], light["height"]) == (dark["width"], dark["height"])
            with Image.open((path.parent / light["src"]).resolve()) as image:
                assert image.convert("RGBA").getpixel((0, 0))[3] == 255
            with Image.open((path.parent / dark["src"]).resolve()) as image:
                assert image.convert("RGBA").getpixel((0, 0))[3] == 0  # the page shows through
            pairs += 1
    assert pairs >= 15, pairs  # 17 figures in the tutorial today


@pytest.mark.site
def test_chapter_html_stays_under_its_budget(built_site):
    for slug, path, _ in site_pages(built_site):
        if slug in HTML_BUDGET_EXEMPT:
            continue
        assert path.stat().st_size <= HTML_BUDGET, "/%s/ is %d bytes of HTML" % (slug, path.stat().st_size)
