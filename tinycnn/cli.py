"""The ``tinycnn`` command line: train, evaluate, predict and summarise CNNs without writing code.

Examples
--------
::

    tinycnn train digits --model small --epochs 5 --output digits.npz
    tinycnn train dataset/ --model article --epochs 25 --augment --output cats_dogs.npz
    tinycnn evaluate --weights cats_dogs.npz dataset/
    tinycnn predict --weights cats_dogs.npz my_cat.jpg my_dog.jpg
    tinycnn summary --model article --input-shape 64,64,3

``train`` writes one whole-model file with ``Sequential.save`` (``.npz``: architecture, weights,
compile settings, optimizer state), whose metadata records the model name, class names and
preprocessing; ``evaluate``, ``predict`` and ``summary --weights`` open it with
``tinycnn.models.load_model`` (so they also take a model saved by your own code). Files of older
tinycnn versions -- weights from ``save_weights`` plus a JSON sidecar (``weights.npz`` ->
``weights.json``) -- are still read. Errors are printed as one ``tinycnn: error: ...`` line with
exit status 2 (set ``TINYCNN_DEBUG=1`` to see the traceback instead).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

import tinycnn

BUILTIN_DATASETS = ("digits", "stripes")
MODELS = ("article", "small")
SIDECAR_FORMAT = "tinycnn-cli-weights/1"
# split folders recognised inside an image folder: (training, validation/test)
SPLIT_FOLDERS = (("training_set", "test_set"), ("train", "test"), ("train", "validation"),
                 ("train", "val"))


class CLIError(ValueError):
    """A user mistake reported as a one-line message (exit status 2)."""


# ---------------------------------------------------------------------------------- models
def build_model(name: str, input_shape: Sequence[int], num_classes: int) -> "tinycnn.Sequential":
    """Build a named architecture of the model zoo for the given input shape and classes.

    ``article``: :func:`tinycnn.models.article_cnn`, the article's network. ``small``:
    :func:`tinycnn.models.small_cnn`, one convolution and pooling, quick on 8x8 digits. The
    output is Dense(1, sigmoid) for two classes, else Dense(num_classes, softmax).
    """
    from tinycnn import zoo

    builders = {"article": zoo.article_cnn, "small": zoo.small_cnn}
    if name not in builders:
        raise CLIError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    shape = tuple(int(size) for size in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise CLIError(f"input shape must be rows,cols,channels, got {input_shape}")
    if num_classes < 2:
        raise CLIError(f"need at least 2 classes, got {num_classes}")
    try:
        return builders[name](shape, classes=num_classes)
    except ValueError as error:  # an image too small for the model
        hint = "; use --model small or a larger --image-size" if name == "article" else ""
        raise CLIError(f"model {name!r}: {error}{hint}") from None


def compile_model(model: "tinycnn.Sequential", num_classes: int, optimizer: str = "adam",
                  learning_rate: Optional[float] = None) -> None:
    from tinycnn.optimizers import SGD, Adam

    if optimizer == "adam":
        chosen: Any = Adam(learning_rate=learning_rate) if learning_rate else Adam()
    elif optimizer == "sgd":
        chosen = SGD(learning_rate=learning_rate) if learning_rate else SGD()
    else:
        raise CLIError(f"unknown optimizer {optimizer!r}; choose adam or sgd")
    loss = "binary_crossentropy" if num_classes == 2 else "sparse_categorical_crossentropy"
    model.compile(optimizer=chosen, loss=loss, metrics=["accuracy"])


# ---------------------------------------------------------------------------------- data
def _parse_shape(text: str) -> Tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected rows,cols,channels such as 64,64,3, "
                                         f"got {text!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected three positive sizes rows,cols,channels, "
                                         f"got {text!r}")
    return shape


def _checked_number(convert: Callable[[str], Any], accept: Callable[[Any], bool],
                    expected: str) -> Callable[[str], Any]:
    """An argparse ``type=``: convert the text, then accept it or say what was expected."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


_positive_int = _checked_number(int, lambda value: value >= 1, "a positive integer")
_fraction = _checked_number(float, lambda value: 0 <= value < 1, "a number in [0, 1)")
_positive_float = _checked_number(float, lambda value: value > 0, "a positive number")


