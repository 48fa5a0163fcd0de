"""Choose the spiking network's constants on the validation split, never on the test images.

Every configuration learns one pass over the protocol's 50,000 learning images
(:func:`neurosim.experiment.validation_split`), names its neurons from the first ``--n-label``
of them and is scored on the 10,000 validation images. Configurations run in parallel
through :func:`neurosim.sweep.run_sweep` (``--jobs`` processes, one core each); each is
checkpointed, its model saved under ``--models``, and its row appended to ``--out``, so
the same command resumes a stopped sweep and skips finished rows. Prints the table sorted
by validation accuracy.

Examples::

    python benchmarks/snn_tune.py --neurons 100 --inhibition 17 25 34 \\
        --integration exponential_euler matched euler
    python benchmarks/snn_tune.py --neurons 400 --inhibition 17 25 34 --integration matched
    python benchmarks/snn_tune.py --neurons 100 --preset original
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
from pathlib import Path

from machine import commit, describe

from neurosim import STDPNetwork, load_mnist
from neurosim.experiment import VALIDATION_SEED, validation_split
from neurosim.sweep import run_sweep

# Integration choices: Brian2 method, and whether spikes carry the continuous model's charge.
INTEGRATION = {
    "euler": {"integration": "euler"},
    "exponential_euler": {"integration": "exponential_euler", "matched_charge": False},
    "matched": {"integration": "exponential_euler", "matched_charge": True},
}


def config_name(config: dict) -> str:
    """A file-safe name that identifies a configuration and its seed."""
    parts = [f"n{config['neurons']}", config["preset"]]
    if config.get("input_delays") is not None:
        parts.append(f"delays={'on' if config['input_delays'] else 'off'}")
    parts += [f"{key}={value}" for key, value in sorted(config["params"].items())]
    parts += [f"learn{config['n_learn']}", f"label{config['n_label']}", f"seed{config['seed']}"]
    return "_".join(str(part) for part in parts)


def learn(config: dict) -> tuple[STDPNetwork, float]:
    """Learn (or load) the configuration's network on the learning split; seconds spent."""
    models = Path(config["models"])
    models.mkdir(parents=True, exist_ok=True)
    path = models / f"{config_name(config)}.npz"
    if path.exists():
        return STDPNetwork.load(path), 0.0
    X, y = load_mnist("train")
    X_learn, y_learn, _, _ = validation_split(X, y)
    model = STDPNetwork(
        n_neurons=config["neurons"],
        preset=config["preset"],
        input_delays=config.get("input_delays"),
        params=config["params"] or None,
        n_label=config["n_label"],
        random_state=config["seed"],
        checkpoint=models / f"{config_name(config)}.ckpt.npz",
        n_jobs=1,
        verbose=config["verbose"],
    )
    start = time.perf_counter()
    model.fit(X_learn[: config["n_learn"]], y_learn[: config["n_learn"]])
    seconds = time.perf_counter() - start
    model.save(path)
    return model, seconds


def learn_and_validate(config: dict) -> dict:
    """One row of the table: the configuration, its validation accuracy and what it cost."""
    model, seconds = learn(config)
    X, y = load_mnist("train")
    _, _, X_val, y_val = validation_split(X, y)
    start = time.perf_counter()
    val_accuracy = float(model.score(X_val, y_val))
    capped = sum(record["capped"] for record in model.history_)
    windows = sum(record["windows"] for record in model.history_)
    row = {
        "name": config_name(config),
        "neurons": config["neurons"],
        "preset": config["preset"],
        "input_delays": model._input_delays(),
        "params": config["params"],
        "seed": config["seed"],
        "n_learn": config["n_learn"],
        "n_label": config["n_label"],
        "split": f"learn {config['n_learn']} of the 50,000 learning images, validation 10,000 "
        f"(validation_split, seed {VALIDATION_SEED})",
        "val_accuracy": val_accuracy,
        "retry_fraction": 1 - model.examples_seen_ / windows,
        "capped_examples": capped,
        "theta_mean_mV": model.history_[-1]["theta_mean_mV"],
        "fit_seconds": round(seconds, 1),
        "validation_seconds": round(time.perf_counter() - start, 1),
        "commit": config["commit"],
    }
    with Path(config["out"]).open("a") as handle:  # one short append per row: safe in parallel
        handle.write(json.dumps(row) + "\n")
    return row


