"""Operation counts of an inference (or a learning example) and their energy on named hardware.

The two models do different kinds of work, and a fair account counts all of it:

- the rate-based MLP computes every weight for every input: per layer, one
  **multiply-accumulate** and one **weight read** per weight, then a bias and an activation
  per unit;
- the spiking network works *per spike* and *per time step*. Each spike adds a weight to the
  conductance of every neuron it reaches (a **synaptic event**; the plastic input synapses
  read their weight from memory, the fixed excitatory -> inhibitory and inhibitory ->
  excitatory ones share one weight) and is delivered as a **spike message**. Independently of
  spikes, every excitatory and inhibitory neuron is advanced every 0.5 ms time step of every
  500 ms window, the rest included (a **neuron update**), and every input neuron whose pixel
  is not blank draws a random number in every step of the presentation (a **Poisson draw**;
  blank pixels have rate 0 and the engine skips them). While learning, STDP
  changes weights on every input and excitatory spike, decays its traces every step, and the
  weights are normalised before every window;
- the converted network (:class:`~neurosim.ConvertedSNN`) computes its constant input current
  ``W x + b`` once per image (multiply-accumulates and weight reads, as the MLP's first layer;
  with Poisson input each pixel draws every step instead); then every spike is a spike
  message and a synaptic event (with its weight read) at each neuron of the next layer, and
  every integrate-and-fire neuron is advanced every 1 ms step (an **integrate-and-fire
  update**, simpler than the STDP network's conductance-based neuron update).

Counting holds no hardware: :func:`mlp_operations`, :func:`spiking_operations` (from a
:class:`SpikingActivity`, the spikes each layer fired, measured on the fitted model),
:func:`converted_operations` (from a :class:`ConvertedActivity`, measured likewise) and
:func:`operation_counts` for a fitted model. Pricing: a :class:`HardwareProfile` charges each
kind of operation (:data:`OPERATION_KINDS`) with a cited figure, or says why it does not
charge it; :data:`PROFILES` holds "cpu-45nm", "loihi" and "truenorth".
:func:`estimate_model_energy` does both and returns the total with its breakdown.

How the spiking network runs is part of each profile, and stated with it: on "cpu-45nm" it is
*simulated clock-driven* (every neuron updated every step, as Brian2 does); on "loihi" and
"truenorth" it runs *event-driven* (synaptic work only when a spike arrives), with neuron
updates charged as each chip charges them. The converted network's input current is a dense
matrix product: a profile without a figure for multiply-accumulates (the chips) leaves it to a
conventional processor, priced as on "cpu-45nm" and marked so in its lines. Every figure is
an estimate of the work the model does under stated assumptions, not a measurement of any
machine: static power, control and any data movement a profile does not name are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from neurosim.conversion import ConvertedSNN, ScoreCurve
from neurosim.rate import RateMLP
from neurosim.spiking import STDPNetwork

__all__ = [
    "DAVIES_2018",
    "DRAM_READ_PJ",
    "FP32_ADD_PJ",
    "FP32_MULT_PJ",
    "HOROWITZ_2014",
    "INT32_ADD_PJ",
    "MEROLLA_2014",
    "OPERATION_KINDS",
    "PROFILES",
    "SRAM_READ_PJ",
    "ConvertedActivity",
    "CostLine",
    "EnergyEstimate",
    "EnergyFigure",
    "HardwareProfile",
    "OperationCount",
    "SpikingActivity",
    "converted_operations",
    "estimate_model_energy",
    "mlp_operations",
    "operation_counts",
    "spiking_operations",
]

# -- sources ---------------------------------------------------------------------------------
# Horowitz's per-operation table, checked here against two independent reproductions of it
# (Han et al. 2015, Table 1; a Frontiers paper's table that notes the 5 pJ SRAM figure is half
# of Horowitz's 10 pJ for a 64-bit access to an 8 kB cache). Confidence: high.
HOROWITZ_2014 = (
    "M. Horowitz, 'Computing's energy problem (and what we can do about it)', ISSCC 2014, "
    "pp. 10-14, doi:10.1109/ISSCC.2014.6757323: 45 nm, 0.9 V; 32-bit figures as tabulated in "
    "S. Han et al., 'Learning both weights and connections for efficient neural networks', "
    "NIPS 2015, Table 1"
)
# Loihi's Table 2 could not be read here in the original; its rows are taken from secondary
# sources that quote them verbatim (p. 96), three independent ones agreeing: "Energy per
# synaptic spike op (min) | 23.6 pJ", "Energy per synaptic update (pairwise STDP) | 120 pJ",
# "Energy per neuron update (active / inactive) | 81 pJ / 52 pJ", "Within-tile spike energy |
# 1.7 pJ", "Energy per tile hop (E-W / N-S) | 3.0 pJ / 4.0 pJ". Confidence in the values: high.
# The table is titled as pre-silicon: SDF and SPICE simulations of the design, "consistent with
# early post-silicon characterization" (p. 95), not measurements of a chip.
DAVIES_2018 = (
    "M. Davies et al., 'Loihi: a neuromorphic manycore processor with on-chip learning', "
    "IEEE Micro 38(1):82-99, 2018, Table 2 (14 nm; pre-silicon SDF and SPICE simulations)"
)
# 26 pJ per synaptic event is the measured whole-chip power (static power, neuron updates and
# spike routing included) divided by the synaptic events of one benchmark network: 20 Hz mean
# rate, 128 active synapses per neuron, 0.775 V. Taken from secondary sources that agree on
# the figure and its operating point; the paper itself was not read here. Confidence: medium.
MEROLLA_2014 = (
    "P. A. Merolla et al., 'A million spiking-neuron integrated circuit with a scalable "
    "communication network and interface', Science 345(6197):668-673, 2014 (28 nm, measured "
    "on the chip; 26 pJ per synaptic event at 20 Hz, 128 active synapses per neuron, 0.775 V)"
)

#: The kinds of operation that are counted, and what one of each is.
OPERATION_KINDS = {
    "multiply-accumulate": (
        "a weight times an input, added to a unit's sum (MLP; the converted network's input "
        "current)"
    ),
    "weight read": "one 32-bit weight (or bias) read from memory",
    "bias and activation": "a unit's bias added and its activation function applied (MLP)",
    "synaptic event": "a spike adds a synapse's weight to its target's conductance",
    "spike message": "a spike delivered from its neuron to the synapses it drives",
    "neuron update": "one neuron's state advanced by one time step",
    "integrate-and-fire update": (
        "one non-leaky integrate-and-fire neuron advanced by one time step: its constant input "
        "current added and its threshold tested (converted network)"
    ),
    "Poisson draw": "an input neuron draws a random number to decide whether it spikes",
    "synaptic weight update": "STDP changes one weight (learning)",
    "trace update": "an STDP trace or adaptive threshold decays or is set (learning)",
    "weight normalisation": "one weight rescaled so its neuron's weights keep their sum (learning)",
}


# -- counting ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OperationCount:
    """How many operations of one kind a model does, and where.

    Attributes
    ----------
    kind : str
        One of :data:`OPERATION_KINDS` (what a profile charges).
    what : str
        Where in the model, e.g. "input -> excitatory" or "layer 1 (784 -> 256)".
    count : float
        Operations per inference, or per learning example.
    """

    kind: str
    what: str
    count: float


def mlp_operations(layer_sizes: Sequence[int]) -> list[OperationCount]:
    """Operations of one forward pass of a fully connected network.

    Each layer of ``n_in`` inputs and ``n_out`` units does ``n_in * n_out`` multiply-accumulates,
    reads its ``n_in * n_out`` weights and ``n_out`` biases, and applies ``n_out`` biases and
    activations.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first, e.g. ``(784, 256, 10)``.

    Returns
    -------
    list of OperationCount

    Examples
    --------
    >>> [(op.kind, op.count) for op in mlp_operations((4, 3))]
    [('multiply-accumulate', 12.0), ('weight read', 15.0), ('bias and activation', 3.0)]
    """
    if len(layer_sizes) < 2 or any(int(n) < 1 for n in layer_sizes):
        raise ValueError(f"layer_sizes must hold >= 2 positive sizes, got {layer_sizes!r}")
    operations = []
    sizes = [int(n) for n in layer_sizes]
    for index, (n_in, n_out) in enumerate(pairwise(sizes), start=1):
        where = f"layer {index} ({n_in} -> {n_out})"
        operations += [
            OperationCount("multiply-accumulate", where, float(n_in * n_out)),
            OperationCount("weight read", where, float(n_in * n_out + n_out)),
            OperationCount("bias and activation", where, float(n_out)),
        ]
    return operations


@dataclass(frozen=True)
class SpikingActivity:
    """What a spiking network did per example, on average: the figures its cost comes from.

    Build it from a fitted network's measured spikes with :meth:`from_layer_activity` (or
    :meth:`measure`), or by hand for a what-if.

    Attributes
    ----------
    n_input, n_neurons : int
        Input neurons (pixels) and excitatory (= inhibitory) neurons.
    windows : float
        Presentation windows per example: 1 plus the re-presentations at higher intensity of
        examples that drew too few spikes.
    input_spikes, excitatory_spikes, inhibitory_spikes : float
        Spikes per example of each layer over all its windows. The engine tallies excitatory
        spikes during the presentations only (while the input is off they are rare).
    steps_per_window, presentation_steps : int
        Time steps of a window (presentation + rest) and of its presentation.
    dt_s : float
        Time step, seconds.
    drawing_inputs : float, optional
        Input neurons that draw a random number in each presentation step: those whose pixel
        is not blank (rate > 0), averaged over the windows (an example's pixels count once
        per window it is shown in). Default: all ``n_input``.
    """

    n_input: int
    n_neurons: int
    windows: float
    input_spikes: float
    excitatory_spikes: float
    inhibitory_spikes: float
    steps_per_window: int
    presentation_steps: int
    dt_s: float
    drawing_inputs: float | None = None

    def __post_init__(self) -> None:
        spikes = (self.input_spikes, self.excitatory_spikes, self.inhibitory_spikes)
        if not all(s >= 0 for s in spikes) or not self.windows >= 1:  # also rejects NaN
            raise ValueError(
                f"spike counts must be >= 0 and windows >= 1, got spikes {spikes} and "
                f"windows {self.windows}"
            )
        if self.drawing_inputs is not None and not 0 <= self.drawing_inputs <= self.n_input:
            raise ValueError(
                f"drawing_inputs must be in 0..n_input={self.n_input}, got {self.drawing_inputs}"
            )
        if not 0 < self.presentation_steps <= self.steps_per_window:
            raise ValueError(
                f"need 0 < presentation_steps <= steps_per_window, got "
                f"{self.presentation_steps} and {self.steps_per_window}"
            )

    @classmethod
    def from_layer_activity(
        cls, model: STDPNetwork, layer_activity: Mapping[str, np.ndarray]
    ) -> SpikingActivity:
        """Means over the examples of ``model.layer_activity(X)`` (which simulates ``X``)."""
        p = model.network_params()
        windows = np.asarray(layer_activity["windows"], dtype=np.float64)
        drawing = layer_activity.get("drawing_inputs")
        if drawing is not None:
            drawing = float(np.sum(np.asarray(drawing) * windows) / np.sum(windows))
        mean = {key: float(np.mean(layer_activity[key])) for key in ("input", "excitatory")}
        return cls(
            n_input=int(model.n_features_in_),
            n_neurons=int(model.n_neurons),
            windows=float(np.mean(windows)),
            input_spikes=mean["input"],
            excitatory_spikes=mean["excitatory"],
            inhibitory_spikes=float(np.mean(layer_activity["inhibitory"])),
            steps_per_window=p.steps_per_window,
            presentation_steps=p.presentation_steps,
            dt_s=float(p.dt),
            drawing_inputs=drawing,
        )

    @classmethod
    def measure(cls, model: STDPNetwork, X: Any) -> SpikingActivity:
        """Simulate ``X`` with learning frozen and average each layer's spikes."""
        return cls.from_layer_activity(model, model.layer_activity(X))

    @property
    def decision_latency_s(self) -> float:
        """Simulated time from an example's first input to its decision: its rejected windows
        (presentation and rest), then the presentation whose spikes vote."""
        steps = (self.windows - 1) * self.steps_per_window + self.presentation_steps
        return steps * self.dt_s


