"""MNIST test accuracy of RateMLP: 784-256-10 after 5 and 10 epochs, 784-800-10 after 20.

Configurations (all ReLU, batch 128, alpha 1e-4, float32, median over seeds):

1. ``standard``: 784-256-10, Adam at 2e-3 with a cosine schedule over 10 epochs.
   Targets: >= 97.6 % after 5 epochs, >= 98.0 % after 10.
2. ``sklearn-settings``: the same network with scikit-learn's MLPClassifier defaults (Adam at a
   constant 1e-3), for reference.
3. ``large``: 784-800-10 for 20 epochs, Adam at 2e-3 with a cosine schedule and dropout 0.3 on
   the hidden layer. Target: >= 98.3 %.

Training uses the 60,000 training images; accuracy is measured on the 10,000 test images after
every epoch (passed as the validation set, which only records accuracy: no early stopping, no
model selection). BLAS threads are pinned (default 1), since results differ in the last bits
with the thread count.

    NEUROSIM_DATA=/path/to/mnist python benchmarks/mlp_accuracy.py
"""

from __future__ import annotations

import argparse
import statistics

from machine import describe
from threadpoolctl import threadpool_limits

from neurosim import RateMLP, load_mnist

COMMON = {"optimizer": "adam", "batch_size": 128, "alpha": 1e-4, "dtype": "float32"}
CONFIGS = {
    "standard": {
        "hidden_layer_sizes": (256,),
        "learning_rate": 2e-3,
        "lr_schedule": "cosine",
        "max_iter": 10,
    },
    "sklearn-settings": {
        "hidden_layer_sizes": (256,),
        "learning_rate": 1e-3,
        "lr_schedule": "constant",
        "max_iter": 10,
    },
    "large": {
        "hidden_layer_sizes": (800,),
        "learning_rate": 2e-3,
        "lr_schedule": "cosine",
        "dropout": 0.3,
        "max_iter": 20,
    },
}
REPORTED_EPOCHS = {"standard": (5, 10), "sklearn-settings": (5, 10), "large": (10, 20)}
TARGETS = {"standard": {5: 0.976, 10: 0.980}, "large": {20: 0.983}}


def test_accuracy_per_epoch(params: dict, seed: int, data: tuple) -> tuple[list[float], float]:
    """Test accuracy after every epoch, and the training seconds."""
    X, y, X_test, y_test = data
    model = RateMLP(**COMMON, **params, random_state=seed).fit(X, y, X_val=X_test, y_val=y_test)
    return [r["val_accuracy"] for r in model.history_], model.history_[-1]["wall_time"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    args = parser.parse_args()
    print(describe(), flush=True)

    data = (*load_mnist("train"), *load_mnist("test"))
    for name in args.configs:
        params = {**COMMON, **CONFIGS[name]}
        epochs = REPORTED_EPOCHS[name]
        print(f"{name}: " + ", ".join(f"{key}={value}" for key, value in params.items()))
        print(f"{'seed':>8}" + "".join(f"{f'epoch {e}':>10}" for e in epochs) + f"{'train s':>9}")
        results = {e: [] for e in epochs}
        for seed in args.seeds:
            with threadpool_limits(args.threads):
                accuracy, seconds = test_accuracy_per_epoch(CONFIGS[name], seed, data)
            for e in epochs:
                results[e].append(accuracy[e - 1])
            print(
                f"{seed:>8}"
                + "".join(f"{accuracy[e - 1]:>10.2%}" for e in epochs)
                + f"{seconds:>9.1f}",
                flush=True,
            )
        medians = {e: statistics.median(values) for e, values in results.items()}
        line = f"{'median':>8}" + "".join(f"{medians[e]:>10.2%}" for e in epochs)
        targets = TARGETS.get(name, {})
        if targets:
            verdicts = [
                f"epoch {e} {'meets' if medians[e] >= t else 'MISSES'} {t:.1%}"
                for e, t in targets.items()
            ]
            line += "   (" + ", ".join(verdicts) + ")"
        print(line + "\n", flush=True)


if __name__ == "__main__":
    main()
