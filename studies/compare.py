"""Compare the rate-based MLP and the spiking STDP network under one configuration.

Trains both models on the same data, tests them on the same images and writes a folder with
``results.json``, six kinds of PNG figures and a ``report.md`` that embeds them::

    python -m studies.compare --quick              # minutes: N=100 on 3,000 MNIST images
    python -m studies.compare                      # paper scale: N=400 on 60,000, about an hour
    python -m studies.compare --dataset digits     # scikit-learn's digits (not MNIST)

``--dataset auto`` (the default) uses MNIST when it can be found or downloaded and otherwise
falls back to scikit-learn's digits, saying so on screen, in the report and in every figure.
Trained models are cached under ``results/cache/`` by configuration; ``--no-cache`` retrains.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurosim import RateMLP, STDPNetwork, load_mnist, plots
from neurosim.energy import ENERGY_SOURCE, FP32_ADD_PJ, FP32_MAC_PJ, FP32_MULT_PJ
from neurosim.experiment import (
    Dataset,
    FitResult,
    Splits,
    curve_points,
    evaluate,
    fit_or_load,
    load_dataset,
    split_dataset,
    summary_row,
)
from studies.common import (
    build_parser,
    dataset_lines,
    dataset_tag,
    duration,
    mode_of,
    output_folder,
    package_versions,
    run_cli,
    save_figures,
    say,
    write_report,
    write_results,
)


@dataclass(frozen=True)
class CompareConfig:
    """Sizes and settings of one comparison (see :data:`PRESETS`)."""

    mode: str
    n_train: int | None  # training examples for the SNN and the first MLP (None: all)
    n_val: int  # learning-curve validation images (0: no curves)
    val_from: str  # "train" (held out from training) or "test" (monitoring only)
    n_test: int | None  # test images (None: all)
    snn_neurons: int
    snn_passes: int
    snn_device: str
    snn_chunk: int
    snn_validation_interval: int | None
    snn_n_label: int | None  # training images that assign the neurons (None: all)
    mlp_hidden: tuple[int, ...]
    mlp_epochs: int
    mlp_full_epochs: int | None  # also train an MLP on the whole training split (None: no)
    record_examples: int  # test images whose activity is recorded for the raster
    record_device: str  # Brian2 device of the recording (runtime: no compilation)
    seed: int = 0
    snn_params: dict | None = None  # overrides of the network constants (STDPNetwork params)


PRESETS = {
    # Diehl & Cook's setting: 400 neurons, one pass over all 60,000 images, labels assigned from
    # the training set, all 10,000 test images. Learning-curve points use 1,000 test images,
    # for monitoring only (nothing is selected with them).
    "full": CompareConfig(
        mode="full",
        n_train=None,
        n_val=1000,
        val_from="test",
        n_test=None,
        snn_neurons=400,
        snn_passes=1,
        snn_device="cpp_standalone",
        snn_chunk=1000,
        snn_validation_interval=20000,
        snn_n_label=10000,  # as the original code: responses to the last 10,000 examples
        mlp_hidden=(256,),
        mlp_epochs=20,
        mlp_full_epochs=None,
        record_examples=3,
        record_device="runtime",
    ),
    "quick": CompareConfig(
        mode="quick",
        n_train=3000,
        n_val=500,
        val_from="train",
        n_test=1000,
        snn_neurons=100,
        snn_passes=1,
        snn_device="cpp_standalone",
        snn_chunk=1000,
        snn_validation_interval=1000,
        snn_n_label=None,
        mlp_hidden=(256,),
        mlp_epochs=10,
        mlp_full_epochs=3,
        record_examples=3,
        record_device="runtime",
    ),
    # For tests: seconds, no compiler needed.
    "tiny": CompareConfig(
        mode="tiny",
        n_train=10,
        n_val=10,
        val_from="train",
        n_test=10,
        snn_neurons=10,
        snn_passes=1,
        snn_device="runtime",
        snn_chunk=10,
        snn_validation_interval=None,  # each validation relabels: too slow for tests
        snn_n_label=None,
        mlp_hidden=(32,),
        mlp_epochs=2,
        mlp_full_epochs=None,
        record_examples=2,
        record_device="runtime",
    ),
}

# Rough speeds on one free core of the development machine, for the up-front estimate.
_SNN_SECONDS_PER_WINDOW_PER_NEURON = {
    "cpp_standalone": 3.0e-5,
    "cuda_standalone": 3.0e-5,  # not measured: no GPU here
    "runtime": 3.5e-3,
}
_SNN_WINDOWS_PER_EXAMPLE = 1.5  # re-presentations of images that drew too few spikes
_SNN_COMPILE_SECONDS = 60.0
_MLP_SECONDS_PER_MAC_EXAMPLE = 1.5e-9  # forward + backward pass, per weight and example


# -- sizes and estimate ------------------------------------------------------------------------
def _mlp_macs(config: CompareConfig, n_features: int = 784, n_classes: int = 10) -> int:
    sizes = (n_features, *config.mlp_hidden, n_classes)
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def estimate_seconds(config: CompareConfig, n_train: int, n_full: int, n_test: int) -> dict:
    """Rough run time of each part, assuming an otherwise idle machine."""
    per_window = _SNN_SECONDS_PER_WINDOW_PER_NEURON[config.snn_device] * config.snn_neurons
    n_label = min(n_train, config.snn_n_label or n_train)
    presentations = n_train * config.snn_passes + n_label + n_test  # train, label, test
    if config.n_val and config.snn_validation_interval:
        n_validations = (n_train * config.snn_passes) // config.snn_validation_interval
        presentations += n_validations * (n_label + config.n_val)
    snn = presentations * _SNN_WINDOWS_PER_EXAMPLE * per_window
    if config.snn_device == "cpp_standalone":
        snn += _SNN_COMPILE_SECONDS
    mlp_examples = n_train * config.mlp_epochs + n_full * (config.mlp_full_epochs or 0)
    mlp = mlp_examples * _mlp_macs(config) * _MLP_SECONDS_PER_MAC_EXAMPLE
    return {"snn": snn, "mlp": mlp, "total": snn + mlp + 10.0}


# -- models ------------------------------------------------------------------------------------
def make_models(config: CompareConfig, n_train: int, n_full: int) -> dict[str, tuple[Any, str]]:
    """Model name -> (unfitted model, which training set: "subset" or "full")."""
    hidden = "-".join(str(h) for h in config.mlp_hidden)
    models: dict[str, tuple[Any, str]] = {
        f"STDP SNN N={config.snn_neurons}": (
            STDPNetwork(
                n_neurons=config.snn_neurons,
                max_iter=config.snn_passes,
                device=config.snn_device,
                chunk_size=config.snn_chunk,
                validation_interval=config.snn_validation_interval if config.n_val else None,
                n_label=config.snn_n_label,
                params=config.snn_params,
                random_state=config.seed,
                verbose=1,
            ),
            "subset",
        ),
        f"MLP 784-{hidden}-10 ({n_train:,} ex.)": (
            RateMLP(
                hidden_layer_sizes=config.mlp_hidden,
                optimizer="adam",
                max_iter=config.mlp_epochs,
                batch_size=128,
                random_state=config.seed,
                verbose=1,
            ),
            "subset",
        ),
    }
    if config.mlp_full_epochs and n_full > n_train:
        models[f"MLP 784-{hidden}-10 ({n_full:,} ex.)"] = (
            RateMLP(
                hidden_layer_sizes=config.mlp_hidden,
                optimizer="adam",
                max_iter=config.mlp_full_epochs,
                batch_size=128,
                random_state=config.seed,
                verbose=1,
            ),
            "full",
        )
    return models


def make_splits(config: CompareConfig, data: Dataset) -> Splits:
    """The comparison's seeded training subset, validation set and test subset of ``data``."""
    return split_dataset(
        data,
        n_train=config.n_train,
        n_val=config.n_val,
        n_test=config.n_test,
        seed=config.seed,
        val_from=config.val_from,
    )


