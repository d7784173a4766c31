"""Whole-model files: ``model.save(path)`` and ``load_model(path)``.

One file holds everything needed to use or to go on training a model, as Keras's
``model.save`` / ``keras.models.load_model`` do:

* the **architecture** -- :meth:`Sequential.get_config`, one ``{"class_name", "config"}`` entry
  per layer, with Keras's argument names (``filters``, ``kernel_size``, ``strides``, ``padding``,
  ``activation``, ``units``, ``pool_size``, ``rate``, ``input_shape``, ``name``, ...);
* the **weights**, in :meth:`Sequential.get_weights` order;
* the **compile settings** -- optimizer and its settings, loss, metrics;
* the **optimizer state** (unless ``include_optimizer=False``): the iteration count and every
  per-weight slot (Adam's first and second moment estimates, SGD's momentum velocities), so that
  ``fit`` continues exactly where it stopped, as in Keras;
* optional **metadata** of your own (a JSON-serialisable dict, e.g. class names), given back as
  ``model.metadata``.

The file format
---------------
A NumPy ``.npz`` archive (a zip file of ``.npy`` arrays, written with ``np.savez_compressed``):

    model_config.npy          the JSON description above, as UTF-8 bytes in a uint8 array
    weight_0.npy ...          the weight arrays (float32 or float64)
    optimizer_0_0.npy ...     optimizer slot k of weight i (only if the optimizer had state)

Nothing in it is ever unpickled: it is read with ``np.load(..., allow_pickle=False)``, so a
file from someone else cannot run code. Every entry is checked (JSON, format version, layer
arguments, the number, shape, type and finiteness of the arrays) *before* the model is returned;
a damaged or foreign file raises :class:`ModelFileError` naming the file and what is wrong, and
nothing is half-loaded. Building the model does not disturb tinycnn's random numbers.

It works the same in the browser (Pyodide 0.17: Python 3.8, NumPy 1.17): ``save`` and
``load_model`` also take a binary file object such as ``io.BytesIO``.

Examples
--------
>>> import io
>>> from tinycnn.layers import Conv2D, MaxPooling2D, Flatten, Dense
>>> from tinycnn.models import Sequential, load_model
>>> model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
...                     MaxPooling2D(), Flatten(), Dense(10, activation="softmax")])
>>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
>>> buffer = io.BytesIO()
>>> model.save(buffer)              # or model.save("digits_model.npz")
>>> copy = load_model(io.BytesIO(buffer.getvalue()))
>>> [layer.name for layer in copy.layers]
['conv2d', 'max_pooling2d', 'flatten', 'dense']
>>> copy.layers[0].get_config()["kernel_size"], copy.loss.name
((3, 3), 'sparse_categorical_crossentropy')
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from typing import Any, Dict, List, Mapping, Optional, Union

import numpy as np

FORMAT = "tinycnn-model"
#: Version of the file layout written by :func:`save_model`; :func:`load_model` reads versions
#: up to this one.
FORMAT_VERSION = 1
CONFIG_ENTRY = "model_config"

PathOrFile = Union[str, "os.PathLike[str]", Any]


class ModelFileError(ValueError):
    """A model file that cannot be loaded: damaged, foreign, or not matching its own description."""


def _name_of(target) -> str:
    """How error messages name the file: its path, or the ``name`` of a file object (a
    ``BytesIO`` can be given one: ``buffer.name = "my_model.npz"``)."""
    if isinstance(target, (str, os.PathLike)):
        return repr(os.fspath(target))
    name = getattr(target, "name", None)
    return repr(name) if isinstance(name, str) else "the file object %s" % type(target).__name__


def _registry(custom_objects: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    from . import layers

    known = {name: getattr(layers, name) for name in layers.__all__
             if name not in ("Layer", "ActivatedLayer")}
    known.update(custom_objects or {})
    return known


# ---------------------------------------------------------------------------------- configs
def layer_from_config(entry: Mapping[str, Any], custom_objects: Optional[Mapping[str, Any]] = None):
    """A new layer from ``{"class_name": ..., "config": {...}}`` (an entry of a model config)."""
    if not isinstance(entry, Mapping) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), Mapping):
        raise ValueError(f"a layer entry must be {{'class_name': str, 'config': dict}}, got {entry!r}")
    known = _registry(custom_objects)
    cls = known.get(entry["class_name"])
    if cls is None:
        raise ValueError(
            f"unknown layer class {entry['class_name']!r}; tinycnn knows {sorted(known)} (for a "
            "layer of your own pass custom_objects={'MyLayer': MyLayer})")
    return cls.from_config(dict(entry["config"]))


def compile_config(model) -> Optional[Dict[str, Any]]:
    """The arguments of ``model.compile`` as JSON-ready data (None if not compiled)."""
    if model.loss is None:
        return None
    optimizer = model.optimizer
    return {"optimizer": {"class_name": type(optimizer).__name__, "config": optimizer.get_config()},
            "loss": model.loss.name, "metrics": list(getattr(model, "metrics", []) or [])}


def _compile_from_config(model, config: Mapping[str, Any], custom_objects) -> None:
    from . import losses, optimizers

    known = {cls.__name__: cls for cls in (optimizers.SGD, optimizers.Adam)}
    known.update({name: value for name, value in (custom_objects or {}).items()
                  if isinstance(value, type) and issubclass(value, optimizers.Optimizer)})
    spec = config.get("optimizer")
    if not isinstance(spec, Mapping) or spec.get("class_name") not in known \
            or not isinstance(spec.get("config"), Mapping):
        raise ValueError(f"unknown optimizer {spec!r}; expected one of {sorted(known)}")
    optimizer = known[spec["class_name"]](**dict(spec["config"]))
    loss = config.get("loss")
    if isinstance(loss, str) and custom_objects and loss in custom_objects:
        loss = custom_objects[loss]
        loss = loss() if isinstance(loss, type) else loss
    elif not isinstance(loss, str) or loss.lower() not in losses.LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(losses.LOSSES)} "
                         "(for a loss of your own pass custom_objects={name: MyLoss})")
    metrics = config.get("metrics") or []
    if not isinstance(metrics, list):
        raise ValueError(f"metrics must be a list, got {metrics!r}")
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)


# ---------------------------------------------------------------------------------- saving
def save_model(model, filepath: PathOrFile, include_optimizer: bool = True,
               metadata: Optional[Mapping[str, Any]] = None) -> None:
    """Write ``model`` (architecture, weights, compile settings, optimizer state) to one file.

    Parameters
    ----------
    model : Sequential
        A built model (give the first layer ``input_shape=``, or fit/predict once).
    filepath : str, path or binary file object
        Written exactly there (no extension is added; ``.npz`` is a good choice). A path is
        written through a temporary file, so a failed save never leaves half a file behind.
    include_optimizer : bool
        Also store the optimizer's state (default True), so that training can continue.
    metadata : dict, optional
        JSON-serialisable data of your own, given back by :func:`load_model` as ``model.metadata``.
    """
    model._require_built("save")
    description: Dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tinycnn_version": _version(),
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "compile_config": compile_config(model),
        "weights": [],
        "optimizer": None,
        "metadata": dict(metadata or {}),
    }
    arrays: Dict[str, np.ndarray] = {}
    weights = [w for layer in model.layers for w in layer.weights]
    for layer in model.layers:
        for k, weight in enumerate(layer.weights):
            index = len(description["weights"])
            description["weights"].append({"layer": layer.name, "index": k,
                                           "shape": list(weight.shape), "dtype": weight.dtype.name})
            arrays[f"weight_{index}"] = weight
    if include_optimizer and model.optimizer is not None:
        slots = []
        for i, weight in enumerate(weights):
            state = model.optimizer._state.get(id(weight))
            slots.append(len(state) if state else 0)
            for k, slot in enumerate(state or []):
                arrays[f"optimizer_{i}_{k}"] = slot
        description["optimizer"] = {"iterations": int(model.optimizer.iterations), "slots": slots}
    try:
        text = json.dumps(description, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise TypeError(f"metadata must be JSON-serialisable (dicts, lists, str, finite numbers, "
                        f"bool, None): {error}") from None
    arrays[CONFIG_ENTRY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    if not isinstance(filepath, (str, os.PathLike)):
        np.savez_compressed(filepath, **arrays)
        return
    path = os.fspath(filepath)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tinycnn-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez_compressed(stream, **arrays)
        umask = os.umask(0)  # mkstemp makes the file private (0600); give it the usual mode
        os.umask(umask)
        # The owner keeps read and write whatever the umask says (Pyodide's file system reports a
        # umask that would leave the file unreadable: load_model then failed in the page).
        os.chmod(temporary, (0o666 & ~umask) | 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _version() -> str:
    from . import __version__
    return __version__


# ---------------------------------------------------------------------------------- loading
def _read_archive(filepath: PathOrFile, name: str) -> Dict[str, np.ndarray]:
    """Every array of the file, read without pickle; ModelFileError for anything unreadable."""
    try:
        if isinstance(filepath, (str, os.PathLike)):
            with open(filepath, "rb") as handle:
                data = handle.read()
        else:
            data = filepath.read()
        if not isinstance(data, (bytes, bytearray)):
            raise ValueError("the file object did not give bytes; open the file in binary mode ('rb')")
        if not data:
            raise ValueError("the file is empty")
        if not data.startswith(b"PK"):
            raise ValueError("it is not a zip (.npz) archive")
        zipfile.ZipFile(io.BytesIO(data)).close()  # a broken zip fails here (NumPy 1.17's
        # NpzFile would fail too, then complain once more from its __del__)
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {entry: archive[entry] for entry in archive.files}
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise FileNotFoundError(f"model file {name} does not exist") from None
    except Exception as error:  # zipfile.BadZipFile, zlib.error, EOFError, pickled objects, ...
        raise ModelFileError(
            f"could not read the model file {name}: {error}. Expected a file written by "
            "model.save()") from None


def _check(condition: bool, name: str, message: str) -> None:
    if not condition:
        raise ModelFileError(f"the model file {name} is not valid: {message}")


def _parse_description(arrays: Mapping[str, np.ndarray], name: str) -> Dict[str, Any]:
    if CONFIG_ENTRY not in arrays:
        hint = ""
        if arrays and all(key.startswith("arr_") for key in arrays):
            hint = (" It looks like a weights file from model.save_weights(): build the model "
                    "and call model.load_weights() instead.")
        raise ModelFileError(f"the model file {name} has no '{CONFIG_ENTRY}' entry, so it was not "
                             f"written by model.save().{hint}")
    raw = arrays[CONFIG_ENTRY]
    _check(raw.dtype == np.uint8 and raw.ndim == 1, name,
           f"'{CONFIG_ENTRY}' must be a 1-D uint8 array of JSON text, got {raw.dtype} {raw.shape}")
    try:
        description = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ModelFileError(f"the model file {name} is not valid: its '{CONFIG_ENTRY}' is not "
                             f"JSON ({error})") from None
    _check(isinstance(description, dict), name, "its description is not a JSON object")
    _check(description.get("format") == FORMAT, name,
           f"format {description.get('format')!r}, expected {FORMAT!r}")
    version = description.get("format_version")
    _check(isinstance(version, int) and not isinstance(version, bool) and 1 <= version,
           name, f"format_version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"the model file {name} has format_version {version}, written by tinycnn "
            f"{description.get('tinycnn_version')}; this tinycnn ({_version()}) reads up to "
            f"version {FORMAT_VERSION}: upgrade tinycnn")
    _check(description.get("class_name") == "Sequential", name,
           f"class_name {description.get('class_name')!r}, expected 'Sequential'")
    for key, kind in (("config", dict), ("weights", list), ("metadata", dict)):
        _check(isinstance(description.get(key), kind), name, f"'{key}' must be a JSON {kind.__name__}")
    return description


def load_model(filepath: PathOrFile, compile: bool = True,  # noqa: A002 (Keras's name)
               custom_objects: Optional[Mapping[str, Any]] = None):
    """Load a model written by :meth:`Sequential.save` (architecture, weights, compile settings).

    Parameters
    ----------
    filepath : str, path or binary file object
        The file. It is read with ``allow_pickle=False``: loading never runs code from the file.
    compile : bool
        Compile the model as it was saved (default True) and restore the optimizer's state if the
        file holds it. With False the model is only built (for ``predict``).
    custom_objects : dict, optional
        Layer classes (and losses, optimizers) of your own, by the name the file uses.

    Returns
    -------
    Sequential
        Ready to ``predict``, ``evaluate`` or go on with ``fit``. ``model.metadata`` holds the
        ``metadata`` given to ``save`` (``{}`` if none).

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFileError
        (a ``ValueError``) The file is damaged, not a tinycnn model file, of a newer format, or its
        arrays do not fit its own description (count, shape, dtype, NaN or infinity). The message
        names the file. Nothing is half-loaded: either you get the whole model or an error.
    """
    from . import utils
    from .models import Sequential

    name = _name_of(filepath)
    arrays = _read_archive(filepath, name)
    description = _parse_description(arrays, name)

    # The architecture. Building draws initial weights from tinycnn's random generator; they are
    # overwritten right away, so the build uses a generator of its own and the user's random
    # sequence (set_random_seed) is the same as if nothing had been loaded.
    saved_rng = utils._state["rng"]
    utils._state["rng"] = np.random.default_rng(0)
    try:
        model = Sequential.from_config(description["config"], custom_objects=custom_objects)
    except (ValueError, TypeError) as error:
        raise ModelFileError(f"the model file {name} describes a model tinycnn cannot build: "
                             f"{error}") from None
    finally:
        utils._state["rng"] = saved_rng
    _check(model.built, name, "the description gives no input shape (build_input_shape)")

    # The weights: every array checked against the model that the description builds.
    weights = [w for layer in model.layers for w in layer.weights]
    entries = description["weights"]
    stored = sorted((key for key in arrays if key.startswith("weight_")),
                    key=lambda key: int(key[7:]) if key[7:].isdigit() else -1)
    _check(all(isinstance(entry, dict) for entry in entries), name,
           "'weights' must list one JSON object per weight array")
    _check(len(entries) == len(weights) == len(stored), name,
           f"the model has {len(weights)} weight arrays, the file lists {len(entries)} and holds "
           f"{len(stored)}")
    arrays_in_order: List[np.ndarray] = []
    for i, weight in enumerate(weights):
        key = f"weight_{i}"
        _check(key in arrays, name, f"array {key!r} is missing")
        array = arrays[key]
        _check(array.dtype.kind == "f", name, f"{key} has dtype {array.dtype}, expected float")
        _check(array.shape == weight.shape, name,
               f"{key} has shape {array.shape} but layer {entries[i].get('layer')!r} needs "
               f"{weight.shape}")
        _check(bool(np.all(np.isfinite(array))), name, f"{key} contains NaN or infinity")
        arrays_in_order.append(array)

    # Compile settings and optimizer state.
    state = None
    if compile and description.get("compile_config") is not None:
        _check(isinstance(description["compile_config"], dict), name,
               "'compile_config' must be a JSON object")
        try:
            _compile_from_config(model, description["compile_config"], custom_objects)
        except (ValueError, TypeError) as error:
            raise ModelFileError(f"the model file {name} has compile settings tinycnn cannot "
                                 f"use: {error}") from None
        state = _optimizer_state(description.get("optimizer"), arrays, weights, name)

    expected = {CONFIG_ENTRY} | {f"weight_{i}" for i in range(len(weights))}
    if isinstance(description.get("optimizer"), dict):
        slots = description["optimizer"].get("slots") or []
        expected |= {f"optimizer_{i}_{k}" for i, count in enumerate(slots)
                     if isinstance(count, int) for k in range(count)}
    unexpected = sorted(set(arrays) - expected)
    _check(not unexpected, name, f"unexpected arrays {unexpected}")

    # Everything checked: now fill the model in.
    for weight, array in zip(weights, arrays_in_order):
        weight[...] = array
    if state is not None:
        iterations, slots = state
        model.optimizer.iterations = iterations
        for weight, slot_arrays in zip(weights, slots):
            if slot_arrays:
                model.optimizer._state[id(weight)] = slot_arrays
    model.metadata = description["metadata"]
    return model


def _optimizer_state(spec, arrays, weights, name):
    """``(iterations, [slot arrays per weight])`` from the file, checked; None if not stored."""
    if spec is None:
        return None
    _check(isinstance(spec, dict) and isinstance(spec.get("slots"), list)
           and isinstance(spec.get("iterations"), int) and spec["iterations"] >= 0, name,
           "'optimizer' must be {'iterations': int >= 0, 'slots': [int, ...]}")
    _check(len(spec["slots"]) == len(weights), name,
           f"optimizer state for {len(spec['slots'])} weights, the model has {len(weights)}")
    slots = []
    for i, (count, weight) in enumerate(zip(spec["slots"], weights)):
        _check(isinstance(count, int) and 0 <= count <= 4, name, f"optimizer slot count {count!r}")
        own = []
        for k in range(count):
            key = f"optimizer_{i}_{k}"
            _check(key in arrays, name, f"array {key!r} is missing")
            array = arrays[key]
            _check(array.dtype.kind == "f" and array.shape == weight.shape, name,
                   f"{key} has dtype {array.dtype} and shape {array.shape}, expected "
                   f"{weight.dtype} {weight.shape}")
            _check(bool(np.all(np.isfinite(array))), name, f"{key} contains NaN or infinity")
            own.append(array.astype(weight.dtype, copy=True))
        slots.append(own)
    return spec["iterations"], slots


__all__ = ["save_model", "load_model", "ModelFileError", "layer_from_config", "FORMAT_VERSION"]