def spiking_operations(
    activity: SpikingActivity, *, learning: bool = False
) -> list[OperationCount]:
    """Operations of the Diehl & Cook network per example, from its measured activity.

    Synaptic events follow each layer's fan-out: an input spike reaches all ``N`` excitatory
    neurons (through plastic weights, each read from memory), an excitatory spike its one
    inhibitory partner, an inhibitory spike the other ``N - 1`` excitatory neurons (one shared
    fixed weight; counted as the synapses deliver them, whatever the simulator's shortcut).
    Every excitatory and inhibitory neuron is updated in every time step of every window; every
    input neuron of a non-blank pixel (``activity.drawing_inputs``) draws in every step of every
    presentation.

    With ``learning=True`` the plasticity of a learning example is added: a depression of the
    ``N`` weights of each input spike and a potentiation of the ``n_input`` weights of each
    excitatory spike; every step, the decay of the input traces and of the excitatory neurons'
    two traces and adaptive threshold, and their setting at each spike; before every window,
    the normalisation of all input weights. (Counts for the default layout, without input
    delays; ``activity`` then stands for the activity while learning.)

    Parameters
    ----------
    activity : SpikingActivity
    learning : bool, default False

    Returns
    -------
    list of OperationCount
    """
    a = activity
    n, n_in = a.n_neurons, a.n_input
    steps = a.windows * a.steps_per_window
    operations = [
        OperationCount("synaptic event", "input -> excitatory", a.input_spikes * n),
        OperationCount("synaptic event", "excitatory -> inhibitory", a.excitatory_spikes),
        OperationCount("synaptic event", "inhibitory -> excitatory", a.inhibitory_spikes * (n - 1)),
        OperationCount("weight read", "input -> excitatory (plastic weights)", a.input_spikes * n),
        OperationCount("spike message", "input layer", a.input_spikes),
        OperationCount("spike message", "excitatory layer", a.excitatory_spikes),
        OperationCount("spike message", "inhibitory layer", a.inhibitory_spikes),
        OperationCount("neuron update", "excitatory layer", n * steps),
        OperationCount("neuron update", "inhibitory layer", n * steps),
        OperationCount(
            "Poisson draw",
            "input layer",
            (n_in if a.drawing_inputs is None else a.drawing_inputs)
            * a.windows
            * a.presentation_steps,
        ),
    ]
    if learning:
        operations += [
            OperationCount(
                "synaptic weight update", "depression at input spikes", a.input_spikes * n
            ),
            OperationCount(
                "synaptic weight update",
                "potentiation at excitatory spikes",
                a.excitatory_spikes * n_in,
            ),
            OperationCount(
                "trace update",
                "decay: input traces, excitatory post1, post2 and threshold",
                (n_in + 3 * n) * steps,
            ),
            OperationCount(
                "trace update",
                "set at spikes: input trace; post1, post2, threshold",
                a.input_spikes + 3 * a.excitatory_spikes,
            ),
            OperationCount(
                "weight normalisation", "input -> excitatory, every window", n_in * n * a.windows
            ),
        ]
    return operations


