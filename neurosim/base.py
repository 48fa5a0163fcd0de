"""The interface both neuron models share.

:class:`NeuroClassifier` follows scikit-learn's estimator contract: ``__init__`` stores
hyperparameters only, ``fit`` learns attributes whose names end in ``_``, and the models work
with ``clone``, ``cross_val_score`` and pipelines. On top of that it gives both models the same

- validation of ``X`` and ``y`` at the API boundary,
- label encoding (any labels scikit-learn accepts, strings included),
- ``predict`` from per-class scores (:meth:`decision_function`),
- learning-curve records in ``history_``,
- operation counts per inference (``n_ops_per_sample_``, unit in ``op_kind``),
- safe model files: :meth:`save` / :meth:`load` (npz + JSON, no pickle).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from neurosim.io import ModelFileError, fingerprint, load_arrays, save_arrays

__all__ = ["NeuroClassifier", "progress_bar"]


def progress_bar(total: int, verbose: int | bool, desc: str, unit: str = "it"):
    """A tqdm progress bar, silent when ``verbose`` is falsy or stderr is not a terminal."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not verbose or not sys.stderr.isatty(),
        leave=False,
        dynamic_ncols=True,
    )


def _jsonable(name: str, value: Any) -> Any:
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

    Subclasses implement ``fit``, :meth:`decision_function`, ``_get_state`` and
    ``_set_state``; they set ``classes_``, ``history_`` and ``n_ops_per_sample_`` when fitted.

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

    # -- validation --------------------------------------------------------------------------
    def _validate_X(self, X: Any, *, reset: bool) -> np.ndarray:
        """Check ``X`` is a finite, non-empty 2-D numeric array with the fitted feature count."""
        return validate_data(self, X, reset=reset, dtype=(np.float32, np.float64), order="C")

    def _encode_labels(self, y: Any, *, reset: bool, classes: Any = None) -> np.ndarray:
        """Map labels to indices 0..n_classes-1, learning ``classes_`` when ``reset``."""
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be a 1-D array of class labels, got shape {y.shape}")
        check_classification_targets(y)
        if reset:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
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

    def _check_checkpoint(self, metadata: dict[str, Any], X: np.ndarray) -> None:
        """Refuse a checkpoint written by another configuration or for other data."""
        if metadata.get("run_params") != json.loads(json.dumps(self._run_params())):
            raise ModelFileError(
                f"checkpoint {self.checkpoint} was written with other parameters; delete it or "
                "use the same configuration to resume"
            )
        if metadata.get("data") != fingerprint(X):
            raise ModelFileError(
                f"checkpoint {self.checkpoint} was written for other training data"
            )

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
        return save_arrays(path, {**arrays, "classes_": classes}, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Self:
        """Load a model saved by :meth:`save`. Never executes code from the file.

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
            model = cls(**metadata["params"])
            model.classes_ = arrays.pop("classes_")
            model.n_features_in_ = int(metadata["n_features_in"])
            model.history_ = list(metadata["history"])
            model._set_state(arrays, metadata["attributes"])
        except (KeyError, TypeError) as error:
            raise ModelFileError(f"{path} lacks or garbles a required entry: {error}") from error
        return model
