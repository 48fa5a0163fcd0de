"""Label efficiency: accuracy against the number of labelled examples.

The STDP network learns once, without labels, from the whole learning split; it is then
labelled from k examples per class only (both readouts: the paper's vote and a logistic
regression on spike counts). Against it, with the same k labelled examples and nothing else:
an MLP trained by backpropagation, and a logistic regression on raw pixels as a floor::

    python -m studies.labels --quick      # N=100 learns from 10,000 images: minutes
    python -m studies.labels              # N=400 learns from the 50,000-image learning split
    python -m studies.labels --model snn400.npz   # label a network trained elsewhere

k runs over 1, 3, 10, 30, 100, 300, 1000 per class and "all" (the whole learning split),
three seeded stratified draws per k (one for "all": there is nothing to draw). Every
regularisation choice is made on the validation split (``neurosim.experiment
.validation_split``: 50,000 learning, 10,000 validation images of MNIST's training set);
accuracies are on the 10,000 test images. Each image is simulated once: the spike counts of
the learning split are measured once and every draw labels the network from its examples'
counts (:meth:`neurosim.STDPNetwork.fit_readout` for the vote; the linear readout's functions
in :mod:`neurosim.spiking.readout` for all of its C at once). The draws are independent and
run in parallel (``--backend``, ``--n-jobs``; see :mod:`neurosim.sweep`), each with one BLAS
thread.
"""

from __future__ import annotations

import argparse
import copy
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from neurosim import RateMLP, STDPNetwork, plots
from neurosim.data import stratified_subset
from neurosim.experiment import Dataset
from neurosim.spiking.readout import count_features, fit_logistic_path, linear_scores
from neurosim.sweep import run_sweep
from studies.common import (
    Study,
    StudyOutput,
    StudySplits,
    add_model_argument,
    dataset_tag,
    duration,
    mode_of,
    spiking_network,
    study_splits,
)

logger = logging.getLogger(__name__)

_BATCH_SIZE = 128
STDP_VOTE, STDP_LINEAR = "STDP + vote", "STDP + linear readout"
MLP, PIXELS = "MLP (labels only)", "logistic regression on pixels"
MODELS = (STDP_VOTE, STDP_LINEAR, MLP, PIXELS)


@dataclass(frozen=True)
class LabelsConfig:
    """Sizes and settings of the label study (see :data:`PRESETS`).

    Attributes
    ----------
    mode : str
    n_learn, n_val, n_test : int or None
        Images of the learning split (the STDP network learns from all of them; the labelled
        examples are drawn from them), of the validation split and of the test split
        (``None``: all).
    k_per_class : tuple of int or None
        Labelled examples per class; ``None``: every learning image.
    n_draws : int
        Seeded stratified draws per k.
    snn_neurons, snn_device : int, str
    snn_n_label : int
        Learning images that ``fit`` labels the network from; the study relabels it per draw,
        so this only keeps that pass short.
    c_grid : tuple of float
        Inverse L2 strengths tried for both logistic regressions (on spike counts and on
        pixels), chosen per draw on the validation split.
    mlp_hidden : tuple of int
    mlp_alpha : float
        The MLP's L2 weight decay.
    mlp_steps, mlp_patience_steps : int
        The MLP's training budget and early-stopping patience in gradient steps (batches of
        up to 128), turned into epochs for each training-set size.
    mlp_min_epochs : int
    mlp_epoch_size : int
        Smaller labelled sets are repeated to fill this many examples per epoch, so that
        each validation check (one per epoch) follows several gradient steps.
    """

    mode: str
    n_learn: int | None
    n_val: int | None
    n_test: int | None
    k_per_class: tuple[int | None, ...]
    n_draws: int
    snn_neurons: int
    snn_device: str
    snn_n_label: int
    c_grid: tuple[float, ...]
    mlp_hidden: tuple[int, ...]
    mlp_alpha: float
    mlp_steps: int
    mlp_patience_steps: int
    mlp_min_epochs: int
    mlp_epoch_size: int


