"""Operation counts per inference turned into energy estimates.

The two models do different kinds of work. The rate-based MLP computes every weight of every
layer for every input: one **multiply-accumulate (MAC)** per weight. The spiking network only
works when a spike arrives: each spike adds the synapse's weight to its target's conductance,
one **accumulate** per synaptic event, no multiplication.

Per-operation energies are those of 32-bit floating-point arithmetic in a 45 nm process at
0.9 V, from M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC
2014, pp. 10-14 (doi:10.1109/ISSCC.2014.6757323): a 32-bit float multiply costs 3.7 pJ and a
32-bit float add 0.9 pJ.

Assumptions (state them wherever the numbers are shown):

- one MAC = one float multiply + one float add = 4.6 pJ;
- one synaptic event = one float add (accumulate) = 0.9 pJ;
- arithmetic only: memory access (which Horowitz shows dominates, e.g. ~5 pJ for a 32-bit read
  from a small 8 kB SRAM and ~640 pJ from DRAM), neuron-state updates of the spiking model
  every time step, spike routing, biases and activation functions are all left out. The
  figures are a lower bound per operation and a like-for-like comparison of operation kinds,
  not a prediction of any chip's power.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "ENERGY_SOURCE",
    "FP32_ADD_PJ",
    "FP32_MAC_PJ",
    "FP32_MULT_PJ",
    "PJ_PER_OP",
    "EnergyEstimate",
    "energy_per_inference",
    "estimate_model_energy",
]

ENERGY_SOURCE = (
    "M. Horowitz, 'Computing's energy problem (and what we can do about it)', ISSCC 2014, "
    "45 nm, 0.9 V, 32-bit floating point"
)
#: Energy of one 32-bit floating-point multiply, picojoules (Horowitz 2014, 45 nm).
FP32_MULT_PJ = 3.7
#: Energy of one 32-bit floating-point add, picojoules (Horowitz 2014, 45 nm).
FP32_ADD_PJ = 0.9
#: One multiply-accumulate: a multiply plus an add.
FP32_MAC_PJ = FP32_MULT_PJ + FP32_ADD_PJ

#: Energy per counted operation, by the models' ``op_kind``.
PJ_PER_OP = {
    "multiply-accumulate": FP32_MAC_PJ,
    "synaptic event": FP32_ADD_PJ,  # assumption: one accumulate of the weight per event
}

_ASSUMPTIONS = {
    "multiply-accumulate": "one MAC = one 32-bit float multiply + one add "
    f"({FP32_MULT_PJ} + {FP32_ADD_PJ} = {FP32_MAC_PJ:.1f} pJ)",
    "synaptic event": f"one synaptic event = one 32-bit float accumulate (add, {FP32_ADD_PJ} pJ)",
}


@dataclass(frozen=True)
class EnergyEstimate:
    """Energy of one inference from its operation count.

    Attributes
    ----------
    ops_per_inference : float
        Counted operations per inference.
    op_kind : str
        "multiply-accumulate" or "synaptic event".
    pj_per_op : float
        Energy charged per operation, picojoules.
    energy_j : float
        ``ops_per_inference * pj_per_op`` in joules.
    assumption : str
        What one operation is taken to cost.
    source : str
        Where the per-operation energy comes from.
    """

    ops_per_inference: float
    op_kind: str
    pj_per_op: float
    energy_j: float
    assumption: str
    source: str = ENERGY_SOURCE

    @property
    def energy_uj(self) -> float:
        """Energy per inference in microjoules."""
        return self.energy_j * 1e6

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly fields (energy also in microjoules)."""
        return {**asdict(self), "energy_uj": self.energy_uj}


def energy_per_inference(ops_per_inference: float, op_kind: str) -> EnergyEstimate:
    """Estimate the arithmetic energy of one inference.

    Parameters
    ----------
    ops_per_inference : float
        Operations per inference, e.g. a model's ``n_ops_per_sample_``.
    op_kind : {"multiply-accumulate", "synaptic event"}
        A model's ``op_kind``.

    Returns
    -------
    EnergyEstimate

    Examples
    --------
    >>> round(energy_per_inference(784 * 256 + 256 * 10, "multiply-accumulate").energy_uj, 3)
    0.935
    """
    if op_kind not in PJ_PER_OP:
        raise ValueError(f"op_kind must be one of {sorted(PJ_PER_OP)}, got {op_kind!r}")
    ops = float(ops_per_inference)
    if not ops >= 0:  # also rejects NaN
        raise ValueError(f"ops_per_inference must be >= 0, got {ops_per_inference!r}")
    pj = PJ_PER_OP[op_kind]
    return EnergyEstimate(
        ops_per_inference=ops,
        op_kind=op_kind,
        pj_per_op=pj,
        energy_j=ops * pj * 1e-12,
        assumption=_ASSUMPTIONS[op_kind],
    )


def estimate_model_energy(model: Any) -> EnergyEstimate:
    """Energy per inference of a fitted model (:class:`~neurosim.RateMLP`, ``STDPNetwork``).

    Uses the model's ``n_ops_per_sample_`` (MACs of all weights for the MLP; mean synaptic
    events measured while labelling, re-presentations included, for the spiking network) and
    its ``op_kind``.
    """
    try:
        ops = model.n_ops_per_sample_
    except AttributeError as error:
        raise ValueError(
            f"{type(model).__name__} has no n_ops_per_sample_; fit it first"
        ) from error
    return energy_per_inference(ops, model.op_kind)
