"""docs/hooks/exercises.py: the exercise syntax, its build errors and build-time honesty.

Oracles: hand-written blocks with one known mistake each (the error must name the page, the line
and what is wrong), and exercises whose solution is known to fail or whose starter is known to pass.
"""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.site


@pytest.fixture(scope="module")
def exercises_hook(hook):
    return hook("exercises")


GOOD = '''# A page

Some text.

```exercise id=minus-seven title="Compute the -7"
Store it in `answer`.
--- setup
import numpy as np
patch = np.array([[3, 1, 1], [1, 0, 7], [2, 3, 5]])
--- starter
answer = ...
--- check
expect_value(answer, -7)
--- hint
Multiply by `[[1, 0, -1]] * 3`.
--- solution
answer = (patch * np.array([[1, 0, -1]] * 3)).sum()
```

```predict id=guess answer=3 choices="2|3|4"
How many?
```

```python
print(3)
```
'''


def test_a_good_page_is_parsed_and_verified(exercises_hook):
    markdown, blocks = exercises_hook.find_blocks(GOOD, "page.md")
    exercise, predict = blocks
    assert exercise.data() == {
        "id": "minus-seven", "title": "Compute the -7",
        "setup": "import numpy as np\npatch = np.array([[3, 1, 1], [1, 0, 7], [2, 3, 5]])",
        "starter": "answer = ...", "check": "expect_value(answer, -7)",
        "solution": "answer = (patch * np.array([[1, 0, -1]] * 3)).sum()",
        "hints": ["Multiply by `[[1, 0, -1]] * 3`."], "timeLimit": 10.0}
    assert predict.data() == {"id": "guess", "answer": "3", "choices": ["2", "3", "4"]}
    assert '<div class="tc-exercise" data-exercise="minus-seven" markdown="1">' in markdown
    assert "```exercise" not in markdown and "```python\nprint(3)" in markdown
    exercises_hook.verify_exercise(exercise)       # the solution passes, the starter fails


def test_grade_runs_in_a_fresh_namespace(exercises_hook):
    _, (exercise, _) = exercises_hook.find_blocks(GOOD, "page.md")
    passed, message, output = exercises_hook.grade(exercise, "print('hi')\nanswer = 7")
    assert not passed and "wrong sign" in message and output["stdout"] == "hi\n"
    passed, message, _ = exercises_hook.grade(exercise, "answer = -7")
    assert passed and message == "Correct!"
    passed, message, _ = exercises_hook.grade(exercise, "answer = (")
    assert not passed and "syntax error" in message


@pytest.mark.parametrize("change, expected", [
    (("id=minus-seven ", ""), "needs id="),
    (('title="Compute the -7"', ""), 'needs title="..."'),
    (("--- hint\n", "--- hints\n"), "unknown section '--- hints'"),
    (("--- hint\nMultiply by `[[1, 0, -1]] * 3`.\n", ""), "one to three non-empty '--- hint'"),
    (("--- check\nexpect_value(answer, -7)\n", ""), "non-empty '--- check'"),
    (("--- setup\n", "--- setup\n--- setup\n"), "a second '--- setup'"),
    (("title=", "colour=red title="), "unknown setting(s) colour"),
    (('title="Compute the -7"', 'title="Compute'), "cannot read its settings"),
    (("expect_value(answer, -7)", "expect_value(answer, -7"), "'--- check' section is not valid Python"),
    (('choices="2|3|4"', 'choices="1|2"'), "is not one of its choices"),
    (("```\n\n```python\nprint(3)", "```\n\nText between.\n\n```python\nprint(3)"), "must be followed directly"),
])
def test_malformed_blocks_name_page_line_and_problem(exercises_hook, change, expected):
    from mkdocs.exceptions import PluginError

    old, new = change
    assert old in GOOD
    with pytest.raises(PluginError) as caught:
        exercises_hook.find_blocks(GOOD.replace(old, new, 1), "chapter.md")
    message = str(caught.value)
    assert expected in message
    assert message.startswith("docs/chapter.md, line ")


def test_build_fails_when_a_solution_fails_or_a_starter_passes(exercises_hook):
    from mkdocs.exceptions import PluginError

    _, (broken, _) = exercises_hook.find_blocks(GOOD.replace("answer = (patch", "answer = -(patch"), "page.md")
    with pytest.raises(PluginError, match=r"docs/page.md, line 5: exercise 'minus-seven': its "
                                          r"solution does not pass its check: `answer` has the wrong sign"):
        exercises_hook.verify_exercise(broken)
    _, (easy, _) = exercises_hook.find_blocks(GOOD.replace("answer = ...", "answer = -7"), "page.md")
    with pytest.raises(PluginError, match="its starter code already passes the check"):
        exercises_hook.verify_exercise(easy)


def test_a_runaway_solution_is_stopped_at_the_time_limit(exercises_hook):
    from mkdocs.exceptions import PluginError

    page = GOOD.replace('title="Compute the -7"', 'title="Compute the -7" time=0.5').replace(
        "answer = (patch", "while True:\n    pass\nanswer = (patch")
    _, (looping, _) = exercises_hook.find_blocks(page, "page.md")
    with pytest.raises(PluginError, match="time limit of 0.5 s"):
        exercises_hook.verify_exercise(looping)


def test_the_built_site_has_the_index_and_the_data(built_site):
    index = json.loads((built_site / "assets" / "tinycnn" / "exercises.json").read_text())
    pages = {page["page"]: page for page in index["pages"]}
    chapters = ["convolution.md", "pooling.md", "stacking.md", "flattening.md", "fully-connected.md"]
    for chapter in chapters:
        assert len(pages[chapter]["ids"]) >= 2, chapter
        assert pages[chapter]["predict"], chapter
    assert pages["training.md"]["ids"]
    assert index["total"] == sum(len(page["ids"]) for page in index["pages"]) >= 12
    html = (built_site / "convolution" / "index.html").read_text(encoding="utf-8")
    assert 'data-exercise="conv-minus-seven"' in html
    assert '<script type="application/json" class="tc-exercise-data">' in html
    assert "tc-block-data" not in html