@dataclass(frozen=True)
class ConvertedActivity:
    """What a converted network did per image, on average, in an inference of ``steps`` steps.

    Build it from a :meth:`~neurosim.ConvertedSNN.score_curve` with :meth:`from_score_curve`,
    or by hand for a what-if.

    Attributes
    ----------
    layer_sizes : tuple of int
        Units per layer, input first.
    input_coding : {"current", "poisson"}
        Constant input current, or Poisson spikes of the pixels.
    steps : int
        Time steps of the inference.
    dt_s : float
        Time step, seconds.
    spikes : dict of str to float
        Spikes per image over the ``steps`` of each layer whose spikes are sent: the input
        (Poisson coding only), the hidden layers and the output (only when it is read out
        by its spikes; the membrane readout does not use them).
    fan_outs : dict of str to int
        For the same layers: the synapses each spike reaches (0 for the output).
    """

    layer_sizes: tuple[int, ...]
    input_coding: str
    steps: int
    dt_s: float
    spikes: Mapping[str, float]
    fan_outs: Mapping[str, int]

    def __post_init__(self) -> None:
        if self.input_coding not in ("current", "poisson"):
            raise ValueError(
                f"input_coding must be 'current' or 'poisson', got {self.input_coding!r}"
            )
        if len(self.layer_sizes) < 2 or self.steps < 1:
            raise ValueError(
                f"need >= 2 layers and >= 1 step, got {self.layer_sizes} and {self.steps}"
            )
        if set(self.spikes) != set(self.fan_outs) or not all(
            s >= 0
            for s in self.spikes.values()  # also rejects NaN
        ):
            raise ValueError(
                f"spikes must be >= 0 and name the layers of fan_outs, got {dict(self.spikes)} "
                f"and {dict(self.fan_outs)}"
            )

    @classmethod
    def from_score_curve(
        cls, model: ConvertedSNN, curve: ScoreCurve, step: int | None = None
    ) -> ConvertedActivity:
        """The activity of an inference that stops after ``step`` steps (default: the last),
        from ``curve = model.score_curve(X, y)``."""
        k = len(curve.steps) if step is None else int(step)
        if not 1 <= k <= len(curve.steps):
            raise ValueError(f"step must be in 1..{len(curve.steps)}, got {step!r}")
        layers = zip(curve.spikes.items(), model.fan_outs(), strict=True)
        sent = [
            (layer, float(spikes[k - 1]), int(fan_out))
            for (layer, spikes), fan_out in layers
            if not (layer == "output" and curve.output == "membrane")
        ]
        return cls(
            layer_sizes=tuple(int(n) for n in model.layer_sizes_),
            input_coding=model.input_coding,
            steps=k,
            dt_s=curve.dt_s,
            spikes={layer: spikes for layer, spikes, _ in sent},
            fan_outs={layer: fan_out for layer, _, fan_out in sent},
        )

    @property
    def decision_latency_s(self) -> float:
        """Simulated time from an image's first input to its decision: all its steps."""
        return self.steps * self.dt_s


