"""Seconds per training example: the ports' per-example runtime loop vs neurosim's engine.

Both simulate the same network (the layers come from ``neurosim.spiking.model.build_layers``,
without input delays) on the same MNIST images with learning on:

- *runtime loop*, the method of the public Brian2 ports and Brian2's example: Brian2's runtime
  device (Cython code generation), and per example, from Python: normalise the weights, set the
  input rates, ``net.run(350 ms)``, read the spike count, re-present with higher intensity if
  fewer than 5 spikes, set the rates to zero, ``net.run(150 ms)``;
- *engine*: ``STDPNetwork(device="cpp_standalone")``, the whole protocol compiled (with the
  engine's ``COMPILER_FLAGS``), examples fed in chunks.

The loop runs three ways: as the ports wrote it; with ``gc.freeze()`` before the loop (the
objects that exist then are moved out of the collector's reach, so the ``gc.collect()`` that
Brian2 runs at every ``net.run`` has little to scan); and with ``gc.freeze()`` plus
``gc.disable()`` around each ``net.run``. Speed-ups are given against each.

The loop's Cython code is compiled with Brian2's default flags, or with the engine's
(``--loop-flags engine``, in a Cython cache of its own next to the engine's builds). Quote loop
figures from a run that found its Cython cache warm: a process that has just compiled Cython
modules carries a larger heap, which makes the ``gc.collect()`` that Brian2 runs at every
``net.run`` about three times slower (0.8 instead of 0.4 s per example measured here at N=400).

Warm-up (compilation, the first examples) is excluded from the per-example figures and the
compile time is reported separately; a second engine run shows that nothing is recompiled.
Run nothing else heavy beside it. Example::

    python benchmarks/snn_speed.py --sizes 100 400 --loop-examples 60 --engine-examples 2000
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import time

import brian2 as b2
import numpy as np
from machine import describe, flush_to_zero

from neurosim import STDPNetwork, load_mnist
from neurosim.spiking import network
from neurosim.spiking.build import COMPILER_FLAGS, build_cache_dir
from neurosim.spiking.model import build_layers
from neurosim.spiking.params import preset

GC_MODES = ("plain", "freeze", "freeze+disable")


def runtime_loop(
    images: np.ndarray,
    n_neurons: int,
    warmup: int,
    seed: int,
    engine_flags: bool,
    gc_mode: str = "plain",
) -> list[float]:
    """Per-example wall times of the ports' method (after ``warmup`` examples).

    With ``engine_flags`` the Cython code is compiled with the engine's compiler flags, in a
    Cython cache of its own (Brian2's cache key ignores compiler flags). ``gc_mode`` is one of
    :data:`GC_MODES` (see the module documentation); the collector is restored afterwards.
    """
    try:
        return _loop(images, n_neurons, warmup, seed, engine_flags, gc_mode)
    finally:
        gc.enable()
        gc.unfreeze()


def _loop(images, n_neurons, warmup, seed, engine_flags, gc_mode) -> list[float]:
    b2.device.reinit()
    b2.device.activate()
    b2.set_device("runtime")
    b2.prefs.codegen.target = "cython"
    if engine_flags:
        b2.prefs.codegen.cpp.extra_compile_args_gcc = list(COMPILER_FLAGS)
        cache = build_cache_dir().parent / "cython-engine-flags"
        b2.prefs.codegen.runtime.cython.cache_dir = str(cache)
    b2.defaultclock.dt = 0.5 * b2.ms
    b2.seed(seed)
    p = preset(n_neurons)
    layers = build_layers(
        images.shape[1],
        n_neurons,
        p,
        input_delays=False,
        input_model="",
        input_threshold="rand() < rate * dt",
        count_increment="1",
    )
    exc = layers["exc"]
    exc.plastic = 1
    exc.v = p.v_rest_exc + p.v_init_offset
    exc.theta = p.theta_init
    layers["inh"].v = p.v_rest_inh + p.v_init_offset
    rng = np.random.default_rng(seed)
    n_in = images.shape[1]
    layers["syn"].w = (rng.random(n_in * n_neurons) + 0.01) * p.w_init_scale
    net = b2.Network(*layers.values())
    if gc_mode != "plain":
        gc.freeze()
    disable = gc_mode == "freeze+disable"
    times = []
    for index, image in enumerate(images):
        start = time.perf_counter()
        intensity = p.intensity_start
        while True:
            w = np.asarray(layers["syn"].w[:]).reshape(n_in, n_neurons)
            layers["syn"].w = (w * (p.w_sum_target / w.sum(axis=0))).ravel()
            before = np.asarray(exc.count[:]).sum()
            layers["inp"].rate = image * p.max_pixel_rate * intensity
            _run(net, p.presentation_time, disable)
            spikes = np.asarray(exc.count[:]).sum() - before
            layers["inp"].rate = 0 * b2.Hz
            _run(net, p.rest_time, disable)
            if spikes >= p.min_spikes or intensity >= p.max_intensity:
                break
            intensity += 1
        if index >= warmup:
            times.append(time.perf_counter() - start)
    return times


def _run(net: b2.Network, duration: b2.Quantity, disable_gc: bool) -> None:
    """``net.run(duration)``, with the garbage collector disabled during it if asked."""
    if disable_gc:
        gc.disable()
    net.run(duration, namespace={})
    gc.enable()


def engine_run(images: np.ndarray, n_neurons: int, seed: int) -> tuple[float, float]:
    """(seconds per example excluding compile, build seconds) of one engine training pass."""
    network._ENGINES.clear()  # as in a new process: generate code, rebuild what changed
    model = STDPNetwork(n_neurons=n_neurons, random_state=seed, n_label=1)
    model.fit(images, np.zeros(len(images), dtype=np.int64))
    print(f"N={n_neurons}: engine build flush-to-zero {flush_to_zero(model._engine())}")
    build = model._engine().compile_seconds
    return (model.history_[-1]["wall_time"] - build) / len(images), build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--loop-examples", type=int, default=60)
    parser.add_argument("--loop-warmup", type=int, default=5)
    parser.add_argument("--engine-examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--loop-flags",
        choices=("brian2", "engine"),
        default="brian2",
        help="compiler flags of the loop's Cython code: Brian2's defaults or the engine's",
    )
    args = parser.parse_args()
    X, _ = load_mnist("train")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(describe())
    print(f"commit {commit}, brian2 {b2.__version__}, numpy {np.__version__}, {sys.platform}")
    print(f"loop compiled with {args.loop_flags} flags; loop figures are medians, seconds/example")
    header = f"{'N':>5} " + " ".join(f"{'loop ' + mode:>20}" for mode in GC_MODES)
    header += f" {'engine s/ex':>12} " + " ".join(f"{'x vs ' + mode:>20}" for mode in GC_MODES)
    print(header + f" {'build s (1st)':>14} {'build s (2nd)':>14}")
    for n in args.sizes:
        images = X[: args.loop_warmup + args.loop_examples]
        loops = [
            statistics.median(
                runtime_loop(images, n, args.loop_warmup, 1, args.loop_flags == "engine", mode)
            )
            for mode in GC_MODES
        ]
        per_example, first_build = engine_run(X[: args.engine_examples], n, args.seed)
        _, second_build = engine_run(X[: args.engine_examples // 4], n, args.seed)
        print(
            f"{n:>5} "
            + " ".join(f"{loop:>20.4f}" for loop in loops)
            + f" {per_example:>12.4f} "
            + " ".join(f"{loop / per_example:>19.1f}x" for loop in loops)
            + f" {first_build:>14.1f} {second_build:>14.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
