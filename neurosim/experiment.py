"""The validation protocol of studies: choosing the dataset, splitting it, caching trained models.

Studies in ``studies/`` stay short by calling these:

- :func:`load_dataset` picks MNIST, or falls back to scikit-learn's digits with a notice
  saying why, so that no result can be mistaken for an MNIST result;
- :func:`split_dataset` makes the seeded training, validation and test splits (:class:`Splits`);
- :func:`fit_or_load` trains a model or reuses the copy cached under a key made from its
  parameters, its training data and the model's source code (:func:`cache_key`,
  :class:`FitResult`).

How the two models are compared (presets, evaluation, summaries, firing statistics) is in
:mod:`neurosim.comparison`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
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
from neurosim.io import ModelFileError, atomic_write, fingerprint

__all__ = [
    "DATASET_CHOICES",
    "Dataset",
    "FitResult",
    "Splits",
    "cache_key",
    "fit_or_load",
    "load_dataset",
    "split_dataset",
    "validation_split",
    "split_holdout",
    "subset",
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


def _digits_instead_of_mnist(error: DatasetNotFoundError) -> Dataset:
    """The digits, with a notice (also logged) saying why MNIST was not used and how to get it."""
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
        return _digits_instead_of_mnist(error)
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


# The validation protocol (README, "Validation protocol"): one seeded, stratified split of the
# 60,000 MNIST training images into 50,000 for learning and 10,000 for validation. Every
# choice (a preset, a schedule, an integration method, a readout) is made on validation; the
# test images are used once, for final figures.
VALIDATION_SIZE = 10_000
VALIDATION_SEED = 0


def validation_split(
    X: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The protocol's split of training images: ``X_learn, y_learn, X_val, y_val``.

    On MNIST's 60,000 training images: 50,000 for learning, 10,000 for validation
    (stratified, seed :data:`VALIDATION_SEED`), the same for every benchmark and study.
    """
    return split_holdout(X, y, VALIDATION_SIZE, VALIDATION_SEED)


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

    Its steps (cache lookup, timed fit, record, store) are helpers; what is left is the
    numpydoc docstring and the order of those steps, which reads best in one place.

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
    path = None if cache_dir is None else Path(cache_dir) / f"{key}.npz"
    if use_cache and path is not None:
        cached = _load_cached(model, key, path, n_train=len(X))
        if cached is not None:
            return cached
    checkpoint = None
    if resume and cache_dir is not None:
        checkpoint = Path(cache_dir) / f"{key}.ckpt.npz"
    compile_seconds, fit_seconds = _timed_fit(model, X, y, X_val, y_val, checkpoint)
    record = {
        "key": key,
        "description": _cache_description(model, X, y, X_val, y_val),
        "fit_seconds": fit_seconds,
        "compile_seconds": compile_seconds,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if path is not None:
        _store(model, path, record)
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


def _load_cached(model: Any, key: str, path: Path, n_train: int) -> FitResult | None:
    """The fit cached at ``path`` (model file plus ``.json`` record with its timings).

    ``None`` when there is none, or when it cannot be read (then it is retrained and replaced).
    """
    record_path = path.with_suffix(".json")
    if not (path.exists() and record_path.exists()):
        return None
    try:
        loaded = type(model).load(path)
        record = json.loads(record_path.read_text())
        loaded.set_params(verbose=model.verbose)
        logger.info("loaded cached %s from %s", type(model).__name__, path)
        return FitResult(
            model=loaded,
            key=key,
            cached=True,
            n_train=n_train,
            fit_seconds=float(record["fit_seconds"]),
            compile_seconds=record.get("compile_seconds"),
            path=path,
            record=record,
        )
    except (ModelFileError, KeyError, ValueError, OSError) as error:
        logger.warning("ignoring unreadable cached model %s: %s", path, error)
        return None


def _timed_fit(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray | None,
    y_val: np.ndarray | None,
    checkpoint: Path | None,
) -> tuple[float | None, float]:
    """Fit ``model``, checkpointing to ``checkpoint`` (when given) while it trains.

    Returns the seconds of the compiled engine's build (``None``: none needed) and of ``fit``.
    The caller's own ``checkpoint`` parameter is restored once the model has trained.
    """
    callers_checkpoint = model.checkpoint
    if checkpoint is not None:
        model.set_params(checkpoint=checkpoint)
    compile_seconds = _warm_up(model, X, y)
    start = time.perf_counter()
    if X_val is not None and len(X_val):
        model.fit(X, y, X_val=X_val, y_val=y_val)
    else:
        model.fit(X, y)
    fit_seconds = time.perf_counter() - start
    if checkpoint is not None:
        model.set_params(checkpoint=callers_checkpoint)
    return compile_seconds, fit_seconds


def _store(model: Any, path: Path, record: dict[str, Any]) -> None:
    """Write the fitted model to ``path`` and its record (key, timings) beside it as JSON."""
    model.save(path)
    text = json.dumps(record, indent=2).encode()
    atomic_write(path.with_suffix(".json"), lambda handle: handle.write(text))