def trained_models(
    config: CompareConfig,
    splits: Splits,
    *,
    cache_dir: Path | None = Path("results/cache"),
    use_cache: bool = True,
    resume: bool = False,
) -> dict[str, tuple[FitResult, int]]:
    """Train the comparison's models, or load them from the cache (shared by all studies).

    Returns model name -> (fit result, size of its training set).
    """
    training_sets = {
        "subset": (splits.X_train, splits.y_train),
        "full": (splits.X_pool, splits.y_pool),
    }
    trained = {}
    for name, (model, which) in make_models(
        config, len(splits.X_train), len(splits.X_pool)
    ).items():
        X, y = training_sets[which]
        say(f"{name}: training on {len(X):,} images ...")
        fit = fit_or_load(
            model,
            X,
            y,
            X_val=splits.X_val,
            y_val=splits.y_val,
            cache_dir=cache_dir,
            use_cache=use_cache,
            resume=resume,
        )
        say(
            f"{name}: {'loaded from cache' if fit.cached else 'trained'} "
            f"({fit.fit_seconds:.1f} s"
            + (f", engine build {fit.compile_seconds:.0f} s" if fit.compile_seconds else "")
            + ")"
        )
        trained[name] = (fit, len(X))
    return trained


def snn_health(row: dict, history: list[dict]) -> list[str]:
    """Warnings when the spiking network fell silent or ran away (results then mean little)."""
    warnings = []
    last = history[-1] if history else {}
    retry = last.get("retry_fraction")
    if retry is not None and retry > 0.8:
        warnings.append(
            f"{row['model']}: {100 * retry:.0f} % of the last training windows drew fewer than "
            "5 spikes and were re-shown (the network has fallen silent)"
        )
    theta = last.get("theta_max_mV")
    if theta is not None and theta > 100:
        warnings.append(
            f"{row['model']}: adaptive thresholds reached {theta:.0f} mV (about 20-60 mV is "
            "usual): the thresholds ran away"
        )
    spikes = row.get("spikes_per_inference")
    if spikes is not None and not 1 <= spikes <= 100:
        warnings.append(
            f"{row['model']}: {spikes:.1f} excitatory spikes per test image (about 5-20 is usual)"
        )
    return warnings