def _input_current_operations(activity: ConvertedActivity) -> list[OperationCount]:
    """The constant input current ``W x + b`` of a current-coded network, once per image."""
    if activity.input_coding != "current":
        return []
    n_in, n_out = activity.layer_sizes[:2]
    where = f"input current ({n_in} -> {n_out}, once per image)"
    return [
        OperationCount("multiply-accumulate", where, float(n_in * n_out)),
        OperationCount("weight read", where, float(n_in * n_out + n_out)),
    ]


def _integrate_and_fire_operations(activity: ConvertedActivity) -> list[OperationCount]:
    """The spiking part of a converted network: draws, spikes, synaptic events, updates."""
    a = activity
    operations = []
    if a.input_coding == "poisson":
        operations.append(
            OperationCount("Poisson draw", "input layer", float(a.layer_sizes[0] * a.steps))
        )
    for layer, spikes in a.spikes.items():
        operations.append(OperationCount("spike message", f"{layer} layer", spikes))
        fan_out = a.fan_outs[layer]
        if fan_out:
            where = f"{layer} -> next layer ({fan_out} synapses per spike)"
            operations += [
                OperationCount("synaptic event", where, spikes * fan_out),
                OperationCount("weight read", where, spikes * fan_out),
            ]
    operations.append(
        OperationCount(
            "integrate-and-fire update",
            "hidden and output neurons, every step",
            float(sum(a.layer_sizes[1:]) * a.steps),
        )
    )
    return operations


