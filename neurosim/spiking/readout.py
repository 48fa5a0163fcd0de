"""Readouts of the spike counts: Diehl & Cook's (2015) vote and a linear readout.

Labels never change the network's weights. After learning, the labelling examples' spike
counts either

- name each excitatory neuron after the class to which it responded most (mean spike count),
  and an input is classified by the class whose named neurons fire most on average
  (``"vote"``, the paper's rule: :func:`assign_neurons`, :func:`class_scores`); or
- fit a multinomial logistic regression on the counts (``"linear"``, as BindsNET's
  logistic-regression readout: :func:`count_features`, :func:`fit_logistic`,
  :func:`linear_scores`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = [
    "DEFAULT_READOUT_C",
    "READOUTS",
    "assign_neurons",
    "class_scores",
    "count_features",
    "fit_logistic",
    "fit_logistic_path",
    "linear_scores",
]

READOUTS = ("vote", "linear")

# Inverse L2 strength of the linear readout on count_features. Chosen on the validation split
# (experiment.validation_split) and re-checked on networks that learnt from the learning split
# only (benchmarks/snn_readout_c.py; benchmarks/RESULTS.md, "The linear readout's C"): fit on
# 10,000 learning images, scored on the 10,000 validation images, C = 0.1 / 1 / 3 / 10 / 30 /
# 100 gave 86.70 / 87.46 / 87.77 / 87.96 / 87.96 / 87.96 % at N=100 (vote 84.65 %) and 92.29 /
# 93.00 / 93.25 / 93.44 / 93.44 / 93.35 % at N=400 (vote 92.18 %). With 1,000 labels C = 3-10
# is best; with 100, smaller C (or the vote, at N=400) is better: studies.labels chooses C per
# draw. Raw, log1p and standardised counts did no better at their best C.
DEFAULT_READOUT_C = 10.0


def assign_neurons(counts: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Assign each neuron the class with its highest mean response.

    Parameters
    ----------
    counts : ndarray of shape (n_examples, n_neurons)
        Spikes per neuron for each labelling example.
    labels : ndarray of shape (n_examples,)
        Class indices 0..n_classes-1.
    n_classes : int

    Returns
    -------
    ndarray of shape (n_neurons,), int64
        Class index per neuron; -1 for neurons that never fired (they take no part in voting).
    """
    counts = np.asarray(counts, dtype=np.float64)
    labels = np.asarray(labels)
    if counts.ndim != 2 or len(counts) != len(labels):
        raise ValueError(
            f"counts must be (n_examples, n_neurons) matching labels; got {counts.shape} and "
            f"{labels.shape}"
        )
    mean_rates = np.zeros((n_classes, counts.shape[1]))
    for label in range(n_classes):
        members = labels == label
        if members.any():
            mean_rates[label] = counts[members].mean(axis=0)
    assignments = np.argmax(mean_rates, axis=0).astype(np.int64)
    assignments[mean_rates.max(axis=0) <= 0] = -1
    return assignments


def class_scores(counts: np.ndarray, assignments: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean spike count of the neurons assigned to each class.

    Parameters
    ----------
    counts : ndarray of shape (n_examples, n_neurons)
    assignments : ndarray of shape (n_neurons,)
        From :func:`assign_neurons`.
    n_classes : int

    Returns
    -------
    ndarray of shape (n_examples, n_classes)
        Classes without assigned neurons score 0.
    """
    counts = np.asarray(counts, dtype=np.float64)
    scores = np.zeros((len(counts), n_classes))
    for label in range(n_classes):
        members = assignments == label
        if members.any():
            scores[:, label] = counts[:, members].mean(axis=1)
    return scores


def count_features(counts: np.ndarray) -> np.ndarray:
    """Spike counts as features of the linear readout: each neuron's share of the spikes.

    Each example's counts are divided by its total (rows of silent examples stay zero), so
    the features do not depend on how strongly the example drove the network (the input
    intensity after re-presentations) and keep one scale for any network size.

    Parameters
    ----------
    counts : ndarray of shape (n_examples, n_neurons)

    Returns
    -------
    ndarray of shape (n_examples, n_neurons), float64
    """
    counts = np.asarray(counts, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return counts / np.maximum(totals, 1.0)


def fit_logistic(
    features: np.ndarray, labels: np.ndarray, n_classes: int, *, C: float
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression (L2, scikit-learn's lbfgs) as plain arrays.

    Parameters
    ----------
    features : ndarray of shape (n_examples, n_features)
    labels : ndarray of shape (n_examples,)
        Class indices 0..n_classes-1; at least two classes present.
    n_classes : int
    C : float
        Inverse regularisation strength (scikit-learn's ``C``: the penalty is
        ``0.5 * ||coef||**2`` against ``C`` times the summed log-loss).

    Returns
    -------
    coef : ndarray of shape (n_classes, n_features)
    intercept : ndarray of shape (n_classes,)
        Classes absent from ``labels`` get zero weights and intercept ``-inf`` (never chosen).
        With two classes present, the model's one logit difference ``d`` is split as
        ``-d/2, +d/2``, so the scores' argmax and difference are scikit-learn's.

    Raises
    ------
    ValueError
        With fewer than two classes among ``labels``.
    """
    ((coef, intercept),) = fit_logistic_path(features, labels, n_classes, [C])
    return coef, intercept


def fit_logistic_path(
    features: np.ndarray, labels: np.ndarray, n_classes: int, Cs: Sequence[float]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`fit_logistic` for each of ``Cs``: a regularisation path.

    The fits run in increasing C, each starting from the previous solution, which takes a
    fraction of the iterations of separate fits (measured: 2.9x faster on 10,000 MNIST
    images for C = 0.01 ... 100).

    Returns
    -------
    list of (coef, intercept)
        In the order of ``Cs``.
    """
    labels = np.asarray(labels)
    present = np.unique(labels)
    if len(present) < 2:
        raise ValueError(
            "a linear readout needs labelling examples of at least two classes, got "
            f"{present.tolist()}"
        )
    model = LogisticRegression(max_iter=1000, warm_start=True)
    fits = {}
    for C in sorted(set(Cs)):
        model.set_params(C=C).fit(features, labels)
        weights, biases = model.coef_, model.intercept_
        if len(present) == 2:
            weights = np.vstack([-weights[0] / 2, weights[0] / 2])
            biases = np.array([-biases[0] / 2, biases[0] / 2])
        coef = np.zeros((n_classes, np.shape(features)[1]))
        intercept = np.full(n_classes, -np.inf)
        coef[present] = weights
        intercept[present] = biases
        fits[C] = (coef, intercept)
    return [fits[C] for C in Cs]


def linear_scores(features: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Class scores (logits) of a linear readout from :func:`fit_logistic`.

    Parameters
    ----------
    features : ndarray of shape (n_examples, n_features)
    coef : ndarray of shape (n_classes, n_features)
    intercept : ndarray of shape (n_classes,)

    Returns
    -------
    ndarray of shape (n_examples, n_classes)
    """
    return np.asarray(features, dtype=np.float64) @ coef.T + intercept
