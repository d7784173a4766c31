"""Python side of the site's interactive demos (the ``docs/javascripts/demos/*.js`` files draw).

The page's JavaScript loads this file once per Python worker as the module ``tinycnn_demos`` and
calls its functions through ``window.tinycnnSite.run``; every function returns a JSON string that
the JavaScript prints and parses. The build hook ``docs/hooks/demo_assets.py`` imports the very
same file to train the digit model whose weights the site ships, so the page and the build build
exactly the same network.

Everything here computes with tinycnn (``tinycnn.functional`` and ``tinycnn.models``); NumPy is
only used to move numbers around.
"""
from __future__ import annotations

import base64
import io
import json
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

from tinycnn.functional import avg_pool2d, conv2d, max_pool2d, relu

#: The digit model of the training dashboard and of the draw-a-digit demo.
DIGITS_MODEL_SOURCE = '''\
# tinycnn.models.lenet: Conv2D(8, 3x3, "same", relu) -> MaxPooling2D(2)
#   -> Conv2D(16, 3x3, "same", relu) -> MaxPooling2D(2) -> Flatten -> Dense(10, softmax)
model = lenet(input_shape=(8, 8, 1), classes=10, kernel_size=3)
model.compile(optimizer=Adam(learning_rate=learning_rate),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])'''

#: Training settings used by the dashboard by default and by the build-time pre-training.
DIGITS_DEFAULTS = {"learning_rate": 0.01, "epochs": 15, "batch_size": 32, "seed": 0,
                   "held_out": 0.2, "split_seed": 0}


def _dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _round(array, digits: int = 4) -> list:
    return np.round(np.asarray(array, dtype=np.float64), digits).tolist()


def _shape(shape) -> list:
    return [None if s is None else int(s) for s in shape]


