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
        if isinstance(getattr(params, name), (float, b2.Quantity))
    }
    del names["dt"]
    names["min_spikes"] = float(params.min_spikes)
    for layer in ("exc", "inh"):
        for conductance, scale in params.conductance_scale(layer).items():
            names[f"{conductance}_scale_{layer}"] = scale
        # Brian2's rounding of a duration to whole steps (its timestep function)
        steps = int(float(getattr(params, f"refractory_{layer}") / params.dt) + 1e-3)
        names[f"refractory_{layer}_steps"] = float(steps)
    return names


def refractory_condition(layer: str) -> str:
    """The refractory period of ``layer`` as a condition on the time since the last spike.

    Equal step for step to Brian2's ``refractory=<duration>``, which tests
    ``timestep(t - lastspike, dt) >= timestep(refractory, dt)``: that converts a double to a
    64-bit integer per neuron and step, which x86 CPUs without AVX-512 cannot vectorise, so
    the whole state update (with its exp per neuron) ran scalar there. Times since a spike
    are whole steps, so a half-step margin gives the same steps with a plain comparison.
    """
    return f"t - lastspike < (refractory_{layer}_steps - 0.5) * dt"


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
    learning: bool = True,
    copies: int = 1,
    pooled_inhibition: bool = False,
) -> dict:
    """Create the layers and connections of the network in the active Brian2 device.

    Returns the input group ``inp`` (a ``rate`` per pixel plus ``input_model``), the
    excitatory and inhibitory groups ``exc`` and ``inh``, the input synapses ``syn`` and the
    fixed ``exc_inh`` (one-to-one) and ``inh_exc`` (to every other neuron) connections.
    ``count_increment`` (0 or 1) is added to an excitatory neuron's ``count`` at each of its
    spikes (with ``params.count_previous_rest``, its complement to ``rest_count``);
    input and inhibitory neurons count all their spikes in ``spikes``;
    ``extra_namespace`` adds names (functions, arrays) the caller's code refers to;
    ``clock`` is the simulation clock of every group (default: Brian2's ``defaultclock``).

    With ``learning=False`` the network is frozen: no STDP traces or updates, no threshold
    adaptation (``theta`` is a constant), the same dynamics otherwise. ``copies`` independent
    copies of a frozen network are laid side by side in each group (copy ``c`` holds inputs
    ``c * n_input ...`` and neurons ``c * n_neurons ...``; connections stay inside a copy), so
    one simulation evaluates several examples at once.

    The three groups stay in one function so the network reads as one description.
    """
    if learning and copies != 1:
        raise ValueError("only a frozen network (learning=False) can run in several copies")
    ns = {**namespace(params), **(extra_namespace or {})}
    plastic_input = learning and not input_delays  # the presynaptic trace lives in the input
    inp = b2.NeuronGroup(
        n_input * copies,
        f"rate : Hz\nspikes : 1\n{input_model}\n"
        + ("dpre/dt = -pre / tau_pre : 1" if plastic_input else ""),
        threshold=input_threshold,
        reset="pre = 1\nspikes += 1" if plastic_input else "spikes += 1",
        method="euler",
        name="inp",
        namespace=ns,
        clock=clock,
    )
    exc = b2.NeuronGroup(
        n_neurons * copies,
        _excitatory_equations(learning, pooled_inhibition, params),
        threshold="v > theta - theta_offset + v_thresh_exc",
        reset=f"v = v_reset_exc\ncount += {count_increment}"
        + (f"\nrest_count += 1 - {count_increment}" if params.count_previous_rest else "")
        + ("\ntheta += plastic * theta_plus\npost1 = 1\npost2 = 1" if learning else ""),
        refractory=refractory_condition("exc"),
        method=params.integration,
        name="exc",
        namespace=ns,
        clock=clock,
    )
    inh = b2.NeuronGroup(
        n_neurons * copies,
        """dv/dt = (v_rest_inh - v + i_syn) / tau_inh : volt (unless refractory)
        i_syn = ge * (e_exc_inh - v) + gi * (e_inh_inh - v) : volt
        dge/dt = -ge / tau_ge : 1
        dgi/dt = -gi / tau_gi : 1
        spikes : 1""",
        threshold="v > v_thresh_inh",
        reset="v = v_reset_inh\nspikes += 1",
        refractory=refractory_condition("inh"),
        method=params.integration_inh,
        name="inh",
        namespace=ns,
        clock=clock,
    )
    groups = dict(inp=inp, exc=exc, inh=inh)
    return groups | _connections(
        groups, ns, clock, input_delays, learning, copies, pooled_inhibition
    )


