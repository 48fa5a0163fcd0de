"""Every constant of the Diehl & Cook (2015) network, with units, in one named set.

Values follow the authors' original Brian 1 code (peter-u-diehl/stdp-mnist), not the Brian 2
ports. Where this library deviates on purpose, the field says so and the deviation is an
option of :class:`~neurosim.STDPNetwork`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from brian2 import Hz, Quantity, ms, mV

__all__ = ["PAPER_ACCURACY", "DiehlCookParams", "preset"]


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

    @property
    def steps_per_window(self) -> int:
        """Time steps in one presentation + rest window."""
        return round(float((self.presentation_time + self.rest_time) / self.dt))

    @property
    def presentation_steps(self) -> int:
        """Time steps during which the image is shown."""
        return round(float(self.presentation_time / self.dt))


# The paper tuned inhibition per network size without publishing the values. Measured here:
# with N=100, w_inh_exc=17.0 drifts (66 % after one pass); 34.0 gives ~84 % after 20k-60k
# examples (../shared/notes/stdp-prototype-findings.md).
_PRESETS: dict[int, dict[str, float]] = {
    100: {"w_inh_exc": 34.0},
    400: {"w_inh_exc": 17.0},
}


def preset(n_neurons: int) -> DiehlCookParams:
    """Parameters for a network of ``n_neurons`` excitatory neurons.

    Sizes without a tuned preset use the nearest tuned size's values.
    """
    if n_neurons < 1:
        raise ValueError(f"n_neurons must be positive, got {n_neurons}")
    nearest = min(_PRESETS, key=lambda size: abs(size - n_neurons))
    return DiehlCookParams(**_PRESETS[nearest])


# Diehl & Cook (2015), Table 1: test accuracy (%) after training, by number of excitatory neurons.
PAPER_ACCURACY: dict[int, float] = {100: 82.9, 400: 87.0, 1600: 91.9, 6400: 95.0}
