"""Does a preset diverge? Watch the first examples of the learning split, seed by seed.

A network diverges when its excitatory neurons start firing in lock-step, every refractory
period, whatever the image: spikes per example jump from ~10-20 to tens of thousands and every
window costs ~80x a normal one (benchmarks/RESULTS.md, "The original preset and what each
deviation does"). Learning such a network for a full pass would take many hours and end with
every neuron firing for every image, so this script learns ``--examples`` images of the learning
split (:func:`neurosim.experiment.validation_split`) in steps of ``--step`` and stops a seed at
the first step in which a chunk's examples average more than ``--limit`` spikes (default
1,000: learning networks fire ~5-60 per example from N=100 to N=1600, diverged ones tens of
thousands). One row per seed;
"diverged by" is the step's last example. Only this runaway is detected, not a network that
falls silent. Neurons are re-labelled from one image after every step (labels are not used).

Example::

    python benchmarks/snn_stability.py --neurons 400 --preset original --seeds 0 1 2
    python benchmarks/snn_stability.py --neurons 400 --preset original \\
        --params '{"hold_refractory_exc": true}' --input-delays off
"""

from __future__ import annotations

import argparse
import json

from machine import describe

from neurosim import STDPNetwork, load_mnist
from neurosim.experiment import validation_split


def watch(args: argparse.Namespace, seed: int, X, y) -> dict:
    """Learn step by step until ``args.examples`` or divergence; the seed's row."""
    model = STDPNetwork(
        n_neurons=args.neurons,
        preset=args.preset,
        params=args.params,
        input_delays=args.input_delays,
        n_label=1,
        chunk_size=args.step,
        random_state=seed,
        n_jobs=1,
    )
    row = {"diverged_at": None}
    n_records = 0
    n_examples = min(args.examples, len(X))
    for start in range(0, n_examples, args.step):
        stop = min(start + args.step, n_examples)
        model.partial_fit(X[start:stop], y[start:stop], classes=range(10))
        records = model.history_[n_records:]
        n_records = len(model.history_)
        windows = sum(record["windows"] for record in records)
        row.update(
            examples=model.examples_seen_,
            spikes_per_example=max(record["spikes_per_example"] for record in records),
            theta_max_mV=records[-1]["theta_max_mV"],
            retry_fraction=sum(r["retry_fraction"] * r["windows"] for r in records) / windows,
        )
        if row["spikes_per_example"] > args.limit:
            row["diverged_at"] = model.examples_seen_
            break
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=400)
    parser.add_argument("--preset", default="original")
    parser.add_argument(
        "--params", type=json.loads, default=None, help="overrides, e.g. '{\"w_inh_exc\": 34}'"
    )
    parser.add_argument(
        "--input-delays",
        choices=["on", "off"],
        default=None,
        help="default: as the preset (on for the original)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--step", type=int, default=100)
    parser.add_argument("--limit", type=float, default=1000.0, help="spikes per example")
    args = parser.parse_args()
    if args.input_delays is not None:
        args.input_delays = args.input_delays == "on"
    print(describe())
    X, y = load_mnist("train")
    X_learn, y_learn, _, _ = validation_split(X, y)
    print(
        f"N={args.neurons}, preset {args.preset}, overrides {args.params}, input delays"
        f" {args.input_delays if args.input_delays is not None else 'as the preset'}, first"
        f" {args.examples} learning images"
    )
    print(
        "| seed | diverged by example | examples learnt | spikes / example (most in a chunk"
        " of the last step) | theta max (mV) | retry fraction (last step) |"
    )
    print("|---|---|---|---|---|---|")
    for seed in args.seeds:
        row = watch(args, seed, X_learn, y_learn)
        diverged = row["diverged_at"] if row["diverged_at"] is not None else "no"
        print(
            f"| {seed} | {diverged} | {row['examples']} | {row['spikes_per_example']:.1f} |"
            f" {row['theta_max_mV']:.1f} | {row['retry_fraction']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
