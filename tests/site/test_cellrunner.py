"""Tests of docs/hooks/cellrunner.py, the notebook-cell runner shared by the site build and the
in-page runtime. Unmarked tests use only the stdlib and NumPy (they also run on Python 3.8 +
NumPy 1.17.5, the in-browser pair); the matplotlib tests carry the ``site`` marker."""
from __future__ import annotations

import base64
import importlib.util
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[2] / "docs" / "hooks" / "cellrunner.py"
_spec = importlib.util.spec_from_file_location("cellrunner_under_test", str(_PATH))
cellrunner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cellrunner)
run_cell = cellrunner.run_cell


def decode_png(data: bytes) -> np.ndarray:
    """Independent minimal PNG reader (8-bit RGB, filter type 0 only), written from the PNG spec."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, f"bad CRC in {tag!r}"
        chunks.append((tag, body))
        pos += 12 + length
    assert [tag for tag, _ in chunks][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (8, 2, 0)
    raw = zlib.decompress(b"".join(body for tag, body in chunks if tag == b"IDAT"))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + 3 * width)
    assert (rows[:, 0] == 0).all(), "expected filter type 0 on every scanline"
    return rows[:, 1:].reshape(height, width, 3)


# ------------------------------------------------------------------------------------- basics
def test_stdout_result_and_shared_namespace():
    namespace = {}
    first = run_cell("x = 6\nprint('hello', x)", namespace, "page, cell 1")
    assert first == {"stdout": "hello 6\n", "stderr": "", "result": None, "error": None, "images": []}
    second = run_cell("y = x * 7\ny", namespace, "page, cell 2")
    assert second["result"] == "42"
    assert namespace["y"] == 42


def test_result_is_repr_and_none_rules():
    ns = {}
    assert run_cell("'a' + 'b'", ns)["result"] == "'ab'"
    assert run_cell("None", ns)["result"] is None
    assert run_cell("print('x')", ns)["result"] is None  # print returns None
    assert run_cell("z = 3", ns)["result"] is None       # a statement has no value
    assert run_cell("z + 1;", ns)["result"] is None      # trailing ';' hides the value
    assert run_cell("for i in range(2):\n    pass\ni", ns)["result"] == "1"


def test_stderr_is_captured_separately():
    out = run_cell("import sys\nprint('out')\nprint('err', file=sys.stderr)", {})
    assert out["stdout"] == "out\n"
    assert out["stderr"] == "err\n"


def test_error_traceback_is_trimmed_to_user_code_and_names_the_line():
    source = "a = 1\ndef f(v):\n    return v / 0\nprint('before')\nf(a)\nprint('after')"
    out = run_cell(source, {}, "conv.md, cell 4")
    assert out["stdout"] == "before\n"
    error = out["error"]
    assert error.startswith("Traceback (most recent call last):")
    assert 'File "conv.md, cell 4", line 5' in error
    assert 'File "conv.md, cell 4", line 3, in f' in error
    assert "return v / 0" in error  # the source line is shown
    assert error.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "cellrunner" not in error and "exec(" not in error


def test_error_in_last_expression_and_later_cells_still_run():
    ns = {}
    out = run_cell("x = 1\nundefined_name + x", ns, "c1")
    assert "NameError" in out["error"] and 'File "c1", line 2' in out["error"]
    assert out["result"] is None
    assert run_cell("x + 1", ns, "c2") == {
        "stdout": "", "stderr": "", "result": "2", "error": None, "images": []}


def test_syntax_error_is_reported_not_raised():
    out = run_cell("x = (1,\nprint('never')", {}, "bad cell")
    assert out["error"] is not None
    assert "SyntaxError" in out["error"] and "bad cell" in out["error"]
    assert out["stdout"] == ""


def test_system_exit_and_keyboard_interrupt_are_captured():
    assert "SystemExit: 3" in run_cell("raise SystemExit(3)", {})["error"]
    assert "KeyboardInterrupt" in run_cell("raise KeyboardInterrupt", {})["error"]


def test_bad_arguments_raise_clear_type_errors():
    with pytest.raises(TypeError, match="source must be a str"):
        run_cell(b"print(1)", {})
    with pytest.raises(TypeError, match="namespace must be a dict"):
        run_cell("1", [])


# ------------------------------------------------------------------------ carriage returns
# resolve_carriage_returns itself: test_carriage_returns.py (the same cases as runtime.js)
def test_progress_bar_in_stdout_is_resolved():
    source = ("import sys\nfor i in range(1, 4):\n    sys.stdout.write('\\rstep %d/3' % i)\n"
              "print()\nprint('done')")
    assert run_cell(source, {})["stdout"] == "step 3/3\ndone\n"


# ----------------------------------------------------------------------------------- PNGs
def test_encode_png_round_trips_exact_pixels():
    rgb = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    decoded = decode_png(cellrunner.encode_png(rgb))
    np.testing.assert_array_equal(decoded, rgb)


def test_encode_png_rejects_wrong_input():
    with pytest.raises(ValueError, match=r"\(rows, cols, 3\)"):
        cellrunner.encode_png(np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        cellrunner.encode_png(np.zeros((2, 2, 3), dtype=np.float32))


def test_heatmap_one_sign_is_white_to_red_and_zero_stays_white():
    """One colour key for every array (the convolution page's): white = 0, red > 0, blue < 0."""
    rgb, alt = cellrunner.heatmap_rgb([[0, 6], [3, 6]])
    scale = cellrunner.HEATMAP_TARGET_PIXELS // 2
    assert rgb.shape == (2 * scale, 2 * scale, 3)
    centre = scale // 2
    assert tuple(rgb[centre, centre]) == (247, 247, 247)             # 0 -> white
    assert tuple(rgb[centre, scale + centre]) == (178, 24, 43)       # 6 = the largest -> dark red
    assert tuple(rgb[scale + centre, centre]) == (244, 165, 130)     # 3 = half of 6 -> light red
    assert tuple(rgb[scale, 5]) == cellrunner._GRID_COLOUR           # grid line between rows
    assert "2\u00d72" in alt and "white = 0" in alt and "dark red = 6" in alt
    negative, alt = cellrunner.heatmap_rgb([[-4, 0]])
    half = cellrunner.HEATMAP_TARGET_PIXELS // 2 // 2
    assert tuple(negative[half, half]) == (33, 102, 172)             # -4 -> dark blue
    assert "dark blue = " in alt and "white = 0" in alt and "red" not in alt.split("white = 0")[1]


def test_heatmap_diverging_centred_on_zero():
    rgb, alt = cellrunner.heatmap_rgb(np.array([[-2.0, 0.0, 1.0]]))
    scale = cellrunner.HEATMAP_TARGET_PIXELS // 3
    row = rgb[scale // 2]
    assert tuple(row[scale // 2]) == (33, 102, 172)                  # -2 = most negative: dark blue
    assert tuple(row[scale + scale // 2]) == (247, 247, 247)         # 0 -> white
    assert tuple(row[2 * scale + scale // 2]) == (244, 165, 130)     # +1 = half of bound 2 -> light red
    assert "white = 0" in alt


def test_heatmap_constant_and_nan():
    rgb, alt = cellrunner.heatmap_rgb(np.array([[np.nan, 1.0], [1.0, 1.0]]))
    scale = cellrunner.HEATMAP_TARGET_PIXELS // 2
    assert tuple(rgb[scale // 2, scale // 2]) == (255, 0, 255)
    assert "every value is 1" in alt and "NaN" in alt


def test_two_dimensional_array_result_gets_a_heatmap_image():
    out = run_cell("import numpy as np\nnp.array([[3, 1, 1], [1, 0, 7], [2, 3, 5]])", {})
    assert out["result"].startswith("array([[3, 1, 1],")
    assert len(out["images"]) == 1
    image = out["images"][0]
    pixels = decode_png(base64.b64decode(image["png"]))
    assert pixels.shape == (240, 240, 3)
    assert "3\u00d73" in image["alt"]
    # element (0, 0) = 3 on the scale 0 (white, 247) .. 7 (dark red): t = (3/7 + 1) / 2 = 0.714,
    # 6/7 of the way from the white anchor (247, 247, 247) to the light red one (244, 165, 130)
    assert tuple(pixels[40, 40]) == (244, 177, 147)


@pytest.mark.parametrize("expression", [
    "np.zeros(3)", "np.zeros((2, 2, 2))", "np.array([['a', 'b']])", "np.zeros((0, 3))", "np.ones((1, 1))", "np.ones((1, 5))", "np.ones((4, 1))",
    "[[1, 2], [3, 4]]",
])
def test_no_heatmap_for_other_results(expression):
    out = run_cell("import numpy as np\n" + expression, {})
    assert out["error"] is None and out["images"] == []


def test_broken_repr_is_reported_as_error():
    out = run_cell("class A:\n    def __repr__(self):\n        raise RuntimeError('no repr')\nA()", {})
    assert out["result"] is None and "RuntimeError: no repr" in out["error"]


# ----------------------------------------------------------------------------- matplotlib
@pytest.mark.site
@pytest.mark.image
def test_matplotlib_figures_are_captured_closed_and_alt_texted():
    source = (
        "import matplotlib.pyplot as plt\n"
        "fig = plt.figure('A rising line')\n"
        "plt.plot([0, 1], [0, 1])\n"
        "fig2, ax = plt.subplots()\n"
        "ax.set_title('Second')\n"
        "plt.show()\n"
        "plt.plot([1, 2])"
    )
    out = run_cell(source, {})
    assert out["error"] is None, out["error"]
    assert out["result"] is None            # [Line2D] is not shown, the figure is
    assert out["stderr"] == ""              # no "non-GUI backend" warning from plt.show()
    assert [image["alt"] for image in out["images"]] == ["A rising line", "Figure: Second"]
    for image in out["images"]:
        from PIL import Image
        Image.open(__import__("io").BytesIO(base64.b64decode(image["png"]))).verify()
    import matplotlib
    import matplotlib.pyplot as plt
    assert plt.get_fignums() == []
    assert matplotlib.get_backend().lower() == "agg"


@pytest.mark.site
def test_figure_hook_sees_each_figure_after_it_is_saved_and_adds_to_its_entry():
    seen = []

    def hook(figure):
        seen.append(figure.get_label())
        return {"axes": str(len(figure.axes))}

    out = run_cell("import matplotlib.pyplot as plt\nplt.figure('one')\n"
                   "plt.subplots(1, 3, num='three');", {}, figure_hook=hook)
    assert out["error"] is None, out["error"]
    assert seen == ["one", "three"]
    assert [(image["alt"], image["axes"]) for image in out["images"]] == [("one", "0"), ("three", "3")]


@pytest.mark.site
def test_matplotlib_backend_switched_to_agg_when_already_imported():
    import matplotlib.pyplot as plt
    plt.switch_backend("template")
    out = run_cell("import matplotlib.pyplot as plt\nplt.figure()\nplt.plot([1, 2]);", {})
    assert out["error"] is None
    assert len(out["images"]) == 1 and out["images"][0]["alt"] == "Figure 1 drawn by the code above"
    import matplotlib
    assert matplotlib.get_backend().lower() == "agg"
