"""The presentation protocol of Diehl & Cook (2015), run in chunks of examples.

The whole protocol lives inside the simulation, so no Python runs per example:

- a one-neuron *control* group holds the index of the example on show, the input intensity and
  the spike count of the current window; at every window boundary (each 500 ms) it accepts the
  example (at least ``min_spikes`` excitatory spikes) or re-presents it with intensity + 1;
- the input layer reads the current image from a ``TimedArray`` indexed by the example index;
- each excitatory neuron's input weights are rescaled to sum to ``w_sum_target`` at every window
  boundary while learning (a column sum built by ``Synapses.run_regularly``);
- learning (STDP, threshold adaptation, normalisation) is switched by one ``plastic`` flag, so
  one compiled binary serves training, labelling and testing.

With the ``cpp_standalone`` device the network is compiled once (:mod:`neurosim.spiking.build`:
cached on disk, keyed by everything that changes the generated code) and the binary is re-run
for each chunk of examples with the state and images as run-time arguments. The ``runtime``
device builds the same network with Brian2's numpy target and needs no compiler (slow; for
tests). Either way Brian2's global state is left as the caller had it
(:func:`~neurosim.spiking.brian2_internals.isolated_device`). The network itself (equations,
groups, connections) is in :mod:`neurosim.spiking.model`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import brian2 as b2
import numpy as np
from brian2.core.variables import Variable

from neurosim.spiking.brian2_internals import (
    isolated_device,
    stop_function,
)
from neurosim.spiking.build import StandaloneBuild, build_key, run_build, standalone_build
from neurosim.spiking.model import build_layers, namespace
from neurosim.spiking.params import DiehlCookParams

__all__ = ["DEVICES", "ChunkResult", "Recording", "STDPEngine", "require_device", "run_runtime"]

# Network state carried from one chunk to the next, as (group, variable): its state key is
# "group_variable" (the plastic weights and presynaptic traces are added per configuration).
_NEURON_STATE = (
    ("exc", "v"),
    ("exc", "ge"),
    ("exc", "gi"),
    ("exc", "theta"),
    ("exc", "post1"),
    ("exc", "post2"),
    ("inh", "v"),
    ("inh", "ge"),
    ("inh", "gi"),
)
# Control-group variables recorded at every window boundary.
_CONTROL_RECORD = ("total", "example", "intensity", "input_spikes", "inh_spikes")

# Brian2 devices the engine runs on: compiled C++, compiled CUDA (brian2cuda), numpy runtime.
DEVICES = ("cpp_standalone", "cuda_standalone", "runtime")


def require_device(device: str) -> None:
    """Raise a clear error when ``device`` is unknown or its package is not installed."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cuda_standalone":
        try:
            import brian2cuda  # noqa: F401  (registers the "cuda_standalone" device)
        except ImportError as error:
            raise ImportError(
                "device='cuda_standalone' needs Brian2's CUDA backend: pip install "
                "'neurosim[gpu]' (installs brian2cuda), with the CUDA toolkit (nvcc) and an "
                "NVIDIA GPU; or use device='cpp_standalone'"
            ) from error


def _variable(objects: dict, group: str, var: str) -> Variable:
    """The Brian2 variable ``var`` of ``objects[group]``; per-synapse delays live in the
    synapses' ``pre`` pathway (on the standalone command line they are ``syn.delay``)."""
    if var == "delay":
        return objects[group].pre.variables["delay"]
    return objects[group].variables[var]


