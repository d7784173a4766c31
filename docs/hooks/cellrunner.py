"""Run one notebook-style code cell and capture everything it shows.

This single file is shared by the two places where tinycnn's tutorial code runs:

* at build time, by the MkDocs hook ``docs/hooks/execute.py`` (CPython + the real tinycnn);
* in the reader's browser, by the in-page runtime (Pyodide 0.17: Python 3.8, NumPy 1.17.5).

So it uses only the standard library, plus NumPy and matplotlib *only if the cell's own code has
already imported them* (it never imports them itself), and it runs on Python 3.8.

The one entry point is :func:`run_cell`::

    namespace = {}
    out = run_cell("x = 2\\nprint('hi')\\nx * 21", namespace, cell_name="demo")
    out["stdout"]  # 'hi\\n'
    out["result"]  # '42'

Cells of one page share one ``namespace`` dict, in order, like a Jupyter notebook.
"""
from __future__ import annotations

import ast
import base64
import contextlib
import io
import linecache
import os
import struct
import sys
import traceback
import warnings
import zlib
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = ["run_cell", "resolve_carriage_returns", "array_to_png", "heatmap_rgb", "encode_png"]

# Matplotlib must draw off-screen (Agg) in both places. Setting the variable before the cell
# imports matplotlib is enough; if it was imported already, run_cell switches the backend.
os.environ.setdefault("MPLBACKEND", "Agg")

#: Arrays larger than this (in elements) are not drawn as heatmaps (the picture would be useless
#: and the data URI huge).
MAX_HEATMAP_ELEMENTS = 1 << 20

#: Target size in pixels of the longer side of an array heatmap (small arrays are scaled up).
HEATMAP_TARGET_PIXELS = 240


# ----------------------------------------------------------------------------------------------
# Output clean-up
# ----------------------------------------------------------------------------------------------
def resolve_carriage_returns(text: str) -> str:
    """Each line as a terminal shows it: a ``\\r`` returns to the line's start, and the text
    after it overwrites the line from there (what a shorter redraw does not reach stays).

    Progress bars print ``"\\r 3/10 [====>....]"`` over and over on one line; the page shows the
    final state of every line only. (A trailing ``\\r`` or ``\\r\\n`` redraws nothing.)
    runtime.js's ``resolveCarriageReturns`` does the same for the live output; both are tested
    on tests/site/carriage_returns.json.

    >>> resolve_carriage_returns("1/3\\r2/3\\r3/3 done\\nnext")
    '3/3 done\\nnext'
    >>> resolve_carriage_returns("abcdef\\rxy")
    'xycdef'
    """
    if "\r" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        screen = ""
        for segment in line.split("\r"):
            screen = segment + screen[len(segment):]
        lines.append(screen)
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# A tiny PNG encoder (no matplotlib, no Pillow), for 2-D array results
# ----------------------------------------------------------------------------------------------
def encode_png(rgb: Any) -> bytes:
    """Encode an RGB image as PNG bytes.

    Parameters
    ----------
    rgb : numpy.ndarray of uint8, shape ``(rows, cols, 3)``

    Returns
    -------
    bytes
        A complete PNG file (8-bit truecolour, no interlace).
    """
    import numpy as np

    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(
            "encode_png expects a uint8 array of shape (rows, cols, 3), got dtype %s and shape %s"
            % (rgb.dtype, rgb.shape)
        )
    rows, cols = rgb.shape[0], rgb.shape[1]
    if rows == 0 or cols == 0:
        raise ValueError("encode_png cannot encode an empty image of shape %s" % (rgb.shape,))
    # Every scanline starts with filter type 0 ("None").
    raw = np.zeros((rows, 1 + 3 * cols), dtype=np.uint8)
    raw[:, 1:] = rgb.reshape(rows, 3 * cols)

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", cols, rows, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


# Colours (RGB) at evenly spaced anchors; values are interpolated linearly between them.
# Blue (negative) -> white (zero) -> red (positive), like matplotlib's "RdBu_r".
_DIVERGING = ((33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43))
_NAN_COLOUR = (255, 0, 255)
_GRID_COLOUR = (160, 160, 160)


