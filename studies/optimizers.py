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
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from neurosim import RateMLP, plots
from neurosim.experiment import fit_or_load, split_dataset
from neurosim.rate.optimizers import OPTIMIZERS
from neurosim.sweep import run_sweep
from studies.common import (
    dataset_lines,
    dataset_tag,
    load_study_dataset,
    mode_of,
    output_folder,
    package_versions,
    run_cli,
    save_figures,
    say,
    write_report,
    write_results,
)

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


def run_optimizers(args: argparse.Namespace, command: str) -> dict:
    """Run the study; returns the contents of ``results.json``."""
    started = time.perf_counter()
    config = PRESETS[mode_of(args)]
    data = load_study_dataset(args)
    folder = output_folder("optimizers", args.out, args.force)
    seed = args.seed
    seeds = tuple(seed + s for s in config.seeds)
    splits = split_dataset(
        data, n_train=config.n_train, n_val=config.n_val, n_test=config.n_test, seed=seed
    )
    say(
        f"{config.mode} mode: {len(OPTIMIZER_NAMES)} optimizers x {len(seeds)} seed(s), "
        f"MLP 784-{'-'.join(map(str, config.hidden))}-10, {config.epochs} epochs on "
        f"{len(splits.X_train):,} {data.name} images; writing to {folder}"
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
    for run in runs:
        last = run["history"][-1]
        say(
            f"{run['name']} (seed {run['seed']}): loss {last['loss']:.4f}, validation "
            f"{100 * last['val_accuracy']:.2f} %, test {100 * run['test_accuracy']:.2f} %"
        )

    tag = dataset_tag(data)
    figures = {
        "optimizer_curves": plots.optimizer_curves(
            {name: [r["history"] for r in runs if r["name"] == name] for name in OPTIMIZER_NAMES},
            title=f"Optimizers on MLP 784-{'-'.join(map(str, config.hidden))}-10 — {tag}, "
            f"{len(splits.X_val):,} validation images",
        )
    }
    filenames = save_figures(folder, figures)
    results = write_results(
        folder,
        {
            "study": "optimizers",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": command,
            "mode": config.mode,
            "config": asdict(config),
            "seeds": list(seeds),
            "versions": package_versions(),
            "dataset": {
                **data.info(),
                "n_train": len(splits.X_train),
                "n_val": len(splits.X_val),
                "n_test": len(splits.X_test),
            },
            "sweep": {"backend": args.backend, "n_jobs": args.n_jobs},
            "runs": runs,
            "figures": filenames,
            "timings": {"total_seconds": time.perf_counter() - started},
        },
    )
    body = [
        *dataset_lines(results["dataset"]),
        "",
        f"MLP 784-{'-'.join(map(str, config.hidden))}-10 (ReLU, softmax cross-entropy, "
        f"mini-batches of 128, constant learning rate), {config.epochs} epochs on "
        f"{len(splits.X_train):,} training images; validation on {len(splits.X_val):,} images "
        f"held out from the training split; test on {len(splits.X_test):,} test images. Seeds "
        f"{list(seeds)} (the "
        "same initial weights and batch order for every optimizer with a given seed). "
        "Medians over seeds. Wall time counts training passes only; runs went in parallel "
        f"({args.backend}), so times compare the optimizers with each other, not machines.",
        "",
        *_table(runs),
    ]
    write_report(
        folder,
        f"Optimizers on the same MLP ({config.mode} mode)",
        body,
        filenames,
        {"optimizer_curves": "Training loss and validation accuracy vs epochs and wall time."},
        command,
        results["timings"]["total_seconds"],
    )
    return results


def main(argv: Sequence[str] | None = None) -> dict:
    return run_cli("optimizers", __doc__, run_optimizers, argv, sweep=True)


if __name__ == "__main__":
    main()
