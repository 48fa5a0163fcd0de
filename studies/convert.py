"""Same weights, two neuron models: an MLP, its spiking conversion, and the STDP network.

A ReLU MLP trained by backpropagation is converted into integrate-and-fire neurons
(:class:`neurosim.ConvertedSNN`: the same weights, normalised on training images) and run
with constant-current and with Poisson input; the STDP network of Diehl & Cook (2015), which
learns without labels, stands beside them. All three go on the same axes: accuracy against
simulated time, operations and estimated energy per inference::

    python -m studies.convert --quick                  # 784-256-10 MLP, STDP N=100: minutes
    python -m studies.convert --model snn400.npz       # the README's 784-800-10 MLP (98.6 %
                                                       # configuration), an N=400 network

The choices follow the validation protocol: the images split into 50,000 for learning (the
MLP and the STDP network learn from them; calibration images come from them) and 10,000 for
validation (the normalisation is chosen on them), and the test images are used once, for the
figures. Without ``--model`` the full mode trains an N=400 STDP network here (hours; cached).
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from neurosim import ConvertedSNN, RateMLP, STDPNetwork, plots
from neurosim.conversion import ScoreCurve
from neurosim.energy import PROFILES, ConvertedActivity, SpikingActivity, estimate_model_energy
from neurosim.experiment import Dataset, fit_or_load
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

PROFILE = "cpu-45nm"  # one profile prices all three models (the MLP runs on no other)
TOLERANCE = 0.002  # "close to the ANN": within 0.2 points
TIE = 0.0005  # validation accuracies closer than 0.05 points (5 of 10,000 images) tie
CODINGS = ("current", "poisson")


@dataclass(frozen=True)
class ConvertConfig:
    """Sizes and settings of the conversion study (see :data:`PRESETS`).

    Attributes
    ----------
    mode : str
    n_learn, n_val, n_test : int or None
        Images of the learning, validation and test splits (``None``: all).
    mlp : dict
        RateMLP parameters (seed from ``--seed``).
    n_calibration : int
        Learning images the conversion is calibrated on.
    normalizations : tuple
        Normalisations compared on the validation images (the best is used on the test
        images).
    n_steps : int
        Time steps (1 ms) per image.
    device : str
        Brian2 device of the converted network.
    n_record, n_rate : int
        Test images whose spikes are drawn, and whose rates are compared with the ANN.
    snn_neurons, snn_device, snn_n_label
        The STDP network (see :func:`studies.common.spiking_network`; the same values as
        ``studies.labels`` share its cached model).
    """

    mode: str
    n_learn: int | None
    n_val: int | None
    n_test: int | None
    mlp: dict
    n_calibration: int
    normalizations: tuple
    n_steps: int
    device: str
    n_record: int
    n_rate: int
    snn_neurons: int
    snn_device: str
    snn_n_label: int


PRESETS = {
    # The README's 98.6 % MLP (benchmarks/mlp_accuracy.py, "large"; the same model as
    # benchmarks/convert_accuracy.py, so they share its cache entry) and an N=400 network.
    "full": ConvertConfig(
        "full", None, None, None,
        {"hidden_layer_sizes": (800,), "learning_rate": 2e-3, "lr_schedule": "cosine",
         "dropout": 0.3, "max_iter": 20},
        10000, ("max", 99.9, 99.0, 90.0, 80.0), 100, "cpp_standalone", 3, 20, 400, "cpp_standalone",
        10000,
    ),
    # 10,000 learning images (the STDP network and its cache entry are studies.labels'),
    # 2,000 validation and 2,000 test images.
    "quick": ConvertConfig(
        "quick", 10000, 2000, 2000,
        {"hidden_layer_sizes": (256,), "learning_rate": 2e-3, "lr_schedule": "cosine",
         "max_iter": 10},
        2000, ("max", 99.9, 90.0), 100, "cpp_standalone", 3, 10, 100, "cpp_standalone", 1000,
    ),
    "tiny": ConvertConfig(
        "tiny", 20, 10, 10, {"hidden_layer_sizes": (8,), "max_iter": 2}, 20, ("max", 99.9),
        12, "runtime", 2, 2, 4, "runtime", 10,
    ),
}  # fmt: skip


# -- the models --------------------------------------------------------------------------------
def train_mlp(config: ConvertConfig, splits: StudySplits, args: argparse.Namespace) -> dict:
    """The MLP on the learning images (trained, or loaded from the model cache)."""
    model = RateMLP(**config.mlp, random_state=args.seed)
    fit = fit_or_load(
        model,
        splits.X_learn,
        splits.y_learn,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
    )
    logger.info(
        "MLP: %s", "loaded from the cache" if fit.cached else f"trained in {fit.fit_seconds:.0f} s"
    )
    return {
        "model": fit.model,
        "cache_key": fit.key,
        "cached": fit.cached,
        "seconds": fit.fit_seconds,
    }


def choose_normalization(
    config: ConvertConfig, mlp: RateMLP, X_cal: np.ndarray, splits: StudySplits, seed: int
) -> tuple[Any, list[dict[str, Any]]]:
    """The normalisation with the best validation accuracy averaged over the time steps (the
    accuracy of an inference stopped at any time; constant current, the default readout).
    Means within :data:`TIE` of the best tie; of those, the best accuracy after ``n_steps``
    wins (the library default was chosen so)."""
    rows = []
    ann = mlp.score(splits.X_val, splits.y_val)
    for normalization in config.normalizations:
        snn = _convert(config, mlp, X_cal, seed, normalization=normalization)
        curve = snn.score_curve(splits.X_val, splits.y_val)
        rows.append(
            {
                "normalization": normalization,
                "mean_accuracy": float(np.mean(curve.accuracy[curve.output])),
                "accuracy": float(curve.accuracy[curve.output][-1]),
                "synaptic_events": float(curve.synaptic_events[-1]),
                "steps_within_0.2": curve.steps_to_reach(ann - TOLERANCE),
            }
        )
        logger.info(
            "validation, normalisation %s: %.2f %%", normalization, 100 * rows[-1]["accuracy"]
        )
    top = max(r["mean_accuracy"] for r in rows)
    tied = [r for r in rows if r["mean_accuracy"] >= top - TIE]
    return max(tied, key=lambda r: r["accuracy"])["normalization"], rows


def _convert(config, mlp, X_cal, seed, **options) -> ConvertedSNN:
    return ConvertedSNN.from_mlp(
        mlp,
        X_cal,
        n_steps=config.n_steps,
        device=config.device,
        random_state=seed,
        verbose=1,
        **options,
    )


def converted_series(name: str, snn: ConvertedSNN, curve: ScoreCurve, ann: float) -> dict[str, Any]:
    """A converted network's accuracy, operations (multiply-accumulates and synaptic events)
    and energy on :data:`PROFILE` after every step."""
    estimates = [
        estimate_model_energy(
            snn, PROFILE, activity=ConvertedActivity.from_score_curve(snn, curve, step)
        )
        for step in curve.steps
    ]
    accuracy = curve.accuracy[curve.output]
    return {
        "name": name,
        "accuracy": accuracy.tolist(),
        "accuracy_by_readout": {k: v.tolist() for k, v in curve.accuracy.items()},
        "time_ms": curve.time_ms.tolist(),
        "operations": [
            e.count("multiply-accumulate") + e.count("synaptic event") for e in estimates
        ],
        "energy_uj": [e.energy_uj for e in estimates],
        "steps_within_0.2": curve.steps_to_reach(ann - TOLERANCE),
        "final": float(accuracy[-1]),
        "spikes_per_image": {k: float(v[-1]) for k, v in curve.spikes.items()},
        "params": {k: v for k, v in snn.get_params().items() if k not in ("verbose", "n_jobs")},
    }


def stdp_point(network: STDPNetwork, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The STDP network's accuracy, decision time, operations and energy on ``X``."""
    layers = network.layer_activity(X)
    activity = SpikingActivity.from_layer_activity(network, layers)
    estimate = estimate_model_energy(network, PROFILE, activity=activity)
    return {
        "name": f"STDP network N={network.n_neurons}",
        "accuracy": float(np.mean(network.predict_from_counts(layers["counts"]) == y)),
        "time_ms": 1e3 * activity.decision_latency_s,
        "operations": estimate.count("synaptic event"),
        "energy_uj": estimate.energy_uj,
    }


