"""The rate-based neuron: a multilayer perceptron, ``y = f(Wx + b)``, trained by backpropagation.

:class:`RateMLP` is the estimator: hyperparameters, the training loop (mini-batches, learning-rate
schedules, early stopping, checkpoints) and persistence. The arithmetic of one batch (forward
pass, loss, backward pass, fused and in place) is :class:`neurosim.rate.network.Network`.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from neurosim.base import (
    HistoryRecord,
    NeuroClassifier,
    RandomStateLike,
    progress_bar,
    resolve_seed,
)
from neurosim.io import ModelFileError
from neurosim.rate.network import ACTIVATIONS, Network
from neurosim.rate.optimizers import OPTIMIZERS, Optimizer, make_optimizer

__all__ = ["EpochRecord", "RateMLP"]

logger = logging.getLogger(__name__)

LR_SCHEDULES = ("constant", "step", "cosine")


class EpochRecord(HistoryRecord):
    """One epoch of :attr:`RateMLP.history_ <neurosim.RateMLP>`."""

    epoch: int
    """Epochs trained so far."""
    loss: float
    """Mean training loss over the epoch's batches."""


class RateMLP(NeuroClassifier):
    """Multilayer perceptron of rate neurons with a softmax output, trained by backpropagation.

    Inputs are used as given (no rescaling): pass pixel intensities in [0, 1], as
    :func:`neurosim.load_mnist` returns them.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (256,)
        Units of each hidden layer; ``()`` gives softmax (multinomial logistic) regression.
    activation : {"relu", "sigmoid", "tanh"}, default "relu"
        Activation of the hidden units.
    optimizer : {"sgd", "momentum", "nesterov", "rmsprop", "adam"}, default "adam"
        Update rule; see :mod:`neurosim.rate.optimizers`.
    learning_rate : float, optional
        Initial step size. ``None`` takes the optimizer's default: 0.1 (sgd),
        0.01 (momentum, nesterov), 0.001 (rmsprop, adam).
    lr_schedule : {"constant", "step", "cosine"}, default "constant"
        "step" multiplies the rate by ``lr_decay`` every ``lr_step_epochs`` epochs; "cosine"
        anneals it after every batch from the initial value to zero at ``max_iter`` epochs
        (epochs beyond ``max_iter``, reachable with :meth:`partial_fit`, train at rate zero).
    lr_step_epochs : int, default 5
        Epochs between decays of the "step" schedule.
    lr_decay : float, default 0.1
        Factor of each decay of the "step" schedule.
    momentum : float, default 0.9
        Velocity decay of the "momentum" and "nesterov" optimizers.
    rho : float, default 0.9
        Decay of the squared-gradient average of "rmsprop".
    beta_1, beta_2 : float, default 0.9, 0.999
        Moment decay rates of "adam".
    epsilon : float, default 1e-8
        Numerical-stability constant of "adam" and "rmsprop".
    batch_size : int, default 128
        Examples per mini-batch (clipped to the training-set size).
    max_iter : int, default 10
        Epochs (passes over the training set) run by :meth:`fit`.
    alpha : float, default 1e-4
        L2 penalty on the weights (not biases); the loss of a batch of ``n`` includes
        ``0.5 * alpha * ||W||**2 / n``, as in scikit-learn's ``MLPClassifier``.
    dropout : float, default 0.0
        Probability of dropping each hidden unit during training (inverted dropout).
    early_stopping : bool, default False
        Stop when the validation accuracy has not improved by more than ``tol`` for
        ``n_iter_no_change`` consecutive epochs, and restore the parameters of the epoch with
        the highest validation accuracy.
        The validation set is the one passed to :meth:`fit` / :meth:`partial_fit`, or else a
        stratified ``validation_fraction`` of the training data, held out from training.
    validation_fraction : float, default 0.1
        Share of the training data held out when early stopping without a validation set.
    n_iter_no_change : int, default 5
        Patience of early stopping, in epochs.
    tol : float, default 1e-4
        Smallest validation-accuracy gain counted as an improvement.
    dtype : {"float32", "float64"}, default "float32"
        Floating-point type of parameters and computation.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default None
        Seeds initialization, shuffling, dropout and the validation split; an int gives
        identical results on every run (with the same BLAS thread count). ``None`` draws a
        fresh seed; a ``RandomState`` or ``Generator`` gives one draw per fit (see
        :func:`neurosim.base.resolve_seed`).
    verbose : int, default 0
        Show a progress bar per epoch when positive.
    checkpoint : str or path-like, optional
        File that :meth:`fit` writes the whole training state to (atomically) after every
        epoch, and on Ctrl-C the last finished epoch's state is already there. If the file
        exists when :meth:`fit` starts, training resumes from it and ends exactly as an
        uninterrupted run would (same parameters and data required; ``verbose`` may differ).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of input features seen in fit.
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape ``(fan_in, fan_out)``; views into one buffer.
    intercepts_ : list of ndarray
        Bias vectors, ``intercepts_[i]`` of shape ``(fan_out,)``.
    n_iter_ : int
        Epochs trained.
    loss_ : float
        Mean training loss (cross-entropy plus penalty) over the last epoch's batches.
    history_ : list of EpochRecord
        One record (a dict) per epoch: ``epoch``, ``examples_seen``, ``wall_time`` (cumulative
        seconds spent in training passes, validation excluded), ``loss`` and ``val_accuracy``
        (``None`` without validation data).
    n_ops_per_sample_ : int
        Multiply-accumulate operations of one inference (sum of fan_in * fan_out).
    best_validation_score_ : float or None
        Best validation accuracy seen with early stopping, else ``None``.
    early_stopped_ : bool
        Whether early stopping has triggered (and the best parameters were restored).

    Examples
    --------
    >>> from neurosim import RateMLP, load_digits_784
    >>> X, y = load_digits_784("train")
    >>> model = RateMLP(hidden_layer_sizes=(64,), max_iter=5, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    op_kind: ClassVar[str] = "multiply-accumulate"
    uses_labels_for_learning: ClassVar[bool] = True
    _CHECKPOINT_KIND: ClassVar[str] = "RateMLP"  # a checkpoint is a model file

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (256,),
        *,
        activation: str = "relu",
        optimizer: str = "adam",
        learning_rate: float | None = None,
        lr_schedule: str = "constant",
        lr_step_epochs: int = 5,
        lr_decay: float = 0.1,
        momentum: float = 0.9,
        rho: float = 0.9,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size: int = 128,
        max_iter: int = 10,
        alpha: float = 1e-4,
        dropout: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        tol: float = 1e-4,
        dtype: str = "float32",
        random_state: RandomStateLike = None,
        verbose: int = 0,
        checkpoint: str | os.PathLike | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.lr_step_epochs = lr_step_epochs
        self.lr_decay = lr_decay
        self.momentum = momentum
        self.rho = rho
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.alpha = alpha
        self.dropout = dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint = checkpoint

    # -- parameters --------------------------------------------------------------------------
    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise ValueError(
                f"hidden_layer_sizes must be an int or a tuple of ints, got {sizes!r}"
            ) from None
        if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must hold positive ints, got {sizes!r}")
        return tuple(int(s) for s in sizes)

    def _check_params(self) -> None:
        """Raise ``ValueError`` naming the first hyperparameter that is out of range."""
        self._hidden_sizes()

        def choice(name: str, options: Sequence[str]) -> None:
            if getattr(self, name) not in options:
                raise ValueError(
                    f"{name} must be one of {', '.join(map(repr, options))}, "
                    f"got {getattr(self, name)!r}"
                )

        def positive_int(name: str) -> None:
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")

        def in_range(name: str, low: float, high: float, *, high_closed: bool = False) -> None:
            value = getattr(self, name)
            ok = (
                isinstance(value, numbers.Real)
                and low <= value
                and (value <= high if high_closed else value < high)
            )
            if not ok:
                bracket = "]" if high_closed else ")"
                raise ValueError(f"{name} must be in [{low}, {high}{bracket}, got {value!r}")

        choice("activation", ACTIVATIONS)
        choice("optimizer", tuple(OPTIMIZERS))
        choice("lr_schedule", LR_SCHEDULES)
        choice("dtype", ("float32", "float64"))
        for name in ("batch_size", "max_iter", "lr_step_epochs", "n_iter_no_change"):
            positive_int(name)
        if self.learning_rate is not None and not (
            isinstance(self.learning_rate, numbers.Real) and self.learning_rate > 0
        ):
            raise ValueError(f"learning_rate must be positive or None, got {self.learning_rate!r}")
        in_range("alpha", 0.0, math.inf)
        in_range("tol", 0.0, math.inf)
        in_range("lr_decay", 0.0, 1.0, high_closed=True)
        in_range("dropout", 0.0, 1.0)
        in_range("validation_fraction", 0.0, 1.0)
        if self.early_stopping and self.validation_fraction <= 0:
            raise ValueError("early_stopping needs validation_fraction > 0 or a validation set")

    # -- fitting -----------------------------------------------------------------------------
    def _initialize(self, n_features: int) -> None:
        """Create the network, optimizer and random generator; reset learned attributes."""
        # An int seed goes through a RandomState, as it always has, so it keeps its results.
        seed_source = np.random.RandomState(resolve_seed(self.random_state))
        self._rng = np.random.default_rng(seed_source.randint(np.iinfo(np.int32).max))
        self._split_seed = int(self._rng.integers(np.iinfo(np.int32).max))
        sizes = (n_features, *self._hidden_sizes(), len(self.classes_))
        self._net = Network(sizes, self.activation, self.dtype)
        self._net.initialize(self._rng)
        self._optimizer = self._make_optimizer()
        self.n_ops_per_sample_ = int(self._net.n_coef)
        self.n_iter_ = 0
        self.loss_ = math.nan
        self.history_: list[EpochRecord] = []
        self.best_validation_score_ = None
        self.early_stopped_ = False
        self._best_params = None
        self._no_improvement = 0

    def _make_optimizer(self) -> Optimizer:
        return make_optimizer(
            self.optimizer,
            [self._net.params],
            self.learning_rate,
            momentum=self.momentum,
            rho=self.rho,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
        )

    def _validation_data(
        self, X: np.ndarray, y: np.ndarray, X_val: Any, y_val: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Training and validation sets: inputs in the model dtype, labels as class indices."""
        X = np.asarray(X, dtype=self.dtype)
        if (X_val is None) != (y_val is None):
            raise ValueError("give both X_val and y_val, or neither")
        if X_val is not None:
            X_val, y_val = self._validate_X_y(X_val, y_val, reset=False)
            y_val = self._encode_labels(y_val, reset=False)
        elif self.early_stopping:
            X, X_val, y, y_val = train_test_split(
                X,
                y,
                test_size=self.validation_fraction,
                stratify=y,
                random_state=self._split_seed,
            )
        return X, y, X_val, y_val

    def fit(self, X: Any, y: Any, X_val: Any = None, y_val: Any = None) -> RateMLP:
        """Train from a fresh initialization for ``max_iter`` epochs (or until early stopping).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Class labels (any labels scikit-learn accepts, strings included).
        X_val, y_val : array-like, optional
            Validation set: its accuracy is recorded in ``history_`` each epoch and, with
            ``early_stopping=True``, decides when to stop.

        Returns
        -------
        RateMLP
            The fitted model.
        """
        self._check_params()
        X, y = self._validate_X_y(X, y, reset=True)
        y = self._encode_labels(y, reset=True)
        self._initialize(X.shape[1])
        # Resume before splitting: the split seed of the interrupted run comes with the state.
        self._resume(X)
        data = self._validation_data(X, y, X_val, y_val)
        while self.n_iter_ < self.max_iter and not self.early_stopped_:
            self._run_epoch(*data)
            if self.checkpoint is not None:
                self.save(self.checkpoint, extra_metadata=self._checkpoint_metadata(X))
        return self

    def _restore_checkpoint(self, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        if "classes_" not in arrays:
            raise ModelFileError(f"checkpoint {self.checkpoint} lacks the array 'classes_'")
        if arrays.pop("classes_").tolist() != np.asarray(self.classes_).tolist():
            raise ModelFileError(f"checkpoint {self.checkpoint} has other classes")
        self._set_state(arrays, metadata["attributes"])

    def partial_fit(
        self,
        X: Any,
        y: Any,
        classes: Any = None,
        X_val: Any = None,
        y_val: Any = None,
    ) -> RateMLP:
        """Train for one epoch over ``X``, continuing from the current parameters.

        The first call initializes the model (all later labels must be among the first
        call's ``classes``, or, without it, the first call's labels). Learning-rate schedules
        and early stopping count these epochs like :meth:`fit`'s. Once early stopping has
        triggered, ``early_stopped_`` is True and the best parameters are restored; the
        caller stops calling (further calls keep training, with the patience counter reset).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like, optional
            Every class label; it fixes ``classes_`` on the first call, and a later call's
            must be the same (``ValueError`` otherwise).
        X_val, y_val : array-like, optional
            Validation set, as in :meth:`fit`.

        Returns
        -------
        RateMLP
            The updated model.
        """
        first = not hasattr(self, "_net")
        if first:
            self._check_params()
        X, y = self._validate_X_y(X, y, reset=first)
        y = self._encode_labels(y, reset=first, classes=classes)
        if first:
            self._initialize(X.shape[1])
        self._run_epoch(*self._validation_data(X, y, X_val, y_val))
        return self

    def _lr_at(self, epoch: float) -> float:
        """Learning rate after ``epoch`` (fractional) epochs under the schedule."""
        initial = (
            OPTIMIZERS[self.optimizer].default_learning_rate
            if self.learning_rate is None
            else float(self.learning_rate)
        )
        if self.lr_schedule == "step":
            return initial * self.lr_decay ** (int(epoch) // self.lr_step_epochs)
        if self.lr_schedule == "cosine":
            return initial * 0.5 * (1.0 + math.cos(math.pi * min(epoch / self.max_iter, 1.0)))
        return initial

    def _run_epoch(
        self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None, y_val: np.ndarray | None
    ) -> None:
        """One shuffled pass over ``(X, y)``, then the history record and early stopping."""
        net, optimizer = self._net, self._optimizer
        n_samples = len(X)
        batch_size = min(self.batch_size, n_samples)
        n_batches = math.ceil(n_samples / batch_size)
        batch = net.prepare(batch_size, self.dropout > 0)
        epoch = self.n_iter_
        started = time.perf_counter()
        order = self._rng.permutation(n_samples)
        total_loss = 0.0
        with progress_bar(n_samples, self.verbose, f"epoch {epoch + 1}", unit="img") as bar:
            for index in range(n_batches):
                rows = order[index * batch_size : (index + 1) * batch_size]
                xb = batch[: len(rows)]
                np.take(X, rows, axis=0, out=xb, mode="clip")  # "clip": no bounds checks
                optimizer.learning_rate = self._lr_at(epoch + index / n_batches)
                loss = net.loss_and_gradient(xb, y[rows], self.alpha, self.dropout, self._rng)
                optimizer.step([net.grads])
                total_loss += loss * len(rows)
                bar.update(len(rows))
        elapsed = time.perf_counter() - started

        self.n_iter_ += 1
        self.loss_ = total_loss / n_samples
        examples_seen, wall_time = (
            (self.history_[-1]["examples_seen"], self.history_[-1]["wall_time"])
            if self.history_
            else (0, 0.0)
        )
        val_accuracy = None
        if X_val is not None:
            val_accuracy = float(np.mean(np.argmax(net.logits(X_val), axis=1) == y_val))
        self.history_.append(
            EpochRecord(
                epoch=self.n_iter_,
                examples_seen=examples_seen + n_samples,
                wall_time=wall_time + elapsed,
                loss=float(self.loss_),
                val_accuracy=val_accuracy,
            )
        )
        logger.info(
            "epoch %d: loss %.5f, validation accuracy %s, %.2f s",
            self.n_iter_,
            self.loss_,
            "n/a" if val_accuracy is None else f"{val_accuracy:.4f}",
            elapsed,
        )
        if self.early_stopping and val_accuracy is not None:
            self._update_early_stopping(val_accuracy)

    def _update_early_stopping(self, val_accuracy: float) -> None:
        """Count epochs without a gain above ``tol``; keep the best parameters; stop if due."""
        best = self.best_validation_score_
        if best is None or val_accuracy > best + self.tol:
            self._no_improvement = 0
        else:
            self._no_improvement += 1
        if best is None or val_accuracy > best:
            self.best_validation_score_ = val_accuracy
            if self._best_params is None:
                self._best_params = self._net.params.copy()
            else:
                self._best_params[...] = self._net.params
        if self._no_improvement >= self.n_iter_no_change:
            self._net.params[...] = self._best_params
            self.early_stopped_ = True
            self._no_improvement = 0
            logger.info(
                "early stopping after epoch %d; restored the best epoch (accuracy %.4f)",
                self.n_iter_,
                self.best_validation_score_,
            )

    # -- prediction --------------------------------------------------------------------------
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, views into the flat parameter buffer."""
        check_is_fitted(self)
        return self._net.coefs

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, views into the flat parameter buffer."""
        check_is_fitted(self)
        return self._net.intercepts

    def hidden_activations(self, X: Any) -> list[np.ndarray]:
        """Outputs of every hidden layer (after the activation function).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        list of ndarray
            ``hidden_activations(X)[i]`` of shape ``(n_samples, hidden_layer_sizes[i])``, in the
            model's dtype; an empty list without hidden layers.
        """
        check_is_fitted(self)
        return self._net.forward(self._validate_X(X, reset=False))[:-1]

    def _logits(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return self._net.logits(self._validate_X(X, reset=False))

    def decision_function(self, X: Any) -> np.ndarray:
        """Logits (output-layer values before the softmax).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            For two classes, the logit difference ``z[:, 1] - z[:, 0]``: positive means
            ``classes_[1]`` (scikit-learn's binary convention).
        """
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return softmax(self._logits(X), axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of the class probabilities, computed stably from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return log_softmax(self._logits(X), axis=1)

    # -- persistence -------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {f"coef_{i}": coef for i, coef in enumerate(self._net.coefs)}
        arrays.update({f"intercept_{i}": b for i, b in enumerate(self._net.intercepts)})
        arrays.update(
            {f"optimizer_{key}": value for key, value in self._optimizer.state_arrays().items()}
        )
        if self._best_params is not None:
            arrays["best_params"] = self._best_params
        attributes = {
            "n_iter": self.n_iter_,
            "loss": self.loss_,
            "best_validation_score": self.best_validation_score_,
            "early_stopped": self.early_stopped_,
            "no_improvement": self._no_improvement,
            "optimizer_steps": self._optimizer.t,
            "rng_state": self._rng.bit_generator.state,
            "split_seed": self._split_seed,
        }
        return arrays, attributes

    def _set_state(self, arrays: dict[str, np.ndarray], attributes: dict[str, Any]) -> None:
        try:
            self._restore(arrays, attributes)
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(
                f"model file has a missing or inconsistent entry: {error!r}"
            ) from error

    def _restore(self, arrays: dict[str, np.ndarray], attributes: dict[str, Any]) -> None:
        self._check_params()
        sizes = (self.n_features_in_, *self._hidden_sizes(), len(self.classes_))
        net = Network(sizes, self.activation, self.dtype)
        expected = {f"coef_{i}": coef for i, coef in enumerate(net.coefs)}
        expected.update({f"intercept_{i}": b for i, b in enumerate(net.intercepts)})
        for key, target in expected.items():
            if key not in arrays:
                raise ModelFileError(f"model file lacks the array {key!r}")
            if arrays[key].shape != target.shape:
                raise ModelFileError(
                    f"array {key!r} has shape {arrays[key].shape}, expected {target.shape} "
                    f"for layer sizes {sizes}"
                )
            target[...] = arrays[key]
        self._net = net
        self._optimizer = self._make_optimizer()
        prefix = "optimizer_"
        state = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        try:
            self._optimizer.load_state(state, attributes["optimizer_steps"])
        except (KeyError, ValueError) as error:
            raise ModelFileError(
                f"model file has missing or bad optimizer state: {error}"
            ) from error
        best = arrays.get("best_params")
        if best is not None and best.shape != net.params.shape:
            raise ModelFileError(
                f"array 'best_params' has shape {best.shape}, expected {net.params.shape}"
            )
        self._rng = np.random.Generator(np.random.PCG64())
        self._rng.bit_generator.state = attributes["rng_state"]
        self._best_params = None if best is None else best.astype(net.dtype)
        self._split_seed = int(attributes["split_seed"])
        self.n_ops_per_sample_ = int(net.n_coef)
        self.n_iter_ = int(attributes["n_iter"])
        self.loss_ = float(attributes["loss"])
        self.best_validation_score_ = attributes["best_validation_score"]
        self.early_stopped_ = bool(attributes["early_stopped"])
        self._no_improvement = int(attributes["no_improvement"])