# ------------------------------------------------------------------------------------------------
# 1. Convolution explorer
# ------------------------------------------------------------------------------------------------
def same_padding(size: int, kernel: int, stride: int) -> List[int]:
    """Zeros added ``[before, after]`` by ``padding="same"`` (TensorFlow/Keras rule)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return [total // 2, total - total // 2]


def conv(image: Sequence[Sequence[float]], kernel: Sequence[Sequence[float]], strides: int = 1,
         padding: str = "valid") -> str:
    """Feature map of a single-channel ``image`` (rows, cols) and a ``kernel`` (kh, kw)."""
    image = np.asarray(image, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    out = conv2d(image, kernel, strides=int(strides), padding=padding)
    if padding == "same":
        pads = [same_padding(image.shape[0], kernel.shape[0], int(strides)),
                same_padding(image.shape[1], kernel.shape[1], int(strides))]
    else:
        pads = [[0, 0], [0, 0]]
    return _dumps({"output": _round(out), "shape": list(out.shape), "pads": pads})


# ------------------------------------------------------------------------------------------------
# 2. Pooling explorer
# ------------------------------------------------------------------------------------------------
def pool(matrix: Sequence[Sequence[float]], mode: str = "max", pool_size: int = 2,
         strides: Optional[int] = None, padding: str = "valid") -> str:
    """Pooled ``matrix`` (rows, cols), computed by tinycnn, and the winning cell of each window."""
    matrix = np.asarray(matrix, dtype=np.float32)
    strides = int(strides or pool_size)
    function = max_pool2d if mode == "max" else avg_pool2d
    out = function(matrix, pool_size=int(pool_size), strides=strides, padding=padding)
    if padding == "same":
        pads = [same_padding(matrix.shape[0], int(pool_size), strides),
                same_padding(matrix.shape[1], int(pool_size), strides)]
    else:
        pads = [[0, 0], [0, 0]]
    winners = []
    for i in range(out.shape[0]):
        row = []
        for j in range(out.shape[1]):
            r0, c0 = i * strides - pads[0][0], j * strides - pads[1][0]
            r1, c1 = min(r0 + int(pool_size), matrix.shape[0]), min(c0 + int(pool_size), matrix.shape[1])
            r0, c0 = max(r0, 0), max(c0, 0)
            window = matrix[r0:r1, c0:c1]
            r, c = np.unravel_index(int(np.argmax(window)), window.shape)
            row.append([int(r0 + r), int(c0 + c)])
        winners.append(row)
    return _dumps({"output": _round(out), "shape": list(out.shape), "pads": pads, "winners": winners})


def edge_map(image: Sequence[Sequence[float]]) -> str:
    """ReLU of the vertical-edge feature map of a grey image: a real feature map to pool."""
    kernel = np.array([[1, 0, -1]] * 3, dtype=np.float32)
    fmap = relu(conv2d(np.asarray(image, dtype=np.float32), kernel))
    return _dumps({"output": _round(fmap, 3), "shape": list(fmap.shape)})


# ------------------------------------------------------------------------------------------------
# Digits: data, model, training in small steps
# ------------------------------------------------------------------------------------------------
def load_digit_data(x: Optional[np.ndarray] = None, y: Optional[np.ndarray] = None):
    """The 8x8 digits scaled to [0, 1] and split into training and held-out parts (fixed seed)."""
    if x is None:
        from tinycnn.datasets import load_digits
        x, y = load_digits()
    x = np.asarray(x, dtype=np.float32)
    x = x / max(float(x.max()), 1e-12)   # [0, 1] whatever scale the file used
    if x.ndim == 3:
        x = x[..., np.newaxis]               # (n_ex, 8, 8) -> (n_ex, 8, 8, 1)
    y = np.asarray(y, dtype=np.int64)
    order = np.random.RandomState(DIGITS_DEFAULTS["split_seed"]).permutation(len(x))
    n_test = int(round(len(x) * DIGITS_DEFAULTS["held_out"]))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def build_digits_model(learning_rate: float = DIGITS_DEFAULTS["learning_rate"],
                       seed: int = DIGITS_DEFAULTS["seed"]):
    """The small CNN of the dashboard (see ``DIGITS_MODEL_SOURCE``), compiled, seeded."""
    from tinycnn.models import lenet
    from tinycnn.optimizers import Adam
    from tinycnn.utils import set_random_seed

    set_random_seed(int(seed))
    scope = {"lenet": lenet, "Adam": Adam, "learning_rate": float(learning_rate)}
    exec(DIGITS_MODEL_SOURCE, scope)
    return scope["model"]


def describe(model) -> List[Dict]:
    """One entry per layer: name, class, output shape, parameter count."""
    return [{"name": layer.name, "kind": type(layer).__name__, "shape": _shape(layer.output_shape),
             "params": int(layer.count_params())} for layer in model.layers]


def first_kernels(model) -> list:
    """The first convolution layer's kernels as a list of (kh, kw) matrices."""
    kernel = model.layers[0].kernel  # (kh, kw, 1, filters)
    return [_round(kernel[:, :, 0, f], 3) for f in range(kernel.shape[-1])]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int = 10) -> List[List[int]]:
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix.tolist()


