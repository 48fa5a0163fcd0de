"""The building blocks of studies: dataset choice, model cache, evaluation and summaries."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim import RateMLP, STDPNetwork, load_digits_784
from neurosim.data import DatasetNotFoundError
from neurosim.experiment import (
    COMPARISON_PRESETS,
    cache_key,
    comparison_models,
    curve_points,
    evaluate,
    fit_or_load,
    hidden_activity,
    load_dataset,
    measure_firing_statistics,
    record_activity,
    split_dataset,
    split_holdout,
    subset,
    summary_row,
)


def test_auto_falls_back_to_digits_and_says_why(no_mnist, offline_fetch):
    dataset = load_dataset("auto", fetch=offline_fetch)
    assert dataset.key == "digits" and "NOT MNIST" in dataset.name
    assert "MNIST is not available" in dataset.notice
    assert "NEUROSIM_DATA" in dataset.notice and "data_home" in dataset.notice
    assert "network" in dataset.notice
    assert dataset.X_train.shape[1] == 784 and len(dataset.X_test) > 0
    info = dataset.info()
    assert info["notice"] == dataset.notice and info["n_features"] == 784


def test_auto_without_downloads_falls_back_too(no_mnist):
    assert load_dataset("auto", download=False).key == "digits"


def test_mnist_never_falls_back(no_mnist, offline_fetch):
    with pytest.raises(DatasetNotFoundError):
        load_dataset("mnist", fetch=offline_fetch)


def test_injected_loader_and_unknown_choice():
    calls = []

    def fake_loader(split, data_home, *, download):
        calls.append((split, data_home, download))
        X = np.zeros((20 if split == "train" else 10, 784), dtype=np.float32)
        return X, np.arange(len(X)) % 10

    dataset = load_dataset(
        "mnist", data_home="/somewhere", download=False, mnist_loader=fake_loader
    )
    assert dataset.key == "mnist" and dataset.notice is None and "/somewhere" in dataset.source
    assert calls == [("train", "/somewhere", False), ("test", "/somewhere", False)]
    with pytest.raises(ValueError, match="dataset must be"):
        load_dataset("cifar")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_784("train")
    return X[:400], y[:400]


def test_subset_and_holdout_are_stratified_and_seeded(digits):
    X, y = digits
    X_sub, y_sub = subset(X, y, 100, random_state=0)
    assert len(X_sub) == 100 and np.bincount(y_sub).min() == 10
    np.testing.assert_array_equal(subset(X, y, 100, random_state=0)[1], y_sub)
    assert subset(X, y, None, 0)[0] is X and subset(X, y, 10_000, 0)[0] is X
    X_rest, y_rest, X_out, y_out = split_holdout(X, y, 50, random_state=0)
    assert len(X_out) == 50 and len(X_rest) == 350 and set(np.unique(y_out)) == set(range(10))
    assert len(split_holdout(X, y, 0, random_state=0)[2]) == 0
    assert len(split_holdout(X, y, 3, random_state=0)[2]) == 3  # fewer than the classes


def small_mlp(**changes):
    params = dict(hidden_layer_sizes=(16,), max_iter=2, random_state=0)
    return RateMLP(**{**params, **changes})


def test_cache_key_tracks_parameters_data_and_seed_but_not_verbosity(digits):
    X, y = digits
    key = cache_key(small_mlp(), X, y)
    assert key.startswith("RateMLP-")
    assert cache_key(small_mlp(verbose=1), X, y) == key
    assert cache_key(small_mlp(random_state=1), X, y) != key
    assert cache_key(small_mlp(max_iter=3), X, y) != key
    assert cache_key(small_mlp(), X[:300], y[:300]) != key
    assert cache_key(small_mlp(), X, y, X[:10], y[:10]) != key


def test_fit_or_load_reuses_the_cached_model(digits, tmp_path):
    X, y = digits
    first = fit_or_load(small_mlp(), X, y, X_val=X[:50], y_val=y[:50], cache_dir=tmp_path)
    assert not first.cached and first.path.exists() and first.fit_seconds > 0
    assert first.compile_seconds is None  # nothing to compile for the MLP
    second = fit_or_load(small_mlp(verbose=1), X, y, X_val=X[:50], y_val=y[:50], cache_dir=tmp_path)
    assert second.cached and second.key == first.key
    assert second.fit_seconds == pytest.approx(first.fit_seconds)
    assert second.model.verbose == 1
    np.testing.assert_array_equal(second.model.predict(X), first.model.predict(X))
    assert second.model.history_ == first.model.history_
    third = fit_or_load(
        small_mlp(), X, y, X_val=X[:50], y_val=y[:50], cache_dir=tmp_path, use_cache=False
    )
    assert not third.cached


def test_a_corrupt_cache_entry_is_retrained(digits, tmp_path):
    X, y = digits
    first = fit_or_load(small_mlp(), X, y, cache_dir=tmp_path)
    first.path.write_bytes(b"garbage")
    again = fit_or_load(small_mlp(), X, y, cache_dir=tmp_path)
    assert not again.cached


def test_evaluate_and_summary_of_the_mlp(digits):
    X, y = digits
    fit = fit_or_load(small_mlp(max_iter=5, learning_rate=0.01), X, y, X_val=X[:50], y_val=y[:50])
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


def test_fit_or_load_resumes_an_interrupted_training(tmp_path, monkeypatch):
    from neurosim import RateMLP, load_digits_784
    from neurosim.experiment import fit_or_load

    X, y = load_digits_784("train")
    config = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    expected = RateMLP(**config).fit(X, y)
    real_epoch = RateMLP._run_epoch
    calls = {"n": 0}

    def interrupt_second_epoch(self, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_epoch(self, *args)

    monkeypatch.setattr(RateMLP, "_run_epoch", interrupt_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        fit_or_load(RateMLP(**config), X, y, cache_dir=tmp_path, resume=True)
    assert len(list(tmp_path.glob("*.ckpt.npz"))) == 1
    result = fit_or_load(RateMLP(**config), X, y, cache_dir=tmp_path, resume=True)
    assert calls["n"] == 2 + 2  # epoch 1 was kept; epochs 2 and 3 ran after resuming
    assert result.model.checkpoint is None and not list(tmp_path.glob("*.ckpt.npz"))
    np.testing.assert_array_equal(result.model.coefs_[0], expected.coefs_[0])


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


def test_split_dataset_reports_its_sizes():
    data = load_dataset("digits")
    splits = split_dataset(data, n_train=100, n_val=50, n_test=40, seed=0)
    pool = len(data.X_train) - 50  # the validation images are held out of the pool
    assert splits.sizes() == {"n_train": 100, "n_train_full": pool, "n_val": 50, "n_test": 40}
    everything = split_dataset(data, n_train=None, n_val=0, n_test=None, seed=0).sizes()
    assert everything["n_val"] == 0 and everything["n_train"] == len(data.X_train)