def run_runtime(
    construct: Callable[[], dict[str, Any]],
    duration: b2.Quantity,
    results: Callable[[dict[str, Any]], dict[str, Variable]],
    *,
    tables: Mapping[str, np.ndarray],
    arrays: Mapping[str, np.ndarray],
    scalars: Mapping[str, float],
    seed: int,
) -> dict[str, np.ndarray]:
    """Run a network once in Brian2's numpy runtime on run-time data (what
    :func:`~neurosim.spiking.build.run_build` does for a compiled build).

    Parameters
    ----------
    construct : callable
        Creates the Brian2 objects in the active device; returns them by name, the
        ``Network`` as ``"net"``.
    duration : brian2.Quantity
        Simulated time of the run.
    results : callable
        ``results(objects)``: the variables to read after the run, by name.
    tables : mapping of str to ndarray
        ``TimedArray`` name -> its values.
    arrays : mapping of str to ndarray
        ``"group.variable"`` -> its values.
    scalars : mapping of str to float
        ``"group.variable"`` -> one value (set on every element).
    seed : int
        Seed of Brian2's random generator.

    Returns
    -------
    dict of str to ndarray
        The variables of ``results``, by name.
    """
    with isolated_device("runtime"):
        b2.prefs.codegen.target = "numpy"
        objects = construct()
        for name, values in tables.items():
            objects[name].values[:] = values
        for name, values in arrays.items():
            group, var = name.split(".")
            _variable(objects, group, var).set_value(values)
        for name, value in scalars.items():
            group, var = name.split(".")
            setattr(objects[group], var, value)
        b2.seed(seed)
        objects["net"].run(duration, namespace={})
        return {name: np.array(variable.get_value()) for name, variable in results(objects).items()}


@dataclass
class ChunkResult:
    """What happened in the windows of one chunk.

    Attributes
    ----------
    counts : ndarray of shape (n_windows, n_neurons)
        Excitatory spikes per neuron during each window's presentation.
    example : ndarray of shape (n_windows,)
        Index (within the chunk) of the example shown in each window.
    intensity : ndarray of shape (n_windows,)
        Input intensity of each window.
    input_spikes, inh_spikes : ndarray of shape (n_windows,)
        Spikes of the input and inhibitory layers in each whole window (for event counts).
    accepted : ndarray of bool, shape (n_windows,)
        Whether the window completed its example (otherwise it was re-presented).
    n_completed : int
        Examples completed in this chunk.
    next_intensity : float
        Intensity for the next (unfinished) example.
    """

    counts: np.ndarray
    example: np.ndarray
    intensity: np.ndarray
    input_spikes: np.ndarray
    inh_spikes: np.ndarray
    accepted: np.ndarray
    n_completed: int
    next_intensity: float


@dataclass
class Recording:
    """Spike times and state traces recorded during a chunk (for rasters and traces)."""

    spikes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    state_t: np.ndarray | None = None
    state: dict[str, np.ndarray] = field(default_factory=dict)
    state_neurons: np.ndarray | None = None


