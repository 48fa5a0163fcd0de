"""The converted network in Brian2: integrate-and-fire layers, many images at once.

The weights are frozen, so images are independent and one simulation shows many of them:
``copies`` copies of the network side by side (copy ``c`` holds neurons ``c * n ...`` of every
layer; connections stay inside a copy), each showing ``windows`` images one after another, one
window of ``n_steps`` time steps each. Image ``k`` of a run is shown by copy ``k % copies`` in
window ``k // copies``. At the start of every window each neuron's membrane is cleared and the
window's input is read from a table indexed by window and copy, so no Python runs per image,
and a run ends after its last occupied window.

The network (threshold 1 after normalisation, no leak, no refractory period):

- input ``"current"``: the first layer integrates the constant current ``W'_1 x + b'_1`` of its
  image (one matrix product per image, computed for the whole chunk before the run);
  ``"poisson"``: an input layer fires with probability ``x * max_rate * dt`` per step, and
  each of its spikes carries ``1 / (max_rate * dt)`` times the weight, so the expected input
  is the same;
- every other layer integrates its bias as a constant current plus the weights of the spikes
  it receives; a neuron fires when ``v >= 1`` and is reset by subtracting 1 (keeping the
  residual charge) or to 0 (a run-time choice, one build for both);
- the output layer's neurons fire and count their spikes, and also accumulate, without reset,
  all the charge they receive (``q``: a non-spiking output layer, the membrane readout).

A monitor records, after every time step, the output spike counts and charges and each layer's
spikes per copy; they give accuracy and operations against time from one run. With the
``cpp_standalone`` device the network is compiled once per architecture (layer sizes, input
coding, copies, windows, steps) and cached (:mod:`neurosim.spiking.build`); weights, biases,
inputs and the options above are run-time data. The ``runtime`` device runs the same network
in Brian2's numpy target (no compiler; slow; for small tests). Either way Brian2's global state
is left as the caller had it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import brian2 as b2
import numpy as np
from brian2.core.variables import Variable

from neurosim.spiking.brian2_internals import stop_function
from neurosim.spiking.build import StandaloneBuild, build_key, run_build, standalone_build
from neurosim.spiking.engine import run_runtime

__all__ = [
    "DEVICES",
    "DT",
    "INPUT_CODINGS",
    "IFEngine",
    "Recording",
    "Simulation",
    "simulate",
]

#: Duration of one time step.
DT = 1 * b2.ms
#: Membrane threshold of every neuron after normalisation.
V_THRESHOLD = 1.0
INPUT_CODINGS = ("current", "poisson")
DEVICES = ("cpp_standalone", "runtime")

# The source of this module generates the code; it is part of every build key.
_SOURCE_HASH = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
# Runs per call at least (while there are enough images), so that small sets keep several
# cores busy; fixed, so that the split (and the Poisson seeds) do not depend on n_jobs.
_MIN_RUNS = 4


@dataclass
class Simulation:
    """What every image did, after each time step (cumulative from the window's start).

    Attributes
    ----------
    count : ndarray of shape (n_images, n_steps, n_classes)
        Output spikes.
    charge : ndarray of shape (n_images, n_steps, n_classes)
        Charge accumulated by each output neuron without reset (the membrane readout).
    spikes : ndarray of shape (n_images, n_steps, n_spiking_layers)
        Spikes of each spiking layer (:attr:`IFEngine.spiking_layers`).
    """

    count: np.ndarray
    charge: np.ndarray
    spikes: np.ndarray


@dataclass
class Recording:
    """Every spike and the output layer's state, for a few images shown side by side.

    Attributes
    ----------
    spikes : dict of str to (ndarray, ndarray, ndarray)
        Layer name -> (time step, image, neuron) of each spike; step ``s`` (0-based) is the
        ``s + 1``-th step of the image.
    v : ndarray of shape (n_images, n_steps, n_classes)
        Output membrane potential after each step (after any reset).
    simulation : Simulation
        Counts, charges and spikes per layer, as :func:`simulate` returns them.
    """

    spikes: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    v: np.ndarray
    simulation: Simulation


class IFEngine:
    """Builds the converted network once and runs it on chunks of images.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first, output (one per class) last.
    input_coding : {"current", "poisson"}
    n_steps : int
        Time steps per image.
    device : {"cpp_standalone", "runtime"}
    copies : int
        Networks side by side in one simulation.
    windows : int
        Images each copy shows one after another in one run.
    record : bool, default False
        Also record every spike and the output membrane (a separate build; for a few images).
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        *,
        input_coding: str,
        n_steps: int,
        device: str,
        copies: int,
        windows: int,
        record: bool = False,
    ) -> None:
        if input_coding not in INPUT_CODINGS:
            raise ValueError(f"input_coding must be one of {INPUT_CODINGS}, got {input_coding!r}")
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.input_coding = input_coding
        self.n_steps = int(n_steps)
        self.device = device
        self.copies = int(copies)
        self.windows = int(windows)
        self.record = record
        self._build: StandaloneBuild | None = None

    @property
    def names(self) -> list[str]:
        """Brian2 names of the layers after the input: ``hidden1``, ..., ``output``."""
        return [f"hidden{k}" for k in range(1, len(self.layer_sizes) - 1)] + ["output"]

    @property
    def spiking_layers(self) -> list[str]:
        """Layers whose spikes are counted: the input (Poisson coding only), then the rest."""
        return (["input"] if self.input_coding == "poisson" else []) + self.names

    @property
    def images_per_run(self) -> int:
        """Images one run can show."""
        return self.copies * self.windows

    @property
    def compile_seconds(self) -> float | None:
        """Seconds this process spent getting the compiled build (None before the first run)."""
        return None if self._build is None else self._build.seconds

    def build_key(self) -> str:
        """Hash of everything that changes the generated code (see :func:`build_key`)."""
        return build_key(
            {
                "model": "converted-if",
                "source": _SOURCE_HASH,
                "layer_sizes": self.layer_sizes,
                "input_coding": self.input_coding,
                "n_steps": self.n_steps,
                "copies": self.copies,
                "windows": self.windows,
                "record": self.record,
            }
        )

    # -- description of the network ----------------------------------------------------------
    def _duration(self) -> b2.Quantity:
        # One step more than the windows: the last window's final state is recorded in it.
        return (self.windows * self.n_steps + 1) * DT

    def _table_shapes(self) -> dict[str, tuple[int, int]]:
        """Run-time tables (2-D ``TimedArray``) by name: rows indexed as time in ms.

        ``inputs``: one row per image slot (window * copies + copy): the first layer's
        current, or the pixels (Poisson); ``weights<l>`` / ``biases<l>``: layer ``l``'s
        weights (fan_in rows) and biases (one row), for every layer the simulation connects.
        """
        sizes = self.layer_sizes
        current = self.input_coding == "current"  # then layer 1's input is the table itself
        shapes = {"inputs": (self.images_per_run, sizes[1] if current else sizes[0])}
        for layer in range(2 if current else 1, len(sizes)):
            shapes[f"weights{layer}"] = (sizes[layer - 1], sizes[layer])
            shapes[f"biases{layer}"] = (1, sizes[layer])
        return shapes

    def _construct(self) -> dict:
        """Create the Brian2 objects of one run in the active device.

        In each time step, before the neurons integrate (Brian2's ``groups`` slot, by
        ``order``): the run stops if all its windows are done (-4); each copy's spikes per
        layer are summed (-3); the monitors record the state the previous step left (-2); at
        a window's first step, every neuron is cleared and the window's input read (-1). So
        the record of step ``k * n_steps + s`` holds window ``k`` after ``s`` steps (1..n_steps;
        the last one is read in the next window's first step, hence one extra step per run).
        """
        objects: dict = {}
        copies, steps = self.copies, self.n_steps
        tables = {
            name: b2.TimedArray(np.zeros(shape), dt=1 * b2.ms, name=name)
            for name, shape in self._table_shapes().items()
        }
        # Named clocks keep the generated code the same from one construction to the next.
        clock = b2.Clock(dt=DT, name="sim_clock")
        window = b2.Clock(dt=steps * DT, name="window_clock")
        once = b2.Clock(dt=self._duration(), name="once_clock")  # ticks at t = 0 only
        ns = {
            **tables,
            "v_threshold": V_THRESHOLD,
            "step_time": DT,
            "window_time": steps * DT,
            "stop_when": stop_function(lambda: objects["net"].stop()),
        }
        ctl = b2.NeuronGroup(
            copies,
            "\n".join(
                [f"spikes_{name} : 1" for name in self.spiking_layers]
                + ["n_windows : 1 (shared)", "stopped : 1 (shared)"]
            ),
            name="ctl",
            namespace=ns,
            clock=clock,
            order=-2,  # its summed variables are updated at order -3
        )
        ctl.run_regularly(
            "stopped = stop_when(int(timestep(t, window_time) >= n_windows))",
            clock=window,
            when="groups",
            order=-4,
            name="ctl_stop",
        )
        objects["ctl"] = ctl
        groups = self._layers(ns, clock, window, once)
        objects.update(groups)
        objects.update(self._connections(groups, ns, clock, once))
        objects.update(self._tallies(groups, ctl, clock))
        objects.update(self._monitors(groups, ctl, clock))
        objects["net"] = b2.Network(*objects.values(), name="net")
        objects.update(tables)
        return objects

    def _layers(self, ns, clock, window, once) -> dict[str, b2.NeuronGroup]:
        """The neuron groups (the input layer for Poisson coding), with their window clears.

        Every neuron counts its spikes in the window (``n_spikes``). Each layer's bias is set
        once at the start; the current-coded first layer reads its image's current at every
        window start instead.
        """
        sizes, copies = self.layer_sizes, self.copies
        # The image slot of copy (i // n) in this window: a table row, as a time.
        slot = f"(timestep(t, window_time) * {copies} + i // {{n}}) * ms, i % {{n}}"
        groups: dict[str, b2.NeuronGroup] = {}
        if self.input_coding == "poisson":
            groups["input"] = b2.NeuronGroup(
                copies * sizes[0],
                "pixel : 1\np_spike : 1 (shared)\nn_spikes : 1",
                threshold="rand() < pixel * p_spike",
                reset="n_spikes += 1",
                name="input",
                namespace=ns,
                clock=clock,
            )
            groups["input"].run_regularly(
                f"pixel = inputs({slot.format(n=sizes[0])})\nn_spikes = 0",
                clock=window,
                when="groups",
                order=-1,
                name="input_window",
            )
        for layer, name in enumerate(self.names, start=1):
            n = sizes[layer]
            output = name == "output"
            group = b2.NeuronGroup(
                copies * n,
                "dv/dt = I : 1\nI : Hz\nn_spikes : 1\nreset_zero : 1 (shared)"
                + ("\ndq/dt = I : 1" if output else ""),
                threshold="v >= v_threshold",
                reset="v = (1 - reset_zero) * (v - v_threshold)\nn_spikes += 1",
                method="euler",  # exact: the right-hand side is constant within a step
                name=name,
                namespace=ns,
                clock=clock,
            )
            clear = "v = 0\nn_spikes = 0" + ("\nq = 0" if output else "")
            if layer == 1 and self.input_coding == "current":
                clear += f"\nI = inputs({slot.format(n=n)}) / step_time"
            else:
                group.run_regularly(
                    f"I = biases{layer}(0 * ms, i % {n}) / step_time",
                    clock=once,
                    when="start",
                    name=f"{name}_bias",
                )
            group.run_regularly(clear, clock=window, when="groups", order=-1, name=f"{name}_window")
            groups[name] = group
        return groups

    def _connections(self, groups, ns, clock, once) -> dict[str, b2.Synapses]:
        """All-to-all connections inside each copy; weights read from the tables at t = 0."""
        sizes = self.layer_sizes
        connections = {}
        for layer in range(1, len(sizes)):
            if f"weights{layer}" not in self._table_shapes():
                continue
            pre = groups["input"] if layer == 1 else groups[self.names[layer - 2]]
            post = groups[self.names[layer - 1]]
            n_pre, n_post = sizes[layer - 1], sizes[layer]
            syn = b2.Synapses(
                pre,
                post,
                "w : 1",
                on_pre="v_post += w" + ("\nq_post += w" if post.name == "output" else ""),
                name=f"syn{layer}",
                namespace=ns,
                clock=clock,
            )
            # Generated in the binary (no index arrays stored): pre i reaches its copy's posts.
            syn.connect(
                j=f"k for k in range((i // {n_pre}) * {n_post}, (i // {n_pre} + 1) * {n_post})"
            )
            syn.run_regularly(
                f"w = weights{layer}((i % {n_pre}) * ms, j % {n_post})",
                clock=once,
                when="start",
                name=f"syn{layer}_weights",
            )
            connections[syn.name] = syn
        return connections

    def _tallies(self, groups, ctl, clock) -> dict[str, b2.Synapses]:
        """Each copy's spikes per layer so far, summed every step (one addition per neuron,
        cheaper than sending every spike to a counter)."""
        tallies = {}
        for name in self.spiking_layers:
            n = groups[name].N // self.copies
            tally = b2.Synapses(
                groups[name],
                ctl,
                f"spikes_{name}_post = n_spikes_pre : 1 (summed)",
                name=f"{groups[name].name}_tally",
                clock=clock,
            )
            tally.connect(j=f"i // {n}")
            tallies[tally.name] = tally
        return tallies

    def _monitors(self, groups, ctl, clock) -> dict:
        """The output and the tallies every step; with ``record``, every spike too."""
        output_vars = ["n_spikes", "q"] + (["v"] if self.record else [])
        before_clears = {"when": "groups", "order": -2, "clock": clock}
        monitors = {
            "out_mon": b2.StateMonitor(
                groups["output"], output_vars, record=True, name="out_mon", **before_clears
            ),
            "tally_mon": b2.StateMonitor(
                ctl,
                [f"spikes_{name}" for name in self.spiking_layers],
                record=True,
                name="tally_mon",
                **before_clears,
            ),
        }
        if self.record:
            for name in self.spiking_layers:
                monitors[f"spk_{name}"] = b2.SpikeMonitor(groups[name], name=f"spk_{name}")
        return monitors

    def _result_variables(self, objects: dict) -> dict[str, Variable]:
        """The variables a run's results are read from, by name."""
        variables = {
            "count": objects["out_mon"].variables["n_spikes"],
            "charge": objects["out_mon"].variables["q"],
        }
        for name in self.spiking_layers:
            variables[f"spikes_{name}"] = objects["tally_mon"].variables[f"spikes_{name}"]
            if self.record:
                variables[f"spk_{name}_t"] = objects[f"spk_{name}"].variables["t"]
                variables[f"spk_{name}_i"] = objects[f"spk_{name}"].variables["i"]
        if self.record:
            variables["v"] = objects["out_mon"].variables["v"]
        return variables

    # -- running -----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Get the compiled build now (from the disk cache or by compiling), if the device has one.

        Runs are then safe to start from several threads at once.
        """
        if self.device != "runtime" and self._build is None:

            def construct():
                objects = self._construct()
                return objects["net"], self._duration(), self._result_variables(objects)

            self._build = standalone_build(self.build_key(), self.device, construct)

    def tables(
        self,
        X: np.ndarray,
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray],
        *,
        max_rate: float,
    ) -> dict[str, np.ndarray]:
        """The run-time tables of one run on the images ``X`` (normalised network, per step).

        Current coding: the first layer's current ``X @ W'_1 + b'_1``; Poisson coding: the
        pixels, with the first layer's weights scaled by ``1 / (max_rate * dt)``.
        """
        if not 0 < len(X) <= self.images_per_run:
            raise ValueError(f"a run shows 1..{self.images_per_run} images, got {len(X)}")
        shapes = self._table_shapes()
        inputs = np.zeros(shapes["inputs"])
        if self.input_coding == "current":
            inputs[: len(X)] = X @ weights[0] + biases[0]
        else:
            inputs[: len(X)] = X
        tables = {"inputs": inputs}
        for layer in range(1, len(self.layer_sizes)):
            if f"weights{layer}" in shapes:
                scale = 1.0 / float(max_rate * DT) if layer == 1 else 1.0
                tables[f"weights{layer}"] = weights[layer - 1] * scale
                tables[f"biases{layer}"] = biases[layer - 1][None, :]
        return tables

    def run(
        self,
        tables: dict[str, np.ndarray],
        n_images: int,
        *,
        reset_zero: bool,
        max_rate: float,
        seed: int,
    ) -> dict[str, np.ndarray]:
        """Simulate the first ``n_images`` image slots of ``tables``; raw results by name."""
        scalars = {"ctl.n_windows": math.ceil(n_images / self.copies)}
        scalars.update({f"{name}.reset_zero": float(reset_zero) for name in self.names})
        if self.input_coding == "poisson":
            scalars["input.p_spike"] = float(max_rate * DT)
        if self.device == "runtime":
            return run_runtime(
                self._construct,
                self._duration(),
                self._result_variables,
                tables=tables,
                arrays={},
                scalars=scalars,
                seed=seed,
            )
        self.prepare()
        arrays = {f"{name}.values": values for name, values in tables.items()}
        return run_build(self._build, arrays, scalars, seed=seed)

    def collect(self, raw: dict[str, np.ndarray], n_images: int) -> Simulation:
        """Per-image traces of a run's raw results (window-major slots, see the module)."""
        windows = math.ceil(n_images / self.copies)
        rows = slice(1, windows * self.n_steps + 1)  # record k * n_steps + s: window k, step s

        def per_image(values: np.ndarray) -> np.ndarray:
            values = values[rows].reshape(windows, self.n_steps, self.copies, -1)
            return values.transpose(0, 2, 1, 3).reshape(windows * self.copies, self.n_steps, -1)[
                :n_images
            ]

        spikes = np.stack([raw[f"spikes_{name}"] for name in self.spiking_layers], axis=-1)
        return Simulation(
            count=per_image(raw["count"]),
            charge=per_image(raw["charge"]),
            spikes=per_image(spikes.reshape(len(spikes), -1)),
        )

    def recording(self, raw: dict[str, np.ndarray], n_images: int) -> Recording:
        """Spikes and output membrane of a ``record`` run of at most ``copies`` images."""
        if not self.record or n_images > self.copies:
            raise ValueError("a recording needs record=True and at most one window of images")
        spikes = {}
        for layer, name in enumerate(self.spiking_layers):
            n = self.layer_sizes[layer if self.input_coding == "poisson" else layer + 1]
            step = np.rint(raw[f"spk_{name}_t"] / float(DT)).astype(np.int64)
            index = raw[f"spk_{name}_i"].astype(np.int64)
            keep = (index // n < n_images) & (step < self.n_steps)
            spikes[name] = (step[keep], index[keep] // n, index[keep] % n)
        simulation = self.collect(raw, n_images)
        v = raw["v"][1 : self.n_steps + 1].reshape(self.n_steps, self.copies, -1)[:, :n_images]
        return Recording(spikes=spikes, v=v.transpose(1, 0, 2), simulation=simulation)


def simulate(
    engine: IFEngine,
    X: np.ndarray,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    *,
    reset_zero: bool,
    max_rate: float,
    seed: Callable[[int], int],
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Simulation:
    """Show every row of ``X`` to the converted network, in runs of up to ``images_per_run``.

    The images are split, in order, into runs that fill whole windows (at least
    :data:`_MIN_RUNS` runs while there are enough images); ``n_jobs`` runs go at once, one per
    thread (each thread waits on its compiled process; the runtime device runs one at a
    time). Neither the split nor the seeds depend on ``n_jobs``.

    Parameters
    ----------
    engine : IFEngine
    X : ndarray of shape (n_images, n_features)
        Pixels in [0, 1].
    weights, biases : sequence of ndarray
        The normalised network (per time step, threshold 1).
    reset_zero : bool
        Reset to zero instead of subtracting the threshold.
    max_rate : float
        Poisson coding: the rate of a pixel of intensity 1, Hz.
    seed : callable
        ``seed(run_index)``: the seed of each run's random generator.
    n_jobs : int, default 1
    progress : callable, optional
        Called with the number of images each finished run showed.

    Returns
    -------
    Simulation
    """
    n = len(X)
    n_runs = max(math.ceil(n / engine.images_per_run), min(_MIN_RUNS, math.ceil(n / engine.copies)))
    per_run = math.ceil(math.ceil(n / n_runs) / engine.copies) * engine.copies
    starts = range(0, n, per_run)
    engine.prepare()

    def run(index: int, start: int) -> Simulation:
        images = X[start : start + per_run]
        tables = engine.tables(images, weights, biases, max_rate=max_rate)
        raw = engine.run(
            tables, len(images), reset_zero=reset_zero, max_rate=max_rate, seed=seed(index)
        )
        return engine.collect(raw, len(images))

    workers = 1 if engine.device == "runtime" else max(1, int(n_jobs))
    parts = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(run, range(len(starts)), starts):
            parts.append(part)
            if progress is not None:
                progress(len(part.count))
    return Simulation(
        count=np.concatenate([p.count for p in parts]),
        charge=np.concatenate([p.charge for p in parts]),
        spikes=np.concatenate([p.spikes for p in parts]),
    )