class Trainer:
    """Trains the digit model a few batches at a time, so the page can draw between steps."""

    def __init__(self, learning_rate: float, epochs: int, batch_size: int = 32, seed: int = 0,
                 data=None) -> None:
        self.x, self.y, self.x_test, self.y_test = data if data is not None else load_digit_data()
        self.model = build_digits_model(learning_rate, seed)
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.rng = np.random.RandomState(int(seed))
        self.batches = -(-len(self.x) // self.batch_size)
        self.epoch = 0
        self.batch = 0
        self.order = self.rng.permutation(len(self.x))
        self.sums = [0.0, 0.0, 0]
        self.history = {"epoch": [], "loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        self.points = []          # [fractional epoch, smoothed batch loss, smoothed batch accuracy]
        self.smooth = None        # exponential moving average of the batch loss and accuracy
        self.seconds = 0.0
        self.examples = 0

    @property
    def done(self) -> bool:
        return self.epoch >= self.epochs

    def set_learning_rate(self, learning_rate: float) -> None:
        self.model.optimizer.learning_rate = float(learning_rate)

    def step(self, seconds: float = 0.3) -> Dict:
        """Train for about ``seconds`` (whole batches, never past the end of an epoch)."""
        started = time.time()
        while not self.done:
            index = self.order[self.batch * self.batch_size:(self.batch + 1) * self.batch_size]
            loss, accuracy = self.model.train_on_batch(self.x[index], self.y[index])
            self.sums[0] += float(loss) * len(index)
            self.sums[1] += float(accuracy) * len(index)
            self.sums[2] += len(index)
            self.examples += len(index)
            self.batch += 1
            running = [self.sums[0] / self.sums[2], self.sums[1] / self.sums[2]]
            if self.smooth is None:
                self.smooth = [float(loss), float(accuracy)]
            else:
                self.smooth = [0.9 * self.smooth[0] + 0.1 * float(loss),
                               0.9 * self.smooth[1] + 0.1 * float(accuracy)]
            self.points.append([round(self.epoch + self.batch / self.batches, 4),
                                round(self.smooth[0], 4), round(self.smooth[1], 4)])
            if self.batch == self.batches:
                self._end_epoch(running)
                break
            if time.time() - started >= seconds:
                break
        self.seconds += time.time() - started
        return self.state()

    def _end_epoch(self, running) -> None:
        val_loss, val_accuracy = self.model.evaluate(self.x_test, self.y_test, batch_size=256)
        self.history["epoch"].append(self.epoch + 1)
        self.history["loss"].append(round(running[0], 4))
        self.history["accuracy"].append(round(running[1], 4))
        self.history["val_loss"].append(round(float(val_loss), 4))
        self.history["val_accuracy"].append(round(float(val_accuracy), 4))
        self.epoch += 1
        self.batch = 0
        self.order = self.rng.permutation(len(self.x))
        self.sums = [0.0, 0.0, 0]

    def state(self, since: int = 0) -> Dict:
        state = {
            "epoch": self.epoch, "batch": self.batch, "batches": self.batches, "epochs": self.epochs,
            "points": self.points[since:], "n_points": len(self.points), "history": self.history,
            "kernels": first_kernels(self.model), "done": self.done,
            "seconds": round(self.seconds, 3), "examples": self.examples,
            "train_size": int(len(self.x)), "test_size": int(len(self.x_test)),
        }
        if self.done:
            state.update(self.final())
        return state

    def final(self) -> Dict:
        predicted = self.model.predict(self.x_test, batch_size=256).argmax(axis=-1)
        return {"confusion": confusion_matrix(self.y_test, predicted),
                "test_accuracy": round(float(np.mean(predicted == self.y_test)), 4)}


_trainer: Optional[Trainer] = None


def train_start(learning_rate: float, epochs: int, seed: int = 0) -> str:
    global _trainer
    _trainer = Trainer(learning_rate, epochs, DIGITS_DEFAULTS["batch_size"], seed)
    return _dumps({"layers": describe(_trainer.model), "params": int(_trainer.model.count_params()),
                   "state": _trainer.state()})


def train_step(seconds: float = 0.3, since: int = 0, learning_rate: Optional[float] = None,
               epochs: Optional[int] = None) -> str:
    if _trainer is None:
        return _dumps({"error": "no training in progress: press Train"})
    if learning_rate is not None:
        _trainer.set_learning_rate(learning_rate)
    if epochs is not None:
        _trainer.epochs = max(int(epochs), _trainer.epoch)
    _trainer.step(seconds)
    return _dumps(_trainer.state(since))


def train_finish() -> str:
    """Confusion matrix and held-out accuracy of the model as it is now (e.g. after Stop)."""
    if _trainer is None:
        return _dumps({"error": "no model trained yet"})
    return _dumps(_trainer.final())


# ------------------------------------------------------------------------------------------------
# 4. Draw a digit
# ------------------------------------------------------------------------------------------------
_pretrained = None
_user_model = None
_temperatures: Dict[tuple, float] = {}
DIGIT_CLASS_NAMES = [str(digit) for digit in range(10)]


def digits_model_metadata(test_accuracy: float, epochs: int, where: str) -> Dict:
    """What a saved digit model records about itself (``model.metadata`` after ``load_model``)."""
    return {"class_names": DIGIT_CLASS_NAMES, "trained_on": "tinycnn.datasets.load_digits, "
            "scaled to [0, 1], 8x8x1", "held_out": DIGITS_DEFAULTS["held_out"],
            "split_seed": DIGITS_DEFAULTS["split_seed"], "test_accuracy": round(float(test_accuracy), 4),
            "epochs": int(epochs), "trained_in": where}


def model_file(which: str = "trained") -> str:
    """The dashboard's model as a ``model.save`` file (base64): it opens natively with
    ``tinycnn.models.load_model`` and goes on training where it stopped."""
    if which != "trained" or _trainer is None or (_trainer.epoch == 0 and _trainer.batch == 0):
        return _dumps({"error": "train a model first: press Train"})
    final = _trainer.final()
    buffer = io.BytesIO()
    _trainer.model.save(buffer, metadata=digits_model_metadata(
        final["test_accuracy"], _trainer.epoch, "the training dashboard of the tinycnn site"))
    data = buffer.getvalue()
    return _dumps({"data": base64.b64encode(data).decode("ascii"), "bytes": len(data),
                   "test_accuracy": final["test_accuracy"], "epochs": _trainer.epoch})


def _open_digit_model(npz_base64: str, what: str):
    """A digit model from a ``model.save`` file; ValueError saying what is wrong if it is not one."""
    from tinycnn.models import load_model

    buffer = io.BytesIO(base64.b64decode(npz_base64))
    buffer.name = what  # so that load_model's messages name the reader's file
    model = load_model(buffer, compile=False)
    if model.input_shape != (None, 8, 8, 1) or model.output_shape != (None, 10):
        raise ValueError(
            f"{what!r} is a tinycnn model for inputs {model.input_shape[1:]} with "
            f"{model.output_shape[-1]} outputs; draw-a-digit needs 8x8x1 images in and 10 "
            "digit probabilities out, like the dashboard's model")
    return model


def load_pretrained(npz_base64: str, temperature: Optional[float] = None) -> str:
    """Open the digit model trained when the site was built (a ``model.save`` file) and take the
    temperature fitted for it at build time (``digits_model.json``)."""
    global _pretrained
    _pretrained = _open_digit_model(npz_base64, "digits_model.npz")
    if temperature:
        _temperatures[_temperature_key(_pretrained)] = float(temperature)
    return _dumps({"ok": True})


def load_user_model(npz_base64: str, filename: str = "the file") -> str:
    """Open a model file the reader chose ("Use my model"); a clear message if it is not one."""
    global _user_model
    try:
        model = _open_digit_model(npz_base64, str(filename))
    except ValueError as error:  # ModelFileError is a ValueError; the message names the file
        return _dumps({"error": str(error)})
    _user_model = model
    metadata = model.metadata if isinstance(model.metadata, dict) else {}
    return _dumps({"ok": True, "params": int(model.count_params()), "layers": len(model.layers),
                   "test_accuracy": metadata.get("test_accuracy")})


def fit_temperature(model, x_held_out: np.ndarray, y_held_out: np.ndarray) -> float:
    """The temperature ``T`` that makes ``softmax(logits / T)`` best calibrated on held-out digits.

    Temperature scaling (Guo et al., 2017): one number, fitted by minimising the negative
    log-likelihood of the held-out labels; it changes how sure the model says it is, never which
    digit it picks. The logits are ``log p`` of the softmax output (softmax ignores a constant).
    """
    probabilities = model.predict(x_held_out, batch_size=256).astype(np.float64)
    logits = np.log(np.maximum(probabilities, 1e-30))
    labels = np.asarray(y_held_out, dtype=np.int64)
    best = (np.inf, 1.0)
    for temperature in np.exp(np.linspace(np.log(0.25), np.log(20.0), 400)):
        z = logits / temperature
        z -= z.max(axis=1, keepdims=True)
        nll = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(z)), labels]))
        best = min(best, (nll, float(temperature)))
    return round(best[1], 3)


def calibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(p) / T)``: the probabilities after temperature scaling."""
    z = np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), 1e-30)) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


_held_out = None


def _temperature_key(model):
    """A model's temperature holds until it trains again (the dashboard's model does)."""
    return id(model), getattr(model.optimizer, "iterations", 0)


def _temperature(model) -> float:
    global _held_out
    key = _temperature_key(model)
    if key not in _temperatures:
        if _held_out is None:
            _held_out = load_digit_data()[2:]
        _temperatures[key] = fit_temperature(model, *_held_out)
    return _temperatures[key]


def _encode_maps(array: np.ndarray) -> Dict:
    """(rows, cols, channels) or (units,) activations as numbers rounded for drawing."""
    return {"shape": list(array.shape), "values": _round(array, 3)}


def predict_digit(pixels: Sequence[Sequence[float]], prefer: str = "trained") -> str:
    """Class probabilities and every layer's output for one 8x8 image with values in [0, 1]."""
    if prefer == "trained" and _trainer is not None and _trainer.epoch > 0:
        model, source = _trainer.model, "trained"
    elif prefer == "user" and _user_model is not None:
        model, source = _user_model, "user"
    elif _pretrained is not None:
        model, source = _pretrained, "pretrained"
    else:
        return _dumps({"need_weights": True})
    x = np.clip(np.asarray(pixels, dtype=np.float32), 0.0, 1.0).reshape(1, 8, 8, 1)
    outputs = model.layer_outputs(x)
    layers = []
    for layer, output in zip(model.layers, outputs):
        entry = {"name": layer.name, "kind": type(layer).__name__}
        entry.update(_encode_maps(output[0]))
        layers.append(entry)
    temperature = _temperature(model)
    probabilities = calibrated(outputs[-1][0], temperature)
    return _dumps({"source": source, "probabilities": _round(probabilities, 4),
                   "raw": _round(outputs[-1][0], 4), "temperature": temperature,
                   "label": int(np.argmax(probabilities)), "layers": layers})