def finished_rows(path: Path) -> dict[str, dict]:
    """The rows already in ``path`` (a JSONL file), by configuration name; creates its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        return {}
    return {row["name"]: row for row in map(json.loads, path.read_text().splitlines())}


def configurations(args: argparse.Namespace, commit_hash: str) -> list[dict]:
    """The grid of the command line, one configuration per combination and seed."""
    grid = []
    for neurons, integration, inhibition, theta_plus, seed in itertools.product(
        args.neurons, args.integration or [None], args.inhibition or [None],
        args.theta_plus or [None], args.seeds,
    ):  # fmt: skip
        params = dict(INTEGRATION[integration]) if integration else {}
        if inhibition is not None:
            params["w_inh_exc"] = inhibition
        if theta_plus is not None:
            params["theta_plus"] = f"{theta_plus} mV"
        if args.hold_refractory is not None:
            params["hold_refractory_exc"] = bool(args.hold_refractory)
        if args.count_previous_rest is not None:
            params["count_previous_rest"] = bool(args.count_previous_rest)
        grid.append(
            {
                "neurons": neurons,
                "preset": args.preset,
                "input_delays": args.input_delays,
                "params": params,
                "seed": seed,
                "n_learn": args.n_learn,
                "n_label": args.n_label,
                "models": str(args.models),
                "verbose": args.verbose,
                "commit": commit_hash,
                "out": str(args.out),
            }
        )
    return grid


def print_table(rows: list[dict]) -> None:
    """The rows as a Markdown table, best validation accuracy first."""
    print(
        "| N | preset | input delays | parameters | seed | validation accuracy | retries "
        "| capped | fit s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in sorted(rows, key=lambda r: (r["neurons"], -r["val_accuracy"])):
        params = ", ".join(f"{k}={v}" for k, v in sorted(row["params"].items())) or "-"
        print(
            f"| {row['neurons']} | {row['preset']} | {'on' if row.get('input_delays') else 'off'} "
            f"| {params} | {row['seed']} "
            f"| {100 * row['val_accuracy']:.2f} % | {100 * row['retry_fraction']:.1f} % "
            f"| {row['capped_examples']} | {row['fit_seconds']} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, nargs="+", default=[100])
    parser.add_argument("--preset", choices=["default", "original"], default="default")
    parser.add_argument(
        "--input-delays",
        type=lambda value: {"on": True, "off": False}[value],
        default=None,
        help="on/off (default: as the preset says)",
    )
    parser.add_argument("--integration", nargs="*", choices=sorted(INTEGRATION))
    parser.add_argument(
        "--hold-refractory", type=int, choices=[0, 1], default=None,
        help="hold v during the excitatory refractory period (default: as the preset says)",
    )  # fmt: skip
    parser.add_argument(
        "--count-previous-rest", type=int, choices=[0, 1], default=None,
        help="count the rest period's spikes with the next example (default: as the preset)",
    )  # fmt: skip
    parser.add_argument("--inhibition", type=float, nargs="*", help="w_inh_exc values")
    parser.add_argument("--theta-plus", type=float, nargs="*", help="theta_plus values in mV")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-learn", type=int, default=50000)
    parser.add_argument("--n-label", type=int, default=10000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--models", type=Path, default=Path("benchmarks/out/models"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/snn_tune.jsonl"))
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(format="%(asctime)s %(message)s")
    logging.getLogger("neurosim").setLevel(logging.INFO)
    print(describe())
    done = finished_rows(args.out)
    grid = configurations(args, commit())
    todo = [config for config in grid if config_name(config) not in done]
    print(f"{len(grid)} configurations, {len(grid) - len(todo)} already done", flush=True)
    for row in run_sweep(learn_and_validate, todo, n_jobs=args.jobs):
        done[row["name"]] = row
    print_table([done[config_name(config)] for config in grid])


if __name__ == "__main__":
    main()