_K_FULL = (1, 3, 10, 30, 100, 300, 1000, None)
# C from 1e-4: the spike-count readout of 1 or 3 images per class does best there (validation,
# N=100: 31.6 % at 1e-4 against 29.5 % at 0.01 with one image per class); above 100 the
# validation accuracy of both regressions is flat.
_C_GRID = (1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0, 100.0)
PRESETS = {
    "full": LabelsConfig(
        "full", None, None, None, _K_FULL, 3, 400, "cpp_standalone", 1000, _C_GRID, (256,),
        1e-3, 3000, 300, 20, 1280,
    ),
    # 10,000 learning images (about 1,000 per class, so k stops at 300 and "all"), 2,000
    # validation images for the choices, all 10,000 test images.
    "quick": LabelsConfig(
        "quick", 10000, 2000, None, (1, 3, 10, 30, 100, 300, None), 3, 100, "cpp_standalone",
        1000, _C_GRID, (256,), 1e-3, 3000, 300, 20, 1280,
    ),
    "tiny": LabelsConfig(
        "tiny", 20, 10, 10, (1, None), 2, 4, "runtime", 10, (0.1, 10.0), (8,), 1e-3, 20, 5, 2,
        16,
    ),
}  # fmt: skip


# -- data --------------------------------------------------------------------------------------
def labelled_draw(y: np.ndarray, k: int | None, seed: int) -> np.ndarray:
    """Indices of ``k`` examples per class of ``y`` (seeded, stratified); all for ``None``."""
    if k is None:
        return np.arange(len(y))
    indices, _ = stratified_subset(np.arange(len(y)), y, n_per_class=k, random_state=seed)
    return np.sort(indices)


# -- the spiking network's features ------------------------------------------------------------
@dataclass
class SpikeFeatures:
    """The trained network and the spike counts of every image, each simulated once."""

    network: STDPNetwork
    source: dict[str, Any]
    learn: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seconds: dict[str, float]


def spike_features(
    config: LabelsConfig, splits: StudySplits, args: argparse.Namespace
) -> SpikeFeatures:
    """The network, then the spike counts of the learning, validation and test images."""
    started = time.perf_counter()
    network, source = spiking_network(config, splits, args)
    seconds = {"network": time.perf_counter() - started}
    counts = {}
    for name in ("learn", "val", "test"):
        started = time.perf_counter()
        counts[name] = network.spike_counts(getattr(splits, f"X_{name}"))
        seconds[f"counts_{name}"] = time.perf_counter() - started
        logger.info("spike counts of the %s images: %s", name, duration(seconds[f"counts_{name}"]))
    source |= {"n_neurons": network.n_neurons, "seed": int(network.seed_)}
    return SpikeFeatures(network, source, **counts, seconds=seconds)


# -- the models of one draw --------------------------------------------------------------------
Predictor = Callable[[np.ndarray], np.ndarray]


def best_on_validation(
    candidates: Iterable[tuple[float, Predictor]], X_val: np.ndarray, y_val: np.ndarray
) -> tuple[float, Predictor]:
    """The candidate (setting, fitted predictor) with the highest validation accuracy; the
    first one wins ties."""
    best, best_accuracy = None, -1.0
    for setting, predict in candidates:
        accuracy = float(np.mean(predict(X_val) == y_val))
        if accuracy > best_accuracy:
            best, best_accuracy = (setting, predict), accuracy
    return best


def _logistic_regressions(
    inputs: np.ndarray,
    y: np.ndarray,
    classes: np.ndarray,
    c_grid: Sequence[float],
    features: Callable[[np.ndarray], np.ndarray],
) -> Iterable[tuple[float, Predictor]]:
    """Multinomial logistic regression on ``features(inputs)`` for each C of the grid (one
    regularisation path), each as a predictor of labels from inputs."""
    path = fit_logistic_path(features(inputs), np.searchsorted(classes, y), len(classes), c_grid)
    for C, (coef, intercept) in zip(c_grid, path, strict=True):
        yield (
            C,
            lambda Z, w=coef, b=intercept: classes[np.argmax(linear_scores(features(Z), w, b), 1)],
        )


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Silence a library logger's INFO lines for the duration (the MLP logs every epoch)."""
    library = logging.getLogger(name)
    level = library.level
    library.setLevel(logging.WARNING)
    try:
        yield
    finally:
        library.setLevel(level)


