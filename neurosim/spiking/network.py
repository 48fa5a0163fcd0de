"""STDPNetwork: the spiking digit recogniser of Diehl & Cook (2015) behind the common interface."""

from __future__ import annotations

import logging
import numbers
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from brian2 import Quantity, units
from sklearn.exceptions import NotFittedError
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted

from neurosim.base import (
    HistoryRecord,
    NeuroClassifier,
    RandomStateLike,
    progress_bar,
    resolve_seed,
)
from neurosim.io import ModelFileError, save_arrays
from neurosim.spiking.engine import STDPEngine, require_device
from neurosim.spiking.evaluation import available_cores, evaluate_frozen
from neurosim.spiking.params import DiehlCookParams, preset
from neurosim.spiking.readout import (
    DEFAULT_READOUT_C,
    READOUTS,
    assign_neurons,
    class_scores,
    count_features,
    fit_logistic,
    linear_scores,
)

__all__ = ["ActivityRecording", "ChunkRecord", "STDPNetwork", "default_eval_copies"]

logger = logging.getLogger(__name__)

_PHASE_TRAIN, _PHASE_LABEL, _PHASE_PREDICT = 0, 1, 2
_ENGINES: dict[tuple[str, str], STDPEngine] = {}
_ALLOWED_UNITS = {name: getattr(units, name) for name in ("mV", "volt", "ms", "second", "Hz")}


@dataclass(frozen=True)
class ActivityRecording:
    """Spikes and membrane traces of a few examples shown with learning frozen.

    Returned by :meth:`STDPNetwork.record_activity`; drawn by
    :func:`neurosim.plots.spike_raster` and :func:`neurosim.plots.membrane_traces`.

    Attributes
    ----------
    spikes : dict of str to (ndarray, ndarray)
        "input", "excitatory" and "inhibitory" -> (spike times in s, neuron indices).
    layer_sizes : dict of str to int
        Neurons in each of those layers.
    windows : list of (float, int, float, bool)
        One per window: start (s), example index, input intensity, accepted (enough spikes).
    window_s, presentation_s, dt_s : float
        Lengths of a window (presentation + rest), of a presentation and of a time step (s).
    trace_t : ndarray of shape (n_samples,)
        Times of the trace samples (s).
    v, theta : ndarray of shape (n_traced, n_samples)
        Membrane potential and adaptive threshold of the traced neurons (volts).
    neurons : ndarray of shape (n_traced,)
        The traced excitatory neurons.
    v_thresh, theta_offset : float
        Threshold constants (volts): a neuron fires when ``v > theta - theta_offset + v_thresh``.
    """

    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    layer_sizes: dict[str, int]
    windows: list[tuple[float, int, float, bool]]
    window_s: float
    presentation_s: float
    dt_s: float
    trace_t: np.ndarray
    v: np.ndarray
    theta: np.ndarray
    neurons: np.ndarray
    v_thresh: float
    theta_offset: float


def _parse_override(name: str, value: Any, default: Any) -> Any:
    """Turn a JSON-friendly override ("0.05 mV", 34.0) into the parameter's type."""
    if isinstance(default, bool):
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"parameter {name}: give True or False, got {value!r}")
        return bool(value)
    if not isinstance(default, Quantity):
        return type(default)(value)
    if isinstance(value, Quantity):
        return value
    number, _, unit = str(value).replace("*", " ").partition(" ")
    unit = unit.strip()
    if unit not in _ALLOWED_UNITS:
        raise ValueError(
            f"parameter {name}: give a quantity as 'value unit' with unit one of "
            f"{sorted(_ALLOWED_UNITS)}, got {value!r}"
        )
    quantity = float(number) * _ALLOWED_UNITS[unit]
    if quantity.dim != default.dim:
        raise ValueError(f"parameter {name}: {value!r} has the wrong dimensions")
    return quantity


# Above this size lateral inhibition is delivered through a per-copy spike count instead of
# N * (N - 1) synapses (spike-for-spike the same; memory O(N) instead of O(N^2)). Below it the
# synapses are 4-11 % faster (benchmarks/RESULTS.md, "Lateral inhibition in O(N)").
POOLED_INHIBITION_ABOVE = 1600

