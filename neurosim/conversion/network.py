"""ConvertedSNN: a trained RateMLP run with integrate-and-fire neurons (the common interface)."""

from __future__ import annotations

import logging
import numbers
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted

from neurosim.base import NeuroClassifier, RandomStateLike, progress_bar, resolve_seed
from neurosim.conversion.engine import (
    DEVICES,
    DT,
    INPUT_CODINGS,
    IFEngine,
    Recording,
    Simulation,
    simulate,
)
from neurosim.conversion.normalization import layer_activations, normalization_scales, normalize
from neurosim.io import ModelFileError
from neurosim.rate import RateMLP
from neurosim.spiking.evaluation import available_cores

__all__ = ["CalibrationWarning", "ConvertedSNN", "ScoreCurve"]

logger = logging.getLogger(__name__)

OUTPUTS = ("spikes", "membrane")
RESETS = ("subtract", "zero")
#: Fewer calibration images than this draw a :class:`CalibrationWarning`.
MIN_CALIBRATION_IMAGES = 100
#: Calibration images simulated by :meth:`ConvertedSNN.from_mlp` to measure the operations.
N_OPS_IMAGES = 1000
# Images per run by device: copies side by side x windows one after another. Compiled, on the
# 784-800-10 network (benchmarks/RESULTS.md, "Converted network"): a few copies beat hundreds
# (the synapses of many copies no longer fit in the caches; spike delivery dominates the
# time). Numpy runtime: tens of copies win (each time step costs Python calls per code object;
# 20 to 100 copies ran 1,347 small images equally fast, 2 copies 3x slower), and fewer copies
# waste less on a small set.
_CHUNKING = {"cpp_standalone": (2, 1250), "runtime": (20, 50)}
_PHASE_CALIBRATION, _PHASE_INFERENCE = 0, 1
# Shared by all models in the process: one compiled build (and its private copy) per engine.
_ENGINES: dict[tuple[str, str], IFEngine] = {}


class CalibrationWarning(UserWarning):
    """The calibration set is too small for a reliable normalisation."""


@dataclass(frozen=True)
class ScoreCurve:
    """Accuracy and activity against simulated time, from one run (see
    :meth:`ConvertedSNN.score_curve`).

    Attributes
    ----------
    steps : ndarray of shape (n_steps,)
        Time steps 1..n_steps.
    dt_s : float
        Duration of a time step, seconds.
    accuracy : dict of str to ndarray
        "spikes" (most output spikes; ties go to the first class) and "membrane" (highest
        accumulated charge) -> accuracy after each step.
    output : str
        The model's own readout (its ``output``).
    spikes : dict of str to ndarray
        Layer -> mean spikes per image up to each step.
    synaptic_events : ndarray of shape (n_steps,)
        Mean synaptic events per image up to each step (each spike times its fan-out).
    macs : float
        Multiply-accumulates per image for the constant input current (0 for Poisson input).
    n_images : int
    y_pred : ndarray of shape (n_images,)
        The labels the model's readout predicts after the last step (those of ``predict``).
    """

    steps: np.ndarray
    dt_s: float
    accuracy: dict[str, np.ndarray]
    output: str
    spikes: dict[str, np.ndarray]
    synaptic_events: np.ndarray
    macs: float
    n_images: int
    y_pred: np.ndarray

    @property
    def time_ms(self) -> np.ndarray:
        """Simulated time after each step, in ms."""
        return self.steps * self.dt_s * 1e3

    def steps_to_reach(self, accuracy: float) -> int | None:
        """The first step from which the model's readout stays at or above ``accuracy``.

        ``None`` when it is below ``accuracy`` after the last step.
        """
        below = np.flatnonzero(self.accuracy[self.output] < accuracy)
        if len(below) and below[-1] == len(self.steps) - 1:
            return None
        return int(self.steps[below[-1] + 1]) if len(below) else int(self.steps[0])


