"""Operation counts to energy: the per-operation constants and their use."""

from __future__ import annotations

import math

import pytest

from neurosim.energy import (
    ENERGY_SOURCE,
    FP32_ADD_PJ,
    FP32_MAC_PJ,
    PJ_PER_OP,
    energy_per_inference,
    estimate_model_energy,
)


def test_constants_follow_horowitz_2014():
    assert FP32_MAC_PJ == pytest.approx(3.7 + 0.9)
    assert PJ_PER_OP == {"multiply-accumulate": FP32_MAC_PJ, "synaptic event": FP32_ADD_PJ}
    assert (
        "Horowitz" in ENERGY_SOURCE and "ISSCC 2014" in ENERGY_SOURCE and "45 nm" in ENERGY_SOURCE
    )


def test_mlp_energy_is_macs_times_4_6_pj():
    macs = 784 * 256 + 256 * 10
    estimate = energy_per_inference(macs, "multiply-accumulate")
    assert estimate.energy_j == pytest.approx(macs * 4.6e-12)
    assert estimate.energy_uj == pytest.approx(0.935014)
    assert "multiply" in estimate.assumption and estimate.source == ENERGY_SOURCE


def test_a_synaptic_event_costs_one_add():
    estimate = energy_per_inference(1_000_000, "synaptic event")
    assert estimate.energy_j == pytest.approx(0.9e-6)
    assert "accumulate" in estimate.assumption
    record = estimate.as_dict()
    assert record["energy_uj"] == pytest.approx(0.9) and record["op_kind"] == "synaptic event"


def test_model_energy_uses_its_operation_count_and_kind():
    class Fitted:
        op_kind = "synaptic event"
        n_ops_per_sample_ = 2e5

    assert estimate_model_energy(Fitted()).energy_j == pytest.approx(2e5 * 0.9e-12)

    class Unfitted:
        op_kind = "multiply-accumulate"

    with pytest.raises(ValueError, match="fit it first"):
        estimate_model_energy(Unfitted())


@pytest.mark.parametrize(
    ("ops", "kind", "message"),
    [(10, "flop", "op_kind"), (-1, "synaptic event", ">= 0"), (math.nan, "synaptic event", ">= 0")],
)
def test_invalid_inputs(ops, kind, message):
    with pytest.raises(ValueError, match=message):
        energy_per_inference(ops, kind)
