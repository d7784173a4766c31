"""tinycnn.exercises: the check helpers explain hand-made wrong answers.

Oracles: answers built by hand to contain exactly one mistake (a transpose, channels first, one row
too many, a flipped kernel, a sign, a missing bias, a float64 array, a small error at a known
place), and correct answers worked out by hand (the -7 of the worked example).
"""
from __future__ import annotations

import numpy as np
import pytest

from tinycnn.exercises import (
    CheckFailed, expect, expect_array, expect_shape, expect_value, explain_error, run_check,
)

IMAGE = np.array([[0, 1, 2, 3, 4],
                  [2, 0, 1, 5, 1],
                  [3, 3, 0, 1, 2],
                  [1, 4, 2, 0, 3],
                  [0, 2, 5, 1, 1]], dtype=float)
KERNEL = np.array([[2, 1, 0], [1, 0, -1], [0, -1, -3]], dtype=float)


def correlate(image, kernel):
    """Cross-correlation by hand (the oracle: no tinycnn code)."""
    rows, cols = image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = sum(image[i + m, j + n] * kernel[m, n]
                            for m in range(kernel.shape[0]) for n in range(kernel.shape[1]))
    return out


def failure(check, *args, **kwargs) -> str:
    with pytest.raises(CheckFailed) as caught:
        check(*args, **kwargs)
    return str(caught.value)


def test_right_answers_pass():
    expect_value(np.sum(np.array([[3, 1, 1], [1, 0, 7], [2, 3, 5]]) * np.array([[1, 0, -1]] * 3)), -7)
    expect_array(correlate(IMAGE, KERNEL), correlate(IMAGE, KERNEL) + 1e-9)
    expect_array(np.float32([1.5, 2.0]), [1.5, 2.0], dtype="float32")
    expect_shape(np.zeros((2, 3)), (2, 3))
    expect(True, "never shown")


def test_wrong_shape_transposed():
    message = failure(expect_array, np.zeros((3, 2)), np.zeros((2, 3)), name="out")
    assert "expected (2, 3), received (3, 2)" in message
    assert "transposed" in message


def test_wrong_shape_channels_first():
    message = failure(expect_array, np.zeros((1, 3, 4, 4)), np.zeros((1, 4, 4, 3)), name="maps")
    assert "expected (1, 4, 4, 3), received (1, 3, 4, 4)" in message
    assert "channels first" in message and "channels last" in message


def test_wrong_shape_one_row_too_many():
    message = failure(expect_array, np.zeros((5, 4)), np.zeros((4, 4)), name="feature_map")
    assert "One row too many" in message
    assert "output-size formula" in message
    both = failure(expect_array, np.zeros((3, 3)), np.zeros((4, 4)))
    assert "One row too few and one column too few" in both


def test_wrong_shape_extra_axis():
    message = failure(expect_array, np.zeros((1, 4, 4)), np.zeros((4, 4)))
    assert "number of axes differs" in message


def test_wrong_dtype():
    message = failure(expect_array, np.zeros(3), np.zeros(3, dtype="float32"), dtype="float32")
    assert "wrong dtype: expected float32, received float64" in message


def test_flipped_kernel():
    flipped = correlate(IMAGE, KERNEL[::-1, ::-1])       # a true convolution
    message = failure(expect_array, flipped, correlate(IMAGE, KERNEL), name="feature_map",
                      flipped=flipped)
    assert "flipped" in message and "cross-correlation" in message


def test_wrong_sign():
    right = correlate(IMAGE, KERNEL)
    assert "wrong sign" in failure(expect_array, -right, right)
    assert "wrong sign: expected -7, received 7" in failure(expect_value, 7, -7)


def test_off_by_the_bias():
    right = correlate(IMAGE, KERNEL) + np.array([0.5, -1.0, 2.0])
    bias = np.array([0.5, -1.0, 2.0])
    assert "off by the bias" in failure(expect_array, right - bias, right, bias=bias)
    assert "added twice" in failure(expect_array, right + bias, right, bias=bias)
    # without a known bias: a constant offset is still named
    assert "off by the same 3" in failure(expect_array, right + 3, right)


def test_close_but_not_equal_names_the_largest_difference():
    right = correlate(IMAGE, KERNEL)
    wrong = right.copy()
    wrong[2, 1] += 0.05
    wrong[0, 0] += 0.01
    message = failure(expect_array, wrong, right, name="feature_map")
    assert "2 of 9 values differ" in message
    assert "close but not equal" in message
    assert "largest difference is 0.05 at [2, 1]" in message


def test_right_numbers_wrong_order():
    right = np.arange(12).reshape(3, 4)
    message = failure(expect_array, right.T.reshape(3, 4), right)
    assert "right numbers in the wrong order" in message


def test_known_alternative_mistake():
    message = failure(expect_array, [[3.5, 3.75], [4.5, 2.25]], [[6, 8], [9, 4]],
                      alternatives={"it is average pooling.": [[3.5, 3.75], [4.5, 2.25]]})
    assert message.endswith("it is average pooling.")


def test_placeholders_and_non_arrays():
    assert "replace the `...`" in failure(expect_array, ..., np.zeros(2))
    assert "forget to `return`" in failure(expect_value, None, 3)
    assert "is a function" in failure(expect_array, len, np.zeros(2))
    assert "should be a single number" in failure(expect_value, [1, 2], 3)
    assert "NaN or infinite" in failure(expect_array, [1.0, np.nan], [1.0, 2.0])


def test_explain_error_keeps_only_the_learners_frames():
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "your code", line 3, in <module>\n'
        "    answer = f(patch)\n"
        '  File "your code", line 2, in f\n'
        "    return np.dot(x, y)\n"
        '  File "<__array_function__ internals>", line 5, in dot\n'
        "ValueError: shapes (3,3) and (2,) not aligned")
    message = explain_error(traceback)
    assert message.startswith("Your code raised an error")
    assert 'File "your code", line 2, in f' in message
    assert "__array_function__" not in message
    assert message.endswith("ValueError: shapes (3,3) and (2,) not aligned")


def test_explain_error_says_syntax_error():
    try:
        compile("answer = (1 +", "your code", "exec")
    except SyntaxError as error:
        import traceback
        text = "".join(traceback.format_exception_only(type(error), error))
    message = explain_error(text)
    assert message.startswith("Your code has a syntax error on line 1")


def test_run_check():
    assert run_check("expect_value(answer, 3)", {"answer": 3}).passed
    missing = run_check("expect_value(answer, 3)", {})
    assert not missing.passed and "must define `answer`" in missing.message
    wrong = run_check("expect_value(answer, 3)", {"answer": 4})
    assert not wrong.passed and wrong.message == "`answer` should be 3, received 4."
    failed = run_check("expect_value(answer, 3)", {}, error="Traceback (most recent call last):\n"
                       '  File "your code", line 1, in <module>\nZeroDivisionError: division by zero')
    assert not failed.passed and "ZeroDivisionError" in failed.message
    # the check's own names do not leak into the learner's namespace; repr is JSON for the page
    namespace = {"answer": 3}
    result = run_check("expected = 3\nexpect_value(answer, expected)", namespace)
    assert "expected" not in namespace
    assert repr(result) == '{"passed": true, "message": "Correct!"}'