def models() -> str:
    """Which digit models exist in this Python: the dashboard's (trained >= 1 epoch), the pre-trained one."""
    return _dumps({"trained": _trainer is not None and _trainer.epoch > 0, "pretrained": _pretrained is not None,
                   "user": _user_model is not None})


def sample_digit(index: int) -> str:
    """A held-out digit (pixels in [0, 1]) and its label, to try the model on real data."""
    _, _, x_test, y_test = load_digit_data()
    index = int(index) % len(x_test)
    return _dumps({"pixels": _round(x_test[index, :, :, 0], 3), "label": int(y_test[index])})


# ------------------------------------------------------------------------------------------------
# 5. Architecture view: the article's model
# ------------------------------------------------------------------------------------------------
ARTICLE_MODEL_SOURCE = '''\
# tinycnn.models.article_cnn: Conv2D(32, 3x3, relu) -> MaxPooling2D(2) -> Conv2D(32, 3x3, relu)
#   -> MaxPooling2D(2) -> Flatten -> Dense(128, relu) -> Dense(1, sigmoid)
model = article_cnn(input_shape=(64, 64, 3))
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])'''

_article = None
_activations: Dict[str, List[np.ndarray]] = {}


def article_model():
    global _article
    if _article is None:
        from tinycnn.models import article_cnn
        from tinycnn.utils import set_random_seed

        set_random_seed(0)
        scope = {"article_cnn": article_cnn}
        exec(ARTICLE_MODEL_SOURCE, scope)
        _article = scope["model"]
    return _article


