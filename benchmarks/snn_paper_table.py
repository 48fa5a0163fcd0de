"""The paper's table with spread: test accuracy of a chosen configuration over several seeds.

Run only after every choice is made on validation (``benchmarks/snn_tune.py``): this is the
one script that touches the 10,000 test images. Each seed learns one pass over the
protocol's 50,000 learning images exactly as in ``snn_tune.py`` (a model it already saved is
reused, not retrained), names its neurons from the first ``--n-label`` learning images, and
is scored on the test images, with the paper's vote and with the linear readout fit on the
same labelling images' spike counts; the seeds run in parallel (``--jobs``). Appends one row per
seed to ``--out`` and prints mean +- standard deviation and min-max beside the paper's
figure.

Example::

    python benchmarks/snn_paper_table.py --neurons 100 --seeds 0 1 2
    python benchmarks/snn_paper_table.py --neurons 400 --preset original --seeds 0 1 2
    python benchmarks/snn_paper_table.py --neurons 100 --params '{"w_inh_exc": 25.0}'
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
from pathlib import Path

import numpy as np
from machine import commit, describe
from snn_tune import config_name, finished_rows, learn

from neurosim import load_mnist
from neurosim.experiment import validation_split
from neurosim.spiking.params import PAPER_ACCURACY
from neurosim.sweep import run_sweep


def learn_and_test(config: dict) -> dict:
    """One seed: learn (or load), then score on the test images."""
    model, _ = learn(config)
    X_test, y_test = load_mnist("test")
    activity = model.layer_activity(X_test)
    predictions = model.predict_from_counts(activity["counts"])
    # The linear readout, fit on the same labelling images' spike counts (re-measured).
    X, y = load_mnist("train")
    X_label, y_label = validation_split(X, y)[:2]
    X_label, y_label = X_label[: config["n_label"]], y_label[: config["n_label"]]
    linear = copy.deepcopy(model).set_params(readout="linear")
    linear.fit_readout(model.spike_counts(X_label), y_label)
    linear_predictions = linear.predict_from_counts(activity["counts"])
    row = {
        "name": config_name(config),
        "neurons": config["neurons"],
        "preset": config["preset"],
        "input_delays": model._input_delays(),
        "params": config["params"],
        "seed": config["seed"],
        "split": f"learn {config['n_learn']} of the 50,000 learning images (validation_split), "
        f"label {config['n_label']} of them; test 10,000",
        "test_accuracy": float(np.mean(predictions == y_test)),
        "test_accuracy_linear_readout": float(np.mean(linear_predictions == y_test)),
        "spikes_per_example_test": float(activity["counts"].sum(axis=1).mean()),
        "learning_seconds": model.history_[-1]["wall_time"],
        "commit": config["commit"],
    }
    with Path(config["out"]).open("a") as handle:  # one short append per row: safe in parallel
        handle.write(json.dumps(row) + "\n")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--preset", choices=["default", "original"], default="default")
    parser.add_argument(
        "--params",
        type=json.loads,
        default={},
        help="parameter overrides as JSON, as snn_tune.py names them (reuses its models)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-learn", type=int, default=50000)
    parser.add_argument("--n-label", type=int, default=10000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--models", type=Path, default=Path("benchmarks/out/models"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/snn_paper_table.jsonl"))
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(format="%(asctime)s %(message)s")
    logging.getLogger("neurosim").setLevel(logging.INFO)
    print(describe())
    done = finished_rows(args.out)
    configs = [
        {
            "neurons": args.neurons,
            "preset": args.preset,
            "params": args.params,
            "seed": seed,
            "n_learn": args.n_learn,
            "n_label": args.n_label,
            "models": str(args.models),
            "verbose": args.verbose,
            "commit": commit(),
            "out": str(args.out),
        }
        for seed in args.seeds
    ]
    todo = [config for config in configs if config_name(config) not in done]
    for row in run_sweep(learn_and_test, todo, n_jobs=args.jobs):
        done[row["name"]] = row
    paper = PAPER_ACCURACY.get(args.neurons)
    for readout, key in (("vote", "test_accuracy"), ("linear", "test_accuracy_linear_readout")):
        accuracies = 100 * np.array([done[config_name(c)][key] for c in configs])
        spread = accuracies.std(ddof=1) if len(accuracies) > 1 else 0.0
        print(
            f"N={args.neurons}, preset {args.preset}, {readout} readout, seeds {args.seeds}: "
            f"{accuracies.mean():.2f} +- {spread:.2f} % (min {accuracies.min():.2f}, max "
            f"{accuracies.max():.2f}; per seed {', '.join(f'{a:.2f}' for a in accuracies)}); "
            f"paper: {paper} %"
        )


if __name__ == "__main__":
    main()
