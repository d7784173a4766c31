"""MkDocs hook: run every ``python`` code block of the site at build time and show its output.

What it does, page by page (see the "runnable-cell contract" in the project notes):

1. ``on_page_markdown``: finds fenced blocks whose info string is exactly ``python`` (the *cells*),
   runs them in order in one namespace per page with :func:`cellrunner.run_cell` (working
   directory: a fresh temporary folder), and tags each block so it can be found in the HTML.
   A failing cell stops the build with the page, the cell's line and the traceback.
   Blocks marked ``python norun`` are only highlighted.
2. ``on_page_content``: wraps each tagged, highlighted block in ``<div class="tc-cell">`` together
   with its exact source (JSON) and its captured output (text, results, PNG figures as data URIs),
   and renders the page's math (``pymdownx.arithmatex``) to HTML with KaTeX at build time.
3. ``on_files``: adds KaTeX's stylesheet and fonts (npm ``katex@0.16.9``, fetched into the
   cache by ``common.npm_fetch``, never committed) to the site.

Cells are found by ``common.find_cells``, the parser every hook uses.

Running ``mkdocs build`` therefore needs ``npm`` (first run only, to fetch KaTeX) and ``node``
(to render math).
"""
from __future__ import annotations

import hashlib
import html
import importlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import common
from common import HOOKS, ROOT
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

KATEX_SPEC = "katex@0.16.9"
KATEX_SITE_DIR = "assets/katex"

_MPLBACKEND = os.environ.get("MPLBACKEND")
import cellrunner  # noqa: E402 - after saving MPLBACKEND, which cellrunner sets
import figures  # noqa: E402 - build-time figure files (light/dark, WebP/PNG)

_figure_store = figures.FigureStore()


def _restore_mplbackend() -> None:
    """Undo cellrunner's ``MPLBACKEND=Agg`` (meant for the browser's Python).

    In the build it would leak into the Jupyter kernels that mkdocs-jupyter starts and hide
    their inline figures; the build selects Agg with ``matplotlib.use()`` instead (_execute).
    """
    if _MPLBACKEND is None:
        os.environ.pop("MPLBACKEND", None)
    else:
        os.environ["MPLBACKEND"] = _MPLBACKEND


_restore_mplbackend()

# ----------------------------------------------------------------------------------------------
# Finding cells in Markdown
# ----------------------------------------------------------------------------------------------
_MARKER = "tc-cell-src-"


class Cell:
    """One executed ``python`` block of a page."""

    def __init__(self, number: int, line: int, source: str) -> None:
        self.number = number      # 1-based position among the page's cells
        self.line = line          # 1-based line of the opening fence in the Markdown file
        self.source = source
        self.output: Dict[str, Any] = {}
        self.seconds = 0.0


def find_and_tag_cells(markdown: str) -> Tuple[str, List[Cell]]:
    """Return the Markdown with every ``python`` fence tagged, and the list of cells.

    ``python`` fences become ``{.python .tc-cell-src-N}`` (so the highlighted block can be found
    in the HTML); ``python norun`` fences become plain ``python`` fences.
    """
    lines = markdown.split("\n")
    cells: List[Cell] = []
    for fence in common.fences(lines, PluginError):
        if fence.is_cell:
            cell = Cell(len(cells) + 1, fence.start + 1, fence.source)
            cells.append(cell)
            lines[fence.start] = "%s%s {.python .%s%d}" % (fence.indent, fence.fence, _MARKER, cell.number)
        elif fence.is_norun:
            lines[fence.start] = "%s%spython" % (fence.indent, fence.fence)
    return "\n".join(lines), cells


