"""The comparison of the two models: its presets, its trained models, how they are measured.

Studies that compare the rate-based MLP with the spiking network call these:

- :data:`COMPARISON_PRESETS` (:class:`ComparisonConfig`), :func:`comparison_splits`,
  :func:`comparison_models` and :func:`trained_models` give every study the comparison's
  models, trained once and then loaded from the model cache
  (:func:`neurosim.experiment.fit_or_load`); :func:`converted_model` converts the MLP into
  a spiking network (:class:`~neurosim.ConvertedSNN`), a third way to compare;
- :func:`evaluate` measures accuracy, inference time, activity, and operations and energy on
  every hardware profile that can run the model (:func:`profiles_for`);
- :func:`summary_row` turns all that into one row of the comparison table;
- :func:`record_activity` and :func:`measure_firing_statistics` look inside the trained
  spiking network.

Results are typed records (dataclasses); studies turn them into JSON when they write them.
The dataset, the splits and the model cache live in :mod:`neurosim.experiment`.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurosim.conversion import ConvertedSNN
from neurosim.energy import (
    PROFILES,
    ConvertedActivity,
    EnergyEstimate,
    SpikingActivity,
    estimate_model_energy,
)
from neurosim.experiment import Dataset, FitResult, Splits, fit_or_load, split_dataset
from neurosim.rate import RateMLP
from neurosim.spiking import STDPNetwork
from neurosim.spiking.network import ActivityRecording

__all__ = [
    "COMPARISON_PRESETS",
    "ComparisonConfig",
    "Evaluation",
    "FiringStatistics",
    "SummaryRow",
    "comparison_models",
    "comparison_splits",
    "converted_model",
    "curve_points",
    "evaluate",
    "hidden_activity",
    "measure_firing_statistics",
    "profiles_for",
    "record_activity",
    "stable_vote_times",
    "summary_row",
    "trained_models",
]

logger = logging.getLogger(__name__)


# -- the comparison's models, shared by every study --------------------------------------------
@dataclass(frozen=True)
class ComparisonConfig:
    """Sizes and settings of one comparison of the two models (see :data:`COMPARISON_PRESETS`).

    Attributes
    ----------
    mode : str
        Preset name ("full", "quick" or "tiny").
    n_train : int or None
        Training images of the spiking network and the first MLP (``None``: all).
    n_val : int
        Learning-curve validation images (0: no curves).
    val_from : {"train", "test"}
        Validation held out from the training split, or drawn from the test split (for
        monitoring only).
    n_test : int or None
        Test images (``None``: all).
    snn_neurons, snn_passes, snn_device, snn_chunk, snn_validation_interval, snn_n_label
        The spiking network's size, passes over the data, Brian2 device, chunk size, examples
        between learning-curve points (``None``: no curve) and labelling images (``None``:
        all training images).
    mlp_hidden, mlp_epochs : tuple of int, int
        The MLP's hidden layers and epochs.
    mlp_full_epochs : int or None
        Also train an MLP on the whole training split for this many epochs (``None``: no).
    record_examples : int
        Test images whose activity is recorded for the raster.
    record_device : str
        Brian2 device of that recording ("runtime": no compilation for a few windows).
    n_calibration : int
        Training images the converted MLP is calibrated on (:func:`converted_model`).
    conversion_device : str
        Brian2 device of the converted MLP.
    seed : int
    snn_params : dict or None
        Overrides of the network constants (``STDPNetwork(params=...)``).
    """

    mode: str
    n_train: int | None
    n_val: int
    val_from: str
    n_test: int | None
    snn_neurons: int
    snn_passes: int
    snn_device: str
    snn_chunk: int
    snn_validation_interval: int | None
    snn_n_label: int | None
    mlp_hidden: tuple[int, ...]
    mlp_epochs: int
    mlp_full_epochs: int | None
    record_examples: int
    record_device: str
    n_calibration: int
    conversion_device: str
    seed: int = 0
    snn_params: dict | None = None


COMPARISON_PRESETS = {
    # Diehl & Cook's setting: 400 neurons, one pass over all 60,000 images, labels assigned from
    # the training set, all 10,000 test images. Learning-curve points use 1,000 test images,
    # for monitoring only (nothing is selected with them).
    "full": ComparisonConfig(
        mode="full",
        n_train=None,
        n_val=1000,
        val_from="test",
        n_test=None,
        snn_neurons=400,
        snn_passes=1,
        snn_device="cpp_standalone",
        snn_chunk=1000,
        snn_validation_interval=20000,
        snn_n_label=10000,  # as the original code: responses to the last 10,000 examples
        mlp_hidden=(256,),
        mlp_epochs=20,
        mlp_full_epochs=None,
        record_examples=3,
        record_device="runtime",
        n_calibration=10000,  # as benchmarks/convert_accuracy.py
        conversion_device="cpp_standalone",
    ),
    # A few minutes on 2 cores: 100 neurons learn from 20,000 images (about two minutes), are
    # named from 10,000 of them and tested on all 10,000 test images (evaluation is batched).
    "quick": ComparisonConfig(
        mode="quick",
        n_train=20000,
        n_val=1000,
        val_from="train",
        n_test=None,
        snn_neurons=100,
        snn_passes=1,
        snn_device="cpp_standalone",
        snn_chunk=1000,
        snn_validation_interval=5000,
        snn_n_label=10000,  # as the original code: 10,000 labelled responses name the neurons
        mlp_hidden=(256,),
        mlp_epochs=10,
        mlp_full_epochs=3,
        record_examples=3,
        record_device="runtime",
        n_calibration=10000,
        conversion_device="cpp_standalone",
    ),
    # For tests: seconds, no compiler needed.
    "tiny": ComparisonConfig(
        mode="tiny",
        n_train=10,
        n_val=10,
        val_from="train",
        n_test=10,
        snn_neurons=10,
        snn_passes=1,
        snn_device="runtime",
        snn_chunk=10,
        snn_validation_interval=None,  # each validation relabels: too slow for tests
        snn_n_label=None,
        mlp_hidden=(32,),
        mlp_epochs=2,
        mlp_full_epochs=None,
        record_examples=2,
        record_device="runtime",
        n_calibration=10,  # all there are: a CalibrationWarning says that is few
        conversion_device="runtime",
    ),
}


def comparison_splits(config: ComparisonConfig, data: Dataset) -> Splits:
    """The comparison's seeded training subset, validation set and test subset of ``data``."""
    return split_dataset(
        data,
        n_train=config.n_train,
        n_val=config.n_val,
        n_test=config.n_test,
        seed=config.seed,
        val_from=config.val_from,
    )


