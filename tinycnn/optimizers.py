"""Optimizers: how a gradient becomes a weight update.

Every optimizer updates the weight arrays *in place* through :meth:`Optimizer.apply`, keeping any
per-weight state (momentum, moment estimates) in a dict keyed by the array's identity.
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

import numpy as np


class Optimizer:
    """Base class: ``apply(weights, grads)`` updates each weight array in place."""

    name = "optimizer"

    def __init__(self, learning_rate: float) -> None:
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
                or not learning_rate > 0:
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        self.iterations = 0
        self._state: Dict[int, List[np.ndarray]] = {}

    def get_config(self) -> Dict[str, Any]:
        """The constructor arguments (Keras's names), e.g. ``{"learning_rate": 0.001, ...}``."""
        return {"learning_rate": self.learning_rate}

    @classmethod
    def from_config(cls, config: Dict[str, Any]) -> "Optimizer":
        """A new optimizer (without state) from :meth:`get_config`'s dict."""
        return cls(**config)

    def _slots(self, weight: np.ndarray, count: int) -> List[np.ndarray]:
        key = id(weight)
        if key not in self._state:
            self._state[key] = [np.zeros_like(weight) for _ in range(count)]
        return self._state[key]

    def apply(self, weights: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        self.iterations += 1
        for weight, grad in zip(weights, grads):
            self.update(weight, grad.astype(weight.dtype, copy=False))

    def update(self, weight: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (Keras's rule).

    ``velocity = momentum * velocity - learning_rate * grad``; ``weight += velocity``.
    With ``momentum=0`` this is plain ``weight -= learning_rate * grad``.
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0) -> None:
        super().__init__(learning_rate)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)

    def get_config(self):
        return dict(super().get_config(), momentum=self.momentum)

    def update(self, weight, grad):
        if self.momentum == 0:
            weight -= self.learning_rate * grad
            return
        (velocity,) = self._slots(weight, 1)
        velocity *= self.momentum
        velocity -= self.learning_rate * grad
        weight += velocity


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with Keras's formulation.

    At step ``t``::

        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * grad**2
        lr_t = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        weight -= lr_t * m / (sqrt(v) + epsilon)

    i.e. the bias correction is folded into the step size and ``epsilon`` is added *outside* it
    (the paper's "epsilon hat"; PyTorch instead adds epsilon to the bias-corrected ``sqrt(v_hat)``;
    the two differ only when ``sqrt(v)`` is comparable to ``epsilon``).
    """

    name = "adam"

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7) -> None:
        super().__init__(learning_rate)
        for value, label in ((beta_1, "beta_1"), (beta_2, "beta_2")):
            if not 0 <= value < 1:
                raise ValueError(f"{label} must be in [0, 1), got {value!r}")
        if not epsilon > 0:
            raise ValueError(f"epsilon must be positive, got {epsilon!r}")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2,
                    epsilon=self.epsilon)

    def apply(self, weights, grads):
        t = self.iterations + 1
        # a Python float (not np.float64), so NumPy 2 keeps the float32 update in float32
        self._step_size = float(
            self.learning_rate * np.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t))
        super().apply(weights, grads)

    def update(self, weight, grad):
        m, v = self._slots(weight, 2)
        m *= self.beta_1
        m += (1 - self.beta_1) * grad
        v *= self.beta_2
        v += (1 - self.beta_2) * grad * grad
        weight -= (self._step_size * m / (np.sqrt(v) + self.epsilon)).astype(weight.dtype, copy=False)


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def get(identifier) -> Optimizer:
    """An optimizer from its name (``"sgd"``, ``"adam"``, with default settings) or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in OPTIMIZERS:
        return OPTIMIZERS[identifier.lower()]()
    raise ValueError(
        f"unknown optimizer {identifier!r}; expected one of {sorted(OPTIMIZERS)} or an instance "
        "such as tinycnn.optimizers.Adam(learning_rate=0.001)"
    )


__all__ = ["Optimizer", "SGD", "Adam", "get"]
