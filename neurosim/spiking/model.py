"""The network of Diehl & Cook (2015): its equations, groups and connections, in Brian2.

What the network *is*; how it is run (the presentation protocol, chunks, builds) lives in
:mod:`neurosim.spiking.engine`. Every constant comes from
:class:`~neurosim.spiking.params.DiehlCookParams`, by name, with units.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np

from neurosim.spiking.params import DiehlCookParams

__all__ = ["build_layers", "namespace", "stdp_synapse_equations"]


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
    clock: b2.Clock | None = None,
) -> dict:
    """Create the layers and connections of the network in the active Brian2 device.

    Returns the input group ``inp`` (a ``rate`` per pixel plus ``input_model``), the
    excitatory and inhibitory groups ``exc`` and ``inh``, the plastic synapses ``syn`` and the
    fixed ``exc_inh`` (one-to-one) and ``inh_exc`` (to every other neuron) connections.
    ``count_increment`` is added to an excitatory neuron's ``count`` at each of its spikes;
    input and inhibitory neurons count all their spikes in ``spikes``;
    ``extra_namespace`` adds names (functions, arrays) the caller's code refers to;
    ``clock`` is the simulation clock of every group (default: Brian2's ``defaultclock``).
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
        clock=clock,
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
        clock=clock,
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
        clock=clock,
    )

    model, on_pre, on_post = stdp_synapse_equations(input_delays)
    syn = b2.Synapses(
        inp, exc, model, on_pre=on_pre, on_post=on_post, name="syn", namespace=ns, clock=clock
    )
    syn.connect(i=np.repeat(np.arange(n_in), n), j=np.tile(np.arange(n), n_in))

    exc_inh = b2.Synapses(
        exc, inh, on_pre="ge_post += w_exc_inh", name="exc_inh", namespace=ns, clock=clock
    )
    exc_inh.connect(j="i")
    inh_exc = b2.Synapses(
        inh, exc, on_pre="gi_post += w_inh_exc", name="inh_exc", namespace=ns, clock=clock
    )
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
