"""The article's cats-vs-dogs Keras program, running on tinycnn.

The program is CNN.py of https://github.com/ayoubbenaissa/DeepLearningRepository (the article's
practical part); only its imports differ (``keras`` -> ``tinycnn``), plus command-line options for
the folder, the sizes and the step counts. The folder layout is the article's::

    dataset/training_set/cats/*.jpg   dataset/training_set/dogs/*.jpg
    dataset/test_set/cats/*.jpg       dataset/test_set/dogs/*.jpg

No photos at hand? ``python scripts/make_image_folder.py dataset`` writes a small synthetic
stand-in with that layout. Real photos: Kaggle's "Dogs vs. Cats" competition data (25,000
labelled photos) or Microsoft's "Kaggle Cats and Dogs Dataset"; put 4,000 of each class in
``training_set`` and 1,000 of each in ``test_set`` as the article did.

Usage::

    python scripts/cats_vs_dogs.py --dataset dataset --epochs 25

By default each epoch is one pass over the training images (``steps_per_epoch=len(training_set)``).
The program itself asks for ``steps_per_epoch=8000`` and ``validation_steps=2000``: batches, not
images, i.e. 32 passes per epoch (Keras 1 counted images with ``samples_per_epoch=8000``); give
``--steps-per-epoch 8000 --validation-steps 2000`` to run it exactly so.

Needs Pillow (``pip install tinycnn[image]``). Native NumPy trains roughly a few hundred
64x64 images per second on one core, so the article's 25 epochs of 8,000 photos take a while.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description="The article's cats-vs-dogs CNN on tinycnn.")
    parser.add_argument("--dataset", default="dataset",
                        help="folder holding training_set/ and test_set/ (default: dataset)")
    parser.add_argument("--epochs", type=int, default=25, help="default 25, as in the article")
    parser.add_argument("--image-size", type=int, default=64,
                        help="images are resized to SIZE x SIZE (default 64, as in the article)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=None, help="make the run repeatable")
    parser.add_argument("--steps-per-epoch", type=int, default=None,
                        help="batches per epoch (default: one pass; the program has 8000)")
    parser.add_argument("--validation-steps", type=int, default=None,
                        help="validation batches (default: one pass; the program has 2000)")
    parser.add_argument("--save", default=None,
                        help="save the trained model to this file (model.save; open it with "
                             "tinycnn.models.load_model)")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)
    args = parser.parse_args(argv)
    dataset = Path(args.dataset)
    if not (dataset / "training_set").is_dir() or not (dataset / "test_set").is_dir():
        parser.exit(2, f"cats_vs_dogs: error: {dataset} needs training_set/ and test_set/ "
                       f"folders with one subfolder per class; make a stand-in with\n"
                       f"    python scripts/make_image_folder.py {dataset}\n")
    if args.seed is not None:
        from tinycnn.utils import set_random_seed
        set_random_seed(args.seed)
    size = (args.image_size, args.image_size)

    # ---- Part 1: building the CNN (the program's code; only the imports changed) ----------
    from tinycnn.models import Sequential
    from tinycnn.layers import Convolution2D
    from tinycnn.layers import MaxPooling2D
    from tinycnn.layers import Flatten
    from tinycnn.layers import Dense

    classifier = Sequential()
    # Step 1 - Convolution
    classifier.add(Convolution2D(32, (3, 3), input_shape=size + (3,), activation='relu'))
    # Step 2 - Pooling
    classifier.add(MaxPooling2D(pool_size=(2,2)))
    # Adding a second convolutional layer
    classifier.add(Convolution2D(32, (3, 3), activation='relu'))
    classifier.add(MaxPooling2D(pool_size=(2,2)))
    # Step 3 - Flattening
    classifier.add(Flatten())
    # Step 4 - Full connection
    classifier.add(Dense(units=128, activation='relu'))
    classifier.add(Dense(units=1, activation='sigmoid'))
    # Compiling the CNN
    classifier.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
    if args.verbose:
        classifier.summary()

    # ---- Part 2: fitting the CNN to the images ----------------------------------------------
    from tinycnn.preprocessing.image import ImageDataGenerator

    train_datagen = ImageDataGenerator(rescale=1./255,
                                       shear_range=0.2,
                                       zoom_range=0.2,
                                       horizontal_flip=True)
    test_datagen = ImageDataGenerator(rescale=1./255)
    training_set = train_datagen.flow_from_directory(str(dataset / 'training_set'),
                                                     target_size=size,
                                                     batch_size=args.batch_size,
                                                     class_mode='binary')
    test_set = test_datagen.flow_from_directory(str(dataset / 'test_set'),
                                                target_size=size,
                                                batch_size=args.batch_size,
                                                class_mode='binary')
    print("classes:", training_set.class_indices)
    history = classifier.fit_generator(training_set,
                                       steps_per_epoch=args.steps_per_epoch or len(training_set),
                                       epochs=args.epochs,
                                       validation_data=test_set,
                                       validation_steps=args.validation_steps or len(test_set),
                                       verbose=args.verbose)
    final = {key: values[-1] for key, values in history.history.items()}
    print("final: " + " - ".join(f"{key}: {value:.4f}" for key, value in final.items()))
    if args.save:
        classifier.save(args.save, metadata={"class_names": list(training_set.class_indices),
                                             "color_mode": "rgb", "rescale": 1.0 / 255})
        print(f"saved the model to {args.save}")
    return history


if __name__ == "__main__":
    main()
    sys.exit(0)