def record_activity(snn: STDPNetwork, X: np.ndarray, counts: np.ndarray, device: str) -> dict:
    """Spikes and traces of the first test images, for the raster and the membrane traces.

    The most active neurons on those images are traced. The recording runs on a copy with
    ``device`` (the runtime device needs no compilation for these few windows).
    """
    import copy

    recorder = copy.deepcopy(snn).set_params(device=device, verbose=0)
    activity_order = np.argsort(-counts.sum(axis=0), kind="stable")
    neurons = tuple(int(i) for i in activity_order[: min(3, snn.n_neurons)])
    activity = recorder.record_activity(X, neurons=neurons)
    p = snn.network_params()
    activity["v_thresh"] = float(p.v_thresh_exc)
    activity["theta_offset"] = float(p.theta_offset)
    return activity


def activity_figures(
    snn: STDPNetwork,
    activity: dict,
    example_labels: list[str],
    *,
    raster_title: str,
    traces_title: str,
) -> dict:
    """The spike raster and the membrane traces of a :func:`record_activity` recording."""
    return {
        "spike_raster": plots.spike_raster(
            activity,
            example_labels=example_labels,
            layer_sizes={
                "input": snn.n_features_in_,
                "excitatory": snn.n_neurons,
                "inhibitory": snn.n_neurons,
            },
            title=raster_title,
        ),
        "membrane_traces": plots.membrane_traces(
            activity, example_labels=example_labels, title=traces_title
        ),
    }


# -- report ------------------------------------------------------------------------------------
def _fmt_train_time(row: dict) -> str:
    text = f"{row['train_seconds']:.1f} s"
    learning = row.get("learning_seconds")
    if learning is not None and learning < 0.9 * row["train_seconds"]:
        text += f" (learning alone {learning:.1f} s)"
    return text


def _fmt_ops(row: dict) -> str:
    unit = "MACs" if row["op_kind"] == "multiply-accumulate" else "synaptic events"
    ops = row["ops_per_inference"]
    text = f"{ops / 1e6:.2f} M" if ops >= 1e6 else f"{ops:,.0f}"
    return f"{text} {unit}"


def _fmt_energy(row: dict) -> str:
    return f"{row['energy_per_inference_j'] * 1e6:.3g} µJ ({row['pj_per_op']:.1f} pJ/op)"


