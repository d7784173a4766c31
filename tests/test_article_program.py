"""The article's Keras program, with ``keras`` replaced by ``tinycnn`` and nothing else, runs end
to end on a generated folder tree of two learnable classes and reaches high validation accuracy.

The program text below is the article's (Keras 2 spelling); the test only swaps the package
name and scales the step counts (8000 and 2000 photos) down to the stand-in folder's 200 and 50
images and 25 epochs down to 3, so CI stays fast. The images keep the article's 64x64 size.
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

KERAS_PROGRAM = """
# Convolutional Neural Network

# Part 1 - Building the CNN

# Importing the Keras libraries and packages
from keras.models import Sequential
from keras.layers import Conv2D
from keras.layers import MaxPooling2D
from keras.layers import Flatten
from keras.layers import Dense

# Initialising the CNN
classifier = Sequential()

# Step 1 - Convolution
classifier.add(Conv2D(32, (3, 3), input_shape = (64, 64, 3), activation = 'relu'))

# Step 2 - Pooling
classifier.add(MaxPooling2D(pool_size = (2, 2)))

# Adding a second convolutional layer
classifier.add(Conv2D(32, (3, 3), activation = 'relu'))
classifier.add(MaxPooling2D(pool_size = (2, 2)))

# Step 3 - Flattening
classifier.add(Flatten())

# Step 4 - Full connection
classifier.add(Dense(units = 128, activation = 'relu'))
classifier.add(Dense(units = 1, activation = 'sigmoid'))

# Compiling the CNN
classifier.compile(optimizer = 'adam', loss = 'binary_crossentropy', metrics = ['accuracy'])
classifier.summary()

# Part 2 - Fitting the CNN to the images

from keras.preprocessing.image import ImageDataGenerator

train_datagen = ImageDataGenerator(rescale = 1./255,
                                   shear_range = 0.2,
                                   zoom_range = 0.2,
                                   horizontal_flip = True)

test_datagen = ImageDataGenerator(rescale = 1./255)

training_set = train_datagen.flow_from_directory('dataset/training_set',
                                                 target_size = (64, 64),
                                                 batch_size = 32,
                                                 class_mode = 'binary')

test_set = test_datagen.flow_from_directory('dataset/test_set',
                                            target_size = (64, 64),
                                            batch_size = 32,
                                            class_mode = 'binary')

history = classifier.fit_generator(training_set,
                                   steps_per_epoch = STEPS_PER_EPOCH,
                                   epochs = EPOCHS,
                                   validation_data = test_set,
                                   validation_steps = VALIDATION_STEPS,
                                   verbose = 2)
print("VAL_ACCURACY", history.history['val_accuracy'][-1])
"""


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

    program = KERAS_PROGRAM.replace("keras", "tinycnn")
    assert "keras" not in program and program.count("tinycnn") == 6
    # 200 training and 50 test images in batches of 32: 7 and 2 steps; 3 epochs
    program = (program.replace("STEPS_PER_EPOCH", "7").replace("VALIDATION_STEPS", "2")
               .replace("EPOCHS", "3"))
    (tmp_path / "cnn.py").write_text("from tinycnn.utils import set_random_seed\n"
                                     "set_random_seed(0)\n" + program)
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
    assert (tmp_path / "w.npz").stat().st_size > 0
    missing, _ = run_python([ROOT / "scripts" / "cats_vs_dogs.py", "--dataset",
                             tmp_path / "nothing"], cwd=tmp_path)
    assert missing.returncode == 2 and "make_image_folder.py" in missing.stderr
    assert "Traceback" not in missing.stderr
