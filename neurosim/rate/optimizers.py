"""Gradient-descent optimizers that update parameter arrays in place.

Each optimizer holds references to the parameter arrays it trains and, per array, its state
(velocities, moment estimates) and one scratch array of the same shape. :meth:`Optimizer.step`
changes the parameters in place with a handful of numpy operations that write into preallocated
arrays (``out=``), so a step allocates nothing. Give them one large flat array rather than many
small ones: the per-call overhead of numpy is then paid once per step, not once per layer.

The learning rate is the attribute :attr:`Optimizer.learning_rate`; a schedule sets it between
steps.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSprop",
    "make_optimizer",
]


def _check_fraction(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


class Optimizer(ABC):
    """Base class: in-place updates of a list of parameter arrays.

    Parameters
    ----------
    params : sequence of ndarray
        Floating-point arrays updated in place by :meth:`step`.
    learning_rate : float, optional
        Step size; ``None`` takes the class's :attr:`default_learning_rate`.

    Attributes
    ----------
    params : list of ndarray
        The arrays being trained.
    learning_rate : float
        Current step size; a learning-rate schedule may change it between steps.
    t : int
        Number of steps taken.
    state : dict of str to list of ndarray
        Per-parameter optimizer state (e.g. ``"velocity"``), same shapes as ``params``.
    """

    name: ClassVar[str]
    default_learning_rate: ClassVar[float]
    state_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Sequence[np.ndarray], learning_rate: float | None = None) -> None:
        self.params = list(params)
        for index, param in enumerate(self.params):
            if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
                raise TypeError(f"params[{index}] must be a floating-point numpy array")
        rate = self.default_learning_rate if learning_rate is None else float(learning_rate)
        if not rate > 0.0:
            raise ValueError(f"learning_rate must be positive, got {rate}")
        self.learning_rate = rate
        self.t = 0
        self.state = {name: [np.zeros_like(p) for p in self.params] for name in self.state_names}
        self._scratch = [np.empty_like(p) for p in self.params]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Apply one update to every parameter array, in place.

        Parameters
        ----------
        grads : sequence of ndarray
            Gradients of the loss, one per parameter array, same shapes.
        """
        if len(grads) != len(self.params):
            raise ValueError(f"got {len(grads)} gradient arrays for {len(self.params)} parameters")
        self.t += 1
        for index, (param, grad) in enumerate(zip(self.params, grads, strict=True)):
            state = [self.state[name][index] for name in self.state_names]
            self._update(param, grad, self._scratch[index], *state)

    @abstractmethod
    def _update(
        self, param: np.ndarray, grad: np.ndarray, scratch: np.ndarray, *state: np.ndarray
    ) -> None:
        """Update one parameter array in place; ``scratch`` is free working memory."""

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The optimizer state as named arrays (``"<state>_<index>"``), for saving."""
        return {
            f"{name}_{index}": array
            for name, arrays in self.state.items()
            for index, array in enumerate(arrays)
        }

    def load_state(self, arrays: dict[str, np.ndarray], t: int) -> None:
        """Restore state saved by :meth:`state_arrays` and the step count ``t``.

        Raises
        ------
        KeyError
            A state array is missing.
        ValueError
            A state array has the wrong shape.
        """
        for name, targets in self.state.items():
            for index, target in enumerate(targets):
                key = f"{name}_{index}"
                source = np.asarray(arrays[key])
                if source.shape != target.shape:
                    raise ValueError(
                        f"optimizer state {key!r} has shape {source.shape}, expected {target.shape}"
                    )
                target[...] = source
        self.t = int(t)


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``p -= lr * g``."""

    name = "sgd"
    default_learning_rate = 0.1

    def _update(
        self, param: np.ndarray, grad: np.ndarray, scratch: np.ndarray, *state: np.ndarray
    ) -> None:
        np.multiply(grad, self.learning_rate, out=scratch)
        param -= scratch


class Momentum(Optimizer):
    """Heavy-ball momentum: ``v = mu * v + g``, ``p -= lr * v``.

    Parameters
    ----------
    params, learning_rate
        As in :class:`Optimizer`.
    momentum : float, default 0.9
        Decay ``mu`` of the velocity, in [0, 1).
    """

    name = "momentum"
    default_learning_rate = 0.01
    state_names = ("velocity",)

    def __init__(
        self,
        params: Sequence[np.ndarray],
        learning_rate: float | None = None,
        momentum: float = 0.9,
    ) -> None:
        super().__init__(params, learning_rate)
        self.momentum = _check_fraction("momentum", momentum)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, scratch: np.ndarray, velocity: np.ndarray
    ) -> None:
        velocity *= self.momentum
        velocity += grad
        np.multiply(velocity, self.learning_rate, out=scratch)
        param -= scratch


