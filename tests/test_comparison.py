"""The comparison of the two models: presets, evaluation, summaries and firing statistics."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim import RateMLP, STDPNetwork, load_digits_784
from neurosim.comparison import (
    COMPARISON_PRESETS,
    comparison_models,
    curve_points,
    evaluate,
    hidden_activity,
    measure_firing_statistics,
    record_activity,
    summary_row,
)
from neurosim.experiment import fit_or_load


def test_evaluate_and_summary_of_the_mlp():
    X, y = load_digits_784("train")
    X, y = X[:400], y[:400]
    mlp = RateMLP(hidden_layer_sizes=(16,), max_iter=5, learning_rate=0.01, random_state=0)
    fit = fit_or_load(mlp, X, y, X_val=X[:50], y_val=y[:50])
    evaluation = evaluate(fit.model, X, y)
    assert 0.5 < evaluation.accuracy <= 1
    assert evaluation.energy.ops_per_inference == 784 * 16 + 16 * 10
    assert evaluation.energy.energy_j == pytest.approx((784 * 16 + 160) * 4.6e-12)
    assert 0 < evaluation.active_fraction < 1 and evaluation.spikes_per_inference is None
    assert evaluation.seconds_per_image > 0 and len(evaluation.y_pred) == len(y)
    assert evaluation.counts is None
    row = summary_row("MLP", fit, evaluation)
    assert row.n_train == len(X) and row.examples_seen == 5 * len(X)
    assert row.labels_for_learning.startswith("all 400") and row.uses_labels_for_learning
    assert row.op_kind == "multiply-accumulate" and row.pj_per_op == pytest.approx(4.6)
    assert row.energy_per_inference_j == evaluation.energy.energy_j
    curve = curve_points(fit.model.history_)
    assert curve["examples_seen"] == [400, 800, 1200, 1600, 2000] and len(curve["accuracy"]) == 5


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
    assert evaluation.energy.op_kind == "synaptic event"


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