def _colour_map(t: Any, anchors: Tuple[Tuple[int, int, int], ...]) -> Any:
    """Map values ``t`` in [0, 1] (any shape) to uint8 RGB, shape ``t.shape + (3,)``."""
    import numpy as np

    table = np.asarray(anchors, dtype=np.float64)
    positions = np.linspace(0.0, 1.0, len(anchors))
    out = np.empty(t.shape + (3,), dtype=np.float64)
    for channel in range(3):
        out[..., channel] = np.interp(t, positions, table[:, channel])
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def heatmap_rgb(array: Any) -> Tuple[Any, str]:
    """Colour a 2-D numeric array, one flat colour block per element.

    Every array uses the same diverging blue-white-red map centred on zero: white = 0, dark blue
    = the most negative value, dark red = the most positive one (the largest magnitude sets the
    scale), so a colour always says the sign, as the convolution page's key says; an array of
    one sign is white-to-red (or blue-to-white). NaN and infinite values are magenta. Small arrays are scaled up (nearest neighbour) with thin grid lines
    between elements, so a 3x3 matrix becomes a readable picture.

    Parameters
    ----------
    array : array_like, shape ``(rows, cols)``

    Returns
    -------
    rgb : numpy.ndarray of uint8, shape ``(rows * scale, cols * scale, 3)``
    description : str
        A sentence describing the picture, used as its alt text.
    """
    import numpy as np

    values = np.asarray(array)
    if values.ndim != 2 or values.size == 0:
        raise ValueError("heatmap_rgb expects a non-empty 2-D array, got shape %s" % (values.shape,))
    if values.dtype.kind not in "biuf":
        raise TypeError("heatmap_rgb expects a numeric array, got dtype %s" % (values.dtype,))
    values = values.astype(np.float64)
    finite = np.isfinite(values)
    rows, cols = values.shape
    if finite.any():
        low, high = float(values[finite].min()), float(values[finite].max())
    else:
        low = high = 0.0
    bound = max(-low, high)
    t = (values / bound + 1.0) / 2.0 if bound > 0 else np.full(values.shape, 0.5)
    if low == high:
        scheme = "every value is %s" % _fmt(low)
    elif low >= 0.0:
        scheme = "white = 0, dark red = %s" % _fmt(bound)
    elif high <= 0.0:
        scheme = "dark blue = %s, white = 0" % _fmt(-bound)
    else:
        scheme = "dark blue = %s, white = 0, dark red = %s" % (_fmt(-bound), _fmt(bound))
    scheme = "blue-white-red, " + scheme
    t = np.where(finite, t, 0.5)
    rgb = _colour_map(t, _DIVERGING)
    rgb[~finite] = _NAN_COLOUR

    scale = max(1, HEATMAP_TARGET_PIXELS // max(rows, cols))
    if scale > 1:
        rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
        if scale >= 8:  # grid lines between elements
            rgb[scale::scale, :, :] = _GRID_COLOUR
            rgb[:, scale::scale, :] = _GRID_COLOUR
    description = "Heatmap of a %d\u00d7%d array (%s)" % (rows, cols, scheme)
    if not finite.all():
        description += "; magenta marks NaN or infinite values"
    return rgb, description


def _fmt(value: float) -> str:
    return ("%.4g" % value).replace("-", "\u2212") if value < 0 else "%.4g" % value


def array_to_png(array: Any) -> Tuple[bytes, str]:
    """PNG bytes and alt text of :func:`heatmap_rgb` for a 2-D numeric array."""
    rgb, description = heatmap_rgb(array)
    return encode_png(rgb), description


def _is_heatmap_candidate(value: Any) -> bool:
    numpy = sys.modules.get("numpy")
    if numpy is None or not isinstance(value, numpy.ndarray):
        return False
    return (
        value.ndim == 2
        and min(value.shape) >= 2                    # a matrix, not a single row or column
        and value.dtype.kind in "biuf"
        and value.size <= MAX_HEATMAP_ELEMENTS
    )


# ----------------------------------------------------------------------------------------------
# Matplotlib figures
# ----------------------------------------------------------------------------------------------
def _ensure_agg() -> None:
    """If matplotlib is loaded, make sure it draws with Agg (off-screen)."""
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is None:
        return
    try:
        backend = str(matplotlib.get_backend()).lower()
    except Exception:  # pragma: no cover - very old or partial matplotlib
        return
    if backend != "agg":
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.switch_backend("Agg")
        else:
            matplotlib.use("Agg")


def _figure_alt(figure: Any, number: int) -> str:
    """Alt text of a figure: its label (``plt.figure("...")`` or ``fig.set_label("...")``),
    else its suptitle, else its axes titles."""
    label = figure.get_label()
    if label:
        return str(label)
    suptitle = getattr(figure, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        return suptitle.get_text()
    titles = [axes.get_title() for axes in figure.get_axes() if axes.get_title()]
    if titles:
        return "Figure: " + "; ".join(titles)
    return "Figure %d drawn by the code above" % number


def _collect_figures(figure_hook: Optional[Callable[[Any], Dict[str, str]]] = None
                     ) -> List[Dict[str, str]]:
    """Save every open matplotlib figure as PNG (base64) and close it.

    ``figure_hook(figure)``, if given, is called after the PNG is saved and may add entries to
    the image's dict (the build adds a dark variant of the figure this way).
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    images = []
    for number in pyplot.get_fignums():
        figure = pyplot.figure(number)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        image = {
            "png": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "alt": _figure_alt(figure, number),
        }
        if figure_hook is not None:
            image.update(figure_hook(figure))
        images.append(image)
        pyplot.close(figure)
    return images


# ----------------------------------------------------------------------------------------------
# Running a cell
# ----------------------------------------------------------------------------------------------
def _split_last_expression(tree: ast.Module) -> Tuple[ast.Module, Optional[ast.Expression]]:
    """Split a parsed cell into (statements to exec, final expression to eval or None)."""
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        body = ast.Module(body=tree.body[:-1], type_ignores=[])
        return body, ast.Expression(body=last.value)
    return tree, None


def _format_error(error: BaseException, cell_name: str) -> str:
    """Format a traceback starting at the first frame of the cell's own code.

    Frames of this runner (exec/eval) are dropped; frames in libraries called by the cell are
    kept, so the reader sees where e.g. tinycnn raised its ValueError.
    """
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != cell_name:
        tb = tb.tb_next
    lines = traceback.TracebackException(type(error), error, tb).format()
    return "".join(lines).rstrip("\n")


def _is_matplotlib_object(value: Any) -> bool:
    module = getattr(type(value), "__module__", "") or ""
    if module.startswith("matplotlib"):
        return True
    # e.g. plt.plot(...) returns a list of Line2D
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all((getattr(type(item), "__module__", "") or "").startswith("matplotlib") for item in value)
    )


def run_cell(source: str, namespace: Dict[str, Any], cell_name: str = "<cell>",
             figure_hook: Optional[Callable[[Any], Dict[str, str]]] = None) -> Dict[str, Any]:
    """Execute ``source`` in ``namespace`` like a notebook cell and capture what it shows.

    Parameters
    ----------
    source : str
        Python code of the cell.
    namespace : dict
        Globals of the cell; pass the same dict to every cell of a page so that later cells see
        earlier cells' variables.
    cell_name : str, optional
        Name used as the file name in tracebacks (e.g. ``"convolution.md, cell 3"``).
    figure_hook : callable, optional
        Called with each matplotlib figure after it is saved; the dict it returns is merged into
        that figure's image entry (the build uses it to add a dark variant, ``"png_dark"``).

    Returns
    -------
    dict
        ``{"stdout": str, "stderr": str, "result": str or None, "error": str or None,
        "images": [{"png": str, "alt": str}, ...]}`` where

        * ``stdout``/``stderr``: everything printed, with ``\\r`` redraws resolved;
        * ``result``: ``repr`` of the value of the last line if it is an expression (``None`` when
          that value is ``None``, when the line ends with ``;`` or when it is a matplotlib
          object, whose figure is shown instead);
        * ``error``: the traceback, starting at the cell's own code, or ``None``;
        * ``images``: every open matplotlib figure (PNG, base64; closed afterwards) followed by a
          heatmap of the result when the result is a 2-D numeric NumPy array with at least two
          rows and two columns (a matrix; a single row or column would make a useless strip).
    """
    if not isinstance(source, str):
        raise TypeError("run_cell: source must be a str, got %s" % type(source).__name__)
    if not isinstance(namespace, dict):
        raise TypeError("run_cell: namespace must be a dict, got %s" % type(namespace).__name__)
    namespace.setdefault("__name__", "__main__")
    namespace.setdefault("__builtins__", __builtins__)

    # Register the source so that tracebacks can show the offending line.
    linecache.cache[cell_name] = (len(source), None, source.splitlines(True), cell_name)

    stdout, stderr = io.StringIO(), io.StringIO()
    value: Any = None
    has_value = False
    error: Optional[str] = None
    _ensure_agg()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
            warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*non-GUI backend.*")
        warnings.filterwarnings("ignore", message=".*FigureCanvasAgg is non-interactive.*")
        try:
            tree = ast.parse(source, filename=cell_name, mode="exec")
            body, last = _split_last_expression(tree)
            exec(compile(body, cell_name, "exec"), namespace)
            _ensure_agg()  # the cell may just have imported matplotlib with another backend
            if last is not None:
                value = eval(compile(last, cell_name, "eval"), namespace)
                has_value = not source.rstrip().endswith(";")
        except BaseException as exc:  # noqa: B902 - a cell may raise anything, even SystemExit
            error = _format_error(exc, cell_name)

    result: Optional[str] = None
    images: List[Dict[str, str]] = []
    try:
        images.extend(_collect_figures(figure_hook))
        if has_value and value is not None and not _is_matplotlib_object(value):
            namespace["_"] = value
            result = repr(value)
            if _is_heatmap_candidate(value):
                png, alt = array_to_png(value)
                images.append({"png": base64.b64encode(png).decode("ascii"), "alt": alt})
    except Exception as exc:  # e.g. a broken __repr__ or a figure that cannot be drawn
        error = (error + "\n\n" if error else "") + "".join(
            traceback.format_exception_only(type(exc), exc)).rstrip("\n")
    return {
        "stdout": resolve_carriage_returns(stdout.getvalue()),
        "stderr": resolve_carriage_returns(stderr.getvalue()),
        "result": result,
        "error": error,
        "images": images,
    }
