"""Build-time figures as image files: light and dark variants, right-sized and compressed.

Used by ``execute.py`` (not a hook itself). The cells' figures come from ``cellrunner.run_cell``
as PNG (base64); this module

* draws a dark variant of each matplotlib figure (:func:`dark_variant`, passed to ``run_cell``
  as its ``figure_hook``): the same figure with a transparent background and light text, axes and
  ticks, while images, patches and the text drawn over them keep their colours;
* encodes every image at the size it is shown (never wider than :data:`MAX_WIDTH` pixels) as
  lossless PNG, lossless WebP and lossy WebP, and keeps the smallest lossless one, or the lossy
  one when it is less than half of that (photos): :func:`encode`;
* writes them to ``assets/figures/<page>-<cell>-<n>[-dark].<hash>.<ext>`` (content-hashed names,
  so a host may cache them forever) and returns ``<img>`` tags with width, height and alt text,
  lazily loaded. With two variants, CSS (``stylesheets/site.css``) shows the one of the current
  colour scheme; the hidden one is ``display: none`` and lazy, so Chromium does not download it.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import logging
from pathlib import Path
from typing import Any, Dict, List, Tuple

log = logging.getLogger("mkdocs.hooks.figures")

#: Folder of the figure files in the built site.
FIGURES_DIR = "assets/figures"
#: Widest figure in pixels: the content column of the theme is at most ~800 CSS pixels wide.
MAX_WIDTH = 800
#: Lossy WebP quality, and how much smaller than the best lossless file it must be to be used.
LOSSY_QUALITY = 90
LOSSY_GAIN = 0.5

# Dark variant colours: Material's slate scheme (text ~ --md-default-fg-color, lines lighter grey).
DARK_TEXT = "#e3e5ec"
DARK_LINE = "#a9adba"
DARK_PANEL = "#2a2d38"


# ----------------------------------------------------------------------------------------------
# Dark variant of a matplotlib figure
# ----------------------------------------------------------------------------------------------
def _is_dark(colour: Any) -> bool:
    from matplotlib.colors import to_rgba

    try:
        red, green, blue, alpha = to_rgba(colour)
    except ValueError:
        return False
    return alpha > 0 and 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.35


def _is_white(colour: Any) -> bool:
    from matplotlib.colors import to_rgba

    try:
        red, green, blue, alpha = to_rgba(colour)
    except ValueError:
        return False
    return alpha > 0 and min(red, green, blue) > 0.93


def _over_content(axes: Any, text: Any) -> bool:
    """Whether a text of ``axes`` is drawn over one of its images or filled patches (then its
    colour was chosen against that content and stays)."""
    try:
        x, y = text.get_transform().transform(text.get_position())
    except Exception:  # pragma: no cover - odd transforms: leave the text alone
        return True
    for image in axes.images:
        left, right, bottom, top = image.get_extent()
        corners = axes.transData.transform([(left, bottom), (right, top)])
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        if x0 <= x <= x1 and y0 <= y <= y1:
            return True
    for patch in axes.patches:
        if patch.get_fill() and patch.contains_point((x, y)):
            return True
    return False


def restyle_dark(figure: Any) -> None:
    """Recolour ``figure`` in place for a dark page (see the module docstring)."""
    figure.patch.set_alpha(0.0)
    texts = list(figure.texts)
    suptitle = getattr(figure, "_suptitle", None)
    if suptitle is not None:
        texts.append(suptitle)
    for axes in figure.get_axes():
        if _is_white(axes.patch.get_facecolor()):
            axes.patch.set_alpha(0.0)
        for spine in axes.spines.values():
            if _is_dark(spine.get_edgecolor()):
                spine.set_edgecolor(DARK_LINE)
        axes.tick_params(which="both", colors=DARK_LINE, labelcolor=DARK_TEXT)
        texts.extend([axes.title, axes._left_title, axes._right_title,
                      axes.xaxis.label, axes.yaxis.label])
        texts.extend(text for text in axes.texts if not _over_content(axes, text))
        for line in axes.lines:
            if _is_dark(line.get_color()):
                line.set_color(DARK_TEXT)
        for line in axes.get_xgridlines() + axes.get_ygridlines():
            line.set_color(DARK_LINE)
        legend = axes.get_legend()
        if legend is not None:
            legend.get_frame().set_facecolor(DARK_PANEL)
            legend.get_frame().set_edgecolor(DARK_LINE)
            texts.extend(legend.get_texts())
            if legend.get_title() is not None:
                texts.append(legend.get_title())
    for text in texts:
        if _is_dark(text.get_color()):
            text.set_color(DARK_TEXT)


def dark_variant(figure: Any) -> Dict[str, str]:
    """``run_cell``'s ``figure_hook``: ``{"png_dark": base64 PNG}`` of the restyled figure."""
    restyle_dark(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight", transparent=False,
                   facecolor=(0, 0, 0, 0))
    return {"png_dark": base64.b64encode(buffer.getvalue()).decode("ascii")}