def _split_arrays(x: np.ndarray, y: np.ndarray, validation_split: float,
                  seed: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.RandomState(seed).permutation(len(x))
    cut = len(x) - int(round(validation_split * len(x)))
    train, held_out = order[:cut], order[cut:]
    return x[train], y[train], x[held_out], y[held_out]


def load_builtin(name: str, image_size: Optional[int], samples: int,
                 seed: int) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """Arrays and class names of a built-in dataset (``digits`` or ``stripes``)."""
    from tinycnn.datasets import STRIPE_CLASSES, load_digits, make_stripes

    if name == "digits":
        if image_size not in (None, 8):
            raise CLIError("the digits are 8x8 images: drop --image-size (or give 8)")
        x, y = load_digits()
        return x, y, [str(digit) for digit in range(10)]
    x, y = make_stripes(samples, image_size=image_size or 16, seed=seed)
    return x, y, list(STRIPE_CLASSES)


def find_split_folders(root: Path) -> Optional[Tuple[Path, Path]]:
    """``(train, test)`` subfolders of an image folder laid out like the article's data."""
    for train_name, test_name in SPLIT_FOLDERS:
        if (root / train_name).is_dir() and (root / test_name).is_dir():
            return root / train_name, root / test_name
    return None


def _image_generator(augment: bool, validation_split: float = 0.0) -> Any:
    from tinycnn.preprocessing.image import ImageDataGenerator

    if augment:
        return ImageDataGenerator(rescale=1.0 / 255, shear_range=0.2, zoom_range=0.2,
                                  horizontal_flip=True, validation_split=validation_split)
    return ImageDataGenerator(rescale=1.0 / 255, validation_split=validation_split)


# ---------------------------------------------------------------------------------- model files
# Before whole-model files, 'tinycnn train' wrote save_weights() weights plus a JSON sidecar;
# such pairs are still read (read-only: nothing writes them any more).
def sidecar_path(weights: Path) -> Path:
    """Where the JSON metadata of a weights file lives: ``name.npz`` -> ``name.json``."""
    return weights.with_suffix(".json")


def read_sidecar(weights: Path) -> Dict[str, Any]:
    meta_file = sidecar_path(weights)
    if not weights.exists():
        raise FileNotFoundError(f"weights file not found: {weights}")
    if not meta_file.exists():
        raise CLIError(f"{meta_file} is missing: it is written by 'tinycnn train' next to the "
                       f"weights and says how to rebuild the model")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CLIError(f"{meta_file} is not valid JSON ({error})") from None
    needed = ("format", "model", "input_shape", "class_names", "color_mode", "rescale")
    if not isinstance(meta, dict) or any(key not in meta for key in needed):
        raise CLIError(f"{meta_file} lacks some of {needed}; was it written by 'tinycnn train'?")
    if meta["format"] != SIDECAR_FORMAT:
        raise CLIError(f"{meta_file} has format {meta['format']!r}, expected {SIDECAR_FORMAT!r}")
    return meta


def _is_model_file(path: Path) -> bool:
    """Whether ``path`` is a whole-model file (``Sequential.save``), by its list of entries."""
    import zipfile

    try:
        with zipfile.ZipFile(str(path)) as archive:
            return "model_config.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def load_trained(weights: Path) -> Tuple["tinycnn.Sequential", Dict[str, Any]]:
    """The model in a file written by ``tinycnn train`` (or by ``model.save`` in any program),
    and its description: class names, input shape, colour mode, rescale factor.

    Old files (``save_weights`` weights + ``.json`` sidecar, before whole-model files) are rebuilt
    from the sidecar.
    """
    if not weights.exists():
        raise FileNotFoundError(f"model file not found: {weights}")
    if not _is_model_file(weights) and sidecar_path(weights).exists():
        meta = read_sidecar(weights)  # the old two-file format
        model = build_model(meta["model"], meta["input_shape"], len(meta["class_names"]))
        compile_model(model, len(meta["class_names"]))
        model.load_weights(str(weights))
        return model, meta
    from tinycnn.models import load_model

    model = load_model(str(weights))
    meta = dict(model.metadata)
    shape = [int(size) for size in model.input_shape[1:]]
    if len(shape) != 3:
        raise CLIError(f"{weights} holds a model for inputs of shape {tuple(shape)}; the command "
                       f"line works on images (rows, cols, channels)")
    outputs = int(model.output_shape[-1])
    meta.setdefault("input_shape", shape)
    meta.setdefault("class_names", [str(k) for k in range(2 if outputs == 1 else outputs)])
    meta.setdefault("color_mode", "grayscale" if shape[2] == 1 else "rgb")
    meta.setdefault("rescale", 1.0 / 255)
    meta.setdefault("model", model.name)
    if model.loss is None:
        compile_model(model, len(meta["class_names"]))
    return model, meta


# ---------------------------------------------------------------------------------- commands
def command_train(args: argparse.Namespace) -> int:
    tinycnn.utils.set_random_seed(args.seed)
    output = Path(args.output)
    if output.suffix != ".npz":
        raise CLIError(f"--output must end in .npz, got {output}")
    if args.data in BUILTIN_DATASETS:
        x, y, class_names = load_builtin(args.data, args.image_size, args.samples, args.seed)
        if args.validation_split <= 0:
            raise CLIError("built-in datasets need --validation-split > 0 to measure accuracy")
        x_train, y_train, x_val, y_val = _split_arrays(x, y, args.validation_split, args.seed)
        input_shape: Tuple[int, ...] = tuple(x.shape[1:])
        color_mode = "grayscale" if input_shape[2] == 1 else "rgb"
        model = build_model(args.model, input_shape, len(class_names))
        compile_model(model, len(class_names), args.optimizer, args.learning_rate)
        if args.augment:
            generator = _image_generator(True)
            generator.rescale = None  # built-in arrays are already in [0, 1]
            train_data: Any = generator.flow(x_train, y_train, batch_size=args.batch_size,
                                             seed=args.seed)
            history = model.fit(train_data, epochs=args.epochs, verbose=args.verbose,
                                validation_data=(x_val, y_val))
        else:
            history = model.fit(x_train, y_train, batch_size=args.batch_size,
                                epochs=args.epochs, verbose=args.verbose,
                                validation_data=(x_val, y_val))
        source = args.data
    else:
        root = Path(args.data)
        if not root.exists():
            raise FileNotFoundError(f"no such image folder or built-in dataset: {args.data} "
                                    f"(built-in: {', '.join(BUILTIN_DATASETS)})")
        size = args.image_size or 64
        color_mode = args.color_mode
        splits = find_split_folders(root)
        common = dict(target_size=(size, size), color_mode=color_mode,
                      batch_size=args.batch_size)
        if splits is not None:
            train_data = _image_generator(args.augment).flow_from_directory(
                str(splits[0]), class_mode="sparse", seed=args.seed, **common)
            val_data = _image_generator(False).flow_from_directory(
                str(splits[1]), class_mode="sparse", shuffle=False, **common)
        else:
            if args.validation_split <= 0:
                raise CLIError(f"{root} has no training_set/test_set (or train/test) "
                               f"subfolders, so --validation-split must be > 0")
            train_data = _image_generator(args.augment, args.validation_split) \
                .flow_from_directory(str(root), class_mode="sparse", subset="training",
                                     seed=args.seed, **common)
            val_data = _image_generator(False, args.validation_split).flow_from_directory(
                str(root), class_mode="sparse", subset="validation", shuffle=False, **common)
        class_names = list(train_data.class_indices)
        if list(val_data.class_indices) != class_names:
            raise CLIError(f"training classes {class_names} differ from validation classes "
                           f"{list(val_data.class_indices)}")
        if val_data.samples == 0:
            raise CLIError("the validation part holds no images; add images or raise "
                           "--validation-split")
        input_shape = train_data.image_shape
        model = build_model(args.model, input_shape, len(class_names))
        compile_model(model, len(class_names), args.optimizer, args.learning_rate)
        history = model.fit(train_data, epochs=args.epochs, verbose=args.verbose,
                            validation_data=val_data)
        source = str(root.resolve())
    output.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "model": args.model,
        "input_shape": [int(size) for size in input_shape],
        "class_names": class_names,
        "color_mode": color_mode,
        "rescale": 1.0 / 255,
        "dataset": source,
        "validation_split": args.validation_split,
        "seed": args.seed,
        "samples": args.samples,
        "tinycnn_version": tinycnn.__version__,
        "history": {key: [float(value) for value in values]
                    for key, values in history.history.items()},
    }
    model.save(str(output), metadata=meta)
    final = {key: values[-1] for key, values in meta["history"].items() if values}
    print("final: " + " - ".join(f"{key}: {value:.4f}" for key, value in final.items()))
    print(f"saved the model to {output} (open it with tinycnn.models.load_model)")
    return 0