def converted_operations(activity: ConvertedActivity) -> list[OperationCount]:
    """Operations of one inference of a converted network, from its measured spikes.

    With current input the first layer's constant current is one matrix product per image
    (multiply-accumulates and weight reads, as the MLP's first layer); with Poisson input
    every pixel draws in every step. Every spike of a layer is a spike message and adds its
    weight (read from memory) to each of the ``fan_outs`` neurons it reaches (synaptic
    events); every hidden and output neuron is updated in every step.

    Parameters
    ----------
    activity : ConvertedActivity

    Returns
    -------
    list of OperationCount

    Examples
    --------
    >>> a = ConvertedActivity((4, 3, 2), "current", 10, 1e-3, {"hidden1": 6.0}, {"hidden1": 2})
    >>> [(op.kind, op.count) for op in converted_operations(a)]  # doctest: +NORMALIZE_WHITESPACE
    [('multiply-accumulate', 12.0), ('weight read', 15.0), ('spike message', 6.0),
     ('synaptic event', 12.0), ('weight read', 12.0), ('integrate-and-fire update', 50.0)]
    """
    return [*_input_current_operations(activity), *_integrate_and_fire_operations(activity)]


def operation_counts(
    model: Any, activity: SpikingActivity | None = None, *, learning: bool = False
) -> list[OperationCount]:
    """Operations of a fitted model per inference (or per learning example).

    Parameters
    ----------
    model : RateMLP, STDPNetwork or ConvertedSNN
        Fitted (a ConvertedSNN: converted).
    activity : SpikingActivity or ConvertedActivity, optional
        Required for the spiking models: their measured spikes per example, e.g.
        ``SpikingActivity.measure(model, X)`` for an ``STDPNetwork``,
        ``ConvertedActivity.from_score_curve(model, model.score_curve(X, y))`` for a
        ``ConvertedSNN``. Not used by the MLP.
    learning : bool, default False
        Count a learning example (STDP network only).

    Returns
    -------
    list of OperationCount

    Raises
    ------
    TypeError
        For a model without a cost model.
    ValueError
        When the activity is missing, belongs to another network size, or is given to an MLP;
        when a learning example is asked of a model that does not learn.
    """
    if isinstance(model, RateMLP):
        if activity is not None or learning:
            raise ValueError(
                "RateMLP: its operations follow from its layer sizes alone (no activity), and "
                "learning costs are modelled for the STDP spiking network only"
            )
        coefs = model.coefs_  # NotFittedError (a ValueError) when not fitted
        return mlp_operations([coefs[0].shape[0], *(c.shape[1] for c in coefs)])
    if isinstance(model, STDPNetwork):
        check_is_fitted(model, "assignments_")
        if activity is None:
            raise ValueError(
                "an STDPNetwork's operations depend on its spikes: pass "
                "activity=SpikingActivity.measure(model, X) (or .from_layer_activity(model, "
                "model.layer_activity(X)))"
            )
        if (activity.n_input, activity.n_neurons) != (model.n_features_in_, model.n_neurons):
            raise ValueError(
                f"the activity is of a network with {activity.n_input} inputs and "
                f"{activity.n_neurons} neurons, the model has {model.n_features_in_} and "
                f"{model.n_neurons}"
            )
        return spiking_operations(activity, learning=learning)
    if isinstance(model, ConvertedSNN):
        return converted_operations(_converted_activity(model, activity, learning))
    raise TypeError(
        f"no cost model for {type(model).__name__}: operation counts and energy are defined "
        "for RateMLP, STDPNetwork and ConvertedSNN"
    )


def _converted_activity(model: ConvertedSNN, activity: Any, learning: bool) -> ConvertedActivity:
    """``activity``, checked against the fitted converted network it should describe."""
    check_is_fitted(model, "weights_")
    if learning:
        raise ValueError(
            "a ConvertedSNN does not learn (its weights are its source MLP's): price inference"
        )
    if not isinstance(activity, ConvertedActivity):
        raise ValueError(
            "a ConvertedSNN's operations depend on its spikes: pass "
            "activity=ConvertedActivity.from_score_curve(model, model.score_curve(X, y))"
        )
    described = (tuple(activity.layer_sizes), activity.input_coding)
    if described != (tuple(model.layer_sizes_), model.input_coding):
        raise ValueError(
            f"the activity is of a network with layers {described[0]} and {described[1]} "
            f"input, the model has {tuple(model.layer_sizes_)} and {model.input_coding} input"
        )
    return activity


# -- pricing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnergyFigure:
    """What a profile charges for one kind of operation.

    Attributes
    ----------
    pj : float or None
        Picojoules per operation; ``None``: counted but not charged (``note`` says why).
    source : str
        Where the figure comes from.
    note : str
        How it is built or applied, and its caveats.
    """

    pj: float | None
    source: str
    note: str


@dataclass(frozen=True)
class CostLine:
    """One line of an energy breakdown: an :class:`OperationCount` with its price."""

    kind: str
    what: str
    count: float
    pj_each: float | None
    source: str
    note: str

    @property
    def energy_j(self) -> float:
        """``count * pj_each`` in joules (0 when not charged)."""
        return 0.0 if self.pj_each is None else self.count * self.pj_each * 1e-12


