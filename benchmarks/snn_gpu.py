"""Seconds per training example of STDPNetwork on Brian2's CUDA device vs the C++ engine.

Needs an NVIDIA GPU, the CUDA toolkit and brian2cuda (``pip install -e '.[gpu]'``). Each
device trains ``--examples`` MNIST images after its build is ready (build time reported
separately), for each size in ``--sizes``::

    NEUROSIM_DATA=../shared/data/mnist python benchmarks/snn_gpu.py --sizes 400 1600
"""

from __future__ import annotations

import argparse
import time

from machine import describe

from neurosim import STDPNetwork, load_mnist


def seconds_per_example(device: str, n: int, X, y) -> tuple[float, float]:
    """(seconds per training example, build seconds) on ``device``."""
    start = time.perf_counter()
    STDPNetwork(n_neurons=n, device=device, n_label=1, random_state=0).fit(X[:1], y[:1])
    build = time.perf_counter() - start
    model = STDPNetwork(n_neurons=n, device=device, n_label=1, random_state=0).fit(X, y)
    return model.history_[-1]["wall_time"] / len(X), build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 1600])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--devices", nargs="+", default=["cpp_standalone", "cuda_standalone"])
    args = parser.parse_args()
    print(describe(), flush=True)
    X, y = load_mnist("train")
    X, y = X[: args.examples], y[: args.examples]
    print(f"{'N':>5} {'device':>16} {'s/example':>10} {'build (s)':>10}")
    for n in args.sizes:
        for device in args.devices:
            per_example, build = seconds_per_example(device, n, X, y)
            print(f"{n:>5} {device:>16} {per_example:>10.4f} {build:>10.1f}", flush=True)


if __name__ == "__main__":
    main()
