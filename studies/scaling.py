"""How accuracy and cost grow with size, for the STDP network and the MLP.

The STDP network against N and training examples, next to the paper's table; the MLP
against its width.

::

    python -m studies.scaling --quick     # N = 25, 50, 100 on 2,000 MNIST images: minutes
    python -m studies.scaling             # N = 100, 400, 1600, one pass over MNIST: hours

Diehl & Cook (2015) report 82.9 / 87.0 / 91.9 / 95.0 % for N = 100 / 400 / 1600 / 6400.
Every configuration is independent and they run in parallel (``--backend``, ``--n-jobs``; see
:mod:`neurosim.sweep`); trained models are cached by configuration under ``results/cache/``.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict, dataclass
from typing import Any

from neurosim import RateMLP, STDPNetwork, plots
from neurosim.comparison import curve_points, evaluate
from neurosim.experiment import Dataset, Splits, fit_or_load, split_dataset
from neurosim.spiking.params import PAPER_ACCURACY
from neurosim.sweep import run_sweep
from studies.common import Study, StudyOutput, dataset_tag, mode_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScalingConfig:
    mode: str
    n_train: int | None  # training images (None: all but the validation images)
    n_val: int  # validation images held out from training (learning curves)
    n_test: int | None
    n_label: int | None  # training images used to assign the neurons (None: all)
    snn_sizes: tuple[int, ...]
    snn_device: str
    snn_validation_interval: int | None
    mlp_hidden: tuple[int, ...]
    mlp_epochs: int


PRESETS = {
    "full": ScalingConfig(
        "full", None, 1000, None, 10000, (100, 400, 1600), "cpp_standalone", 10000,
        (16, 64, 256, 1024), 10,
    ),
    "quick": ScalingConfig(
        "quick", 2000, 300, 1000, None, (25, 50, 100), "cpp_standalone", 500, (16, 64, 256), 5
    ),
    "tiny": ScalingConfig("tiny", 12, 6, 10, None, (4, 8), "runtime", None, (8, 16), 1),
}  # fmt: skip


def train_one(task: dict[str, Any]) -> dict[str, Any]:
    """Train and test one configuration (a sweep task)."""
    if task["kind"] == "snn":
        model = STDPNetwork(
            n_neurons=task["size"],
            device=task["device"],
            n_label=task["n_label"],
            validation_interval=task["validation_interval"],
            random_state=task["seed"],
        )
    else:
        model = RateMLP(
            hidden_layer_sizes=(task["size"],),
            max_iter=task["epochs"],
            batch_size=128,
            random_state=task["seed"],
        )
    use_val = task["kind"] == "mlp" or task["validation_interval"] is not None
    fit = fit_or_load(
        model,
        task["X_train"],
        task["y_train"],
        X_val=task["X_val"] if use_val else None,
        y_val=task["y_val"] if use_val else None,
        cache_dir=task["cache_dir"],
        use_cache=task["use_cache"],
    )
    evaluation = evaluate(fit.model, task["X_test"], task["y_test"])
    history = fit.model.history_
    return {
        "kind": task["kind"],
        "size": task["size"],
        "accuracy": evaluation.accuracy,
        "train_seconds": fit.fit_seconds,
        "learning_seconds": float(history[-1]["wall_time"]),
        "compile_seconds": fit.compile_seconds,
        "examples_seen": int(history[-1]["examples_seen"]),
        "n_params": int(
            fit.model.weights_.size
            if task["kind"] == "snn"
            else sum(c.size for c in fit.model.coefs_) + sum(b.size for b in fit.model.intercepts_)
        ),
        "ops_per_inference": evaluation.energy["cpu-45nm"].count(fit.model.op_kind),
        "spikes_per_inference": evaluation.spikes_per_inference,
        "curve": curve_points(history),
        "cached": fit.cached,
    }


def _tables(config: ScalingConfig, snn: list[dict], mlp: list[dict]) -> list[str]:
    return [
        "| STDP network | test accuracy | paper, % (Diehl & Cook) | learning time | synapses | "
        "synaptic events / inference |",
        "|---|---|---|---|---|---|",
        *(
            f"| N = {r['size']} | {100 * r['accuracy']:.2f} % | "
            f"{PAPER_ACCURACY.get(r['size'], '-')} | "
            f"{r['learning_seconds']:.1f} s | {r['n_params']:,} | {r['ops_per_inference']:,.0f} |"
            for r in snn
        ),
        "",
        "| MLP | test accuracy | training time | parameters |",
        "|---|---|---|---|",
        *(
            f"| 784-{r['size']}-10, {config.mlp_epochs} epochs | {100 * r['accuracy']:.2f} % | "
            f"{r['train_seconds']:.1f} s | {r['n_params']:,} |"
            for r in mlp
        ),
    ]


def _report_body(
    config: ScalingConfig, splits: Splits, args: argparse.Namespace, snn: list, mlp: list
) -> list[str]:
    """What was run, then the tables of both models."""
    labelled = "all" if config.n_label is None else f"the first {config.n_label:,}"
    return [
        f"One pass over {len(splits.X_train):,} training images, seed {args.seed}; neurons "
        f"assigned from {labelled} training images; tested on {len(splits.X_test):,} test "
        f"images. Learning curves: {len(splits.X_val):,} validation images held out from the "
        "training split. Learning time excludes the labelling and validation passes; "
        f"configurations ran in parallel ({args.backend}), so times compare sizes with each "
        "other, not machines. The paper trained on all 60,000 images (several passes for the "
        "larger networks).",
        "",
        *_tables(config, snn, mlp),
    ]


def _tasks(config: ScalingConfig, splits: Splits, args: argparse.Namespace) -> list[dict[str, Any]]:
    """One sweep task per network size (largest first) and per MLP width."""
    shared = dict(
        **splits.arrays(), seed=args.seed, cache_dir=args.cache_dir, use_cache=not args.no_cache
    )
    return [
        dict(
            shared,
            kind="snn",
            size=n,
            device=config.snn_device,
            n_label=config.n_label,
            validation_interval=config.snn_validation_interval,
        )
        for n in sorted(config.snn_sizes, reverse=True)  # largest first: it takes longest
    ] + [dict(shared, kind="mlp", size=h, epochs=config.mlp_epochs) for h in config.mlp_hidden]


def _log_results(snn: list[dict[str, Any]], mlp: list[dict[str, Any]]) -> None:
    """One log line per network size and per MLP width."""
    for r in snn:
        logger.info(
            "STDP N=%d: %.2f %%, learning %.1f s",
            r["size"],
            100 * r["accuracy"],
            r["learning_seconds"],
        )
    for r in mlp:
        logger.info(
            "MLP 784-%d-10: %.2f %%, %.1f s", r["size"], 100 * r["accuracy"], r["train_seconds"]
        )


def run(args: argparse.Namespace, data: Dataset) -> StudyOutput:
    """Train and test every size (a parallel sweep); draw accuracy and cost against size."""
    config = PRESETS[mode_of(args)]
    splits = split_dataset(
        data, n_train=config.n_train, n_val=config.n_val, n_test=config.n_test, seed=args.seed
    )
    logger.info(
        "STDP network N = %s and MLP widths %s on %s images",
        list(config.snn_sizes),
        list(config.mlp_hidden),
        f"{len(splits.X_train):,}",
    )
    runs = run_sweep(
        train_one,
        _tasks(config, splits, args),
        backend=args.backend,
        n_jobs=args.n_jobs,
        address=args.address,
    )
    snn = sorted(
        ({**r, "n_neurons": r["size"]} for r in runs if r["kind"] == "snn"),
        key=lambda r: r["size"],
    )
    mlp = sorted(
        ({**r, "hidden": r["size"]} for r in runs if r["kind"] == "mlp"), key=lambda r: r["size"]
    )
    _log_results(snn, mlp)
    figure = plots.scaling_curves(
        [{**r, "train_seconds": r["learning_seconds"]} for r in snn],
        mlp,
        title=f"Scaling — {dataset_tag(data)}: {len(splits.X_train):,} training, "
        f"{len(splits.X_test):,} test images",
    )
    body = _report_body(config, splits, args, snn, mlp)
    return StudyOutput(
        title=f"Scaling of the STDP network and the MLP ({config.mode} mode)",
        results={
            "config": asdict(config),
            "seed": args.seed,
            "paper_accuracy_percent": PAPER_ACCURACY,
            "snn": snn,
            "mlp": mlp,
        },
        figures={"scaling": figure},
        captions={"scaling": "Accuracy and training time against size; learning curves per size."},
        body=body,
        dataset=splits.sizes(),
    )


STUDY = Study("scaling", __doc__, run, sweep=True)
main = STUDY.main

if __name__ == "__main__":
    main()
