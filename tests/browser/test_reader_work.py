"""The reader's work is kept (localStorage), shared (a link), and taken home (a notebook), in Chromium.

Oracles: each cell's original source as the build embedded it (``script.tc-source``), the edits the
test itself typed, the request log (a shared link must not load Python: compared with a plain visit,
which does warm Python up), nbformat's own schema, and a real Jupyter kernel (nbclient + ipykernel)
running the exported notebook in an empty folder with scikit-learn hidden, where the convolution
page's worked example must print the hand-worked -7.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest

from .pages import point_at, wait_for_editors

pytestmark = pytest.mark.browser

PAGE = "convolution/"
STORE = "tinycnn:edits:v1:/convolution/"
# A page without a live demo (the convolution page's explorer asks Python for its feature map as
# soon as it is shown): on it, nothing but the reader starts Python.
SHARE_PAGE = "fully-connected/"
SHARE_STORE = "tinycnn:edits:v1:/fully-connected/"
ASIDE = "tinycnn:edits-aside:v1:/fully-connected/"
RUNTIME_FILES = ("tinycnn-worker.js", "/assets/pyodide/", ".whl")  # not runtime.json: the version line


def cell(page, index):
    return page.locator(".tc-cell[data-runnable]").nth(index)


def code_of(page, index) -> str:
    return page.evaluate("(i) => tinycnnSite.cells()[i].code()", index)


def original_of(page, index) -> str:
    return json.loads(cell(page, index).locator("script.tc-source").text_content())


def type_at_end(page, index, text) -> None:
    """Edit a cell as a reader does: click into its editor and type at the end."""
    cell(page, index).locator(".CodeMirror").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def saved(page, key=STORE):
    return page.evaluate("(key) => JSON.parse(localStorage.getItem(key) || 'null')", key)


def wait_saved(page, predicate_js, key=STORE) -> None:
    page.wait_for_function("(key) => { const d = JSON.parse(localStorage.getItem(key) || 'null'); return %s; }"
                           % predicate_js, arg=key)


def open_page(recorded, url, point=True):
    """Open a page; with ``point`` the reader points at a cell first (as before typing into it),
    which builds the editors and starts Python. Without it, only saved or shared edits build them."""
    recorded.page.goto(url)
    if point:
        point_at(recorded.page)
    wait_for_editors(recorded.page)
    return recorded.page


def runtime_requests(recorded) -> List[str]:
    return [url for url in recorded.requests if any(part in url for part in RUNTIME_FILES)]


def test_an_edit_is_kept_across_reloads_marked_and_reset_forgets_it(site_url, new_page):
    recorded = new_page()
    page = open_page(recorded, site_url + PAGE)
    original = original_of(page, 1)
    type_at_end(page, 1, "\n# my experiment")
    assert cell(page, 1).get_attribute("data-edited") == ""
    wait_saved(page, "d && d.cells['1'] && d.cells['1'].code.endsWith('# my experiment')")

    page.reload()
    wait_for_editors(page)
    assert code_of(page, 1) == original + "\n# my experiment"
    assert page.evaluate("(el) => el.querySelector('.CodeMirror').CodeMirror.getValue()",
                         cell(page, 1).element_handle()) == original + "\n# my experiment"
    assert cell(page, 1).get_attribute("data-edited") == ""
    assert cell(page, 1).locator(".tc-edited-mark").is_visible()
    assert cell(page, 1).locator(".tc-edited-mark").inner_text() == "Edited"
    assert page.locator(".tc-cell[data-edited]").count() == 1
    assert cell(page, 1).locator(".tc-edit-stale").is_hidden()  # same build: not flagged as changed

    cell(page, 1).get_by_role("button", name="Reset", exact=True).click()
    assert code_of(page, 1) == original
    assert cell(page, 1).get_attribute("data-edited") is None
    assert cell(page, 1).locator(".tc-edited-mark").is_hidden()
    page.wait_for_function("(key) => localStorage.getItem(key) === null", arg=STORE)
    page.reload()
    assert code_of(page, 1) == original
    assert page.locator(".tc-cell[data-edited]").count() == 0
    assert page.locator(".tc-cell.tc-enhanced").count() == 0  # nothing edited: the build's highlighted code
    assert not [line for line in recorded.console if line.startswith(("error", "pageerror"))]


def test_reset_page_puts_every_cell_back(site_url, new_page):
    page = open_page(new_page(), site_url + PAGE)
    originals = [original_of(page, i) for i in (0, 2)]
    reset_page = page.get_by_role("button", name="Reset page")
    assert reset_page.is_disabled()  # nothing edited yet
    type_at_end(page, 0, "\nfirst = 1")
    type_at_end(page, 2, "\nsecond = 2")
    wait_saved(page, "d && Object.keys(d.cells).length === 2")
    assert page.locator(".tc-cell[data-edited]").count() == 2
    reset_page.click()
    assert [code_of(page, 0), code_of(page, 2)] == originals
    assert page.locator(".tc-cell[data-edited]").count() == 0
    assert saved(page) is None
    assert reset_page.is_disabled()


def test_an_edit_of_a_cell_that_changed_since_is_kept_and_flagged(site_url, new_page):
    """A saved edit whose original had another hash (an older build) is restored, with a note."""
    page = open_page(new_page(), site_url + PAGE)
    mine = "x = 'written against an older version of this cell'"
    page.evaluate("([key, code]) => localStorage.setItem(key, JSON.stringify("
                  "{cells: {'0': {code, base: '00000000000000'}}}))", [STORE, mine])
    page.reload()
    wait_for_editors(page)
    first = cell(page, 0)
    assert code_of(page, 0) == mine
    assert first.get_attribute("data-edited") == "" and first.get_attribute("data-edit-stale") == ""
    note = first.locator(".tc-edit-stale")
    assert note.is_visible()
    assert "This cell changed since you edited it" in note.inner_text()
    note.get_by_role("button", name="Show the new original").click()
    assert first.locator(".tc-new-original").inner_text() == original_of(page, 0)
    assert note.get_by_role("button", name="Hide the new original").get_attribute("aria-expanded") == "true"
    # "Keep mine" keeps the edit and drops the flag (also after a reload)
    note.get_by_role("button", name="Keep mine").click()
    assert note.is_hidden() and first.get_attribute("data-edit-stale") is None
    assert code_of(page, 0) == mine
    page.reload()
    wait_for_editors(page)
    assert cell(page, 0).get_attribute("data-edit-stale") is None and code_of(page, 0) == mine
    # "Use the new original" is a Reset
    page.evaluate("([key, code]) => localStorage.setItem(key, JSON.stringify("
                  "{cells: {'0': {code, base: '00000000000000'}}}))", [STORE, mine])
    page.reload()
    wait_for_editors(page)
    cell(page, 0).get_by_role("button", name="Use the new original").click()
    assert code_of(page, 0) == original_of(page, 0)
    assert cell(page, 0).get_attribute("data-edited") is None
    page.wait_for_function("(key) => localStorage.getItem(key) === null", arg=STORE)


def test_full_storage_is_said_and_the_edit_stays_in_the_page(site_url, new_page):
    full = ("Storage.prototype.setItem = function () {"
            " throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };")
    page = open_page(new_page(init_script=full), site_url + PAGE)
    type_at_end(page, 0, "\nkept_here = 1")
    alert = page.locator(".tc-work-notice[data-kind='storage']")
    alert.wait_for()
    assert alert.get_attribute("role") == "alert"
    assert "could not be saved" in alert.inner_text() and "Copy link" in alert.inner_text()
    assert code_of(page, 0).endswith("kept_here = 1")
    assert cell(page, 0).get_attribute("data-edited") == ""


def _shared_link(page) -> str:
    type_at_end(page, 0, "\nprint('shared edit one')")
    type_at_end(page, 3, "\n# shared edit two: ünïcødé ✓")
    return page.evaluate("tinycnnSite.shareURL()")


def test_a_shared_link_restores_the_edits_in_a_fresh_browser_without_running_anything(site_url, new_page):
    sender = open_page(new_page(), site_url + SHARE_PAGE)
    url = _shared_link(sender)
    edits = {i: code_of(sender, i) for i in (0, 3)}  # as typed (the editor indents new lines)
    assert edits[0] != original_of(sender, 0) and edits[3] != original_of(sender, 3)
    assert url.startswith(site_url + SHARE_PAGE + "#tc-edits=z.")  # compressed, in the fragment
    assert "shared edit" not in url

    # Control: pointing at a cell loads Python (so the empty request log below means something).
    plain = new_page()
    open_page(plain, site_url + SHARE_PAGE)
    plain.page.wait_for_function("tinycnnSite.state() !== 'idle'", timeout=15_000)
    assert runtime_requests(plain)

    receiver = new_page()  # a fresh context: no storage, nothing cached
    page = open_page(receiver, url, point=False)  # the shared edits alone bring the editors
    page.wait_for_selector(".tc-work-notice[data-kind='share']")
    for index, code in edits.items():
        assert code_of(page, index) == code
        assert cell(page, index).get_attribute("data-edited") == ""
    assert page.locator(".tc-cell[data-edited]").count() == 2
    notice = page.locator(".tc-work-notice[data-kind='share']").inner_text()
    assert "shared link" in notice and "Nothing has run" in notice
    assert "tc-edits" not in page.url  # the fragment is consumed: a reload does not re-apply it
    page.wait_for_timeout(6000)  # longer than the runtime's idle warm-up (at most 4 s)
    assert page.evaluate("tinycnnSite.state()") == "idle"
    assert runtime_requests(receiver) == []
    outputs = page.evaluate("[...document.querySelectorAll('.tc-output')].map((o) => o.dataset.origin)")
    assert set(outputs) == {"build"}
    assert receiver.foreign_requests() == []
    # the edits are now the receiver's own: kept across a reload
    page.reload()
    wait_for_editors(page)
    assert code_of(page, 0) == edits[0] and code_of(page, 3) == edits[3]


def test_a_shared_link_puts_the_readers_own_edits_aside(site_url, new_page):
    sender = open_page(new_page(), site_url + SHARE_PAGE)
    url = _shared_link(sender)
    recorded = new_page()
    page = open_page(recorded, site_url + SHARE_PAGE)
    originals = [original_of(page, i) for i in (0, 1)]  # (instant navigation re-creates the scripts)
    type_at_end(page, 1, "\nmine = 'my own work'")
    wait_saved(page, "d && d.cells['1']", key=SHARE_STORE)
    mine = code_of(page, 1)
    page.goto(url)
    wait_for_editors(page)
    page.wait_for_selector(".tc-work-notice[data-kind='aside']")
    assert code_of(page, 1) == originals[1]  # the link did not edit cell 1
    assert code_of(page, 0).endswith("print('shared edit one')")
    assert saved(page, ASIDE)["cells"]["1"]["code"] == mine
    page.get_by_role("button", name="Swap in the edits put aside").click()
    assert code_of(page, 1) == mine
    assert code_of(page, 0) == originals[0]
    assert sorted(saved(page, ASIDE)["cells"]) == ["0", "3"]  # the link's edits, swapped aside
    page.get_by_role("button", name="Forget the edits put aside").click()
    assert saved(page, ASIDE) is None
    assert code_of(page, 1) == mine


@pytest.mark.parametrize("fragment", ["z.%%%not-base64", "z.AAAAAAAA", "b.bm90IGpzb24", "q.abc"])
def test_a_damaged_link_says_so_and_the_page_works(site_url, new_page, fragment):
    recorded = new_page()
    page = open_page(recorded, site_url + PAGE + "#tc-edits=" + fragment)
    notice = page.locator(".tc-work-notice[data-kind='share']")
    notice.wait_for()
    assert "could not be read" in notice.inner_text()
    assert page.locator(".tc-cell[data-edited]").count() == 0
    assert code_of(page, 0) == original_of(page, 0)
    type_at_end(page, 0, "\n# still editable")
    wait_saved(page, "d && d.cells['0']")
    assert not [line for line in recorded.console if line.startswith("pageerror")]


def test_without_compression_streams_the_link_is_plain_base64url_and_still_opens(site_url, new_page):
    sender = open_page(new_page(init_script="delete window.CompressionStream;"), site_url + SHARE_PAGE)
    url = _shared_link(sender)
    assert "#tc-edits=b." in url
    page = open_page(new_page(), url)
    page.wait_for_selector(".tc-work-notice[data-kind='share']")
    assert code_of(page, 3).endswith("# shared edit two: ünïcødé ✓")


# ------------------------------------------------------------------------------------ notebooks
def _notebook(page) -> dict:
    import nbformat

    data = page.evaluate("tinycnnSite.notebook()")
    notebook = nbformat.reads(json.dumps(data), as_version=4)  # as Jupyter opens the file
    nbformat.validate(notebook)
    return notebook


def _execute(notebook, folder: Path, monkeypatch) -> None:
    """Run it like a reader with only `pip install tinycnn matplotlib`: an empty working folder,
    no site files, no $TINYCNN_DATA, and scikit-learn hidden (it is not a dependency)."""
    from nbclient import NotebookClient

    blocker = folder / "no-sklearn"
    (blocker / "sklearn").mkdir(parents=True)
    (blocker / "sklearn" / "__init__.py").write_text("raise ImportError('scikit-learn is not installed')\n")
    work = folder / "work"
    work.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(blocker))
    monkeypatch.delenv("TINYCNN_DATA", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(work)}})
    client.execute()


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else source


def _stdout(cell) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", []) if out.get("output_type") == "stream")


@pytest.mark.parametrize("path", ["convolution/", "pooling/", "training/"])
def test_every_page_exports_a_notebook_that_validates_and_runs(site_url, new_page, tmp_path, monkeypatch, path):
    page = open_page(new_page(), site_url + path)
    count = page.locator(".tc-cell[data-runnable]").count()
    originals = [original_of(page, i) for i in range(count)]
    type_at_end(page, 0, "\nprint('reader was here')")
    edited = code_of(page, 0)  # as typed (the editor may indent the new line)
    assert edited != originals[0] and edited.rstrip().endswith("print('reader was here')")
    notebook = _notebook(page)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    markdown = [c for c in notebook.cells if c.cell_type == "markdown"]
    assert [_text(c.source) for c in code] == [edited] + originals[1:]
    assert code[0].outputs == [] and code[0].metadata["tinycnn"]["edited"] is True
    assert "pip install tinycnn" in _text(markdown[0].source)
    title = page.locator("article h1").first.evaluate("(h) => h.firstChild.textContent").strip()
    assert _text(markdown[1].source).startswith("# " + title)
    # the prose is there, converted for Jupyter (no MkDocs-only syntax left)
    prose = "\n".join(_text(c.source) for c in markdown)
    assert "!!! " not in prose and '=== "' not in prose and ".md)" not in prose
    # build-time outputs of the unedited cells: text and figures
    outputs = [out for c in code[1:] for out in c.outputs]
    figures = [out for out in outputs if out.output_type == "display_data" and "image/png" in out.data]
    assert figures
    # the page's first build-time figure (a WebP file in its light colours), as a real PNG of its size
    import base64
    import io
    from PIL import Image
    size = page.evaluate("[...document.querySelectorAll('.tc-cell[data-runnable]')].slice(1)"
                         ".flatMap((cell) => [...cell.querySelectorAll('.tc-output img.tc-image:not(.tc-figure-dark)')])"
                         ".map((img) => [+img.getAttribute('width'), +img.getAttribute('height')])[0]")
    png = Image.open(io.BytesIO(base64.b64decode(figures[0].data["image/png"])))
    assert png.format == "PNG" and list(png.size) == size
    assert any(out.output_type == "stream" for out in outputs)

    _execute(notebook, tmp_path, monkeypatch)
    assert "reader was here" in _stdout(code[0])
    if path == "convolution/":
        assert "\n-7\n" in "\n" + "".join(_stdout(c) for c in code)  # the hand-worked example


def test_download_as_notebook_saves_the_page_as_ipynb(site_url, new_page):
    import nbformat

    page = open_page(new_page(), site_url + PAGE)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download as notebook").click()
    download = info.value
    assert download.suggested_filename == "convolution.ipynb"
    notebook = nbformat.reads(Path(download.path()).read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(notebook)
    assert sum(c.cell_type == "code" for c in notebook.cells) == page.locator(".tc-cell[data-runnable]").count()