# ----------------------------------------------------------------------------------------------
# Running cells
# ----------------------------------------------------------------------------------------------
def _reset_matplotlib() -> None:
    """Give every page the same matplotlib defaults (a page must not restyle the next one)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    import matplotlib

    pyplot.close("all")
    matplotlib.rcParams.update(matplotlib.rcParamsDefault)
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (6.4, 4.0),
                                "axes.titlesize": "medium"})
    pyplot.switch_backend("Agg")


def _seed_everything() -> None:
    random.seed(0)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(0)
    try:
        from tinycnn.utils import set_random_seed
    except ImportError:
        return
    set_random_seed(0)


# ----------------------------------------------------------------------------------------------
# A cache of cell outputs, so that `mkdocs serve` rebuilds fast
# ----------------------------------------------------------------------------------------------
CACHE_DIR = ROOT / ".cache" / "tinycnn-cells"
_code_fingerprint: Optional[str] = None


def _fingerprint_code() -> str:
    """Hash of everything that can change a cell's output besides its source: tinycnn's code and
    data files, this hook, cellrunner, and the versions of Python and the libraries."""
    global _code_fingerprint
    if _code_fingerprint is None:
        paths = common.source_files(ROOT / "tinycnn") + [HOOKS / "cellrunner.py", HOOKS / "figures.py",
                                                           Path(__file__)]
        digest = common.hash_files(paths)
        digest.update(sys.version.encode())
        for name in ("numpy", "matplotlib", "sklearn", "PIL"):
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            digest.update(("%s=%s" % (name, getattr(module, "__version__", "?"))).encode())
        _code_fingerprint = digest.hexdigest()
    return _code_fingerprint


def _cache_path(cells: List[Cell], page_path: str) -> Optional[Path]:
    """Where the outputs of this exact page are cached; None when caching is off
    (``TINYCNN_CELL_CACHE=0``)."""
    if common.env_setting("TINYCNN_CELL_CACHE") == "0":
        return None
    digest = hashlib.sha256(_fingerprint_code().encode())
    digest.update(page_path.encode())
    for cell in cells:
        digest.update(b"\x00cell\x00" + cell.source.encode())
    return CACHE_DIR / ("%s.json" % digest.hexdigest())


def run_page_cells(cells: List[Cell], page_path: str) -> None:
    """Run the cells of one page in order, in one namespace; raise PluginError on failure.

    Outputs of a page whose cells, tinycnn and environment are unchanged come from a cache in
    ``.cache/tinycnn-cells`` (set ``TINYCNN_CELL_CACHE=0`` to always run).
    """
    if not cells:
        return
    cache = _cache_path(cells, page_path)
    if cache is not None and cache.exists():
        outputs = json.loads(cache.read_text(encoding="utf-8"))
        for cell, output in zip(cells, outputs):
            cell.output = output
        common.log("execute", "cell outputs of %s unchanged: taken from the cache" % page_path)
        return
    _execute(cells, page_path)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps([cell.output for cell in cells]), encoding="utf-8")


def _single_threaded_blas() -> Any:
    """A context in which NumPy's BLAS uses one thread (a no-op without threadpoolctl).

    The tutorial's matrices are small: extra BLAS threads only add overhead, and on a busy
    2-core machine they made the cells ~5x slower (stacking.md: 11.9 s with threads, 2.2 s
    without, measured while other processes were running).
    """
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    import numpy  # noqa: F401 - load NumPy's BLAS now, so that the limit applies to it

    return threadpool_limits(limits=1, user_api="blas")


def _execute(cells: List[Cell], page_path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    with _single_threaded_blas():
        _execute_cells(cells, page_path)


def _execute_cells(cells: List[Cell], page_path: str) -> None:
    namespace: Dict[str, Any] = {"__name__": "__main__"}
    previous_cwd = os.getcwd()
    _reset_matplotlib()
    _seed_everything()
    with tempfile.TemporaryDirectory(prefix="tinycnn-cells-") as workdir:
        os.chdir(workdir)
        try:
            for cell in cells:
                name = "%s, cell %d" % (page_path, cell.number)
                started = time.perf_counter()
                cell.output = cellrunner.run_cell(cell.source, namespace, name,
                                                  figure_hook=figures.dark_variant)
                cell.seconds = time.perf_counter() - started
                if cell.output["error"]:
                    raise PluginError(
                        "A code cell failed in docs/%s: cell %d, whose code starts at line %d "
                        "(traceback line numbers count from the cell's first line):\n%s"
                        % (page_path, cell.number, cell.line + 1, cell.output["error"])
                    )
        finally:
            os.chdir(previous_cwd)
            _reset_matplotlib()
    total = sum(cell.seconds for cell in cells)
    slowest = max(cells, key=lambda cell: cell.seconds)
    common.log("execute", "executed %d cells of %s in %.1f s (slowest: cell %d, %.1f s)"
               % (len(cells), page_path, total, slowest.number, slowest.seconds))


# ----------------------------------------------------------------------------------------------
# HTML for a cell
# ----------------------------------------------------------------------------------------------
def _json_for_script(text: str) -> str:
    """JSON string literal that is safe inside ``<script>`` (no ``</script>``, no ``<!--``)."""
    return (json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def output_html(output: Dict[str, Any], figure_tag: Any = None) -> str:
    """The ``<div class="tc-output">`` of a cell (empty parts omitted).

    ``figure_tag(image, n)`` gives the markup of the cell's n-th image (files written by
    ``figures.py``); without it, images are inline PNG data URIs.
    """
    parts = []
    for key in ("stdout", "stderr", "result", "error"):
        text = output.get(key)
        if text:
            parts.append('<pre class="tc-%s">%s</pre>' % (key, html.escape(text.rstrip("\n"))))
    for number, image in enumerate(output.get("images", []), 1):
        if figure_tag is not None:
            parts.append(figure_tag(image, number))
            continue
        parts.append('<img class="tc-image" src="data:image/png;base64,%s" alt="%s">'
                     % (image["png"], html.escape(image["alt"], quote=True)))
    return '<div class="tc-output" aria-live="polite">%s</div>' % "".join(parts)


#: A cell's toolbar, written by the build so that nothing moves when the page's script takes it
#: over (docs/javascripts/runtime.js, setupCell): until then its buttons are disabled.
CELL_TOOLBAR = (
    '<div class="tc-toolbar" role="toolbar" aria-label="Cell %d">'
    '<button type="button" class="tc-button tc-run" disabled '
    'title="Run this cell (Shift+Enter or Ctrl+Enter in the editor)">Run</button>'
    '<button type="button" class="tc-button tc-stop" disabled title="Stop the running code">Stop</button>'
    '<button type="button" class="tc-button tc-reset" disabled title="Put back the original code">Reset</button>'
    '<button type="button" class="tc-button tc-copy" disabled title="Copy the code">Copy</button>'
    '<span class="tc-origin">Output computed when the site was built</span></div>'
)

#: The page bar's place, before a page's first cell; runtime.js fills it. Its CSS keeps the
#: height of its contents (docs/stylesheets/runtime.css), so the page does not jump then.
PAGE_BAR = '<div class="tc-pagebar" role="region" aria-label="Python in this page"></div>'


def cell_html(cell: Cell, highlighted: str, figure_tag: Any = None) -> str:
    tag = None if figure_tag is None else (
        lambda image, number: figure_tag(image, "%d-%d" % (cell.number, number)))
    return (
        '<div class="tc-cell" data-runnable data-cell="%d">'
        '<script type="application/json" class="tc-source">%s</script>%s%s%s</div>'
        % (cell.number, _json_for_script(cell.source), highlighted, CELL_TOOLBAR % cell.number,
           output_html(cell.output, tag))
    )


_HIGHLIGHT_DIV = re.compile(
    r'<div class="(?P<classes>[^"]*\b' + _MARKER + r'(?P<number>\d+)\b[^"]*)"(?P<rest>[^>]*)>'
    r"(?P<body>.*?)</div>",
    re.DOTALL,
)


def wrap_cells(page_html: str, cells: List[Cell], page_path: str, figure_tag: Any = None) -> str:
    """Replace each tagged highlight block by the full cell HTML.

    ``figure_tag(image, "cell-n")``: markup of a cell's image (see :func:`output_html`)."""
    by_number = {cell.number: cell for cell in cells}
    seen = []

    def replace(match: "re.Match[str]") -> str:
        number = int(match.group("number"))
        seen.append(number)
        classes = match.group("classes").replace(_MARKER + str(number), "language-python").split()
        highlighted = '<div class="%s"%s>%s</div>' % (" ".join(classes), match.group("rest"),
                                                      match.group("body"))
        return (PAGE_BAR if len(seen) == 1 else "") + cell_html(by_number[number], highlighted, figure_tag)

    page_html = _HIGHLIGHT_DIV.sub(replace, page_html)
    if sorted(seen) != sorted(by_number):
        missing = sorted(set(by_number) - set(seen))
        raise PluginError(
            "docs/%s: code cells %s ran but were not rendered as code blocks (check the fence's "
            "indentation inside tabs/admonitions)" % (page_path, missing))
    return page_html