def command_evaluate(args: argparse.Namespace) -> int:
    model, meta = load_trained(Path(args.weights))
    names = meta["class_names"]
    if args.data in BUILTIN_DATASETS:
        image_size = int(meta["input_shape"][0])
        x, y, data_names = load_builtin(args.data, None if args.data == "digits" else image_size,
                                        int(meta.get("samples") or 600),
                                        int(meta.get("seed") or 0))
        if data_names != names:
            raise CLIError(f"these weights were trained on classes {names}, but {args.data} "
                           f"has {data_names}")
        split = float(meta.get("validation_split") or 0)
        if meta.get("dataset") == args.data and split > 0:
            _, _, x, y = _split_arrays(x, y, split, int(meta.get("seed") or 0))
            part = f"the {len(x)} held-out examples of {args.data}"
        else:
            part = f"all {len(x)} examples of {args.data}"
        if tuple(x.shape[1:]) != tuple(meta["input_shape"]):
            raise CLIError(f"{args.data} images have shape {x.shape[1:]}, the model expects "
                           f"{tuple(meta['input_shape'])}")
        loss, accuracy = model.evaluate(x, y, batch_size=args.batch_size)
    else:
        root = Path(args.data)
        if not root.exists():
            raise FileNotFoundError(f"no such image folder or built-in dataset: {args.data}")
        splits = find_split_folders(root)
        folder = splits[1] if splits is not None else root
        rows, cols, _ = meta["input_shape"]
        data = _image_generator(False).flow_from_directory(
            str(folder), target_size=(rows, cols), color_mode=meta["color_mode"],
            classes=names, class_mode="sparse", batch_size=args.batch_size, shuffle=False)
        loss, accuracy = model.evaluate(data)
        part = f"the {data.samples} images in {folder}"
    print(f"evaluated on {part}")
    print(f"loss: {loss:.4f} - accuracy: {accuracy:.4f}")
    return 0


