"""The article's Keras program, with ``keras`` replaced by ``tinycnn`` and nothing else, runs end
to end on a generated folder tree of two learnable classes and reaches high validation accuracy.

The program text is taken from the Keras page (docs/keras-program.md, "The program as written":
CNN.py of the article's repository, without its comments), so the page and this test cannot
drift apart. The test only swaps the package name and scales the step counts (8000 and 2000
batches) down to the stand-in folder's 7 and 2 batches and 25 epochs down to 3, so CI stays fast.
The images keep the article's 64x64 size.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROGRAM_URL = "https://github.com/ayoubbenaissa/DeepLearningRepository/blob/master/CNN/CNN.py"


def keras_program() -> str:
    """The program as the Keras page shows it (the first ``python norun`` block after its heading)."""
    page = (ROOT / "docs" / "keras-program.md").read_text(encoding="utf-8")
    section = page[page.index("## The program as written"):]
    return re.search(r"```python norun\n(.*?)```", section, re.S).group(1)


def test_the_page_shows_the_program_with_its_own_spellings():
    page = (ROOT / "docs" / "keras-program.md").read_text(encoding="utf-8")
    assert PROGRAM_URL in page
    program = keras_program()
    imports = [line for line in program.splitlines() if line.startswith("from keras")]
    assert imports == [
        "from keras.models import Sequential",
        "from keras.layers import Convolution2D",
        "from keras.layers import MaxPooling2D",
        "from keras.layers import Flatten",
        "from keras.layers import Dense",
        "from keras.preprocessing.image import ImageDataGenerator",
    ]
    flat = re.sub(r"\s+", "", program)
    for piece in ["Convolution2D(32,(3,3),input_shape=(64,64,3),activation='relu')",
                  "MaxPooling2D(pool_size=(2,2))", "Convolution2D(32,(3,3),activation='relu')",
                  "Dense(units=128,activation='relu')", "Dense(units=1,activation='sigmoid')",
                  "compile(optimizer='adam',loss='binary_crossentropy',metrics=['accuracy'])",
                  "ImageDataGenerator(rescale=1./255,shear_range=0.2,zoom_range=0.2,horizontal_flip=True)",
                  "test_datagen=ImageDataGenerator(rescale=1./255)",
                  "flow_from_directory('dataset/training_set',target_size=(64,64),batch_size=32,class_mode='binary')",
                  "flow_from_directory('dataset/test_set',target_size=(64,64),batch_size=32,class_mode='binary')",
                  "fit_generator(training_set,steps_per_epoch=8000,epochs=25,validation_data=test_set,validation_steps=2000)"]:
        assert piece in flat, piece
    assert "Conv2D(" not in program and "many copies" not in page.lower()


def run_python(args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    started = time.perf_counter()
    result = subprocess.run([sys.executable] + [str(a) for a in args], cwd=str(cwd), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=600)
    return result, time.perf_counter() - started


@pytest.mark.image
@pytest.mark.slow
def test_the_article_program_with_only_the_imports_changed(tmp_path):
    made, _ = run_python([ROOT / "scripts" / "make_image_folder.py", "dataset", "--seed", "0"],
                         cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    for split, count in (("training_set", 100), ("test_set", 25)):
        for animal in ("cats", "dogs"):
            assert len(list((tmp_path / "dataset" / split / animal).glob("*.png"))) == count

    program = keras_program().replace("keras", "tinycnn")
    assert "keras" not in program and program.count("tinycnn") == 6
    # 200 training and 50 test images in batches of 32: 7 and 2 steps; 3 epochs
    shortened = (program.replace("steps_per_epoch=8000", "steps_per_epoch=7")
                 .replace("validation_steps=2000", "validation_steps=2")
                 .replace("epochs=25", "epochs=3"))
    assert shortened.count("=7") == 1 and shortened.count("=2)") == 1 and "epochs=3" in shortened
    (tmp_path / "cnn.py").write_text(
        "from tinycnn.utils import set_random_seed\nset_random_seed(0)\n" + shortened
        + "\nclassifier.summary()\n"
        + "print('VAL_ACCURACY', classifier.history.history['val_accuracy'][-1])\n")
    result, seconds = run_python(["cnn.py"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Total params: 813,217" in out  # Keras's count for this network
    assert "Found 200 images belonging to 2 classes." in out
    assert "Found 50 images belonging to 2 classes." in out
    assert "(None, 62, 62, 32)" in out and "(None, 6272)" in out
    val_accuracy = float(re.search(r"VAL_ACCURACY ([0-9.]+)", out).group(1))
    print(f"article program: 3 epochs of 200 64x64 images in {seconds:.1f} s, "
          f"val_accuracy {val_accuracy:.3f}")
    assert val_accuracy >= 0.9, out


@pytest.mark.image
def test_scripts_cats_vs_dogs_runs_and_saves(tmp_path):
    from tinycnn.datasets import make_image_folder

    make_image_folder(tmp_path / "data", train_per_class=16, test_per_class=4, image_size=32)
    result, _ = run_python([ROOT / "scripts" / "cats_vs_dogs.py", "--dataset",
                            tmp_path / "data", "--epochs", "1", "--image-size", "32",
                            "--seed", "0", "--verbose", "2", "--save", tmp_path / "w.npz"],
                           cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Found 32 images belonging to 2 classes.\nFound 8 images belonging to 2 classes." \
        in result.stdout  # what Keras prints
    assert "classes: {'cats': 0, 'dogs': 1}" in result.stdout
    assert "final: loss:" in result.stdout and "val_accuracy" in result.stdout
    from tinycnn.models import load_model
    saved = load_model(tmp_path / "w.npz")     # the whole model, with its class names
    assert saved.metadata["class_names"] == ["cats", "dogs"] and saved.count_params() > 0
    assert type(saved.layers[0]).__name__ == "Convolution2D"
    missing, _ = run_python([ROOT / "scripts" / "cats_vs_dogs.py", "--dataset",
                             tmp_path / "nothing"], cwd=tmp_path)
    assert missing.returncode == 2 and "make_image_folder.py" in missing.stderr
    assert "Traceback" not in missing.stderr
