"""``Sequential``: a stack of layers, trained with backpropagation.

Training one batch (:meth:`Sequential.train_on_batch`) is the whole algorithm:

1. forward: each layer's output is the next layer's input;
2. the loss compares the last output with the targets;
3. backward: the loss gradient flows back through the layers in reverse, each layer storing the
   gradients of its own weights;
4. the optimizer updates every weight from its gradient.
"""
from __future__ import annotations

import os
import zipfile
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from . import fast, legacy
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from ._checks import as_float_array, check_positive_int
from .callbacks import CallbackList, History
from .data_adapter import array_batches, is_batch_source, source_batches, steps_of
from .layers.base import ActivatedLayer, Layer
from .progress import ProgressBar

PathLike = Union[str, "os.PathLike[str]"]


class Sequential:
    """A linear stack of layers.

    Parameters
    ----------
    layers : list of Layer, optional
        Layers to :meth:`add`, in order. The first needs ``input_shape=`` (or the model is built on
        the first data it sees).
    name : str
        Shown by :meth:`summary`.

    Examples
    --------
    The article's cats-vs-dogs model:

    >>> from tinycnn.layers import Conv2D, MaxPooling2D, Flatten, Dense
    >>> model = Sequential([
    ...     Conv2D(32, (3, 3), activation="relu", input_shape=(64, 64, 3)),
    ...     MaxPooling2D(pool_size=(2, 2)),
    ...     Conv2D(32, (3, 3), activation="relu"),
    ...     MaxPooling2D(pool_size=(2, 2)),
    ...     Flatten(),
    ...     Dense(128, activation="relu"),
    ...     Dense(1, activation="sigmoid"),
    ... ])
    >>> model.count_params()
    813217
    """

    def __init__(self, layers: Optional[Sequence[Layer]] = None, name: str = "sequential") -> None:
        self.name = name
        self.layers: List[Layer] = []
        self.built = False
        self.optimizer: Optional[optimizers_module.Optimizer] = None
        self.loss: Optional[losses_module.Loss] = None
        self.accuracy: Optional[Callable] = None
        self.stop_training = False
        self.history: Optional[History] = None
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ building
    def add(self, layer: Layer) -> None:
        """Append a layer (built right away when the model's input shape is known)."""
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects a tinycnn layer (e.g. tinycnn.layers.Dense(10)), got {layer!r}"
            )
        if any(existing is layer for existing in self.layers):
            raise ValueError(f"layer {layer.name!r} is already in this model")
        if layer.input_shape is not None and self.layers and not layer.built:
            raise ValueError(
                f"input_shape is only allowed on the first layer; layer {layer.name!r} is layer "
                f"#{len(self.layers) + 1}"
            )
        names = {existing.name for existing in self.layers}
        if layer.name in names:
            base, count = layer.name, 1
            while f"{base}_{count}" in names:
                count += 1
            layer.name = f"{base}_{count}"
        self.layers.append(layer)
        if self.built:
            layer.build(self.layers[-2].output_shape[1:])
        elif len(self.layers) == 1 and layer.input_shape is not None:
            self.build(layer.input_shape)

    def build(self, input_shape: Sequence[int]) -> None:
        """Build every layer for examples of shape ``input_shape`` (no batch axis)."""
        if not self.layers:
            raise ValueError("the model has no layers; add some with model.add(...)")
        shape = tuple(int(d) for d in input_shape)
        for layer in self.layers:
            if not layer.built or layer.input_shape != shape:
                layer.build(shape)
            shape = layer.output_shape[1:]
        self.built = True

    @property
    def input_shape(self):
        """``(None, rows, cols, channels)`` once built, else None."""
        return (None,) + self.layers[0].input_shape if self.built else None

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].dtype if self.layers else np.dtype(np.float32)

    def get_layer(self, name: str) -> Layer:
        """The layer called ``name``."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; the layers are {[l.name for l in self.layers]}")

    def compile(self, optimizer="adam", loss=None, metrics: Optional[Sequence[str]] = None) -> None:
        """Choose how to learn.

        Parameters
        ----------
        optimizer : ``"adam"``, ``"sgd"`` or a :mod:`tinycnn.optimizers` instance.
        loss : ``"binary_crossentropy"``, ``"categorical_crossentropy"``,
            ``"sparse_categorical_crossentropy"``, ``"mse"`` or a :class:`tinycnn.losses.Loss`.
        metrics : list, optional
            ``["accuracy"]`` (or ``["acc"]``) to report accuracy; the kind (binary, categorical,
            sparse) is picked from the loss, as in Keras.
        """
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='binary_crossentropy'")
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        self.metrics = list(metrics or [])
        for metric in self.metrics:
            if metric not in ("accuracy", "acc"):
                raise ValueError(f"unknown metric {metric!r}; tinycnn supports metrics=['accuracy']")
        self.accuracy = None
        if self.metrics:
            self._pick_accuracy()

    def _pick_accuracy(self) -> None:
        if self.metrics and self.built:
            units = self.output_shape[-1]
            self.accuracy = metrics_module.accuracy_for(self.loss.name, units)

    # ------------------------------------------------------------------ checks
    def _prepare_x(self, x, argument: str = "x") -> np.ndarray:
        x = as_float_array(x, argument, dtype=self.dtype)
        if x.ndim >= 1 and len(x) == 0:
            raise ValueError(f"{argument} holds no examples (shape {x.shape}); give at least one")
        if not self.built:
            if not self.layers:
                raise ValueError("the model has no layers; add some with model.add(...)")
            if x.ndim < 2:
                raise ValueError(f"{argument} must be a batch (N, ...), got shape {x.shape}")
            self.build(x.shape[1:])
            self._pick_accuracy()
        expected = self.layers[0].input_shape
        if x.shape[1:] != expected:
            hint = ""
            if x.shape == expected:
                hint = f" It looks like one example: add a batch axis, {argument}[None]."
            elif x.shape[1:] + (1,) == expected:
                hint = f" Grey images need a channel axis: {argument}[..., None]."
            raise ValueError(
                f"{argument} has shape {x.shape} but the model expects input of shape "
                f"{(None,) + expected} (batch first).{hint}"
            )
        return x

    def _prepare_y(self, y, count: int, argument: str = "y") -> np.ndarray:
        if y is None:
            raise ValueError(f"{argument} is required when x is an array")
        try:
            y = np.asarray(y)
        except Exception as error:
            raise TypeError(f"{argument} must be an array of numbers: {error}") from None
        if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
            raise TypeError(f"{argument} must hold numbers, got dtype {y.dtype}")
        if np.issubdtype(y.dtype, np.inexact) and not np.all(np.isfinite(y)):
            raise ValueError(f"{argument} contains NaN or infinity; every target must be finite")
        if len(y) != count if y.ndim else True:
            raise ValueError(
                f"x and {argument} must have the same number of examples: x has {count}, "
                f"{argument} has {len(y) if y.ndim else 'a scalar'}"
            )
        return y

    def _require_compiled(self, what: str) -> None:
        if self.loss is None:
            raise RuntimeError(
                f"call model.compile(optimizer=..., loss=...) before {what}"
            )

    # ------------------------------------------------------------------ forward and backward
    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if not training:  # the fastest order of work for the platform (same numbers)
            return fast.predict(self.layers, x)
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def _backward(self, y: np.ndarray, output: np.ndarray) -> None:
        # Only the weights need gradients. The first layer with weights gets its input from the
        # data (through weightless layers such as Flatten, if any), so it skips computing the
        # gradient for its input -- a sizeable saving -- and the layers before it are skipped.
        first = next((i for i, layer in enumerate(self.layers) if layer.weights), None)
        if first is None:
            return  # nothing to learn
        last = self.layers[-1]
        fused = (
            isinstance(last, ActivatedLayer)
            and last.activation.name == self.loss.fused_activation
        )
        if fused:  # softmax/sigmoid + cross-entropy: dL/dz = (p - y) / N, exact and stable
            grad = self.loss.gradient_preactivation(y, output)
        else:
            grad = self.loss.gradient(y, output)
        grad = grad.astype(output.dtype, copy=False)
        for index in range(len(self.layers) - 1, first - 1, -1):
            layer, input_gradient = self.layers[index], index > first
            if fused and layer is last:  # grad is already dL/d(pre-activation)
                grad = layer.backward_preactivation(grad, input_gradient)
            elif isinstance(layer, ActivatedLayer):
                grad = layer.backward(grad, input_gradient)
            else:
                grad = layer.backward(grad)

    def _update(self) -> None:
        weights, grads = [], []
        for layer in self.layers:
            weights.extend(layer.weights)
            grads.extend(layer.grads)
        self.optimizer.apply(weights, grads)

    def _train_step(self, x: np.ndarray, y: np.ndarray) -> Dict[str, float]:
        output = self._forward(x, training=True)
        logs = {"loss": self.loss(y, output)}
        if self.accuracy is not None:
            logs["accuracy"] = self.accuracy(y, output)
        self._backward(y, output)
        self._update()
        return logs

    def train_on_batch(self, x, y) -> Union[float, List[float]]:
        """One step of gradient descent on one batch; returns ``loss`` or ``[loss, accuracy]``
        (measured on the batch before the update)."""
        self._require_compiled("train_on_batch")
        x = self._prepare_x(x)
        logs = self._train_step(x, self._prepare_y(y, len(x)))
        return list(logs.values()) if self.accuracy is not None else logs["loss"]

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size: int = 32, epochs: int = 1, verbose: int = 1,
            callbacks=None, validation_split: float = 0.0, validation_data=None,
            shuffle: bool = True, initial_epoch: int = 0, steps_per_epoch: Optional[int] = None,
            validation_steps: Optional[int] = None) -> History:
        """Train for ``epochs`` passes over the data.

        Parameters
        ----------
        x : array ``(N, ...)``, or a Sequence/generator of ``(x_batch, y_batch)``
        y : array ``(N,)`` or ``(N, outputs)`` (omit when ``x`` yields batches)
        batch_size : int
            Examples per gradient step (arrays only).
        epochs : int
        verbose : 0 (silent), 1 (progress bar) or 2 (one line per epoch)
        callbacks : list of :class:`tinycnn.callbacks.Callback`
        validation_split : float in [0, 1)
            Fraction of the arrays, taken from the end before shuffling, held out for validation.
        validation_data : ``(x_val, y_val)`` or a Sequence/generator
        shuffle : bool
            Shuffle the arrays every epoch.
        steps_per_epoch, validation_steps : int, optional
            Batches per epoch / per validation; required for generators without ``len()``.

        Returns
        -------
        History
            ``history.history`` maps ``"loss"``, ``"accuracy"``, ``"val_loss"``, ``"val_accuracy"``
            to one value per epoch.
        """
        self._require_compiled("fit")
        epochs = check_positive_int(epochs, "epochs")
        batch_size = check_positive_int(batch_size, "batch_size")
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        if not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")

        if is_batch_source(x):
            if y is not None:
                raise ValueError("y must be omitted when x is a generator or Sequence yielding (x, y)")
            if validation_split:
                raise ValueError("validation_split needs arrays; pass validation_data instead")
            steps = steps_of(x, steps_per_epoch, "steps_per_epoch")
            epoch_batches = lambda: source_batches(x, steps)  # noqa: E731
        else:
            x = self._prepare_x(x)
            y = self._prepare_y(y, len(x))
            if validation_split:
                cut = int(len(x) * (1 - validation_split))
                if cut < 1 or cut == len(x):
                    raise ValueError(
                        f"validation_split={validation_split} leaves no training or no "
                        f"validation examples out of {len(x)}"
                    )
                x, validation_data = x[:cut], (x[cut:], y[cut:])
                y = y[:cut]
            steps = -(-len(x) // batch_size)
            epoch_batches = lambda: array_batches(x, y, batch_size, shuffle)  # noqa: E731

        history = History()
        callback_list = CallbackList([history] + list(callbacks or []), self)
        self.history = history
        self.stop_training = False
        callback_list.call("on_train_begin", {})
        for epoch in range(initial_epoch, epochs):
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}", flush=True)
            callback_list.call("on_epoch_begin", epoch, {})
            bar = ProgressBar(steps, verbose)
            totals: Dict[str, float] = {}
            seen = 0
            for step, (x_batch, y_batch) in enumerate(epoch_batches()):
                callback_list.call("on_batch_begin", step, {})
                if is_batch_source(x):
                    x_batch = self._prepare_x(x_batch, "x batch")
                    y_batch = self._prepare_y(y_batch, len(x_batch), "y batch")
                batch_logs = self._train_step(x_batch, y_batch)
                seen += len(x_batch)
                for key, value in batch_logs.items():
                    totals[key] = totals.get(key, 0.0) + value * len(x_batch)
                running = {key: total / seen for key, total in totals.items()}
                callback_list.call("on_batch_end", step, dict(running, batch=step, size=len(x_batch)))
                bar.update(step + 1, running)
                if self.stop_training:
                    break
            logs = {key: total / max(seen, 1) for key, total in totals.items()}
            if validation_data is not None:
                values = self._evaluate_logs(validation_data, batch_size, validation_steps)
                logs.update({"val_" + key: value for key, value in values.items()})
            bar.update(step + 1, logs, final=True)
            callback_list.call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        callback_list.call("on_train_end", {})
        return history

    def fit_generator(self, generator, steps_per_epoch: Optional[int] = None, epochs: int = 1,
                      verbose: int = 1, callbacks=None, validation_data=None,
                      validation_steps: Optional[int] = None, initial_epoch: int = 0,
                      **keras_arguments) -> History:
        """The Keras 2.0-era spelling of ``fit`` for generators (as in the article).

        ``generator`` yields ``(x_batch, y_batch)``; ``steps_per_epoch`` batches make one epoch.
        Keras 1's ``samples_per_epoch``, ``nb_epoch`` and ``nb_val_samples`` are translated (sample
        counts become batch counts, with a warning); ``workers``, ``use_multiprocessing`` and
        ``max_queue_size`` are accepted and ignored (tinycnn loads batches in the same thread).
        """
        for ignored in ("workers", "use_multiprocessing", "max_queue_size", "pickle_safe", "nb_worker"):
            keras_arguments.pop(ignored, None)
        if "nb_epoch" in keras_arguments:
            epochs = keras_arguments.pop("nb_epoch")
        if "samples_per_epoch" in keras_arguments:
            steps_per_epoch = legacy.generator_steps(
                keras_arguments.pop("samples_per_epoch"), generator, "samples_per_epoch", "steps_per_epoch")
        if "nb_val_samples" in keras_arguments:
            validation_steps = legacy.generator_steps(
                keras_arguments.pop("nb_val_samples"), validation_data, "nb_val_samples", "validation_steps")
        if keras_arguments:
            raise TypeError(f"fit_generator got unexpected arguments {sorted(keras_arguments)}")
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data,
                        validation_steps=validation_steps, initial_epoch=initial_epoch)

    # ------------------------------------------------------------------ evaluate and predict
    def _evaluate_logs(self, data, batch_size: int, steps: Optional[int]) -> Dict[str, float]:
        if is_batch_source(data):
            batches = source_batches(data, steps_of(data, steps, "validation_steps"))
        else:
            if not isinstance(data, (tuple, list)) or len(data) != 2:
                raise ValueError(
                    "validation_data must be a tuple (x_val, y_val) or a generator/Sequence"
                )
            x_val = self._prepare_x(data[0], "x_val")
            batches = array_batches(x_val, self._prepare_y(data[1], len(x_val), "y_val"),
                                    batch_size, False)
        totals: Dict[str, float] = {}
        seen = 0
        for x_batch, y_batch in batches:
            x_batch = self._prepare_x(x_batch)
            y_batch = self._prepare_y(y_batch, len(x_batch))
            output = self._forward(x_batch, training=False)
            totals["loss"] = totals.get("loss", 0.0) + self.loss(y_batch, output) * len(x_batch)
            if self.accuracy is not None:
                totals["accuracy"] = totals.get("accuracy", 0.0) + self.accuracy(y_batch, output) * len(x_batch)
            seen += len(x_batch)
        return {key: total / seen for key, total in totals.items()}

    def evaluate(self, x=None, y=None, batch_size: int = 32, verbose: int = 0,
                 steps: Optional[int] = None) -> Union[float, List[float]]:
        """Loss (and accuracy, if compiled with metrics) on data, without training.

        Returns ``[loss, accuracy]`` when metrics were given, else the loss alone.
        """
        self._require_compiled("evaluate")
        batch_size = check_positive_int(batch_size, "batch_size")
        data = x if is_batch_source(x) else (x, y)
        if not is_batch_source(x):
            x = self._prepare_x(x)
            data = (x, self._prepare_y(y, len(x)))
        logs = self._evaluate_logs(data, batch_size, steps)
        if verbose:
            print(" - ".join(f"{key}: {value:.4f}" for key, value in logs.items()))
        return list(logs.values()) if self.accuracy is not None else logs["loss"]

    def predict(self, x, batch_size: int = 32, verbose: int = 0, steps: Optional[int] = None) -> np.ndarray:
        """The model's outputs for inputs ``x`` ``(N, ...)`` (or a Sequence/generator of batches).

        Returns
        -------
        array ``(N,) + output_shape[1:]``, e.g. ``(N, 1)`` probabilities for the article's model.
        """
        batch_size = check_positive_int(batch_size, "batch_size")
        if is_batch_source(x):  # each batch from a generator is checked on arrival
            batches = (self._prepare_x(xb) for xb, _ in source_batches(x, steps_of(x, steps, "steps")))
        else:  # an array is checked once; its slices need no second check
            x = self._prepare_x(x)
            batches = (x[i : i + batch_size] for i in range(0, len(x), batch_size))
        outputs = [self._forward(batch, training=False) for batch in batches]
        return np.concatenate(outputs, axis=0)

    def __call__(self, x) -> np.ndarray:
        """Same as ``predict(x)``."""
        return self.predict(x)

    def layer_outputs(self, x) -> List[np.ndarray]:
        """Every layer's output for inputs ``x``, in order (for drawing feature maps).

        Returns
        -------
        list of arrays, ``outputs[i]`` of shape ``(N,) + model.layers[i].output_shape[1:]``.
        """
        x = self._prepare_x(x)
        outputs = []
        for layer in self.layers:
            x = layer.forward(x, training=False)
            outputs.append(x)
        return outputs

    # ------------------------------------------------------------------ weights
    def count_params(self) -> int:
        """Total number of weights."""
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self.layers)

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"the model is not built yet, so {what} is unknown: give the first layer "
                "input_shape=..., call model.build(input_shape), or fit/predict some data first"
            )

    def get_weights(self) -> List[np.ndarray]:
        """Copies of every weight array, layer by layer, kernel then bias (Keras order)."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Set every weight from a list in :meth:`get_weights` order.

        All shapes are checked before anything changes: on error the model is left as it was.
        """
        self._require_built("set_weights")
        weights = list(weights)
        expected = [w.shape for layer in self.layers for w in layer.weights]
        if len(weights) != len(expected):
            raise ValueError(
                f"the model has {len(expected)} weight arrays, got {len(weights)}"
            )
        arrays = []
        for i, (array, shape) in enumerate(zip(weights, expected)):
            array = as_float_array(array, f"weights[{i}]")
            if array.shape != shape:
                raise ValueError(f"weights[{i}] must have shape {shape}, got {array.shape}")
            arrays.append(array)
        position = 0
        for layer in self.layers:
            for weight in layer.weights:
                weight[...] = arrays[position]
                position += 1

    def save_weights(self, path: PathLike) -> None:
        """Save every weight array to an ``.npz`` file (arrays ``arr_0``, ``arr_1``, ... in
        :meth:`get_weights` order). The file is written exactly at ``path``."""
        self._require_built("save_weights")
        with open(path, "wb") as handle:
            np.savez(handle, *self.get_weights())

    def load_weights(self, path: PathLike) -> None:
        """Load weights saved by :meth:`save_weights`.

        Never unpickles (``allow_pickle=False``). A missing, corrupt or mismatching file raises a
        clear error and leaves the model's weights exactly as they were.
        """
        self._require_built("load_weights")
        if not os.path.exists(path):
            raise FileNotFoundError(f"weights file {os.fspath(path)!r} does not exist")
        try:
            with open(path, "rb") as handle:
                archive = np.load(handle, allow_pickle=False)
                if not hasattr(archive, "files"):  # a single array (.npy), not an archive
                    raise ValueError("it holds a single array, not an .npz archive of arrays")
                names = sorted(archive.files, key=lambda n: int(n[4:]) if n[4:].isdigit() else -1)
                if any(not (n.startswith("arr_") and n[4:].isdigit()) for n in names):
                    raise ValueError(f"unexpected arrays {names}")
                weights = [archive[name] for name in names]
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as error:
            raise ValueError(
                f"could not read weights from {os.fspath(path)!r}: {error}. Expected an .npz "
                "file written by model.save_weights()"
            ) from None
        try:
            self.set_weights(weights)
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"the weights in {os.fspath(path)!r} do not fit this model: {error}"
            ) from None

    # ------------------------------------------------------------------ summary
    def summary(self, print_fn: Optional[Callable[[str], None]] = None, line_length: int = 70) -> None:
        """Print a Keras-like table of layers, output shapes and parameter counts."""
        self._require_built("the summary")
        print_fn = print_fn or print
        widths = (33, 25, line_length - 58)
        row = lambda cells: "".join(str(c).ljust(w - 1) + " " for c, w in zip(cells, widths)).rstrip()  # noqa: E731
        lines = [f'Model: "{self.name}"', "_" * line_length,
                 row((" Layer (type)", "Output Shape", "Param #")), "=" * line_length]
        for i, layer in enumerate(self.layers):
            name = f" {layer.name} ({type(layer).__name__})"
            lines.append(row((name, str(layer.output_shape), layer.count_params())))
            lines.append("_" * line_length if i < len(self.layers) - 1 else "=" * line_length)
        total = self.count_params()
        lines += [f"Total params: {total:,}", f"Trainable params: {total:,}",
                  "Non-trainable params: 0", "_" * line_length]
        for line in lines:
            print_fn(line)


__all__ = ["Sequential"]


# The model zoo (tinycnn/zoo.py) builds on Sequential, so it is imported last (no cycle).
from .zoo import article_cnn, lenet, output_layer, small_cnn  # noqa: E402

__all__ += ["article_cnn", "lenet", "small_cnn", "output_layer"]
