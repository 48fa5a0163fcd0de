"""Batched against unbatched evaluation of one trained network: accuracy over several draws.

The two evaluations differ only in their Poisson draws (batched copies of the frozen build
against the learning build run frozen, one example after another), so their accuracies on the
same images should differ by no more than one draw differs from another. For each draw the
saved network is evaluated both ways with fresh seeds; the script prints every accuracy, the
mean and standard deviation of each way, and the difference of the means. It touches the test
images only to evaluate a finished network. Example::

    python benchmarks/snn_batch_agreement.py --model MODEL.npz --draws 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402
from snn_eval_speed import unbatched_counts  # noqa: E402

from neurosim import STDPNetwork, load_mnist  # noqa: E402
from neurosim.spiking.evaluation import available_cores, evaluate_frozen  # noqa: E402


def batched_counts(model: STDPNetwork, X: np.ndarray, seed: int) -> np.ndarray:
    """Spike counts from batched frozen evaluation (every core), Poisson input from ``seed``."""
    counts, _ = evaluate_frozen(
        model._engine(learning=False),
        model.state_,
        X,
        seed=lambda pass_index, run: int(
            np.random.SeedSequence([seed, pass_index, run]).generate_state(1)[0]
        ),
        n_jobs=available_cores(),
    )
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a saved STDPNetwork (.npz)")
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--images", type=int, default=10000, help="test images evaluated")
    args = parser.parse_args()
    print(describe())
    model = STDPNetwork.load(args.model)
    X, y = load_mnist("test")
    X, y = X[: args.images], y[: args.images]
    print(f"model {args.model.name}: N={model.n_neurons}, {len(X)} test images")
    accuracy: dict[str, list[float]] = {"unbatched": [], "batched": []}
    for draw in range(args.draws):
        seed = 1000 + draw
        for way, counts in (
            ("unbatched", unbatched_counts(model, X, seed)),
            ("batched", batched_counts(model, X, seed)),
        ):
            accuracy[way].append(float(np.mean(model.predict_from_counts(counts) == y)))
            print(f"draw {draw} (seed {seed}), {way}: {100 * accuracy[way][-1]:.2f} %", flush=True)
    for way, values in accuracy.items():
        print(
            f"{way}: {100 * np.mean(values):.2f} +- {100 * np.std(values, ddof=1):.2f} % "
            f"over {len(values)} draws ({', '.join(f'{100 * v:.2f}' for v in values)})"
        )
    gap = np.mean(accuracy["batched"]) - np.mean(accuracy["unbatched"])
    print(f"batched - unbatched: {100 * gap:+.2f} points (mean of {args.draws} draws each)")


if __name__ == "__main__":
    main()