class Nesterov(Momentum):
    """Nesterov momentum: ``v = mu * v + g``, ``p -= lr * (g + mu * v)``."""

    name = "nesterov"

    def _update(
        self, param: np.ndarray, grad: np.ndarray, scratch: np.ndarray, velocity: np.ndarray
    ) -> None:
        velocity *= self.momentum
        velocity += grad
        np.multiply(velocity, self.momentum, out=scratch)
        scratch += grad
        scratch *= self.learning_rate
        param -= scratch


class RMSprop(Optimizer):
    """RMSprop: ``s = rho * s + (1 - rho) * g**2``, ``p -= lr * g / (sqrt(s) + eps)``.

    Parameters
    ----------
    params, learning_rate
        As in :class:`Optimizer`.
    rho : float, default 0.9
        Decay of the running mean of squared gradients, in [0, 1).
    epsilon : float, default 1e-8
        Added to the root-mean-square for numerical stability.
    """

    name = "rmsprop"
    default_learning_rate = 0.001
    state_names = ("square_avg",)

    def __init__(
        self,
        params: Sequence[np.ndarray],
        learning_rate: float | None = None,
        rho: float = 0.9,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(params, learning_rate)
        self.rho = _check_fraction("rho", rho)
        if not epsilon > 0:
            raise ValueError(f"epsilon must be positive, got {epsilon}")
        self.epsilon = float(epsilon)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, scratch: np.ndarray, square_avg: np.ndarray
    ) -> None:
        square_avg *= self.rho
        np.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - self.rho
        square_avg += scratch
        np.sqrt(square_avg, out=scratch)
        scratch += self.epsilon
        np.divide(grad, scratch, out=scratch)
        scratch *= self.learning_rate
        param -= scratch


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), in the form of their Algorithm 1's efficient variant.

    ``m = b1 * m + (1 - b1) * g``, ``v = b2 * v + (1 - b2) * g**2``,
    ``p -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)``: the same update as
    scikit-learn's ``MLPClassifier(solver="adam")``.

    The state holds the moments divided by ``1 - b1`` and ``1 - b2`` (``m / (1 - b1)`` and
    ``v / (1 - b2)``), which saves two passes over the parameters per step; the constants move
    into the step size and ``eps``.

    Parameters
    ----------
    params, learning_rate
        As in :class:`Optimizer`.
    beta_1, beta_2 : float, default 0.9 and 0.999
        Decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float, default 1e-8
        Added to the root of the second moment for numerical stability.
    """

    name = "adam"
    default_learning_rate = 0.001
    state_names = ("scaled_m", "scaled_v")

    def __init__(
        self,
        params: Sequence[np.ndarray],
        learning_rate: float | None = None,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(params, learning_rate)
        self.beta_1 = _check_fraction("beta_1", beta_1)
        self.beta_2 = _check_fraction("beta_2", beta_2)
        if not epsilon > 0:
            raise ValueError(f"epsilon must be positive, got {epsilon}")
        self.epsilon = float(epsilon)

    def _update(
        self,
        param: np.ndarray,
        grad: np.ndarray,
        scratch: np.ndarray,
        scaled_m: np.ndarray,
        scaled_v: np.ndarray,
    ) -> None:
        b1, b2 = self.beta_1, self.beta_2
        root = math.sqrt(1.0 - b2)
        bias_corrected = self.learning_rate * math.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        scaled_m *= b1
        scaled_m += grad
        np.multiply(grad, grad, out=scratch)
        scaled_v *= b2
        scaled_v += scratch
        np.sqrt(scaled_v, out=scratch)
        scratch += self.epsilon / root
        np.divide(scaled_m, scratch, out=scratch)
        scratch *= bias_corrected * (1.0 - b1) / root
        param -= scratch


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, RMSprop, Adam)
}


def make_optimizer(
    name: str,
    params: Sequence[np.ndarray],
    learning_rate: float | None = None,
    **hyperparameters: Any,
) -> Optimizer:
    """Create an optimizer by name.

    Parameters
    ----------
    name : {"sgd", "momentum", "nesterov", "rmsprop", "adam"}
    params : sequence of ndarray
        Arrays to train in place.
    learning_rate : float, optional
        ``None`` takes the optimizer's default.
    **hyperparameters
        Passed to the optimizer's constructor; those it does not take are ignored, so one
        set of settings (``momentum``, ``rho``, ``beta_1``, ...) serves every optimizer.

    Returns
    -------
    Optimizer
    """
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}"
        ) from None
    accepted = inspect.signature(cls).parameters
    return cls(
        params,
        learning_rate,
        **{key: value for key, value in hyperparameters.items() if key in accepted},
    )