# Training examples that name the neurons for each validation point (``n_label_validation``).
DEFAULT_N_LABEL_VALIDATION = 1000


def default_eval_copies(n_neurons: int) -> int:
    """Copies of the frozen network per evaluation run for a network of ``n_neurons``.

    Chosen by measurement (``benchmarks/snn_eval_speed.py``, ``benchmarks/RESULTS.md``): two
    copies gain a little up to N=400 by sharing each time step's fixed costs; more copies lose,
    as every copy waits for the slowest one and their weights no longer fit the caches.
    """
    return 2 if n_neurons <= 400 else 1


class ChunkRecord(HistoryRecord):
    """One training chunk of :attr:`STDPNetwork.history_ <neurosim.STDPNetwork>`."""

    windows: int
    """Presentation windows run in the chunk (re-presentations included)."""
    retry_fraction: float
    """Share of the windows that were re-presentations (too few spikes)."""
    spikes_per_example: float
    """Mean excitatory spikes of an accepted presentation."""
    capped: int
    """Examples accepted with too few spikes because the intensity cap was reached."""
    theta_min_mV: float
    """Smallest adaptive-threshold increment at the end of the chunk, in mV."""
    theta_mean_mV: float
    """Mean adaptive-threshold increment, in mV."""
    theta_max_mV: float
    """Largest adaptive-threshold increment, in mV."""
    val_n_label: int | None
    """Training examples that named the neurons for ``val_accuracy`` (None: not measured)."""


