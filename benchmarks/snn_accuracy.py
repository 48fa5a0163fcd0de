"""Accuracy of STDPNetwork on full MNIST: train pass by pass, test on the 10k test images.

Neurons are assigned to classes from training-set responses only (learning frozen); the test
set is never used for assignment. With ``--validation 10000`` the seeded, stratified validation
split of the training images (split seed 0) is held out and scored too. With ``--checkpoint``
training is checkpointed every 5,000 examples and the same command resumes an interrupted
run. Prints one JSON line per pass and appends them to --out.

Example::

    python benchmarks/snn_accuracy.py --neurons 100 --passes 1 --seed 0
    python benchmarks/snn_accuracy.py --neurons 6400 --validation 10000 --n-label 10000 \
        --checkpoint benchmarks/out/n6400.ckpt.npz --model-out benchmarks/out/n6400.npz
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import time
from pathlib import Path

import numpy as np
from machine import describe, flush_to_zero
from peak_memory import ChildPeakMemory

from neurosim import STDPNetwork, load_mnist
from neurosim.experiment import split_holdout

VALIDATION_SPLIT_SEED = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument("--n-test", type=int, default=10000)
    parser.add_argument("--n-label", type=int, default=None)
    parser.add_argument("--input-delays", action="store_true")
    parser.add_argument("--inhibition", type=float, default=None, help="override w_inh_exc")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/snn_accuracy.jsonl"))
    parser.add_argument("--validation", type=int, default=0, help="validation images held out")
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--model-out", type=Path, default=None, help="save the trained model")
    args = parser.parse_args()
    print(describe(), flush=True)
    logging.basicConfig(format="%(asctime)s %(message)s")
    logging.getLogger("neurosim").setLevel(logging.INFO)

    X, y = load_mnist("train")
    X_test, y_test = load_mnist("test")
    X, y, X_val, y_val = split_holdout(X, y, args.validation, VALIDATION_SPLIT_SEED)
    X, y = X[: args.n_train], y[: args.n_train]
    X_test, y_test = X_test[: args.n_test], y_test[: args.n_test]
    params = None if args.inhibition is None else {"w_inh_exc": args.inhibition}
    model = STDPNetwork(
        n_neurons=args.neurons,
        max_iter=1,
        input_delays=args.input_delays,
        params=params,
        n_label=args.n_label,
        random_state=args.seed,
        verbose=1,
        checkpoint=args.checkpoint,
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ChildPeakMemory() as simulation:
        for done in range(1, args.passes + 1):
            if done == 1:
                model.fit(X, y)
            else:
                model.partial_fit(X, y)
            elapsed = time.perf_counter() - start
            test_start = time.perf_counter()
            activity = model.layer_activity(X_test)
            accuracy = float(np.mean(model.predict_from_counts(activity["counts"]) == y_test))
            val_accuracy = float(model.score(X_val, y_val)) if len(X_val) else None
            if args.model_out is not None:
                model.save(args.model_out)
            last = model.history_[-1]
            this_pass = [h for h in model.history_ if h["examples_seen"] > (done - 1) * len(X)]
            retry = 1 - len(X) / sum(h["windows"] for h in this_pass)
            record = {
                "commit": commit,
                "neurons": args.neurons,
                "input_delays": args.input_delays,
                "params": params,
                "seed": args.seed,
                "passes": done,
                "n_train": len(X),
                "n_test": len(X_test),
                "split": f"learn {len(X)} / validation {len(X_val)} (seed "
                f"{VALIDATION_SPLIT_SEED}) of the training images; test images",
                "test_accuracy": accuracy,
                "val_accuracy": val_accuracy,
                "train_plus_label_seconds": round(elapsed, 1),
                "train_seconds": model.history_[-1]["wall_time"],
                "test_seconds": round(time.perf_counter() - test_start, 1),
                "retry_fraction_last_pass": float(retry),
                "spikes_per_example_label": float(model.spikes_per_sample_),
                "spikes_per_example_test": float(activity["counts"].sum(axis=1).mean()),
                "theta_mV": [last["theta_min_mV"], last["theta_mean_mV"], last["theta_max_mV"]],
                "synaptic_events_per_inference": float(activity["synaptic_events"].mean()),
                "flush_to_zero": flush_to_zero(model._engine()),
                "peak_rss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                # The compiled simulation runs as a child process.
                "peak_rss_simulation_MiB": simulation.peak_mib,
            }
            print(json.dumps(record), flush=True)
            with args.out.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            start = time.perf_counter()


if __name__ == "__main__":
    main()
