"""The interface both neuron models share.

:class:`NeuroClassifier` follows scikit-learn's estimator contract: ``__init__`` stores
hyperparameters only, ``fit`` learns attributes whose names end in ``_``, and the models work
with ``clone``, ``cross_val_score`` and pipelines. On top of that it gives both models the same

- validation of ``X`` and ``y`` at the API boundary,
- label encoding (any labels scikit-learn accepts, strings included),
- ``predict`` from per-class scores (:meth:`decision_function`),
- learning-curve records in ``history_`` (:class:`HistoryRecord`),
- seeds from ``random_state`` (:func:`resolve_seed`),
- operation counts per inference (``n_ops_per_sample_``, unit in ``op_kind``),
- safe model files: :meth:`save` / :meth:`load` (npz + JSON, no pickle),
- training checkpoints that resume only the run that wrote them.
"""

from __future__ import annotations

import json
import numbers
import os
import warnings
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self, TypedDict

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from neurosim.io import ModelFileError, fingerprint, load_arrays, save_arrays

__all__ = ["HistoryRecord", "NeuroClassifier", "RandomStateLike", "progress_bar", "resolve_seed"]

RandomStateLike = int | np.random.RandomState | np.random.Generator | None


class HistoryRecord(TypedDict):
    """The fields of a ``history_`` record that every model writes (learning curves read them).

    Each model's records extend it with fields of their own; all values are JSON-friendly,
    because ``history_`` is saved in model files.
    """

    examples_seen: int
    """Training examples presented so far (over all passes)."""
    wall_time: float
    """Seconds spent training so far (validation excluded)."""
    val_accuracy: float | None
    """Accuracy on the validation data, ``None`` when not measured for this record."""


def resolve_seed(random_state: RandomStateLike) -> int:
    """An integer seed in ``[0, 2**32)`` from a ``random_state`` parameter.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        ``None`` draws a fresh seed from the operating system's entropy; an int is the seed
        itself; a ``RandomState`` or ``Generator`` gives one draw (and so advances).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        For an int outside ``[0, 2**32)`` or an object of another type.
    """
    if random_state is None:
        return int(np.random.SeedSequence().entropy % 2**32)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if not 0 <= random_state < 2**32:
            raise ValueError(f"random_state must be in [0, 2**32), got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**32, dtype=np.uint64))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**32))
    raise ValueError(
        "random_state must be None, an int, a numpy.random.RandomState or a "
        f"numpy.random.Generator, got {random_state!r}"
    )


def progress_bar(total: int, verbose: int | bool, desc: str, unit: str = "it"):
    """A tqdm progress bar, shown exactly when ``verbose`` is truthy.

    ``tqdm.auto`` draws a widget in Jupyter and text on a terminal or in a log file.
    """
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not verbose,
        leave=False,
        dynamic_ncols=True,
    )


def _jsonable(name: str, value: Any) -> Any:
    """``value`` for a JSON file: paths as strings; None (with a warning) if not serialisable."""
    if isinstance(value, os.PathLike):
        return os.fsdecode(value)
    try:
        json.dumps(value)
    except TypeError:
        warnings.warn(
            f"parameter {name}={value!r} is not JSON-serialisable and is saved as None",
            stacklevel=3,
        )
        return None
    return value