def _mlp(config: ComparisonConfig, epochs: int) -> RateMLP:
    return RateMLP(
        hidden_layer_sizes=config.mlp_hidden,
        optimizer="adam",
        max_iter=epochs,
        batch_size=128,
        random_state=config.seed,
        verbose=1,
    )


def comparison_models(
    config: ComparisonConfig, n_train: int, n_full: int
) -> dict[str, tuple[RateMLP | STDPNetwork, str]]:
    """The comparison's unfitted models.

    Parameters
    ----------
    config : ComparisonConfig
    n_train, n_full : int
        Sizes of the training subset and of the whole training split (named in the MLPs'
        names; a second MLP trains on the whole split when ``config.mlp_full_epochs`` is set
        and the split is larger).

    Returns
    -------
    dict
        Model name -> (unfitted model, its training set: "subset" or "full").
    """
    hidden = "-".join(str(h) for h in config.mlp_hidden)
    snn = STDPNetwork(
        n_neurons=config.snn_neurons,
        max_iter=config.snn_passes,
        device=config.snn_device,
        chunk_size=config.snn_chunk,
        validation_interval=config.snn_validation_interval if config.n_val else None,
        n_label=config.snn_n_label,
        params=config.snn_params,
        random_state=config.seed,
        verbose=1,
    )
    models: dict[str, tuple[RateMLP | STDPNetwork, str]] = {
        f"STDP SNN N={config.snn_neurons}": (snn, "subset"),
        f"MLP 784-{hidden}-10 ({n_train:,} ex.)": (_mlp(config, config.mlp_epochs), "subset"),
    }
    if config.mlp_full_epochs and n_full > n_train:
        models[f"MLP 784-{hidden}-10 ({n_full:,} ex.)"] = (
            _mlp(config, config.mlp_full_epochs),
            "full",
        )
    return models


