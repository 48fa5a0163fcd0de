"""Evaluation against learning throughput of STDPNetwork, measured side by side in one run.

For each size: examples per second while learning (one pass, learning on), then while
evaluating a frozen network (spike counts of every example, the presentation protocol with
re-presentations included) in four ways:

- *unbatched*: the learning build with learning switched off, one example after another (how
  every evaluation ran before batched inference);
- *frozen, copies B, 1 job*: the frozen build (no plasticity code) with B copies of the
  network side by side in one simulation, for each B given;
- *frozen, best B, all cores*: the fastest B with ``n_jobs`` = every usable core.

Builds are compiled (or taken from the cache) before any timing. Run nothing else heavy
beside it. Example::

    python benchmarks/snn_eval_speed.py --sizes 100 400 --learn 2000 --eval 4000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe, flush_to_zero  # noqa: E402

from neurosim import STDPNetwork, load_mnist  # noqa: E402
from neurosim.spiking.evaluation import available_cores  # noqa: E402


def learning_rate(X: np.ndarray, n: int, seed: int) -> tuple[float, STDPNetwork]:
    """Examples per second of one learning pass over ``X`` (build warmed up before)."""
    STDPNetwork(n_neurons=n, random_state=seed, n_label=1).fit(X[:1], [0])
    model = STDPNetwork(n_neurons=n, random_state=seed, n_label=1)
    model.fit(X, np.zeros(len(X), dtype=np.int64))
    return len(X) / model.history_[-1]["wall_time"], model


def unbatched_counts(model: STDPNetwork, X: np.ndarray, seed: int = 0) -> np.ndarray:
    """Spike counts of every row of ``X``: the learning build run frozen, chunk after chunk.

    How every evaluation ran before batched inference; chunk ``k`` draws its Poisson input
    from seed ``seed * 10**6 + k``.
    """
    engine = model._engine()
    state, position, counter = model.state_, 0, 0
    intensity = engine.params.intensity_start
    counts = np.zeros((len(X), model.n_neurons))
    while position < len(X):
        state, result, _ = engine.run_chunk(
            state,
            X[position : position + engine.chunk_windows],
            intensity=intensity,
            plastic=False,
            seed=seed * 10**6 + counter,
        )
        accepted = result.accepted
        counts[position + result.example[accepted].astype(int)] = result.counts[accepted]
        position += result.n_completed
        intensity, counter = result.next_intensity, counter + 1
    return counts


def unbatched_rate(model: STDPNetwork, X: np.ndarray) -> float:
    """Examples per second of the learning build run frozen (see :func:`unbatched_counts`)."""
    start = time.perf_counter()
    unbatched_counts(model, X)
    return len(X) / (time.perf_counter() - start)


def frozen_rate(model: STDPNetwork, X: np.ndarray, copies: int, n_jobs: int) -> float:
    """Examples per second of batched frozen evaluation (build warmed up first)."""
    model.set_params(eval_copies=copies, n_jobs=n_jobs)
    model.spike_counts(X[:1])
    start = time.perf_counter()
    model.spike_counts(X)
    return len(X) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--learn", type=int, default=2000, help="training examples timed")
    parser.add_argument("--eval", type=int, default=4000, help="test images evaluated")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    X, _ = load_mnist("train")
    X_eval, _ = load_mnist("test")
    X_eval = X_eval[: args.eval]
    cores = available_cores()
    print(describe())
    for n in args.sizes:
        learn, model = learning_rate(X[: args.learn], n, args.seed)
        print(f"\nN={n}: flush-to-zero in the learning build: {flush_to_zero(model._engine())}")
        print(f"{'mode':<34} {'examples/s':>11} {'vs learning':>12}")
        print(f"{'learning (1 core)':<34} {learn:>11.1f} {1.0:>11.2f}x")
        rate = unbatched_rate(model, X_eval)
        print(f"{'unbatched frozen (1 core)':<34} {rate:>11.1f} {rate / learn:>11.2f}x", flush=True)
        rates = {}
        for copies in args.copies:
            rates[copies] = frozen_rate(model, X_eval, copies, 1)
            label = f"frozen, {copies} copies, 1 job"
            print(f"{label:<34} {rates[copies]:>11.1f} {rates[copies] / learn:>11.2f}x", flush=True)
        best = max(rates, key=rates.get)
        rate = frozen_rate(model, X_eval, best, cores)
        label = f"frozen, {best} copies, {cores} jobs"
        print(f"{label:<34} {rate:>11.1f} {rate / learn:>11.2f}x", flush=True)
        engine = model._engine(learning=False)
        print(f"flush-to-zero in the frozen build: {flush_to_zero(engine)}")


if __name__ == "__main__":
    main()
