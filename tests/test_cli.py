"""The ``tinycnn`` command line, run as ``python -m tinycnn`` in subprocesses.

The oracle for predictions is what the test itself draws (a vertical bar is "vertical"); the
oracle for parameter counts is the arithmetic of the article's layers.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("TINYCNN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "tinycnn"] + [str(a) for a in args],
                          cwd=str(cwd or ROOT), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=300)


def assert_clean_error(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinycnn: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "summary"):
        assert command in result.stdout
    train_help = run_cli("train", "--help").stdout
    for option in ("--model", "--epochs", "--batch-size", "--learning-rate", "--output",
                   "digits", "stripes"):
        assert option in train_help


def test_summary_of_the_article_model_has_kerass_parameter_counts():
    result = run_cli("summary")
    assert result.returncode == 0, result.stderr
    conv1 = 3 * 3 * 3 * 32 + 32              # 896
    conv2 = 3 * 3 * 32 * 32 + 32             # 9,248
    dense1 = (14 * 14 * 32) * 128 + 128      # 802,944 (64 -> 62 -> 31 -> 29 -> 14)
    dense2 = 128 + 1                         # 129
    total = conv1 + conv2 + dense1 + dense2
    assert total == 813_217
    assert f"Total params: {total:,}" in result.stdout
    layer_rows = [line.split() for line in result.stdout.splitlines()
                  if line.strip().startswith(("conv2d", "max_pooling2d", "flatten", "dense"))]
    assert [int(row[-1]) for row in layer_rows] == [conv1, 0, conv2, 0, 0, dense1, dense2]
    assert "(None, 14, 14, 32)" in result.stdout
    three = run_cli("summary", "--input-shape", "32,32,1", "--classes", "3")
    assert three.returncode == 0 and "(None, 3)" in three.stdout


def test_train_writes_one_model_file_that_load_model_opens(tmp_path):
    from tinycnn.models import load_model

    weights = tmp_path / "out" / "stripes.npz"
    trained = run_cli("train", "stripes", "--epochs", 3, "--samples", 300, "--seed", 1,
                      "--output", weights, "--verbose", 2)
    assert trained.returncode == 0, trained.stderr
    assert "Epoch 3/3" in trained.stdout
    assert sorted(p.name for p in weights.parent.iterdir()) == ["stripes.npz"]  # no sidecar
    model = load_model(weights)
    meta = model.metadata
    assert meta["model"] == "article" and meta["input_shape"] == [16, 16, 1]
    assert meta["class_names"] == ["vertical", "horizontal"]
    assert meta["history"]["val_accuracy"][-1] >= 0.9
    # 16 -> conv 14 -> pool 7 -> conv 5 -> pool 2: Flatten gives 2 * 2 * 32 = 128 features
    assert model.count_params() == (3 * 3 * 1 * 32 + 32) + (3 * 3 * 32 * 32 + 32) + (128 * 128 + 128) + 129
    assert model.loss.name == "binary_crossentropy" and model.optimizer.iterations == 3 * 8
    evaluated = run_cli("evaluate", "stripes", "--weights", weights)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "the 60 held-out examples of stripes" in evaluated.stdout
    accuracy = float(evaluated.stdout.split("accuracy: ")[-1])
    assert accuracy == pytest.approx(meta["history"]["val_accuracy"][-1], abs=1e-4)
    described = run_cli("summary", "--weights", weights)
    assert described.returncode == 0 and "['vertical', 'horizontal']" in described.stdout


def test_old_weights_and_sidecar_pairs_are_still_read(tmp_path):
    """A pair as 'tinycnn train' wrote it before whole-model files: save_weights + .json."""
    from tinycnn.cli import build_model
    from tinycnn.datasets import make_stripes
    from tinycnn.utils import set_random_seed

    set_random_seed(0)
    x, y = make_stripes(200, image_size=16, seed=4)
    model = build_model("small", (16, 16, 1), 2)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=8, verbose=0)
    old = tmp_path / "old.npz"
    model.save_weights(str(old))
    old.with_suffix(".json").write_text(json.dumps({
        "format": "tinycnn-cli-weights/1", "model": "small", "input_shape": [16, 16, 1],
        "class_names": ["vertical", "horizontal"], "color_mode": "grayscale",
        "rescale": 1.0 / 255, "dataset": "stripes", "validation_split": 0.2, "seed": 4,
        "samples": 200, "tinycnn_version": "0.1.0", "history": {}}))
    with np.load(str(old)) as archive:  # the old format: arr_0 .. arr_3, no model description
        assert sorted(archive.files) == ["arr_0", "arr_1", "arr_2", "arr_3"]
    evaluated = run_cli("evaluate", "stripes", "--weights", old)
    assert evaluated.returncode == 0, evaluated.stderr
    # the oracle: the same model, evaluated here on the same 40 held-out stripes
    from tinycnn.cli import _split_arrays
    _, _, x_val, y_val = _split_arrays(x, y, 0.2, 4)
    expected = model.evaluate(x_val, y_val)[1]
    assert "the 40 held-out examples of stripes" in evaluated.stdout
    assert float(evaluated.stdout.split("accuracy: ")[-1]) == pytest.approx(expected, abs=1e-4)
    described = run_cli("summary", "-w", old)
    assert described.returncode == 0 and "model 'small'" in described.stdout


def test_errors_are_one_line_with_exit_status_2(tmp_path):
    assert_clean_error(run_cli("train", tmp_path / "nowhere"), "no such image folder")
    assert_clean_error(run_cli("predict", "--weights", tmp_path / "none.npz", "x.png"),
                       "model file not found")
    assert_clean_error(run_cli("train", "stripes", "--output", tmp_path / "w.txt"), ".npz")
    assert_clean_error(run_cli("train", "stripes", "--image-size", 6, "--output",
                               tmp_path / "w.npz"), "at least 10x10", "--model small")
    (tmp_path / "lonely.npz").write_bytes(b"")
    assert_clean_error(run_cli("evaluate", "stripes", "--weights", tmp_path / "lonely.npz"),
                       "lonely.npz", "model.save()")
    np.savez(str(tmp_path / "bare.npz"), np.ones(3))   # weights without their old sidecar
    assert_clean_error(run_cli("predict", "--weights", tmp_path / "bare.npz", "x.png"),
                       "bare.npz", "save_weights")
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    assert_clean_error(run_cli("train", empty, "--output", tmp_path / "w.npz"),
                       "no class subfolders")
    usage = run_cli("train", "stripes", "--epochs", 0)
    assert usage.returncode == 2 and "positive integer" in usage.stderr


def _stripe_png(path: Path, vertical: bool, position: int) -> Path:
    from PIL import Image

    pixels = np.zeros((16, 16), dtype=np.uint8)
    if vertical:
        pixels[:, position:position + 2] = 230
    else:
        pixels[position:position + 2, :] = 230
    Image.fromarray(pixels).convert("RGB").save(str(path))
    return path


@pytest.mark.image
def test_train_save_reload_predict_on_image_files(tmp_path):
    weights = tmp_path / "stripes.npz"
    trained = run_cli("train", "stripes", "--epochs", 4, "--samples", 300, "--seed", 0,
                      "--output", weights, "--verbose", 0)
    assert trained.returncode == 0, trained.stderr
    files = [_stripe_png(tmp_path / f"v{p}.png", True, p) for p in (2, 7, 12)]
    files += [_stripe_png(tmp_path / f"h{p}.png", False, p) for p in (3, 9)]
    predicted = run_cli("predict", "--weights", weights, *files)
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.strip().splitlines()
    assert len(lines) == 5
    for file, line in zip(files, lines):
        name, rest = line.split(": ", 1)
        assert name == str(file)
        expected = "vertical" if file.name.startswith("v") else "horizontal"
        assert rest.startswith(expected + " (probability "), line
        assert 0.5 <= float(rest.split("probability ")[1].rstrip(")")) <= 1.0
    assert_clean_error(run_cli("predict", "--weights", weights, tmp_path / "nope.png"),
                       "nope.png")


@pytest.mark.image
def test_train_and_evaluate_on_an_image_folder_tree(tmp_path):
    from tinycnn.datasets import make_image_folder

    make_image_folder(tmp_path / "dataset", train_per_class=40, test_per_class=10,
                      image_size=16, seed=2)
    weights = tmp_path / "folder.npz"
    trained = run_cli("train", tmp_path / "dataset", "--image-size", 16, "--epochs", 4,
                      "--augment", "--output", weights, "--verbose", 1)
    assert trained.returncode == 0, trained.stderr
    assert "\r" in trained.stdout or "=" in trained.stdout  # the progress bar
    from tinycnn.models import load_model
    meta = load_model(weights).metadata
    assert meta["class_names"] == ["cats", "dogs"] and meta["input_shape"] == [16, 16, 3]
    evaluated = run_cli("evaluate", tmp_path / "dataset", "-w", weights)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "the 20 images in" in evaluated.stdout and "test_set" in evaluated.stdout
    assert float(evaluated.stdout.split("accuracy: ")[-1]) >= 0.9
    test_images = sorted((tmp_path / "dataset" / "test_set" / "dogs").glob("*.png"))[:3]
    predicted = run_cli("predict", "-w", weights, *test_images)
    assert predicted.returncode == 0 and predicted.stdout.count(": dogs (") == 3