@dataclass(frozen=True)
class EnergyEstimate:
    """Energy of one inference (or learning example) on one profile, with its breakdown.

    Attributes
    ----------
    estimator : str
        The model's class.
    profile : str
        Name of the :class:`HardwareProfile`.
    execution : str
        How the model runs on it: "dense" (the MLP), or the profile's ``mode``.
    phase : {"inference", "learning"}
        Per inference, or per learning example.
    lines : tuple of CostLine
        Every counted operation with its price, charged or not.
    """

    estimator: str
    profile: str
    execution: str
    phase: str
    lines: tuple[CostLine, ...]

    @property
    def energy_j(self) -> float:
        """Total energy (joules) of the charged operations."""
        return float(sum(line.energy_j for line in self.lines))

    @property
    def energy_uj(self) -> float:
        """Total energy in microjoules."""
        return self.energy_j * 1e6

    def by_kind(self) -> dict[str, float]:
        """Energy (joules) of each charged kind of operation, in the order counted."""
        totals: dict[str, float] = {}
        for line in self.lines:
            if line.pj_each is not None:
                totals[line.kind] = totals.get(line.kind, 0.0) + line.energy_j
        return totals

    def share(self, kind: str) -> float:
        """Fraction of the total spent on ``kind`` (0 when it is not charged)."""
        total = self.energy_j
        return self.by_kind().get(kind, 0.0) / total if total > 0 else 0.0

    def count(self, kind: str) -> float:
        """Operations of ``kind`` counted, charged or not."""
        return float(sum(line.count for line in self.lines if line.kind == kind))

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly fields, with totals in joules and microjoules and the breakdown."""
        return {
            **asdict(self),
            "lines": [{**asdict(line), "energy_j": line.energy_j} for line in self.lines],
            "energy_j": self.energy_j,
            "energy_uj": self.energy_uj,
            "by_kind_j": self.by_kind(),
        }


@dataclass(frozen=True)
class HardwareProfile:
    """Named, cited energy figures for the operations a model does on one kind of hardware.

    Attributes
    ----------
    name, title : str
        Key in :data:`PROFILES` and a one-line description.
    mode : str
        How the spiking network runs on it, in two words ("clock-driven" or "event-driven").
    execution : str
        The same in a sentence: the assumption behind the figures.
    figures : dict of str to EnergyFigure
        One per operation kind it prices; a kind absent here cannot run on this profile.
    learning : bool
        Whether the hardware learns on the chip (so a learning example can be priced).
    """

    name: str
    title: str
    mode: str
    execution: str
    figures: Mapping[str, EnergyFigure] = field(repr=False)
    learning: bool

    def charge(
        self, operations: Sequence[OperationCount], *, estimator: str, execution: str, phase: str
    ) -> EnergyEstimate:
        """Price ``operations``; a kind this profile has no figure for raises ``ValueError``."""
        lines = []
        for op in operations:
            figure = self.figures.get(op.kind)
            if figure is None:
                raise ValueError(
                    f"profile {self.name!r} ({self.title}) has no figure for {op.kind!r}: "
                    f"{estimator} cannot be priced on it"
                )
            lines.append(
                CostLine(op.kind, op.what, op.count, figure.pj, figure.source, figure.note)
            )
        return EnergyEstimate(estimator, self.name, execution, phase, tuple(lines))

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly description: every figure with its source and note."""
        return {
            "name": self.name,
            "title": self.title,
            "mode": self.mode,
            "execution": self.execution,
            "learning": self.learning,
            "figures": {kind: asdict(figure) for kind, figure in self.figures.items()},
        }


# Horowitz's 45 nm primitives, picojoules per 32-bit operation.
FP32_ADD_PJ = 0.9
FP32_MULT_PJ = 3.7
INT32_ADD_PJ = 0.1
SRAM_READ_PJ = 5.0  # from an 8 kB SRAM (cache)
DRAM_READ_PJ = 640.0


def _cpu(
    note: str, *, adds: int = 0, mults: int = 0, int_ops: int = 0, sram: int = 0
) -> EnergyFigure:
    """A cpu-45nm figure built from Horowitz's primitives; the recipe is written into the note.

    Memory writes are charged as reads (the table gives reads); comparisons as adds.
    """
    pj = adds * FP32_ADD_PJ + mults * FP32_MULT_PJ + int_ops * INT32_ADD_PJ + sram * SRAM_READ_PJ
    parts = [
        f"{count} {name}"
        for count, name in (
            (adds, f"fp32 add/compare ({FP32_ADD_PJ} pJ)"),
            (mults, f"fp32 multiply ({FP32_MULT_PJ} pJ)"),
            (int_ops, f"int32 op ({INT32_ADD_PJ} pJ)"),
            (sram, f"32-bit SRAM access ({SRAM_READ_PJ} pJ)"),
        )
        if count
    ]
    return EnergyFigure(round(pj, 6), HOROWITZ_2014, f"{note}: {' + '.join(parts)}")


_NOT_ON_CHIP = "not charged: "

