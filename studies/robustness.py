"""Robustness of the trained MLP and STDP network to pixel noise, occlusion and lesions.

Uses the models of the comparison study (``studies.compare``; the same configuration, so a
model trained there is loaded from the cache rather than retrained) and tests each under
growing Gaussian pixel noise, a blanked square of growing size, and the removal of a growing
fraction of its learned weights::

    python -m studies.robustness --quick      # the quick comparison's models, 300 test images
    python -m studies.robustness              # paper-scale models, 2,000 test images

The (model, perturbation, level) tests are independent and run in parallel (``--backend``,
``--n-jobs``; see :mod:`neurosim.sweep`).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurosim import plots
from neurosim.robustness import PERTURBATIONS, gaussian_noise, lesion, occlude
from neurosim.sweep import run_sweep
from studies import compare
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

N_TEST = {"full": 2000, "quick": 300, "tiny": 10}


def perturbed_accuracy(task: dict[str, Any]) -> float:
    """Accuracy of one model under one perturbation level (a sweep task)."""
    model, X, y = task["model"], task["X"], task["y"]
    level, seed = task["level"], task["seed"]
    if task["perturbation"] == "none":
        pass
    elif task["perturbation"] == "pixel noise":
        X = gaussian_noise(X, level, seed)
    elif task["perturbation"] == "occlusion":
        X = occlude(X, int(level), seed)
    else:
        model = lesion(model, level, seed)
    return float(model.score(X, y))


def run_robustness(args: argparse.Namespace, command: str) -> dict:
    """Run the study; returns the contents of ``results.json``."""
    started = time.perf_counter()
    mode = mode_of(args)
    config = dataclasses.replace(compare.PRESETS[mode], seed=args.seed)
    data = load_study_dataset(args)
    folder = output_folder("robustness", args.out, args.force)
    say(f"{mode} mode: models of `python -m studies.compare` ({mode}); writing to {folder}")
    splits = compare.make_splits(config, data)
    trained = compare.trained_models(
        config,
        splits,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
    )
    n_test = min(N_TEST[mode], len(splits.X_test))
    X_test, y_test = splits.X_test[:n_test], splits.y_test[:n_test]

    perturbations = {
        name: (xlabel, levels if mode != "tiny" else (levels[0], levels[-1]))
        for name, (xlabel, levels) in PERTURBATIONS.items()
    }
    # Level 0 of every perturbation is the clean test set: tested once per model.
    tasks = [
        {"model": fit.model, "name": name, "perturbation": "none", "level": 0, "seed": 0}
        for name, (fit, _) in trained.items()
    ]
    for p_index, (perturbation, (_, levels)) in enumerate(perturbations.items()):
        for l_index, level in enumerate(levels):
            if level == 0:
                continue
            for name, (fit, _) in trained.items():
                seed = args.seed * 1000 + 10 * p_index + l_index  # same for every model
                tasks.append(
                    {
                        "model": fit.model,
                        "name": name,
                        "perturbation": perturbation,
                        "level": level,
                        "seed": seed,
                    }
                )
    say(f"testing {len(trained)} models under {len(tasks)} conditions on {n_test:,} images ...")
    for task in tasks:
        task.update(X=X_test, y=y_test)
    scores = run_sweep(
        perturbed_accuracy, tasks, backend=args.backend, n_jobs=args.n_jobs, address=args.address
    )
    clean = {
        task["name"]: score
        for task, score in zip(tasks, scores, strict=True)
        if task["perturbation"] == "none"
    }
    curves = {}
    for perturbation, (xlabel, levels) in perturbations.items():
        accuracy = {}
        for name in trained:
            found = {
                task["level"]: score
                for task, score in zip(tasks, scores, strict=True)
                if task["name"] == name and task["perturbation"] == perturbation
            }
            accuracy[name] = [clean[name] if lv == 0 else found[lv] for lv in levels]
            say(f"{perturbation}, {name}: " + ", ".join(f"{100 * a:.1f} %" for a in accuracy[name]))
        curves[perturbation] = {"levels": list(levels), "xlabel": xlabel, "accuracy": accuracy}

    tag = dataset_tag(data)
    figures = {
        "robustness": plots.robustness_curves(
            curves,
            chance=1.0 / len(np.unique(data.y_train)),
            title=f"Robustness — {tag}, {n_test:,} test images",
        )
    }
    filenames = save_figures(folder, figures)
    results = write_results(
        folder,
        {
            "study": "robustness",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": command,
            "mode": mode,
            "config": dataclasses.asdict(config),
            "seed": args.seed,
            "versions": package_versions(),
            "dataset": {**data.info(), "n_train": len(splits.X_train), "n_test": n_test},
            "models": {
                name: {"cache_key": fit.key, "cached": fit.cached, "n_train": n}
                for name, (fit, n) in trained.items()
            },
            "clean_accuracy": clean,
            "perturbations": curves,
            "sweep": {"backend": args.backend, "n_jobs": args.n_jobs},
            "figures": filenames,
            "timings": {"total_seconds": time.perf_counter() - started},
        },
    )
    table = [
        "| model | perturbation | " + " | ".join(["level -> accuracy"]) + " |",
        "|---|---|---|",
    ]
    for perturbation, curve in curves.items():
        for name, accuracy in curve["accuracy"].items():
            cells = ", ".join(
                f"{lv:g}: {100 * a:.1f} %" for lv, a in zip(curve["levels"], accuracy, strict=True)
            )
            table.append(f"| {name} | {perturbation} | {cells} |")
    body = [
        *dataset_lines(results["dataset"]),
        "",
        f"The models of the comparison study in {mode} mode (seed {args.seed}), tested on the "
        f"first {n_test:,} images of its test subset. Pixel noise: N(0, σ²) added to each "
        "pixel, clipped to [0, 1]. Occlusion: one square of the given side blanked (set to 0) "
        "at a random place in each image. Lesion: each learned weight removed (set to 0) with "
        "the given probability: all MLP weights (biases kept), the spiking network's input -> "
        "excitatory synapses (the fixed inhibitory circuit kept). Random draws are seeded and "
        "the same for every model.",
        "",
        *table,
    ]
    write_report(
        folder,
        f"Robustness of the MLP and the STDP network ({mode} mode)",
        body,
        filenames,
        {"robustness": "Test accuracy under pixel noise, occlusion and lesions."},
        command,
        results["timings"]["total_seconds"],
    )
    return results


def main(argv: Sequence[str] | None = None) -> dict:
    return run_cli("robustness", __doc__, run_robustness, argv, sweep=True)


if __name__ == "__main__":
    main()