# ----------------------------------------------------------------------------------------------
# Math: KaTeX at build time
# ----------------------------------------------------------------------------------------------
_MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?P<tex>.*?)</(?P=tag)>', re.DOTALL)

_KATEX_SCRIPT = r"""
const katex = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const items = JSON.parse(input);
  const out = items.map(([tex, display]) =>
    katex.renderToString(tex, {displayMode: display, throwOnError: true, output: "htmlAndMathml"}));
  process.stdout.write(JSON.stringify(out));
});
"""


def katex_folder() -> Path:
    return common.npm_fetch(KATEX_SPEC)


def render_math(page_html: str, page_path: str) -> str:
    """Render arithmatex's ``\\( \\)`` / ``\\[ \\]`` spans and divs to KaTeX HTML."""
    matches = list(_MATH.finditer(page_html))
    if not matches:
        return page_html
    items = []
    for match in matches:
        tex = html.unescape(match.group("tex")).strip()
        display = tex.startswith("\\[")
        items.append([tex[2:-2].strip(), display])
    node = _which("node")
    proc = subprocess.run(
        [node, "-e", _KATEX_SCRIPT, str(katex_folder() / "dist" / "katex.js")],
        input=json.dumps(items), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True,
    )
    if proc.returncode != 0:
        raise PluginError("KaTeX could not render the math of docs/%s:\n%s"
                          % (page_path, proc.stderr.strip()[-3000:]))
    rendered = iter(json.loads(proc.stdout))

    def replace(match: "re.Match[str]") -> str:
        markup = next(rendered)
        if match.group("tag") == "div":
            return '<div class="arithmatex tc-math-display">%s</div>' % markup
        return '<span class="arithmatex">%s</span>' % markup

    return _MATH.sub(replace, page_html)