# ----------------------------------------------------------------------------------------------
# Encoding
# ----------------------------------------------------------------------------------------------
def encode(png: bytes) -> Tuple[bytes, str, int, int, Dict[str, int]]:
    """(file bytes, extension, width, height, sizes of every candidate) for one PNG image."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.load()
    if image.width > MAX_WIDTH:
        height = round(image.height * MAX_WIDTH / image.width)
        image = image.resize((MAX_WIDTH, height), Image.LANCZOS)
    has_alpha = image.mode in ("RGBA", "LA") and image.getextrema()[-1][0] < 255
    image = image.convert("RGBA" if has_alpha else "RGB")
    candidates: Dict[str, bytes] = {}
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    candidates["png"] = buffer.getvalue()
    colours = image.getcolors(256)
    if colours is not None:  # at most 256 colours: a palette PNG is still lossless
        buffer = io.BytesIO()
        image.quantize(colors=len(colours), method=Image.FASTOCTREE if has_alpha else Image.MEDIANCUT,
                       dither=Image.Dither.NONE).save(buffer, "PNG", optimize=True)
        if _same_pixels(buffer.getvalue(), image):
            candidates["png8"] = buffer.getvalue()
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", lossless=True, method=6)
    candidates["webp"] = buffer.getvalue()
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=LOSSY_QUALITY, method=6)
    candidates["webp-lossy"] = buffer.getvalue()
    sizes = {name: len(data) for name, data in candidates.items()}
    lossless = min((name for name in candidates if name != "webp-lossy"), key=sizes.get)
    chosen = "webp-lossy" if sizes["webp-lossy"] < LOSSY_GAIN * sizes[lossless] else lossless
    extension = "webp" if chosen.startswith("webp") else "png"
    return candidates[chosen], extension, image.width, image.height, dict(sizes, chosen=chosen)


def _same_pixels(png: bytes, image: Any) -> bool:
    from PIL import Image, ImageChops

    decoded = Image.open(io.BytesIO(png)).convert(image.mode)
    return ImageChops.difference(decoded, image).getbbox() is None


# ----------------------------------------------------------------------------------------------
# Files and markup
# ----------------------------------------------------------------------------------------------
class FigureStore:
    """The figure files of one build: ``add`` while pages render, ``write`` after the build."""

    def __init__(self) -> None:
        self.files: Dict[str, bytes] = {}
        self.report: List[Tuple[str, Dict[str, int]]] = []
        self._encoded: Dict[str, Tuple[bytes, str, int, int, Dict[str, int]]] = {}

    def add(self, name: str, png: bytes) -> Tuple[str, int, int]:
        """Store one image; return (its path in the site, width, height)."""
        key = hashlib.sha256(png).hexdigest()
        if key not in self._encoded:  # `mkdocs serve` re-renders pages with the same figures
            self._encoded[key] = encode(png)
        data, extension, width, height, sizes = self._encoded[key]
        path = "%s/%s.%s.%s" % (FIGURES_DIR, name, hashlib.sha256(data).hexdigest()[:10], extension)
        if path not in self.files:
            self.report.append((path, sizes))
        self.files[path] = data
        return path, width, height

    def write(self, site_dir: str) -> None:
        folder = Path(site_dir) / FIGURES_DIR
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in self.files.items():
            (Path(site_dir) / path).write_bytes(data)
        if self.report:
            total = {key: sum(sizes[key] for _, sizes in self.report if key in sizes)
                     for key in ("png", "webp", "webp-lossy")}
            chosen = sum(len(data) for data in self.files.values())
            log.info("[figures] %d files, %.0f kB (all PNG %.0f kB, all lossless WebP %.0f kB, "
                     "all lossy WebP %.0f kB)", len(self.files), chosen / 1e3, total["png"] / 1e3,
                     total["webp"] / 1e3, total["webp-lossy"] / 1e3)


def img_tag(src: str, width: int, height: int, alt: str, classes: str) -> str:
    return ('<img class="%s" src="%s" width="%d" height="%d" alt="%s" loading="lazy" '
            'decoding="async">' % (classes, html.escape(src, quote=True), width, height,
                                   html.escape(alt, quote=True)))


def figure_html(store: FigureStore, image: Dict[str, str], name: str, relative: Any) -> str:
    """The ``<img>`` tag(s) of one cell image (light and, when drawn, dark variant).

    ``relative(path)`` turns a site path into a URL relative to the page.
    """
    light = base64.b64decode(image["png"])
    if not image.get("png_dark"):
        path, width, height = store.add(name, light)
        return img_tag(relative(path), width, height, image["alt"], "tc-image")
    path, width, height = store.add(name, light)
    dark_path, dark_width, dark_height = store.add(name + "-dark", base64.b64decode(image["png_dark"]))
    return (img_tag(relative(path), width, height, image["alt"], "tc-image tc-figure-light")
            + img_tag(relative(dark_path), dark_width, dark_height, image["alt"],
                      "tc-image tc-figure-dark"))
