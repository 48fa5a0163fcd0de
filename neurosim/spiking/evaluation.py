"""Evaluation of a frozen network: examples spread over batched copies and over cores.

With learning off, examples are independent, so a frozen engine (``learning=False``) shows
many at once, one batch per copy of the network, and several such runs go at once, one per
thread (each thread only waits on its compiled process). Examples a copy could not finish in
its run's windows go to the next pass and resume at the intensity they had reached, so each
example gets exactly the protocol of an unbatched presentation.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from neurosim.spiking.engine import ChunkResult, STDPEngine

__all__ = ["available_cores", "evaluate_frozen"]

# Runs per pass of frozen evaluation, at least (so that small sets keep several cores busy).
_MIN_RUNS_PER_PASS = 4


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def evaluate_frozen(
    engine: STDPEngine,
    state: dict[str, np.ndarray],
    X: np.ndarray,
    *,
    seed: Callable[[int, int], int],
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Present every row of ``X`` to the frozen network, in batches of copies and in parallel.

    The examples are split, in order, into runs of ``engine.copies`` batches of at most
    ``engine.chunk_windows`` examples (at least :data:`_MIN_RUNS_PER_PASS` runs while there
    are enough examples). Examples a copy did not finish are run again in a next pass,
    resuming at the intensity they had reached, so every example gets exactly the protocol of
    an unbatched presentation. The split and the seeds do not depend on ``n_jobs``, so
    neither do the results. (One function: its passes share the thread pool and the
    per-example bookkeeping.)

    Parameters
    ----------
    engine : STDPEngine
        A frozen engine (``learning=False``).
    state : dict of str to ndarray
        The network state every run starts from.
    X : ndarray of shape (n_samples, n_input)
    seed : callable
        ``seed(pass_index, run_index)``: the seed of each run's Poisson input.
    n_jobs : int, default 1
        Runs simulated at the same time (threads, each waiting on one compiled process; the
        runtime device always runs one at a time).
    progress : callable, optional
        Called with the number of examples each finished batch completed.

    Returns
    -------
    counts : ndarray of shape (n_samples, n_neurons)
        Excitatory spikes per neuron in each example's accepted window.
    tallies : dict of str to ndarray of shape (n_samples,)
        Per example, over all of its windows: ``input``, ``excitatory`` and ``inhibitory``
        spikes and ``windows``.
    """
    n = len(X)
    counts = np.zeros((n, engine.n_neurons))
    tallies = {key: np.zeros(n) for key in ("input", "excitatory", "inhibitory", "windows")}
    starts = np.full(n, float(engine.params.intensity_start))
    pending = np.arange(n)
    engine.prepare()
    workers = 1 if engine.device == "runtime" else max(1, int(n_jobs))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pass_index = 0
        while len(pending):
            runs = _split_into_runs(pending, engine.copies, engine.chunk_windows)
            futures = [
                pool.submit(
                    engine.run_copies,
                    state,
                    [X[batch] for batch in batches],
                    [starts[batch] for batch in batches],
                    seed=seed(pass_index, index),
                )
                for index, batches in enumerate(runs)
            ]
            unfinished = []
            for batches, future in zip(runs, futures, strict=True):
                for batch, result in zip(batches, future.result(), strict=True):
                    unfinished += _record_batch(batch, result, counts, tallies, starts)
                    if progress is not None:
                        progress(result.n_completed)
            pending = np.concatenate(unfinished) if unfinished else pending[:0]
            pass_index += 1
    return counts, tallies


def _split_into_runs(pending: np.ndarray, copies: int, windows: int) -> list[list[np.ndarray]]:
    """Consecutive batches of at most ``windows`` examples, ``copies`` batches per run."""
    per_copy = min(windows, math.ceil(len(pending) / (copies * _MIN_RUNS_PER_PASS)))
    batches = [pending[i : i + per_copy] for i in range(0, len(pending), per_copy)]
    return [batches[i : i + copies] for i in range(0, len(batches), copies)]


def _record_batch(
    batch: np.ndarray,
    result: ChunkResult,
    counts: np.ndarray,
    tallies: dict[str, np.ndarray],
    starts: np.ndarray,
) -> list[np.ndarray]:
    """Add one batch's windows to the tallies and counts; return its unfinished examples.

    The first unfinished example resumes at the intensity it reached (set in ``starts``).
    """
    example = batch[result.example]
    for key, per_window in (
        ("input", result.input_spikes),
        ("excitatory", result.counts.sum(axis=1)),
        ("inhibitory", result.inh_spikes),
        ("windows", np.ones(len(example))),
    ):
        np.add.at(tallies[key], example, per_window)
    counts[example[result.accepted]] = result.counts[result.accepted]
    rest = batch[result.n_completed :]
    if len(rest):
        starts[rest[0]] = result.next_intensity
    return [rest] if len(rest) else []
