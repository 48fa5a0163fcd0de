"""The cost model: operation counts, cited hardware profiles and the energy of fitted models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from neurosim import ConvertedSNN, RateMLP, STDPNetwork, load_digits_784
from neurosim.energy import (
    OPERATION_KINDS,
    PROFILES,
    ConvertedActivity,
    SpikingActivity,
    converted_operations,
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
    # only non-blank pixels draw (about 150 of MNIST's 784)
    sparse = SpikingActivity(**{**activity.__dict__, "drawing_inputs": 150.0})
    assert _counts(spiking_operations(sparse))[("Poisson draw", "input layer")] == 150 * 1.5 * 700
    with pytest.raises(ValueError, match="drawing_inputs"):
        SpikingActivity(**{**activity.__dict__, "drawing_inputs": 785.0})


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


# -- the converted network ---------------------------------------------------------------------
# A 784-16-10 converted network that fired, per image over 20 steps, 30 hidden spikes (each
# reaching the 10 output neurons); its output is read from the membrane (its spikes unsent).
CONVERTED = ConvertedActivity(
    layer_sizes=(784, 16, 10),
    input_coding="current",
    steps=20,
    dt_s=1e-3,
    spikes={"hidden1": 30.0},
    fan_outs={"hidden1": 10},
)


@pytest.fixture(scope="module")
def tiny_converted(tiny_mlp, tmp_path_factory):
    """tiny_mlp converted (runtime device, 20 steps) and its score curve on 12 digits."""
    X, y = load_digits_784("test")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEUROSIM_BUILD_CACHE", str(tmp_path_factory.mktemp("builds")))
        snn = ConvertedSNN.from_mlp(
            tiny_mlp, load_digits_784("train")[0][:100], device="runtime", n_steps=20,
            random_state=0,
        )  # fmt: skip
        return snn, snn.score_curve(X[:12], y[:12])


def test_converted_operations_by_hand():
    counts = _counts(converted_operations(CONVERTED))
    current = "input current (784 -> 16, once per image)"
    assert counts == {
        ("multiply-accumulate", current): 784 * 16,
        ("weight read", current): 784 * 16 + 16,
        ("spike message", "hidden1 layer"): 30,
        ("synaptic event", "hidden1 -> next layer (10 synapses per spike)"): 300,
        ("weight read", "hidden1 -> next layer (10 synapses per spike)"): 300,
        ("integrate-and-fire update", "hidden and output neurons, every step"): 26 * 20,
    }
    poisson = ConvertedActivity(
        (784, 16, 10), "poisson", 20, 1e-3, {"input": 500.0, "hidden1": 30.0},
        {"input": 16, "hidden1": 10},
    )  # fmt: skip
    counts = _counts(converted_operations(poisson))
    assert counts[("Poisson draw", "input layer")] == 784 * 20
    assert counts[("synaptic event", "input -> next layer (16 synapses per spike)")] == 8000
    assert ("multiply-accumulate", current) not in counts
    assert CONVERTED.decision_latency_s == pytest.approx(0.02)
    with pytest.raises(ValueError, match="name the layers"):
        ConvertedActivity((784, 16, 10), "current", 20, 1e-3, {"hidden1": 1.0}, {})


def test_energy_of_a_converted_network_by_hand(tiny_converted):
    snn, curve = tiny_converted
    activity = ConvertedActivity.from_score_curve(snn, curve)
    hidden = float(curve.spikes["hidden1"][-1])
    assert activity.spikes == {"hidden1": pytest.approx(hidden)}  # the membrane readout
    assert activity.fan_outs == {"hidden1": 10} and activity.steps == 20
    macs, events, updates = 784 * 16, hidden * 10, (16 + 10) * 20
    if_update = 2 * 0.9 + 3 * 5.0  # add and threshold test; v and current read, v written
    cpu = estimate_model_energy(snn, "cpu-45nm", activity=activity)
    assert cpu.count("synaptic event") == pytest.approx(events)
    assert cpu.count("integrate-and-fire update") == updates
    assert cpu.energy_j * 1e12 == pytest.approx(
        macs * 4.6  # the input current: multiply-accumulates
        + (macs + 16) * 5.0  # its weights and biases read
        + events * (0.9 + 5.0)  # synaptic events, each with its weight read
        + hidden * (0.1 + 5.0)  # spike messages
        + updates * if_update
    )
    assert cpu.execution == "clock-driven" and cpu.estimator == "ConvertedSNN"
    host = macs * 4.6 + (macs + 16) * 5.0  # the input current, off the chips
    loihi = estimate_model_energy(snn, "loihi", activity=activity)
    assert loihi.energy_j * 1e12 == pytest.approx(
        host + events * 23.6 + hidden * 1.7 + updates * 81.0
    )
    assert "input current on the host (cpu-45nm)" in loihi.execution
    assert loihi.lines[0].note.startswith("computed off the chip") and "Horowitz" in (
        loihi.lines[0].source
    )
    truenorth = estimate_model_energy(snn, "truenorth", activity=activity)
    assert truenorth.energy_j * 1e12 == pytest.approx(host + events * 26.0)
    # an inference stopped earlier: fewer spikes and updates
    early = ConvertedActivity.from_score_curve(snn, curve, step=5)
    assert early.steps == 5 and early.spikes["hidden1"] <= hidden
    assert operation_counts(snn, early)[-1].count == 26 * 5


def test_converted_network_needs_its_own_activity(tiny_converted):
    snn, curve = tiny_converted
    with pytest.raises(ValueError, match="ConvertedActivity.from_score_curve"):
        estimate_model_energy(snn)
    other = ConvertedActivity(**{**CONVERTED.__dict__, "layer_sizes": (784, 32, 10)})
    with pytest.raises(ValueError, match=r"layers \(784, 32, 10\)"):
        estimate_model_energy(snn, activity=other)
    with pytest.raises(ValueError, match="does not learn"):
        estimate_model_energy(snn, "loihi", activity=CONVERTED, learning=True)
    with pytest.raises(ValueError, match="step must be in 1..20"):
        ConvertedActivity.from_score_curve(snn, curve, step=21)