PROFILES: dict[str, HardwareProfile] = {
    "cpu-45nm": HardwareProfile(
        name="cpu-45nm",
        title="general-purpose processor, 45 nm, 32-bit floating point (Horowitz 2014)",
        mode="clock-driven",
        execution=(
            "simulated clock-driven, as Brian2 runs it: every excitatory and inhibitory "
            "neuron updated in every 0.5 ms step of every 500 ms window (rest included), "
            "every input neuron draws in every presentation step; synaptic work per spike. "
            "Arithmetic and memory reads only: a lower bound for a real processor, which also "
            "spends energy on instruction fetch, decode, control and clocking (not charged)"
        ),
        figures={
            "multiply-accumulate": _cpu("a multiply and an add", adds=1, mults=1),
            "weight read": _cpu(
                "one read from a small (8 kB) SRAM; optimistic for both models, whose weights "
                "(0.3-0.8 MB at N=100 and 784-256-10) do not fit one: from DRAM a read costs "
                f"{DRAM_READ_PJ:.0f} pJ",
                sram=1,
            ),
            "bias and activation": _cpu(
                "bias add and ReLU compare (sigmoid and tanh cost more, not charged)", adds=2
            ),
            "synaptic event": _cpu(
                "accumulate the weight into the conductance (held in a register, like the "
                "MLP's sums; the plastic weight's read is its own line)",
                adds=1,
            ),
            "spike message": _cpu(
                "append the spike to the queue its synapses are read from", int_ops=1, sram=1
            ),
            "neuron update": _cpu(
                "forward-Euler step of a conductance-based LIF neuron with precomputed "
                "decay factors (two conductances decay, v integrates, refractoriness and "
                "threshold are tested; v, ge, gi, last spike, threshold read, v, ge, gi "
                "written). A lower bound: the engine's exponential Euler for the excitatory "
                "layer adds an exponential and a division",
                adds=9,
                mults=5,
                sram=8,
            ),
            "integrate-and-fire update": _cpu(
                "step of a non-leaky integrate-and-fire neuron (the converted network's, "
                "threshold 1, no refractory period): v and its constant input current per "
                "step (bias, or W x + b) read, added, the threshold tested, v written; "
                "synaptic input arrives as synaptic events. The reset at a spike (one "
                "subtraction) is left out",
                adds=2,
                sram=3,
            ),
            "Poisson draw": _cpu(
                "a xorshift random number, compared with the pixel's rate x dt, read from "
                "memory (blank pixels, rate 0, draw nothing)",
                adds=1,
                int_ops=6,
                sram=1,
            ),
            "synaptic weight update": _cpu(
                "read the weight and two traces, two multiplies, one add, clip to [0, w_max], "
                "write the weight",
                adds=3,
                mults=2,
                sram=4,
            ),
            "trace update": _cpu("a multiply (decay) or a set, read and write", mults=1, sram=2),
            "weight normalisation": _cpu(
                "read for the neuron's sum (an add), read, scale (a multiply) and write",
                adds=1,
                mults=1,
                sram=3,
            ),
        },
        learning=True,
    ),
    "loihi": HardwareProfile(
        name="loihi",
        title="Intel Loihi, 14 nm neuromorphic chip (Davies et al. 2018, Table 2, pre-silicon)",
        mode="event-driven",
        execution=(
            "event-driven synapses on a time-stepped chip: synaptic work only when a spike "
            "arrives, but every neuron is still updated in every algorithmic time step "
            "(1,000 per window at dt = 0.5 ms); input spikes injected from off the cores"
        ),
        figures={
            "synaptic event": EnergyFigure(
                23.6,
                DAVIES_2018,
                "energy per synaptic spike op, the table's minimum; includes reading the "
                "synapse from the core's memory",
            ),
            "weight read": EnergyFigure(
                None, DAVIES_2018, _NOT_ON_CHIP + "included in the synaptic spike op"
            ),
            "spike message": EnergyFigure(
                1.7,
                DAVIES_2018,
                "within-tile spike energy: assumes each spike stays in its tile (4 cores); "
                "a network spread over tiles adds 3.0 (E-W) or 4.0 (N-S) pJ per tile hop, not "
                "modelled",
            ),
            "neuron update": EnergyFigure(
                81.0,
                DAVIES_2018,
                "energy per neuron update, active, charged to every neuron in every step "
                "(the conductances and membrane keep decaying); the inactive figure, 52 pJ, "
                "is the floor (36 % less)",
            ),
            "integrate-and-fire update": EnergyFigure(
                81.0,
                DAVIES_2018,
                "energy per neuron update, active: the table prices one compartment update, "
                "whatever its decay, and a compartment without current and voltage decay is "
                "a non-leaky integrate-and-fire neuron; charged to every neuron in every step "
                "(its constant input current drives it); the inactive figure, 52 pJ, is the "
                "floor",
            ),
            "Poisson draw": EnergyFigure(
                None,
                DAVIES_2018,
                _NOT_ON_CHIP + "the input spikes are generated off the neuromorphic cores (host "
                "or embedded x86 cores); Table 2 has no figure; their delivery is charged as "
                "spike messages",
            ),
            "synaptic weight update": EnergyFigure(
                120.0,
                DAVIES_2018,
                "energy per synaptic update (pairwise STDP), applied to this network's triplet "
                "rule",
            ),
            "trace update": EnergyFigure(
                None,
                DAVIES_2018,
                _NOT_ON_CHIP + "traces live in Loihi's learning engine and cores; Table 2 gives "
                "no separate figure",
            ),
            "weight normalisation": EnergyFigure(
                None,
                DAVIES_2018,
                _NOT_ON_CHIP + "not a Loihi core operation (it would run on the embedded x86 "
                "cores or the host); no figure",
            ),
        },
        learning=True,
    ),
    "truenorth": HardwareProfile(
        name="truenorth",
        title="IBM TrueNorth, 28 nm neuromorphic chip (Merolla et al. 2014, measured)",
        mode="event-driven",
        execution=(
            "event-driven, priced with TrueNorth's all-in energy per synaptic event: whole-chip "
            "energy (neuron updates, routing and static power included) at one benchmark's "
            "activity, so a point estimate for this network. The network does not map "
            "directly (256 inputs per core, binary synapses with 4 weight levels, no on-chip "
            "learning): the figure prices its synaptic events, not a port"
        ),
        figures={
            "synaptic event": EnergyFigure(
                26.0,
                MEROLLA_2014,
                "all-in energy per synaptic event (whole-chip power over synaptic events at "
                "20 Hz, 128 active synapses per neuron, 0.775 V)",
            ),
            **{
                kind: EnergyFigure(
                    None,
                    MEROLLA_2014,
                    _NOT_ON_CHIP + "included in the all-in 26 pJ per synaptic event",
                )
                for kind in (
                    "weight read",
                    "spike message",
                    "neuron update",
                    "integrate-and-fire update",
                )
            },
            "Poisson draw": EnergyFigure(
                None, MEROLLA_2014, _NOT_ON_CHIP + "the input spikes arrive from off the chip"
            ),
        },
        learning=False,
    ),
}


