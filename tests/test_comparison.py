"""The comparison of the two models: presets, evaluation, summaries and firing statistics."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurosim import ConvertedSNN, RateMLP, STDPNetwork, load_digits_784
from neurosim.comparison import (
    COMPARISON_PRESETS,
    comparison_models,
    converted_model,
    curve_points,
    evaluate,
    hidden_activity,
    measure_firing_statistics,
    profiles_for,
    record_activity,
    stable_vote_times,
    summary_row,
)
from neurosim.energy import PROFILES, ConvertedActivity, SpikingActivity, estimate_model_energy
from neurosim.experiment import FitResult, fit_or_load
from neurosim.spiking.network import ActivityRecording


def test_evaluate_and_summary_of_the_mlp():
    X, y = load_digits_784("train")
    X, y = X[:400], y[:400]
    mlp = RateMLP(hidden_layer_sizes=(16,), max_iter=5, learning_rate=0.01, random_state=0)
    fit = fit_or_load(mlp, X, y, X_val=X[:50], y_val=y[:50])
    evaluation = evaluate(fit.model, X, y)
    assert 0.5 < evaluation.accuracy <= 1
    assert set(evaluation.energy) == {"cpu-45nm"} and evaluation.learning_energy == {}
    cpu = evaluation.energy["cpu-45nm"]
    assert cpu.count("multiply-accumulate") == 784 * 16 + 16 * 10
    assert cpu.energy_j == pytest.approx(estimate_model_energy(fit.model).energy_j)
    assert 0 < evaluation.active_fraction < 1 and evaluation.spikes_per_inference is None
    assert evaluation.seconds_per_image > 0 and len(evaluation.y_pred) == len(y)
    assert evaluation.counts is None
    row = summary_row("MLP", fit, evaluation)
    assert row.n_train == len(X) and row.examples_seen == 5 * len(X)
    assert row.labels_for_learning.startswith("all 400") and row.uses_labels_for_learning
    assert row.op_kind == "multiply-accumulate" and row.ops_per_inference == 784 * 16 + 160
    assert row.energy_j == {"cpu-45nm": cpu.energy_j} and row.decision_latency_s is None
    curve = curve_points(fit.model.history_)
    assert curve["examples_seen"] == [400, 800, 1200, 1600, 2000] and len(curve["accuracy"]) == 5


def test_the_converted_mlp_is_evaluated_and_summarised_from_its_spikes(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSIM_BUILD_CACHE", str(tmp_path / "builds"))
    X, y = load_digits_784("train")
    X_test, y_test = load_digits_784("test")
    mlp = RateMLP(hidden_layer_sizes=(16,), max_iter=5, learning_rate=0.01, random_state=0)
    mlp_fit = fit_or_load(mlp, X[:400], y[:400], cache_dir=tmp_path)
    config = dataclasses.replace(COMPARISON_PRESETS["tiny"], n_calibration=200)
    name, fit = converted_model(config, mlp_fit, X[:400])
    snn = fit.model
    assert name == "converted SNN 784-16-10" and isinstance(snn, ConvertedSNN)
    assert fit.n_train == snn.n_calibration_ == 200 and snn.normalization == 90.0  # defaults
    evaluation = evaluate(snn, X_test[:30], y_test[:30])
    np.testing.assert_array_equal(evaluation.y_pred, snn.predict(X_test[:30]))
    assert evaluation.accuracy == pytest.approx(np.mean(evaluation.y_pred == y_test[:30]))
    assert set(evaluation.energy) == set(PROFILES) == set(profiles_for(snn))
    assert evaluation.learning_energy == {} and evaluation.active_fraction is None
    activity = evaluation.activity
    assert isinstance(activity, ConvertedActivity) and activity.steps == snn.n_steps
    assert evaluation.spikes_per_inference == pytest.approx(activity.spikes["hidden1"])
    cpu = evaluation.energy["cpu-45nm"]
    assert cpu.energy_j == pytest.approx(estimate_model_energy(snn, activity=activity).energy_j)
    with pytest.raises(ValueError, match="source"):
        summary_row(name, fit, evaluation)
    row = summary_row(name, fit, evaluation, source=mlp_fit)
    assert row.operations == {
        "multiply-accumulate": 784 * 16,
        "synaptic event": pytest.approx(activity.spikes["hidden1"] * 10),
    }
    assert row.ops_per_inference == pytest.approx(sum(row.operations.values()))
    assert row.decision_latency_s == pytest.approx(snn.n_steps * 1e-3)
    assert row.examples_seen == 5 * 400 and row.n_train == 400 and row.n_calibration == 200
    assert row.train_seconds == pytest.approx(mlp_fit.fit_seconds + fit.fit_seconds)
    assert row.conversion_seconds == fit.fit_seconds and row.uses_labels_for_learning
    assert "backpropagation" in row.labels_for_learning and "calibrate" in row.labels_for_learning


def test_hidden_activity_counts_nonzero_relu_units():
    model = RateMLP(hidden_layer_sizes=(2,), max_iter=1, random_state=0)
    model.fit(np.eye(4), [0, 1, 0, 1])
    model.coefs_[0][...] = [[1, -1], [1, 1], [-1, -1], [0, 0]]
    model.intercepts_[0][...] = 0
    # rows: (1, -1) -> 1 active, (1, 1) -> 2, (-1, -1) -> 0, (0, 0) -> 0: 3 of 8
    assert hidden_activity(model, np.eye(4)) == pytest.approx(3 / 8)


@pytest.fixture(scope="module")
def tiny_snn():
    """A 10-neuron network fitted on 20 digits with the runtime device, and 8 test images."""
    X, y = load_digits_784("train")
    snn = STDPNetwork(n_neurons=10, device="runtime", chunk_size=20, random_state=0, verbose=0)
    snn.fit(X[:20], y[:20])
    X_test, y_test = load_digits_784("test")
    return snn, X_test[:8], y_test[:8]


def test_evaluate_the_spiking_network_simulates_once_and_votes_like_predict(tiny_snn):
    snn, X, y = tiny_snn
    evaluation = evaluate(snn, X, y)
    counts = snn.spike_counts(X)  # learning is frozen: the same counts again
    np.testing.assert_array_equal(evaluation.counts, counts)
    np.testing.assert_array_equal(snn.predict_from_counts(counts), snn.predict(X))
    np.testing.assert_array_equal(evaluation.y_pred, snn.predict(X))
    assert evaluation.accuracy == pytest.approx(np.mean(evaluation.y_pred == y))
    assert evaluation.spikes_per_inference == pytest.approx(counts.sum(axis=1).mean())


def test_energy_of_the_fitted_spiking_network_comes_from_its_spikes(tiny_snn):
    snn, X, y = tiny_snn
    evaluation = evaluate(snn, X, y)
    layers = snn.layer_activity(X)  # learning is frozen: the same spikes again
    activity = evaluation.activity
    assert activity == SpikingActivity.from_layer_activity(snn, layers)
    assert activity.input_spikes == pytest.approx(layers["input"].mean())
    assert activity.windows == pytest.approx(layers["windows"].mean()) and activity.windows >= 1
    assert set(evaluation.energy) == set(PROFILES) == set(profiles_for(snn))
    assert set(evaluation.learning_energy) == {"cpu-45nm", "loihi"}  # TrueNorth does not learn
    cpu = evaluation.energy["cpu-45nm"]
    # the cost model's synaptic events are the network's own count
    assert cpu.count("synaptic event") == pytest.approx(layers["synaptic_events"].mean())
    assert cpu.count("neuron update") == pytest.approx(2 * 10 * 1000 * activity.windows)
    # every window of an example draws for each of its non-blank pixels in each of 700 steps
    draws = np.mean(layers["drawing_inputs"] * layers["windows"]) * 700
    assert cpu.count("Poisson draw") == pytest.approx(draws)
    assert draws < 784 * 700 * activity.windows  # blank pixels draw nothing
    assert cpu.execution == "clock-driven" and evaluation.energy["loihi"].execution == (
        "event-driven"
    )
    # a clock-driven simulation: the work done every time step dominates
    assert cpu.share("neuron update") + cpu.share("Poisson draw") > 0.5
    assert evaluation.learning_energy["loihi"].energy_j > evaluation.energy["loihi"].energy_j
    fit = FitResult(model=snn, key="tiny", cached=False, n_train=20, fit_seconds=1.0)
    row = summary_row("SNN", fit, evaluation)
    assert row.ops_per_inference == cpu.count("synaptic event")
    assert row.energy_j == {name: e.energy_j for name, e in evaluation.energy.items()}
    assert row.decision_latency_s == pytest.approx(activity.decision_latency_s)
    assert row.decision_latency_s >= 0.35


def test_predict_from_counts_votes_with_the_assigned_neurons(tiny_snn):
    snn, _, _ = tiny_snn
    counts = np.zeros((2, snn.n_neurons))
    for row, label in enumerate(snn.classes_[:2]):
        first = np.flatnonzero(snn.assignments_ == np.searchsorted(snn.classes_, label))
        if len(first):
            counts[row, first[0]] = 5.0
            assert snn.predict_from_counts(counts[row : row + 1])[0] == label


def test_record_activity_traces_the_most_active_neurons(tiny_snn):
    snn, X, _ = tiny_snn
    counts = np.zeros((2, snn.n_neurons))
    counts[:, [7, 2, 5]] = [[9, 1, 4], [9, 1, 4]]
    recording = record_activity(snn, X[:2], counts)
    assert recording.neurons.tolist() == [7, 5, 2]
    assert recording.v.shape == (3, len(recording.trace_t))
    assert recording.layer_sizes == {"input": 784, "excitatory": 10, "inhibitory": 10}
    assert {w[1] for w in recording.windows} == {0, 1}
    assert recording.v_thresh == pytest.approx(-0.052) and snn.device == "runtime"
    stable = stable_vote_times(snn, recording)
    assert len(stable) == 2 and all(t is None or 0 <= t < 0.35 for t in stable)


class _VoteByNeuron:
    """A readout stand-in: neuron k votes for class k, ties go to the lower class."""

    n_neurons = 2

    def predict_from_counts(self, counts):
        return np.argmax(counts, axis=1)


def test_stable_vote_time_is_the_spike_after_which_the_vote_holds():
    # example 0: shown once (window at 0 s), spikes of neurons 0, 1, 1, 0 (votes 0, 0, 1, 0);
    # example 1: rejected at 0.5 s, accepted at 1.0 s without spikes.
    times = np.array([0.01, 0.02, 0.03, 0.05, 0.6, 0.40])
    neurons = np.array([0, 1, 1, 0, 1, 1])
    empty = np.zeros((0, 0))
    recording = ActivityRecording(
        spikes={"excitatory": (times, neurons)},
        layer_sizes={},
        windows=[(0.0, 0, 2.0, True), (0.5, 1, 2.0, False), (1.0, 1, 3.0, True)],
        window_s=0.5,
        presentation_s=0.35,
        dt_s=5e-4,
        trace_t=np.zeros(0),
        v=empty,
        theta=empty,
        neurons=np.zeros(0),
        v_thresh=-0.052,
        theta_offset=0.02,
    )
    assert stable_vote_times(_VoteByNeuron(), recording) == [pytest.approx(0.05), None]


def test_firing_statistics_by_class(tiny_snn):
    snn, X, y = tiny_snn
    stats = measure_firing_statistics(snn, X, y)
    assert stats.classes == [c for c in snn.classes_.tolist() if c in y]
    assert set(stats.spikes_per_image) == {"input", "excitatory", "inhibitory"}
    assert all(len(v) == len(stats.classes) for v in stats.spikes_per_image.values())
    assert all(v > 0 for v in stats.spikes_per_image["input"])
    assert len(stats.neuron_rates_hz) == snn.n_neurons and stats.windows_per_image >= 1
    assert 0 <= stats.re_presented_fraction <= 1 and stats.presentation_s == pytest.approx(0.35)


def test_comparison_models_follow_the_preset():
    quick = COMPARISON_PRESETS["quick"]
    models = comparison_models(quick, n_train=3000, n_full=59500)
    names = list(models)
    assert names[0] == "STDP SNN N=100" and len(names) == 3
    snn, which = models[names[0]]
    assert isinstance(snn, STDPNetwork) and which == "subset" and snn.n_neurons == 100
    mlp, which = models[names[2]]
    assert isinstance(mlp, RateMLP) and which == "full" and mlp.max_iter == quick.mlp_full_epochs
    assert "59,500 ex." in names[2]
    # no second MLP when the whole split is no larger than the subset
    assert len(comparison_models(quick, n_train=3000, n_full=3000)) == 2
