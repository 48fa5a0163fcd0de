"""The cost model: operation counts, cited hardware profiles and the energy of fitted models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from neurosim import RateMLP, STDPNetwork, load_digits_784
from neurosim.energy import (
    OPERATION_KINDS,
    PROFILES,
    SpikingActivity,
    estimate_model_energy,
    mlp_operations,
    operation_counts,
    spiking_operations,
)

# A network of 4 inputs and 3 neurons that fired, per example, 5 input, 2 excitatory and
# 1 inhibitory spikes over 2 windows of 10 steps (6 of them presenting the image), dt 1 ms.
SMALL = SpikingActivity(
    n_input=4,
    n_neurons=3,
    windows=2.0,
    input_spikes=5.0,
    excitatory_spikes=2.0,
    inhibitory_spikes=1.0,
    steps_per_window=10,
    presentation_steps=6,
    dt_s=1e-3,
)


def _counts(operations) -> dict[tuple[str, str], float]:
    return {(op.kind, op.what): op.count for op in operations}


def test_mlp_operations_per_layer():
    counts = _counts(mlp_operations((784, 256, 10)))
    assert counts == {
        ("multiply-accumulate", "layer 1 (784 -> 256)"): 784 * 256,
        ("weight read", "layer 1 (784 -> 256)"): 784 * 256 + 256,
        ("bias and activation", "layer 1 (784 -> 256)"): 256,
        ("multiply-accumulate", "layer 2 (256 -> 10)"): 2560,
        ("weight read", "layer 2 (256 -> 10)"): 2570,
        ("bias and activation", "layer 2 (256 -> 10)"): 10,
    }
    with pytest.raises(ValueError, match="layer_sizes"):
        mlp_operations((784,))


def test_spiking_operations_follow_fan_out_and_time_steps():
    counts = _counts(spiking_operations(SMALL))
    assert counts == {
        ("synaptic event", "input -> excitatory"): 5 * 3,
        ("synaptic event", "excitatory -> inhibitory"): 2,
        ("synaptic event", "inhibitory -> excitatory"): 1 * 2,
        ("weight read", "input -> excitatory (plastic weights)"): 15,
        ("spike message", "input layer"): 5,
        ("spike message", "excitatory layer"): 2,
        ("spike message", "inhibitory layer"): 1,
        ("neuron update", "excitatory layer"): 3 * 2 * 10,
        ("neuron update", "inhibitory layer"): 60,
        ("Poisson draw", "input layer"): 4 * 2 * 6,
    }
    learning = _counts(spiking_operations(SMALL, learning=True))
    added = {key: value for key, value in learning.items() if key not in counts}
    assert added == {
        ("synaptic weight update", "depression at input spikes"): 5 * 3,
        ("synaptic weight update", "potentiation at excitatory spikes"): 2 * 4,
        ("trace update", "decay: input traces, excitatory post1, post2 and threshold"): (4 + 9)
        * 20,
        ("trace update", "set at spikes: input trace; post1, post2, threshold"): 5 + 3 * 2,
        ("weight normalisation", "input -> excitatory, every window"): 4 * 3 * 2,
    }
    assert {op.kind for op in spiking_operations(SMALL, learning=True)} <= set(OPERATION_KINDS)


def test_paper_scale_counts():
    """N=100 with MNIST-like activity: neuron updates outnumber synaptic events."""
    activity = SpikingActivity(784, 100, 1.5, 2000.0, 12.0, 10.0, 1000, 700, 5e-4)
    counts = _counts(spiking_operations(activity))
    assert counts[("synaptic event", "input -> excitatory")] == 200_000
    assert counts[("synaptic event", "inhibitory -> excitatory")] == 990
    assert counts[("neuron update", "excitatory layer")] == 150_000
    assert counts[("Poisson draw", "input layer")] == 784 * 1.5 * 700
    assert activity.decision_latency_s == pytest.approx(0.5 * 0.5 + 0.35)


def test_decision_latency_counts_rejected_windows_then_one_presentation():
    assert SMALL.decision_latency_s == pytest.approx((10 + 6) * 1e-3)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"input_spikes": -1.0}, ">= 0"),
        ({"inhibitory_spikes": math.nan}, ">= 0"),
        ({"windows": 0.5}, "windows >= 1"),
        ({"presentation_steps": 11}, "presentation_steps"),
    ],
)
def test_invalid_activity(changes, message):
    fields = {**SMALL.__dict__, **changes}
    with pytest.raises(ValueError, match=message):
        SpikingActivity(**fields)


def _price(profile: str, learning: bool = False) -> float:
    operations = spiking_operations(SMALL, learning=learning)
    estimate = PROFILES[profile].charge(
        operations, estimator="test", execution="test", phase="test"
    )
    return estimate.energy_j * 1e12


def test_energy_by_hand_on_each_profile():
    neuron_update = 9 * 0.9 + 5 * 3.7 + 8 * 5.0  # forward Euler: adds, multiplies, state access
    cpu = (
        19 * 0.9  # synaptic events: one add each
        + 15 * 5.0  # plastic weights read from SRAM
        + 8 * (0.1 + 5.0)  # spike messages
        + 120 * neuron_update
        + 48 * (0.9 + 6 * 0.1 + 5.0)  # Poisson draws
    )
    assert _price("cpu-45nm") == pytest.approx(cpu)
    loihi = 19 * 23.6 + 8 * 1.7 + 120 * 81.0  # Poisson draws and weight reads not charged
    assert _price("loihi") == pytest.approx(loihi)
    assert _price("truenorth") == pytest.approx(19 * 26.0)  # all-in per synaptic event
    assert _price("loihi", learning=True) == pytest.approx(loihi + (15 + 8) * 120.0)
    learning_cpu = (
        (15 + 8) * (3 * 0.9 + 2 * 3.7 + 4 * 5.0)  # weight updates
        + (260 + 11) * (3.7 + 2 * 5.0)  # trace updates
        + 24 * (0.9 + 3.7 + 3 * 5.0)  # normalisation
    )
    assert _price("cpu-45nm", learning=True) == pytest.approx(cpu + learning_cpu)


def test_breakdown_shares_and_json():
    estimate = PROFILES["loihi"].charge(
        spiking_operations(SMALL), estimator="test", execution="event-driven", phase="inference"
    )
    by_kind = estimate.by_kind()
    assert list(by_kind) == ["synaptic event", "spike message", "neuron update"]
    assert sum(by_kind.values()) == pytest.approx(estimate.energy_j)
    assert estimate.share("neuron update") == pytest.approx(9720 / (19 * 23.6 + 13.6 + 9720))
    assert estimate.share("Poisson draw") == 0.0 and estimate.count("Poisson draw") == 48
    record = json.loads(json.dumps(estimate.as_dict()))
    assert record["energy_uj"] == pytest.approx(estimate.energy_uj)
    draw = next(line for line in record["lines"] if line["kind"] == "Poisson draw")
    assert draw["pj_each"] is None and draw["energy_j"] == 0 and draw["note"]


def test_every_profile_figure_carries_a_source():
    assert set(PROFILES) == {"cpu-45nm", "loihi", "truenorth"}
    citations = {"cpu-45nm": "Horowitz", "loihi": "Davies", "truenorth": "Merolla"}
    for name, profile in PROFILES.items():
        assert profile.mode in ("clock-driven", "event-driven") and profile.execution
        assert set(profile.figures) <= set(OPERATION_KINDS)
        for kind, figure in profile.figures.items():
            assert citations[name] in figure.source and "20" in figure.source, (name, kind)
            assert figure.note, (name, kind)
            if figure.pj is None:
                assert figure.note.startswith("not charged"), (name, kind)
        record = json.loads(json.dumps(profile.as_dict()))
        assert all(f["source"] for f in record["figures"].values())
    assert PROFILES["cpu-45nm"].mode == "clock-driven"
    loihi = {kind: figure.pj for kind, figure in PROFILES["loihi"].figures.items()}
    assert (loihi["synaptic event"], loihi["neuron update"]) == (23.6, 81.0)
    assert (loihi["synaptic weight update"], loihi["spike message"]) == (120.0, 1.7)
    assert "pre-silicon" in PROFILES["loihi"].figures["synaptic event"].source
    assert PROFILES["truenorth"].figures["synaptic event"].pj == 26.0
    cpu = PROFILES["cpu-45nm"].figures
    assert cpu["multiply-accumulate"].pj == pytest.approx(3.7 + 0.9)
    assert cpu["weight read"].pj == 5.0 and "640" in cpu["weight read"].note


@pytest.fixture(scope="module")
def tiny_mlp():
    X, y = load_digits_784("train")
    return RateMLP(hidden_layer_sizes=(16,), max_iter=1, random_state=0).fit(X[:50], y[:50])


def test_energy_of_a_fitted_mlp(tiny_mlp):
    estimate = estimate_model_energy(tiny_mlp)  # cpu-45nm by default
    macs, units = 784 * 16 + 16 * 10, 16 + 10
    assert estimate.count("multiply-accumulate") == macs
    assert estimate.energy_j * 1e12 == pytest.approx(
        macs * 4.6 + (macs + units) * 5.0 + units * 1.8
    )
    assert estimate.execution == "dense" and estimate.phase == "inference"
    assert estimate.estimator == "RateMLP" and estimate.profile == "cpu-45nm"
    for profile in ("loihi", "truenorth"):
        with pytest.raises(ValueError, match="no figure for 'multiply-accumulate'"):
            estimate_model_energy(tiny_mlp, profile=profile)
    with pytest.raises(ValueError, match="spiking network only"):
        estimate_model_energy(tiny_mlp, learning=True)
    with pytest.raises(ValueError, match="profile must be one of"):
        estimate_model_energy(tiny_mlp, profile="gpu")


def test_unfitted_and_unknown_models_fail_clearly():
    with pytest.raises(ValueError, match="not fitted"):
        estimate_model_energy(RateMLP())
    with pytest.raises(ValueError, match="not fitted"):
        estimate_model_energy(STDPNetwork(n_neurons=3), activity=SMALL)
    with pytest.raises(TypeError, match="no cost model for LogisticRegression"):
        operation_counts(LogisticRegression())


def test_spiking_network_needs_its_own_activity():
    snn = STDPNetwork(n_neurons=3)
    snn.n_features_in_, snn.assignments_ = 4, np.zeros(3, dtype=np.int64)  # as if fitted
    with pytest.raises(ValueError, match="SpikingActivity.measure"):
        estimate_model_energy(snn)
    other = SpikingActivity(**{**SMALL.__dict__, "n_neurons": 5})
    with pytest.raises(ValueError, match="5 neurons"):
        estimate_model_energy(snn, activity=other)
    with pytest.raises(ValueError, match="does not learn"):
        estimate_model_energy(snn, "truenorth", activity=SMALL, learning=True)
    learning = estimate_model_energy(snn, "loihi", activity=SMALL, learning=True)
    assert learning.phase == "learning" and learning.execution == "event-driven"
    assert learning.energy_j > estimate_model_energy(snn, "loihi", activity=SMALL).energy_j
