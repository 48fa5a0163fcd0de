"""Training speed and peak memory of RateMLP against scikit-learn's MLPClassifier.

Every model trains the same network on the full MNIST training set (60,000 x 784, float32
input): 784-256-10, ReLU, Adam (learning rate 1e-3), mini-batches of 128, L2 penalty
alpha=1e-4, no early stopping. Each epoch is one ``partial_fit`` call, timed from outside
(input validation included, for every model alike). The models take turns epoch by epoch, so
a change in machine load hits all of them; the figure is the median over the timed epochs, after
one warm-up epoch. BLAS threads are pinned with threadpoolctl (1 and 2 by default). PyTorch is
added as a column when it is importable (its intra-op threads set to the same count).

Peak memory is the resident-set high-water mark (VmHWM on Linux, else ``ru_maxrss``) of a
fresh subprocess that loads MNIST and trains one epoch (one BLAS thread). Loading
(decompression, uint8 to float32) has a peak of its own, so on Linux the mark is reset after
loading (``/proc/self/clear_refs``) and the training peak is reported separately, next to the
resident size after loading.

Run on a quiet machine:

    NEUROSIM_DATA=/path/to/mnist python benchmarks/mlp_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
from machine import describe
from threadpoolctl import threadpool_info, threadpool_limits

from neurosim import RateMLP, load_mnist

HIDDEN = 256
BATCH = 128
ALPHA = 1e-4
LEARNING_RATE = 1e-3


def partial_fit_epoch(model) -> Callable[[np.ndarray, np.ndarray], None]:
    """One epoch as one ``partial_fit`` call, all ten classes declared."""
    classes = np.arange(10)
    return lambda X, y: model.partial_fit(X, y, classes=classes)


def make_rate_mlp(seed: int) -> Callable[[np.ndarray, np.ndarray], None]:
    model = RateMLP(
        (HIDDEN,),
        optimizer="adam",
        learning_rate=LEARNING_RATE,
        batch_size=BATCH,
        alpha=ALPHA,
        random_state=seed,
    )
    return partial_fit_epoch(model)


def make_sklearn(seed: int) -> Callable[[np.ndarray, np.ndarray], None]:
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        (HIDDEN,),
        solver="adam",
        learning_rate_init=LEARNING_RATE,
        batch_size=BATCH,
        alpha=ALPHA,
        early_stopping=False,
        random_state=seed,
    )
    return partial_fit_epoch(model)


def make_torch(seed: int, threads: int) -> Callable[[np.ndarray, np.ndarray], None]:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(784, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10)
    )
    # Adam with an L2 term in the gradient, as alpha in the other two; their penalty on a batch
    # of n is 0.5 * alpha * ||W||^2 / n, i.e. weight decay alpha / n on the weights.
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    weights = [net[0].weight, net[2].weight]
    generator = torch.Generator().manual_seed(seed)

    def epoch(X: np.ndarray, y: np.ndarray) -> None:
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        for rows in torch.randperm(len(X), generator=generator).split(BATCH):
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(Xt[rows]), yt[rows])
            loss = loss + 0.5 * ALPHA * sum((w * w).sum() for w in weights) / len(rows)
            loss.backward()
            optimizer.step()

    return epoch


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def time_epochs(
    makers: dict[str, Callable[[], Callable]], X: np.ndarray, y: np.ndarray, epochs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds per epoch of each model, in turns; the warm-up epoch is dropped."""
    runners = {name: make() for name, make in makers.items()}
    wall: dict[str, list[float]] = {name: [] for name in runners}
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(epochs + 1):
        for name, run in runners.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run(X, y)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return (
        {name: values[1:] for name, values in wall.items()},
        {name: values[1:] for name, values in cpu.items()},
    )


def load_line() -> str:
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    warning = "  <- BUSY MACHINE: figures unreliable" if load > 0.5 * cores else ""
    return f"load average {load:.1f} on {cores} cores{warning}"