# -- figures -----------------------------------------------------------------------------------
def rate_points(snn: ConvertedSNN, X: np.ndarray) -> dict[str, tuple[list, list]]:
    """Each neuron's measured rate (spikes per step) and its normalised ANN activation."""
    recording = snn.record_activity(X)
    layers = [name for name in recording.spikes if name != "input"]  # as activations() lists
    points = {}
    for layer, activation in zip(layers, snn.activations(X), strict=True):
        steps, image, neuron = recording.spikes[layer]
        counts = np.zeros_like(activation)
        np.add.at(counts, (image, neuron), 1.0)
        points[layer] = (activation.ravel().tolist(), (counts / snn.n_steps).ravel().tolist())
    return points


def figures(config, data, splits, series, converted) -> dict:
    """Accuracy against cost, spike rasters (both codings) and the rate code."""
    X_record, y_record = splits.X_test[: config.n_record], splits.y_test[: config.n_record]
    labels = [f"digit {label}" for label in y_record]
    out = {
        "accuracy_vs_cost": plots.conversion_curves(
            series,
            title=f"Same weights, two neuron models — {dataset_tag(data)}, "
            f"{len(splits.X_test):,} test images, dt = 1 ms",
        )
    }
    X_rate = splits.X_test[: config.n_rate]
    for coding, snn in converted.items():
        out[f"raster_{coding}"] = plots.conversion_rasters(
            snn.record_activity(X_record),
            example_labels=labels,
            dt_ms=1.0,
            title=f"Spikes of the converted network, {coding} input",
        )
    out["rate_code"] = plots.rate_code(
        {coding: rate_points(snn, X_rate) for coding, snn in converted.items()},
        title=f"Rate code: each neuron of {config.n_rate} test images, {config.n_steps} steps",
    )
    return out