def _model_from_source(source: str, seed: int):
    """Run an article-style model ``source`` (Sequential, Conv2D, MaxPooling2D, Flatten, Dense)
    with the random seed ``seed``; returns its ``model``."""
    from tinycnn.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from tinycnn.models import Sequential
    from tinycnn.utils import set_random_seed

    set_random_seed(seed)
    scope = {"Sequential": Sequential, "Conv2D": Conv2D, "MaxPooling2D": MaxPooling2D,
             "Flatten": Flatten, "Dense": Dense}
    exec(source, scope)
    return scope["model"]


def article_summary() -> str:
    model = article_model()
    lines: List[str] = []
    model.summary(print_fn=lines.append)
    return _dumps({"layers": describe(model), "params": int(model.count_params()),
                   "input_shape": _shape(model.input_shape), "summary": "\n".join(lines),
                   "source": ARTICLE_MODEL_SOURCE})


def _quantise(array: np.ndarray) -> Dict:
    """Channels-last activations as base64 bytes 0..255 (per-channel min..max), for drawing."""
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 1:
        array = array[np.newaxis, :, np.newaxis]
    flat = array.reshape(-1, array.shape[-1])
    low, high = flat.min(axis=0), flat.max(axis=0)
    scaled = (array - low) / np.where(high > low, high - low, 1.0)
    data = np.round(scaled * 255).astype(np.uint8)
    data = np.ascontiguousarray(np.moveaxis(data, -1, 0))   # (channels, rows, cols)
    return {"shape": list(array.shape), "low": _round(low, 4), "high": _round(high, 4),
            "data": base64.b64encode(data.tobytes()).decode("ascii")}


def article_activations(input_name: str, stage: int, image: Optional[Sequence] = None) -> str:
    """Activations of stage ``stage`` (0 = the input) of the article's model for an input.

    ``input_name`` is ``"photo"`` (then ``image`` is the 64x64x3 photo in [0, 1]) or one of the
    synthetic shapes ``"circle"``, ``"square"``, ``"triangle"``, ``"cross"``.
    """
    model = article_model()
    if input_name not in _activations:
        if input_name == "photo" and image is None:
            return _dumps({"need_image": True})
        if input_name == "photo":
            x = np.asarray(image, dtype=np.float32).reshape(1, 64, 64, 3)
        else:
            from tinycnn.datasets import make_shapes
            names = ("circle", "square", "triangle", "cross")
            if input_name not in names:
                raise ValueError(f"input_name must be 'photo' or one of {names}, got {input_name!r}")
            images, labels = make_shapes(8, image_size=64, shapes=names, channels=3, seed=3)
            x = np.asarray(images, dtype=np.float32)[list(labels).index(names.index(input_name))][np.newaxis]
        _activations[input_name] = [x[0]] + [out[0] for out in model.layer_outputs(x)]
    outputs = _activations[input_name]
    stage = int(stage)
    result = {"stage": stage, "activations": _quantise(outputs[stage])}
    if stage == 0:
        result["rgb"] = True
    if stage == len(outputs) - 1:
        result["value"] = round(float(outputs[stage].ravel()[0]), 4)
    return _dumps(result)


# ------------------------------------------------------------------------------------------------
# 6. The article's task on the reader's own photos (keras-program page, own-photos.js)
# ------------------------------------------------------------------------------------------------
#: Photos are downsized by the browser to this square size (the article uses 64x64; 32x32 with the
#: smaller model below trains in about a minute in Pyodide, the article's model would take minutes).
PHOTOS_SIZE = 32
#: Per-class limits: fewer is too little to learn from, more would not fit the page's memory budget.
PHOTOS_MIN, PHOTOS_MAX = 5, 500

