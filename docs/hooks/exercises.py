"""MkDocs hook: the tutorial's exercises and "predict, then run" questions.

Syntax (documented in CONTRIBUTING.md, "Exercises"): a fenced block whose info string starts with
``exercise`` or ``predict``, followed by ``key=value`` settings, whose body is split into sections
by lines ``--- name``::

    ```exercise id=conv-minus-seven title="Compute the −7 with NumPy" time=10
    The statement, in Markdown (everything before the first section).
    --- setup
    import numpy as np            (optional: runs before the learner's code, in a fresh namespace)
    --- starter
    answer = ...                  (what the editor holds at first: must FAIL the check)
    --- check
    expect_value(answer, -7)      (tinycnn.exercises helpers; raises CheckFailed to fail)
    --- hint
    One hint in Markdown (one to three hint sections).
    --- solution
    answer = (patch * kernel).sum()   (must PASS the check)
    ```

    ```predict id=pool-output answer=31 choices="30|31|62"
    The question, in Markdown (a ```python cell must follow: it shows the answer).
    ```

What the hook does:

1. ``on_page_markdown``: parses the blocks (a malformed one fails the build naming the page and
   line), runs every exercise natively -- its solution must pass the check and its starter must
   fail it, each in a fresh namespace seeded by the setup, within the time limit -- and replaces
   each block by Markdown/HTML that ``docs/javascripts/exercises.js`` turns into an editor with
   Check / Hint / Show solution (or a prediction form).
2. ``on_page_content``: puts each exercise's data (JSON) into the page and checks that the cell
   after each prediction shows its answer in its build-time output.
3. ``on_post_build``: writes ``assets/tinycnn/exercises.json``, the index of every page's
   exercise ids (the home page's progress counts them).
"""
from __future__ import annotations

import html
import json
import os
import re
import shlex
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import cellrunner  # the runner of the page and of execute.py (which undoes its MPLBACKEND=Agg)
import common
from mkdocs.exceptions import PluginError

INDEX_PATH = "assets/tinycnn/exercises.json"
DEFAULT_TIME_LIMIT = 10.0
SECTIONS = ("setup", "starter", "check", "hint", "solution")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_SECTION = re.compile(r"^---[ \t]+(?P<name>[a-z]+)[ \t]*$")


class Block:
    """One ``exercise`` or ``predict`` block of a page."""

    def __init__(self, kind: str, page: str, line: int, settings: Dict[str, str]) -> None:
        self.kind = kind
        self.page = page
        self.line = line            # 1-based line of the opening fence
        self.settings = settings
        self.id = settings.get("id", "")
        self.statement = ""
        self.sections: Dict[str, List[str]] = {}

    def where(self) -> str:
        return "docs/%s, line %d: %s %r" % (self.page, self.line, self.kind, self.id or "(no id)")

    def error(self, message: str) -> PluginError:
        return PluginError("%s: %s" % (self.where(), message))

    # exercise fields
    @property
    def title(self) -> str:
        return self.settings.get("title", "")

    def code(self, name: str) -> str:
        return "\n".join(self.sections.get(name, [[]])[0]).strip("\n")

    @property
    def hints(self) -> List[str]:
        return ["\n".join(body).strip("\n") for body in self.sections.get("hint", [])]

    @property
    def time_limit(self) -> float:
        return float(self.settings.get("time", DEFAULT_TIME_LIMIT))

    def data(self) -> Dict[str, Any]:
        if self.kind == "predict":
            return {"id": self.id, "answer": self.settings["answer"], "choices": self.choices}
        return {"id": self.id, "title": self.title, "setup": self.code("setup"),
                "starter": self.code("starter"), "check": self.code("check"),
                "solution": self.code("solution"), "hints": self.hints, "timeLimit": self.time_limit}

    @property
    def choices(self) -> List[str]:
        raw = self.settings.get("choices")
        return [choice.strip() for choice in raw.split("|")] if raw else []


_EXERCISE_KEYS = {"id", "title", "time"}
_PREDICT_KEYS = {"id", "answer", "choices"}