class NeuroClassifier(ClassifierMixin, BaseEstimator):
    """Common base of :class:`~neurosim.RateMLP` and :class:`~neurosim.STDPNetwork`.

    Subclasses implement ``fit``, :meth:`decision_function`, ``_get_state``, ``_set_state``
    and ``_restore_checkpoint``; they set ``classes_``, ``history_`` and ``n_ops_per_sample_``
    when fitted.

    Attributes
    ----------
    op_kind : str
        What one counted operation is ("multiply-accumulate" or "synaptic event").
    uses_labels_for_learning : bool
        Whether training uses the labels to change weights (the MLP) or only to name neurons'
        classes afterwards (the STDP network).
    """

    op_kind: ClassVar[str]
    uses_labels_for_learning: ClassVar[bool]
    # Parameters that may differ between an interrupted run and the run resuming it.
    _RESUME_FREE_PARAMS: ClassVar[tuple[str, ...]] = ("checkpoint", "verbose")
    # The "estimator" entry of this model's checkpoint files.
    _CHECKPOINT_KIND: ClassVar[str]

    # -- validation --------------------------------------------------------------------------
    def _validate_X(self, X: Any, *, reset: bool) -> np.ndarray:
        """Check ``X`` is a finite, non-empty 2-D numeric array with the fitted feature count."""
        return validate_data(self, X, reset=reset, dtype=(np.float32, np.float64), order="C")

    def _validate_pixels(self, X: Any, *, reset: bool) -> np.ndarray:
        """:meth:`_validate_X`, and the values must be pixel intensities in [0, 1]."""
        X = self._validate_X(X, reset=reset)
        low, high = float(X.min()), float(X.max())
        if low < 0.0 or high > 1.0:
            problem = "Negative values in data" if low < 0.0 else "Values above 1 in data"
            hint = " (divide 0..255 pixels by 255)" if high <= 255.0 and low >= 0.0 else ""
            raise ValueError(
                f"{problem}: {type(self).__name__} expects pixel intensities in [0, 1]; got "
                f"values in [{low:g}, {high:g}]{hint}"
            )
        return X

    def _encode_labels(self, y: Any, *, reset: bool, classes: Any = None) -> np.ndarray:
        """Map labels to indices 0..n_classes-1, learning ``classes_`` when ``reset``.

        ``classes`` (every label, as ``partial_fit`` takes it) sets ``classes_`` when ``reset``;
        otherwise it must equal the ``classes_`` fixed before, or ``ValueError`` is raised.
        """
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be a 1-D array of class labels, got shape {y.shape}")
        check_classification_targets(y)
        if reset:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differs from the classes "
                f"{self.classes_.tolist()} fixed at the first call"
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y holds labels {unknown[:10].tolist()} that are not among the classes "
                f"{self.classes_.tolist()} fixed at the first fit/partial_fit; pass every "
                "class with classes=... on the first partial_fit call"
            )
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _validate_X_y(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """Validate ``X`` and turn ``y`` into a label vector of matching length."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X = self._validate_X(X, reset=reset)
        y_array = np.asarray(y)
        if y_array.ndim == 2 and y_array.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change the "
                "shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning,
                stacklevel=3,
            )
            y_array = y_array.ravel()
        if len(y_array) != len(X):
            raise ValueError(f"X has {len(X)} samples but y has {len(y_array)} labels")
        return X, y_array

    # -- prediction --------------------------------------------------------------------------
    @abstractmethod
    def decision_function(self, X: Any) -> np.ndarray:
        """Per-class scores (n_samples, n_classes), the highest wins; or, for two classes, one
        score per sample, positive for ``classes_[1]`` (scikit-learn's convention)."""

    def predict(self, X: Any) -> np.ndarray:
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        scores = self.decision_function(X)
        winners = (scores > 0).astype(np.int64) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[winners]

    # -- checkpoints -------------------------------------------------------------------------
    def _run_params(self) -> dict[str, Any]:
        """Parameters that must match for a checkpoint to be resumed."""
        return {
            name: _jsonable(name, value)
            for name, value in self.get_params().items()
            if name not in self._RESUME_FREE_PARAMS
        }

    def _checkpoint_metadata(self, X: np.ndarray) -> dict[str, Any]:
        """Entries a checkpoint must hold for :meth:`_resume` to accept it for training on X."""
        return {"run_params": self._run_params(), "data": fingerprint(X)}

    def _resume(self, X: np.ndarray) -> None:
        """Continue from ``checkpoint`` if that file exists.

        The file must be this model's kind of checkpoint, written by a run with the same
        parameters (but those in ``_RESUME_FREE_PARAMS``) on the same training data ``X``;
        ``history_`` comes from it, and the rest of the training state from
        :meth:`_restore_checkpoint`.

        Raises
        ------
        neurosim.io.ModelFileError
            A file of another kind, configuration or data, or a corrupt one.
        """
        if self.checkpoint is None or not Path(self.checkpoint).exists():
            return
        arrays, metadata = load_arrays(self.checkpoint)
        if metadata.get("estimator") != self._CHECKPOINT_KIND:
            raise ModelFileError(f"{self.checkpoint} is not a {type(self).__name__} checkpoint")
        if metadata.get("run_params") != json.loads(json.dumps(self._run_params())):
            raise ModelFileError(
                f"checkpoint {self.checkpoint} was written with other parameters; delete it or "
                "use the same configuration to resume"
            )
        if metadata.get("data") != fingerprint(X):
            raise ModelFileError(
                f"checkpoint {self.checkpoint} was written for other training data"
            )
        try:
            self.history_ = list(metadata["history"])
            self._restore_checkpoint(arrays, metadata)
        except (KeyError, TypeError, ValueError) as error:
            raise ModelFileError(
                f"checkpoint {self.checkpoint} lacks or garbles an entry: {error!r}"
            ) from error

    @abstractmethod
    def _restore_checkpoint(self, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        """Set the training state (all but ``history_``) from a checkpoint :meth:`_resume`
        has accepted; raise ``ModelFileError`` if it is inconsistent."""

    # -- persistence -------------------------------------------------------------------------
    @abstractmethod
    def _get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Learned arrays and JSON-serialisable learned attributes."""

    @abstractmethod
    def _set_state(self, arrays: dict[str, np.ndarray], attributes: dict[str, Any]) -> None:
        """Restore what :meth:`_get_state` returned; raise ``ModelFileError`` if inconsistent."""

    def save(self, path: str | os.PathLike, *, extra_metadata: dict | None = None) -> Path:
        """Save the fitted model atomically to an ``.npz`` file (no pickle).

        Parameters
        ----------
        path : str or path-like
        extra_metadata : dict, optional
            JSON-serialisable entries stored beside the model (e.g. checkpoint bookkeeping).

        Returns
        -------
        pathlib.Path
        """
        check_is_fitted(self)
        arrays, attributes = self._get_state()
        classes = np.asarray(self.classes_)
        if classes.dtype == object:
            classes = classes.astype(str)
        params = {name: _jsonable(name, value) for name, value in self.get_params().items()}
        metadata = {
            "estimator": type(self).__name__,
            "params": params,
            "n_features_in": int(self.n_features_in_),
            "history": self.history_,
            "attributes": attributes,
            **(extra_metadata or {}),
        }
        if hasattr(self, "feature_names_in_"):
            metadata["feature_names_in"] = [str(name) for name in self.feature_names_in_]
        return save_arrays(path, {**arrays, "classes_": classes}, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Self:
        """Load a model saved by :meth:`save`. Never executes code from the file.

        Hyperparameters come back as saved, except that JSON arrays become tuples (e.g.
        ``hidden_layer_sizes``) and paths become strings; ``feature_names_in_`` is restored
        when the model had it.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        NeuroClassifier
            The fitted model, of the class that ``load`` is called on.

        Raises
        ------
        neurosim.io.ModelFileError
            Corrupt, truncated, foreign or incompatible file.
        """
        arrays, metadata = load_arrays(path, required=("classes_",))
        if metadata.get("estimator") != cls.__name__:
            raise ModelFileError(
                f"{path} holds a {metadata.get('estimator')!r} model, not a {cls.__name__}"
            )
        try:
            params = metadata["params"]
            model = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
            model.classes_ = arrays.pop("classes_")
            model.n_features_in_ = int(metadata["n_features_in"])
            if "feature_names_in" in metadata:
                model.feature_names_in_ = np.asarray(metadata["feature_names_in"], dtype=object)
            model.history_ = list(metadata["history"])
            model._set_state(arrays, metadata["attributes"])
        except (KeyError, TypeError) as error:
            raise ModelFileError(f"{path} lacks or garbles a required entry: {error}") from error
        return model