def _fmt_activity(row: dict) -> str:
    share = 100 * row["active_fraction"]
    if row["spikes_per_inference"] is None:
        return f"{share:.0f} % of hidden units nonzero"
    return f"{row['spikes_per_inference']:.1f} spikes; {share:.1f} % of neurons fire"


def summary_markdown(rows: Sequence[dict]) -> str:
    """The comparison table in Markdown."""
    header = (
        "| model | test accuracy | training wall time | training examples seen | "
        "inference time / image | operations / inference | energy / inference (est.) | "
        "activity / inference | labels used for learning |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        lines.append(
            f"| {r['model']} | {100 * r['accuracy']:.1f} % (n = {r['n_test']:,}) "
            f"| {_fmt_train_time(r)} | {r['examples_seen']:,} "
            f"| {r['inference_ms_per_image']:.3g} ms | {_fmt_ops(r)} | {_fmt_energy(r)} "
            f"| {_fmt_activity(r)} | {r['labels_for_learning']} |"
        )
    return header + "\n".join(lines) + "\n"


FIGURE_CAPTIONS = {
    "comparison_bars": "Accuracy, training time, operations and estimated energy per inference.",
    "learning_curves": "Validation accuracy against training examples seen and wall time.",
    "confusion_matrices": "Test-set confusion matrices (rows: true class, share in %).",
    "receptive_fields_snn": "Input weights of the spiking network's excitatory neurons "
    "(number: class assigned from the training labels).",
    "receptive_fields_mlp": "Input weights of the MLP's first hidden units (red +, blue -).",
    "spike_raster": "Spikes of all three layers while the first test images are shown "
    "(learning frozen); shaded: stimulus, white: rest.",
    "membrane_traces": "Membrane potential and adaptive threshold of the most active "
    "excitatory neurons during the same images.",
}


def write_compare_report(folder: Path, results: dict) -> Path:
    """``report.md`` with the dataset first, the summary table and the figures."""
    dataset = results["dataset"]
    config = results["config"]
    lines = dataset_lines(dataset)
    for warning in results.get("warnings", []):
        lines += ["", f"> **Warning:** {warning}."]
    overrides = config.get("snn_params")
    if overrides:
        lines += ["", f"Spiking-network constants overridden: `{json.dumps(overrides)}`."]
    lines += [
        "",
        f"Training set: {dataset['n_train']:,} images (of {dataset['n_train_available']:,}); "
        f"test set: {dataset['n_test']:,} images (of {dataset['n_test_available']:,}); "
        f"learning-curve validation: {dataset['n_val']:,} images from the "
        f"{dataset['val_source']}. Seed {config['seed']}. Written {results['created']}; "
        f"whole study {results['timings']['total_seconds']:.0f} s.",
        "",
        "## Summary",
        "",
        summary_markdown(results["summary"]),
        "Energy is estimated from operation counts only: "
        f"one multiply-accumulate = one 32-bit float multiply + add = {FP32_MULT_PJ} + "
        f"{FP32_ADD_PJ} = {FP32_MAC_PJ:.1f} pJ; one synaptic event = one 32-bit float "
        f"accumulate (add) = {FP32_ADD_PJ} pJ ({ENERGY_SOURCE}). Memory traffic, the spiking "
        "network's per-time-step neuron updates and spike routing are not counted. The SNN's "
        "operations are its mean synaptic events (input, excitatory and inhibitory spikes "
        "times their fan-out, re-presentations included) measured while labelling; each of its "
        "inferences also takes at least "
        f"{results['snn_protocol']['window_s'] * 1e3:.0f} ms of simulated time.",
        "",
        "Training wall time is that of `fit`: it excludes the one-off compilation of the "
        "spiking network (listed in results.json) and includes the spiking network's labelling "
        "and learning-curve validation passes (each validation re-assigns every neuron from "
        "its labelling images); the time of learning alone is given in brackets. Timings come "
        "from a shared machine and vary from run to run."
        + (
            " Some models were loaded from the cache; their times are those of the run "
            "that trained them."
            if any(r["cached"] for r in results["summary"])
            else ""
        ),
        "",
    ]
    return write_report(
        folder,
        f"Rate-based MLP vs spiking STDP network ({config['mode']} mode)",
        lines,
        results["figures"],
        FIGURE_CAPTIONS,
        results["command"],
        results["timings"]["total_seconds"],
    )