class STDPEngine:
    """Builds the Brian2 network once and runs the presentation protocol chunk by chunk.

    Parameters
    ----------
    n_input, n_neurons : int
        Input pixels and excitatory (= inhibitory) neurons.
    params : DiehlCookParams
        All constants.
    device : {"cpp_standalone", "cuda_standalone", "runtime"}
    input_delays : bool
        Per-synapse input delays U[0, max_delay] with per-synapse presynaptic traces (as in the
        original), or no delays with presynaptic traces held once per input neuron (identical
        mathematics once there are no delays, several times faster).
    chunk_windows : int
        Presentation windows per compiled run (examples are fed in chunks of this size).
    record_neurons : sequence of int, optional
        If given, record spikes of all layers and ``v``/``theta`` of these excitatory neurons
        (a separate build; never used for bulk training).
    early_stop : bool, optional
        End each run as soon as its examples are done (default: where the device can, i.e.
        not on brian2cuda); otherwise the network idles through the chunk's remaining windows,
        which act as extra rest (no input; thresholds decay by exp(-idle time / tau_theta)).
    learning : bool, default True
        Build the plastic network (learning switched on or off per chunk), or a frozen one
        without any plasticity code (faster; evaluation only).
    copies : int, default 1
        Copies of the frozen network simulated side by side, each presenting its own
        examples with its own re-presentation rule (see :meth:`run_copies`).
    pooled_inhibition : bool, default False
        Deliver lateral inhibition through a per-copy spike count (memory O(N)) instead of
        N * (N - 1) synapses; the same arithmetic, one addition per neuron and step.
    """

    def __init__(
        self,
        n_input: int,
        n_neurons: int,
        params: DiehlCookParams,
        *,
        device: str = "cpp_standalone",
        input_delays: bool = False,
        chunk_windows: int = 1000,
        record_neurons: tuple[int, ...] | None = None,
        early_stop: bool | None = None,
        learning: bool = True,
        copies: int = 1,
        pooled_inhibition: bool = False,
    ) -> None:
        require_device(device)
        if copies < 1 or (learning and copies != 1):
            raise ValueError(f"copies must be 1 when learning, >= 1 when frozen; got {copies}")
        if record_neurons is not None and copies != 1:
            raise ValueError("record_neurons needs copies=1")
        self.n_input = n_input
        self.n_neurons = n_neurons
        self.params = params
        self.device = device
        self.input_delays = input_delays
        self.chunk_windows = chunk_windows
        self.record_neurons = None if record_neurons is None else tuple(record_neurons)
        # A chunk's run ends once its examples are done where the device can stop itself
        # (brian2cuda cannot: a device function cannot stop the host's loop); otherwise the
        # control group idles through the remaining windows.
        self.early_stop = device != "cuda_standalone" if early_stop is None else early_stop
        self.learning = learning
        self.copies = copies
        self.pooled_inhibition = pooled_inhibition
        self._build: StandaloneBuild | None = None

    @property
    def compile_seconds(self) -> float | None:
        """Seconds this process spent getting the compiled build (None before the first run)."""
        return None if self._build is None else self._build.seconds

    def build_key(self) -> str:
        """Hash of everything that changes the generated code (see :func:`build_key`)."""
        return build_key(
            {
                "device": self.device,
                "n_input": self.n_input,
                "n_neurons": self.n_neurons,
                "params": self.params.as_dict(),
                "input_delays": self.input_delays,
                "chunk_windows": self.chunk_windows,
                "record_neurons": self.record_neurons,
                "early_stop": self.early_stop,
                "learning": self.learning,
                "copies": self.copies,
                "pooled_inhibition": self.pooled_inhibition,
            }
        )

    # -- description of the protocol ---------------------------------------------------------
    def _presenting(self) -> str:
        """Abstract-code condition: true while the image is shown (steps 1..presentation)."""
        steps = self.params.steps_per_window
        return (
            f"(timestep(t, dt) % {steps} >= 1 and "
            f"timestep(t, dt) % {steps} <= {self.params.presentation_steps})"
        )

    def _duration(self) -> b2.Quantity:
        p = self.params
        # One extra step so the boundary after the last window (its decision) runs.
        return self.chunk_windows * (p.presentation_time + p.rest_time) + p.dt

    def _construct(self) -> dict:
        """Create the Brian2 objects of one chunk's simulation in the active device."""
        p = self.params
        objects: dict = {}
        images = b2.TimedArray(
            np.zeros((self.copies * self.chunk_windows, self.n_input)), dt=1 * b2.ms, name="images"
        )
        # Named clocks keep generated code (and so the compiled build) identical from one
        # construction to the next, and leave Brian2's defaultclock alone.
        clock = b2.Clock(dt=p.dt, name="sim_clock")
        boundary = b2.Clock(dt=p.presentation_time + p.rest_time, name="window_clock")
        stop = stop_function(lambda: objects["net"].stop()) if self.early_stop else None
        # Each example's first intensity (re-presented examples resume where they stopped).
        starts = b2.TimedArray(
            np.zeros(self.copies * self.chunk_windows), dt=1 * b2.ms, name="start_intensity"
        )
        ns = {**namespace(p), "images": images, "start_intensity": starts}
        if stop is not None:
            ns["stop_when"] = stop
        objects["ctl"] = self._control_group(ns, boundary, clock)
        if stop is not None:
            objects.update(self._stop_when_all_done(objects["ctl"], ns, boundary, clock))
        presenting = self._presenting()
        objects.update(
            build_layers(
                self.n_input,
                self.n_neurons,
                p,
                input_delays=self.input_delays,
                input_model="example : 1 (linked)\nintensity : 1 (linked)",
                input_threshold=f"rate > 0*Hz and {presenting} and rand() < rate * dt",
                count_increment=f"int{presenting}",
                extra_namespace={"images": images},
                clock=clock,
                learning=self.learning,
                copies=self.copies,
                pooled_inhibition=self.pooled_inhibition,
            )
        )
        copy_of_input = np.arange(self.copies * self.n_input) // self.n_input
        for var in ("example", "intensity"):
            setattr(objects["inp"], var, b2.linked_var(objects["ctl"], var, index=copy_of_input))
        objects.update(self._window_boundary_operations(objects, boundary, clock))
        objects.update(self._monitors(objects, boundary, clock))
        objects["net"] = b2.Network(*objects.values(), name="net")
        objects["images"], objects["start_intensity"] = images, starts
        return objects

    def _control_group(self, ns: dict, boundary: b2.Clock, clock: b2.Clock) -> b2.NeuronGroup:
        """The group that runs the protocol, one neuron per copy: accept, re-present or idle.

        Once every example of its copy is done a neuron idles (the remaining windows show a
        blank image and change nothing).
        """
        ctl = b2.NeuronGroup(
            self.copies,
            """example : 1
            active : 1
            intensity : 1
            total : 1
            input_spikes : 1
            inh_spikes : 1
            has_previous : 1
            n_valid : 1
            accepted : 1""",
            name="ctl",
            namespace=ns,
            clock=clock,
        )
        ctl.run_regularly(
            f"""active = has_previous * int(example < n_valid)
            accepted = active * int(total >= min_spikes or intensity >= max_intensity)
            example = example + accepted
            next_start = start_intensity((i * {self.chunk_windows} + example) * ms)
            intensity = accepted * next_start + (1 - accepted) * (intensity + active)
            has_previous = 1""",
            clock=boundary,
            when="start",
            order=3,
            name="ctl_decide",
        )
        return ctl

    @staticmethod
    def _stop_when_all_done(
        ctl: b2.NeuronGroup, ns: dict, boundary: b2.Clock, clock: b2.Clock
    ) -> dict:
        """End the run at the first window boundary where every copy has finished.

        The copies' unfinished examples are counted into a one-neuron group after the
        decision (orders 8-10, after all other window-boundary work).
        """
        done = b2.NeuronGroup(
            1, "remaining : 1\nstopped : 1", name="ctl_done", namespace=ns, clock=clock
        )
        done.run_regularly(
            "remaining = 0", clock=boundary, when="start", order=8, name="ctl_done_reset"
        )
        count = b2.Synapses(ctl, done, name="ctl_remaining", clock=clock)
        count.connect(i=np.arange(ctl.N), j=np.zeros(ctl.N, dtype=int))
        count.run_regularly(
            "remaining_post += int(example_pre < n_valid_pre)",
            clock=boundary,
            when="start",
            order=9,
            name="ctl_remaining_sum",
        )
        done.run_regularly(
            "stopped = stop_when(int(remaining == 0))",
            clock=boundary,
            when="start",
            order=10,
            name="ctl_done_stop",
        )
        return {"ctl_done": done, "ctl_remaining": count}

    def _window_boundary_operations(
        self, objects: dict, boundary: b2.Clock, clock: b2.Clock
    ) -> dict:
        """Work at each window boundary, in this order (``order`` of each operation).

        Record the window's counts (0, in :meth:`_monitors`), tally them into the control
        group (1), record the tallies (2), decide (3, the control group), set the next
        window's rates and clear the counters (4), then, while learning, normalise the weights
        (5-7). Tallies are summed once per window rather than sent as spikes: a spike pathway
        costs two code objects in every time step. Returns the tally connections.
        """
        ctl, inp, exc, inh, syn = (objects[k] for k in ("ctl", "inp", "exc", "inh", "syn"))
        tallies: dict[str, b2.Synapses] = {}
        for source, source_var, total_var, fan_in in (
            (exc, "count", "total", self.n_neurons),
            (inp, "spikes", "input_spikes", self.n_input),
            (inh, "spikes", "inh_spikes", self.n_neurons),
        ):
            name = f"{source.name}_ctl"
            ctl.run_regularly(
                f"{total_var} = 0", clock=boundary, when="start", order=0, name=f"{name}_reset"
            )
            tallies[name] = b2.Synapses(source, ctl, name=name, clock=clock)
            tallies[name].connect(i=np.arange(source.N), j=np.arange(source.N) // fan_in)
            tallies[name].run_regularly(
                f"{total_var}_post += {source_var}_pre",
                clock=boundary,
                when="start",
                order=1,
                name=f"{name}_sum",
            )
        # Copy c shows row c * chunk_windows + example of the chunk's images.
        n_in, windows = self.n_input, self.chunk_windows
        row = "example" if self.copies == 1 else f"(i // {n_in}) * {windows} + example"
        pixel = "i" if self.copies == 1 else f"i % {n_in}"
        inp.run_regularly(
            f"rate = images(({row}) * ms, {pixel}) * max_pixel_rate * intensity\nspikes = 0",
            clock=boundary,
            when="start",
            order=4,
            name="inp_rates",
        )
        inh.run_regularly("spikes = 0", clock=boundary, when="start", order=4, name="inh_clear")
        # The original counts the rest period's spikes with the next example.
        clear = (
            "count = rest_count\nrest_count = 0" if self.params.count_previous_rest else "count = 0"
        )
        if not self.learning:
            exc.run_regularly(clear, clock=boundary, when="start", order=4, name="exc_clear")
            return tallies
        exc.run_regularly(
            f"{clear}\nw_sum = 0", clock=boundary, when="start", order=4, name="exc_clear"
        )
        self._normalisation(exc, syn, boundary)
        return tallies

    @staticmethod
    def _normalisation(exc: b2.NeuronGroup, syn: b2.Synapses, boundary: b2.Clock) -> None:
        """While learning, rescale each neuron's input weights to sum to ``w_sum_target``."""
        syn.run_regularly("w_sum_post += w", clock=boundary, when="start", order=5, name="syn_sum")
        exc.run_regularly(
            "norm = plastic * w_sum_target / (w_sum + 1e-12) + (1 - plastic)",
            clock=boundary,
            when="start",
            order=6,
            name="exc_norm",
        )
        syn.run_regularly(
            "w = w * norm_post", clock=boundary, when="start", order=7, name="syn_scale"
        )

    def _monitors(self, objects: dict, boundary: b2.Clock, clock: b2.Clock) -> dict:
        """Window-boundary monitors, plus spikes and traces when ``record_neurons`` is set."""
        monitors = {
            "count_mon": b2.StateMonitor(
                objects["exc"],
                "count",
                record=True,
                clock=boundary,
                when="start",
                order=0,
                name="count_mon",
            ),
            "ctl_mon": b2.StateMonitor(
                objects["ctl"],
                list(_CONTROL_RECORD),
                record=True,
                clock=boundary,
                when="start",
                order=2,
                name="ctl_mon",
            ),
        }
        if self.record_neurons is not None:
            for name in ("inp", "exc", "inh"):
                monitors[f"spikes_{name}"] = b2.SpikeMonitor(objects[name], name=f"spikes_{name}")
            monitors["state_mon"] = b2.StateMonitor(
                objects["exc"],
                ["v", "theta"],
                record=list(self.record_neurons),
                name="state_mon",
                clock=clock,
            )
        return monitors

    def _state_targets(self) -> list[tuple[str, str, str]]:
        """(group, variable, state key) of everything carried from one chunk to the next."""
        targets = [
            (group, var, f"{group}_{var}")
            for group, var in _NEURON_STATE
            if self.learning or var not in ("post1", "post2")
        ]
        targets.append(("syn", "w", "w"))
        if self.input_delays:
            targets.append(("syn", "delay", "delay"))
        if self.learning:
            targets.append(
                ("syn", "pre", "syn_pre") if self.input_delays else ("inp", "pre", "input_pre")
            )
        return targets

    def _result_variables(self, objects: dict) -> dict[str, Variable]:
        """The variables a chunk's results are read from, by name."""
        variables = {
            key: _variable(objects, group, var) for group, var, key in self._state_targets()
        }
        variables["final_example"] = objects["ctl"].variables["example"]
        variables["final_intensity"] = objects["ctl"].variables["intensity"]
        variables["count"] = objects["count_mon"].variables["count"]
        for var in _CONTROL_RECORD:
            variables[f"ctl_{var}"] = objects["ctl_mon"].variables[var]
        if self.record_neurons is not None:
            for name in ("inp", "exc", "inh"):
                for var in ("t", "i"):
                    variables[f"spikes_{name}_{var}"] = objects[f"spikes_{name}"].variables[var]
            for var in ("t", "v", "theta"):
                variables[f"state_{var}"] = objects["state_mon"].variables[var]
        return variables

    # -- running -----------------------------------------------------------------------------
    def run_chunk(
        self,
        state: dict[str, np.ndarray],
        images: np.ndarray,
        *,
        intensity: float,
        plastic: bool,
        seed: int,
    ) -> tuple[dict[str, np.ndarray], ChunkResult, Recording | None]:
        """Present up to ``chunk_windows`` windows of ``images`` starting from ``state``.

        Parameters
        ----------
        state : dict of str to ndarray
            Network state (SI units): ``w`` (n_input * n_neurons, input-major), ``delay``
            (with input delays), ``input_pre`` or ``syn_pre``, and the neuron variables
            ``exc_v``, ``exc_ge``, ``exc_gi``, ``exc_theta``, ``exc_post1``, ``exc_post2``,
            ``inh_v``, ``inh_ge``, ``inh_gi`` (a frozen engine reads only what it uses).
        images : ndarray of shape (n_examples, n_input), values in [0, 1]
            At most ``chunk_windows`` examples.
        intensity : float
            Input intensity for the first example.
        plastic : bool
            Learning on (STDP, threshold adaptation, normalisation) or frozen.
        seed : int
            Seed of the Poisson input for this chunk.

        Returns
        -------
        new_state, result, recording
        """
        if self.copies != 1:
            raise ValueError("an engine with several copies runs with run_copies")
        if plastic and not self.learning:
            raise ValueError("this engine was built frozen (learning=False)")
        starts = np.full(len(images), float(self.params.intensity_start))
        starts[:1] = intensity
        raw = self._run(state, [images], [starts], plastic, seed)
        new_state = {key: raw[key].astype(np.float64) for _, _, key in self._state_targets()}
        return new_state, self._collect(raw, 0, len(images)), self._recording(raw)

    def run_copies(
        self,
        state: dict[str, np.ndarray],
        images: list[np.ndarray],
        intensities: list[np.ndarray],
        *,
        seed: int,
    ) -> list[ChunkResult]:
        """Present one batch of examples per copy of the frozen network, all in one run.

        Every copy starts from ``state`` and runs the presentation protocol on its own
        examples (the same protocol as :meth:`run_chunk`). A copy may not complete all of
        its examples within ``chunk_windows`` windows: its result says how many it did and
        the intensity the first unfinished one has reached.

        Parameters
        ----------
        state : dict of str to ndarray
            The (frozen) network state, as for :meth:`run_chunk`.
        images : list of ndarray of shape (n_examples_c, n_input)
            At most ``copies`` batches of at most ``chunk_windows`` examples each.
        intensities : list of ndarray of shape (n_examples_c,)
            The input intensity each example starts at (``intensity_start`` for a new one,
            more for one whose presentation an earlier run left unfinished).
        seed : int
            Seed of the Poisson input for this run.

        Returns
        -------
        list of ChunkResult
            One per batch.
        """
        if self.learning:
            raise ValueError("run_copies needs a frozen engine (learning=False)")
        if not 0 < len(images) <= self.copies or len(intensities) != len(images):
            raise ValueError(
                f"give 1..{self.copies} batches with their start intensities, got "
                f"{len(images)} batches and {len(intensities)} intensity arrays"
            )
        raw = self._run(state, images, intensities, False, seed)
        return [self._collect(raw, copy, len(batch)) for copy, batch in enumerate(images)]

    def _run(self, state, images, starts, plastic, seed) -> dict[str, np.ndarray]:
        """Run the simulation once on per-copy batches; return the raw results by name."""
        windows = self.chunk_windows
        padded = np.zeros((self.copies * windows, self.n_input))
        padded_starts = np.full(self.copies * windows, float(self.params.intensity_start))
        n_valid = np.zeros(self.copies)
        for copy, (batch, start) in enumerate(zip(images, starts, strict=True)):
            if not 0 < len(batch) <= windows or len(start) != len(batch):
                raise ValueError(
                    f"a chunk holds 1..{windows} examples with one start intensity each, got "
                    f"{len(batch)} examples and {len(start)} intensities"
                )
            padded[copy * windows : copy * windows + len(batch)] = batch
            padded_starts[copy * windows : copy * windows + len(batch)] = start
            n_valid[copy] = len(batch)
        arrays = {
            key: np.tile(np.asarray(state[key], dtype=np.float64), self.copies)
            for _, _, key in self._state_targets()
        }
        arrays["ctl_intensity"] = padded_starts[::windows]
        arrays["ctl_n_valid"] = n_valid
        tables = {"images": padded, "start_intensity": padded_starts}
        scalars = {"exc.plastic": float(plastic)} if self.learning else {}
        named = {f"{group}.{var}": arrays[key] for group, var, key in self._array_targets()}
        if self.device == "runtime":
            return run_runtime(
                self._construct,
                self._duration(),
                self._result_variables,
                tables=tables,
                arrays=named,
                scalars=scalars,
                seed=seed,
            )
        named |= {f"{name}.values": values for name, values in tables.items()}
        return run_build(self._standalone_build(), named, scalars, seed=seed)

    def _array_targets(self) -> list[tuple[str, str, str]]:
        """(group, variable, key) of every array set before a run."""
        return self._state_targets() + [
            ("ctl", "intensity", "ctl_intensity"),
            ("ctl", "n_valid", "ctl_n_valid"),
        ]

    def prepare(self) -> None:
        """Get the compiled build now (from the disk cache or by compiling), if the device has one.

        Runs are then safe to start from several threads at once.
        """
        if self.device != "runtime":
            self._standalone_build()

    def _standalone_build(self) -> StandaloneBuild:
        """The compiled build, generated (or taken from the disk cache) once per process."""
        if self._build is None:

            def construct():
                objects = self._construct()
                return objects["net"], self._duration(), self._result_variables(objects)

            self._build = standalone_build(self.build_key(), self.device, construct)
        return self._build

    def _collect(self, raw: dict[str, np.ndarray], copy: int, n_valid: int) -> ChunkResult:
        """The windows of one copy in a run's raw results."""
        # Record k (taken at the boundary before the decision) describes window k - 1.
        # Windows after the copy's last example are dropped.
        shown = raw["ctl_example"][1:, copy] < n_valid
        neurons = slice(copy * self.n_neurons, (copy + 1) * self.n_neurons)
        counts = raw["count"][1:, neurons][shown]
        ctl = {var: raw[f"ctl_{var}"][1:, copy][shown] for var in _CONTROL_RECORD}
        totals, intensity = ctl["total"], ctl["intensity"]
        p = self.params
        accepted = (totals >= p.min_spikes) | (intensity >= p.max_intensity)
        n_completed = int(raw["final_example"][copy])
        if n_completed != int(accepted.sum()):
            raise RuntimeError(
                f"engine bookkeeping mismatch: {n_completed} examples completed but "
                f"{int(accepted.sum())} windows accepted"
            )
        return ChunkResult(
            counts=counts,
            example=ctl["example"].astype(np.int64),
            intensity=intensity,
            input_spikes=ctl["input_spikes"],
            inh_spikes=ctl["inh_spikes"],
            accepted=accepted,
            n_completed=n_completed,
            next_intensity=float(raw["final_intensity"][copy]),
        )

    def _recording(self, raw: dict[str, np.ndarray]) -> Recording | None:
        """Spikes and traces of a run with ``record_neurons`` (None otherwise)."""
        if self.record_neurons is None:
            return None
        return Recording(
            spikes={
                name: (raw[f"spikes_{name}_t"], raw[f"spikes_{name}_i"])
                for name in ("inp", "exc", "inh")
            },
            state_t=raw["state_t"],
            state={var: raw[f"state_{var}"].T for var in ("v", "theta")},
            state_neurons=np.asarray(self.record_neurons),
        )
