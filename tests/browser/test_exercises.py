"""Exercises in the built site, in Chromium: solve one per page through the UI, hints, progress
that survives a reload, the check API, a runaway loop, and the page's own variables left alone.

Oracles: each exercise's model solution (the build proved it passes) and starter (proved to fail),
the hand-made mistake of a flipped kernel, and the page's -7 cell.
"""
from __future__ import annotations

import json

import pytest

from .pages import point_at

pytestmark = pytest.mark.browser

#: One exercise per page with exercises (the site has at least one on each of these pages).
ONE_PER_PAGE = {
    "convolution/": "conv-two-loops",
    "pooling/": "pool-max-by-hand",
    "stacking/": "stack-receptive-field",
    "flattening/": "flat-channels-first",
    "fully-connected/": "fc-dense-by-hand",
    "training/": "train-accuracy",
}


def type_into_editor(page, root, text: str) -> None:
    root.locator(".CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)      # as a paste: no auto-indentation


def test_one_exercise_per_page_solved_through_the_ui(site_url, built_site, new_page):
    index = json.loads((built_site / "assets" / "tinycnn" / "exercises.json").read_text())
    assert {page["url"] for page in index["pages"]} == set(ONE_PER_PAGE)
    recorded = new_page()
    page = recorded.page
    for path, exercise_id in ONE_PER_PAGE.items():
        page.goto(site_url + path)
        selector = "[data-exercise='%s']" % exercise_id
        point_at(page, selector)  # the reader's intent: the editor comes, Python starts loading
        page.wait_for_selector(selector + ".tc-enhanced")
        root = page.locator(selector)
        data = next(item for item in page.evaluate("tinycnnSite.exercises()") if item["id"] == exercise_id)
        assert root.get_attribute("data-solved") is None
        assert root.locator(".tc-ex-result").get_attribute("aria-live") == "polite"
        # a hint, one at a time
        hints = root.locator(".tc-hint")
        assert hints.count() == len(data["hints"]) >= 1
        assert not hints.first.is_visible()
        root.locator(".tc-hint-button").click()
        assert hints.first.is_visible()
        if hints.count() > 1:
            assert not hints.nth(1).is_visible()
        # the solution only after a first attempt
        assert root.locator(".tc-solution-button").is_disabled()
        root.locator(".tc-check").click()                      # the starter: not yet
        page.wait_for_selector(selector + " .tc-ex-failed")
        assert root.get_attribute("data-solved") is None
        assert root.locator(".tc-solution-button").is_enabled()
        type_into_editor(page, root, data["solution"])
        root.locator(".tc-check").click()
        page.wait_for_selector(selector + "[data-solved]")
        assert "Correct" in root.locator(".tc-ex-result").inner_text()
        solved = page.locator("[data-exercise-progress='page']").inner_text()
        total = len(page.evaluate("tinycnnSite.exercises()"))
        assert solved == "Exercises on this page: 1 of %d solved." % total
        page.reload()
        page.wait_for_selector(selector + "[data-solved]")      # remembered
    page.goto(site_url)
    page.wait_for_selector("[data-exercise-progress='site'] .tc-ex-total")
    text = page.locator("[data-exercise-progress='site']").inner_text()
    assert "You have solved %d of %d exercises" % (len(ONE_PER_PAGE), index["total"]) in text
    assert recorded.foreign_requests() == []


def test_check_api_feedback_timeout_and_the_pages_namespace(site_url, new_page):
    page = new_page().page
    page.goto(site_url + "convolution/")
    point_at(page, "[data-exercise='conv-two-loops']")
    page.wait_for_selector("[data-exercise='conv-two-loops'].tc-enhanced")
    page.evaluate("tinycnnSite.ready()")
    # the page's own variables: its cells define patch and kernel
    assert "-7" in page.evaluate("tinycnnSite.runAll().then(() => tinycnnSite.run('print((patch * kernel).sum())'))")["stdout"]
    exercises = {item["id"]: item for item in page.evaluate("tinycnnSite.exercises()")}
    loops = exercises["conv-two-loops"]
    assert set(loops) == {"id", "title", "starter", "solution", "hints"}
    check = "([id, code, options]) => tinycnnSite.check(id, code, options)"
    assert page.evaluate(check, ["conv-two-loops", loops["solution"], None]) == {"passed": True, "message": "Correct!"}
    starter = page.evaluate(check, ["conv-two-loops", loops["starter"], None])
    assert starter["passed"] is False and 'File "your code", line 7' in starter["message"]
    flipped = page.evaluate(check, ["conv-two-loops", loops["solution"].replace(
        "(window * kernel)", "(window * kernel[::-1, ::-1])"), None])
    assert flipped["passed"] is False and "flipped" in flipped["message"]
    syntax = page.evaluate(check, ["conv-minus-seven", "answer = (patch * kernel).sum(", None])
    assert syntax["message"].startswith("Your code has a syntax error on line 1")
    # the exercise's setup redefined kernel in its own namespace only
    assert page.evaluate("tinycnnSite.run('print(kernel.tolist())')")["stdout"].strip() == "[[1, 0, -1], [1, 0, -1], [1, 0, -1]]"
    # a runaway loop is stopped; not cross-origin isolated, so Python restarts and says so
    loop = page.evaluate(check, ["conv-minus-seven", "while True:\n    pass", {"timeoutSeconds": 2}])
    assert loop["passed"] is False and "still running after 2 s" in loop["message"]
    assert "variables of this page's cells were reset" in loop["message"]
    # the page keeps working
    assert page.evaluate(check, ["conv-minus-seven", "answer = (patch * kernel).sum()", None])["passed"] is True
    assert page.evaluate("tinycnnSite.run('print(6 * 7)')")["stdout"] == "42\n"


def test_prediction_hides_the_answer_until_committed(site_url, new_page):
    page = new_page(viewport={"width": 390, "height": 844}).page
    page.goto(site_url + "pooling/")
    predict = page.locator("[data-predict='pool-odd-size']")
    predict.locator("input").wait_for()
    cell = page.locator("[data-predict='pool-odd-size'] + .tc-cell")
    assert not cell.locator(".tc-output").is_visible()
    predict.locator("button").click()
    assert "Type a number first" in predict.locator(".tc-predict-feedback").inner_text()
    predict.locator("input").fill("15")
    predict.locator("button").click()
    assert "Locked in: 15" in predict.locator(".tc-predict-feedback").inner_text()
    cell.locator(".tc-run").click()
    page.wait_for_function("document.querySelector(\"[data-predict='pool-odd-size'] .tc-predict-feedback\")"
                           ".textContent.includes('the answer is 14')")
    assert "14 rows" in cell.locator(".tc-output").inner_text()