def trained_models(
    config: ComparisonConfig,
    splits: Splits,
    *,
    cache_dir: str | os.PathLike | None = Path("results/cache"),
    use_cache: bool = True,
    resume: bool = False,
) -> dict[str, FitResult]:
    """Train the comparison's models, or load them from the cache (see :func:`fit_or_load`).

    Every study that looks at the comparison's models calls this with the same configuration,
    so a model trained by one study is loaded by the next.

    Parameters
    ----------
    config : ComparisonConfig
    splits : Splits
        From :func:`comparison_splits`.
    cache_dir, use_cache, resume
        As for :func:`fit_or_load`.

    Returns
    -------
    dict
        Model name -> its fit, in the order of :func:`comparison_models`.
    """
    training_sets = {
        "subset": (splits.X_train, splits.y_train),
        "full": (splits.X_pool, splits.y_pool),
    }
    models = comparison_models(config, len(splits.X_train), len(splits.X_pool))
    trained = {}
    for name, (model, which) in models.items():
        X, y = training_sets[which]
        logger.info("%s: training on %s images ...", name, f"{len(X):,}")
        fit = fit_or_load(
            model,
            X,
            y,
            X_val=splits.X_val,
            y_val=splits.y_val,
            cache_dir=cache_dir,
            use_cache=use_cache,
            resume=resume,
        )
        build = f", engine build {fit.compile_seconds:.0f} s" if fit.compile_seconds else ""
        how = "loaded from cache" if fit.cached else "trained"
        logger.info("%s: %s (%.1f s%s)", name, how, fit.fit_seconds, build)
        trained[name] = fit
    return trained


def converted_model(
    config: ComparisonConfig, mlp_fit: FitResult, X_train: np.ndarray
) -> tuple[str, FitResult]:
    """The comparison's MLP converted into integrate-and-fire neurons.

    :meth:`ConvertedSNN.from_mlp <neurosim.ConvertedSNN.from_mlp>` with the library's default
    options (chosen on the validation split), calibrated on the first
    ``config.n_calibration`` training images, never on test images. Not cached: a conversion
    takes seconds once its engine is built (the build is cached on disk).

    Parameters
    ----------
    config : ComparisonConfig
    mlp_fit : FitResult
        A fitted ReLU :class:`~neurosim.RateMLP` (e.g. the first of :func:`trained_models`).
    X_train : ndarray
        The training images it learnt from.

    Returns
    -------
    name : str
        E.g. "converted SNN 784-256-10".
    fit : FitResult
        The converted network; ``n_train``: its calibration images; ``fit_seconds``: the
        conversion (normalisation and the run that measures its operations, with any build
        of its engine); ``cached``: whether the MLP came from the cache.
    """
    X_calibration = X_train[: config.n_calibration]
    start = time.perf_counter()
    snn = ConvertedSNN.from_mlp(
        mlp_fit.model,
        X_calibration,
        device=config.conversion_device,
        random_state=config.seed,
        verbose=1,
    )
    seconds = time.perf_counter() - start
    name = f"converted SNN {'-'.join(str(n) for n in snn.layer_sizes_)}"
    logger.info("%s: converted in %.1f s on %s images", name, seconds, f"{len(X_calibration):,}")
    fit = FitResult(
        model=snn,
        key=f"{mlp_fit.key}-converted",
        cached=mlp_fit.cached,
        n_train=len(X_calibration),
        fit_seconds=seconds,
    )
    return name, fit