def train_mlp(
    config: LabelsConfig,
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    seed: int,
) -> RateMLP:
    """The MLP trained on ``(X, y)`` only: Adam, L2 weight decay, early stopping on the
    validation images (the best epoch restored).

    A small labelled set is repeated to fill ``mlp_epoch_size`` examples per epoch; the
    budget and the patience are counted in gradient steps whatever the set's size.
    """
    repeats = math.ceil(config.mlp_epoch_size / len(X))
    X, y = np.tile(X, (repeats, 1)), np.tile(y, repeats)
    steps_per_epoch = math.ceil(len(X) / _BATCH_SIZE)
    model = RateMLP(
        hidden_layer_sizes=config.mlp_hidden,
        alpha=config.mlp_alpha,
        batch_size=_BATCH_SIZE,
        max_iter=max(config.mlp_min_epochs, math.ceil(config.mlp_steps / steps_per_epoch)),
        early_stopping=True,
        n_iter_no_change=max(3, math.ceil(config.mlp_patience_steps / steps_per_epoch)),
        random_state=seed,
    )
    with _quiet("neurosim.rate.mlp"):
        return model.fit(X, y, X_val=X_val, y_val=y_val)


def run_draw(
    config: LabelsConfig, splits: StudySplits, features: SpikeFeatures, k: int | None, draw: int
) -> list[dict[str, Any]]:
    """Every model labelled (or trained) from one draw of k examples per class; one record
    each, with its choice made on validation and its validation and test accuracy."""
    seed = 1000 * draw + (0 if k is None else k)
    rows = labelled_draw(splits.y_learn, k, seed)
    X, y, counts = splits.X_learn[rows], splits.y_learn[rows], features.learn[rows]
    vote = copy.copy(features.network).set_params(readout="vote").fit_readout(counts, y)
    # the network's linear readout (STDPNetwork(readout="linear")) for every C at once
    classes = np.unique(splits.y_learn)
    linear_C, linear = best_on_validation(
        _logistic_regressions(counts, y, classes, config.c_grid, count_features),
        features.val,
        splits.y_val,
    )
    pixel_C, pixels = best_on_validation(
        _logistic_regressions(X, y, classes, config.c_grid, np.asarray),
        splits.X_val,
        splits.y_val,
    )
    mlp = train_mlp(config, X, y, splits.X_val, splits.y_val, seed)
    # model -> (its choice on validation, predictor, validation inputs, test inputs)
    fits = {
        STDP_VOTE: (None, vote.predict_from_counts, features.val, features.test),
        STDP_LINEAR: ({"C": linear_C}, linear, features.val, features.test),
        MLP: (
            {"epochs": mlp.n_iter_, "early_stopped": mlp.early_stopped_},
            mlp.predict,
            splits.X_val,
            splits.X_test,
        ),
        PIXELS: ({"C": pixel_C}, pixels, splits.X_val, splits.X_test),
    }
    return [
        {
            "model": model,
            "k_per_class": k,
            "draw": draw,
            "seed": seed,
            "n_labels": len(rows),
            "choice": choice,
            "val_accuracy": float(np.mean(predict(val_inputs) == splits.y_val)),
            "test_accuracy": float(np.mean(predict(test_inputs) == splits.y_test)),
        }
        for model, (choice, predict, val_inputs, test_inputs) in fits.items()
    ]


def draw_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    """:func:`run_draw` as a sweep task (largest sets first, as they take longest)."""
    return run_draw(task["config"], task["splits"], task["features"], task["k"], task["draw"])


# -- summary and report ------------------------------------------------------------------------
def _k_name(k: int | None) -> str:
    return "all" if k is None else str(k)


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per model, one point per k: labels used and the test accuracy over the draws (mean,
    sample standard deviation, range) with the mean validation accuracy."""
    summary = {}
    for model in MODELS:
        points = []
        for k in dict.fromkeys(r["k_per_class"] for r in records):
            draws = [r for r in records if r["model"] == model and r["k_per_class"] == k]
            test = np.array([r["test_accuracy"] for r in draws])
            points.append(
                {
                    "k_per_class": k,
                    "n_labels": draws[0]["n_labels"],
                    "n_draws": len(draws),
                    "test_accuracy": test.tolist(),
                    "test_mean": float(test.mean()),
                    "test_sd": float(test.std(ddof=1)) if len(test) > 1 else 0.0,
                    "test_min": float(test.min()),
                    "test_max": float(test.max()),
                    "val_mean": float(np.mean([r["val_accuracy"] for r in draws])),
                }
            )
        summary[model] = points
    return summary


def _log_summary(summary: dict[str, list[dict[str, Any]]]) -> None:
    """One log line per k: each model's mean test accuracy."""
    for index, point in enumerate(summary[MODELS[0]]):
        logger.info(
            "k = %s per class: %s",
            _k_name(point["k_per_class"]),
            ", ".join(f"{m} {100 * summary[m][index]['test_mean']:.1f} %" for m in MODELS),
        )


