"""CPU time per example of the compiled simulation, learning and frozen evaluation.

Wall time means little on a shared machine; the CPU time of the compiled simulations (child
processes, from ``getrusage``) varies much less with other work on the machine. Compare two
checkouts by running this in each, interleaved (A B A B ...), and take medians::

    PYTHONPATH=/path/to/checkout python benchmarks/snn_cpu_time.py --neurons 100

Learning: a fresh network learns from the first ``--learn`` training images (neurons named
from one image). Evaluation: the same network's spike counts of the first ``--eval`` test
images, ``--copies`` copies in one job. Builds are compiled (or taken from the cache) first.
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402

from neurosim import STDPNetwork, load_mnist  # noqa: E402


def child_cpu_seconds() -> float:
    """User and system CPU time of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--learn", type=int, default=1000)
    parser.add_argument("--eval", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=2)
    args = parser.parse_args()
    print(describe())
    X, y = load_mnist("train")
    X_test, _ = load_mnist("test")
    options = dict(n_neurons=args.neurons, random_state=0, n_label=1)
    model = STDPNetwork(**options).fit(X[:5], y[:5])  # both builds ready
    model.set_params(n_jobs=1, eval_copies=args.copies).spike_counts(X_test[:5])
    start = child_cpu_seconds()
    model = STDPNetwork(**options).fit(X[: args.learn], y[: args.learn])
    learn = (child_cpu_seconds() - start) / args.learn
    model.set_params(n_jobs=1, eval_copies=args.copies)
    start = child_cpu_seconds()
    model.spike_counts(X_test[: args.eval])
    evaluate = (child_cpu_seconds() - start) / args.eval
    print(
        f"N={args.neurons}: CPU ms per example: learning {1e3 * learn:.3f}, "
        f"evaluation ({args.copies} copies, 1 job) {1e3 * evaluate:.3f}"
    )


if __name__ == "__main__":
    main()
