"""Check helpers for the tutorial's exercises: compare an answer with the expected value and explain
what is wrong in words a learner can follow.

The tutorial's exercises (see CONTRIBUTING.md, "Exercises") run the learner's code, then a short
*check* that calls these helpers. A helper returns quietly when the answer is right and raises
:class:`CheckFailed` with an explanation when it is not, for example::

    expect_array(feature_map, conv2d(image, kernel), name="feature_map",
                 flipped=conv2d(image, kernel[::-1, ::-1]))

explains a wrong shape ("expected (4, 4), received (5, 5): one row and one column too many:
check the output-size formula"), a transposed answer, channels first instead of channels last, a
wrong dtype, a close but unequal answer (the largest difference and where it is), a flipped kernel
(true convolution instead of cross-correlation), a wrong sign, or an answer that is off by the
bias. The helpers live in the library (not in the site) so that the page, the site build and the
tests all run the very same code, and so that anyone can use them in a notebook.

:func:`run_check` runs a check against the names the learner's code defined and turns the outcome
(or the learner's own error, trimmed to their code by :func:`explain_error`) into a
:class:`CheckResult`.

Examples
--------
>>> import numpy as np
>>> try:
...     expect_array(np.zeros((3, 2)), np.zeros((2, 3)), name="out")
... except CheckFailed as failure:
...     print(failure)
`out` has the wrong shape: expected (2, 3), received (3, 2). This looks transposed: swap the rows and the columns (e.g. `out.T`).
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "CheckFailed", "CheckResult", "expect", "expect_array", "expect_value", "expect_shape",
    "explain_error", "run_check", "YOUR_CODE",
]

#: The file name the learner's code is compiled under (tracebacks say ``File "your code"``).
YOUR_CODE = "your code"


class CheckFailed(AssertionError):
    """Raised by a check helper: the message explains what is wrong with the answer."""


def expect(condition: Any, message: str) -> None:
    """Fail with ``message`` unless ``condition`` is true (for checks the helpers do not cover)."""
    if not condition:
        raise CheckFailed(message)


# ----------------------------------------------------------------------------------------------
# Numbers and arrays
# ----------------------------------------------------------------------------------------------
def _placeholder(received: Any, name: str) -> None:
    if received is Ellipsis:
        raise CheckFailed("`%s` is still `...`: replace the `...` with your code." % name)
    if received is None:
        raise CheckFailed("`%s` is None. Did your function forget to `return` its result?" % name)


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "%.6g" % value
    return repr(value.item() if isinstance(value, np.generic) else value)


def expect_value(received: Any, expected: Any, name: str = "answer", tolerance: float = 1e-6) -> None:
    """Check a single number (an int, a float, a 0-d or one-element array).

    Parameters
    ----------
    received : the learner's value.
    expected : the right value.
    name : str
        How the message names the value (e.g. ``"output_size(7, 3, 2, 0)"``).
    tolerance : float
        Largest accepted absolute difference, relative to ``max(1, |expected|)``.
    """
    _placeholder(received, name)
    if isinstance(received, (list, tuple)) or (isinstance(received, np.ndarray) and received.size != 1):
        raise CheckFailed("`%s` should be a single number (%s), received %s of shape %s."
                          % (name, _fmt(expected), type(received).__name__, np.shape(received)))
    try:
        value = float(np.asarray(received).reshape(()))
    except (TypeError, ValueError):
        raise CheckFailed("`%s` should be a number (%s), received %s %r."
                          % (name, _fmt(expected), type(received).__name__, received)) from None
    target = float(expected)
    if abs(value - target) <= tolerance * max(1.0, abs(target)):
        return
    if target != 0 and abs(value + target) <= tolerance * max(1.0, abs(target)):
        raise CheckFailed("`%s` has the wrong sign: expected %s, received %s."
                          % (name, _fmt(expected), _fmt(received)))
    raise CheckFailed("`%s` should be %s, received %s." % (name, _fmt(expected), _fmt(received)))


def expect_shape(received: Any, expected: Sequence[int], name: str = "answer") -> None:
    """Check the shape of an array (or a shape tuple), with the explanations of
    :func:`expect_array` for a wrong one."""
    _placeholder(received, name)
    shape = tuple(received) if isinstance(received, tuple) else np.shape(received)
    expected = tuple(int(n) for n in expected)
    if tuple(shape) != expected:
        raise CheckFailed(_shape_message(name, tuple(shape), expected))


def _shape_message(name: str, shape: Tuple[int, ...], expected: Tuple[int, ...]) -> str:
    message = "`%s` has the wrong shape: expected %s, received %s." % (name, expected, shape)
    if len(shape) != len(expected):
        if tuple(n for n in shape if n != 1) == tuple(n for n in expected if n != 1):
            return message + (" The numbers agree but the number of axes differs (%d instead of %d): "
                              "check for a missing or extra axis of size 1 (reshape, `[np.newaxis]` "
                              "or `[0]`)." % (len(shape), len(expected)))
        if int(np.prod(shape)) == int(np.prod(expected)):
            return message + " It holds the right number of values: reshape it to %s." % (expected,)
        return message
    if len(shape) == 2 and shape == expected[::-1]:
        return message + " This looks transposed: swap the rows and the columns (e.g. `%s.T`)." % name
    if len(shape) >= 3:
        first = expected[:-3] + (expected[-1],) + expected[-3:-1]   # (..., C, H, W)
        if shape == first and expected[-1] != expected[-3]:
            return message + (" This looks like channels first, (..., channels, rows, cols); "
                              "tinycnn and Keras put the channels last, (..., rows, cols, channels).")
        last = expected[:-3] + expected[-2:] + (expected[-3],)
        if shape == last and expected[-3] != expected[-1]:
            return message + (" This looks like channels last, (..., rows, cols, channels); "
                              "here the channels come first, (..., channels, rows, cols).")
    differences = [(axis, got - want) for axis, (got, want) in enumerate(zip(shape, expected))
                   if got != want]
    if differences and all(abs(d) <= 2 for _, d in differences):
        words = []
        for axis, d in differences:
            what = "row" if axis == len(shape) - (3 if len(shape) >= 3 else 2) else (
                "column" if axis == len(shape) - (2 if len(shape) >= 3 else 1) else "entry on axis %d" % axis)
            count = "one" if abs(d) == 1 else "two"
            plural = "" if abs(d) == 1 else "s"
            words.append("%s %s%s too %s" % (count, what, plural, "many" if d > 0 else "few"))
        return message + " %s: check the output-size formula, floor((n + 2p - k) / s) + 1." % (
            " and ".join(words)[0].upper() + " and ".join(words)[1:])
    return message


def _where(index: Tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def expect_array(received: Any, expected: Any, name: str = "answer", rtol: float = 1e-5,
                 atol: float = 1e-6, dtype: Any = None, flipped: Any = None, bias: Any = None,
                 alternatives: Optional[Dict[str, Any]] = None) -> None:
    """Check an array against the expected one and explain the first thing that is wrong.

    Parameters
    ----------
    received : array_like
        The learner's answer.
    expected : array_like
        The right answer.
    name : str
        How the messages name the answer (the learner's variable, e.g. ``"feature_map"``).
    rtol, atol : float
        Tolerances, as in :func:`numpy.allclose`.
    dtype : numpy dtype, optional
        When given, the answer must have exactly this dtype (e.g. ``"float32"``).
    flipped : array_like, optional
        What a *true* convolution (kernel flipped upside down and left to right) would give; an
        answer equal to it is explained as "flipped kernel".
    bias : array_like, optional
        The bias that the answer must include; an answer off by exactly it is explained.
    alternatives : dict, optional
        ``{explanation: wrong_array}``: further known mistakes; an answer equal to one of the
        arrays fails with its explanation.

    Raises
    ------
    CheckFailed
        With an explanation of the shape, the dtype or the values.
    """
    _placeholder(received, name)
    expected = np.asarray(expected)
    if callable(received):
        raise CheckFailed("`%s` is a function: call it and keep the array it returns." % name)
    try:
        got = np.asarray(received)
    except Exception:  # noqa: BLE001 - anything that NumPy cannot turn into an array
        raise CheckFailed("`%s` should be an array of shape %s, received %s."
                          % (name, expected.shape, type(received).__name__)) from None
    if got.dtype == object or got.dtype.kind not in "biuf":
        raise CheckFailed("`%s` should be a numeric array of shape %s, received %s with dtype %s."
                          % (name, expected.shape, type(received).__name__, got.dtype))
    if got.shape != expected.shape:
        raise CheckFailed(_shape_message(name, got.shape, expected.shape))
    if dtype is not None and got.dtype != np.dtype(dtype):
        raise CheckFailed("`%s` has the wrong dtype: expected %s, received %s. Convert it with "
                          "`.astype(%r)`." % (name, np.dtype(dtype), got.dtype, str(np.dtype(dtype))))
    got64 = got.astype(np.float64)
    want = expected.astype(np.float64)
    if not np.all(np.isfinite(got64)) and np.all(np.isfinite(want)):
        bad = tuple(np.argwhere(~np.isfinite(got64))[0])
        raise CheckFailed("`%s` contains NaN or infinite values (the first at %s)." % (name, _where(bad)))

    def same(other: Any) -> bool:
        other = np.asarray(other, dtype=np.float64)
        return other.shape == want.shape and bool(np.allclose(got64, other, rtol=rtol, atol=atol))

    if same(want):
        return
    prefix = "`%s` has the right shape %s but wrong values" % (name, expected.shape)
    if np.any(want != 0) and same(-want):
        raise CheckFailed(prefix + ": every value has the wrong sign (it is the negative of the "
                          "expected answer). Check the order of a subtraction or the kernel's sign.")
    if flipped is not None and not np.allclose(np.asarray(flipped, dtype=np.float64), want) and same(flipped):
        raise CheckFailed(prefix + ": it is what a true convolution gives, with the kernel flipped "
                          "upside down and left to right. A CNN's convolution does not flip the "
                          "kernel (it is a cross-correlation): multiply each pixel by the kernel "
                          "weight at the same position, `kernel[m, n]` with `image[i + m, j + n]`.")
    if bias is not None:
        b = np.asarray(bias, dtype=np.float64)
        if np.any(b != 0):
            if same(want - b):
                raise CheckFailed(prefix + ": it is off by the bias. Add the bias, %s." % _short(b))
            if same(want + b):
                raise CheckFailed(prefix + ": it is off by the bias: the bias is added twice.")
    for explanation, wrong in (alternatives or {}).items():
        if same(wrong):
            raise CheckFailed(prefix + ": " + explanation)
    if want.size > 1 and np.allclose(np.sort(got64, axis=None), np.sort(want, axis=None),
                                     rtol=rtol, atol=atol):
        raise CheckFailed(prefix + ": it holds the right numbers in the wrong order. Check the "
                          "order of the axes (a reshape or transpose).")
    difference = got64 - want
    if want.size > 1 and np.allclose(difference, difference.flat[0], rtol=0, atol=atol) \
            and abs(difference.flat[0]) > atol:
        raise CheckFailed(prefix + ": every value is off by the same %s (too %s). A missing or "
                          "extra bias or offset?" % (_fmt(abs(difference.flat[0])),
                                                     "large" if difference.flat[0] > 0 else "small"))
    index = tuple(np.unravel_index(int(np.argmax(np.abs(difference))), want.shape))
    wrong_count = int(np.sum(~np.isclose(got64, want, rtol=rtol, atol=atol)))
    largest = abs(difference[index]) if want.ndim else abs(float(difference))
    where = (" at %s" % _where(index)) if want.ndim else ""
    close = np.allclose(got64, want, rtol=1e-2, atol=1e-3 + 1e-2 * float(np.max(np.abs(want))))
    raise CheckFailed(
        prefix + ": %d of %d values differ%s. The largest difference is %s%s (expected %s, received %s)."
        % (wrong_count, want.size, ", though only a little: close but not equal" if close else "",
           _fmt(largest), where, _fmt(want[index] if want.ndim else float(want)),
           _fmt(got64[index] if want.ndim else float(got64))))


def _short(values: np.ndarray) -> str:
    if values.size <= 6:
        return np.array2string(values, separator=", ")
    return "an array of shape %s" % (values.shape,)


# ----------------------------------------------------------------------------------------------
# Running a check
# ----------------------------------------------------------------------------------------------
class CheckResult:
    """The outcome of :func:`run_check`: ``passed`` (bool) and ``message`` (str).

    Its ``repr`` is JSON, so that the page can read it from the value of a cell."""

    def __init__(self, passed: bool, message: str) -> None:
        self.passed = bool(passed)
        self.message = str(message)

    def as_dict(self) -> Dict[str, Any]:
        return {"passed": self.passed, "message": self.message}

    def __repr__(self) -> str:
        return json.dumps(self.as_dict())


_FRAME = re.compile(r'^  File "(?P<file>[^"]*)", line (?P<line>\d+)')


def explain_error(error: str, file_name: str = YOUR_CODE) -> str:
    """Explain the learner's error (a traceback as text) and keep only the frames of their code.

    Parameters
    ----------
    error : str
        The traceback, as formatted by Python (or by the site's cell runner).
    file_name : str
        The file name the learner's code was compiled under.
    """
    lines = error.rstrip("\n").split("\n")
    last = next((line for line in reversed(lines) if line and not line.startswith(" ")), lines[-1])
    if re.match(r"^(SyntaxError|IndentationError|TabError)\b", last):
        where = re.search(r'File "%s", line (\d+)' % re.escape(file_name), error)
        kept = [line for line in lines if not line.startswith("Traceback")]
        kept = [line for line in kept if not (_FRAME.match(line) and file_name not in line)]
        return ("Your code has a syntax error%s, so it did not run:\n%s"
                % (" on line %s" % where.group(1) if where else "", "\n".join(kept).strip("\n")))
    kept = []
    keep_source = False
    for line in lines:
        frame = _FRAME.match(line)
        if frame:
            keep_source = frame.group("file") == file_name
            if keep_source:
                kept.append(line)
        elif line.startswith("    ") and keep_source:
            kept.append(line)
        elif not line.startswith(" "):
            keep_source = False
            kept.append(line)
    text = "\n".join(kept).strip("\n")
    if "KeyboardInterrupt" in last:
        return "Your code was interrupted before it finished:\n" + text
    return "Your code raised an error, so the check did not run:\n" + text


def _helpers() -> Dict[str, Any]:
    import tinycnn.exercises as module

    return {name: getattr(module, name) for name in __all__ if name not in ("run_check", "YOUR_CODE")}


def run_check(check: str, namespace: Dict[str, Any], error: Optional[str] = None,
              success: str = "Correct!") -> CheckResult:
    """Run an exercise's ``check`` code against what the learner's code defined.

    Parameters
    ----------
    check : str
        Python code that calls the helpers of this module (they are available without import).
    namespace : dict
        The names the learner's code defined (their code ran in it). The check runs in a copy,
        so that its own names do not leak into the learner's.
    error : str, optional
        The learner's error (a traceback as text), when their code failed: the result explains it
        (see :func:`explain_error`) and the check does not run.
    success : str
        The message of a passed check.

    Returns
    -------
    CheckResult
        Failed with the helpers' explanation, a name the learner's code should have defined, or
        the learner's error; passed otherwise. An error inside the check's own code is reported
        as a fault of the exercise.
    """
    if error:
        return CheckResult(False, explain_error(error))
    scope = dict(namespace)
    scope.update(_helpers())
    try:
        exec(compile(check, "the exercise's check", "exec"), scope)
    except CheckFailed as failure:
        return CheckResult(False, str(failure))
    except NameError as missing:
        found = re.search(r"name '([^']+)' is not defined", str(missing))
        name = found.group(1) if found else str(missing)
        return CheckResult(False, "Your code must define `%s` (e.g. `%s = ...`), but it does not."
                           % (name, name))
    except Exception as problem:  # noqa: BLE001 - report anything else, naming its type
        return CheckResult(False, "The check could not use your answer: %s: %s"
                           % (type(problem).__name__, problem))
    return CheckResult(True, success)

