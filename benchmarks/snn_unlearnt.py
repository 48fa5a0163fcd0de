"""Which neurons of a trained STDP network have not learnt, and what they do to its readout.

A neuron whose largest input weight is below ``--unlearnt-below`` (default 0.3: random initial
weights normalised to the column sum give ~0.2, a learnt digit above 0.45) still has its
initial weights. The script re-simulates the saved network on the labelling images (the first
``--n-label`` images of the learning split, validation split seed 0) and on the test images,
and prints one JSON record: how many neurons are unlearnt, their thresholds and assigned
classes, their share of the spikes, how often they out-fire the learnt neurons, and, on
learning images only (neurons assigned from the first half of the labelling images, scored on
the second half), the vote with and without them. Test accuracy of the vote and the linear
readout is reported for the network as it is; nothing is chosen from these figures. Example::

    python benchmarks/snn_unlearnt.py --model ~/neurosim-runs/n6400-seed0.npz
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402
from snn_accuracy import VALIDATION_SPLIT_SEED  # noqa: E402

from neurosim import STDPNetwork, load_mnist  # noqa: E402
from neurosim.experiment import split_holdout  # noqa: E402
from neurosim.spiking.readout import (  # noqa: E402
    DEFAULT_READOUT_C,
    assign_neurons,
    class_scores,
    count_features,
    fit_logistic,
    linear_scores,
)


def spike_shares(counts: np.ndarray, unlearnt: np.ndarray) -> dict[str, float]:
    """Spikes per image, the unlearnt neurons' share, and how often they out-fire the rest."""
    return {
        "spikes_per_image": float(counts.sum(axis=1).mean()),
        "neurons_firing_per_image": float((counts > 0).sum(axis=1).mean()),
        "unlearnt_share_of_spikes": float(counts[:, unlearnt].sum() / counts.sum()),
        "images_unlearnt_outfire_learnt": float(
            np.mean(counts[:, unlearnt].sum(axis=1) > counts[:, ~unlearnt].sum(axis=1))
        ),
    }


def vote(counts: np.ndarray, assignments: np.ndarray) -> np.ndarray:
    """The vote readout's class per example."""
    return class_scores(counts, assignments, 10).argmax(axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--n-label", type=int, default=10000)
    parser.add_argument("--validation", type=int, default=10000, help="validation images held out")
    parser.add_argument("--n-test", type=int, default=10000)
    parser.add_argument("--unlearnt-below", type=float, default=0.3)
    args = parser.parse_args()
    print(describe(), flush=True)

    model = STDPNetwork.load(args.model)
    X, y = load_mnist("train")
    X, y, _, _ = split_holdout(X, y, args.validation, VALIDATION_SPLIT_SEED)
    X_label, y_label = X[: args.n_label], y[: args.n_label]
    X_test, y_test = load_mnist("test")
    X_test, y_test = X_test[: args.n_test], y_test[: args.n_test]

    largest_weight = model.state_["w"].reshape(-1, model.n_neurons).max(axis=0)
    unlearnt = largest_weight < args.unlearnt_below
    theta_mV = model.state_["exc_theta"] * 1e3
    label_counts = model.spike_counts(X_label)
    test_counts = model.spike_counts(X_test)
    assignments = assign_neurons(label_counts, y_label, 10)
    coef, intercept = fit_logistic(
        count_features(label_counts), y_label, 10, C=float(DEFAULT_READOUT_C)
    )
    linear = linear_scores(count_features(test_counts), coef, intercept).argmax(axis=1)
    test_vote = vote(test_counts, assignments)

    half = len(X_label) // 2
    first_half = assign_neurons(label_counts[:half], y_label[:half], 10)
    learnt_only = np.where(unlearnt, -1, first_half)
    record = {
        "model": str(args.model),
        "neurons": model.n_neurons,
        "unlearnt": int(unlearnt.sum()),
        "largest_weight_histogram": dict(
            zip(
                ["<0.2", "0.2-0.22", "0.22-0.3", "0.3-0.45", ">=0.45"],
                np.histogram(largest_weight, [0, 0.2, 0.22, 0.3, 0.45, np.inf])[0].tolist(),
                strict=True,
            )
        ),
        "theta_median_mV_unlearnt_learnt": [
            float(np.median(theta_mV[group])) if group.any() else None
            for group in (unlearnt, ~unlearnt)
        ],
        "unlearnt_assigned_per_class": np.bincount(
            assignments[unlearnt & (assignments >= 0)], minlength=10
        ).tolist(),
        "labelling": spike_shares(label_counts, unlearnt),
        "test": spike_shares(test_counts, unlearnt),
        "test_vote_accuracy": float(np.mean(test_vote == y_test)),
        "test_linear_accuracy": float(np.mean(linear == y_test)),
        "test_predicted_per_class": np.bincount(test_vote, minlength=10).tolist(),
        "labelling_second_half_vote_all": float(
            np.mean(vote(label_counts[half:], first_half) == y_label[half:])
        ),
        "labelling_second_half_vote_learnt_only": float(
            np.mean(vote(label_counts[half:], learnt_only) == y_label[half:])
        ),
    }
    print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
