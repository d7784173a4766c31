"""Every Examples section in tinycnn's docstrings runs and prints what it says (doctest).

Unmarked: it also runs under Python 3.8 + NumPy 1.17.5, so the examples print values whose
text is the same in every supported NumPy (lists via ``.tolist()``, rounded numbers, shapes).
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import tinycnn

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _examples(name):
    """The doctests of module ``name`` that hold at least one example."""
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(
        module, name, globs={"np": np, **vars(module)})
    return [test for test in tests if test.examples]


MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(tinycnn.__path__, "tinycnn.")
                 if name != "tinycnn.__main__")
WITH_EXAMPLES = [name for name in MODULES if _examples(name)]
# their examples load the real digits: scikit-learn's copy (or a digits.npz made from it)
NEEDS_DIGITS = {"tinycnn.datasets", "tinycnn.datasets.digits"}


def test_the_modules_with_examples_are_found():
    assert {"tinycnn.functional.reference", "tinycnn.zoo", "tinycnn.functional.convolution",
            "tinycnn.models"} <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.sklearn) if name in NEEDS_DIGITS else name
    for name in WITH_EXAMPLES])
def test_docstring_examples_run(name):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in _examples(name):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples failed in {name}"
