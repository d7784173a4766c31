"""Callbacks: code that runs during training, e.g. to record history, draw live curves or stop early.

Subclass :class:`Callback` and override any of its hooks; pass instances to ``fit(callbacks=[...])``.
Inside a hook ``self.model`` is the model being trained; setting ``self.model.stop_training = True``
stops training after the current batch.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

import numpy as np

Logs = Dict[str, float]


class Callback:
    """Base class with empty hooks. ``logs`` carries the current metrics, e.g. ``{"loss": 0.3}``."""

    def __init__(self) -> None:
        self.model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs: Optional[Logs] = None) -> None: ...
    def on_train_end(self, logs: Optional[Logs] = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Optional[Logs] = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: Optional[Logs] = None) -> None: ...
    def on_batch_end(self, batch: int, logs: Optional[Logs] = None) -> None: ...


class History(Callback):
    """Records each epoch's logs; ``fit`` returns it. ``history.history["val_loss"]`` is a list."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch: List[int] = []
        self.history: Dict[str, List[float]] = {}

    def on_train_begin(self, logs=None) -> None:
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class EarlyStopping(Callback):
    """Stop training when a monitored value has stopped improving.

    Parameters
    ----------
    monitor : str
        Key of the epoch logs to watch, default ``"val_loss"``.
    min_delta : float
        Smallest change that counts as an improvement.
    patience : int
        Epochs without improvement to wait before stopping.
    mode : ``"auto"``, ``"min"`` or ``"max"``
        ``"auto"`` maximises names containing "acc", minimises the rest.
    restore_best_weights : bool
        Put back the weights of the best epoch when stopping.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience!r}")
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), int(patience)
        self.restore_best_weights = restore_best_weights
        self.maximise = mode == "max" or (mode == "auto" and "acc" in monitor)
        self.stopped_epoch = 0

    def on_train_begin(self, logs=None) -> None:
        self.wait, self.best, self.best_weights, self.stopped_epoch = 0, None, None, 0

    def on_epoch_end(self, epoch, logs=None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r} but the epoch logs only have "
                f"{sorted(logs)}; pass validation data for 'val_*' values"
            )
        value = logs[self.monitor]
        improved = self.best is None or (
            value > self.best + self.min_delta if self.maximise else value < self.best - self.min_delta
        )
        if improved:
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:  # Keras: stop after `patience` epochs without improvement
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)


class LambdaCallback(Callback):
    """A callback made of plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(self, on_epoch_begin: Optional[Callable] = None, on_epoch_end: Optional[Callable] = None,
                 on_batch_begin: Optional[Callable] = None, on_batch_end: Optional[Callable] = None,
                 on_train_begin: Optional[Callable] = None, on_train_end: Optional[Callable] = None) -> None:
        super().__init__()
        for name, function in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                               ("on_batch_begin", on_batch_begin), ("on_batch_end", on_batch_end),
                               ("on_train_begin", on_train_begin), ("on_train_end", on_train_end)):
            if function is not None:
                if not callable(function):
                    raise TypeError(f"{name} must be callable, got {function!r}")
                setattr(self, name, function)


class CallbackList:
    """Calls a hook on every callback in order (used by ``fit``)."""

    def __init__(self, callbacks, model) -> None:
        callbacks = list(callbacks or [])
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be tinycnn.callbacks.Callback instances, got {callback!r}"
                )
            callback.set_model(model)
        self.callbacks = callbacks

    def call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)


__all__ = ["Callback", "History", "EarlyStopping", "LambdaCallback"]