# -- evaluation --------------------------------------------------------------------------------
def hidden_activity(model: Any, X: np.ndarray) -> float:
    """Mean fraction of a :class:`~neurosim.RateMLP`'s hidden units with a nonzero output.

    With ReLU units this is the share of units that are "on"; sigmoid and tanh units are
    almost never exactly zero.
    """
    layers = model.hidden_activations(X)
    total = sum(a.size for a in layers)
    return sum(np.count_nonzero(a) for a in layers) / total if total else float("nan")


def profiles_for(model: Any) -> list[str]:
    """The hardware profiles (:data:`neurosim.energy.PROFILES`) a model is priced on: the
    spiking networks on all of them (the converted one's input current on a conventional
    processor where the chip has no multiply-accumulates), the MLP on those that price
    multiply-accumulates."""
    spiking = isinstance(model, STDPNetwork | ConvertedSNN)
    return [
        name
        for name, profile in PROFILES.items()
        if spiking or "multiply-accumulate" in profile.figures
    ]


@dataclass
class Evaluation:
    """How a fitted model did on a test set (see :func:`evaluate`).

    Attributes
    ----------
    accuracy : float
    y_pred : ndarray
        Predicted labels.
    n_test : int
    predict_seconds, seconds_per_image : float
        Wall time of the predictions, in all and per image.
    energy : dict of str to EnergyEstimate
        Operations and energy per inference on each profile of :func:`profiles_for`
        (see :mod:`neurosim.energy`).
    learning_energy : dict of str to EnergyEstimate
        STDP network only: per learning example, on each profile that learns, with the
        test images' activity standing in for the activity while learning.
    active_fraction : float or None
        STDP network: share of excitatory neurons that fire for an image; MLP: share of
        nonzero hidden activations; converted network: None (its engine tallies spikes per
        layer, not per neuron).
    spikes_per_inference : float or None
        STDP network: excitatory spikes per image in the accepted presentation; converted
        network: spikes per image of its layers after the input (the output's only when it
        is read out by its spikes).
    counts : ndarray or None
        STDP network: excitatory spikes per image and neuron.
    activity : SpikingActivity or ConvertedActivity or None
        The spiking networks: mean spikes of each layer per image (and windows, for the
        STDP network), on the test images.
    """

    accuracy: float
    y_pred: np.ndarray
    n_test: int
    predict_seconds: float
    seconds_per_image: float
    energy: dict[str, EnergyEstimate]
    active_fraction: float | None
    learning_energy: dict[str, EnergyEstimate] = field(default_factory=dict)
    spikes_per_inference: float | None = None
    counts: np.ndarray | None = None
    activity: SpikingActivity | ConvertedActivity | None = None


def evaluate(model: Any, X: np.ndarray, y: np.ndarray) -> Evaluation:
    """Test a fitted model.

    The spiking networks simulate the test images once: their spikes give the predictions
    (:meth:`~neurosim.STDPNetwork.predict_from_counts`; the converted network's
    :meth:`~neurosim.ConvertedSNN.score_curve`), the activity figures and the operation
    counts their energy is estimated from.

    Parameters
    ----------
    model : RateMLP, STDPNetwork or ConvertedSNN
        Fitted (a ConvertedSNN: converted).
    X, y : ndarray
        Test images and labels.

    Returns
    -------
    Evaluation
    """
    start = time.perf_counter()
    counts = spikes = activity = None
    if isinstance(model, STDPNetwork):
        layers = model.layer_activity(X)
        counts = layers["counts"]
        y_pred = model.predict_from_counts(counts)
        seconds = time.perf_counter() - start
        spikes = float(counts.sum(axis=1).mean())
        active = float((counts > 0).mean())
        activity = SpikingActivity.from_layer_activity(model, layers)
    elif isinstance(model, ConvertedSNN):
        curve = model.score_curve(X, y)
        y_pred = curve.y_pred
        seconds = time.perf_counter() - start
        activity = ConvertedActivity.from_score_curve(model, curve)
        spikes = sum(n for layer, n in activity.spikes.items() if layer != "input")
        active = None
    else:
        y_pred = model.predict(X)
        seconds = time.perf_counter() - start
        active = hidden_activity(model, X)
    profiles = profiles_for(model)
    return Evaluation(
        accuracy=float(np.mean(y_pred == np.asarray(y))),
        y_pred=y_pred,
        n_test=len(X),
        predict_seconds=seconds,
        seconds_per_image=seconds / max(len(X), 1),
        energy={name: estimate_model_energy(model, name, activity=activity) for name in profiles},
        learning_energy={
            name: estimate_model_energy(model, name, activity=activity, learning=True)
            for name in profiles
            if isinstance(model, STDPNetwork) and PROFILES[name].learning
        },
        active_fraction=active,
        spikes_per_inference=spikes,
        counts=counts,
        activity=activity,
    )


