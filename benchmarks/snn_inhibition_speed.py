"""Seconds per training example: lateral inhibition by N(N-1) synapses vs pooled, side by side.

Both engines learn from the same MNIST images with the same seeds (their spikes are the same;
tests/test_spiking.py checks it); chunks of 500 examples alternate between the two, three
each, and the median per example is printed. Run nothing else heavy beside it. Example::

    python benchmarks/snn_inhibition_speed.py --sizes 100 400 1600
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402

from neurosim import STDPNetwork, load_mnist  # noqa: E402
from neurosim.spiking.engine import STDPEngine  # noqa: E402
from neurosim.spiking.params import preset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 400, 1600])
    parser.add_argument("--examples", type=int, default=500, help="examples per chunk")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, _ = load_mnist("train")
    print(describe())
    for n in args.sizes:
        model = STDPNetwork(n_neurons=n, random_state=0)
        model.n_features_in_, model.seed_ = X.shape[1], 0
        state = model._initial_state()
        engines = {
            pooled: STDPEngine(
                X.shape[1], n, preset(n), chunk_windows=args.examples, pooled_inhibition=pooled
            )
            for pooled in (False, True)
        }
        times: dict[bool, list[float]] = {False: [], True: []}
        for engine in engines.values():
            engine.prepare()
        for repeat in range(args.repeats):
            images = X[repeat * args.examples : (repeat + 1) * args.examples]
            for pooled, engine in engines.items():
                start = time.perf_counter()
                engine.run_chunk(state, images, intensity=2.0, plastic=True, seed=repeat)
                times[pooled].append((time.perf_counter() - start) / len(images))
        synapses, pooled = statistics.median(times[False]), statistics.median(times[True])
        print(
            f"N={n}: synapses {1e3 * synapses:.2f} ms/example, pooled {1e3 * pooled:.2f} "
            f"ms/example, pooled / synapses {pooled / synapses:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