def memory_figures(model: str) -> dict[str, float]:
    """Memory of a fresh subprocess that loads MNIST and trains one epoch (MiB)."""
    result = subprocess.run(
        [sys.executable, __file__, "--memory-child", model],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _status_mib(field: str) -> float | None:
    """A memory field of /proc/self/status (Linux), in MiB."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_mib() -> float:
    """Peak resident memory of this process.

    On Linux this is VmHWM, the high-water mark of this process's own memory. ``ru_maxrss``
    also counts the image of the parent this process was forked from (recorded at exec), so
    it would report the benchmark's own size rather than the subprocess's; it is the fallback
    where /proc is missing.
    """
    peak = _status_mib("VmHWM")
    if peak is not None:
        return peak
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _reset_peak() -> bool:
    """Reset the resident-set high-water mark to the current size (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def memory_child(model: str) -> None:
    X, y = load_mnist("train")
    figures = {"peak_loading": _peak_mib(), "after_loading": _status_mib("VmRSS")}
    # Loading MNIST (decompression, uint8 -> float32) peaks higher than training may, so the
    # high-water mark is reset after loading where the system allows it.
    reset = _reset_peak()
    with threadpool_limits(1):
        {"RateMLP": make_rate_mlp, "sklearn": make_sklearn}[model](0)(X, y)
    figures["peak_training"] = _peak_mib() if reset else None
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs (after a warm-up)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    print(describe(), flush=True)
    if args.memory_child:
        memory_child(args.memory_child)
        return

    X, y = load_mnist("train")
    blas = {info["internal_api"] for info in threadpool_info() if info["user_api"] == "blas"}
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, BLAS {', '.join(sorted(blas))}"
    )
    print(
        f"784-{HIDDEN}-10, Adam lr {LEARNING_RATE}, batch {BATCH}, alpha {ALPHA}, float32, "
        f"median of {args.epochs} epochs after 1 warm-up\n"
    )
    use_torch = torch_available()
    print(load_line())
    header = (
        f"{'threads':>7} {'RateMLP s/ep':>13} {'sklearn s/ep':>13} {'ratio':>6} {'cpu ratio':>10}"
    )
    if use_torch:
        header += f" {'torch s/ep':>11} {'ratio':>6}"
    print(header)
    for threads in args.threads:
        with threadpool_limits(threads):
            makers = {
                "RateMLP": lambda: make_rate_mlp(args.seed),
                "sklearn": lambda: make_sklearn(args.seed),
            }
            if use_torch:
                makers["torch"] = lambda threads=threads: make_torch(args.seed, threads)
            wall, cpu = time_epochs(makers, X, y, args.epochs)
        median = {name: statistics.median(values) for name, values in wall.items()}
        cpu_median = {name: statistics.median(values) for name, values in cpu.items()}
        line = (
            f"{threads:>7} {median['RateMLP']:>13.3f} {median['sklearn']:>13.3f} "
            f"{median['RateMLP'] / median['sklearn']:>6.2f} "
            f"{cpu_median['RateMLP'] / cpu_median['sklearn']:>10.2f}"
        )
        if use_torch:
            line += f" {median['torch']:>11.3f} {median['RateMLP'] / median['torch']:>6.2f}"
        print(line, flush=True)
    print(load_line())
    print(
        "ratio = RateMLP wall time / other wall time (below 1: RateMLP is faster); cpu ratio: "
        "the same with process CPU time, less sensitive to other load"
    )

    if not args.no_memory:
        print(
            "\nmemory of a fresh process that loads MNIST (180 MiB as float32) and trains one "
            "epoch, MiB:"
        )
        print(f"{'model':<10} {'peak loading':>13} {'after loading':>14} {'peak training':>14}")
        for model in ("RateMLP", "sklearn"):
            figures = memory_figures(model)
            cells = [figures[key] for key in ("peak_loading", "after_loading", "peak_training")]
            text = [
                f"{'n/a' if v is None else f'{v:.0f}':>{w}}"
                for v, w in zip(cells, (13, 14, 14), strict=True)
            ]
            print(f"{model:<10} " + " ".join(text), flush=True)
        print(
            "peaks are the resident high-water mark (VmHWM, or ru_maxrss without /proc); the "
            "training peak is measured after resetting it, so it excludes the loading peak"
        )


if __name__ == "__main__":
    main()