def curve_points(history: list[Mapping[str, Any]]) -> dict[str, list[float]]:
    """The validation-accuracy records of a ``history_`` as three parallel lists."""
    records = [r for r in history if r.get("val_accuracy") is not None]
    return {
        "examples_seen": [int(r["examples_seen"]) for r in records],
        "wall_time": [float(r["wall_time"]) for r in records],
        "accuracy": [float(r["val_accuracy"]) for r in records],
    }


@dataclass
class SummaryRow:
    """One row of the comparison table (see :func:`summary_row`).

    Attributes
    ----------
    model, estimator : str
        Name shown in tables and figures; the estimator's class.
    accuracy : float
        Test accuracy (fraction) on ``n_test`` images.
    n_test, n_train : int
    train_seconds : float
        Wall time of ``fit`` (for the spiking network including its labelling and
        validation passes; for the converted network, its MLP's plus the conversion).
    learning_seconds : float or None
        Time of the learning itself, from ``history_`` (the converted network: its MLP's).
    compile_seconds : float or None
        One-off build of the spiking network's compiled engine.
    examples_seen : int or None
        Training presentations (epochs times images for the MLP and the MLP a network was
        converted from).
    inference_ms_per_image : float
        Wall time of a prediction on this machine (batched).
    ops_per_inference : float
        The model's headline operations, the sum of ``operations``.
    operations : dict of str to float
        Them by kind: multiply-accumulates (MLP), synaptic events of all pathways (spiking
        networks, measured on the test images), or both (the converted network's input
        current and its spikes).
    op_kind : str
        The model's own kind of operation ("multiply-accumulate" or "synaptic event").
    energy_j : dict of str to float
        Estimated energy per inference on each hardware profile it is priced on (joules).
    decision_latency_s : float or None
        Spiking networks: simulated time to the decision (the STDP network's presentation,
        after any rejected windows; the converted network's time steps); the MLP decides in
        one forward pass.
    spikes_per_inference : float or None
        Spiking networks only (see :attr:`Evaluation.spikes_per_inference`).
    active_fraction : float or None
        See :attr:`Evaluation.active_fraction`.
    labels_for_learning : str
        How the labels were used, in words.
    uses_labels_for_learning : bool
    cached : bool
        Loaded from the cache (its times are those of the run that trained it).
    conversion_seconds : float or None
        Converted network: the conversion's share of ``train_seconds``.
    n_calibration : int or None
        Converted network: the training images it was calibrated on (without labels).
    """

    model: str
    estimator: str
    accuracy: float
    n_test: int
    train_seconds: float
    learning_seconds: float | None
    compile_seconds: float | None
    n_train: int
    examples_seen: int | None
    inference_ms_per_image: float
    ops_per_inference: float
    operations: dict[str, float]
    op_kind: str
    energy_j: dict[str, float]
    decision_latency_s: float | None
    spikes_per_inference: float | None
    active_fraction: float | None
    labels_for_learning: str
    uses_labels_for_learning: bool
    cached: bool
    conversion_seconds: float | None = None
    n_calibration: int | None = None