def parse_block(kind: str, info_rest: str, body: List[str], page: str, line: int) -> Block:
    """Parse and validate one block (raises PluginError naming the page and line)."""
    where = "docs/%s, line %d: %s block" % (page, line, kind)
    try:
        words = shlex.split(info_rest)
    except ValueError as problem:
        raise PluginError("%s: cannot read its settings %r (%s)" % (where, info_rest, problem)) from None
    settings: Dict[str, str] = {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals:
            raise PluginError("%s: setting %r should be key=value" % (where, word))
        settings[key] = value
    block = Block(kind, page, line, settings)
    allowed = _EXERCISE_KEYS if kind == "exercise" else _PREDICT_KEYS
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise block.error("unknown setting(s) %s (allowed: %s)" % (", ".join(unknown), ", ".join(sorted(allowed))))
    if not _ID.match(block.id):
        raise block.error("needs id=... made of lowercase letters, digits and dashes")
    statement: List[str] = []
    current: Optional[List[str]] = None
    for offset, text in enumerate(body):
        match = _SECTION.match(text)
        if match:
            name = match.group("name")
            if kind == "predict" or name not in SECTIONS:
                raise block.error("line %d: unknown section '--- %s' (%s)" % (
                    line + 1 + offset, name,
                    "a predict block has no sections" if kind == "predict"
                    else "sections: " + ", ".join(SECTIONS)))
            if name != "hint" and name in block.sections:
                raise block.error("line %d: a second '--- %s' section" % (line + 1 + offset, name))
            current = []
            block.sections.setdefault(name, []).append(current)
        elif current is None:
            statement.append(text)
        else:
            current.append(text)
    block.statement = "\n".join(statement).strip("\n")
    if not block.statement:
        raise block.error("needs a statement (Markdown before the first section)")
    if kind == "predict":
        if "answer" not in settings or not settings["answer"].strip():
            raise block.error("needs answer=...")
        if block.choices and settings["answer"] not in block.choices:
            raise block.error("its answer %r is not one of its choices %s" % (settings["answer"], block.choices))
        if not block.choices:
            try:
                float(settings["answer"])
            except ValueError:
                raise block.error("without choices=..., the answer must be a number, got %r"
                                  % settings["answer"]) from None
        return block
    if not block.title:
        raise block.error('needs title="..."')
    for name in ("starter", "check", "solution"):
        if not block.code(name).strip():
            raise block.error("needs a non-empty '--- %s' section" % name)
    if not 1 <= len(block.hints) <= 3 or not all(hint.strip() for hint in block.hints):
        raise block.error("needs one to three non-empty '--- hint' sections, has %d" % len(block.hints))
    try:
        limit = block.time_limit
    except ValueError:
        raise block.error("time=%r is not a number of seconds" % settings.get("time")) from None
    if not 0 < limit <= 120:
        raise block.error("time=%s must be between 0 and 120 seconds" % settings.get("time"))
    for name in ("setup", "starter", "check", "solution"):
        try:
            compile(block.code(name), "%s (%s)" % (block.where(), name), "exec")
        except SyntaxError as problem:
            if name != "starter":
                raise block.error("its '--- %s' section is not valid Python: %s" % (name, problem)) from None
    return block


#: A runnable cell's fence: ```python, or as execute.py (which runs before this hook) tagged it.
_RUNNABLE = re.compile(r"^(python|\{\.python \.tc-cell-src-\d+\})$")


def find_blocks(markdown: str, page: str) -> Tuple[str, List[Block]]:
    """Return the Markdown with every exercise/predict block replaced, and the blocks."""
    lines = markdown.split("\n")
    replacements: List[Tuple[int, int, str]] = []
    blocks: List[Block] = []
    all_fences = common.fences(lines, PluginError)
    for number, found in enumerate(all_fences):
        start, end, indent, fence = found.start, found.end, found.indent, found.fence
        kind, rest = (found.info or [""])[0], " ".join(found.info[1:])
        if kind not in ("exercise", "predict"):
            continue
        block = parse_block(kind, rest, found.source.split("\n"), page, start + 1)
        if kind == "predict":
            following = all_fences[number + 1] if number + 1 < len(all_fences) else None
            between = lines[end + 1:following.start] if following else []
            if following is None or not _RUNNABLE.match(" ".join(following.info)) \
                    or any(t.strip() for t in between):
                raise block.error("must be followed directly by a ```python cell (the cell that shows "
                                  "the answer)")
        blocks.append(block)
        replacements.append((start, end, _indented(block_markdown(block, fence), indent)))
    for start, end, text in reversed(replacements):
        lines[start:end + 1] = [text]
    return "\n".join(lines), blocks


def _indented(text: str, indent: str) -> str:
    return "\n".join(indent + line if line else line for line in text.split("\n"))


def _fence_for(code: str, fence: str) -> str:
    longest = max([len(run) for run in re.findall(r"`{3,}", code)] + [2])
    return "`" * max(3, longest + 1)


def block_markdown(block: Block, fence: str) -> str:
    """The Markdown (with md_in_html divs) that replaces a block."""
    if block.kind == "predict":
        return "\n".join([
            '<div class="tc-predict" data-predict="%s" markdown="1">' % block.id, "",
            "**Predict, then run.** " + block.statement, "",
            '<div class="tc-block-data" data-for="predict-%s"></div>' % block.id, "",
            "</div>", "",
        ])
    starter = block.code("starter")
    solution = block.code("solution")
    out = [
        '<div class="tc-exercise" data-exercise="%s" markdown="1">' % block.id, "",
        "### Exercise: %s {#exercise-%s}" % (block.title, block.id), "",
        block.statement, "",
        "%s{.python .tc-exercise-starter}" % _fence_for(starter, fence), starter, _fence_for(starter, fence), "",
    ]
    for number, hint in enumerate(block.hints, 1):
        out += ['<div class="tc-hint" data-hint="%d" hidden markdown="1">' % number, "",
                "**Hint %d of %d.** %s" % (number, len(block.hints), hint), "", "</div>", ""]
    out += ['<div class="tc-solution" hidden markdown="1">', "",
            "%s{.python .tc-exercise-solution}" % _fence_for(solution, fence), solution,
            _fence_for(solution, fence), "", "</div>", "",
            '<div class="tc-block-data" data-for="exercise-%s"></div>' % block.id, "",
            "</div>", ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# Running an exercise at build time
# ----------------------------------------------------------------------------------------------
class _TimeLimit(Exception):
    pass


def _alarm(seconds: float) -> Any:
    """A context that raises _TimeLimit after ``seconds`` (main thread on POSIX; else no limit)."""
    import contextlib

    @contextlib.contextmanager
    def limit() -> Iterator[None]:
        if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
            yield
            return

        def ring(signum: int, frame: Any) -> None:
            raise _TimeLimit("stopped after the exercise's time limit of %g s" % seconds)

        previous = signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    return limit()


def grade(block: Block, code: str) -> Tuple[bool, str, Dict[str, Any]]:
    """Run ``code`` as the learner's answer to ``block``: (passed, message, output of the code).

    Like the page: a fresh namespace, the setup, the code (compiled as "your code"), then the
    check with :func:`tinycnn.exercises.run_check`.
    """
    from tinycnn.exercises import YOUR_CODE, run_check

    import numpy
    numpy.random.seed(0)
    namespace: Dict[str, Any] = {"__name__": "__main__"}
    previous = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="tinycnn-exercise-") as workdir:
        os.chdir(workdir)
        try:
            with _alarm(block.time_limit):
                setup = cellrunner.run_cell(block.code("setup"), namespace, "the exercise's setup")
                if setup["error"]:
                    raise block.error("its setup failed:\n" + setup["error"])
                output = cellrunner.run_cell(code, namespace, YOUR_CODE)
                result = run_check(block.code("check"), namespace, error=output["error"])
        finally:
            os.chdir(previous)
    return result.passed, result.message, output


def verify_exercise(block: Block) -> None:
    """The solution must pass the check and the starter must fail it."""
    passed, message, output = grade(block, block.code("solution"))
    if not passed:
        raise block.error("its solution does not pass its check: %s%s" % (
            message, ("\n(the solution printed:\n%s)" % output["stdout"]) if output["stdout"] else ""))
    passed, message, _ = grade(block, block.code("starter"))
    if passed:
        raise block.error("its starter code already passes the check (a starter must fail it)")


# ----------------------------------------------------------------------------------------------
# MkDocs events
# ----------------------------------------------------------------------------------------------
_blocks_by_page: Dict[str, List[Block]] = {}
_index: Dict[str, Dict[str, Any]] = {}


def _json_for_script(data: Any) -> str:
    return (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    page_path = page.file.src_uri
    replaced, blocks = find_blocks(markdown, page_path)
    exercises = [block for block in blocks if block.kind == "exercise"]
    for block in blocks:
        for other_page, entry in _index.items():
            if other_page != page_path and block.id in entry["ids"] + entry.get("predict", []):
                raise block.error("this id is already used in docs/%s" % other_page)
    seen: Dict[str, Block] = {}
    for block in blocks:
        key = block.kind + ":" + block.id
        if key in seen:
            raise block.error("this id is already used on line %d of the same page" % seen[key].line)
        seen[key] = block
    for block in exercises:
        verify_exercise(block)
    _blocks_by_page[page_path] = blocks
    if exercises:
        _index[page_path] = {"page": page_path, "url": page.url, "title": page.title or page_path,
                             "ids": [block.id for block in exercises],
                             "predict": [block.id for block in blocks if block.kind == "predict"]}
    else:
        _index.pop(page_path, None)
    return replaced


_DATA = re.compile(r'<div class="tc-block-data" data-for="(?P<kind>exercise|predict)-(?P<id>[a-z0-9-]+)"></div>')
_NEXT_CELL_OUTPUT = re.compile(r'\s*</div>\s*<div class="tc-cell"[^>]*>.*?<div class="tc-output"[^>]*>(?P<out>.*?)</div>',
                               re.DOTALL)


def on_page_content(page_html: str, page: Any, config: Any, files: Any) -> str:
    blocks = {block.kind + "-" + block.id: block for block in _blocks_by_page.pop(page.file.src_uri, [])}
    found = []

    def replace(match: "re.Match[str]") -> str:
        key = match.group("kind") + "-" + match.group("id")
        block = blocks[key]
        found.append(key)
        if block.kind == "predict":
            following = _NEXT_CELL_OUTPUT.match(page_html, match.end())
            if following is None:
                raise block.error("the ```python cell after it was not rendered right after it:\n"
                                  + page_html[match.end():match.end() + 300])
            shown = html.unescape(re.sub(r"<[^>]+>", " ", following.group("out")))
            if not re.search(r"(?<![\w.])%s(?![\w])" % re.escape(block.settings["answer"]), shown):
                raise block.error("the cell after it does not show its answer %r in its output:\n%s"
                                  % (block.settings["answer"], shown.strip()))
        return '<script type="application/json" class="tc-%s-data">%s</script>' % (
            block.kind, _json_for_script(block.data()))

    page_html = _DATA.sub(replace, page_html)
    missing = sorted(set(blocks) - set(found))
    if missing:
        raise blocks[missing[0]].error("was not rendered (check its indentation inside tabs or admonitions)")
    return page_html


_nav_order: List[str] = []


def on_nav(nav: Any, config: Any, files: Any) -> Any:
    _nav_order[:] = [page.file.src_uri for page in nav.pages]
    return nav


def on_post_build(config: Any, **kwargs: Any) -> None:
    def position(src: str) -> Tuple[int, str]:
        return (_nav_order.index(src) if src in _nav_order else len(_nav_order), src)

    pages = [_index[src] for src in sorted(_index, key=position)]
    target = Path(config["site_dir"]) / INDEX_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"pages": pages, "total": sum(len(p["ids"]) for p in pages)}, indent=1),
                      encoding="utf-8")
