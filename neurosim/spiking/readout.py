"""Label assignment and spike-count voting, as in Diehl & Cook (2015).

Labels never change weights: after learning, each excitatory neuron is named after the class
to which it responded most (mean spike count over labelling examples), and an input is
classified by the class whose named neurons fire most on average.
"""

from __future__ import annotations

import numpy as np

__all__ = ["assign_neurons", "class_scores"]


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
