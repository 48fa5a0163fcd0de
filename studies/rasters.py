"""Spike rasters, membrane traces and firing statistics of a trained STDP network.

Uses the spiking network of the comparison study (``studies.compare``, same configuration: a
network trained there is loaded from the cache), shows it chosen digits with learning frozen
and records every spike, then measures each layer's activity over many test images::

    python -m studies.rasters --quick --digits 0 1 7
    python -m studies.rasters                   # the paper-scale network (N = 400)
"""

from __future__ import annotations

import argparse
import dataclasses
import logging

import numpy as np

from neurosim import STDPNetwork, plots
from neurosim.comparison import (
    COMPARISON_PRESETS,
    FiringStatistics,
    comparison_splits,
    measure_firing_statistics,
    record_activity,
    trained_models,
)
from neurosim.experiment import Dataset
from studies.common import Study, StudyOutput, activity_figures, dataset_tag, mode_of

logger = logging.getLogger(__name__)

N_STATS = {"full": 2000, "quick": 300, "tiny": 10}

CAPTIONS = {
    "spike_raster": "Spikes of the three layers; shaded: stimulus, white: rest.",
    "membrane_traces": "Membrane potential and adaptive threshold of the most active "
    "excitatory neurons.",
    "firing_statistics": "Spikes per image by digit and layer; excitatory firing rates.",
}


def _report_body(
    snn_name: str, mode: str, seed: int, digits: list[int], n_stats: int, stats: FiringStatistics
) -> list[str]:
    """Which network and images, then the firing statistics in words."""
    return [
        f"{snn_name} from the comparison study ({mode} mode, seed {seed}), learning "
        f"frozen. Rasters: the first test image of each digit {digits}. Statistics over the "
        f"first {n_stats:,} test images (all windows, re-presentations included):",
        "",
        f"- excitatory spikes per image (accepted presentation): "
        f"{stats.spikes_per_image_excitatory_accepted:.1f}; share of excitatory neurons "
        f"firing for an image: {100 * stats.active_neuron_fraction:.1f} %;",
        f"- windows per image: {stats.windows_per_image:.2f} "
        f"({100 * stats.re_presented_fraction:.1f} % of images re-shown at higher "
        f"intensity); synaptic events per image: {stats.synaptic_events_per_image:,.0f}.",
    ]


def run(args: argparse.Namespace, data: Dataset) -> StudyOutput:
    """Record the comparison's spiking network on chosen digits and measure its firing."""
    mode = mode_of(args)
    config = dataclasses.replace(COMPARISON_PRESETS[mode], seed=args.seed)
    splits = comparison_splits(config, data)
    fits = trained_models(config, splits, cache_dir=args.cache_dir, use_cache=not args.no_cache)
    snn_name, fit = next((n, f) for n, f in fits.items() if isinstance(f.model, STDPNetwork))
    snn = fit.model
    X_test, y_test = splits.X_test, splits.y_test
    digits = [d for d in args.digits if np.any(y_test == d)]
    missing = sorted(set(args.digits) - set(digits))
    if missing:
        logger.warning("no test image of digit(s) %s in this test subset; skipped", missing)
    if not digits:
        raise SystemExit(f"error: none of the digits {args.digits} is in the test subset")
    chosen = np.array([np.flatnonzero(y_test == d)[0] for d in digits])
    logger.info(
        "recording the network's response to digits %s (test images %s)", digits, chosen.tolist()
    )
    n_stats = min(N_STATS[mode], len(X_test))
    stats = measure_firing_statistics(snn, X_test[:n_stats], y_test[:n_stats])
    counts = snn.spike_counts(X_test[chosen])
    activity = record_activity(snn, X_test[chosen], counts, config.record_device)
    labels = [str(d) for d in digits]

    tag = dataset_tag(data)
    figures = {
        **activity_figures(
            activity,
            labels,
            raster_title=f"{snn_name}: spikes for digits {', '.join(labels)} — {tag} "
            "(learning frozen)",
            traces_title=f"{snn_name}: membrane potential and threshold — {tag}",
        ),
        "firing_statistics": plots.firing_statistics(
            stats, title=f"{snn_name}: firing statistics on {n_stats:,} {tag} test images"
        ),
    }
    results = {
        "config": dataclasses.asdict(config),
        "seed": args.seed,
        "model": {"name": snn_name, "cache_key": fit.key, "cached": fit.cached},
        "digits": digits,
        "test_indices": chosen,
        "recording": {
            "spikes_per_layer": {layer: len(t) for layer, (t, _) in activity.spikes.items()},
            "windows": activity.windows,
            "traced_neurons": activity.neurons,
            "spike_counts_excitatory": counts.sum(axis=1),
        },
        "statistics": stats,
    }
    return StudyOutput(
        title=f"Spiking activity of the STDP network ({mode} mode)",
        results=results,
        figures=figures,
        captions=CAPTIONS,
        body=_report_body(snn_name, mode, args.seed, digits, n_stats, stats),
        dataset={"n_train": len(splits.X_train), "n_stats": n_stats},
    )


def _digits_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--digits", type=int, nargs="+", default=[0, 1, 7], help="digits to show (default 0 1 7)"
    )


STUDY = Study("rasters", __doc__, run, arguments=_digits_argument)
main = STUDY.main

if __name__ == "__main__":
    main()
