"""The Brian2 network of Diehl & Cook (2015) and the engine that runs it in chunks.

The whole presentation protocol lives inside the simulation, so no Python runs per example:

- a one-neuron *control* group holds the index of the example on show, the input intensity and
  the spike count of the current window; at every window boundary (each 500 ms) it accepts the
  example (at least ``min_spikes`` excitatory spikes) or re-presents it with intensity + 1;
- the input layer reads the current image from a ``TimedArray`` indexed by the example index;
- each excitatory neuron's input weights are rescaled to sum to ``w_sum_target`` at every window
  boundary while learning (a column sum built by ``Synapses.run_regularly``);
- learning (STDP, threshold adaptation, normalisation) is switched by one ``plastic`` flag, so
  one compiled binary serves training, labelling and testing.

With the ``cpp_standalone`` device the network is compiled once (cached on disk, keyed by
everything that changes the generated code) and re-run for each chunk of examples with
``device.run(run_args=...)``, passing the state in and reading it back. The ``runtime`` device
builds the same network with Brian2's numpy target and needs no compiler (slow; for tests).
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import brian2 as b2
import numpy as np

from neurosim.spiking.params import DiehlCookParams

__all__ = [
    "COMPILER_FLAGS",
    "DEVICES",
    "ChunkResult",
    "Recording",
    "STDPEngine",
    "build_cache_dir",
    "build_layers",
    "namespace",
    "stdp_synapse_equations",
]

# Code generation depends on this file, so its content is part of every build key (hashed once:
# an edit while a process runs must not change that process's key).
_ENGINE_SOURCE_HASH = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

# Network state that is carried from one chunk to the next: (group, variable, state key).
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


# Flags for compiling the generated C++ (flags the compiler lacks are dropped by Brian2). Brian2's
# defaults keep GCC from vectorising the neuron state updates, where half of a training step's
# time goes (the excitatory layer's exponential-Euler update evaluates an exp per neuron):
# - Brian2 adds -fno-finite-math-only to -ffast-math, which hides glibc's vector exp (libmvec);
# - the update loop reads and writes 8 arrays through pointers copied from globals, whose
#   __restrict GCC ignores; proving them disjoint takes more run-time checks than GCC's default
#   limit of 10.
# With both changed GCC vectorises the update (about 3x faster on AVX-512). The vector exp may
# differ from the scalar one in the last bits, so spike trains need not match builds with
# Brian2's flags bit for bit (accuracy re-measured: benchmarks/RESULTS.md). Used for
# cpp_standalone builds only; brian2cuda keeps its own host-compiler flags.
COMPILER_FLAGS = (
    "-w",
    "-O3",
    "-ffast-math",
    "-march=native",
    "-std=c++11",
    "--param=vect-max-version-for-alias-checks=200",
)


@contextmanager
def _compiler_flags(device: str) -> Iterator[None]:
    """Compile cpp_standalone builds with :data:`COMPILER_FLAGS` inside the block.

    Brian2's preference is restored afterwards; other devices keep it unchanged.
    """
    previous = b2.prefs.codegen.cpp.extra_compile_args_gcc
    if device == "cpp_standalone":
        b2.prefs.codegen.cpp.extra_compile_args_gcc = list(COMPILER_FLAGS)
    try:
        yield
    finally:
        b2.prefs.codegen.cpp.extra_compile_args_gcc = previous


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


def build_cache_dir() -> Path:
    """Folder holding compiled Brian2 builds (``NEUROSIM_BUILD_CACHE`` overrides it)."""
    if os.environ.get("NEUROSIM_BUILD_CACHE"):
        return Path(os.environ["NEUROSIM_BUILD_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "neurosim" / "brian2-builds"


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (no-op where fcntl is unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def namespace(params: DiehlCookParams) -> dict:
    """The constants as a Brian2 namespace (names as in :class:`DiehlCookParams`)."""
    names = {
        name: getattr(params, name)
        for name in params.__dataclass_fields__
        if name not in ("dt", "min_spikes")
    }
    names["min_spikes"] = float(params.min_spikes)
    return names


def build_layers(
    n_input: int,
    n_neurons: int,
    params: DiehlCookParams,
    *,
    input_delays: bool,
    input_model: str,
    input_threshold: str,
    count_increment: str,
    extra_namespace: dict | None = None,
) -> dict:
    """Create the layers and connections of the network in the active Brian2 device.

    Returns the input group ``inp`` (a ``rate`` per pixel plus ``input_model``), the
    excitatory and inhibitory groups ``exc`` and ``inh``, the plastic synapses ``syn`` and the
    fixed ``exc_inh`` (one-to-one) and ``inh_exc`` (to every other neuron) connections.
    ``count_increment`` is added to an excitatory neuron's ``count`` at each of its spikes;
    input and inhibitory neurons count all their spikes in ``spikes``;
    ``extra_namespace`` adds names (functions, arrays) the caller's code refers to.
    """
    ns = {**namespace(params), **(extra_namespace or {})}
    n_in, n = n_input, n_neurons
    pre_trace = "" if input_delays else "dpre/dt = -pre / tau_pre : 1"
    inp = b2.NeuronGroup(
        n_in,
        f"rate : Hz\nspikes : 1\n{input_model}\n{pre_trace}",
        threshold=input_threshold,
        reset="spikes += 1" if input_delays else "pre = 1\nspikes += 1",
        method="euler",
        name="inp",
        namespace=ns,
    )

    exc = b2.NeuronGroup(
        n,
        """dv/dt = (v_rest_exc - v + i_syn) / tau_exc : volt (unless refractory)
        i_syn = ge * (e_exc_exc - v) + gi * (e_inh_exc - v) : volt
        dge/dt = -ge / tau_ge : 1
        dgi/dt = -gi / tau_gi : 1
        dtheta/dt = -plastic * theta / tau_theta : volt
        dpost1/dt = -post1 / tau_post1 : 1
        dpost2/dt = -post2 / tau_post2 : 1
        count : 1
        w_sum : 1
        norm : 1
        plastic : 1 (shared)""",
        threshold="v > theta - theta_offset + v_thresh_exc",
        reset=f"""v = v_reset_exc
        theta += plastic * theta_plus
        post1 = 1
        post2 = 1
        count += {count_increment}""",
        refractory="refractory_exc",
        method=params.integration,
        name="exc",
        namespace=ns,
    )

    inh = b2.NeuronGroup(
        n,
        """dv/dt = (v_rest_inh - v + i_syn) / tau_inh : volt (unless refractory)
        i_syn = ge * (e_exc_inh - v) + gi * (e_inh_inh - v) : volt
        dge/dt = -ge / tau_ge : 1
        dgi/dt = -gi / tau_gi : 1
        spikes : 1""",
        threshold="v > v_thresh_inh",
        reset="v = v_reset_inh\nspikes += 1",
        refractory="refractory_inh",
        method=params.integration_inh,
        name="inh",
        namespace=ns,
    )

    model, on_pre, on_post = stdp_synapse_equations(input_delays)
    syn = b2.Synapses(inp, exc, model, on_pre=on_pre, on_post=on_post, name="syn", namespace=ns)
    syn.connect(i=np.repeat(np.arange(n_in), n), j=np.tile(np.arange(n), n_in))

    exc_inh = b2.Synapses(exc, inh, on_pre="ge_post += w_exc_inh", name="exc_inh", namespace=ns)
    exc_inh.connect(j="i")
    inh_exc = b2.Synapses(inh, exc, on_pre="gi_post += w_inh_exc", name="inh_exc", namespace=ns)
    inh_exc.connect(condition="i != j")
    return dict(inp=inp, exc=exc, inh=inh, syn=syn, exc_inh=exc_inh, inh_exc=inh_exc)


def stdp_synapse_equations(input_delays: bool) -> tuple[str, str, str]:
    """Model, on_pre and on_post code of the plastic input -> excitatory synapses.

    Triplet-trace STDP of the original: a presynaptic spike depresses by ``nu_pre * post1``;
    a postsynaptic spike potentiates by ``nu_post * pre * post2`` with ``post2`` read before
    the spike resets it to 1 (Brian2 runs synaptic code before resets). Weights stay in
    [0, w_max]; everything is gated by the excitatory group's ``plastic`` flag. Without input
    delays the presynaptic trace ``pre`` is a variable of the input group (identical for all
    synapses of an input neuron); with delays it is per synapse and event-driven.
    """
    depress = "w = clip(w - plastic_post * nu_pre * post1_post, 0, w_max)"
    if input_delays:
        return (
            "w : 1\ndpre/dt = -pre / tau_pre : 1 (event-driven)",
            f"ge_post += w\npre = 1\n{depress}",
            "w = clip(w + plastic_post * nu_post * pre * post2_post, 0, w_max)",
        )
    return (
        "w : 1",
        f"ge_post += w\n{depress}",
        "w = clip(w + plastic_post * nu_post * pre_pre * post2_post, 0, w_max)",
    )


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
    device : {"cpp_standalone", "runtime"}
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
    ) -> None:
        require_device(device)
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
        self.compile_seconds: float | None = None
        self._objects: dict | None = None
        self._binary_dir: Path | None = None

    # -- description of the network ----------------------------------------------------------
    def _presenting(self) -> str:
        """Abstract-code condition: true while the image is shown (steps 1..presentation)."""
        steps = self.params.steps_per_window
        return (
            f"(timestep(t, dt) % {steps} >= 1 and "
            f"timestep(t, dt) % {steps} <= {self.params.presentation_steps})"
        )

    def _construct(self, stop_when: b2.Function | None) -> dict:
        """Create the Brian2 objects in the currently active device."""
        p = self.params
        window = p.presentation_time + p.rest_time
        ns = namespace(p)
        presenting = self._presenting()
        n_in, n = self.n_input, self.n_neurons
        images = b2.TimedArray(np.zeros((self.chunk_windows, n_in)), dt=1 * b2.ms, name="images")
        ns["images"] = images
        if stop_when is not None:
            ns["stop_when"] = stop_when
        # One named clock for all window-boundary work keeps generated code (and so the
        # compiled build) identical from one construction to the next.
        boundary = b2.Clock(dt=window, name="window_clock")

        ctl = b2.NeuronGroup(
            1,
            """example : 1
            active : 1
            intensity : 1
            total : 1
            input_spikes : 1
            inh_spikes : 1
            has_previous : 1
            n_valid : 1
            accepted : 1
            stopped : 1""",
            name="ctl",
            namespace=ns,
        )
        # Once every example is done the control group idles (the remaining windows show a
        # blank image and change nothing); where the device allows it, the run also stops.
        stop = "" if stop_when is None else "stopped = stop_when(int(example >= n_valid))"
        ctl.run_regularly(
            f"""active = has_previous * int(example < n_valid)
            accepted = active * int(total >= min_spikes or intensity >= max_intensity)
            example = example + accepted
            intensity += (active - accepted) - accepted * (intensity - intensity_start)
            has_previous = 1
            {stop}""",
            clock=boundary,
            when="start",
            order=3,
            name="ctl_decide",
        )

        layers = build_layers(
            n_in,
            n,
            p,
            input_delays=self.input_delays,
            input_model="example : 1 (linked)\nintensity : 1 (linked)",
            input_threshold=f"rate > 0*Hz and {presenting} and rand() < rate * dt",
            count_increment=f"int{presenting}",
            extra_namespace={"images": images},
        )
        inp, exc, inh, syn = layers["inp"], layers["exc"], layers["inh"], layers["syn"]
        inp.example = b2.linked_var(ctl, "example", index=np.zeros(n_in, dtype=int))
        inp.intensity = b2.linked_var(ctl, "intensity", index=np.zeros(n_in, dtype=int))
        # Window-boundary work, in this order: record the window's counts (0), tally them
        # into the control group (1), record the tallies (2), decide (3), set the next
        # window's rates and clear the counters (4), then normalise the weights (5-7). Tallies
        # are summed once per window rather than sent as spikes: a spike pathway costs two
        # code objects in every time step.
        tallies = {}
        for source, source_var, total_var in (
            (exc, "count", "total"),
            (inp, "spikes", "input_spikes"),
            (inh, "spikes", "inh_spikes"),
        ):
            name = f"{source.name}_ctl"
            ctl.run_regularly(
                f"{total_var} = 0", clock=boundary, when="start", order=0, name=f"{name}_reset"
            )
            tallies[name] = b2.Synapses(source, ctl, name=name)
            tallies[name].connect(i=np.arange(source.N), j=np.zeros(source.N, dtype=int))
            tallies[name].run_regularly(
                f"{total_var}_post += {source_var}_pre",
                clock=boundary,
                when="start",
                order=1,
                name=f"{name}_sum",
            )
        inp.run_regularly(
            "rate = images(example * ms, i) * max_pixel_rate * intensity\nspikes = 0",
            clock=boundary,
            when="start",
            order=4,
            name="inp_rates",
        )
        inh.run_regularly("spikes = 0", clock=boundary, when="start", order=4, name="inh_clear")
        exc.run_regularly(
            "count = 0\nw_sum = 0", clock=boundary, when="start", order=4, name="exc_clear"
        )
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

        count_mon = b2.StateMonitor(
            exc, "count", record=True, clock=boundary, when="start", order=0, name="count_mon"
        )
        ctl_mon = b2.StateMonitor(
            ctl,
            ["total", "example", "intensity", "input_spikes", "inh_spikes"],
            record=0,
            clock=boundary,
            when="start",
            order=2,
            name="ctl_mon",
        )
        objects = dict(
            images=images,
            ctl=ctl,
            **layers,
            **tallies,
            count_mon=count_mon,
            ctl_mon=ctl_mon,
        )
        if self.record_neurons is not None:
            for name in ("inp", "exc", "inh"):
                objects[f"spikes_{name}"] = b2.SpikeMonitor(objects[name], name=f"spikes_{name}")
            objects["state_mon"] = b2.StateMonitor(
                exc, ["v", "theta"], record=list(self.record_neurons), name="state_mon"
            )
        objects["net"] = b2.Network(
            *(obj for key, obj in objects.items() if key != "images"), name="net"
        )
        return objects

    # -- building ----------------------------------------------------------------------------
    def _duration(self) -> b2.Quantity:
        p = self.params
        # One extra step so the boundary after the last window (its decision) runs.
        return self.chunk_windows * (p.presentation_time + p.rest_time) + p.dt

    def build_key(self) -> str:
        """Hash of everything that changes the generated code."""
        description = {
            "engine_source": _ENGINE_SOURCE_HASH,
            "brian2": b2.__version__,
            "n_input": self.n_input,
            "n_neurons": self.n_neurons,
            "params": self.params.as_dict(),
            "input_delays": self.input_delays,
            "chunk_windows": self.chunk_windows,
            "record_neurons": self.record_neurons,
            "early_stop": self.early_stop,
            "compiler_flags": COMPILER_FLAGS,
        }
        return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:20]

    def _stop_function(self) -> b2.Function:
        def stop_when(condition):
            if np.any(condition) and self._objects is not None:
                self._objects["net"].stop()
            return condition

        function = b2.Function(stop_when, arg_units=[1], return_unit=1, stateless=False)
        function.implementations.add_implementation(
            "cpp",
            """double neurosim_stop_when(double condition) {
                if (condition > 0.0) Network::_globally_stopped = true;
                return condition;
            }""",
            name="neurosim_stop_when",
        )
        return function

    def _claim_device(self, device: str, **options) -> None:
        """Make ``device`` Brian2's active device, owned by this engine.

        The previous owner's Brian2 objects are dropped first: while they live, Brian2 renames
        new code objects (``..._1``), which would change the generated code and force a
        recompilation of an otherwise cached build.
        """
        previous = getattr(b2.get_device(), "_neurosim_owner", None)
        if previous is not None:
            previous._objects = None
        self._objects = None
        b2.device.reinit()  # the device's own references go here
        gc.collect()
        b2.device.activate()
        b2.set_device(device, **options)
        b2.get_device()._neurosim_owner = self

    def _ensure_built(self) -> None:
        """Generate and compile the standalone project (cached on disk), once per process."""
        if self._objects is not None and getattr(b2.get_device(), "_neurosim_owner", None) is self:
            return
        build_dir = build_cache_dir() / self.build_key()
        start = time.perf_counter()
        with _exclusive_lock(build_dir.with_suffix(".lock")):
            self._claim_device(self.device, directory=str(build_dir), build_on_run=False)
            b2.defaultclock.dt = self.params.dt
            self._objects = self._construct(self._stop_function() if self.early_stop else None)
            if self.device == "cpp_standalone":  # brian2cuda seeds cuRAND itself
                b2.device.insert_code(
                    "before_network_run",
                    'if (const char* _seed = std::getenv("NEUROSIM_SEED")) '
                    "brian::_random_generators[0].seed(std::stoull(_seed));",
                )
            self._objects["net"].run(self._duration())
            with _compiler_flags(self.device):
                b2.device.build(directory=str(build_dir), compile=True, run=False)
            # Run from a private copy of the binary and its data files: another process may
            # rebuild the shared folder (rewriting those files) while this one simulates.
            private = Path(tempfile.mkdtemp(prefix="neurosim-build-"))
            shutil.copy2(build_dir / "main", private / "main")
            shutil.copytree(build_dir / "static_arrays", private / "static_arrays")
        atexit.register(shutil.rmtree, private, ignore_errors=True)
        self.compile_seconds = time.perf_counter() - start
        self._binary_dir = private

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
            ``inh_v``, ``inh_ge``, ``inh_gi``.
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
        n_valid = len(images)
        if not 0 < n_valid <= self.chunk_windows:
            raise ValueError(f"a chunk holds 1..{self.chunk_windows} examples, got {n_valid}")
        padded = np.zeros((self.chunk_windows, self.n_input))
        padded[:n_valid] = images
        scalars = {"intensity": intensity, "n_valid": n_valid, "plastic": float(plastic)}
        if self.device == "runtime":
            return self._run_runtime(state, padded, scalars, seed)
        return self._run_standalone(state, padded, scalars, seed)

    def _state_targets(self) -> list[tuple[str, str, str]]:
        targets = [(group, var, f"{group}_{var}") for group, var in _NEURON_STATE]
        targets.append(("syn", "w", "w"))
        if self.input_delays:
            targets += [("syn", "pre", "syn_pre"), ("syn", "delay", "delay")]
        else:
            targets.append(("inp", "pre", "input_pre"))
        return targets

    def _run_runtime(self, state, padded, scalars, seed):
        self._claim_device("runtime")
        b2.prefs.codegen.target = "numpy"
        b2.defaultclock.dt = self.params.dt
        self._objects = objects = self._construct(
            self._stop_function() if self.early_stop else None
        )
        objects["images"].values[:] = padded
        for group, var, key in self._state_targets():
            setattr(objects[group], f"{var}_", state[key])
        objects["ctl"].intensity = scalars["intensity"]
        objects["ctl"].n_valid = scalars["n_valid"]
        objects["exc"].plastic = scalars["plastic"]
        b2.seed(seed)
        objects["net"].run(self._duration(), namespace={})
        return self._collect(objects, scalars["n_valid"])

    def _run_standalone(self, state, padded, scalars, seed):
        self._ensure_built()
        objects = self._objects
        run_dir = Path(tempfile.mkdtemp(prefix="neurosim-run-"))
        results = f"results-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            args = []
            for group, var, key in self._state_targets():
                path = run_dir / key
                np.ascontiguousarray(state[key], dtype=np.float64).tofile(path)
                args.append(f"{group}.{var}={path}")
            padded.astype(np.float64).tofile(run_dir / "images")
            args.append(f"images.values={run_dir / 'images'}")
            args += [
                f"ctl.intensity={float(scalars['intensity'])!r}",
                f"ctl.n_valid={float(scalars['n_valid'])!r}",
                f"exc.plastic={float(scalars['plastic'])!r}",
            ]
            os.environ["NEUROSIM_SEED"] = str(int(seed))
            b2.device.run(
                directory=str(self._binary_dir),
                results_directory=results,
                with_output=False,
                run_args=args,
            )
            return self._collect(objects, scalars["n_valid"])
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
            shutil.rmtree(self._binary_dir / results, ignore_errors=True)

    def _monitored(self, monitor: b2.StateMonitor, var: str) -> np.ndarray:
        """A monitored variable as (n_records, n_recorded).

        A standalone run stopped early has fewer records than Brian2 expects, so the raw
        result file is read directly there.
        """
        if self.device == "runtime":
            return np.asarray(getattr(monitor, f"{var}_")).T
        variable = monitor.variables[var]
        path = Path(b2.device.results_dir) / b2.device.get_array_filename(variable)
        return np.fromfile(path, dtype=variable.dtype).reshape(-1, variable.size[1])

    def _collect(
        self, objects, n_valid: int
    ) -> tuple[dict[str, np.ndarray], ChunkResult, Recording | None]:
        state = {
            key: np.array(getattr(objects[group], f"{var}_")[:], dtype=np.float64)
            for group, var, key in self._state_targets()
        }
        # Record k (taken at the boundary before the decision) describes window k - 1.
        # Windows after the last example (where the run is not stopped early) are dropped.
        shown = self._monitored(objects["ctl_mon"], "example")[1:, 0] < n_valid
        counts = self._monitored(objects["count_mon"], "count")[1:][shown]
        ctl = {
            var: self._monitored(objects["ctl_mon"], var)[1:, 0][shown]
            for var in ("total", "example", "intensity", "input_spikes", "inh_spikes")
        }
        totals, intensity = ctl["total"], ctl["intensity"]
        example = ctl["example"].astype(np.int64)
        p = self.params
        accepted = (totals >= p.min_spikes) | (intensity >= p.max_intensity)
        n_completed = int(objects["ctl"].example_[0])
        if n_completed != int(accepted.sum()):
            raise RuntimeError(
                f"engine bookkeeping mismatch: {n_completed} examples completed but "
                f"{int(accepted.sum())} windows accepted"
            )
        result = ChunkResult(
            counts=counts,
            example=example,
            intensity=intensity,
            input_spikes=ctl["input_spikes"],
            inh_spikes=ctl["inh_spikes"],
            accepted=accepted,
            n_completed=n_completed,
            next_intensity=float(objects["ctl"].intensity_[0]),
        )
        recording = None
        if self.record_neurons is not None:
            recording = Recording(
                spikes={
                    name: (
                        np.asarray(objects[f"spikes_{name}"].t_),
                        np.asarray(objects[f"spikes_{name}"].i_),
                    )
                    for name in ("inp", "exc", "inh")
                },
                state_t=np.asarray(objects["state_mon"].t_),
                state={
                    var: np.asarray(getattr(objects["state_mon"], f"{var}_"))
                    for var in ("v", "theta")
                },
                state_neurons=np.asarray(self.record_neurons),
            )
        return state, result, recording