# -- the study ---------------------------------------------------------------------------------
def run_compare(
    config: CompareConfig,
    *,
    dataset: str = "auto",
    out: Path | None = None,
    force: bool = False,
    cache_dir: Path | None = Path("results/cache"),
    use_cache: bool = True,
    resume: bool = False,
    data_home: str | None = None,
    download: bool = True,
    mnist_loader: Callable[..., Any] = load_mnist,
    loader_kwargs: dict | None = None,
    command: str = "",
) -> dict:
    """Run the comparison and write its folder; returns the contents of ``results.json``."""
    started = time.perf_counter()
    data = load_dataset(
        dataset,
        data_home=data_home,
        download=download,
        mnist_loader=mnist_loader,
        **(loader_kwargs or {}),
    )
    if data.notice:
        say("NOTICE: " + data.notice)
    folder = output_folder("compare", out, force)
    tag = dataset_tag(data)
    say(f"dataset: {data.name}; writing to {folder}")

    seed = config.seed
    splits = make_splits(config, data)
    X_train, X_pool, X_test, y_test = splits.X_train, splits.X_pool, splits.X_test, splits.y_test
    n_val = 0 if splits.X_val is None else len(splits.X_val)

    estimate = estimate_seconds(config, len(X_train), len(X_pool), len(X_test))
    say(
        f"{config.mode} mode: SNN N={config.snn_neurons} on {len(X_train):,} images "
        f"({config.snn_passes} pass), MLP on the same; testing on {len(X_test):,}. "
        f"Estimated time on an idle machine: ~{duration(estimate['total'])} "
        f"(SNN ~{duration(estimate['snn'])} incl. a first compilation, "
        f"MLP ~{duration(estimate['mlp'])})"
    )

    trained = trained_models(
        config, splits, cache_dir=cache_dir, use_cache=use_cache, resume=resume
    )
    models = list(trained)
    fits, evaluations, rows, warnings = {}, {}, [], []
    for name, (fit, n_train) in trained.items():
        say(f"{name}: testing ...")
        evaluation = evaluate(fit.model, X_test, y_test)
        row = summary_row(name, fit, evaluation, n_train)
        say(
            f"{name}: test accuracy {100 * evaluation['accuracy']:.2f} % "
            f"({evaluation['seconds_per_image'] * 1e3:.3g} ms per image)"
        )
        fits[name], evaluations[name] = fit, evaluation
        rows.append(row)
        if isinstance(fit.model, STDPNetwork):
            for warning in snn_health(row, fit.model.history_):
                say("WARNING: " + warning)
                warnings.append(warning)

    snn_name = next(name for name in models if name.startswith("STDP"))
    mlp_name = next(name for name in models if name.startswith("MLP"))
    snn, mlp = fits[snn_name].model, fits[mlp_name].model
    say("recording spikes of a few test images and drawing the figures ...")
    phase = time.perf_counter()
    k = min(config.record_examples, len(X_test))
    activity = record_activity(
        snn, X_test[:k], evaluations[snn_name]["counts"][:k], config.record_device
    )

    record_seconds = time.perf_counter() - phase
    phase = time.perf_counter()
    example_labels = [str(label) for label in y_test[:k]]
    curves = {name: curve_points(fit.model.history_) for name, fit in fits.items()}
    chance = 1.0 / len(np.unique(data.y_train))
    figures = {
        "comparison_bars": plots.comparison_bars(
            rows,
            title=f"Rate-based MLP vs spiking STDP network — {tag}, {len(X_test):,} test images",
            footnote=(
                f"Energy: arithmetic only, {FP32_MAC_PJ:.1f} pJ per multiply-accumulate and "
                f"{FP32_ADD_PJ} pJ per synaptic event (one add), from {ENERGY_SOURCE}."
            ),
        ),
        "learning_curves": plots.learning_curves(
            curves, chance=chance, title=f"Learning curves — {tag}, {n_val:,} validation images"
        ),
        "confusion_matrices": plots.confusion_matrices(
            {name: (y_test, evaluations[name]["y_pred"]) for name in models},
            title=f"Confusion matrices — {tag} test set",
        ),
        "receptive_fields_snn": plots.receptive_fields(
            snn.weights_,
            n=100,
            labels=[str(snn.classes_[a]) if a >= 0 else "-" for a in snn.assignments_],
            title=f"{snn_name}: input weights after STDP — {tag}",
        ),
        "receptive_fields_mlp": plots.receptive_fields(
            mlp.coefs_[0], n=100, title=f"{mlp_name}: first-layer weights — {tag}"
        ),
        **activity_figures(
            snn,
            activity,
            example_labels,
            raster_title=f"{snn_name}: spikes while showing {k} {tag} test images "
            "(learning frozen)",
            traces_title=f"{snn_name}: membrane potential and threshold — {tag}",
        ),
    }
    filenames = save_figures(folder, figures)

    results = {
        "study": "compare",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": command or "python -m studies.compare",
        "mode": config.mode,
        "config": dataclasses.asdict(config),
        "seeds": {"global": seed, "models": seed, "subsets": seed, "validation_subset": seed + 1},
        "versions": package_versions(),
        "dataset": {
            **data.info(),
            "requested": dataset,
            "n_train": len(X_train),
            "n_train_full": len(X_pool),
            "n_val": n_val,
            "val_source": (
                "training split (held out)"
                if config.val_from == "train"
                else "test split (monitoring only)"
            ),
            "n_test": len(X_test),
        },
        "energy_model": {
            "source": ENERGY_SOURCE,
            "fp32_mult_pj": FP32_MULT_PJ,
            "fp32_add_pj": FP32_ADD_PJ,
            "mac_pj": FP32_MAC_PJ,
            "synaptic_event_pj": FP32_ADD_PJ,
            "assumption": "a synaptic event is one accumulate (add); arithmetic only",
        },
        "snn_protocol": {
            "window_s": activity["window_s"],
            "presentation_s": activity["presentation_s"],
            "params": snn.network_params().as_dict(),
            "recorded_neurons": [int(i) for i in activity["neurons"]],
            "recording_device": config.record_device,
        },
        "summary": rows,
        "warnings": warnings,
        "models": {
            name: {
                "estimator": type(fit.model).__name__,
                "params": {
                    k: v for k, v in fit.model.get_params().items() if k not in ("verbose",)
                },
                "cache_key": fit.key,
                "cached": fit.cached,
                "cache_file": fit.path,
                "fit_seconds": fit.fit_seconds,
                "compile_seconds": fit.compile_seconds,
                "predict_seconds": evaluations[name]["predict_seconds"],
                "energy": evaluations[name]["energy"],
                "learning_curve": curves[name],
                "history": fit.model.history_,
            }
            for name, fit in fits.items()
        },
        "figures": filenames,
        "timings": {
            "total_seconds": time.perf_counter() - started,
            "recording_seconds": record_seconds,
            "figures_seconds": time.perf_counter() - phase,
            "estimate_seconds": estimate,
        },
    }
    results = write_results(folder, results)
    write_compare_report(folder, results)
    for row in rows:
        say(f"  {row['model']}: {100 * row['accuracy']:.2f} % test accuracy")
    return results


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--resume",
        action="store_true",
        help="checkpoint training in the cache folder and continue an interrupted run",
    )
    parser.add_argument(
        "--snn-params",
        type=json.loads,
        metavar="JSON",
        help="overrides of the spiking network's constants, e.g. '{\"w_inh_exc\": 34.0}'",
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return build_parser("compare", __doc__, extra_arguments=_compare_arguments).parse_args(argv)


def main(argv: Sequence[str] | None = None, **run_kwargs: Any) -> dict:
    """Command-line entry point; ``run_kwargs`` go to :func:`run_compare` (e.g. a loader)."""

    def run(args: argparse.Namespace, command: str) -> dict:
        config = PRESETS[mode_of(args)]
        config = dataclasses.replace(config, seed=args.seed, snn_params=args.snn_params)
        return run_compare(
            config,
            dataset=args.dataset,
            out=args.out,
            force=args.force,
            cache_dir=args.cache_dir,
            use_cache=not args.no_cache,
            resume=args.resume,
            data_home=args.data_home,
            download=not args.no_download,
            command=command,
            **run_kwargs,
        )

    return run_cli("compare", __doc__, run, argv, extra_arguments=_compare_arguments)


if __name__ == "__main__":
    main()