def verdict(summary: dict[str, list[dict[str, Any]]], first: str, second: str) -> str:
    """In words: at which k ``first`` beats ``second`` (mean test accuracy over the draws),
    where the lead changes hands, and which margins are within the spread of the draws."""
    margins = [
        (a["k_per_class"], a["n_labels"], 100 * (a["test_mean"] - b["test_mean"]))
        for a, b in zip(summary[first], summary[second], strict=True)
    ]
    spread = {
        a["k_per_class"]: 100 * max(a["test_sd"], b["test_sd"])
        for a, b in zip(summary[first], summary[second], strict=True)
    }
    ahead = [k for k, _, margin in margins if margin > 0]
    behind = [k for k, _, margin in margins if margin <= 0]
    listed = ", ".join(f"{_k_name(k)} ({margin:+.1f})" for k, _, margin in margins)
    if not behind:
        text = f"**{first}** beats {second} at every k"
    elif not ahead:
        text = f"**{first}** never beats {second}"
    else:
        changes = [
            f"between k = {_k_name(k1)} and {_k_name(k2)} per class ({n1:,} and {n2:,} labels)"
            for (k1, n1, m1), (k2, n2, m2) in pairwise(margins)
            if (m1 > 0) != (m2 > 0)
        ]
        text = (
            f"**{first}** beats {second} at k = {', '.join(map(_k_name, ahead))} per class and "
            f"not at k = {', '.join(map(_k_name, behind))}; the lead changes hands "
            + "; ".join(changes)
        )
    close = [_k_name(k) for k, _, margin in margins if abs(margin) <= spread[k]]
    if close:
        text += f" (within one standard deviation of the draws at k = {', '.join(close)})"
    return f"{text}. Margins in points, by k: {listed}."


