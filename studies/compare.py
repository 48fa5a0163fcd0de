"""Compare the rate-based MLP and the spiking STDP network under one configuration.

Trains both models on the same data, converts the MLP into a spiking network of
integrate-and-fire neurons (a third row: the same weights, run as spikes), tests them all on
the same images and writes a folder with ``results.json``, six kinds of PNG figures and a
``report.md`` that embeds them::

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
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from neurosim import ConvertedSNN, RateMLP, STDPNetwork, plots
from neurosim.comparison import (
    COMPARISON_PRESETS,
    ComparisonConfig,
    Evaluation,
    SummaryRow,
    comparison_splits,
    converted_model,
    curve_points,
    evaluate,
    record_activity,
    stable_vote_times,
    summary_row,
    trained_models,
)
from neurosim.energy import (
    DRAM_READ_PJ,
    OPERATION_KINDS,
    PROFILES,
    SRAM_READ_PJ,
    EnergyEstimate,
)
from neurosim.experiment import Dataset, FitResult, Splits
from neurosim.spiking.network import DEFAULT_N_LABEL_VALIDATION, ActivityRecording
from studies.common import Study, StudyOutput, activity_figures, dataset_tag, duration, mode_of

logger = logging.getLogger(__name__)

# Rough speeds on one free core of the development machine, for the up-front estimate.
_SNN_SECONDS_PER_WINDOW_PER_NEURON = {
    "cpp_standalone": 4.5e-5,  # learning, AMD EPYC (Zen 3); ~2x less with AVX-512
    "cuda_standalone": 3.0e-5,  # not measured: no GPU here
    "runtime": 3.5e-3,
}
_SNN_WINDOWS_PER_EXAMPLE = 1.5  # re-presentations of images that drew too few spikes
# Frozen evaluation (batched copies, every core) against learning, examples per second
# (benchmarks/snn_eval_speed.py on 2 cores, benchmarks/RESULTS.md).
_SNN_EVALUATION_SPEEDUP = 4.0
_SNN_COMPILE_SECONDS = 60.0  # the learning and the frozen build, from scratch
_MLP_SECONDS_PER_MAC_EXAMPLE = 6e-11  # forward + backward pass, per weight and example
# The converted 784-256-10 MLP, 100 steps per image, both cores (shared machine, load 6-31):
# 10,000 test images in 8.5-8.7 s; the first build of its engine about 30 s.
_CONVERTED_SECONDS_PER_IMAGE = 8e-4
_CONVERTED_COMPILE_SECONDS = 30.0
_CONVERTED_OPS_IMAGES = 1000  # simulated by the conversion to measure its operations


# -- sizes and estimate ------------------------------------------------------------------------
def _mlp_macs(config: ComparisonConfig, n_features: int = 784, n_classes: int = 10) -> int:
    sizes = (n_features, *config.mlp_hidden, n_classes)
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def estimate_seconds(config: ComparisonConfig, n_train: int, n_full: int, n_test: int) -> dict:
    """Rough run time of each part, assuming an otherwise idle machine."""
    per_window = _SNN_SECONDS_PER_WINDOW_PER_NEURON[config.snn_device] * config.snn_neurons
    n_label = min(n_train, config.snn_n_label or n_train)
    evaluated = n_label + n_test
    if config.n_val and config.snn_validation_interval:
        n_validations = (n_train * config.snn_passes) // config.snn_validation_interval
        label_points = min(n_train, DEFAULT_N_LABEL_VALIDATION)
        evaluated += n_validations * (label_points + config.n_val)
    speedup = 1.0 if config.snn_device == "runtime" else _SNN_EVALUATION_SPEEDUP
    presentations = n_train * config.snn_passes + evaluated / speedup
    snn = presentations * _SNN_WINDOWS_PER_EXAMPLE * per_window
    if config.snn_device == "cpp_standalone":
        snn += _SNN_COMPILE_SECONDS
    mlp_examples = n_train * config.mlp_epochs + n_full * (config.mlp_full_epochs or 0)
    mlp = mlp_examples * _mlp_macs(config) * _MLP_SECONDS_PER_MAC_EXAMPLE
    converted_images = min(config.n_calibration, _CONVERTED_OPS_IMAGES) + n_test
    converted = converted_images * _CONVERTED_SECONDS_PER_IMAGE
    if config.conversion_device == "cpp_standalone":
        converted += _CONVERTED_COMPILE_SECONDS
    return {
        "snn": snn,
        "mlp": mlp,
        "converted": converted,
        "total": snn + mlp + converted + 10.0,
    }


# -- health ------------------------------------------------------------------------------------
def snn_health(name: str, spikes_per_inference: float | None, history: list[dict]) -> list[str]:
    """Warnings when the spiking network fell silent or ran away (results then mean little)."""
    warnings = []
    last = history[-1] if history else {}
    retry = last.get("retry_fraction")
    if retry is not None and retry > 0.8:
        warnings.append(
            f"{name}: {100 * retry:.0f} % of the last training windows drew fewer than "
            "5 spikes and were re-shown (the network has fallen silent)"
        )
    theta = last.get("theta_max_mV")
    if theta is not None and theta > 100:
        warnings.append(
            f"{name}: adaptive thresholds reached {theta:.0f} mV (about 20-60 mV is "
            "usual): the thresholds ran away"
        )
    if spikes_per_inference is not None and not 1 <= spikes_per_inference <= 100:
        warnings.append(
            f"{name}: {spikes_per_inference:.1f} excitatory spikes per test image "
            "(about 5-20 is usual)"
        )
    return warnings


# -- the study: train -> evaluate -> figures -> record -----------------------------------------
@dataclass
class Tested:
    """The comparison's models after testing: fits, evaluations, table rows, warnings, and
    the MLP each converted network was converted from (by name)."""

    fits: dict[str, FitResult]
    evaluations: dict[str, Evaluation]
    rows: list[SummaryRow]
    warnings: list[str]
    sources: dict[str, str]

    def first(self, estimator: type) -> str:
        """Name of the first model of class ``estimator``."""
        return next(name for name, fit in self.fits.items() if isinstance(fit.model, estimator))


def train_models(
    config: ComparisonConfig, splits: Splits, args: argparse.Namespace
) -> tuple[dict[str, FitResult], dict[str, float]]:
    """Announce the run time to expect, then train the models (or load them from the cache).

    Returns the fits by model name and the estimate (seconds by part).
    """
    n_train, n_test = len(splits.X_train), len(splits.X_test)
    estimate = estimate_seconds(config, n_train, len(splits.X_pool), n_test)
    logger.info(
        "%s mode: SNN N=%d on %s images (%d pass), MLP on the same, then converted; testing "
        "on %s. Estimated time on an idle machine: ~%s (SNN ~%s incl. a first compilation, "
        "MLP ~%s, converted MLP ~%s)",
        config.mode,
        config.snn_neurons,
        f"{n_train:,}",
        config.snn_passes,
        f"{n_test:,}",
        duration(estimate["total"]),
        duration(estimate["snn"]),
        duration(estimate["mlp"]),
        duration(estimate["converted"]),
    )
    fits = trained_models(
        config, splits, cache_dir=args.cache_dir, use_cache=not args.no_cache, resume=args.resume
    )
    return fits, estimate


def convert_mlp(
    config: ComparisonConfig, fits: dict[str, FitResult], splits: Splits
) -> tuple[dict[str, FitResult], dict[str, str]]:
    """Add the first MLP (trained on the spiking network's images) converted into spikes.

    Returns the fits with the converted network last, and its source: converted name ->
    MLP name.
    """
    mlp_name = next(name for name, fit in fits.items() if isinstance(fit.model, RateMLP))
    name, fit = converted_model(config, fits[mlp_name], splits.X_train)
    return {**fits, name: fit}, {name: mlp_name}


def evaluate_models(fits: dict[str, FitResult], splits: Splits, sources: dict[str, str]) -> Tested:
    """Test every model on the same images; check the spiking network's health.

    ``sources``: the MLP each converted network was converted from (see :func:`convert_mlp`).
    """
    tested = Tested(fits, {}, [], [], sources)
    for name, fit in fits.items():
        logger.info("%s: testing ...", name)
        evaluation = evaluate(fit.model, splits.X_test, splits.y_test)
        logger.info(
            "%s: test accuracy %.2f %% (%.3g ms per image)",
            name,
            100 * evaluation.accuracy,
            evaluation.seconds_per_image * 1e3,
        )
        tested.evaluations[name] = evaluation
        source = fits[sources[name]] if name in sources else None
        tested.rows.append(summary_row(name, fit, evaluation, source=source))
        if isinstance(fit.model, STDPNetwork):
            found = snn_health(name, evaluation.spikes_per_inference, fit.model.history_)
            for warning in found:
                logger.warning("%s", warning)
            tested.warnings += found
    return tested


def record_spikes(tested: Tested, X_test: np.ndarray, k: int, device: str) -> ActivityRecording:
    """Spikes and membrane traces of the spiking network on the first ``k`` test images."""
    name = tested.first(STDPNetwork)
    counts = tested.evaluations[name].counts[:k]
    return record_activity(tested.fits[name].model, X_test[:k], counts, device)


def draw_figures(
    tested: Tested,
    splits: Splits,
    activity: ActivityRecording,
    example_labels: list[str],
    data: Dataset,
) -> dict[str, Figure]:
    """The comparison's figures; ``activity`` records the test images ``example_labels``."""
    tag = dataset_tag(data)
    snn_name, mlp_name = tested.first(STDPNetwork), tested.first(RateMLP)
    snn, mlp = tested.fits[snn_name].model, tested.fits[mlp_name].model
    n_val = 0 if splits.X_val is None else len(splits.X_val)
    k = len(example_labels)
    curves = {  # the converted network learns nothing itself: no curve
        name: fit.model.history_ for name, fit in tested.fits.items() if name not in tested.sources
    }
    return {
        "comparison_bars": plots.comparison_bars(
            tested.rows,
            title=f"Rate-based MLP, spiking STDP network and the MLP converted into spikes — "
            f"{tag}, {len(splits.X_test):,} test images",
            energy={
                (name, profile): estimate.by_kind()
                for name, evaluation in tested.evaluations.items()
                for profile, estimate in evaluation.energy.items()
            },
            footnote=ENERGY_FOOTNOTE,
        ),
        "learning_curves": plots.learning_curves(
            curves,
            chance=1.0 / len(np.unique(data.y_train)),
            title=f"Learning curves — {tag}, {n_val:,} validation images",
        ),
        "confusion_matrices": plots.confusion_matrices(
            {name: (splits.y_test, e.y_pred) for name, e in tested.evaluations.items()},
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
            activity,
            example_labels,
            raster_title=f"{snn_name}: spikes while showing {k} {tag} test images "
            "(learning frozen)",
            traces_title=f"{snn_name}: membrane potential and threshold — {tag}",
        ),
    }


def _fmt_train_time(row: SummaryRow) -> str:
    text = f"{row.train_seconds:.1f} s"
    if row.conversion_seconds is not None:
        return text + f" (its MLP's training + {row.conversion_seconds:.1f} s conversion)"
    learning = row.learning_seconds
    if learning is not None and learning < 0.9 * row.train_seconds:
        text += f" (learning alone {learning:.1f} s)"
    return text


_OP_UNITS = {"multiply-accumulate": "MACs", "synaptic event": "synaptic events"}


def _fmt_ops(row: SummaryRow) -> str:
    return " + ".join(f"{_count(n)} {_OP_UNITS[kind]}" for kind, n in row.operations.items())


def _fmt_examples(row: SummaryRow) -> str:
    text = f"{row.examples_seen:,}"
    if row.n_calibration is not None:
        text += f" (its MLP's) + {row.n_calibration:,} calibration images"
    return text


def _count(value: float) -> str:
    """A count in short words: 2.03 M, 45.2 k, 312."""
    for factor, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if value >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


def _fmt_energy(row: SummaryRow) -> str:
    return "; ".join(f"{joules * 1e6:.3g} µJ ({name})" for name, joules in row.energy_j.items())


def _fmt_latency(row: SummaryRow) -> str:
    if row.decision_latency_s is None:
        return "one forward pass"
    return f"{row.decision_latency_s * 1e3:.0f} ms simulated"


def _fmt_activity(row: SummaryRow) -> str:
    if row.active_fraction is None:
        return f"{row.spikes_per_inference:,.0f} spikes"
    share = 100 * row.active_fraction
    if row.spikes_per_inference is None:
        return f"{share:.0f} % of hidden units nonzero"
    return f"{row.spikes_per_inference:.1f} spikes; {share:.1f} % of neurons fire"


def summary_markdown(rows: Sequence[SummaryRow]) -> str:
    """The comparison table in Markdown."""
    header = (
        "| model | test accuracy | training wall time | training examples seen | "
        "inference time / image | latency to decision | operations / inference | "
        "energy / inference (est., by profile) | activity / inference | "
        "labels used for learning |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        lines.append(
            f"| {r.model} | {100 * r.accuracy:.1f} % (n = {r.n_test:,}) "
            f"| {_fmt_train_time(r)} | {_fmt_examples(r)} "
            f"| {r.inference_ms_per_image:.3g} ms | {_fmt_latency(r)} | {_fmt_ops(r)} "
            f"| {_fmt_energy(r)} "
            f"| {_fmt_activity(r)} | {r.labels_for_learning} |"
        )
    return header + "\n".join(lines) + "\n"


def _converted_text(tested: Tested) -> str:
    """What the converted network's row shows, in plain words, from its numbers."""
    name = tested.first(ConvertedSNN)
    mlp_name = tested.sources[name]
    snn = tested.fits[name].model
    rows = {row.model: row for row in tested.rows}
    row, mlp_row = rows[name], rows[mlp_name]
    converted, mlp = tested.evaluations[name], tested.evaluations[mlp_name]
    cpu, mlp_cpu = converted.energy["cpu-45nm"], mlp.energy["cpu-45nm"]
    stdp = tested.evaluations[tested.first(STDPNetwork)].activity
    scale = (
        "its largest activation"
        if snn.normalization == "max"
        else f"the {snn.normalization:g}th percentile of its activations"
    )
    coding = {
        "current": "constant input current (W x + b, computed once per image)",
        "poisson": "Poisson input spikes",
    }[snn.input_coding]
    readout = {
        "membrane": "the charge of a non-spiking output layer",
        "spikes": "output spike counts",
    }[snn.output]
    chips = "; ".join(
        f"{estimate.energy_uj:.3g} µJ on {profile}"
        for profile, estimate in converted.energy.items()
        if profile != "cpu-45nm"
    )
    return (
        f"**The converted network.** {name} is {mlp_name} with its ReLU units replaced by "
        "non-leaky integrate-and-fire neurons: the same weights, each layer scaled so that "
        f"{scale} on {row.n_calibration:,} training images (no test image) is one spike per "
        f"step; {coding}; read out from {readout}; {converted.activity.steps} steps of "
        f"{converted.activity.dt_s * 1e3:.0f} ms per image. It classifies "
        f"{100 * row.accuracy:.2f} % of the test images, against {100 * mlp_row.accuracy:.2f} "
        f"% for its MLP ({100 * (row.accuracy - mlp_row.accuracy):+.2f} points). Its weights "
        "were learnt with labels, by backpropagation: the row shows what spiking neurons can "
        "run, not what they can learn (the STDP network learns from spikes, without labels). Per "
        f"image it does {_fmt_ops(row)} (the MLP: {_fmt_ops(mlp_row)}) and costs "
        f"{cpu.energy_uj:.3g} µJ on cpu-45nm, {cpu.energy_j / mlp_cpu.energy_j:.2g} times the "
        f"MLP's ({100 * cpu.share('integrate-and-fire update'):.0f} % of it for updating every "
        f"neuron in every step); {chips}, with its input current on a conventional "
        "processor. It answers after "
        f"{converted.activity.decision_latency_s * 1e3:.0f} ms of simulated time, the STDP "
        f"network after {stdp.decision_latency_s * 1e3:.0f} ms; the MLP in one pass."
    )


ENERGY_FOOTNOTE = (
    "Energy estimated from every operation of an inference (the report and results.json give "
    "each figure with its source): cpu-45nm after Horowitz, ISSCC 2014 (45 nm; weights read "
    "from a small SRAM, optimistic; the spiking network simulated clock-driven); loihi after "
    "Davies et al., IEEE Micro 2018, Table 2 (pre-silicon simulation; event-driven); truenorth "
    "after Merolla et al., Science 2014 (all-in energy per synaptic event). On the chips the "
    "converted network's input current is computed by a conventional processor (as on "
    "cpu-45nm)."
)


def _breakdown(estimate: EnergyEstimate) -> str:
    """Shares of the charged kinds, largest first; then the kinds counted but not charged."""
    total = estimate.energy_j
    parts = sorted(estimate.by_kind().items(), key=lambda item: -item[1])
    text = ", ".join(
        f"{kind} {100 * joules / total:.0f} %" for kind, joules in parts if joules >= 0.005 * total
    )
    free = list(dict.fromkeys(line.kind for line in estimate.lines if line.pj_each is None))
    return text + (f"; not charged: {', '.join(free)}" if free else "")


def operations_markdown(estimates: Mapping[str, EnergyEstimate]) -> str:
    """Operations per inference of each model (from any of its estimates), by kind and place."""
    lines = ["| model | operation | where | per inference |", "|---|---|---|---|"]
    for name, estimate in estimates.items():
        lines += [
            f"| {name} | {line.kind} | {line.what} | {_count(line.count)} |"
            for line in estimate.lines
        ]
    return "\n".join(lines) + "\n"


def energy_markdown(estimates: Mapping[tuple[str, str], EnergyEstimate]) -> str:
    """Energy per inference (or learning example) of each (model, profile), with its shares."""
    lines = [
        "| model | profile | how it runs | energy | share by operation kind |",
        "|---|---|---|---|---|",
    ]
    for (name, profile), estimate in estimates.items():
        lines.append(
            f"| {name} | {profile} | {estimate.execution} | {estimate.energy_uj:.3g} µJ "
            f"| {_breakdown(estimate)} |"
        )
    return "\n".join(lines) + "\n"


def _update_shares(evaluation: Evaluation, kind: str) -> str:
    """The share of ``kind`` (a neuron update) in each of a model's estimates."""
    shares = []
    for profile, estimate in evaluation.energy.items():
        charged = estimate.by_kind()
        shares.append(
            f"{100 * estimate.share(kind):.0f} % on {profile}"
            if kind in charged
            else f"inside the all-in per-event figure on {profile}"
        )
    return "; ".join(shares)


def _latency_text(tested: Tested, stable: list[float | None]) -> str:
    mlp = tested.evaluations[tested.first(RateMLP)]
    snn = tested.evaluations[tested.first(STDPNetwork)]
    a = snn.activity
    presentation_ms = a.presentation_steps * a.dt_s * 1e3
    layers = sum(1 for line in mlp.energy["cpu-45nm"].lines if line.kind == "multiply-accumulate")
    measured = ", ".join("no spikes" if t is None else f"{t * 1e3:.0f} ms" for t in stable)
    converted = tested.evaluations[tested.first(ConvertedSNN)]
    return (
        f"**Latency to decision.** The MLP decides after one forward pass ({layers} layers, "
        f"{_count(mlp.energy['cpu-45nm'].count('multiply-accumulate'))} MACs): "
        f"{mlp.seconds_per_image * 1e3:.3g} ms of wall time per image here, in batches. The "
        f"spiking network decides at the end of a {presentation_ms:.0f} ms presentation of "
        f"simulated time, after {a.windows - 1:.2f} rejected "
        f"{a.steps_per_window * a.dt_s * 1e3:.0f} ms windows on average: "
        f"{a.decision_latency_s * 1e3:.0f} ms per image (wall time too, on a chip that runs in "
        f"real time); simulating it here took {snn.seconds_per_image * 1e3:.3g} ms of wall time "
        "per image. Time to a stable answer, measured only on the "
        f"{len(stable)} test images recorded for the raster (not a statistic): the vote "
        f"stopped changing {measured} after the presentation began. It is not measured on all "
        "test images: that needs spike times, which the batched engine does not record. The "
        f"converted network decides after a fixed {converted.activity.steps} steps of "
        f"{converted.activity.dt_s * 1e3:.0f} ms: "
        f"{converted.activity.decision_latency_s * 1e3:.0f} ms of simulated time per image "
        f"(simulating it here took {converted.seconds_per_image * 1e3:.3g} ms of wall time per "
        "image)."
    )


def _fairness_text(tested: Tested) -> str:
    mlp = tested.evaluations[tested.first(RateMLP)].energy["cpu-45nm"]
    snn = tested.evaluations[tested.first(STDPNetwork)].energy["cpu-45nm"]
    updates, draws = snn.share("neuron update"), snn.share("Poisson draw")
    return (
        "**Which comparison is fair.** The like-for-like one is the MLP against the spiking "
        "network on the same general-purpose hardware (cpu-45nm), each charged for every "
        "operation it does with the same per-operation figures (weights, for both, as reads "
        "from a small on-chip SRAM: optimistic for both; from DRAM each read would cost "
        f"{DRAM_READ_PJ / SRAM_READ_PJ:.0f} times more). There the spiking network costs "
        f"{snn.energy_j / mlp.energy_j:.2g} times the MLP's energy per inference, and "
        f"{100 * (updates + draws):.0f} % of its energy goes to work done in every time step "
        f"whether or not a spike arrives (neuron updates {100 * updates:.0f} %, Poisson draws "
        f"{100 * draws:.0f} %): sparse spikes do not make a clock-driven simulation cheap. The "
        "neuromorphic profiles answer another question, what the same network would cost on "
        "hardware built for spikes, and are not a fair match for the MLP on a CPU: the CPU "
        "figures charge arithmetic and memory reads only (a lower bound: a real processor "
        "also pays for instructions and control), the chips' figures whole operations, so "
        "the network may cost more on a chip here than on cpu-45nm; they are other process "
        "nodes (14 nm and 28 nm against 45 nm), Loihi's figures come "
        "from pre-silicon simulation, TrueNorth's is a whole-chip average at another "
        "network's activity (and this network does not map onto TrueNorth as it is), and the "
        "MLP too would run far cheaper on hardware built for it (low-precision accelerators), "
        "which is not modelled here. Read them as the spiking network's best case, not as a "
        "verdict against the MLP. All figures are estimates under the stated assumptions, not "
        "measurements."
    )


def cost_section(tested: Tested, stable: list[float | None]) -> list[str]:
    """The report's cost section: counts, energy by profile, learning, latency, fairness."""
    snn_name, mlp_name = tested.first(STDPNetwork), tested.first(RateMLP)
    converted_name = tested.first(ConvertedSNN)
    snn, converted = tested.evaluations[snn_name], tested.evaluations[converted_name]
    a, c = snn.activity, converted.activity
    profiles = [
        f"- **{name}** ({profile.title}): {profile.execution}."
        for name, profile in PROFILES.items()
    ]
    inference = {
        (name, profile): estimate
        for name, evaluation in tested.evaluations.items()
        for profile, estimate in evaluation.energy.items()
    }
    learning = {(snn_name, profile): e for profile, e in snn.learning_energy.items()}
    return [
        "## Cost per inference",
        "",
        "Every operation of one inference is counted and priced on named hardware profiles; "
        "every figure, its source and how it is built are in results.json (`energy_model`, "
        "and each model's `energy`). The spiking network's counts come from its measured "
        f"spikes on the test images: per image {a.input_spikes:,.0f} input, "
        f"{a.excitatory_spikes:,.1f} excitatory and {a.inhibitory_spikes:,.1f} inhibitory "
        f"spikes over {a.windows:.2f} windows of {a.steps_per_window:,} time steps; the "
        "converted network's from its measured spikes too: per image "
        + ", ".join(f"{n:,.0f} {layer}" for layer, n in c.spikes.items())
        + f" spikes over {c.steps} steps. The MLP runs on cpu-45nm only; the spiking networks "
        "on every profile, each with its own assumption (the converted network's input "
        "current, a dense matrix product, on a conventional processor priced as on cpu-45nm "
        "where a chip has no figure for multiply-accumulates):",
        "",
        *profiles,
        "",
        operations_markdown(
            {
                name: tested.evaluations[name].energy["cpu-45nm"]
                for name in (mlp_name, snn_name, converted_name)
            }
        ),
        energy_markdown(inference),
        f"Neuron updates in the spiking network's energy per inference: "
        f"{_update_shares(snn, 'neuron update')}. Integrate-and-fire updates in the converted "
        f"network's: {_update_shares(converted, 'integrate-and-fire update')}.",
        "",
        _latency_text(tested, stable),
        "",
        _fairness_text(tested),
        "",
        "### Learning",
        "",
        "Energy of one learning example of the spiking network (STDP updates, trace decays, "
        "weight normalisation before every window, on top of the inference's work), on the "
        "profiles that learn on the chip (TrueNorth does not). The test images' activity "
        "stands in for the activity while learning, whose input and inhibitory spikes the "
        "engine does not tally. The MLP's learning (backpropagation) is not modelled.",
        "",
        energy_markdown(learning),
    ]


FIGURE_CAPTIONS = {
    "comparison_bars": "Accuracy, training time (the converted network: its MLP's training plus "
    "the conversion) and operations per inference (MACs and synaptic events); estimated energy "
    "per inference on each hardware profile, and its share by operation kind.",
    "learning_curves": "Validation accuracy against training examples seen and wall time (the "
    "converted network learns nothing itself: its MLP's curve is its own).",
    "confusion_matrices": "Test-set confusion matrices (rows: true class, share in %).",
    "receptive_fields_snn": "Input weights of the spiking network's excitatory neurons "
    "(number: class assigned from the training labels).",
    "receptive_fields_mlp": "Input weights of the MLP's first hidden units (red +, blue -).",
    "spike_raster": "Spikes of all three layers while the first test images are shown "
    "(learning frozen); shaded: stimulus, white: rest.",
    "membrane_traces": "Membrane potential and adaptive threshold of the most active "
    "excitatory neurons during the same images.",
}


def report_body(
    config: ComparisonConfig, dataset: dict, tested: Tested, stable: list[float | None]
) -> list[str]:
    """The report's text: warnings, sizes, the summary table and how to read it, the cost
    section (``stable``: when the recorded examples' votes stopped changing)."""
    lines = []
    for warning in tested.warnings:
        lines += [f"> **Warning:** {warning}.", ""]
    if config.snn_params:
        lines += [f"Spiking-network constants overridden: `{json.dumps(config.snn_params)}`.", ""]
    cached = any(row.cached for row in tested.rows)
    return [
        *lines,
        f"Training set: {dataset['n_train']:,} images (of {dataset['n_train_available']:,}); "
        f"test set: {dataset['n_test']:,} images (of {dataset['n_test_available']:,}); "
        f"learning-curve validation: {dataset['n_val']:,} images from the "
        f"{dataset['val_source']}. Seed {config.seed}.",
        "",
        "## Summary",
        "",
        summary_markdown(tested.rows),
        _converted_text(tested),
        "",
        "Energy is estimated per hardware profile from every operation of an inference; see "
        "*Cost per inference* below for the counts, the breakdown, the assumptions and which "
        "comparison is fair. The spiking networks' operations are measured on the test "
        "images.",
        "",
        "Training wall time is that of `fit`: it excludes the one-off compilation of the "
        "spiking network (listed in results.json) and includes the spiking network's labelling "
        "and learning-curve validation passes (each validation re-assigns every neuron from "
        "its labelling images); the time of learning alone is given in brackets. Timings come "
        "from a shared machine and vary from run to run."
        + (
            " Some models were loaded from the cache; their times are those of the run "
            "that trained them."
            if cached
            else ""
        ),
        "",
        *cost_section(tested, stable),
    ]


def record_results(
    config: ComparisonConfig,
    tested: Tested,
    activity: ActivityRecording,
    drawn: dict[str, Figure],
    dataset: dict,
) -> StudyOutput:
    """What the runner writes: results.json entries, figures and the report text.

    ``activity`` records the first test images; ``dataset`` is the dataset's description with
    the sizes of the subsets.
    """
    snn = tested.fits[tested.first(STDPNetwork)].model
    stable = stable_vote_times(snn, activity)
    results = {
        "config": dataclasses.asdict(config),
        "seeds": {
            "global": config.seed,
            "models": config.seed,
            "subsets": config.seed,
            "validation_subset": config.seed + 1,
        },
        "energy_model": {
            "operation_kinds": OPERATION_KINDS,
            "profiles": {name: profile.as_dict() for name, profile in PROFILES.items()},
        },
        "snn_protocol": {
            "window_s": activity.window_s,
            "presentation_s": activity.presentation_s,
            "params": snn.network_params().as_dict(),
            "recorded_neurons": activity.neurons,
            "recording_device": config.record_device,
            "stable_vote_s": stable,
        },
        "summary": tested.rows,
        "converted_from": tested.sources,
        "warnings": tested.warnings,
        "models": {
            name: model_record(fit, tested.evaluations[name]) for name, fit in tested.fits.items()
        },
    }
    return StudyOutput(
        title=f"Rate-based MLP vs spiking STDP network, and the MLP converted into spikes "
        f"({config.mode} mode)",
        results=results,
        figures=drawn,
        captions=FIGURE_CAPTIONS,
        body=report_body(config, dataset, tested, stable),
        dataset=dataset,
    )


def model_record(fit: FitResult, evaluation: Evaluation) -> dict:
    """A model's entry in results.json: parameters, cache, timings, energy, learning curve."""
    model = fit.model
    return {
        "estimator": type(model).__name__,
        "params": {k: v for k, v in model.get_params().items() if k != "verbose"},
        "cache_key": fit.key,
        "cached": fit.cached,
        "cache_file": fit.path,
        "fit_seconds": fit.fit_seconds,
        "compile_seconds": fit.compile_seconds,
        "predict_seconds": evaluation.predict_seconds,
        "energy": {name: estimate.as_dict() for name, estimate in evaluation.energy.items()},
        "learning_energy": {
            name: estimate.as_dict() for name, estimate in evaluation.learning_energy.items()
        },
        "activity": evaluation.activity,
        "learning_curve": curve_points(model.history_),
        "history": model.history_,
    }


def dataset_sizes(config: ComparisonConfig, splits: Splits, requested: str) -> dict:
    """The subsets' sizes, the dataset asked for and where the validation images come from."""
    return {
        "requested": requested,
        **splits.sizes(),
        "val_source": (
            "training split (held out)"
            if config.val_from == "train"
            else "test split (monitoring only)"
        ),
    }


def run(args: argparse.Namespace, data: Dataset) -> StudyOutput:
    """Train both models, convert the MLP, test them all on the same images, draw and record
    the comparison."""
    config = dataclasses.replace(
        COMPARISON_PRESETS[mode_of(args)], seed=args.seed, snn_params=args.snn_params
    )
    splits = comparison_splits(config, data)
    fits, estimate = train_models(config, splits, args)
    phase = time.perf_counter()
    fits, sources = convert_mlp(config, fits, splits)
    conversion_seconds = time.perf_counter() - phase
    tested = evaluate_models(fits, splits, sources)

    logger.info("recording spikes of a few test images and drawing the figures ...")
    phase = time.perf_counter()
    k = min(config.record_examples, len(splits.X_test))
    activity = record_spikes(tested, splits.X_test, k, config.record_device)
    recording_seconds = time.perf_counter() - phase
    phase = time.perf_counter()
    labels = [str(label) for label in splits.y_test[:k]]
    drawn = draw_figures(tested, splits, activity, labels, data)
    dataset = {**data.info(), **dataset_sizes(config, splits, args.dataset)}
    output = record_results(config, tested, activity, drawn, dataset)
    output.timings = {
        "conversion_seconds": conversion_seconds,
        "recording_seconds": recording_seconds,
        "figures_seconds": time.perf_counter() - phase,
        "estimate_seconds": estimate,
    }
    for row in tested.rows:
        logger.info("  %s: %.2f %% test accuracy", row.model, 100 * row.accuracy)
    return output


def _arguments(parser: argparse.ArgumentParser) -> None:
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


STUDY = Study("compare", __doc__, run, arguments=_arguments)
main = STUDY.main

if __name__ == "__main__":
    main()