def _which(program: str) -> str:
    import shutil

    found = shutil.which(program)
    if found is None:
        raise PluginError(
            "building the site needs '%s' (Node.js) to render math with KaTeX; install it, e.g. "
            "'apt-get install -y nodejs npm'" % program)
    return found


# ----------------------------------------------------------------------------------------------
# MkDocs events
# ----------------------------------------------------------------------------------------------
_cells_by_page: Dict[str, List[Cell]] = {}


def on_config(config: Any) -> Any:
    _restore_mplbackend()
    css = "%s/katex.min.css" % KATEX_SITE_DIR
    if css not in config["extra_css"]:
        config["extra_css"].insert(0, css)
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add KaTeX's CSS and fonts (from the npm cache) to the site."""
    dist = katex_folder() / "dist"
    names = ["katex.min.css"] + ["fonts/" + font.name for font in sorted((dist / "fonts").iterdir())
                                 if font.suffix == ".woff2"]
    for name in names:
        files.append(File.generated(config, "%s/%s" % (KATEX_SITE_DIR, name),
                                    abs_src_path=str(dist / name)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    _restore_mplbackend()  # in case another hook loaded cellrunner after this one
    tagged, cells = find_and_tag_cells(markdown)
    _cells_by_page[page.file.src_uri] = cells
    run_page_cells(cells, page.file.src_uri)
    return tagged


_NO_ALT = 'alt="No description has been provided for this image"'


def notebook_alt_texts(page_html: str, notebook_path: str, page_path: str) -> str:
    """Give the figures of a notebook page (rendered by mkdocs-jupyter/nbconvert) real alt text.

    nbconvert cannot take alt text from a notebook, so each code cell that draws figures lists
    their descriptions in its metadata, ``{"alt": ["...", ...]}``, in output order.
    """
    with open(notebook_path, encoding="utf-8") as handle:
        notebook = json.load(handle)
    alts = [alt for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"
            for alt in cell.get("metadata", {}).get("alt", [])]
    count = page_html.count(_NO_ALT)
    if count != len(alts):
        raise PluginError(
            "docs/%s draws %d figures but its code cells' metadata give %d alt texts "
            '(add {"alt": ["description", ...]} to the metadata of each cell that draws)'
            % (page_path, count, len(alts)))
    for alt in alts:
        page_html = page_html.replace(_NO_ALT, 'alt="%s"' % html.escape(alt, quote=True), 1)
    return page_html


_NOTEBOOK_IMAGE = re.compile(r'<img (?P<before>[^>]*?)src="data:image/png;base64,(?P<png>[^"]+)"'
                             r'(?P<after>[^>]*)>')


def _figure_tagger(page: Any) -> Any:
    """``figure_tag(image, suffix)`` for ``page``: its images become files (figures.py)."""
    from mkdocs.utils import get_relative_url

    slug = re.sub(r"[^A-Za-z0-9]+", "-", page.file.src_uri.rsplit(".", 1)[0]).strip("-")

    def figure_tag(image: Dict[str, str], suffix: str) -> str:
        return figures.figure_html(_figure_store, image, "%s-%s" % (slug, suffix),
                                   lambda path: get_relative_url(path, page.url))
    return figure_tag


def notebook_figures(page_html: str, figure_tag: Any) -> str:
    """The notebook's inline PNG outputs (nbconvert) become image files too."""
    numbers = iter(range(1, 1 << 30))

    def replace(match: "re.Match[str]") -> str:
        alt = re.search(r'alt="([^"]*)"', match.group("before") + match.group("after"))
        image = {"png": match.group("png"), "alt": html.unescape(alt.group(1)) if alt else ""}
        return figure_tag(image, "%d" % next(numbers))

    return _NOTEBOOK_IMAGE.sub(replace, page_html)


def on_page_content(page_html: str, page: Any, config: Any, files: Files) -> str:
    cells = _cells_by_page.pop(page.file.src_uri, [])
    figure_tag = _figure_tagger(page)
    if cells:
        page_html = wrap_cells(page_html, cells, page.file.src_uri, figure_tag)
    if page.file.src_uri.endswith(".ipynb"):
        page_html = notebook_alt_texts(page_html, page.file.abs_src_path, page.file.src_uri)
        page_html = notebook_figures(page_html, figure_tag)
    return render_math(page_html, page.file.src_uri)


def on_post_build(config: Any) -> None:
    """Write the figure files of the pages (assets/figures/)."""
    _figure_store.write(config["site_dir"])
