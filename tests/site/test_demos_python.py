"""The Python side of the interactive demos (docs/javascripts/demos/demos.py), natively.

The browser tests (tests/browser/test_demos.py) drive the same code in Pyodide; these check its
numbers quickly against hand-worked values and NumPy loops.
"""
from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

DEMOS_PY = Path(__file__).resolve().parents[2] / "docs" / "javascripts" / "demos" / "demos.py"


@pytest.fixture(scope="module")
def demos():
    spec = importlib.util.spec_from_file_location("tinycnn_demos_under_test", DEMOS_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_conv_reproduces_the_articles_window(demos):
    image = [[3, 1, 1], [1, 0, 7], [2, 3, 5]]
    result = json.loads(demos.conv(image, [[1, 0, -1]] * 3))
    assert result["output"] == [[-7.0]]
    assert result["pads"] == [[0, 0], [0, 0]]


@pytest.mark.parametrize("size, kernel, stride, expected", [
    (6, 3, 1, [1, 1]),     # out 6: 2 zeros in total, split evenly
    (6, 3, 2, [0, 1]),     # out 3: (3-1)*2 + 3 - 6 = 1 zero, at the end (Keras puts the extra one last)
    (7, 3, 2, [1, 1]),     # out 4: (4-1)*2 + 3 - 7 = 2
    (4, 2, 2, [0, 0]),     # fits exactly
    (5, 2, 2, [0, 1]),     # out 3: (3-1)*2 + 2 - 5 = 1
])
def test_same_padding_follows_the_keras_rule(demos, size, kernel, stride, expected):
    assert demos.same_padding(size, kernel, stride) == expected


def test_conv_same_padding_output_matches_loops_over_the_padded_image(demos):
    rng = np.random.RandomState(0)
    image = rng.randint(0, 9, size=(7, 6)).astype(float)
    kernel = rng.randint(-2, 3, size=(3, 3)).astype(float)
    result = json.loads(demos.conv(image.tolist(), kernel.tolist(), 2, "same"))
    (top, bottom), (left, right) = result["pads"]
    padded = np.pad(image, ((top, bottom), (left, right)))
    rows = (padded.shape[0] - 3) // 2 + 1
    cols = (padded.shape[1] - 3) // 2 + 1
    expected = [[np.sum(padded[2 * i:2 * i + 3, 2 * j:2 * j + 3] * kernel) for j in range(cols)]
                for i in range(rows)]
    np.testing.assert_allclose(result["output"], expected, atol=1e-4)
    assert result["shape"] == [4, 3]            # ceil(7 / 2), ceil(6 / 2)


def test_pool_of_the_pooling_page_matrix(demos):
    matrix = [[4, 6, 2, 0], [1, 3, 5, 8], [7, 2, 1, 1], [0, 9, 3, 4]]
    result = json.loads(demos.pool(matrix, "max", 2))
    assert result["output"] == [[6, 8], [9, 4]]
    assert result["winners"] == [[[0, 1], [1, 3]], [[3, 1], [3, 3]]]
    average = json.loads(demos.pool(matrix, "average", 2))
    assert average["output"] == [[3.5, 3.75], [4.5, 2.25]]


@pytest.mark.parametrize("size, stride, padding", [(2, 2, "valid"), (3, 2, "valid"), (2, 1, "same"),
                                                   (3, 2, "same"), (3, 3, "same")])
def test_pool_winner_is_the_largest_cell_of_its_window(demos, size, stride, padding):
    rng = np.random.RandomState(size * 10 + stride)
    matrix = rng.permutation(64).reshape(8, 8).astype(float)   # distinct values: one winner each
    result = json.loads(demos.pool(matrix.tolist(), "max", size, stride, padding))
    top, left = result["pads"][0][0], result["pads"][1][0]
    for i, row in enumerate(result["winners"]):
        for j, (r, c) in enumerate(row):
            r0, c0 = i * stride - top, j * stride - left
            window = matrix[max(r0, 0):r0 + size, max(c0, 0):c0 + size]
            assert r0 <= r < r0 + size and c0 <= c < c0 + size
            assert matrix[r, c] == window.max() == result["output"][i][j]


def test_article_summary_counts(demos):
    info = json.loads(demos.article_summary())
    assert info["params"] == 813217                  # the article's Keras summary
    assert [layer["params"] for layer in info["layers"]] == [896, 0, 9248, 0, 0, 802944, 129]
    assert info["layers"][3]["shape"] == [None, 14, 14, 32]


def test_article_activations_of_a_shape(demos):
    result = json.loads(demos.article_activations("circle", 3))
    activations = result["activations"]
    assert activations["shape"] == [29, 29, 32]
    assert len(base64.b64decode(activations["data"])) == 29 * 29 * 32
    output = json.loads(demos.article_activations("circle", 7))
    assert 0.0 < output["value"] < 1.0
    with pytest.raises(ValueError, match="input_name"):
        demos.article_activations("banana", 1)


@pytest.mark.sklearn
def test_trainer_defaults_reach_the_bar_and_predict(demos, tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    data = demos.load_digit_data(digits.images, digits.target)
    assert len(data[2]) == 359 and len(data[0]) == 1797 - 359
    settings = demos.DIGITS_DEFAULTS
    trainer = demos.Trainer(settings["learning_rate"], settings["epochs"], settings["batch_size"],
                            settings["seed"], data=data)
    from threadpoolctl import threadpool_limits   # installed with scikit-learn

    with threadpool_limits(limits=1):              # tiny matrices: BLAS threads only slow it down
        while not trainer.done:
            trainer.step(seconds=60.0)
    final = trainer.final()
    predicted = trainer.model.predict(data[2]).argmax(axis=-1)
    assert final["test_accuracy"] == pytest.approx(np.mean(predicted == data[3]), abs=1e-4)
    assert final["test_accuracy"] >= 0.95
    assert np.sum(final["confusion"]) == 359
    assert len(trainer.history["val_accuracy"]) == settings["epochs"]

    # the draw-a-digit path: the model saved (model.save), opened from base64, same prediction
    path = tmp_path / "digits_model.npz"
    trainer.model.save(str(path))
    demos.load_pretrained(base64.b64encode(path.read_bytes()).decode())
    digit = data[2][0, :, :, 0]
    result = json.loads(demos.predict_digit(digit.tolist(), "pretrained"))
    assert result["source"] == "pretrained"
    raw = trainer.model.predict(data[2][:1])[0].astype(np.float64)
    np.testing.assert_allclose(result["raw"], raw, atol=1e-4)
    # the bars show temperature-scaled probabilities: softmax(log p / T), written out here
    scaled = raw ** (1 / result["temperature"])
    np.testing.assert_allclose(result["probabilities"], scaled / scaled.sum(), atol=1e-4)
    assert result["label"] == int(np.argmax(raw))
    assert [layer["shape"] for layer in result["layers"]] == [[8, 8, 8], [4, 4, 8], [4, 4, 16], [2, 2, 16], [64], [10]]


def _quick_trainer(demos, epochs=1):
    x = np.random.RandomState(0).rand(120, 8, 8)
    y = np.arange(120) % 10
    trainer = demos.Trainer(0.01, epochs, 32, 0, data=demos.load_digit_data(x * 16, y))
    while not trainer.done:
        trainer.step(seconds=60.0)
    return trainer


def test_fit_temperature_minimises_the_held_out_negative_log_likelihood(demos):
    """Oracle: the NLL of softmax(log p / T), written out and minimised by brute force here."""
    class Fixed:
        def __init__(self, p):
            self.p = p

        def predict(self, x, batch_size=None):
            return self.p

    rng = np.random.RandomState(1)
    labels = rng.randint(0, 10, size=300)
    # an over-confident model: right 70% of the time but always ~99.9% sure
    picks = np.where(rng.rand(300) < 0.7, labels, (labels + 1) % 10)
    p = np.full((300, 10), 1e-4)
    p[np.arange(300), picks] = 1 - 9e-4

    def nll(t):
        scaled = p ** (1 / t)
        scaled /= scaled.sum(axis=1, keepdims=True)
        return -np.mean(np.log(scaled[np.arange(300), labels]))

    grid = np.linspace(0.3, 15, 3000)
    best = grid[np.argmin([nll(t) for t in grid])]
    fitted = demos.fit_temperature(Fixed(p), None, labels)
    assert fitted == pytest.approx(best, rel=0.02)
    assert fitted > 2                                    # over-confidence is softened ...
    top = demos.calibrated(p, fitted).max(axis=1)
    assert abs(top.mean() - 0.7) < 0.05                  # ... to about the accuracy, 70%
    np.testing.assert_allclose(demos.calibrated(p, 1.0), p / p.sum(axis=1, keepdims=True))


def test_dashboard_model_file_opens_natively_and_user_files_are_checked(demos, tmp_path):
    from tinycnn.models import load_model

    assert "train a model first" in json.loads(demos.model_file())["error"]
    demos._trainer = _quick_trainer(demos)
    try:
        answer = json.loads(demos.model_file())
        raw = base64.b64decode(answer["data"])
        assert answer["bytes"] == len(raw) and answer["epochs"] == 1
        (tmp_path / "digits.npz").write_bytes(raw)
        model = load_model(tmp_path / "digits.npz")
        x_test, y_test = demos._trainer.x_test, demos._trainer.y_test
        accuracy = float(np.mean(model.predict(x_test).argmax(axis=1) == y_test))
        assert accuracy == pytest.approx(answer["test_accuracy"], abs=1e-4)
        assert model.metadata["class_names"] == [str(d) for d in range(10)]
        assert model.optimizer.iterations == demos._trainer.model.optimizer.iterations

        demos._held_out = (x_test, y_test)   # calibrate on these (no scikit-learn needed)
        opened = json.loads(demos.load_user_model(answer["data"], "digits.npz"))
        assert opened["ok"] and opened["test_accuracy"] == answer["test_accuracy"]
        result = json.loads(demos.predict_digit(x_test[0, :, :, 0].tolist(), "user"))
        assert result["source"] == "user"
        np.testing.assert_allclose(result["raw"], model.predict(x_test[:1])[0], atol=1e-4)
    finally:
        demos._trainer = demos._user_model = demos._held_out = None

    bad = json.loads(demos.load_user_model(base64.b64encode(b"not a model").decode(), "cat.jpg"))
    assert "'cat.jpg'" in bad["error"] and "not a zip" in bad["error"]
    from tinycnn.layers import Dense
    from tinycnn.models import Sequential
    other = Sequential([Dense(3, input_shape=(4,))])
    other.save(str(tmp_path / "other.npz"))
    wrong = json.loads(demos.load_user_model(
        base64.b64encode((tmp_path / "other.npz").read_bytes()).decode(), "other.npz"))
    assert "'other.npz'" in wrong["error"] and "8x8x1" in wrong["error"]


# ------------------------------------------------------------------------------------------------
# The article's task on the reader's own photos (own-photos.js on the Keras program page)
# ------------------------------------------------------------------------------------------------
def _blobs_and_bars(n: int, seed: int, size: int = 32):
    """``n`` round warm blobs and ``n`` long cool bars, uint8 RGB, drawn with NumPy."""
    rng = np.random.RandomState(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    blobs, bars = [], []
    for _ in range(n):
        background = rng.randint(60, 200, size=3)
        image = np.tile(background, (size, size, 1))
        r, c, radius = rng.randint(10, 22), rng.randint(10, 22), rng.randint(6, 10)
        image[(rows - r) ** 2 + (cols - c) ** 2 <= radius ** 2] = (240, 120, 30)
        blobs.append(image)
        image = np.tile(background, (size, size, 1))
        c, width = rng.randint(6, 24), rng.randint(3, 6)
        image[2:30, c:c + width] = (30, 90, 240)
        bars.append(image)
    return np.array(blobs, dtype=np.uint8), np.array(bars, dtype=np.uint8)


def _send(demos, label, images):
    return json.loads(demos.photos_add(label, base64.b64encode(images.tobytes()).decode(), len(images)))


def test_photos_split_is_stratified_and_disjoint(demos):
    train, held = demos.split_photos([7, 10], 0.2, seed=0)
    assert [len(i) for _, i in held] == [1, 2]             # round(0.2 * 7) = 1, round(0.2 * 10) = 2
    for (label, t), (_, v) in zip(train, held):
        assert sorted(np.concatenate([t, v]).tolist()) == list(range([7, 10][label]))


def test_photos_bad_inputs_give_clear_errors(demos):
    demos.photos_reset()
    blobs, bars = _blobs_and_bars(4, seed=1)
    with pytest.raises(ValueError, match="expected 4 photos of 32x32x3"):
        demos.photos_add(0, base64.b64encode(blobs.tobytes()[:-3]).decode(), 4)
    with pytest.raises(ValueError, match="label must be 0 or 1"):
        _send(demos, 2, blobs)
    assert _send(demos, 0, blobs)["counts"] == [4, 0]
    assert _send(demos, 1, bars)["counts"] == [4, 4]
    with pytest.raises(ValueError, match="at least 5 photos, got 4 and 4"):
        demos.photos_start()
    with pytest.raises(ValueError, match="at most 500 photos per class"):
        _send(demos, 0, np.zeros((497, 32, 32, 3), np.uint8))
    demos.photos_reset()
    with pytest.raises(ValueError, match="press Train"):
        demos.photos_step()


def test_photos_model_learns_blobs_against_bars(demos):
    demos.photos_reset()
    blobs, bars = _blobs_and_bars(20, seed=2)
    _send(demos, 0, blobs)
    _send(demos, 1, bars)
    started = json.loads(demos.photos_start(epochs=12))
    assert started["state"]["train_size"] == 32 and started["state"]["val_size"] == 8
    state = started["state"]
    while not state["done"]:
        state = json.loads(demos.photos_step(5.0))
    assert len(state["history"]["val_accuracy"]) == 12
    # 8 validation photos, chance is 0.5; measured final values 0.75 to 1.0 over seeds and loads
    assert state["history"]["val_accuracy"][-1] >= 0.75
    new_blobs, new_bars = _blobs_and_bars(3, seed=99)
    p_blob = [json.loads(demos.photos_predict(base64.b64encode(x.tobytes()).decode()))["p1"] for x in new_blobs]
    p_bar = [json.loads(demos.photos_predict(base64.b64encode(x.tobytes()).decode()))["p1"] for x in new_bars]
    right = sum(p < 0.5 for p in p_blob) + sum(p > 0.5 for p in p_bar)
    assert right >= 5, (p_blob, p_bar)


def test_photos_model_file_opens_natively_with_the_class_names(demos, tmp_path):
    from tinycnn.models import load_model

    demos.photos_reset()
    assert "train the model first" in json.loads(demos.photos_model_file())["error"]
    blobs, bars = _blobs_and_bars(6, seed=3)
    _send(demos, 0, blobs)
    _send(demos, 1, bars)
    state = json.loads(demos.photos_start(epochs=1))["state"]
    while not state["done"]:
        state = json.loads(demos.photos_step(5.0))
    answer = json.loads(demos.photos_model_file('["warm", "cool"]'))
    (tmp_path / "photos.npz").write_bytes(base64.b64decode(answer["data"]))
    model = load_model(tmp_path / "photos.npz")
    assert model.metadata["class_names"] == ["warm", "cool"]
    x = bars[:2].astype(np.float32) / 255          # oracle: the page's own model on the same photos
    expected = [json.loads(demos.photos_predict(base64.b64encode(b.tobytes()).decode()))["p1"] for b in bars[:2]]
    np.testing.assert_allclose(model.predict(x).ravel(), expected, atol=1e-4)