# -- report ------------------------------------------------------------------------------------
def _when(steps: int | None) -> str:
    return f"after {steps} ms" if steps is not None else "not within the simulated time"


def _converted_lines(s: dict[str, Any], ann_energy: float) -> str:
    """What one converted network's curve shows, from its numbers."""
    accuracy, energy = s["accuracy"], s["energy_uj"]
    early = ", ".join(
        f"{accuracy[k - 1]:.1%} after {k} ms" for k in (1, 5, 10) if k <= len(accuracy)
    )
    text = (
        f"- **{s['name']}**: {early}; within 0.2 points of the ANN {_when(s['steps_within_0.2'])}"
        f"; {s['final']:.2%} after {len(accuracy)} ms, where one inference costs "
        f"{energy[-1] / ann_energy:.1f}x the ANN's energy"
    )
    if s["steps_within_0.2"] is not None:
        stop = s["steps_within_0.2"]
        text += f" ({energy[stop - 1] / ann_energy:.1f}x if stopped after {stop} ms)"
    return text + "."


def report_body(config, splits, series, selection, normalization, stdp_source) -> list[str]:
    """What was run and what the figures show, in plain words."""
    ann, stdp = series[0], series[-1]
    converted = series[1:-1]
    params = converted[0]["params"]
    readout = {"membrane": "the charge of a non-spiking output layer", "spikes": "spike counts"}
    lines = [
        f"The MLP ({ann['name']}) learnt from {len(splits.X_learn):,} learning images "
        f"({splits.protocol}); it classifies {ann['accuracy']:.2%} of the "
        f"{len(splits.X_test):,} test images. Converted into integrate-and-fire neurons "
        f"(threshold 1 after normalisation, reset: {params['reset']}, biases as constant "
        f"currents, readout: {readout[params['output']]}), it keeps the same weights. The "
        f"normalisation was chosen on {len(splits.X_val):,} validation images, by the "
        "accuracy averaged over the simulated time (the accuracy of an inference stopped at "
        f"any time): **{normalization}** (table below); calibration used "
        f"{config.n_calibration:,} learning images.",
        "",
        f"| normalisation | validation accuracy, mean over 1-{config.n_steps} ms | after "
        f"{config.n_steps} ms | synaptic events / image | within 0.2 points of the ANN |",
        "|---|---|---|---|---|",
        *(
            f"| {r['normalization']} | {r['mean_accuracy']:.2%} | {r['accuracy']:.2%} | "
            f"{r['synaptic_events']:,.0f} | {_when(r['steps_within_0.2'])} |"
            for r in selection
        ),
        "",
        "| model | test accuracy | simulated time | operations / inference | energy / inference |",
        "|---|---|---|---|---|",
        f"| {ann['name']} | {ann['accuracy']:.2%} | one pass, no time | "
        f"{ann['operations']:,.0f} MACs | {ann['energy_uj']:.2f} µJ |",
        *(
            f"| {s['name']} | {s['final']:.2%} | {s['time_ms'][-1]:.0f} ms | "
            f"{s['operations'][-1]:,.0f} | {s['energy_uj'][-1]:.2f} µJ |"
            for s in converted
        ),
        f"| {stdp['name']} | {stdp['accuracy']:.2%} | {stdp['time_ms']:.0f} ms | "
        f"{stdp['operations']:,.0f} synaptic events | {stdp['energy_uj']:.2f} µJ |",
        "",
        "What the figures show:",
        "",
        *(_converted_lines(s, ann["energy_uj"]) for s in converted),
        f"- **{stdp['name']}**, {stdp_source}, decides after {stdp['time_ms']:.0f} ms on "
        f"average (its 350 ms presentation, plus re-presentations) at {stdp['accuracy']:.2%}, "
        f"{stdp['energy_uj'] / ann['energy_uj']:.1f}x the ANN's energy: it learnt without "
        "labels, from spike timing alone, while the converted networks inherit weights learnt "
        "by backpropagation.",
        "- Operations are multiply-accumulates (the ANN; the converted network's constant "
        "input current, once per image) plus synaptic events (a spike adding its weight to a "
        "neuron of the next layer). A spike replaces a multiplication by an addition, but a "
        "rate code spends many spikes on each value, and every spiking neuron is updated in "
        "every time step.",
        f"- Energy uses the `{PROFILE}` profile of `neurosim.energy` for all three models "
        f"({PROFILES[PROFILE].title}); the converted networks' non-leaky integrate-and-fire "
        "neurons are priced with their own update, simpler than the STDP network's "
        "conductance-based one.",
        "- The rasters show the rate code at work: neurons with large activations fire "
        "regularly, the others rarely or never. The scatter puts each neuron's rate against "
        "its ReLU activation divided by its layer's scale: on the dotted line the conversion "
        "is exact; rates cannot exceed one spike per step, and Poisson input scatters them.",
    ]
    return lines


