"""Every constant of the Diehl & Cook (2015) network, with units, in one named set.

Values follow the authors' original Brian 1 code (peter-u-diehl/stdp-mnist), not the Brian 2
ports. Where this library deviates on purpose, the field says so and the deviation is an
option of :class:`~neurosim.STDPNetwork`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from brian2 import Hz, Quantity, ms, mV

__all__ = ["PAPER_ACCURACY", "PRESETS", "DiehlCookParams", "original", "preset"]


def _q(value: Quantity):
    """A dataclass field defaulting to a quantity (quantities are mutable arrays)."""
    return dataclasses.field(default_factory=lambda: value)


@dataclass(frozen=True)
class DiehlCookParams:
    """Constants of the network, learning rule and presentation protocol.

    Excitatory neurons are conductance-based leaky integrate-and-fire neurons with an adaptive
    threshold: a neuron spikes when ``v > theta - theta_offset + v_thresh_exc``.
    """

    # Excitatory layer
    v_rest_exc: Quantity = _q(-65.0 * mV)
    v_reset_exc: Quantity = _q(-65.0 * mV)
    v_thresh_exc: Quantity = _q(-52.0 * mV)
    tau_exc: Quantity = _q(100.0 * ms)
    refractory_exc: Quantity = _q(5.0 * ms)
    e_exc_exc: Quantity = _q(0.0 * mV)  # reversal potential of excitatory synapses
    e_inh_exc: Quantity = _q(-100.0 * mV)  # reversal potential of inhibitory synapses
    tau_ge: Quantity = _q(1.0 * ms)
    tau_gi: Quantity = _q(2.0 * ms)
    # Adaptive threshold (homeostasis); frozen at test time
    theta_init: Quantity = _q(20.0 * mV)
    theta_plus: Quantity = _q(0.05 * mV)
    theta_offset: Quantity = _q(20.0 * mV)
    tau_theta: Quantity = _q(1e7 * ms)
    # Inhibitory layer
    v_rest_inh: Quantity = _q(-60.0 * mV)
    v_reset_inh: Quantity = _q(-45.0 * mV)
    v_thresh_inh: Quantity = _q(-40.0 * mV)
    tau_inh: Quantity = _q(10.0 * ms)
    refractory_inh: Quantity = _q(2.0 * ms)
    e_exc_inh: Quantity = _q(0.0 * mV)
    e_inh_inh: Quantity = _q(-85.0 * mV)
    # Initial membrane potentials (the original starts 40 mV below rest)
    v_init_offset: Quantity = _q(-40.0 * mV)
    # Fixed connections
    w_exc_inh: float = 10.4  # excitatory -> inhibitory, one-to-one
    w_inh_exc: float = 17.0  # inhibitory -> every other excitatory neuron
    # Plastic input -> excitatory synapses and triplet-trace STDP
    w_init_scale: float = 0.3  # w = (U[0,1) + 0.01) * w_init_scale
    w_max: float = 1.0
    w_sum_target: float = 78.0  # each neuron's input weights are rescaled to sum to this
    max_delay: Quantity = _q(10.0 * ms)  # input delays U[0, max_delay] when delays are on
    tau_pre: Quantity = _q(20.0 * ms)
    tau_post1: Quantity = _q(20.0 * ms)
    tau_post2: Quantity = _q(40.0 * ms)
    nu_pre: float = 1e-4  # depression on a presynaptic spike: w -= nu_pre * post1
    nu_post: float = 1e-2  # potentiation on a postsynaptic spike: w += nu_post * pre * post2
    # Input encoding and protocol
    max_pixel_rate: Quantity = _q(255.0 / 8.0 * Hz)  # rate of a white pixel at intensity 1
    intensity_start: float = 2.0
    max_intensity: float = 32.0  # safety cap on re-presentations (not in the original)
    min_spikes: int = 5  # fewer excitatory spikes than this -> re-present, intensity + 1
    presentation_time: Quantity = _q(350.0 * ms)
    rest_time: Quantity = _q(150.0 * ms)
    dt: Quantity = _q(0.5 * ms)
    # Integration of the excitatory layer (a deliberate deviation). The original integrates these
    # nonlinear, conductance-based equations with forward Euler ("euler", available). Euler is
    # unstable once the summed conductance exceeds 2 * tau / dt (400 for the excitatory layer),
    # which a volley of a dozen simultaneous inhibitory spikes reaches: the layer then fires in
    # lock-step, thresholds run away and the network falls silent (seen here on a 3,000-image
    # MNIST subset at N=100 and at inhibition 45). "exponential_euler" integrates v exactly for
    # each step's conductances and stays stable; see benchmarks/RESULTS.md for its effect.
    integration: str = "exponential_euler"
    # Integration of the inhibitory layer: forward Euler as in the original. It is stable there:
    # an inhibitory neuron's only input is its excitatory partner (at most one spike per 5 ms
    # refractory period, w_exc_inh = 10.4, tau_ge = 1 ms), so dt * (1 + ge) / tau_inh <= 0.6,
    # far below Euler's limit of 2; and it saves an exponential and a division per neuron and
    # step (about a quarter of the engine's time at N=400).
    integration_inh: str = "euler"
    # Charge per synaptic spike. Exponential Euler decays a conductance exactly but holds it
    # constant while it integrates v over the step, so one spike of weight w delivers
    # dt / (1 - exp(-dt / tau)) times the charge w * tau of the continuous equations: 1.27x for
    # ge (tau_ge = 1 ms) and 1.13x for gi (tau_gi = 2 ms) at dt = 0.5 ms. Forward Euler
    # delivers exactly 1.00x. With ``matched_charge`` every conductance increment is scaled by
    # the inverse of its layer's factor, so a spike carries the continuous model's charge
    # whatever the integration method (see :meth:`charge_per_spike`).
    matched_charge: bool = False
    # Refractoriness of the excitatory layer. True: v is held at v_reset_exc for
    # refractory_exc (Brian2's "unless refractory"). False: as the original ran in Brian 1.4,
    # where a multi-statement string reset is a StringReset, not a Refractoriness, so only new
    # spikes are blocked for refractory_exc while v keeps integrating (brian/neurongroup.py,
    # NeuronGroup.__init__ "Reset and refractory period" and NeuronGroup.update;
    # brian/reset.py, select_reset). The inhibitory layer's one-statement reset
    # "v = v_reset_i" is a Refractoriness in Brian 1.4, which holds v: so it is held here.
    hold_refractory_exc: bool = True
    # Which spikes count for an example. False: those of its presentation. True: as the
    # original, from the end of the previous presentation to the end of this one, i.e. the
    # rest period before the example is counted with it (the original reads the spike
    # counters right after each presentation). The first example of each chunk of
    # ``chunk_size`` windows starts from zero (its previous rest is in the previous chunk).
    count_previous_rest: bool = False

    def replace(self, **changes) -> DiehlCookParams:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, str | float]:
        """All fields as JSON-friendly values (quantities as strings with units)."""
        return {
            field.name: (
                str(value) if isinstance(value := getattr(self, field.name), Quantity) else value
            )
            for field in dataclasses.fields(self)
        }

    def charge_per_spike(self, layer: str = "exc") -> dict[str, float]:
        """Charge a spike delivers through ``ge`` and ``gi`` of ``layer`` ("exc" or "inh"),
        relative to the continuous equations (1.0: the same), with ``matched_charge`` applied.
        """
        if layer not in ("exc", "inh"):
            raise ValueError(f"layer must be 'exc' or 'inh', got {layer!r}")
        method = self.integration if layer == "exc" else self.integration_inh
        charge = {}
        for name, tau in (("ge", self.tau_ge), ("gi", self.tau_gi)):
            step = float(self.dt / tau)
            raw = step / -np.expm1(-step) if method == "exponential_euler" else 1.0
            charge[name] = 1.0 if self.matched_charge else raw
        return charge

    def conductance_scale(self, layer: str = "exc") -> dict[str, float]:
        """Factor on each conductance increment of ``layer``: 1, or what matches the charge."""
        if not self.matched_charge:
            return {"ge": 1.0, "gi": 1.0}
        unmatched = self.replace(matched_charge=False).charge_per_spike(layer)
        return {name: 1.0 / value for name, value in unmatched.items()}

    @property
    def steps_per_window(self) -> int:
        """Time steps in one presentation + rest window."""
        return round(float((self.presentation_time + self.rest_time) / self.dt))

    @property
    def presentation_steps(self) -> int:
        """Time steps during which the image is shown."""
        return round(float(self.presentation_time / self.dt))


# The paper tuned inhibition per network size without publishing the values. Chosen on the
# validation split (benchmarks/RESULTS.md, "Tuning on validation"): at N=100,
#   python benchmarks/snn_tune.py --neurons 100 --integration matched --inhibition 17 25 34
#   python benchmarks/snn_tune.py --neurons 100 --integration exponential_euler --inhibition 34
# gave 84.74 % for exponential Euler at 34 against 83.99 / 83.61 / 64.55 % with the matched
# charge at 34 / 25 / 17 (one pass over the 50,000 learning images, seed 0). At N=400,
#   python benchmarks/snn_tune.py --neurons 400 --integration exponential_euler --inhibition 17 34
# gave 92.10 % at 34 against 89.46 % at 17 (seed 0; 25 not yet measured). At N=1600,
#   python benchmarks/snn_tune.py --neurons 1600 --integration exponential_euler --inhibition 17
#   (and 34) gave 93.01 % at 17 against 21.66 % at 34 (seed 0), so N=1600 keeps the original
# code's 17. Sizes between use the nearest tuned size; no value here was chosen on test images.
_PRESETS: dict[int, dict[str, float]] = {
    100: {"w_inh_exc": 34.0},
    400: {"w_inh_exc": 34.0},
    1600: {"w_inh_exc": 17.0},
}

PRESETS = ("default", "original")

# The original code's constants where they differ from DiehlCookParams' defaults: forward
# Euler, Brian 1.4's refractoriness and spike-count window, and no effective cap on
# re-presentations (at intensity 64 a white pixel fires in every 0.5 ms step, so more cannot
# help; reaching it is counted in ``history_`` as ``capped``). Use with input delays on.
_ORIGINAL = {
    "integration": "euler",
    "w_inh_exc": 17.0,
    "hold_refractory_exc": False,
    "count_previous_rest": True,
    "max_intensity": 64.0,
}


def preset(n_neurons: int, name: str = "default") -> DiehlCookParams:
    """Parameters for a network of ``n_neurons`` excitatory neurons.

    ``name="default"``: this library's preset, chosen on the validation split per size
    (sizes without a tuned preset use the nearest tuned size's values). ``"original"``: the
    authors' Brian 1 code as closely as Brian2 allows, the same at every size (see
    :func:`original`).
    """
    if n_neurons < 1:
        raise ValueError(f"n_neurons must be positive, got {n_neurons}")
    if name == "original":
        return original(n_neurons)
    if name != "default":
        raise ValueError(f"preset must be one of {PRESETS}, got {name!r}")
    nearest = min(_PRESETS, key=lambda size: abs(size - n_neurons))
    return DiehlCookParams(**_PRESETS[nearest])


def original(n_neurons: int) -> DiehlCookParams:
    """The original Brian 1 code's constants (peter-u-diehl/stdp-mnist) for ``n_neurons``.

    Use as ``STDPNetwork(n_neurons, preset="original")``, which also turns the input delays
    on. The remaining differences are named in README's deviations table.
    """
    if n_neurons < 1:
        raise ValueError(f"n_neurons must be positive, got {n_neurons}")
    return DiehlCookParams(**_ORIGINAL)


# Diehl & Cook (2015), Table 1: test accuracy (%) after training, by number of excitatory neurons.
PAPER_ACCURACY: dict[int, float] = {100: 82.9, 400: 87.0, 1600: 91.9, 6400: 95.0}