#: The article's layer sequence (two convolution + pooling blocks, a hidden Dense layer, one sigmoid
#: unit, Adam, binary cross-entropy), with fewer filters and units and 32x32 inputs.
PHOTOS_MODEL_SOURCE = '''\
model = Sequential()
model.add(Conv2D(16, (3, 3), input_shape=(32, 32, 3), activation="relu"))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Conv2D(32, (3, 3), activation="relu"))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(units=64, activation="relu"))
model.add(Dense(units=1, activation="sigmoid"))
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])'''

#: The article's augmentation, as in its program.
PHOTOS_AUGMENTATION = {"rescale": 1. / 255, "shear_range": 0.2, "zoom_range": 0.2,
                       "horizontal_flip": True}

_photos: Dict[int, List[np.ndarray]] = {0: [], 1: []}
_photo_trainer = None


def _decode_photos(pixels_base64: str, count: int, size: int = PHOTOS_SIZE) -> np.ndarray:
    """``count`` RGB photos of ``size`` x ``size`` sent by the page as base64 bytes (uint8)."""
    data = np.frombuffer(base64.b64decode(pixels_base64), dtype=np.uint8)
    expected = int(count) * size * size * 3
    if data.size != expected:
        raise ValueError(f"expected {count} photos of {size}x{size}x3 = {expected} bytes, got {data.size}")
    return data.reshape(int(count), size, size, 3)


def photos_reset() -> str:
    global _photo_trainer
    _photos[0], _photos[1] = [], []
    _photo_trainer = None
    return _dumps({"ok": True})


def photos_add(label: int, pixels_base64: str, count: int) -> str:
    """Add ``count`` photos of class ``label`` (0 or 1); returns the photos per class so far."""
    if label not in (0, 1):
        raise ValueError(f"label must be 0 or 1, got {label!r}")
    if sum(len(a) for a in _photos[label]) + int(count) > PHOTOS_MAX:
        raise ValueError(f"at most {PHOTOS_MAX} photos per class")
    _photos[label].append(_decode_photos(pixels_base64, count))
    return _dumps({"counts": [sum(len(a) for a in _photos[k]) for k in (0, 1)]})


def build_photos_model(seed: int = 0):
    return _model_from_source(PHOTOS_MODEL_SOURCE, seed)


def split_photos(counts: Sequence[int], validation: float = 0.2, seed: int = 0):
    """Indices ``(train, validation)`` per class: a stratified split, at least one photo of each
    class in each part."""
    rng = np.random.RandomState(seed)
    train, held = [], []
    for label, n in enumerate(counts):
        order = rng.permutation(int(n))
        k = min(max(1, int(round(validation * n))), int(n) - 1)
        held.append((label, order[:k]))
        train.append((label, order[k:]))
    return train, held