class STDPNetwork(NeuroClassifier):
    """Unsupervised spiking network with STDP (Diehl & Cook 2015), simulated in Brian2.

    784 Poisson inputs drive ``n_neurons`` excitatory leaky integrate-and-fire neurons with
    adaptive thresholds through plastic synapses (triplet-trace STDP); a matching inhibitory
    layer gives lateral inhibition. Learning uses no labels; ``y`` only names each neuron's
    class after training (from the responses to the training set with learning frozen).

    Parameters
    ----------
    n_neurons : int, default 400
        Excitatory (and inhibitory) neurons.
    max_iter : int, default 1
        Passes over the training data.
    device : {"cpp_standalone", "cuda_standalone", "runtime"}, default "cpp_standalone"
        Compiled C++ engine (needs a C++ compiler; compiled once, cached), Brian2's CUDA
        standalone device (needs ``pip install 'neurosim[gpu]'``, i.e. brian2cuda, the CUDA
        toolkit and an NVIDIA GPU; not tested here. Its runs are not reproducible per
        ``random_state``, as brian2cuda seeds its own generators, and a chunk's unused
        windows act as extra rest), or Brian2's numpy runtime (no compiler; slow, for small
        tests).
    preset : {"default", "original"}, default "default"
        The constants: ``"default"``, this library's per-size preset, chosen on the validation
        split; ``"original"``, the authors' Brian 1 code as closely as Brian2 allows (forward
        Euler, inhibition 17, input delays, Brian 1.4's refractoriness and spike-count window,
        no effective cap on re-presentations). See :func:`~neurosim.spiking.params.preset`.
    input_delays : bool, optional
        The original's input delays U[0, 10] ms with per-synapse presynaptic traces (default:
        as the preset says, on for "original" only). Without delays the traces live once per
        input neuron, which is several times faster; the measured accuracy difference is in
        ``benchmarks/RESULTS.md``.
    params : dict, optional
        Overrides of :class:`~neurosim.spiking.params.DiehlCookParams` fields on top of the
        preset, e.g. ``{"w_inh_exc": 34.0, "theta_plus": "0.05 mV"}``.
    n_label : int, optional
        Training examples used to assign neurons to classes and fit the readout (default: all
        of them).
    readout : {"vote", "linear"}, default "vote"
        How spike counts become a class: ``"vote"``, the paper's rule (each neuron is named
        after the class it fired most for; the class whose neurons fire most on average
        wins); ``"linear"``, multinomial logistic regression on the counts, each divided by
        the example's total spikes (:func:`~neurosim.spiking.readout.count_features`), fit
        on the labelling examples. Neither changes what the network learns.
    readout_C : float, default 10.0
        Inverse L2 strength of the linear readout (scikit-learn's ``C``; chosen on the
        validation split, see :data:`~neurosim.spiking.readout.DEFAULT_READOUT_C`).
    chunk_size : int, default 1000
        Presentation windows per compiled run; between chunks Python reads spike counts,
        updates ``history_`` and writes checkpoints.
    validation_interval : int, optional
        With ``X_val``/``y_val`` given to ``fit``, record validation accuracy every this many
        training examples (each costs a labelling and a validation pass).
    n_label_validation : int, default 1000
        Training examples (the first ones) that name the neurons for each validation point;
        the final assignment uses ``n_label``. Recorded in ``history_`` as ``val_n_label``.
    checkpoint : str or path-like, optional
        File to checkpoint training to (atomically, every ``checkpoint_interval`` examples and
        on Ctrl-C). If it exists when ``fit`` starts, training resumes from it.
    checkpoint_interval : int, default 5000
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default None
        Seed of initial weights, delays and all Poisson input; the seed used is ``seed_``.
        ``None`` draws a fresh seed; a ``RandomState`` or ``Generator`` gives one draw per
        fit (see :func:`neurosim.base.resolve_seed`).
    verbose : int, default 0
        Show a progress bar.
    n_jobs : int, optional
        Simulations run at the same time while evaluating (labelling, predicting, validation
        points); default: every core. Learning is sequential by nature and uses one.
    eval_copies : int, optional
        Copies of the frozen network simulated side by side in one evaluation run, each on
        its own examples (default: chosen per size, see :func:`default_eval_copies`). Neither
        this nor ``n_jobs`` changes which examples a run gets or its seed.

    Attributes
    ----------
    weights_ : ndarray of shape (n_features_in_, n_neurons)
        Input-to-excitatory weights.
    theta_ : ndarray of shape (n_neurons,)
        Adaptive threshold increments, in volts.
    assignments_ : ndarray of shape (n_neurons,)
        Class index per neuron, -1 if it never fired while labelling (set by either readout).
    readout_coef_, readout_intercept_ : ndarray of shape (n_classes, n_neurons), (n_classes,)
        The linear readout (only with ``readout="linear"``); scores are
        ``count_features(counts) @ readout_coef_.T + readout_intercept_``.
    history_ : list of ChunkRecord
        One record (a dict) per chunk: examples seen, wall time, retry fraction, spikes per
        example, theta range, and validation accuracy when measured.
    n_ops_per_sample_ : float
        Mean synaptic events per inference (measured while labelling, retries included).
    """

    op_kind = "synaptic event"
    uses_labels_for_learning = False
    _RESUME_FREE_PARAMS = (
        "checkpoint",
        "checkpoint_interval",
        "verbose",
        "max_iter",
        "n_jobs",
        "eval_copies",
        "readout",
        "readout_C",
    )
    _CHECKPOINT_KIND = "STDPNetwork-checkpoint"

    def __init__(
        self,
        n_neurons: int = 400,
        *,
        max_iter: int = 1,
        device: str = "cpp_standalone",
        preset: str = "default",
        input_delays: bool | None = None,
        params: dict | None = None,
        n_label: int | None = None,
        readout: str = "vote",
        readout_C: float = DEFAULT_READOUT_C,
        chunk_size: int = 1000,
        validation_interval: int | None = None,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_interval: int = 5000,
        random_state: RandomStateLike = None,
        verbose: int = 0,
        n_label_validation: int = DEFAULT_N_LABEL_VALIDATION,
        n_jobs: int | None = None,
        eval_copies: int | None = None,
    ) -> None:
        self.n_neurons = n_neurons
        self.max_iter = max_iter
        self.device = device
        self.preset = preset
        self.input_delays = input_delays
        self.params = params
        self.n_label = n_label
        self.readout = readout
        self.readout_C = readout_C
        self.chunk_size = chunk_size
        self.validation_interval = validation_interval
        self.checkpoint = checkpoint
        self.checkpoint_interval = checkpoint_interval
        self.random_state = random_state
        self.verbose = verbose
        self.n_label_validation = n_label_validation
        self.n_jobs = n_jobs
        self.eval_copies = eval_copies

    # -- configuration -----------------------------------------------------------------------
    def network_params(self) -> DiehlCookParams:
        """The constants used: the per-size preset with ``params`` overrides applied."""
        base = preset(self.n_neurons, self.preset)
        overrides = dict(self.params or {})
        unknown = set(overrides) - set(base.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown network parameters: {sorted(unknown)}")
        return base.replace(
            **{name: _parse_override(name, v, getattr(base, name)) for name, v in overrides.items()}
        )

    def _input_delays(self) -> bool:
        """Whether the input synapses have delays: ``input_delays``, or the preset's choice."""
        if self.input_delays is None:
            return self.preset == "original"
        return bool(self.input_delays)

    def _engine(
        self,
        record_neurons: tuple[int, ...] | None = None,
        windows: int | None = None,
        learning: bool = True,
    ) -> STDPEngine:
        """The engine for this configuration, shared by all models in the process.

        Sharing keeps one compiled build (and its private copy) per configuration.
        """
        copies = 1
        if not learning:
            copies = self.eval_copies or default_eval_copies(self.n_neurons)
        engine = STDPEngine(
            self.n_features_in_,
            self.n_neurons,
            self.network_params(),
            device=self.device,
            input_delays=self._input_delays(),
            chunk_windows=windows or self.chunk_size,
            record_neurons=record_neurons,
            learning=learning,
            copies=copies,
            pooled_inhibition=self.n_neurons > POOLED_INHIBITION_ABOVE,
        )
        return _ENGINES.setdefault((self.device, engine.build_key()), engine)

    def _check_params(self) -> None:
        if int(self.n_neurons) < 1:
            raise ValueError(f"n_neurons must be >= 1, got {self.n_neurons}")
        if int(self.max_iter) < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter}")
        require_device(self.device)
        self.network_params()  # an unknown preset or parameter fails here
        self._check_readout()
        for name in ("chunk_size", "n_label_validation", "n_jobs", "eval_copies"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")

    def _check_readout(self) -> None:
        if self.readout not in READOUTS:
            raise ValueError(
                f"readout must be one of {', '.join(map(repr, READOUTS))}, got {self.readout!r}"
            )
        C = self.readout_C
        if isinstance(C, bool) or not isinstance(C, numbers.Real) or not C > 0:
            raise ValueError(f"readout_C must be a positive number, got {C!r}")

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # inputs are firing rates: pixels in [0, 1]
        return tags

    # -- state -------------------------------------------------------------------------------
    def _initial_state(self) -> dict[str, np.ndarray]:
        p = self.network_params()
        rng = np.random.default_rng(self.seed_)
        n_in, n = self.n_features_in_, self.n_neurons
        state = {
            "w": (rng.random(n_in * n) + 0.01) * p.w_init_scale,
            "exc_v": np.full(n, float(p.v_rest_exc + p.v_init_offset)),
            "exc_theta": np.full(n, float(p.theta_init)),
            "inh_v": np.full(n, float(p.v_rest_inh + p.v_init_offset)),
        }
        for key in ("exc_ge", "exc_gi", "exc_post1", "exc_post2", "inh_ge", "inh_gi"):
            state[key] = np.zeros(n)
        if self._input_delays():
            state["delay"] = rng.random(n_in * n) * float(p.max_delay)
            state["syn_pre"] = np.zeros(n_in * n)
        else:
            state["input_pre"] = np.zeros(n_in)
        return state

    @property
    def weights_(self) -> np.ndarray:
        check_is_fitted(self, "state_")
        return self.state_["w"].reshape(self.n_features_in_, self.n_neurons)

    @property
    def theta_(self) -> np.ndarray:
        check_is_fitted(self, "state_")
        return self.state_["exc_theta"]

    def _chunk_seed(self, phase: int, *counters: int) -> int:
        entropy = [self.seed_, phase, *counters]
        return int(np.random.SeedSequence(entropy).generate_state(1)[0])

    # -- presenting data ---------------------------------------------------------------------
    def _learn(self, X, *, counter_start, intensity, on_chunk, desc) -> None:
        """Present every row of ``X`` once with learning on, chunk by chunk, from ``state_``.

        ``on_chunk(state, result, examples_done, chunk_counter)`` follows every chunk.
        """
        engine = self._engine()
        n = len(X)
        position, counter, state = 0, counter_start, self.state_
        with progress_bar(n, self.verbose, desc, unit="ex") as bar:
            while position < n:
                images = X[position : position + engine.chunk_windows]
                state, result, _ = engine.run_chunk(
                    state,
                    images,
                    intensity=intensity,
                    plastic=True,
                    seed=self._chunk_seed(_PHASE_TRAIN, counter),
                )
                position += result.n_completed
                intensity = result.next_intensity
                counter += 1
                bar.update(result.n_completed)
                logger.info(
                    "%s: %d/%d examples, %d windows in this chunk",
                    desc,
                    position,
                    n,
                    len(result.accepted),
                )
                on_chunk(state, result, position, counter)

    def _evaluate(self, X: np.ndarray, phase: int, desc: str):
        """Spike counts and tallies of every row of ``X`` with learning frozen.

        Batched copies of the frozen network, ``n_jobs`` runs at a time
        (:func:`~neurosim.spiking.engine.evaluate_frozen`).
        """
        with progress_bar(len(X), self.verbose, desc, unit="ex") as bar:
            counts, tallies = evaluate_frozen(
                self._engine(learning=False),
                self.state_,
                X,
                seed=lambda pass_index, run: self._chunk_seed(phase, pass_index, run),
                n_jobs=self.n_jobs or available_cores(),
                progress=bar.update,
            )
        logger.info("%s: %d examples, %d windows", desc, len(X), int(tallies["windows"].sum()))
        return counts, tallies

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, X_val: Any = None, y_val: Any = None) -> STDPNetwork:
        """Learn weights without labels, then assign neurons to classes with ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]
        y : array-like of shape (n_samples,)
            Used only to assign neurons to classes after learning.
        X_val, y_val : array-like, optional
            Validation data for ``history_`` (see ``validation_interval``).

        Returns
        -------
        self
        """
        self._check_params()
        X, y = self._validate_X_y(X, y, reset=True)
        y_index = self._encode_labels(y, reset=True)
        X = self._validate_pixels(X, reset=False)
        self._start_training()
        self._resume(X)
        self._train(X, X_val, y_val, y, base=0, target=int(self.max_iter) * len(X))
        self._label(X, y_index)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> STDPNetwork:
        """Continue learning for one pass over ``X``, then re-assign neurons with ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]
        y : array-like of shape (n_samples,)
        classes : array-like, optional
            All classes, required if the first batch lacks some; a later call's must be the
            same (``ValueError`` otherwise).

        Returns
        -------
        self
        """
        first_call = not hasattr(self, "state_")
        if first_call:
            self._check_params()
        X, y = self._validate_X_y(X, y, reset=first_call)
        if first_call:
            self._encode_labels(y, reset=True, classes=classes)
            self._start_training()
        X = self._validate_pixels(X, reset=False)
        y_index = self._encode_labels(y, reset=False, classes=classes)
        self._train(X, None, None, y, base=self.examples_seen_, target=self.examples_seen_ + len(X))
        self._label(X, y_index)
        return self

    def _start_training(self) -> None:
        """Fresh network and bookkeeping; the seed is drawn here when random_state is None."""
        self.seed_ = resolve_seed(self.random_state)
        self.state_ = self._initial_state()
        self.history_ = []
        self.examples_seen_ = 0
        self.n_chunks_ = 0
        self._train_seconds = 0.0
        self._intensity = self.network_params().intensity_start

    def _train(self, X, X_val, y_val, y, *, base: int, target: int) -> None:
        """Train on the stream X, X, ... (starting at stream index ``base``) until ``target``."""
        last_checkpoint = self.examples_seen_
        next_validation = self.validation_interval
        chunk_timer = time.perf_counter()

        def on_chunk(state, result, seen, counter):
            nonlocal last_checkpoint, next_validation, chunk_timer
            self.state_, self.examples_seen_, self.n_chunks_ = state, seen, counter
            self._intensity = result.next_intensity
            self._train_seconds += time.perf_counter() - chunk_timer
            totals = result.counts.sum(axis=1)
            spikes = totals[result.accepted]
            record = ChunkRecord(
                examples_seen=int(seen),
                wall_time=round(self._train_seconds, 3),
                windows=int(len(result.accepted)),
                retry_fraction=float(1 - result.accepted.mean()),
                spikes_per_example=float(spikes.mean()) if len(spikes) else 0.0,
                capped=int((spikes < self.network_params().min_spikes).sum()),
                theta_min_mV=float(state["exc_theta"].min() * 1e3),
                theta_mean_mV=float(state["exc_theta"].mean() * 1e3),
                theta_max_mV=float(state["exc_theta"].max() * 1e3),
                val_accuracy=None,
                val_n_label=None,
            )
            if X_val is not None and next_validation is not None and seen >= next_validation:
                accuracy, n_label = self._validation_score(X, y, X_val, y_val)
                record["val_accuracy"], record["val_n_label"] = accuracy, n_label
                next_validation += self.validation_interval
            self.history_.append(record)
            if self.checkpoint is not None and seen - last_checkpoint >= self.checkpoint_interval:
                self._write_checkpoint(X)
                last_checkpoint = seen
            chunk_timer = time.perf_counter()

        try:
            while self.examples_seen_ < target:
                start = self.examples_seen_
                position = (start - base) % len(X)
                stop = min(len(X), position + target - start)
                self._learn(
                    X[position:stop],
                    counter_start=self.n_chunks_,
                    intensity=self._intensity,
                    on_chunk=lambda s, r, p, c, o=start: on_chunk(s, r, o + p, c),
                    desc=f"STDP training (pass {(start - base) // len(X) + 1})",
                )
        except KeyboardInterrupt:
            if self.checkpoint is not None:
                self._write_checkpoint(X)
                logger.warning("interrupted; checkpoint written to %s", self.checkpoint)
            raise
        if self.checkpoint is not None:
            self._write_checkpoint(X)

    def _label(self, X: np.ndarray, y_index: np.ndarray, n_label: int | None = None) -> None:
        """Name each neuron's class from the first ``n_label`` (default ``self.n_label``) rows."""
        n_label = self.n_label if n_label is None else n_label
        if n_label is not None:
            X, y_index = X[:n_label], y_index[:n_label]
        counts, tallies = self._evaluate(X, _PHASE_LABEL, "assigning labels")
        self._fit_readout(counts, y_index)
        self.n_ops_per_sample_ = float(self._synaptic_events(tallies).mean())
        self.spikes_per_sample_ = float(counts.sum(axis=1).mean())

    def fit_readout(self, counts: np.ndarray, y: Any) -> STDPNetwork:
        """Name the neurons and fit the readout from spike counts already measured.

        What :meth:`fit` does after learning, without simulating: label a trained network
        from other examples, or from many subsets of examples simulated once (as
        ``studies.labels`` does). ``n_ops_per_sample_`` keeps its labelling-pass figure.

        Parameters
        ----------
        counts : ndarray of shape (n_samples, n_neurons)
            From :meth:`spike_counts`.
        y : array-like of shape (n_samples,)
            Labels among ``classes_``.

        Returns
        -------
        self
        """
        check_is_fitted(self, "state_")
        self._check_readout()
        counts = np.asarray(counts, dtype=np.float64)
        if counts.ndim != 2 or counts.shape[1] != self.n_neurons:
            raise ValueError(
                f"counts must have shape (n_samples, {self.n_neurons}), got {counts.shape}"
            )
        self._fit_readout(counts, self._encode_labels(y, reset=False))
        return self

    def _fit_readout(self, counts: np.ndarray, y_index: np.ndarray) -> None:
        """Assign the neurons and, for ``readout="linear"``, fit the logistic regression."""
        n_classes = len(self.classes_)
        self.assignments_ = assign_neurons(counts, y_index, n_classes)
        if self.readout == "linear":
            self.readout_coef_, self.readout_intercept_ = fit_logistic(
                count_features(counts), y_index, n_classes, C=float(self.readout_C)
            )
        else:  # a linear readout fit from earlier labels must not come back with readout="linear"
            vars(self).pop("readout_coef_", None)
            vars(self).pop("readout_intercept_", None)

    def _validation_score(self, X, y, X_val, y_val) -> tuple[float, int]:
        """Validation accuracy with neurons named from ``n_label_validation`` training rows."""
        n_label = min(len(X), int(self.n_label_validation))
        self._label(X, self._encode_labels(y, reset=False), n_label)
        return float(self.score(X_val, y_val)), n_label

    # -- checkpoints -------------------------------------------------------------------------
    def _write_checkpoint(self, X: np.ndarray) -> None:
        metadata = {
            "estimator": self._CHECKPOINT_KIND,
            **self._checkpoint_metadata(X),
            "seed": self.seed_,
            "examples_seen": int(self.examples_seen_),
            "n_chunks": int(self.n_chunks_),
            "intensity": self._intensity,
            "train_seconds": self._train_seconds,
            "history": self.history_,
        }
        save_arrays(self.checkpoint, self.state_, metadata)

    def _restore_checkpoint(self, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        for key, value in self.state_.items():
            if key not in arrays or arrays[key].shape != value.shape:
                raise ModelFileError(
                    f"checkpoint array {key} is missing or has the wrong shape; expected "
                    f"{value.shape}"
                )
        self.state_ = {key: arrays[key] for key in self.state_}
        self.seed_ = int(metadata["seed"])
        self.examples_seen_ = int(metadata["examples_seen"])
        self.n_chunks_ = int(metadata["n_chunks"])
        self._intensity = float(metadata["intensity"])
        self._train_seconds = float(metadata["train_seconds"])

    # -- inference ---------------------------------------------------------------------------
    def spike_counts(self, X: Any) -> np.ndarray:
        """Excitatory spike counts per example with learning frozen.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]

        Returns
        -------
        ndarray of shape (n_samples, n_neurons)
            Counts of the accepted presentation (after any re-presentations).
        """
        return self.layer_activity(X)["counts"]

    def layer_activity(self, X: Any) -> dict[str, np.ndarray]:
        """Spikes of every layer for each example, with learning frozen.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]

        Returns
        -------
        dict of str to ndarray
            ``counts`` (n_samples, n_neurons): excitatory spikes per neuron in the accepted
            presentation (what :meth:`predict` votes with); per example, over all of its
            windows (re-presentations included): ``input``, ``excitatory`` and ``inhibitory``
            spikes, ``windows`` and ``synaptic_events``; ``drawing_inputs``: its non-blank
            pixels (input neurons with a nonzero rate, the ones that draw random numbers).
        """
        check_is_fitted(self, "assignments_")
        X = self._validate_pixels(X, reset=False)
        counts, tallies = self._evaluate(X, _PHASE_PREDICT, "testing")
        return {
            "counts": counts,
            **tallies,
            "synaptic_events": self._synaptic_events(tallies),
            "drawing_inputs": (X > 0).sum(axis=1).astype(np.float64),
        }

    def _synaptic_events(self, tallies: dict[str, np.ndarray]) -> np.ndarray:
        """Synaptic events per example: each spike times its fan-out (input -> all N
        excitatory, excitatory -> its inhibitory partner, inhibitory -> the other N - 1)."""
        return (
            tallies["input"] * self.n_neurons
            + tallies["excitatory"]
            + tallies["inhibitory"] * (self.n_neurons - 1)
        )

    def decision_function(self, X: Any) -> np.ndarray:
        """Class scores under ``readout``: the mean spike count of the neurons assigned to each
        class ("vote"), or the logistic regression's logits ("linear").

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
            For two classes, the score difference ``s[:, 1] - s[:, 0]``: positive means
            ``classes_[1]`` (scikit-learn's binary convention).
        """
        scores = self._readout_scores(self.spike_counts(X))
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict_from_counts(self, counts: np.ndarray) -> np.ndarray:
        """Labels from spike counts already measured (by ``readout``), without simulating.

        ``predict(X)`` equals ``predict_from_counts(spike_counts(X))``; use this when the
        counts are needed too (activity statistics), so the images are simulated once.

        Parameters
        ----------
        counts : ndarray of shape (n_samples, n_neurons)
            From :meth:`spike_counts` or ``layer_activity(X)["counts"]``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        return self.classes_[np.argmax(self._readout_scores(counts), axis=1)]

    def _readout_scores(self, counts: np.ndarray) -> np.ndarray:
        """Class scores (n_samples, n_classes) of spike counts under ``readout``."""
        check_is_fitted(self, "assignments_")
        self._check_readout()
        if self.readout == "vote":
            return class_scores(counts, self.assignments_, len(self.classes_))
        coef, intercept = self._linear_readout()
        return linear_scores(count_features(counts), coef, intercept)

    def _linear_readout(self) -> tuple[np.ndarray, np.ndarray]:
        """``readout_coef_`` and ``readout_intercept_``; NotFittedError if not fitted."""
        if not hasattr(self, "readout_coef_"):
            raise NotFittedError(
                "the linear readout is not fitted (readout was set to 'linear' after fitting); "
                "call fit_readout(spike_counts(X), y) or fit with readout='linear'"
            )
        return self.readout_coef_, self.readout_intercept_

    def record_activity(self, X: Any, neurons: tuple[int, ...] = (0, 1, 2)) -> ActivityRecording:
        """Simulate a few examples (learning frozen) and return spikes and state traces.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]
            A few examples (each takes one or more 500 ms windows).
        neurons : tuple of int
            Excitatory neurons whose membrane potential and threshold are recorded.

        Returns
        -------
        ActivityRecording
        """
        check_is_fitted(self, "assignments_")
        X = self._validate_pixels(X, reset=False)
        p = self.network_params()
        engine = self._engine(record_neurons=tuple(int(i) for i in neurons), windows=4 * len(X))
        _, result, recording = engine.run_chunk(
            self.state_,
            X,
            intensity=p.intensity_start,
            plastic=False,
            seed=self._chunk_seed(_PHASE_PREDICT, 0),
        )
        window = float(p.presentation_time + p.rest_time)
        names = {"inp": "input", "exc": "excitatory", "inh": "inhibitory"}
        return ActivityRecording(
            spikes={names[k]: v for k, v in recording.spikes.items()},
            layer_sizes={
                "input": int(self.n_features_in_),
                "excitatory": self.n_neurons,
                "inhibitory": self.n_neurons,
            },
            windows=[
                (k * window, int(e), float(i), bool(a))
                for k, (e, i, a) in enumerate(
                    zip(result.example, result.intensity, result.accepted, strict=True)
                )
            ],
            window_s=window,
            presentation_s=float(p.presentation_time),
            dt_s=float(p.dt),
            trace_t=recording.state_t,
            v=recording.state["v"],
            theta=recording.state["theta"],
            neurons=np.asarray(recording.state_neurons),
            v_thresh=float(p.v_thresh_exc),
            theta_offset=float(p.theta_offset),
        )

    # -- persistence -------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {f"state_{key}": value for key, value in self.state_.items()}
        arrays["assignments_"] = self.assignments_
        if self.readout == "linear":
            arrays["readout_coef_"], arrays["readout_intercept_"] = self._linear_readout()
        attributes = {
            "seed_": self.seed_,
            "examples_seen_": int(self.examples_seen_),
            "n_chunks_": int(self.n_chunks_),
            "n_ops_per_sample_": self.n_ops_per_sample_,
            "spikes_per_sample_": self.spikes_per_sample_,
        }
        return arrays, attributes

    def _set_state(self, arrays: dict[str, np.ndarray], attributes: dict[str, Any]) -> None:
        self.seed_ = int(attributes["seed_"])
        self.state_ = self._initial_state()  # the expected keys and shapes
        for key, template in self.state_.items():
            stored = arrays.get(f"state_{key}")
            if stored is None or stored.shape != template.shape:
                raise ModelFileError(
                    f"model file array state_{key} is missing or has the wrong shape"
                )
            self.state_[key] = stored.astype(np.float64)
        assignments = arrays.get("assignments_")
        if assignments is None or assignments.shape != (self.n_neurons,):
            raise ModelFileError("model file array assignments_ is missing or has the wrong shape")
        self.assignments_ = assignments.astype(np.int64)
        if self.readout == "linear":
            n_classes = len(self.classes_)
            shapes = {
                "readout_coef_": (n_classes, self.n_neurons),
                "readout_intercept_": (n_classes,),
            }
            for name, shape in shapes.items():
                stored = arrays.get(name)
                if stored is None or stored.shape != shape:
                    raise ModelFileError(
                        f"model file array {name} (the linear readout) is missing or has the "
                        "wrong shape"
                    )
                setattr(self, name, stored.astype(np.float64))
        for name in ("examples_seen_", "n_chunks_", "n_ops_per_sample_", "spikes_per_sample_"):
            setattr(self, name, attributes[name])
        self._train_seconds = 0.0
        self._intensity = self.network_params().intensity_start