def summary_row(
    name: str, fit: FitResult, evaluation: Evaluation, *, source: FitResult | None = None
) -> SummaryRow:
    """One row of the comparison table.

    Parameters
    ----------
    name : str
        Model name shown in tables and figures.
    fit : FitResult
    evaluation : Evaluation
        From :func:`evaluate`.
    source : FitResult, optional
        Required for a converted network (see :func:`converted_model`): the fit of the MLP
        it was converted from, whose training is its training.

    Returns
    -------
    SummaryRow

    Raises
    ------
    ValueError
        A converted network without its ``source``, or a ``source`` for another model.
    """
    model = fit.model
    converted = isinstance(model, ConvertedSNN)
    if converted != (source is not None):
        raise ValueError(
            "source (the fit of the MLP a ConvertedSNN was converted from) is required for a "
            f"ConvertedSNN and only for it; got {type(model).__name__} with source="
            f"{None if source is None else type(source.model).__name__}"
        )
    trained = source or fit  # whose training the row reports
    history = trained.model.history_
    n_train = trained.n_train
    supervised = bool(model.uses_labels_for_learning)
    n_label = getattr(model, "n_label", None)
    n_labelled = n_train if n_label is None else min(int(n_label), n_train)
    if converted:
        labels = (
            f"all {n_train:,} (backpropagation, in the MLP it was converted from); "
            f"{fit.n_train:,} training images without labels calibrate the conversion"
        )
    elif supervised:
        labels = f"all {n_train:,} (backpropagation)"
    else:
        labels = f"none (STDP); {n_labelled:,} used after learning to name neurons"
    cpu = evaluation.energy["cpu-45nm"]
    counted = {line.kind for line in cpu.lines}
    operations = {
        kind: cpu.count(kind)
        for kind in ("multiply-accumulate", "synaptic event")
        if kind in counted
    }
    return SummaryRow(
        model=name,
        estimator=type(model).__name__,
        accuracy=evaluation.accuracy,
        n_test=evaluation.n_test,
        train_seconds=trained.fit_seconds + (fit.fit_seconds if converted else 0.0),
        learning_seconds=float(history[-1]["wall_time"]) if history else None,
        compile_seconds=fit.compile_seconds,
        n_train=n_train,
        examples_seen=int(history[-1]["examples_seen"]) if history else None,
        inference_ms_per_image=1e3 * evaluation.seconds_per_image,
        ops_per_inference=sum(operations.values()),
        operations=operations,
        op_kind=model.op_kind,
        energy_j={name: estimate.energy_j for name, estimate in evaluation.energy.items()},
        decision_latency_s=(
            None if evaluation.activity is None else evaluation.activity.decision_latency_s
        ),
        spikes_per_inference=evaluation.spikes_per_inference,
        active_fraction=evaluation.active_fraction,
        labels_for_learning=labels,
        uses_labels_for_learning=supervised,
        cached=trained.cached,
        conversion_seconds=fit.fit_seconds if converted else None,
        n_calibration=fit.n_train if converted else None,
    )


# -- inside the spiking network ----------------------------------------------------------------
def record_activity(
    snn: STDPNetwork, X: np.ndarray, counts: np.ndarray, device: str = "runtime"
) -> ActivityRecording:
    """Spikes and membrane traces of a few images, tracing the neurons most active on them.

    Parameters
    ----------
    snn : STDPNetwork
        Fitted; left unchanged (the recording runs on a copy).
    X : ndarray
        A few images (each takes at least one 500 ms window).
    counts : ndarray of shape (len(X), n_neurons)
        Their excitatory spike counts (e.g. :attr:`Evaluation.counts`); the three neurons
        with the most spikes are traced.
    device : str, default "runtime"
        Brian2 device of the copy (the runtime device needs no compilation for a few windows).

    Returns
    -------
    ActivityRecording
    """
    recorder = copy.deepcopy(snn).set_params(device=device, verbose=0)
    most_active = np.argsort(-np.asarray(counts).sum(axis=0), kind="stable")
    neurons = tuple(int(i) for i in most_active[: min(3, snn.n_neurons)])
    return recorder.record_activity(X, neurons=neurons)


