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
import logging
from typing import Any

import numpy as np

from neurosim import plots
from neurosim.comparison import COMPARISON_PRESETS, comparison_splits, trained_models
from neurosim.experiment import Dataset
from neurosim.robustness import PERTURBATIONS, gaussian_noise, lesion, occlude
from neurosim.sweep import run_sweep
from studies.common import Study, StudyOutput, dataset_tag, mode_of

logger = logging.getLogger(__name__)

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


def _tasks(
    models: dict[str, Any], perturbations: dict[str, tuple[str, tuple]], seed: int
) -> list[dict[str, Any]]:
    """One sweep task per (model, perturbation, level); level 0 (the clean test set) once per
    model. The random draws of a condition are the same for every model."""
    tasks = [
        {"model": model, "name": name, "perturbation": "none", "level": 0, "seed": 0}
        for name, model in models.items()
    ]
    for p_index, (perturbation, (_, levels)) in enumerate(perturbations.items()):
        for l_index, level in enumerate(levels):
            if level == 0:
                continue
            for name, model in models.items():
                tasks.append(
                    {
                        "model": model,
                        "name": name,
                        "perturbation": perturbation,
                        "level": level,
                        "seed": seed * 1000 + 10 * p_index + l_index,
                    }
                )
    return tasks


def _curves(
    tasks: list[dict[str, Any]], scores: list[float], perturbations: dict[str, tuple[str, tuple]]
) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    """Clean accuracy by model, and each perturbation's levels and accuracies by model."""
    found = {
        (task["name"], task["perturbation"], task["level"]): score
        for task, score in zip(tasks, scores, strict=True)
    }
    clean = {name: score for (name, kind, _), score in found.items() if kind == "none"}
    curves = {}
    for perturbation, (xlabel, levels) in perturbations.items():
        accuracy = {
            name: [clean[name] if lv == 0 else found[name, perturbation, lv] for lv in levels]
            for name in clean
        }
        for name, values in accuracy.items():
            logger.info(
                "%s, %s: %s", perturbation, name, ", ".join(f"{100 * a:.1f} %" for a in values)
            )
        curves[perturbation] = {"levels": list(levels), "xlabel": xlabel, "accuracy": accuracy}
    return clean, curves


def _table(curves: dict[str, dict[str, Any]]) -> list[str]:
    table = ["| model | perturbation | level -> accuracy |", "|---|---|---|"]
    for perturbation, curve in curves.items():
        for name, accuracy in curve["accuracy"].items():
            cells = ", ".join(
                f"{lv:g}: {100 * a:.1f} %" for lv, a in zip(curve["levels"], accuracy, strict=True)
            )
            table.append(f"| {name} | {perturbation} | {cells} |")
    return table


def run(args: argparse.Namespace, data: Dataset) -> StudyOutput:
    """Test the comparison's models under every perturbation level."""
    mode = mode_of(args)
    config = dataclasses.replace(COMPARISON_PRESETS[mode], seed=args.seed)
    logger.info("models of `python -m studies.compare` (%s mode)", mode)
    splits = comparison_splits(config, data)
    fits = trained_models(config, splits, cache_dir=args.cache_dir, use_cache=not args.no_cache)
    n_test = min(N_TEST[mode], len(splits.X_test))
    perturbations = {
        name: (xlabel, levels if mode != "tiny" else (levels[0], levels[-1]))
        for name, (xlabel, levels) in PERTURBATIONS.items()
    }
    tasks = _tasks({name: fit.model for name, fit in fits.items()}, perturbations, args.seed)
    logger.info(
        "testing %d models under %d conditions on %s images ...", len(fits), len(tasks), n_test
    )
    for task in tasks:
        task.update(X=splits.X_test[:n_test], y=splits.y_test[:n_test])
    scores = run_sweep(
        perturbed_accuracy, tasks, backend=args.backend, n_jobs=args.n_jobs, address=args.address
    )
    clean, curves = _curves(tasks, scores, perturbations)
    figure = plots.robustness_curves(
        curves,
        chance=1.0 / len(np.unique(data.y_train)),
        title=f"Robustness — {dataset_tag(data)}, {n_test:,} test images",
    )
    body = [
        f"The models of the comparison study in {mode} mode (seed {args.seed}), tested on the "
        f"first {n_test:,} images of its test subset. Pixel noise: N(0, σ²) added to each "
        "pixel, clipped to [0, 1]. Occlusion: one square of the given side blanked (set to 0) "
        "at a random place in each image. Lesion: each learned weight removed (set to 0) with "
        "the given probability: all MLP weights (biases kept), the spiking network's input -> "
        "excitatory synapses (the fixed inhibitory circuit kept). Random draws are seeded and "
        "the same for every model.",
        "",
        *_table(curves),
    ]
    return StudyOutput(
        title=f"Robustness of the MLP and the STDP network ({mode} mode)",
        results={
            "config": dataclasses.asdict(config),
            "seed": args.seed,
            "models": {
                name: {"cache_key": fit.key, "cached": fit.cached, "n_train": fit.n_train}
                for name, fit in fits.items()
            },
            "clean_accuracy": clean,
            "perturbations": curves,
        },
        figures={"robustness": figure},
        captions={"robustness": "Test accuracy under pixel noise, occlusion and lesions."},
        body=body,
        dataset={"n_train": len(splits.X_train), "n_test": n_test},
    )


STUDY = Study("robustness", __doc__, run, sweep=True)
main = STUDY.main

if __name__ == "__main__":
    main()