def command_predict(args: argparse.Namespace) -> int:
    from tinycnn.preprocessing.image import img_to_array, load_img

    model, meta = load_trained(Path(args.weights))
    names = meta["class_names"]
    rows, cols, _ = meta["input_shape"]
    images = np.stack([img_to_array(load_img(path, color_mode=meta["color_mode"],
                                             target_size=(rows, cols)))
                       for path in args.images]) * np.float32(meta["rescale"])
    outputs = model.predict(images, batch_size=args.batch_size)
    for path, output in zip(args.images, outputs):
        if len(names) == 2:
            probability_second = float(output[0])
            label = 1 if probability_second >= 0.5 else 0
            probability = probability_second if label == 1 else 1.0 - probability_second
        else:
            label = int(np.argmax(output))
            probability = float(output[label])
        print(f"{path}: {names[label]} (probability {probability:.3f})")
    return 0


def command_summary(args: argparse.Namespace) -> int:
    if args.weights:
        model, meta = load_trained(Path(args.weights))
        print(f"model {meta['model']!r} trained on {meta.get('dataset')}, classes "
              f"{meta['class_names']}")
    else:
        model = build_model(args.model, args.input_shape, args.classes)
    model.summary()
    return 0


# ---------------------------------------------------------------------------------- parser
def _add_model_file_options(command: argparse.ArgumentParser) -> None:
    """The --weights and --batch-size options of the commands that run a trained model."""
    command.add_argument("--weights", "-w", default="weights.npz",
                         help="model file written by 'tinycnn train' or model.save() "
                              "(default weights.npz)")
    command.add_argument("--batch-size", type=_positive_int, default=32)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinycnn",
        description="Train, evaluate and use small convolutional networks with tinycnn "
                    "(NumPy only).",
        epilog="Image folders hold one subfolder per class (e.g. dataset/cats/*.jpg, "
               "dataset/dogs/*.jpg), optionally split into training_set/ and test_set/ like "
               "the article's data. Reading image files needs Pillow: pip install "
               "tinycnn[image].")
    parser.add_argument("--version", action="version", version=f"tinycnn {tinycnn.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    train = commands.add_parser(
        "train", help="train a model on an image folder or a built-in dataset",
        description="Train a model and save it to one file (.npz) that "
                    "tinycnn.models.load_model opens.")
    train.add_argument("data", metavar="DATA",
                       help="an image folder (one subfolder per class, or training_set/ and "
                            "test_set/ each holding those), or a built-in dataset: "
                            + ", ".join(BUILTIN_DATASETS))
    train.add_argument("--model", choices=MODELS, default="article",
                       help="'article': the article's cats-vs-dogs CNN (default); 'small': one "
                            "convolution, for 8x8 digits")
    train.add_argument("--epochs", type=_positive_int, default=5, help="passes over the data "
                                                                      "(default 5)")
    train.add_argument("--batch-size", type=_positive_int, default=32, help="default 32")
    train.add_argument("--learning-rate", type=_positive_float, default=None,
                       help="optimizer step size (default: Adam 0.001, SGD 0.01)")
    train.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    train.add_argument("--image-size", type=_positive_int, default=None,
                       help="resize images to SIZE x SIZE (image folders: default 64; "
                            "stripes: default 16)")
    train.add_argument("--color-mode", choices=("rgb", "grayscale"), default="rgb",
                       help="for image folders (default rgb)")
    train.add_argument("--validation-split", type=_fraction, default=0.2,
                       help="fraction held out for validation when the data has no test split "
                            "(default 0.2)")
    train.add_argument("--augment", action="store_true",
                       help="the article's augmentation: shear 0.2, zoom 0.2, horizontal flips")
    train.add_argument("--samples", type=_positive_int, default=600,
                       help="number of generated images for 'stripes' (default 600)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--output", "-o", default="weights.npz",
                       help="model file to write (default weights.npz): architecture, "
                            "weights, training settings and class names")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                       help="1: progress bar (default), 2: one line per epoch, 0: quiet")
    train.set_defaults(run=command_train)

    evaluate = commands.add_parser(
        "evaluate", help="loss and accuracy of trained weights on data",
        description="Evaluate saved weights. On an image folder with a test_set/ (or test/) "
                    "subfolder, that part is used; on the built-in dataset the model was "
                    "trained on, its held-out part is used.")
    evaluate.add_argument("data", metavar="DATA", help="image folder or built-in dataset")
    _add_model_file_options(evaluate)
    evaluate.set_defaults(run=command_evaluate)

    predict = commands.add_parser(
        "predict", help="classify image files", description="Print the predicted class and its "
                                                            "probability for each image file.")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="image files (PNG, JPEG, ...)")
    _add_model_file_options(predict)
    predict.set_defaults(run=command_predict)

    summary = commands.add_parser(
        "summary", help="print a model's layers, output shapes and parameter counts",
        description="Print a Keras-style summary of a named model, or of trained weights.")
    summary.add_argument("--model", choices=MODELS, default="article")
    summary.add_argument("--input-shape", type=_parse_shape, default=(64, 64, 3),
                         help="rows,cols,channels (default 64,64,3, the article's)")
    summary.add_argument("--classes", type=_positive_int, default=2,
                         help="number of classes (default 2: one sigmoid output)")
    summary.add_argument("--weights", "-w", default=None,
                         help="describe the model in this file instead")
    summary.set_defaults(run=command_summary)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 usage or data error)."""
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, TypeError, OSError, ImportError) as error:
        if os.environ.get("TINYCNN_DEBUG"):
            raise
        message = str(error) or type(error).__name__
        print(f"tinycnn: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinycnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