def stable_vote_times(snn: STDPNetwork, recording: ActivityRecording) -> list[float | None]:
    """When each recorded example's answer stopped changing, from its presentation's onset.

    The network's decision is read from the excitatory spikes of the accepted presentation;
    replaying them in time order, the vote after each spike is what the network would answer
    if the presentation stopped there. The answer is stable from the spike after which the
    vote no longer changes (its final vote, which a different Poisson draw than
    :meth:`~neurosim.STDPNetwork.predict`'s may make differ from the prediction).

    Parameters
    ----------
    snn : STDPNetwork
        The fitted network that was recorded (its readout casts the votes).
    recording : ActivityRecording
        From :func:`record_activity`.

    Returns
    -------
    list of float or None
        Seconds after the onset of each example's accepted presentation, in example order;
        ``None`` for an example without excitatory spikes in it.
    """
    times, neurons = recording.spikes["excitatory"]
    accepted = sorted((example, start) for start, example, _, ok in recording.windows if ok)
    stable: list[float | None] = []
    for _, start in accepted:
        inside = (times >= start) & (times < start + recording.presentation_s)
        order = np.argsort(times[inside], kind="stable")
        spike_t, spike_i = times[inside][order], neurons[inside][order].astype(np.int64)
        if not len(spike_t):
            stable.append(None)
            continue
        cumulative = np.zeros((len(spike_t), snn.n_neurons))
        cumulative[np.arange(len(spike_t)), spike_i] = 1.0
        votes = snn.predict_from_counts(np.cumsum(cumulative, axis=0))
        changed = np.flatnonzero(votes != votes[-1])
        first_stable = changed[-1] + 1 if len(changed) else 0
        stable.append(float(spike_t[first_stable] - start))
    return stable


@dataclass
class FiringStatistics:
    """How much each layer of a spiking network fires (see :func:`measure_firing_statistics`).

    Attributes
    ----------
    classes : list
        The classes present among the images.
    spikes_per_image : dict of str to list of float
        "input", "excitatory", "inhibitory" -> mean spikes per image of each class, over all
        windows (re-presentations included).
    neuron_rates_hz : list of float
        Mean firing rate of each excitatory neuron during the accepted presentations.
    windows_per_image : float
        Mean windows per image (1 + re-presentations).
    re_presented_fraction : float
        Share of images shown again at higher intensity.
    active_neuron_fraction : float
        Share of excitatory neurons that fire for an image.
    spikes_per_image_excitatory_accepted : float
        Excitatory spikes per image in the accepted presentation (what the vote counts).
    synaptic_events_per_image : float
    presentation_s : float
        Length of a presentation (s).
    """

    classes: list[Any]
    spikes_per_image: dict[str, list[float]]
    neuron_rates_hz: list[float]
    windows_per_image: float
    re_presented_fraction: float
    active_neuron_fraction: float
    spikes_per_image_excitatory_accepted: float
    synaptic_events_per_image: float
    presentation_s: float


def measure_firing_statistics(snn: STDPNetwork, X: np.ndarray, y: np.ndarray) -> FiringStatistics:
    """Simulate ``X`` with learning frozen and measure each layer's firing, by class.

    Parameters
    ----------
    snn : STDPNetwork
        Fitted.
    X, y : ndarray
        Images and their labels (the labels only group the statistics).

    Returns
    -------
    FiringStatistics
    """
    activity = snn.layer_activity(X)
    counts = activity["counts"]
    y = np.asarray(y)
    present = [c for c in snn.classes_ if np.any(y == c)]
    presentation_s = float(snn.network_params().presentation_time)
    return FiringStatistics(
        classes=[c.item() if hasattr(c, "item") else c for c in present],
        spikes_per_image={
            layer: [float(activity[layer][y == c].mean()) for c in present]
            for layer in ("input", "excitatory", "inhibitory")
        },
        neuron_rates_hz=(counts.mean(axis=0) / presentation_s).tolist(),
        windows_per_image=float(activity["windows"].mean()),
        re_presented_fraction=float(np.mean(activity["windows"] > 1)),
        active_neuron_fraction=float(np.mean(counts > 0)),
        spikes_per_image_excitatory_accepted=float(counts.sum(axis=1).mean()),
        synaptic_events_per_image=float(activity["synaptic_events"].mean()),
        presentation_s=presentation_s,
    )
