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
import time
from collections.abc import Sequence

import numpy as np

from neurosim import plots
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

N_STATS = {"full": 2000, "quick": 300, "tiny": 10}


def firing_statistics(
    activity: dict[str, np.ndarray], y: np.ndarray, classes: np.ndarray, presentation_s: float
) -> dict:
    """Per-class mean spikes of each layer and per-neuron rates from ``layer_activity``."""
    counts = activity["counts"]
    present = [c for c in classes if np.any(y == c)]
    return {
        "classes": [c.item() if hasattr(c, "item") else c for c in present],
        "spikes_per_image": {
            layer: [float(activity[layer][y == c].mean()) for c in present]
            for layer in ("input", "excitatory", "inhibitory")
        },
        "neuron_rates_hz": (counts.mean(axis=0) / presentation_s).tolist(),
        "windows_per_image": float(activity["windows"].mean()),
        "re_presented_fraction": float(np.mean(activity["windows"] > 1)),
        "active_neuron_fraction": float(np.mean(counts > 0)),
        "spikes_per_image_excitatory_accepted": float(counts.sum(axis=1).mean()),
        "synaptic_events_per_image": float(activity["synaptic_events"].mean()),
        "presentation_s": presentation_s,
    }


def run_rasters(args: argparse.Namespace, command: str) -> dict:
    """Run the study; returns the contents of ``results.json``."""
    started = time.perf_counter()
    mode = mode_of(args)
    config = dataclasses.replace(compare.PRESETS[mode], seed=args.seed)
    data = load_study_dataset(args)
    folder = output_folder("rasters", args.out, args.force)
    splits = compare.make_splits(config, data)
    trained = compare.trained_models(
        config,
        splits,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
    )
    snn_name, (fit, _) = next((n, t) for n, t in trained.items() if n.startswith("STDP"))
    snn = fit.model
    X_test, y_test = splits.X_test, splits.y_test
    digits = [d for d in args.digits if np.any(y_test == d)]
    missing = sorted(set(args.digits) - set(digits))
    if missing:
        say(f"no test image of digit(s) {missing} in this test subset; skipped")
    if not digits:
        raise SystemExit(f"error: none of the digits {args.digits} is in the test subset")
    chosen = np.array([np.flatnonzero(y_test == d)[0] for d in digits])
    say(f"recording the network's response to digits {digits} (test images {chosen.tolist()})")
    n_stats = min(N_STATS[mode], len(X_test))
    stats_activity = snn.layer_activity(X_test[:n_stats])
    p = snn.network_params()
    stats = firing_statistics(
        stats_activity, y_test[:n_stats], snn.classes_, float(p.presentation_time)
    )
    counts = snn.spike_counts(X_test[chosen])
    activity = compare.record_activity(snn, X_test[chosen], counts, config.record_device)
    labels = [str(d) for d in digits]

    tag = dataset_tag(data)
    figures = {
        **compare.activity_figures(
            snn,
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
    filenames = save_figures(folder, figures)
    spikes = activity["spikes"]
    results = write_results(
        folder,
        {
            "study": "rasters",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": command,
            "mode": mode,
            "config": dataclasses.asdict(config),
            "seed": args.seed,
            "versions": package_versions(),
            "dataset": {**data.info(), "n_train": len(splits.X_train), "n_stats": n_stats},
            "model": {"name": snn_name, "cache_key": fit.key, "cached": fit.cached},
            "digits": digits,
            "test_indices": chosen,
            "recording": {
                "spikes_per_layer": {layer: len(t) for layer, (t, _) in spikes.items()},
                "windows": activity["windows"],
                "traced_neurons": activity["neurons"],
                "spike_counts_excitatory": counts.sum(axis=1),
            },
            "statistics": stats,
            "figures": filenames,
            "timings": {"total_seconds": time.perf_counter() - started},
        },
    )
    body = [
        *dataset_lines(results["dataset"]),
        "",
        f"{snn_name} from the comparison study ({mode} mode, seed {args.seed}), learning "
        f"frozen. Rasters: the first test image of each digit {digits}. Statistics over the "
        f"first {n_stats:,} test images (all windows, re-presentations included):",
        "",
        f"- excitatory spikes per image (accepted presentation): "
        f"{stats['spikes_per_image_excitatory_accepted']:.1f}; share of excitatory neurons "
        f"firing for an image: {100 * stats['active_neuron_fraction']:.1f} %;",
        f"- windows per image: {stats['windows_per_image']:.2f} "
        f"({100 * stats['re_presented_fraction']:.1f} % of images re-shown at higher "
        f"intensity); synaptic events per image: {stats['synaptic_events_per_image']:,.0f}.",
    ]
    write_report(
        folder,
        f"Spiking activity of the STDP network ({mode} mode)",
        body,
        filenames,
        {
            "spike_raster": "Spikes of the three layers; shaded: stimulus, white: rest.",
            "membrane_traces": "Membrane potential and adaptive threshold of the most active "
            "excitatory neurons.",
            "firing_statistics": "Spikes per image by digit and layer; excitatory firing rates.",
        },
        command,
        results["timings"]["total_seconds"],
    )
    return results


def _digits_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--digits", type=int, nargs="+", default=[0, 1, 7], help="digits to show (default 0 1 7)"
    )


def main(argv: Sequence[str] | None = None) -> dict:
    return run_cli("rasters", __doc__, run_rasters, argv, extra_arguments=_digits_argument)


if __name__ == "__main__":
    main()