class ConvertedSNN(NeuroClassifier):
    """A trained ReLU :class:`~neurosim.RateMLP` run as a spiking network in Brian2.

    Create it with :meth:`from_mlp`; it is not trained itself, so :meth:`fit` is not offered.
    Each ReLU unit becomes a non-leaky integrate-and-fire neuron with threshold 1: its firing
    rate (spikes per 1 ms step) approximates the unit's activation once the weights are
    normalised layer by layer on calibration images (see
    :mod:`neurosim.conversion.normalization`). Biases enter as constant input currents. The
    network runs on Brian2's ``cpp_standalone`` device, compiled once per architecture and
    cached, many images side by side (see :mod:`neurosim.conversion.engine`).

    Parameters
    ----------
    normalization : "max" or float, default 90.0
        Scale of each layer: its largest activation on the calibration images (Diehl et al.
        2015) or this percentile, in (0, 100], of its nonzero activations (Rueckauer et al.
        2017: the few larger ones saturate at one spike per step, the rest fire faster, so
        evidence builds up sooner). Default chosen on the validation split for the
        784-800-10 MLP, by accuracy averaged over 1-100 steps with both input codings
        (``benchmarks/convert_accuracy.py --validation``, ``benchmarks/RESULTS.md``); a deeper
        network may need a higher percentile.
    input_coding : {"current", "poisson"}, default "current"
        The first layer integrates a constant current ``W x + b`` (computed once per image),
        or the pixels fire Poisson spikes (a Bernoulli draw per step) at ``pixel * max_rate``.
    max_rate : float, default 1000.0
        Poisson input: rate of a pixel of intensity 1, in Hz (at most one spike per step,
        1000 Hz); each input spike carries ``1 / (max_rate * dt)`` times its weight.
    output : {"spikes", "membrane"}, default "membrane"
        The class with the most output spikes (ties go to the first class), or with the
        highest charge accumulated by a non-spiking output layer. Default chosen on the
        validation split.
    reset : {"subtract", "zero"}, default "subtract"
        After a spike the membrane loses the threshold and keeps the residual charge, or is
        set to zero (losing it; shown for comparison).
    n_steps : int, default 100
        Time steps (of 1 ms) each image is shown for :meth:`predict`.
    device : {"cpp_standalone", "runtime"}, default "cpp_standalone"
        Compiled C++ (needs a compiler; compiled once per architecture, cached) or Brian2's
        numpy runtime (no compiler; slow; for small tests).
    copies : int, optional
        Networks side by side in one simulation (default, measured fastest: 2 compiled, 20
        on the runtime device).
    chunk_windows : int, optional
        Images each copy shows one after another in one simulation (default: 1250 compiled,
        50 on the runtime device).
    n_jobs : int, optional
        Simulations run at once (default: every core).
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None
        Seed of the Poisson input (see :func:`neurosim.base.resolve_seed`); the seed used is
        ``seed_``, drawn once by :meth:`from_mlp`.
    verbose : int, default 0
        Show a progress bar.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The MLP's classes.
    n_features_in_ : int
    layer_sizes_ : tuple of int
        Units per layer, input first.
    weights_, biases_ : list of ndarray
        The normalised network (float64): weights ``(fan_in, fan_out)`` per layer, biases in
        threshold units per time step.
    scales_ : ndarray of shape (n_layers,)
        Each layer's normalisation scale (the activation mapped to one spike per step).
    n_calibration_ : int
        Calibration images.
    seed_ : int
    n_ops_per_sample_ : float
        Synaptic events per image over ``n_steps`` (each spike times its fan-out), measured on
        the first :data:`N_OPS_IMAGES` calibration images.
    n_macs_per_sample_ : int
        Multiply-accumulates per image for the constant input current (0 for Poisson input).
    spikes_per_sample_ : float
        Spikes per image over ``n_steps``, all layers (the Poisson input included).
    history_ : list
        Empty: nothing is trained.

    Examples
    --------
    >>> from neurosim import ConvertedSNN, RateMLP, load_digits_784
    >>> X, y = load_digits_784("train")
    >>> mlp = RateMLP(hidden_layer_sizes=(32,), max_iter=5, random_state=0).fit(X, y)
    >>> snn = ConvertedSNN.from_mlp(mlp, X, device="runtime", n_steps=50)  # doctest: +SKIP
    >>> snn.score(X[:20], y[:20])  # doctest: +SKIP
    """

    op_kind: ClassVar[str] = "synaptic event"
    # The weights were learned by backpropagation from labels (in the source MLP).
    uses_labels_for_learning: ClassVar[bool] = True

    def __init__(
        self,
        *,
        normalization: str | float = 90.0,
        input_coding: str = "current",
        max_rate: float = 1000.0,
        output: str = "membrane",
        reset: str = "subtract",
        n_steps: int = 100,
        device: str = "cpp_standalone",
        copies: int | None = None,
        chunk_windows: int | None = None,
        n_jobs: int | None = None,
        random_state: RandomStateLike = None,
        verbose: int = 0,
    ) -> None:
        self.normalization = normalization
        self.input_coding = input_coding
        self.max_rate = max_rate
        self.output = output
        self.reset = reset
        self.n_steps = n_steps
        self.device = device
        self.copies = copies
        self.chunk_windows = chunk_windows
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # -- configuration -----------------------------------------------------------------------
    def _check_params(self) -> None:
        """Raise ``ValueError`` naming the first option that is out of range."""
        norm = self.normalization
        is_percentile = isinstance(norm, numbers.Real) and not isinstance(norm, bool)
        if not (norm == "max" or (is_percentile and 0 < norm <= 100)):
            raise ValueError(
                f"normalization must be 'max' or a percentile in (0, 100], got {norm!r}"
            )
        for name, options in (
            ("input_coding", INPUT_CODINGS),
            ("output", OUTPUTS),
            ("reset", RESETS),
            ("device", DEVICES),
        ):
            if getattr(self, name) not in options:
                raise ValueError(f"{name} must be one of {options}, got {getattr(self, name)!r}")
        max_rate = 1.0 / float(DT)
        if not (isinstance(self.max_rate, numbers.Real) and 0 < self.max_rate <= max_rate):
            raise ValueError(
                f"max_rate must be in (0, {max_rate:g}] Hz (one spike per {DT}), "
                f"got {self.max_rate!r}"
            )
        for name in ("n_steps", "copies", "chunk_windows", "n_jobs"):
            value = getattr(self, name)
            if (value is not None or name == "n_steps") and not (
                isinstance(value, numbers.Integral) and value >= 1
            ):
                raise ValueError(f"{name} must be a positive int, got {value!r}")

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # pixel intensities in [0, 1]
        return tags

    def _engine(self, *, record_images: int | None = None, device: str | None = None) -> IFEngine:
        """The engine for this configuration, shared by all models in the process.

        ``record_images``: a recording engine showing that many images side by side.
        """
        device = device or self.device
        if record_images is None:
            copies, windows = _CHUNKING[device]
            copies, windows = self.copies or copies, self.chunk_windows or windows
        else:
            copies, windows = record_images, 1
        engine = IFEngine(
            self.layer_sizes_,
            input_coding=self.input_coding,
            n_steps=self.n_steps,
            device=device,
            copies=copies,
            windows=windows,
            record=record_images is not None,
        )
        return _ENGINES.setdefault((engine.device, engine.build_key()), engine)

    # -- conversion --------------------------------------------------------------------------
    @classmethod
    def from_mlp(cls, mlp: RateMLP, X_calibration: Any, **options: Any) -> ConvertedSNN:
        """Convert a fitted ReLU :class:`~neurosim.RateMLP` into a spiking network.

        The weights are normalised layer by layer on the calibration images (which should come
        from the training data, never from the test set); then the first
        :data:`N_OPS_IMAGES` of them are simulated once to measure ``n_ops_per_sample_``.

        Parameters
        ----------
        mlp : RateMLP
            Fitted, with ``activation="relu"``.
        X_calibration : array-like of shape (n_images, n_features)
            Pixel intensities in [0, 1]; at least :data:`MIN_CALIBRATION_IMAGES` images
            (fewer draw a :class:`CalibrationWarning`).
        **options
            Parameters of :class:`ConvertedSNN` (``normalization``, ``input_coding``, ...).

        Returns
        -------
        ConvertedSNN

        Raises
        ------
        TypeError
            ``mlp`` is not a RateMLP.
        sklearn.exceptions.NotFittedError
            The MLP is not fitted.
        ValueError
            The MLP's units are not ReLU; the calibration images have the wrong width, hold
            NaN or infinite values, or are not in [0, 1]; an option is out of range.
        """
        if not isinstance(mlp, RateMLP):
            raise TypeError(f"from_mlp converts a RateMLP, got {type(mlp).__name__}")
        check_is_fitted(
            mlp, msg="the RateMLP is not fitted: call mlp.fit(X, y) before converting it"
        )
        if mlp.activation != "relu":
            raise ValueError(
                f"ConvertedSNN converts ReLU networks only, but this RateMLP has "
                f"activation={mlp.activation!r}: an integrate-and-fire neuron's firing rate "
                "follows ReLU(Wx + b), not a saturating unit. Train the MLP with "
                "activation='relu'"
            )
        model = cls(**options)
        model._check_params()
        X = model._calibration_images(mlp, X_calibration)
        model.classes_ = np.asarray(mlp.classes_).copy()
        if hasattr(mlp, "feature_names_in_"):
            model.feature_names_in_ = mlp.feature_names_in_
        model.seed_ = resolve_seed(model.random_state)
        model.layer_sizes_ = (int(mlp.n_features_in_), *(int(c.shape[1]) for c in mlp.coefs_))
        model.scales_ = model._scales(mlp, X)
        model.weights_, model.biases_ = normalize(mlp.coefs_, mlp.intercepts_, model.scales_)
        model.n_calibration_ = len(X)
        model.history_ = []
        model.n_macs_per_sample_ = model._input_macs()
        model._measure_operations(X[:N_OPS_IMAGES])
        return model

    def _calibration_images(self, mlp: RateMLP, X: Any) -> np.ndarray:
        """Check the calibration images: width, finite values, pixel range, how many."""
        X = np.asarray(X)
        n_features = int(mlp.n_features_in_)
        if X.ndim != 2 or X.shape[1] != n_features:
            raise ValueError(
                f"X_calibration must have shape (n_images, {n_features}) like the MLP's "
                f"inputs, got shape {X.shape}"
            )
        if not np.issubdtype(X.dtype, np.number) or not np.all(np.isfinite(X)):
            raise ValueError(
                "X_calibration contains NaN, infinite or non-numeric values; calibrate with "
                "training images (pixel intensities in [0, 1])"
            )
        self.n_features_in_ = n_features
        X = self._validate_pixels(X, reset=False)
        if len(X) < MIN_CALIBRATION_IMAGES:
            warnings.warn(
                f"only {len(X)} calibration images: the normalisation scales may miss the "
                f"activations of other images, which then saturate; use at least "
                f"{MIN_CALIBRATION_IMAGES} (e.g. 1,000 training images)",
                CalibrationWarning,
                stacklevel=3,
            )
        return X

    def _scales(self, mlp: RateMLP, X: np.ndarray) -> np.ndarray:
        """Each layer's normalisation scale on ``X``; 1 (with a warning) for a silent layer."""
        scales = normalization_scales(
            layer_activations(mlp.coefs_, mlp.intercepts_, X), self.normalization
        )
        silent = np.flatnonzero(scales <= 0)
        if len(silent):
            warnings.warn(
                f"layers {(silent + 1).tolist()} never activate on the calibration images; "
                "their scale is set to 1",
                CalibrationWarning,
                stacklevel=3,
            )
            scales[silent] = 1.0
        return scales

    def _input_macs(self) -> int:
        """Multiply-accumulates of the constant input current per image (current coding)."""
        return self.layer_sizes_[0] * self.layer_sizes_[1] if self.input_coding == "current" else 0

    def fan_outs(self) -> np.ndarray:
        """Synapses each spike of every counted layer reaches, in the order of
        :attr:`ScoreCurve.spikes` (the output's: none)."""
        sizes = self.layer_sizes_
        first = 0 if self.input_coding == "poisson" else 1
        return np.array([*sizes[first + 1 :], 0], dtype=float)

    def _measure_operations(self, X: np.ndarray) -> None:
        """Set ``n_ops_per_sample_`` and ``spikes_per_sample_`` from a run on ``X``."""
        simulation = self._simulate(X, _PHASE_CALIBRATION, "measuring operations")
        final = simulation.spikes[:, -1, :].mean(axis=0)
        self.n_ops_per_sample_ = float(final @ self.fan_outs())
        self.spikes_per_sample_ = float(final.sum())

    def fit(self, X: Any, y: Any = None) -> ConvertedSNN:
        """Not offered: a ConvertedSNN is made from a trained MLP, not trained.

        Raises
        ------
        NotImplementedError
            Always; use :meth:`from_mlp`.
        """
        raise NotImplementedError(
            "ConvertedSNN is not trained: train a RateMLP (activation='relu') and convert it "
            "with ConvertedSNN.from_mlp(mlp, X_calibration, **options)"
        )

    # -- inference ---------------------------------------------------------------------------
    def _seed(self, phase: int, run: int) -> int:
        return int(np.random.SeedSequence([self.seed_, phase, run]).generate_state(1)[0])

    def _simulate(self, X: np.ndarray, phase: int, desc: str) -> Simulation:
        """Show every row of ``X`` (validated) for ``n_steps`` steps."""
        with progress_bar(len(X), self.verbose, desc, unit="img") as bar:
            simulation = simulate(
                self._engine(),
                X,
                self.weights_,
                self.biases_,
                reset_zero=self.reset == "zero",
                max_rate=float(self.max_rate),
                seed=lambda run: self._seed(phase, run),
                n_jobs=self.n_jobs or available_cores(),
                progress=bar.update,
            )
        logger.info("%s: %d images, %d steps each", desc, len(X), self.n_steps)
        return simulation

    def _checked(self, X: Any) -> np.ndarray:
        """``X`` validated for a fitted model whose options (set since) are valid."""
        check_is_fitted(self, "weights_")
        self._check_params()
        return self._validate_pixels(X, reset=False)

    def _evidence(self, simulation: Simulation) -> np.ndarray:
        """The model's readout after every step: output spike counts or accumulated charge."""
        return simulation.count if self.output == "spikes" else simulation.charge

    def decision_function(self, X: Any) -> np.ndarray:
        """Output evidence after ``n_steps`` steps: spike counts or accumulated charge.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            For two classes, the difference ``s[:, 1] - s[:, 0]`` (scikit-learn's convention).
        """
        simulation = self._simulate(self._checked(X), _PHASE_INFERENCE, "spiking inference")
        scores = self._evidence(simulation)[:, -1, :]
        return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

    def score_curve(self, X: Any, y: Any) -> ScoreCurve:
        """Accuracy (both readouts) and activity after every time step, from one run.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]
        y : array-like of shape (n_samples,)

        Returns
        -------
        ScoreCurve
        """
        X, y = self._validate_X_y(X, y, reset=False)
        X = self._checked(X)
        y_index = self._encode_labels(y, reset=False)
        simulation = self._simulate(X, _PHASE_INFERENCE, "spiking inference")
        engine = self._engine()
        mean_spikes = simulation.spikes.mean(axis=0)  # (n_steps, layers)
        return ScoreCurve(
            steps=np.arange(1, self.n_steps + 1),
            dt_s=float(DT),
            accuracy={
                "spikes": _accuracy(simulation.count, y_index),
                "membrane": _accuracy(simulation.charge, y_index),
            },
            output=self.output,
            spikes={name: mean_spikes[:, k] for k, name in enumerate(engine.spiking_layers)},
            synaptic_events=mean_spikes @ self.fan_outs(),
            macs=float(self.n_macs_per_sample_),
            n_images=len(X),
            y_pred=self.classes_[np.argmax(self._evidence(simulation)[:, -1, :], axis=1)],
        )

    def activations(self, X: Any) -> list[np.ndarray]:
        """Activations of the normalised ANN: the spikes per step each neuron should fire.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]

        Returns
        -------
        list of ndarray
            One ``(n_samples, n_units)`` array per layer after the input: ReLU outputs of the
            hidden layers, then the output layer's (linear) values, all divided by their
            layer's scale.
        """
        return layer_activations(self.weights_, self.biases_, self._checked(X))

    def record_activity(self, X: Any, device: str = "runtime") -> Recording:
        """Every spike of every layer and the output membrane, for a few images.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]
            A few images, shown side by side for ``n_steps`` steps.
        device : {"runtime", "cpp_standalone"}, default "runtime"
            The numpy runtime needs no compilation for a few images.

        Returns
        -------
        Recording
        """
        X = self._checked(X)
        engine = self._engine(record_images=len(X), device=device)
        tables = engine.tables(X, self.weights_, self.biases_, max_rate=float(self.max_rate))
        raw = engine.run(
            tables,
            len(X),
            reset_zero=self.reset == "zero",
            max_rate=float(self.max_rate),
            seed=self._seed(_PHASE_INFERENCE, 0),
        )
        return engine.recording(raw, len(X))

    # -- persistence -------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {f"weights_{k}": w for k, w in enumerate(self.weights_)}
        arrays.update({f"biases_{k}": b for k, b in enumerate(self.biases_)})
        arrays["scales_"] = self.scales_
        attributes = {
            "layer_sizes_": list(self.layer_sizes_),
            "n_calibration_": int(self.n_calibration_),
            "seed_": int(self.seed_),
            "n_ops_per_sample_": float(self.n_ops_per_sample_),
            "n_macs_per_sample_": int(self.n_macs_per_sample_),
            "spikes_per_sample_": float(self.spikes_per_sample_),
        }
        return arrays, attributes

    def _set_state(self, arrays: dict[str, np.ndarray], attributes: dict[str, Any]) -> None:
        sizes = tuple(int(n) for n in attributes["layer_sizes_"])
        if len(sizes) < 2 or sizes[0] != self.n_features_in_ or sizes[-1] != len(self.classes_):
            raise ModelFileError(f"model file has inconsistent layer sizes {sizes}")
        expected = {"scales_": (len(sizes) - 1,)}
        for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            expected[f"weights_{k}"] = (n_in, n_out)
            expected[f"biases_{k}"] = (n_out,)
        for key, shape in expected.items():
            if key not in arrays or arrays[key].shape != shape:
                raise ModelFileError(f"model file array {key} is missing or not of shape {shape}")
        self._check_params()
        self.layer_sizes_ = sizes
        self.weights_ = [arrays[f"weights_{k}"].astype(np.float64) for k in range(len(sizes) - 1)]
        self.biases_ = [arrays[f"biases_{k}"].astype(np.float64) for k in range(len(sizes) - 1)]
        self.scales_ = arrays["scales_"].astype(np.float64)
        self.n_calibration_ = int(attributes["n_calibration_"])
        self.seed_ = int(attributes["seed_"])
        self.n_ops_per_sample_ = float(attributes["n_ops_per_sample_"])
        self.n_macs_per_sample_ = int(attributes["n_macs_per_sample_"])
        self.spikes_per_sample_ = float(attributes["spikes_per_sample_"])


def _accuracy(evidence: np.ndarray, y_index: np.ndarray) -> np.ndarray:
    """Accuracy after each step of evidence ``(n_images, n_steps, n_classes)``."""
    return np.mean(np.argmax(evidence, axis=2) == y_index[:, None], axis=0)
