"""Cost against size: STDPNetwork training time and memory vs N, MLP epoch time vs width.

Each configuration runs in a fresh process (so peak memory is its own): the spiking network
learns ``--snn-examples`` MNIST images with its builds compiled beforehand by another process
(so the compiler's memory is not counted; the simulation's peak RSS is that of the compiled
child process) and then evaluates the same images with learning frozen (``spike_counts``:
batched copies, every core), the MLP trains ``--mlp-epochs`` epochs on ``--mlp-examples``
images. The Python process holds all of MNIST's training images as float64 (~360 MiB) in every case.
The growth exponent is the slope of log(time) against log(synapses) (for the spiking
network: 784 N plastic + N excitatory -> inhibitory + N (N - 1) inhibitory -> excitatory;
for the MLP: its weights). Linear growth is 1.0.

Example::

    NEUROSIM_DATA=../shared/data/mnist python benchmarks/cost_vs_size.py
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
from machine import describe
from peak_memory import ChildPeakMemory


def snn_synapses(n: int, n_input: int = 784) -> int:
    return n_input * n + n + n * (n - 1)


def mlp_synapses(hidden: int, n_input: int = 784, n_classes: int = 10) -> int:
    return n_input * hidden + hidden * n_classes


def worker(kind: str, size: int, examples: int, epochs: int) -> dict:
    from neurosim import RateMLP, STDPNetwork, load_mnist

    X, y = load_mnist("train")
    X, y = X[:examples], y[:examples]
    if kind == "snn":
        STDPNetwork(n_neurons=size, n_label=1, random_state=0).fit(X[:1], y[:1])  # load build
        with ChildPeakMemory() as simulation:
            model = STDPNetwork(n_neurons=size, n_label=1, random_state=0).fit(X, y)
        seconds = model.history_[-1]["wall_time"]
        per_unit = seconds / examples
        start = time.perf_counter()
        model.spike_counts(X)
        evaluation = (time.perf_counter() - start) / examples
        synapses = snn_synapses(size)
    else:
        simulation = evaluation = None
        model = RateMLP(hidden_layer_sizes=(size,), max_iter=epochs, random_state=0)
        start = time.perf_counter()
        model.fit(X, y)
        per_unit = (time.perf_counter() - start) / epochs
        synapses = mlp_synapses(size)
    return {
        "kind": kind,
        "size": size,
        "synapses": synapses,
        "seconds": per_unit,
        "evaluation_seconds": evaluation,
        "peak_rss_python_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_simulation_MiB": None if simulation is None else simulation.peak_mib,
    }


def growth_exponent(rows: list[dict]) -> float:
    """Slope of log(seconds) against log(synapses)."""
    x = np.log([r["synapses"] for r in rows])
    y = np.log([r["seconds"] for r in rows])
    return float(np.polyfit(x, y, 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snn-sizes", type=int, nargs="+", default=[100, 400, 1600])
    parser.add_argument("--snn-examples", type=int, default=300)
    parser.add_argument("--mlp-sizes", type=int, nargs="+", default=[64, 256, 1024, 4096])
    parser.add_argument("--mlp-examples", type=int, default=10000)
    parser.add_argument("--mlp-epochs", type=int, default=2)
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, size = args.worker[0], int(args.worker[1])
        examples = args.snn_examples if kind == "snn" else args.mlp_examples
        print(json.dumps(worker(kind, size, examples, args.mlp_epochs)))
        return
    print(describe(), flush=True)

    rows = {"snn": [], "mlp": []}
    for kind, sizes in (("snn", args.snn_sizes), ("mlp", args.mlp_sizes)):
        for size in sizes:
            command = [sys.executable, __file__, "--worker", kind, str(size)]
            command += ["--mlp-examples", str(args.mlp_examples)]
            command += ["--mlp-epochs", str(args.mlp_epochs)]
            if kind == "snn":  # compile the build in a process of its own first
                subprocess.run([*command, "--snn-examples", "1"], capture_output=True, check=True)
            command += ["--snn-examples", str(args.snn_examples)]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            row = json.loads(output.strip().splitlines()[-1])
            rows[kind].append(row)
            print(json.dumps(row), flush=True)

    print()
    print(
        f"{'model':>5} {'size':>6} {'synapses':>11} {'time':>12} {'time/synapse':>13} "
        f"{'peak RSS python':>16} {'peak RSS sim':>13} {'evaluation':>14}"
    )
    for kind, unit in (("snn", "s/example"), ("mlp", "s/epoch")):
        for r in rows[kind]:
            print(
                f"{kind:>5} {r['size']:>6} {r['synapses']:>11,} {r['seconds']:>8.4f} {unit:<3}"
                f" {1e9 * r['seconds'] / r['synapses']:>9.2f} ns"
                f" {r['peak_rss_python_MiB']:>12.0f} MiB"
                f" {r['peak_rss_simulation_MiB'] or 0:>9.0f} MiB"
                + (
                    f" {r['evaluation_seconds']:>8.4f} s/ex "
                    f"({r['seconds'] / r['evaluation_seconds']:.1f}x)"
                    if r.get("evaluation_seconds")
                    else ""
                )
            )
        if len(rows[kind]) >= 2:
            print(f"{kind}: time ~ synapses^{growth_exponent(rows[kind]):.2f} (1.00 = linear)")
            pairs = zip(rows[kind][:-1], rows[kind][1:], strict=True)
            for a, b in pairs:
                local = np.log(b["seconds"] / a["seconds"]) / np.log(b["synapses"] / a["synapses"])
                print(f"  {a['size']} -> {b['size']}: local exponent {local:.2f}")


if __name__ == "__main__":
    main()
