"""The linear readout's regularisation re-checked on a network that never saw validation images.

``DEFAULT_READOUT_C`` (neurosim.spiking.readout) was chosen on a network whose unsupervised
learning had seen some validation images. This script takes a saved network that learnt from
the learning split only (``benchmarks/snn_tune.py`` saves them), measures spike counts of
labelling images from the learning split and of the 10,000 validation images, and prints
validation accuracy of the vote and of the linear readout for each C, for each labelling set
size (stratified, seed 0). It never loads the test images. Example::

    python benchmarks/snn_readout_c.py --model MODEL.npz --n-label 10000 1000 100
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402

from neurosim import STDPNetwork, load_mnist  # noqa: E402
from neurosim.data import stratified_subset  # noqa: E402
from neurosim.experiment import validation_split  # noqa: E402
from neurosim.spiking.readout import (  # noqa: E402
    DEFAULT_READOUT_C,
    count_features,
    fit_logistic_path,
    linear_scores,
)

CS = (0.1, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a saved STDPNetwork (.npz)")
    parser.add_argument("--n-label", type=int, nargs="+", default=[10000, 1000, 100])
    args = parser.parse_args()
    print(describe())
    model = STDPNetwork.load(args.model)
    X_learn, y_learn, X_val, y_val = validation_split(*load_mnist("train"))
    X_label, y_label = stratified_subset(
        X_learn, y_learn, n_total=max(args.n_label), random_state=0
    )
    counts_label = model.spike_counts(X_label)
    counts_val = model.spike_counts(X_val)
    features_val = count_features(counts_val)
    print(f"model {args.model.name}: N={model.n_neurons}; validation: {len(X_val)} images")
    print("| labels | vote | " + " | ".join(f"C={c:g}" for c in CS) + " |")
    print("|---" * (len(CS) + 2) + "|")
    for n_label in sorted(args.n_label, reverse=True):
        keep = np.arange(len(y_label))
        if n_label < len(y_label):
            keep = stratified_subset(keep, y_label, n_total=n_label, random_state=0)[0]
        counts, labels = counts_label[keep], y_label[keep]
        model.set_params(readout="vote").fit_readout(counts, labels)
        vote = np.mean(model.predict_from_counts(counts_val) == y_val)
        fits = fit_logistic_path(count_features(counts), labels, 10, CS)
        linear = [np.mean(linear_scores(features_val, *fit).argmax(1) == y_val) for fit in fits]
        print(
            f"| {n_label} | {100 * vote:.2f} % | "
            + " | ".join(f"{100 * a:.2f} %" for a in linear)
            + " |",
            flush=True,
        )
    print(f"(library default C = {DEFAULT_READOUT_C:g})")


if __name__ == "__main__":
    main()