class PhotoTrainer:
    """Trains the photos model a few batches at a time with the article's augmentation."""

    def __init__(self, x0: np.ndarray, x1: np.ndarray, epochs: int = 15, batch_size: int = 8,
                 seed: int = 0) -> None:
        from tinycnn.preprocessing.image import ImageDataGenerator

        counts = [len(x0), len(x1)]
        if min(counts) < PHOTOS_MIN:
            raise ValueError(f"each class needs at least {PHOTOS_MIN} photos, got {counts[0]} and {counts[1]}")
        train, held = split_photos(counts, 0.2, seed)
        xs = (x0, x1)
        self.x = np.concatenate([xs[k][i] for k, i in train]).astype(np.float32)
        self.y = np.concatenate([np.full(len(i), k, dtype=np.float32) for k, i in train])
        self.x_val = np.concatenate([xs[k][i] for k, i in held]).astype(np.float32) / 255
        self.y_val = np.concatenate([np.full(len(i), k, dtype=np.float32) for k, i in held])
        self.model = build_photos_model(seed)
        self.augment = ImageDataGenerator(**PHOTOS_AUGMENTATION)
        self.flow = self.augment.flow(self.x, self.y, batch_size=batch_size, seed=seed)
        self.batches = len(self.flow)
        self.epochs = int(epochs)
        self.epoch = 0
        self.batch = 0
        self.seconds = 0.0
        self.history: Dict[str, List[float]] = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        self.sums = [0.0, 0.0, 0]

    @property
    def done(self) -> bool:
        return self.epoch >= self.epochs

    def step(self, seconds: float = 0.5) -> Dict:
        started = time.time()
        while not self.done:
            xb, yb = self.flow[self.batch]
            loss, accuracy = self.model.train_on_batch(xb, yb)
            self.sums[0] += float(loss) * len(yb)
            self.sums[1] += float(accuracy) * len(yb)
            self.sums[2] += len(yb)
            self.batch += 1
            if self.batch == self.batches:
                val_loss, val_accuracy = self.model.evaluate(self.x_val, self.y_val, batch_size=64)
                self.history["loss"].append(round(self.sums[0] / self.sums[2], 4))
                self.history["accuracy"].append(round(self.sums[1] / self.sums[2], 4))
                self.history["val_loss"].append(round(float(val_loss), 4))
                self.history["val_accuracy"].append(round(float(val_accuracy), 4))
                self.sums = [0.0, 0.0, 0]
                self.epoch += 1
                self.batch = 0
                self.flow.on_epoch_end()
                break
            if time.time() - started >= seconds:
                break
        self.seconds += time.time() - started
        return self.state()

    def state(self) -> Dict:
        return {"epoch": self.epoch, "epochs": self.epochs, "batch": self.batch, "batches": self.batches,
                "history": self.history, "done": self.done, "seconds": round(self.seconds, 2),
                "train_size": int(len(self.x)), "val_size": int(len(self.x_val))}


def photos_start(epochs: int = 15, seed: int = 0) -> str:
    global _photo_trainer
    x0 = np.concatenate(_photos[0]) if _photos[0] else np.zeros((0, PHOTOS_SIZE, PHOTOS_SIZE, 3), np.uint8)
    x1 = np.concatenate(_photos[1]) if _photos[1] else np.zeros((0, PHOTOS_SIZE, PHOTOS_SIZE, 3), np.uint8)
    _photo_trainer = PhotoTrainer(x0, x1, epochs=epochs, seed=seed)
    return _dumps({"params": int(_photo_trainer.model.count_params()), "state": _photo_trainer.state()})


def photos_step(seconds: float = 0.5) -> str:
    if _photo_trainer is None:
        raise ValueError("no training in progress: press Train")
    return _dumps(_photo_trainer.step(seconds))


def photos_predict(pixels_base64: str) -> str:
    """Probability that one photo (base64 RGB bytes, 32x32) is of class 1, from the trained model."""
    if _photo_trainer is None:
        raise ValueError("train the model first")
    x = _decode_photos(pixels_base64, 1).astype(np.float32) / 255
    return _dumps({"p1": round(float(_photo_trainer.model.predict(x).ravel()[0]), 4)})


def photos_model_file(names_json: str = '["cat", "dog"]') -> str:
    """The photo model as a ``model.save`` file (base64), like the dashboard's: it opens natively
    with ``tinycnn.models.load_model``; its metadata names the two classes (sigmoid output = the
    probability of the second) and the input (32x32 RGB photos scaled to 0..1)."""
    if _photo_trainer is None or _photo_trainer.epoch == 0:
        return _dumps({"error": "train the model first: press Train on my photos"})
    names = [str(name) for name in json.loads(names_json)]
    accuracy = _photo_trainer.history["val_accuracy"][-1]
    buffer = io.BytesIO()
    _photo_trainer.model.save(buffer, metadata={
        "class_names": names, "input": f"{PHOTOS_SIZE}x{PHOTOS_SIZE} RGB photos, values / 255",
        "output": f"probability of {names[1]!r}", "val_accuracy": accuracy,
        "epochs": _photo_trainer.epoch, "made_by": "the Keras program page of the tinycnn site"})
    data = buffer.getvalue()
    return _dumps({"data": base64.b64encode(data).decode("ascii"), "bytes": len(data),
                   "val_accuracy": accuracy})

