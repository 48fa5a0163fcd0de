"""The numeric kernel of :class:`~neurosim.RateMLP`: forward pass, loss and backward pass.

Speed comes from memory layout and from skipping work that is known to be zero. All weights and
biases live in one contiguous flat array (weights of every layer first, then the biases), and
the layers' ``coefs`` / ``intercepts`` are views into it; the gradient has the same layout.
One optimizer step is therefore a few in-place numpy operations on one large array.
Activations, deltas and the mini-batch itself go into buffers allocated once per batch size,
and matrix products write into them with ``np.dot(..., out=...)``. The gradient with respect to
the input is never formed, and input columns that are zero throughout a batch (a third of
MNIST's pixels, for a batch of 128) are left out of the first layer's two matrix products, which
is exact and shrinks the bulk of the arithmetic by a third.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy.special import expit

__all__ = ["ACTIVATIONS", "Network"]

_INFERENCE_CHUNK = 4096  # rows per forward pass at prediction time; bounds memory
# Training drops the input columns that are zero throughout a batch when at most this share of
# them is left; above it, gathering costs more than the smaller matrix products save.
_COMPACT_MAX_FRACTION = 0.8


def _relu(z: np.ndarray) -> None:
    np.maximum(z, 0, out=z)


def _sigmoid(z: np.ndarray) -> None:
    expit(z, out=z)


def _tanh(z: np.ndarray) -> None:
    np.tanh(z, out=z)


def _relu_derivative(a: np.ndarray, out: np.ndarray) -> None:
    # a = max(z, 0) >= 0, so sign(a) is the 0/1 derivative, computed without a boolean cast.
    np.sign(a, out=out)


def _sigmoid_derivative(a: np.ndarray, out: np.ndarray) -> None:
    np.subtract(1, a, out=out)
    out *= a


def _tanh_derivative(a: np.ndarray, out: np.ndarray) -> None:
    np.multiply(a, a, out=out)
    np.subtract(1, out, out=out)


# In-place activation, and its derivative written into ``out`` from the activation's output.
_ACTIVATE = {"relu": _relu, "sigmoid": _sigmoid, "tanh": _tanh}
_DERIVATIVE = {"relu": _relu_derivative, "sigmoid": _sigmoid_derivative, "tanh": _tanh_derivative}
ACTIVATIONS = tuple(_ACTIVATE)


class _TrainingPass(NamedTuple):
    """What the backward pass needs from the forward pass of one training batch."""

    inputs: list[np.ndarray]  # input of each layer (dropout applied), the first one compacted
    first_coef: np.ndarray  # the first layer's weights, compacted like inputs[0]
    active: np.ndarray | None  # the input columns kept by the compaction; None if not compacted


class Network:
    """Dense layers with all parameters in one flat buffer, plus reusable work buffers.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first, output (one per class) last.
    activation : {"relu", "sigmoid", "tanh"}
        Activation of the hidden layers; the output layer is linear (logits).
    dtype : numpy dtype
        Floating-point type of parameters and computation.

    Attributes
    ----------
    params : ndarray
        Every weight, then every bias, in one flat array.
    grads : ndarray
        The gradient of the last :meth:`loss_and_gradient`, laid out as ``params``.
    coefs, intercepts : list of ndarray
        Per-layer weight matrices ``(fan_in, fan_out)`` and bias vectors: views into ``params``.
    n_coef : int
        Number of weights (the first ``n_coef`` entries of ``params``); also the
        multiply-accumulates of one inference.
    """

    def __init__(self, layer_sizes: Sequence[int], activation: str, dtype: Any) -> None:
        self.layer_sizes = tuple(int(size) for size in layer_sizes)
        self.activation = activation
        self.dtype = np.dtype(dtype)
        self.params = np.zeros(self.n_params, dtype=self.dtype)
        self._bind()

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """``(fan_in, fan_out)`` of each weight matrix."""
        return list(zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True))

    @property
    def n_params(self) -> int:
        """Number of weights and biases."""
        return sum((fan_in + 1) * fan_out for fan_in, fan_out in self.shapes)

    def _views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        coefs, intercepts = [], []
        offset = 0
        for fan_in, fan_out in self.shapes:
            coefs.append(flat[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out))
            offset += fan_in * fan_out
        for _, fan_out in self.shapes:
            intercepts.append(flat[offset : offset + fan_out])
            offset += fan_out
        return coefs, intercepts

    def _bind(self) -> None:
        """(Re)create the per-layer views and the gradient buffer; drop work buffers."""
        self.n_coef = sum(fan_in * fan_out for fan_in, fan_out in self.shapes)
        self.coefs, self.intercepts = self._views(self.params)
        self.grads = np.zeros_like(self.params)
        self._grad_coefs, self._grad_intercepts = self._views(self.grads)
        self._capacity = 0
        self._dropout = False

    # Views do not survive pickling (each would become a copy of its own), so only the flat
    # buffer is pickled and the views are rebuilt. Optimizers holding ``params`` keep pointing
    # at the same array, because pickle preserves the identity of shared objects.
    def __getstate__(self) -> dict[str, Any]:
        return {
            "layer_sizes": self.layer_sizes,
            "activation": self.activation,
            "dtype": self.dtype.str,
            "params": self.params,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.layer_sizes = tuple(state["layer_sizes"])
        self.activation = state["activation"]
        self.dtype = np.dtype(state["dtype"])
        self.params = state["params"]
        self._bind()

    def initialize(self, rng: np.random.Generator) -> None:
        """Glorot-uniform weights (as scikit-learn's MLP: bound ``sqrt(6 / (fan_in + fan_out))``,
        ``sqrt(2 / ...)`` for the sigmoid) and zero biases."""
        factor = 2.0 if self.activation == "sigmoid" else 6.0
        for coef in self.coefs:
            bound = math.sqrt(factor / sum(coef.shape))
            coef[...] = rng.uniform(-bound, bound, size=coef.shape)
        for intercept in self.intercepts:
            intercept[...] = 0

    # -- inference ---------------------------------------------------------------------------
    def forward(self, X: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for ``X``: the hidden activations, then the logits.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs)

        Returns
        -------
        list of ndarray
            ``len(layer_sizes) - 1`` arrays of shape ``(n_samples, layer_sizes[i + 1])``.
        """
        outputs = []
        a = np.asarray(X, dtype=self.dtype)
        for index, (coef, intercept) in enumerate(zip(self.coefs, self.intercepts, strict=True)):
            a = a @ coef
            a += intercept
            if index < len(self.coefs) - 1:
                _ACTIVATE[self.activation](a)
            outputs.append(a)
        return outputs

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Output-layer values before the softmax, shape ``(n_samples, n_classes)``.

        Computed in chunks of rows, so that memory stays bounded for any ``len(X)``.
        """
        out = np.empty((len(X), self.layer_sizes[-1]), dtype=self.dtype)
        for start in range(0, len(X), _INFERENCE_CHUNK):
            out[start : start + _INFERENCE_CHUNK] = self.forward(
                X[start : start + _INFERENCE_CHUNK]
            )[-1]
        return out

    # -- training ----------------------------------------------------------------------------
    def _allocate(self, capacity: int, dropout: bool) -> None:
        """Work buffers for batches of up to ``capacity`` rows; reused until that changes."""
        if capacity <= self._capacity and dropout == self._dropout:
            return
        n_inputs, first_hidden = self.layer_sizes[0], self.layer_sizes[1]
        hidden = self.layer_sizes[1:-1]
        self.batch = np.empty((capacity, n_inputs), dtype=self.dtype)
        self._compact_x = np.empty(capacity * n_inputs, dtype=self.dtype)
        self._compact_w = np.empty(n_inputs * first_hidden, dtype=self.dtype)
        self._z = [np.empty((capacity, size), dtype=self.dtype) for size in self.layer_sizes[1:]]
        self._probs = np.empty((capacity, self.layer_sizes[-1]), dtype=self.dtype)
        self._deltas = [np.empty((capacity, size), dtype=self.dtype) for size in hidden]
        self._derivs = [np.empty((capacity, size), dtype=self.dtype) for size in hidden]
        shape = [(capacity, size) for size in hidden] if dropout else []
        self._masks = [np.empty(s, dtype=self.dtype) for s in shape]
        self._dropped = [np.empty(s, dtype=self.dtype) for s in shape]
        self._row = np.empty(capacity, dtype=self.dtype)
        self._arange = np.arange(capacity)
        self._coef_scratch = np.empty(self.n_coef, dtype=self.dtype)
        self._capacity = capacity
        self._dropout = dropout

    def prepare(self, capacity: int, dropout: bool) -> np.ndarray:
        """Allocate work buffers if needed and return the ``(capacity, n_inputs)`` batch buffer."""
        self._allocate(capacity, dropout)
        return self.batch

    def _compact_first_layer(
        self, X: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Input and first weight matrix without the input columns that are zero in ``X``.

        Zero inputs add nothing to the products, so dropping them is exact; on MNIST a batch of
        128 leaves about two thirds of the 784 pixels, and both large matrix products shrink
        by a third. Returns the active column indices, or ``None`` (and ``X`` and the weights
        unchanged) when too few columns are zero for the saving to pay for the gathering.
        """
        present = np.logical_or.reduce(X != 0, axis=0)
        active = present.nonzero()[0]
        n_active = len(active)
        if n_active > _COMPACT_MAX_FRACTION * X.shape[1]:
            return X, self.coefs[0], None
        n, n_out = len(X), self.layer_sizes[1]
        inputs = self._compact_x[: n * n_active].reshape(n, n_active)
        weights = self._compact_w[: n_active * n_out].reshape(n_active, n_out)
        np.take(X, active, axis=1, out=inputs, mode="clip")  # "clip": no bounds checks
        np.take(self.coefs[0], active, axis=0, out=weights, mode="clip")
        return inputs, weights, active

    def _forward_train(
        self, X: np.ndarray, dropout: float, rng: np.random.Generator | None
    ) -> _TrainingPass:
        """Forward pass of a training batch into the work buffers; logits in ``_z[-1]``.

        With ``dropout > 0`` each hidden unit is dropped with that probability (inverted
        dropout: kept units are scaled by ``1 / (1 - dropout)``), with masks drawn from ``rng``.
        """
        n, n_layers = len(X), len(self.coefs)
        keep = 1.0 - dropout
        first_inputs, first_coef, active = self._compact_first_layer(X)
        inputs, coefs = [first_inputs], [first_coef, *self.coefs[1:]]
        for index in range(n_layers):
            z = self._z[index][:n]
            np.dot(inputs[index], coefs[index], out=z)
            z += self.intercepts[index]
            if index == n_layers - 1:
                break
            _ACTIVATE[self.activation](z)
            if dropout > 0:
                mask, dropped = self._masks[index][:n], self._dropped[index][:n]
                rng.random(out=mask, dtype=self.dtype)
                mask += keep  # floor(u + keep) is 1 with probability keep
                np.floor(mask, out=mask)
                mask *= 1.0 / keep
                np.multiply(z, mask, out=dropped)
                inputs.append(dropped)
            else:
                inputs.append(z)
        return _TrainingPass(inputs, first_coef, active)

    def _cross_entropy(self, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean softmax cross-entropy of the logits in ``_z[-1]`` against class indices ``y``.

        Returns the loss and its gradient with respect to the logits (in ``_probs``); the
        logits buffer is overwritten.
        """
        n = len(y)
        # Numerically stable log-softmax: shift by the row maximum before exponentiating.
        # (ufunc.reduce rather than np.max / np.sum: same result, less per-call overhead.)
        logits, probs = self._z[-1][:n], self._probs[:n]
        row, rows = self._row[:n], self._arange[:n]
        np.maximum.reduce(logits, axis=1, out=row)
        logits -= row[:, None]
        np.exp(logits, out=probs)
        np.add.reduce(probs, axis=1, out=row)
        probs /= row[:, None]
        np.log(row, out=row)
        loss = (float(np.add.reduce(row)) - float(np.add.reduce(logits[rows, y]))) / n
        probs[rows, y] -= 1
        probs *= 1.0 / n
        return loss, probs

    def _backward(self, forward: _TrainingPass, delta: np.ndarray, dropout: float) -> None:
        """Backpropagate ``delta`` (gradient at the logits) into :attr:`grads`."""
        n, inputs = len(delta), forward.inputs
        for index in range(len(self.coefs) - 1, 0, -1):
            np.dot(inputs[index].T, delta, out=self._grad_coefs[index])
            np.add.reduce(delta, axis=0, out=self._grad_intercepts[index])
            previous = self._deltas[index - 1][:n]
            np.dot(delta, self.coefs[index].T, out=previous)
            if dropout > 0:
                previous *= self._masks[index - 1][:n]
            derivative = self._derivs[index - 1][:n]
            _DERIVATIVE[self.activation](self._z[index - 1][:n], derivative)
            previous *= derivative
            delta = previous
        # First layer; no gradient with respect to the input.
        np.add.reduce(delta, axis=0, out=self._grad_intercepts[0])
        if forward.active is None:
            np.dot(inputs[0].T, delta, out=self._grad_coefs[0])
        else:
            compact_grad = forward.first_coef  # the compact weights are spent: reuse them
            np.dot(inputs[0].T, delta, out=compact_grad)
            self._grad_coefs[0].fill(0)
            self._grad_coefs[0][forward.active] = compact_grad

    def _l2_penalty(self, alpha: float, n: int) -> float:
        """Add the penalty's gradient to :attr:`grads`; return the penalty."""
        weights = self.params[: self.n_coef]
        np.multiply(weights, alpha / n, out=self._coef_scratch)
        self.grads[: self.n_coef] += self._coef_scratch
        return 0.5 * alpha * float(np.dot(weights, weights)) / n

    def loss_and_gradient(
        self,
        X: np.ndarray,
        y: np.ndarray,
        alpha: float,
        dropout: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> float:
        """Mean softmax cross-entropy plus L2 penalty on a batch; gradient into :attr:`grads`.

        The penalty is ``0.5 * alpha * ||W||**2 / n`` for a batch of ``n`` (scikit-learn's
        convention), on weights only. With ``dropout > 0`` each hidden unit is dropped with that
        probability (inverted dropout, drawn from ``rng``).

        Parameters
        ----------
        X : ndarray of shape (n, n_inputs)
            The batch, of the network's dtype and C-contiguous (e.g. a row slice of
            :meth:`prepare`'s buffer).
        y : ndarray of shape (n,)
            Class indices.
        alpha : float
            L2 penalty.
        dropout : float
            Drop probability of hidden units.
        rng : numpy.random.Generator, optional
            Needed when ``dropout > 0``.

        Returns
        -------
        float
            The loss at the current parameters.
        """
        self._allocate(len(X), dropout > 0)
        forward = self._forward_train(X, dropout, rng)
        loss, delta = self._cross_entropy(y)
        self._backward(forward, delta, dropout)
        if alpha > 0:
            loss += self._l2_penalty(alpha, len(X))
        return loss