def _connections(
    groups: dict,
    ns: dict,
    clock: b2.Clock | None,
    input_delays: bool,
    learning: bool,
    copies: int,
    pooled_inhibition: bool,
) -> dict:
    """Input -> excitatory (all to all), excitatory -> inhibitory (one to one) and inhibitory
    -> excitatory (to every other neuron), each inside its copy of the network."""
    inp, exc, inh = groups["inp"], groups["exc"], groups["inh"]
    n_in, n = inp.N // copies, exc.N // copies
    if learning:
        model, on_pre, on_post = stdp_synapse_equations(input_delays)
    else:
        model, on_pre, on_post = "w : 1", "ge_post += w * ge_scale_exc", None
    syn = b2.Synapses(
        inp, exc, model, on_pre=on_pre, on_post=on_post, name="syn", namespace=ns, clock=clock
    )
    offsets = np.arange(copies)[:, None]
    syn.connect(
        i=(np.repeat(np.arange(n_in), n)[None, :] + n_in * offsets).ravel(),
        j=(np.tile(np.arange(n), n_in)[None, :] + n * offsets).ravel(),
    )
    exc_inh = b2.Synapses(
        exc,
        inh,
        on_pre="ge_post += w_exc_inh * ge_scale_inh",
        name="exc_inh",
        namespace=ns,
        clock=clock,
    )
    exc_inh.connect(j="i")
    if not pooled_inhibition:
        inh_exc = b2.Synapses(
            inh,
            exc,
            on_pre="gi_post += w_inh_exc * gi_scale_exc",
            name="inh_exc",
            namespace=ns,
            clock=clock,
        )
        inh_exc.connect(condition="i != j" if copies == 1 else f"i != j and i // {n} == j // {n}")
        return dict(syn=syn, exc_inh=exc_inh, inh_exc=inh_exc)
    return dict(syn=syn, exc_inh=exc_inh, **_pooled_inhibition(exc, inh, n, ns, clock))


def _pooled_inhibition(exc, inh, n: int, ns: dict, clock: b2.Clock | None) -> dict:
    """Lateral inhibition in O(N): every inhibitory neuron inhibits every excitatory neuron of
    its copy but its own partner, with one weight, so in each time step excitatory neuron j
    receives ``w_inh_exc * (inhibitory spikes of its copy - its partner's spike)``.

    The spikes are counted per copy by N one-way synapses (in the synapses slot, as the
    all-to-all synapses delivered them), then added to ``gi`` right after, in the same slot.
    """
    copies = inh.N // n
    pool = b2.NeuronGroup(copies, "spikes_now : 1", name="inh_pool", namespace=ns, clock=clock)
    count = b2.Synapses(inh, pool, on_pre="spikes_now_post += 1", name="inh_count", clock=clock)
    count.connect(i=np.arange(inh.N), j=np.arange(inh.N) // n)
    exc.inh_spikes_now = b2.linked_var(pool, "spikes_now", index=np.arange(exc.N) // n)
    exc.partner_lastspike = b2.linked_var(inh, "lastspike", index=np.arange(exc.N))
    exc.run_regularly(
        "gi += w_inh_exc * gi_scale_exc * (inh_spikes_now - int(partner_lastspike == t))",
        when="synapses",
        order=1,
        name="inh_exc_pooled",
    )
    pool.run_regularly("spikes_now = 0", when="synapses", order=2, name="inh_pool_clear")
    return {"inh_pool": pool, "inh_count": count}


def _excitatory_equations(learning: bool, pooled_inhibition: bool, params: DiehlCookParams) -> str:
    """Excitatory neurons: conductance-based LIF with an adaptive threshold ``theta``."""
    hold = " (unless refractory)" if params.hold_refractory_exc else ""
    equations = f"""dv/dt = (v_rest_exc - v + i_syn) / tau_exc : volt{hold}
        i_syn = ge * (e_exc_exc - v) + gi * (e_inh_exc - v) : volt
        dge/dt = -ge / tau_ge : 1
        dgi/dt = -gi / tau_gi : 1
        count : 1
        """
    if params.count_previous_rest:  # spikes of the rest period, counted with the next example
        equations += "rest_count : 1\n"
    if pooled_inhibition:  # read from the inhibitory layer (see _pooled_inhibition)
        equations += """inh_spikes_now : 1 (linked)
        partner_lastspike : second (linked)
        """
    if not learning:
        return equations + "theta : volt (constant)"
    return (
        equations
        + """dtheta/dt = -plastic * theta / tau_theta : volt
        dpost1/dt = -post1 / tau_post1 : 1
        dpost2/dt = -post2 / tau_post2 : 1
        w_sum : 1
        norm : 1
        plastic : 1 (shared)"""
    )


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
            f"ge_post += w * ge_scale_exc\npre = 1\n{depress}",
            "w = clip(w + plastic_post * nu_post * pre * post2_post, 0, w_max)",
        )
    return (
        "w : 1",
        f"ge_post += w * ge_scale_exc\n{depress}",
        "w = clip(w + plastic_post * nu_post * pre_pre * post2_post, 0, w_max)",
    )