def run(args: argparse.Namespace, data: Dataset) -> StudyOutput:
    """Train (or load) the models, convert the MLP, choose on validation, test, draw."""
    config = PRESETS[mode_of(args)]
    splits = study_splits(config, data, args.seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    mlp_fit = train_mlp(config, splits, args)
    mlp = mlp_fit["model"]
    network, stdp_source = spiking_network(config, splits, args)
    timings["models_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    X_cal = splits.X_learn[: config.n_calibration]
    normalization, selection = choose_normalization(config, mlp, X_cal, splits, args.seed)
    timings["validation_seconds"] = time.perf_counter() - started

    ann = mlp.score(splits.X_test, splits.y_test)
    ann_energy = estimate_model_energy(mlp, PROFILE)
    hidden = "-".join(str(h) for h in mlp.hidden_layer_sizes)
    series = [
        {
            "name": f"ANN 784-{hidden}-10",
            "accuracy": ann,
            "time_ms": None,
            "operations": ann_energy.count("multiply-accumulate"),
            "energy_uj": ann_energy.energy_uj,
        }
    ]
    converted = {}
    for coding in CODINGS:
        started = time.perf_counter()
        snn = _convert(
            config, mlp, X_cal, args.seed, normalization=normalization, input_coding=coding
        )
        curve = snn.score_curve(splits.X_test, splits.y_test)
        timings[f"{coding}_seconds"] = time.perf_counter() - started
        series.append(converted_series(f"converted, {coding} input", snn, curve, ann))
        converted[coding] = snn
        logger.info(
            "converted, %s input: %.2f %% after %d steps (%s)",
            coding,
            100 * series[-1]["final"],
            config.n_steps,
            duration(timings[f"{coding}_seconds"]),
        )
    started = time.perf_counter()
    series.append(stdp_point(network, splits.X_test, splits.y_test))
    timings["stdp_test_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    figs = figures(config, data, splits, series, converted)
    timings["figures_seconds"] = time.perf_counter() - started
    return StudyOutput(
        title="Same weights, two neuron models: the MLP converted into spikes "
        f"({config.mode} mode)",
        results={
            "config": asdict(config),
            "seed": args.seed,
            "protocol": splits.protocol,
            "mlp": {k: v for k, v in mlp_fit.items() if k != "model"},
            "stdp": stdp_source,
            "energy_profile": PROFILES[PROFILE].as_dict(),
            "normalization": normalization,
            "validation": selection,
            "models": series,
        },
        figures=figs,
        captions={
            "accuracy_vs_cost": "Test accuracy against simulated time (the ANN has none: a "
            "dashed line), operations (multiply-accumulates + synaptic events) and estimated "
            f"energy per inference ({PROFILE}); the converted networks after every 1 ms step, "
            "the STDP network at its decision.",
            "raster_current": "Spikes of each layer of the converted network, constant-current "
            "input, a few test images one after another.",
            "raster_poisson": "The same with Poisson input (the input layer's spikes included).",
            "rate_code": "Each converted neuron's firing rate against its ReLU activation "
            "divided by its layer's scale (test images; dotted: min(max(a, 0), 1)).",
        },
        body=report_body(config, splits, series, selection, normalization, stdp_source["trained"]),
        dataset=splits.sizes(),
        timings=timings,
    )


STUDY = Study("convert", __doc__, run, arguments=add_model_argument)
main = STUDY.main

if __name__ == "__main__":
    main()