def _table(summary: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Mean ± sd of the test accuracy per k and model."""
    lines = [
        "| labels per class | labels | " + " | ".join(MODELS) + " |",
        "|---|---|" + "---|" * len(MODELS),
    ]
    for index, point in enumerate(summary[MODELS[0]]):
        cells = []
        for model in MODELS:
            p = summary[model][index]
            sd = f" ± {100 * p['test_sd']:.1f}" if p["n_draws"] > 1 else ""
            cells.append(f"{100 * p['test_mean']:.1f}{sd}")
        lines.append(
            f"| {_k_name(point['k_per_class'])} | {point['n_labels']:,} | {' | '.join(cells)} |"
        )
    return lines


def report_body(
    config: LabelsConfig,
    splits: StudySplits,
    features: SpikeFeatures,
    summary: dict[str, list[dict[str, Any]]],
    verdicts: Sequence[str],
) -> list[str]:
    """What learnt from what, how each choice was made, the table and the verdicts."""
    source = features.source
    grid = ", ".join(f"{C:g}" for C in config.c_grid)
    learnt = (
        f"learnt from {len(splits.X_learn):,} images"
        if "path" not in source
        else f"saw {source['examples_seen']:,} examples, which must all be"
    )
    counted = sum(v for k, v in features.seconds.items() if k.startswith("counts_"))
    return [
        f"The STDP network (N = {source['n_neurons']}, {source['trained']}) {learnt} "
        f"of the learning split ({splits.protocol}), without labels. For each k, "
        f"{config.n_draws} seeded, stratified draws of k labelled images per class come from "
        "the same learning split (one draw for *all*). "
        "The network is labelled from the draw's spike counts only: *vote* names each neuron "
        "after the class it fired most for (the paper's rule); the *linear readout* is a "
        "multinomial logistic regression on each example's spike shares. The MLP "
        f"(784-{'-'.join(map(str, config.mlp_hidden))}-10, Adam, L2 weight decay "
        f"{config.mlp_alpha:g}) and the logistic regression on pixels learn from the draw's "
        "labelled images and nothing else.",
        "",
        f"Every choice is made on the {len(splits.X_val):,} validation images: C of both "
        f"logistic regressions per draw from {{{grid}}}, and the MLP's stopping epoch (early "
        f"stopping with a patience of {config.mlp_patience_steps} gradient steps, at most "
        f"max({config.mlp_min_epochs} epochs, {config.mlp_steps} steps), restoring the best "
        f"epoch when it stops; sets under {config.mlp_epoch_size:,} images are repeated to "
        "fill an epoch, so validation is checked every few steps). Those validation images "
        "carry labels, "
        "which a user with k labels per class would not have: the small-k figures of the "
        "three trained readouts are upper bounds (the vote has nothing to choose). Accuracy "
        "is measured on "
        f"{len(splits.X_test):,} test images; every image was simulated once "
        f"({duration(counted)} for all spike counts).",
        "",
        "Test accuracy (%), mean ± sample sd over the draws:",
        "",
        *_table(summary),
        "",
        "Where the features learnt without labels win or lose, and what the linear readout "
        "adds to the vote (mean over the draws):",
        "",
        *(f"- {line}" for line in verdicts),
    ]


def run(args: argparse.Namespace, data: Dataset) -> StudyOutput:
    """Learn the spiking features once, then label every model from every draw of k."""
    config = PRESETS[mode_of(args)]
    splits = study_splits(config, data, args.seed)
    smallest_class = int(np.unique(splits.y_learn, return_counts=True)[1].min())
    ks = tuple(k for k in config.k_per_class if k is None or k <= smallest_class)
    if len(ks) < len(config.k_per_class):
        logger.warning("k above %d per class skipped: too few learning images", smallest_class)
    features = spike_features(config, splits, args)
    started = time.perf_counter()
    tasks = [
        {"config": config, "splits": splits, "features": features, "k": k, "draw": draw}
        for k in ks
        for draw in range(1 if k is None else config.n_draws)
    ]
    tasks.sort(key=lambda task: math.inf if task["k"] is None else task["k"], reverse=True)
    records = sorted(
        (
            record
            for records in run_sweep(
                draw_task, tasks, backend=args.backend, n_jobs=args.n_jobs, address=args.address
            )
            for record in records
        ),
        key=lambda r: (ks.index(r["k_per_class"]), r["draw"], MODELS.index(r["model"])),
    )
    summary = summarise(records)
    _log_summary(summary)
    verdicts = [verdict(summary, a, b) for a in (STDP_LINEAR, STDP_VOTE) for b in (MLP, PIXELS)]
    verdicts.append(verdict(summary, STDP_LINEAR, STDP_VOTE))
    figure = plots.label_efficiency(
        {
            model: {
                "labels": [p["n_labels"] for p in points],
                "accuracy": [p["test_accuracy"] for p in points],
            }
            for model, points in summary.items()
        },
        chance=1 / len(np.unique(splits.y_learn)),
        title=f"Label efficiency — {dataset_tag(data)}: STDP N={features.network.n_neurons}, "
        f"{len(splits.X_test):,} test images",
    )
    return StudyOutput(
        title=f"Label efficiency: features learnt without labels against labels only "
        f"({config.mode} mode)",
        results={
            "config": asdict(config),
            "seed": args.seed,
            "protocol": splits.protocol,
            "k_per_class": list(ks),
            "snn": features.source,
            "summary": summary,
            "verdicts": verdicts,
            "runs": records,
        },
        figures={"label_efficiency": figure},
        captions={
            "label_efficiency": "Test accuracy against labelled examples used (log scale): "
            "mean over the draws, band: their range, dots: each draw."
        },
        body=report_body(config, splits, features, summary, verdicts),
        dataset=splits.sizes(),
        timings={**features.seconds, "draws_seconds": time.perf_counter() - started},
    )


STUDY = Study("labels", __doc__, run, sweep=True, arguments=add_model_argument)
main = STUDY.main

if __name__ == "__main__":
    main()
