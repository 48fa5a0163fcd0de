"""Gradient descent, momentum, Nesterov, RMSprop and Adam training the same MLP.

Every optimizer trains the same network (784-256-10, ReLU, mini-batches of 128, the same
initial weights for a given seed) with its usual learning rate; the study draws training loss
and validation accuracy against epochs and against wall time::

    python -m studies.optimizers --quick      # minutes: 10,000 MNIST images, 8 epochs
    python -m studies.optimizers              # all 55,000 training images, 20 epochs, 3 seeds

The runs are independent and go in parallel (``--backend``, ``--n-jobs``; see
:mod:`neurosim.sweep`). Trained models are cached by configuration under ``results/cache/``.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from neurosim import RateMLP, plots
from neurosim.experiment import Dataset, Splits, fit_or_load, split_dataset
from neurosim.rate.optimizers import OPTIMIZERS
from neurosim.sweep import run_sweep
from studies.common import Study, StudyOutput, dataset_tag, mode_of

logger = logging.getLogger(__name__)

# Display name -> RateMLP optimizer; "gradient descent" is plain mini-batch SGD.
OPTIMIZER_NAMES = {
    "gradient descent": "sgd",
    "momentum": "momentum",
    "Nesterov": "nesterov",
    "RMSprop": "rmsprop",
    "Adam": "adam",
}


@dataclass(frozen=True)
class OptimizersConfig:
    mode: str
    n_train: int | None  # training images (None: all but the validation images)
    n_val: int  # validation images, held out from the training split
    n_test: int | None
    hidden: tuple[int, ...]
    epochs: int
    seeds: tuple[int, ...]


PRESETS = {
    "full": OptimizersConfig("full", None, 5000, None, (256,), 20, (0, 1, 2)),
    "quick": OptimizersConfig("quick", 10000, 2000, 2000, (256,), 8, (0,)),
    "tiny": OptimizersConfig("tiny", 200, 50, 100, (16,), 2, (0,)),
}


def train_one(task: dict[str, Any]) -> dict[str, Any]:
    """Train one optimizer with one seed (a sweep task); returns its history and test score."""
    model = RateMLP(
        hidden_layer_sizes=task["hidden"],
        optimizer=task["optimizer"],
        max_iter=task["epochs"],
        batch_size=128,
        random_state=task["seed"],
    )
    fit = fit_or_load(
        model,
        task["X_train"],
        task["y_train"],
        X_val=task["X_val"],
        y_val=task["y_val"],
        cache_dir=task["cache_dir"],
        use_cache=task["use_cache"],
    )
    return {
        "name": task["name"],
        "optimizer": task["optimizer"],
        "seed": task["seed"],
        "learning_rate": OPTIMIZERS[task["optimizer"]].default_learning_rate,
        "history": fit.model.history_,
        "test_accuracy": float(fit.model.score(task["X_test"], task["y_test"])),
        "train_seconds": fit.fit_seconds,
        "cached": fit.cached,
    }


def _table(runs: Sequence[dict]) -> list[str]:
    lines = [
        "| optimizer | learning rate | final training loss | final validation accuracy | "
        "test accuracy | training wall time |",
        "|---|---|---|---|---|---|",
    ]
    for name in OPTIMIZER_NAMES:
        mine = [r for r in runs if r["name"] == name]
        if not mine:
            continue
        loss = np.median([r["history"][-1]["loss"] for r in mine])
        val = np.median([r["history"][-1]["val_accuracy"] for r in mine])
        test = np.median([r["test_accuracy"] for r in mine])
        seconds = np.median([r["history"][-1]["wall_time"] for r in mine])
        lines.append(
            f"| {name} | {mine[0]['learning_rate']:g} | {loss:.4f} | {100 * val:.2f} % "
            f"| {100 * test:.2f} % | {seconds:.1f} s |"
        )
    return lines


def _log_runs(runs: list[dict[str, Any]]) -> None:
    """One log line per run: final loss, validation and test accuracy."""
    for r in runs:
        last = r["history"][-1]
        logger.info(
            "%s (seed %d): loss %.4f, validation %.2f %%, test %.2f %%",
            r["name"],
            r["seed"],
            last["loss"],
            100 * last["val_accuracy"],
            100 * r["test_accuracy"],
        )


def _report_body(
    config: OptimizersConfig,
    network: str,
    seeds: tuple[int, ...],
    splits: Splits,
    backend: str,
    runs: list[dict[str, Any]],
) -> list[str]:
    """The report: what was trained on what, then the table of final figures."""
    return [
        f"{network} (ReLU, softmax cross-entropy, mini-batches of 128, constant learning rate), "
        f"{config.epochs} epochs on {len(splits.X_train):,} training images; validation on "
        f"{len(splits.X_val):,} images held out from the training split; test on "
        f"{len(splits.X_test):,} test images. Seeds {list(seeds)} (the same initial weights "
        "and batch order for every optimizer with a given seed). Medians over seeds. Wall time "
        "counts training passes only; runs went in parallel "
        f"({backend}), so times compare the optimizers with each other, not machines.",
        "",
        *_table(runs),
    ]


def run(args: argparse.Namespace, data: Dataset) -> StudyOutput:
    """Train every optimizer with every seed (a parallel sweep) and compare their curves."""
    config = PRESETS[mode_of(args)]
    seeds = tuple(args.seed + s for s in config.seeds)
    splits = split_dataset(
        data, n_train=config.n_train, n_val=config.n_val, n_test=config.n_test, seed=args.seed
    )
    network = f"MLP 784-{'-'.join(map(str, config.hidden))}-10"
    logger.info(
        "%d optimizers x %d seed(s), %s, %d epochs on %s images",
        len(OPTIMIZER_NAMES),
        len(seeds),
        network,
        config.epochs,
        f"{len(splits.X_train):,}",
    )
    shared = dict(
        hidden=config.hidden,
        epochs=config.epochs,
        **splits.arrays(),
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
    )
    tasks = [
        dict(shared, name=name, optimizer=optimizer, seed=s)
        for name, optimizer in OPTIMIZER_NAMES.items()
        for s in seeds
    ]
    runs = run_sweep(
        train_one, tasks, backend=args.backend, n_jobs=args.n_jobs, address=args.address
    )
    _log_runs(runs)
    figure = plots.optimizer_curves(
        {name: [r["history"] for r in runs if r["name"] == name] for name in OPTIMIZER_NAMES},
        title=f"Optimizers on {network} — {dataset_tag(data)}, "
        f"{len(splits.X_val):,} validation images",
    )
    body = _report_body(config, network, seeds, splits, args.backend, runs)
    return StudyOutput(
        title=f"Optimizers on the same MLP ({config.mode} mode)",
        results={"config": asdict(config), "seeds": list(seeds), "runs": runs},
        figures={"optimizer_curves": figure},
        captions={
            "optimizer_curves": "Training loss and validation accuracy vs epochs and wall time."
        },
        body=body,
        dataset=splits.sizes(),
    )


STUDY = Study("optimizers", __doc__, run, sweep=True)
main = STUDY.main

if __name__ == "__main__":
    main()
