"""Building blocks of studies: choosing the dataset, caching trained models, evaluating them.

Studies in ``studies/`` stay short by calling these:

- :func:`load_dataset` picks MNIST, or falls back to scikit-learn's digits with a notice
  saying why, so that no result can be mistaken for an MNIST result;
- :func:`fit_or_load` trains a model or reuses the copy cached under a key made from its
  parameters, its training data and the model's source code;
- :func:`evaluate` measures accuracy, inference time, operations, energy and activity;
- :func:`summary_row` turns all that into one row of the comparison table;
- :data:`COMPARISON_PRESETS` and :func:`trained_models` give every study the comparison's
  models (trained once, then loaded from the cache);
- :func:`record_activity` and :func:`measure_firing_statistics` look inside the trained
  spiking network.

Results are typed records (dataclasses); studies turn them into JSON when they write them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split

import neurosim
from neurosim.data import (
    DatasetNotFoundError,
    load_digits_784,
    load_mnist,
    mnist_cache_dir,
    stratified_subset,
)
from neurosim.energy import EnergyEstimate, estimate_model_energy
from neurosim.io import ModelFileError, atomic_write, fingerprint
from neurosim.rate import RateMLP
from neurosim.spiking import STDPNetwork
from neurosim.spiking.network import ActivityRecording

__all__ = [
    "COMPARISON_PRESETS",
    "DATASET_CHOICES",
    "ComparisonConfig",
    "Dataset",
    "Evaluation",
    "FiringStatistics",
    "FitResult",
    "Splits",
    "SummaryRow",
    "cache_key",
    "comparison_models",
    "comparison_splits",
    "curve_points",
    "evaluate",
    "fit_or_load",
    "hidden_activity",
    "load_dataset",
    "measure_firing_statistics",
    "record_activity",
    "split_dataset",
    "split_holdout",
    "subset",
    "summary_row",
    "trained_models",
]

logger = logging.getLogger(__name__)

DATASET_CHOICES = ("auto", "mnist", "digits")
DIGITS_NAME = "scikit-learn digits (8x8, upsampled to 28x28) -- NOT MNIST"


@dataclass
class Dataset:
    """A train/test pair with where it came from.

    Attributes
    ----------
    key : {"mnist", "digits"}
    name : str
        Human-readable name (the digits' name says it is not MNIST).
    X_train, y_train, X_test, y_test : ndarray
    source : str
        Where the data was read from.
    notice : str or None
        Why the requested dataset was replaced, when it was.
    """

    key: str
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str
    notice: str | None = None

    def info(self) -> dict[str, Any]:
        """JSON-friendly description (sizes, source, notice), without the arrays."""
        return {
            "key": self.key,
            "name": self.name,
            "source": self.source,
            "notice": self.notice,
            "n_train_available": len(self.X_train),
            "n_test_available": len(self.X_test),
            "n_features": int(self.X_train.shape[1]),
            "classes": np.unique(self.y_train).tolist(),
            "pixel_range": [float(self.X_train.min()), float(self.X_train.max())],
        }


def _mnist_source(data_home: str | os.PathLike | None) -> str:
    searched = [str(data_home)] if data_home is not None else []
    if os.environ.get("NEUROSIM_DATA"):
        searched.append(f"NEUROSIM_DATA={os.environ['NEUROSIM_DATA']}")
    searched.append(f"user cache {mnist_cache_dir()}")
    return (
        "MNIST IDX files (SHA-256 verified) from the first of: "
        + ", ".join(searched)
        + " (downloaded into the user cache if none had them)"
    )


def _digits() -> Dataset:
    X_train, y_train = load_digits_784("train")
    X_test, y_test = load_digits_784("test")
    return Dataset(
        key="digits",
        name=DIGITS_NAME,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        source="sklearn.datasets.load_digits via neurosim.load_digits_784 (75/25 split, seed 0)",
    )


def load_dataset(
    choice: str = "auto",
    *,
    data_home: str | os.PathLike | None = None,
    download: bool = True,
    mnist_loader: Callable[..., tuple[np.ndarray, np.ndarray]] = load_mnist,
    **loader_kwargs: Any,
) -> Dataset:
    """Load the dataset of a study.

    Parameters
    ----------
    choice : {"auto", "mnist", "digits"}
        "mnist" loads MNIST or raises; "digits" loads scikit-learn's digits; "auto" tries
        MNIST and falls back to the digits, recording the reason in :attr:`Dataset.notice`.
    data_home : str or path-like, optional
        Folder with the MNIST files (see :func:`neurosim.load_mnist`).
    download : bool, default True
        Allow downloading MNIST.
    mnist_loader : callable, default :func:`neurosim.load_mnist`
        Called as ``mnist_loader(split, data_home, download=download, **loader_kwargs)``;
        replaceable, e.g. in tests.
    **loader_kwargs
        Passed on to ``mnist_loader`` (e.g. ``fetch=`` for :func:`neurosim.load_mnist`).

    Returns
    -------
    Dataset

    Raises
    ------
    neurosim.data.DatasetNotFoundError
        With ``choice="mnist"`` when MNIST is neither found nor downloadable.
    """
    if choice not in DATASET_CHOICES:
        raise ValueError(f"dataset must be one of {DATASET_CHOICES}, got {choice!r}")
    if choice == "digits":
        return _digits()
    try:
        X_train, y_train = mnist_loader("train", data_home, download=download, **loader_kwargs)
        X_test, y_test = mnist_loader("test", data_home, download=download, **loader_kwargs)
    except DatasetNotFoundError as error:
        if choice == "mnist":
            raise
        dataset = _digits()
        reason = str(error).splitlines()[0]
        dataset.notice = (
            f"MNIST is not available ({reason}), so this study used scikit-learn's 1,797 "
            "8x8 handwritten digits, upsampled to 28x28, instead. These results are NOT "
            "MNIST results. To use MNIST, put the four IDX files (gzipped or not) in a folder "
            "and set NEUROSIM_DATA=/that/folder (or pass data_home), or allow network access "
            "so they can be downloaded; then run with --dataset mnist, which never falls back."
        )
        logger.warning("%s", dataset.notice)
        return dataset
    return Dataset(
        key="mnist",
        name="MNIST",
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        source=_mnist_source(data_home),
    )


def subset(
    X: np.ndarray, y: np.ndarray, n: int | None, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded stratified subset of ``n`` examples, or everything when ``n`` is None or too big."""
    if n is None or n >= len(X):
        return X, y
    return stratified_subset(X, y, n_total=int(n), random_state=random_state)


def split_holdout(
    X: np.ndarray, y: np.ndarray, n_holdout: int, random_state: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out ``n_holdout`` seeded examples: returns ``X_rest, y_rest, X_out, y_out``.

    The split is stratified when ``n_holdout`` is at least the number of classes.
    """
    if n_holdout <= 0:
        return X, y, X[:0], y[:0]
    stratify = y if n_holdout >= len(np.unique(y)) else None
    X_rest, X_out, y_rest, y_out = train_test_split(
        X, y, test_size=int(n_holdout), stratify=stratify, random_state=random_state
    )
    return X_rest, y_rest, X_out, y_out


@dataclass
class Splits:
    """The images of one study: training subset, whole training pool, validation, test."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_pool: np.ndarray
    y_pool: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray

    def sizes(self) -> dict[str, int]:
        """How many images each part holds (``n_train_full``: the whole training pool)."""
        return {
            "n_train": len(self.X_train),
            "n_train_full": len(self.X_pool),
            "n_val": 0 if self.X_val is None else len(self.X_val),
            "n_test": len(self.X_test),
        }

    def arrays(self) -> dict[str, np.ndarray | None]:
        """Training, validation and test arrays by name (not the pool, which can be large)."""
        return dict(
            X_train=self.X_train,
            y_train=self.y_train,
            X_val=self.X_val,
            y_val=self.y_val,
            X_test=self.X_test,
            y_test=self.y_test,
        )


def split_dataset(
    data: Dataset,
    *,
    n_train: int | None,
    n_val: int,
    n_test: int | None,
    seed: int,
    val_from: str = "train",
) -> Splits:
    """Seeded splits of ``data`` for a study.

    The validation images (at most a fifth of the training split; none when ``n_val`` is 0)
    are held out from the training split (``val_from="train"``) or drawn from the test split
    for monitoring only (``"test"``); the training subset of ``n_train`` images (``None``:
    all) and the test subset of ``n_test`` images are stratified.
    """
    if val_from not in ("train", "test"):
        raise ValueError(f"val_from must be 'train' or 'test', got {val_from!r}")
    X_pool, y_pool = data.X_train, data.y_train
    X_test, y_test = subset(data.X_test, data.y_test, n_test, seed)
    n_val = min(n_val, len(X_pool) // 5) if n_val else 0
    X_val = y_val = None
    if n_val and val_from == "train":
        X_pool, y_pool, X_val, y_val = split_holdout(X_pool, y_pool, n_val, seed)
    elif n_val:
        X_val, y_val = subset(data.X_test, data.y_test, n_val, seed + 1)
    X_train, y_train = subset(X_pool, y_pool, n_train, seed)
    return Splits(X_train, y_train, X_pool, y_pool, X_val, y_val, X_test, y_test)


# -- model cache -------------------------------------------------------------------------------
_UNCACHED_PARAMS = ("verbose", "checkpoint")


def _code_fingerprint(model: Any) -> str:
    """Hash of the source files of the model's subpackage (e.g. all of neurosim/spiking/)."""
    module = sys.modules[type(model).__module__]
    folder = Path(module.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_description(model, X, y, X_val, y_val) -> dict[str, Any]:
    params = {k: v for k, v in model.get_params().items() if k not in _UNCACHED_PARAMS}
    return {
        "estimator": type(model).__name__,
        "params": json.loads(json.dumps(params, default=repr)),
        "train_data": fingerprint(X, y),
        "n_train": len(X),
        "validation_data": None if X_val is None else fingerprint(X_val, y_val),
        "code": _code_fingerprint(model),
        "neurosim": neurosim.__version__,
    }


def cache_key(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
) -> str:
    """Key of a trained model: its class and parameters (but not ``verbose``), the training
    and validation data (so dataset, subset and seed), and the source of its subpackage."""
    description = _cache_description(model, X, y, X_val, y_val)
    text = json.dumps(description, sort_keys=True)
    return f"{description['estimator']}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


@dataclass
class FitResult:
    """A fitted model and how it was obtained.

    Attributes
    ----------
    model : estimator
    key : str
        Cache key (see :func:`cache_key`).
    cached : bool
        Loaded from the cache instead of trained now.
    n_train : int
        Size of the training set.
    fit_seconds : float
        Wall time of ``fit`` when it was trained (from the cache's record when loaded), without
        the one-off compilation of the spiking network's engine.
    compile_seconds : float or None
        Time to build (or load from the disk cache) the compiled engine, when one was needed.
    path : pathlib.Path or None
        Cached model file.
    """

    model: Any
    key: str
    cached: bool
    n_train: int
    fit_seconds: float
    compile_seconds: float | None = None
    path: Path | None = None
    record: dict[str, Any] = field(default_factory=dict)


def _warm_up(model: Any, X: np.ndarray, y: np.ndarray) -> float | None:
    """Build the spiking network's compiled engine before timing ``fit``.

    The engine is shared by all models with the same configuration in a process, so fitting a
    throw-away copy on one example compiles (or loads) it; returns the seconds that took.
    """
    if getattr(model, "device", None) not in ("cpp_standalone", "cuda_standalone"):
        return None
    scratch = clone(model).set_params(
        verbose=0, validation_interval=None, checkpoint=None, n_label=None
    )
    start = time.perf_counter()
    scratch.fit(X[:1], y[:1])
    return time.perf_counter() - start


def fit_or_load(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    *,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    resume: bool = False,
) -> FitResult:
    """Fit ``model`` on ``(X, y)``, or load the cached copy trained under the same key.

    Parameters
    ----------
    model : RateMLP or STDPNetwork
        Unfitted; its parameters define the configuration.
    X, y : ndarray
        Training data.
    X_val, y_val : ndarray, optional
        Validation data for the learning curve in ``history_``.
    cache_dir : str or path-like, optional
        Folder of cached models (``<key>.npz`` plus ``<key>.json`` with timings). ``None``
        disables caching.
    use_cache : bool, default True
        ``False`` retrains and overwrites the cached copy.
    resume : bool, default False
        Train with a checkpoint ``<key>.ckpt.npz`` in ``cache_dir``: an interrupted run
        (Ctrl-C, a killed process) continues from it when called again with ``resume=True``.

    Returns
    -------
    FitResult
    """
    key = cache_key(model, X, y, X_val, y_val)
    path = record_path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{key}.npz"
        record_path = path.with_suffix(".json")
        if use_cache and path.exists() and record_path.exists():
            try:
                loaded = type(model).load(path)
                record = json.loads(record_path.read_text())
                loaded.set_params(verbose=model.verbose)
                logger.info("loaded cached %s from %s", type(model).__name__, path)
                return FitResult(
                    model=loaded,
                    key=key,
                    cached=True,
                    n_train=len(X),
                    fit_seconds=float(record["fit_seconds"]),
                    compile_seconds=record.get("compile_seconds"),
                    path=path,
                    record=record,
                )
            except (ModelFileError, KeyError, ValueError, OSError) as error:
                logger.warning("ignoring unreadable cached model %s: %s", path, error)

    checkpoint, callers_checkpoint = None, model.checkpoint
    if resume and cache_dir is not None:
        checkpoint = Path(cache_dir) / f"{key}.ckpt.npz"
        model.set_params(checkpoint=checkpoint)
    compile_seconds = _warm_up(model, X, y)
    start = time.perf_counter()
    if X_val is not None and len(X_val):
        model.fit(X, y, X_val=X_val, y_val=y_val)
    else:
        model.fit(X, y)
    fit_seconds = time.perf_counter() - start
    record = {
        "key": key,
        "description": _cache_description(model, X, y, X_val, y_val),
        "fit_seconds": fit_seconds,
        "compile_seconds": compile_seconds,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if checkpoint is not None:
        model.set_params(checkpoint=callers_checkpoint)
    if path is not None:
        model.save(path)
        text = json.dumps(record, indent=2).encode()
        atomic_write(record_path, lambda handle: handle.write(text))
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)  # the finished model supersedes it
    return FitResult(
        model=model,
        key=key,
        cached=False,
        n_train=len(X),
        fit_seconds=fit_seconds,
        compile_seconds=compile_seconds,
        path=path,
        record=record,
    )


# -- evaluation --------------------------------------------------------------------------------
def hidden_activity(model: Any, X: np.ndarray) -> float:
    """Mean fraction of a :class:`~neurosim.RateMLP`'s hidden units with a nonzero output.

    With ReLU units this is the share of units that are "on"; sigmoid and tanh units are
    almost never exactly zero.
    """
    layers = model.hidden_activations(X)
    total = sum(a.size for a in layers)
    return sum(np.count_nonzero(a) for a in layers) / total if total else float("nan")


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
    energy : EnergyEstimate
        Operations and energy per inference (see :mod:`neurosim.energy`).
    active_fraction : float
        Spiking network: share of excitatory neurons that fire for an image; MLP: share of
        nonzero hidden activations.
    spikes_per_inference : float or None
        Excitatory spikes per image (spiking network only).
    counts : ndarray or None
        Spiking network: excitatory spikes per image and neuron.
    """

    accuracy: float
    y_pred: np.ndarray
    n_test: int
    predict_seconds: float
    seconds_per_image: float
    energy: EnergyEstimate
    active_fraction: float
    spikes_per_inference: float | None = None
    counts: np.ndarray | None = None


def evaluate(model: Any, X: np.ndarray, y: np.ndarray) -> Evaluation:
    """Test a fitted model.

    The spiking network simulates the test images once: its spike counts give both the
    predictions (:meth:`~neurosim.STDPNetwork.predict_from_counts`) and the activity figures.

    Parameters
    ----------
    model : RateMLP or STDPNetwork
        Fitted.
    X, y : ndarray
        Test images and labels.

    Returns
    -------
    Evaluation
    """
    start = time.perf_counter()
    counts = spikes = None
    if isinstance(model, STDPNetwork):
        counts = model.spike_counts(X)
        y_pred = model.predict_from_counts(counts)
        seconds = time.perf_counter() - start
        spikes = float(counts.sum(axis=1).mean())
        active = float((counts > 0).mean())
    else:
        y_pred = model.predict(X)
        seconds = time.perf_counter() - start
        active = hidden_activity(model, X)
    return Evaluation(
        accuracy=float(np.mean(y_pred == np.asarray(y))),
        y_pred=y_pred,
        n_test=len(X),
        predict_seconds=seconds,
        seconds_per_image=seconds / max(len(X), 1),
        energy=estimate_model_energy(model),
        active_fraction=active,
        spikes_per_inference=spikes,
        counts=counts,
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
        validation passes).
    learning_seconds : float or None
        Time of the learning itself, from ``history_``.
    compile_seconds : float or None
        One-off build of the spiking network's compiled engine.
    examples_seen : int or None
        Training presentations (epochs times images for the MLP).
    inference_ms_per_image, ops_per_inference, pj_per_op, energy_per_inference_j : float
    op_kind : str
        What one operation is ("multiply-accumulate" or "synaptic event").
    spikes_per_inference : float or None
        Spiking network only.
    active_fraction : float
        See :attr:`Evaluation.active_fraction`.
    labels_for_learning : str
        How the labels were used, in words.
    uses_labels_for_learning : bool
    cached : bool
        Loaded from the cache (its times are those of the run that trained it).
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
    op_kind: str
    pj_per_op: float
    energy_per_inference_j: float
    spikes_per_inference: float | None
    active_fraction: float
    labels_for_learning: str
    uses_labels_for_learning: bool
    cached: bool


def summary_row(name: str, fit: FitResult, evaluation: Evaluation) -> SummaryRow:
    """One row of the comparison table.

    Parameters
    ----------
    name : str
        Model name shown in tables and figures.
    fit : FitResult
    evaluation : Evaluation
        From :func:`evaluate`.

    Returns
    -------
    SummaryRow
    """
    model = fit.model
    history = model.history_
    n_train = fit.n_train
    supervised = bool(model.uses_labels_for_learning)
    n_label = getattr(model, "n_label", None)
    n_labelled = n_train if n_label is None else min(int(n_label), n_train)
    return SummaryRow(
        model=name,
        estimator=type(model).__name__,
        accuracy=evaluation.accuracy,
        n_test=evaluation.n_test,
        train_seconds=fit.fit_seconds,
        learning_seconds=float(history[-1]["wall_time"]) if history else None,
        compile_seconds=fit.compile_seconds,
        n_train=n_train,
        examples_seen=int(history[-1]["examples_seen"]) if history else None,
        inference_ms_per_image=1e3 * evaluation.seconds_per_image,
        ops_per_inference=evaluation.energy.ops_per_inference,
        op_kind=evaluation.energy.op_kind,
        pj_per_op=evaluation.energy.pj_per_op,
        energy_per_inference_j=evaluation.energy.energy_j,
        spikes_per_inference=evaluation.spikes_per_inference,
        active_fraction=evaluation.active_fraction,
        labels_for_learning=(
            f"all {n_train:,} (backpropagation)"
            if supervised
            else f"none (STDP); {n_labelled:,} used after learning to name neurons"
        ),
        uses_labels_for_learning=supervised,
        cached=fit.cached,
    )


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
    ),
    "quick": ComparisonConfig(
        mode="quick",
        n_train=3000,
        n_val=500,
        val_from="train",
        n_test=1000,
        snn_neurons=100,
        snn_passes=1,
        snn_device="cpp_standalone",
        snn_chunk=1000,
        snn_validation_interval=1000,
        snn_n_label=None,
        mlp_hidden=(256,),
        mlp_epochs=10,
        mlp_full_epochs=3,
        record_examples=3,
        record_device="runtime",
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