def estimate_model_energy(
    model: Any,
    profile: str = "cpu-45nm",
    *,
    activity: SpikingActivity | ConvertedActivity | None = None,
    learning: bool = False,
) -> EnergyEstimate:
    """Energy of one inference of a fitted model on a hardware profile, with its breakdown.

    Parameters
    ----------
    model : RateMLP, STDPNetwork or ConvertedSNN
        Fitted (a ConvertedSNN: converted).
    profile : {"cpu-45nm", "loihi", "truenorth"}, default "cpu-45nm"
        See :data:`PROFILES`. The MLP runs on "cpu-45nm" only; a ConvertedSNN's input current
        (constant-current coding) is computed, on a profile without a figure for
        multiply-accumulates, by a conventional processor priced as on "cpu-45nm".
    activity : SpikingActivity or ConvertedActivity, optional
        Required for the spiking models: their measured spikes, e.g.
        ``SpikingActivity.measure(model, X)`` or
        ``ConvertedActivity.from_score_curve(model, model.score_curve(X, y))``.
    learning : bool, default False
        Price a learning example instead (STDP network, on a profile that learns).

    Returns
    -------
    EnergyEstimate
        ``energy_j`` (total), ``by_kind()`` and ``lines`` (every operation with its source).

    Raises
    ------
    TypeError
        For a model without a cost model.
    ValueError
        For an unknown profile, a model or phase the profile cannot price, or missing activity.

    Examples
    --------
    >>> from neurosim import RateMLP, load_digits_784
    >>> X, y = load_digits_784("train")
    >>> mlp = RateMLP(hidden_layer_sizes=(16,), max_iter=1, random_state=0).fit(X[:50], y[:50])
    >>> estimate = estimate_model_energy(mlp, profile="cpu-45nm")
    >>> round(estimate.energy_uj, 3), round(estimate.share("weight read"), 2)
    (0.122, 0.52)
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
    hardware = PROFILES[profile]
    if learning and not hardware.learning:
        raise ValueError(f"profile {profile!r} ({hardware.title}) does not learn on the chip")
    operations = operation_counts(model, activity, learning=learning)
    phase = "learning" if learning else "inference"
    estimator = type(model).__name__
    if isinstance(model, RateMLP):
        return hardware.charge(operations, estimator=estimator, execution="dense", phase=phase)
    if isinstance(model, STDPNetwork) or "multiply-accumulate" in hardware.figures:
        return hardware.charge(
            operations, estimator=estimator, execution=hardware.mode, phase=phase
        )
    return _priced_with_host(hardware, activity, estimator=estimator, phase=phase)


_HOST = "cpu-45nm"
_HOST_NOTE = "computed off the chip, by a conventional processor priced as on cpu-45nm: "


def _priced_with_host(
    hardware: HardwareProfile, activity: ConvertedActivity, *, estimator: str, phase: str
) -> EnergyEstimate:
    """A converted network on a chip: its dense input current on the host ("cpu-45nm"),
    its spiking part on the chip; the host's lines say so in their note."""
    on_host = PROFILES[_HOST].charge(
        _input_current_operations(activity), estimator=estimator, execution="dense", phase=phase
    )
    on_chip = hardware.charge(
        _integrate_and_fire_operations(activity),
        estimator=estimator,
        execution=hardware.mode,
        phase=phase,
    )
    host_lines = tuple(replace(line, note=_HOST_NOTE + line.note) for line in on_host.lines)
    execution = hardware.mode + (f"; input current on the host ({_HOST})" if host_lines else "")
    return EnergyEstimate(estimator, hardware.name, execution, phase, host_lines + on_chip.lines)
