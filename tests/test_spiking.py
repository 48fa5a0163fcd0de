"""Tests of the Diehl & Cook spiking network: rule, protocol, readout and the estimator.

Engine-level tests use Brian2's runtime (numpy) device at tiny sizes; one module-scoped model
is trained with the compiled cpp_standalone engine (compiled once, cached on disk).
"""

from __future__ import annotations

import sys

import brian2 as b2
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from neurosim import STDPNetwork, load_digits_784
from neurosim.io import ModelFileError
from neurosim.spiking.brian2_internals import isolated_device
from neurosim.spiking.build import COMPILER_FLAGS, build_cache_dir
from neurosim.spiking.engine import STDPEngine
from neurosim.spiking.model import namespace, refractory_condition, stdp_synapse_equations
from neurosim.spiking.params import DiehlCookParams, preset
from neurosim.spiking.readout import (
    assign_neurons,
    class_scores,
    count_features,
    fit_logistic,
    fit_logistic_path,
    linear_scores,
)


@pytest.fixture(autouse=True)
def build_cache(tmp_path_factory, monkeypatch):
    """Compiled builds go to one cache per test session, shared by its tests."""
    monkeypatch.setenv("NEUROSIM_BUILD_CACHE", str(tmp_path_factory.getbasetemp() / "builds"))


def initial_state(n_input: int, n: int, params: DiehlCookParams, seed: int = 0) -> dict:
    model = STDPNetwork(n_neurons=n, random_state=seed)
    model.n_features_in_ = n_input
    model.seed_ = seed
    return model._initial_state()


@pytest.mark.parametrize("layer", ["exc", "inh"])
@pytest.mark.parametrize("period_ms", [5.0, 2.0, 2.2, 2.3, 1.0])
def test_refractory_condition_blocks_the_same_steps_as_brian2s_duration(layer, period_ms):
    """The plain time comparison (vectorisable) equals Brian2's whole-step refractoriness."""
    params = DiehlCookParams(**{f"refractory_{layer}": period_ms * b2.ms})
    spikes = {}
    with isolated_device("runtime"):
        b2.prefs.codegen.target = "numpy"
        for form, refractory in (
            ("duration", f"refractory_{layer}"),
            ("condition", refractory_condition(layer)),
        ):
            group = b2.NeuronGroup(
                3,
                "dv/dt = drive / ms : 1 (unless refractory)\ndrive : 1",
                threshold="v > 1",
                reset="v = 0",
                refractory=refractory,
                namespace=namespace(params),
                dt=params.dt,
            )
            group.drive = [0.9, 2.0, 7.0]  # firing every few steps, at the refractory limit
            monitor = b2.SpikeMonitor(group)
            b2.Network(group, monitor).run(30 * b2.ms)
            spikes[form] = (np.asarray(monitor.i), np.asarray(monitor.t / b2.ms))
    assert len(spikes["duration"][0]) > 10
    np.testing.assert_array_equal(spikes["condition"][0], spikes["duration"][0])
    np.testing.assert_array_equal(spikes["condition"][1], spikes["duration"][1])


# -- the STDP rule -----------------------------------------------------------------------------
def weight_change(
    pre_ms: list[float], post_ms: list[float], input_delays: bool, plastic: float = 1.0
) -> float:
    """Change of one synapse (w = 0.5) for spikes forced at the given times."""
    with isolated_device("runtime"):
        b2.prefs.codegen.target = "numpy"
        b2.defaultclock.dt = 0.5 * b2.ms
        return _weight_change(pre_ms, post_ms, input_delays, plastic)


def _weight_change(pre_ms, post_ms, input_delays, plastic) -> float:
    p = DiehlCookParams()
    ns = {
        name: getattr(p, name)
        for name in ("tau_pre", "tau_post1", "tau_post2", "nu_pre", "nu_post", "w_max")
    } | {"ge_scale_exc": 1.0}

    def spike_at(times):
        return " or ".join(f"abs(t - {time}*ms) < 0.25*ms" for time in times)

    inp = b2.NeuronGroup(
        1,
        "dummy : 1" if input_delays else "dpre/dt = -pre / tau_pre : 1",
        threshold=spike_at(pre_ms),
        reset="" if input_delays else "pre = 1",
        method="exact",
        namespace=ns,
    )
    post = b2.NeuronGroup(
        1,
        """dpost1/dt = -post1 / tau_post1 : 1
        dpost2/dt = -post2 / tau_post2 : 1
        ge : 1
        plastic : 1 (shared)""",
        threshold=spike_at(post_ms),
        reset="post1 = 1\npost2 = 1",
        method="exact",
        namespace=ns,
    )
    post.plastic = plastic
    model, on_pre, on_post = stdp_synapse_equations(input_delays)
    syn = b2.Synapses(inp, post, model, on_pre=on_pre, on_post=on_post, namespace=ns)
    syn.connect()
    syn.w = 0.5
    b2.Network(inp, post, syn).run(60 * b2.ms)
    return float(syn.w[0]) - 0.5


@pytest.mark.parametrize("input_delays", [False, True])
def test_pre_before_post_potentiates(input_delays):
    # post at 5 ms primes post2; pre at 10 ms; post at 15 ms potentiates by nu_post*pre*post2
    change = weight_change([10.0], [5.0, 15.0], input_delays)
    expected = -1e-4 * np.exp(-5 / 20) + 1e-2 * np.exp(-5 / 20) * np.exp(-10 / 40)
    assert change > 0
    assert change == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("input_delays", [False, True])
def test_post_before_pre_depresses(input_delays):
    change = weight_change([15.0], [5.0, 10.0], input_delays)
    assert change < 0
    assert change == pytest.approx(-1e-4 * np.exp(-5 / 20), rel=1e-6)


@pytest.mark.parametrize("input_delays", [False, True])
def test_no_learning_when_not_plastic(input_delays):
    # both pairings that change the weight above leave it alone with learning switched off
    assert weight_change([10.0], [5.0, 15.0], input_delays, plastic=0.0) == 0.0
    assert weight_change([15.0], [5.0, 10.0], input_delays, plastic=0.0) == 0.0


# -- the presentation protocol (runtime device, tiny network) ---------------------------------
N_TINY = 6


@pytest.fixture(scope="module")
def digits():
    return load_digits_784("train")


def tiny_engine(**changes) -> STDPEngine:
    params = preset(N_TINY).replace(**changes)
    return STDPEngine(784, N_TINY, params, device="runtime", chunk_windows=3)


@pytest.mark.parametrize("w_sum_target", [78.0, 50.0])
def test_normalisation_rescales_each_neurons_inputs_to_the_target_sum(digits, w_sum_target):
    engine = tiny_engine(w_sum_target=w_sum_target)
    state = initial_state(784, N_TINY, engine.params)
    state, result, _ = engine.run_chunk(state, digits[0][:2], intensity=2.0, plastic=True, seed=1)
    column_sums = state["w"].reshape(784, N_TINY).sum(axis=0)
    np.testing.assert_allclose(column_sums, w_sum_target, rtol=1e-9)
    assert result.n_completed == 2


def test_without_early_stop_the_network_idles_after_the_last_example(digits):
    # The CUDA device cannot stop a run early; the same chunk must give the same results.
    images = digits[0][:2]
    results = []
    for early_stop in (True, False):
        engine = STDPEngine(
            784, N_TINY, preset(N_TINY), device="runtime", chunk_windows=5, early_stop=early_stop
        )
        state = initial_state(784, N_TINY, engine.params)
        results.append(engine.run_chunk(state, images, intensity=2.0, plastic=True, seed=3))
    (state_a, a, _), (state_b, b, _) = results
    assert a.n_completed == b.n_completed == 2 and a.next_intensity == b.next_intensity
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.example, b.example)
    np.testing.assert_array_equal(a.accepted, b.accepted)
    # idle windows are extra rest: weights keep their values (up to rounding in the
    # normalisation) and thresholds decay by exp(-idle time / tau_theta)
    np.testing.assert_allclose(state_a["w"], state_b["w"], rtol=1e-12)
    idle_s = (5 - len(a.example)) * 0.5
    np.testing.assert_allclose(
        state_b["exc_theta"], state_a["exc_theta"] * np.exp(-idle_s / 1e4), rtol=1e-9
    )


def test_silence_triggers_representation_with_higher_intensity():
    engine = tiny_engine(max_intensity=4.0)
    state = initial_state(784, N_TINY, engine.params)
    blank = np.zeros((1, 784))
    _, result, _ = engine.run_chunk(state, blank, intensity=2.0, plastic=True, seed=1)
    np.testing.assert_array_equal(result.intensity, [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(result.accepted, [False, False, True])  # cap reached
    assert result.counts.sum() == 0
    assert result.n_completed == 1 and result.next_intensity == 2.0


def test_theta_rises_with_spikes_when_learning_and_is_frozen_otherwise(digits):
    engine = tiny_engine()
    state = initial_state(784, N_TINY, engine.params)
    images = digits[0][:2]
    learned, result, _ = engine.run_chunk(state, images, intensity=2.0, plastic=True, seed=3)
    spikes = result.counts[result.accepted].sum(axis=0)
    assert spikes.sum() > 0
    rise = learned["exc_theta"] - state["exc_theta"]
    assert np.all(rise[spikes > 0] > 0)
    frozen, result, _ = engine.run_chunk(learned, images, intensity=2.0, plastic=False, seed=3)
    assert result.counts.sum() > 0
    np.testing.assert_array_equal(frozen["exc_theta"], learned["exc_theta"])
    np.testing.assert_array_equal(frozen["w"], learned["w"])


def test_frozen_engine_gives_the_same_spikes_as_the_plastic_engine_with_learning_off(digits):
    plastic = tiny_engine()
    learned, _, _ = plastic.run_chunk(
        initial_state(784, N_TINY, plastic.params),
        digits[0][:3],
        intensity=2.0,
        plastic=True,
        seed=3,
    )
    frozen = STDPEngine(
        784, N_TINY, plastic.params, device="runtime", chunk_windows=3, learning=False
    )
    images = digits[0][3:5]
    _, expected, _ = plastic.run_chunk(learned, images, intensity=2.0, plastic=False, seed=4)
    _, result, _ = frozen.run_chunk(learned, images, intensity=2.0, plastic=False, seed=4)
    for field in ("counts", "example", "intensity", "input_spikes", "inh_spikes", "accepted"):
        np.testing.assert_array_equal(getattr(result, field), getattr(expected, field))
    with pytest.raises(ValueError, match="frozen"):
        frozen.run_chunk(learned, images, intensity=2.0, plastic=True, seed=4)


def test_each_copy_runs_the_protocol_on_its_own_examples(digits):
    params = preset(N_TINY).replace(max_intensity=4.0)
    engine = STDPEngine(
        784, N_TINY, params, device="runtime", chunk_windows=4, learning=False, copies=3
    )
    state = initial_state(784, N_TINY, params)
    blank, images = np.zeros((1, 784)), digits[0][:3]
    starts = [np.array([3.0]), np.array([2.0, 3.0, 2.0])]  # 2nd example resumes at 3
    silent, busy = engine.run_copies(state, [blank, images], starts, seed=1)  # 3rd copy unused
    # copy 0: a blank image is re-presented at intensity 3, then accepted at the cap (4)
    np.testing.assert_array_equal(silent.intensity, [3.0, 4.0])
    np.testing.assert_array_equal(silent.accepted, [False, True])
    assert silent.counts.sum() == 0 and silent.input_spikes.sum() == 0
    assert silent.n_completed == 1 and silent.next_intensity == params.intensity_start
    # copy 1: its own examples in order, each accepted or re-presented one step brighter
    assert busy.intensity[0] == starts[1][0]
    assert busy.counts.sum() > 0 and busy.input_spikes.sum() > 0
    assert busy.n_completed == int(busy.accepted.sum()) <= 3
    for k in range(1, len(busy.example)):
        if busy.accepted[k - 1]:
            assert busy.example[k] == busy.example[k - 1] + 1
            assert busy.intensity[k] == starts[1][busy.example[k]]
        else:
            assert busy.example[k] == busy.example[k - 1]
            assert busy.intensity[k] == busy.intensity[k - 1] + 1
    np.testing.assert_array_equal(
        busy.accepted,
        (busy.counts.sum(axis=1) >= params.min_spikes) | (busy.intensity >= params.max_intensity),
    )


def test_pooled_inhibition_gives_the_same_spikes_as_all_to_all_synapses(digits):
    results = []
    for pooled in (False, True):
        engine = STDPEngine(
            784, N_TINY, preset(N_TINY), device="runtime", chunk_windows=3, pooled_inhibition=pooled
        )
        state = initial_state(784, N_TINY, engine.params)
        results.append(engine.run_chunk(state, digits[0][:3], intensity=2.0, plastic=True, seed=2))
    (synaptic, expected, _), (pooled, result, _) = results
    assert expected.inh_spikes.sum() > 0  # inhibition took part
    np.testing.assert_array_equal(result.counts, expected.counts)
    for key in ("w", "exc_v", "exc_gi", "exc_theta"):
        np.testing.assert_array_equal(pooled[key], synaptic[key])


# -- readout -----------------------------------------------------------------------------------
def test_assignment_picks_the_class_with_the_highest_mean_response():
    counts = np.array([[5, 0, 1, 0], [3, 0, 1, 0], [0, 4, 2, 0], [1, 0, 9, 0]], dtype=float)
    labels = np.array([0, 0, 1, 2])
    assignments = assign_neurons(counts, labels, n_classes=3)
    np.testing.assert_array_equal(assignments, [0, 1, 2, -1])  # silent neuron unassigned


def test_voting_averages_over_each_class_neurons():
    assignments = np.array([0, 0, 1, -1])
    counts = np.array([[2, 4, 1, 50], [0, 0, 7, 50]], dtype=float)
    scores = class_scores(counts, assignments, n_classes=3)
    np.testing.assert_allclose(scores, [[3.0, 1.0, 0.0], [0.0, 7.0, 0.0]])
    assert np.argmax(scores, axis=1).tolist() == [0, 1]


def test_assignment_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="matching labels"):
        assign_neurons(np.zeros((3, 2)), np.zeros(4, dtype=int), 2)


def test_count_features_are_each_neurons_share_of_the_spikes():
    counts = np.array([[2, 6, 0], [0, 0, 0], [1, 1, 2]], dtype=float)
    np.testing.assert_allclose(
        count_features(counts), [[0.25, 0.75, 0.0], [0.0, 0.0, 0.0], [0.25, 0.25, 0.5]]
    )


def test_linear_readout_separates_classes_and_never_picks_an_absent_one():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 2, 3], 20)  # class 1 has no labelling examples
    counts = rng.poisson(1.0, (60, 8)).astype(float)
    counts[np.arange(60), labels] += 6  # each class drives "its" neuron
    coef, intercept = fit_logistic(count_features(counts), labels, 4, C=10.0)
    scores = linear_scores(count_features(counts), coef, intercept)
    assert coef.shape == (4, 8) and intercept[1] == -np.inf
    assert np.mean(np.argmax(scores, axis=1) == labels) > 0.95


def test_linear_readout_with_two_classes_keeps_scikit_learns_decision():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    features, labels = rng.random((30, 4)), np.repeat([0, 1], 15)
    coef, intercept = fit_logistic(features, labels, 2, C=1.0)
    expected = LogisticRegression(C=1.0, max_iter=1000).fit(features, labels)
    scores = linear_scores(features, coef, intercept)
    np.testing.assert_allclose(scores[:, 1] - scores[:, 0], expected.decision_function(features))


def test_regularisation_path_gives_the_separate_fits_in_the_order_asked():
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1, 2], 30)
    features = rng.random((90, 5))
    features[np.arange(90), labels] += 0.5
    path = fit_logistic_path(features, labels, 3, [10.0, 0.1])
    for C, (coef, intercept) in zip([10.0, 0.1], path, strict=True):
        alone_coef, alone_intercept = fit_logistic(features, labels, 3, C=C)
        np.testing.assert_allclose(coef, alone_coef, atol=1e-2)
        np.testing.assert_allclose(intercept, alone_intercept, atol=1e-2)
    assert np.abs(path[0][0]).sum() > np.abs(path[1][0]).sum()  # weaker penalty, larger weights


def test_linear_readout_needs_two_classes():
    with pytest.raises(ValueError, match="at least two classes"):
        fit_logistic(np.ones((3, 2)), np.zeros(3, dtype=int), 2, C=1.0)


# -- the estimator with the compiled engine ---------------------------------------------------
N_SMALL = 30


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    builds = tmp_path_factory.getbasetemp() / "builds"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEUROSIM_BUILD_CACHE", str(builds))
        X, y = load_digits_784("train")
        model = STDPNetwork(n_neurons=N_SMALL, chunk_size=250, random_state=7)
        model.fit(X, y)
    return model


def test_small_network_clearly_beats_chance(trained):
    X_test, y_test = load_digits_784("test")
    accuracy = trained.score(X_test, y_test)
    assert accuracy > 0.6, accuracy  # chance is 0.10; measured 0.83 with this seed


def test_builds_use_the_engine_compiler_flags_and_keep_the_user_preference(trained):
    makefile = build_cache_dir() / trained._engine().build_key() / "makefile"
    flags = makefile.read_text().split()
    assert all(flag in flags for flag in COMPILER_FLAGS)
    assert "-fno-finite-math-only" not in flags
    assert "-fno-finite-math-only" in b2.prefs.codegen.cpp.extra_compile_args_gcc  # Brian2's


def test_fitted_attributes(trained):
    assert trained.weights_.shape == (784, N_SMALL)
    p = trained.network_params()
    np.testing.assert_allclose(trained.weights_.sum(axis=0), p.w_sum_target, rtol=1e-6)
    assert trained.theta_.shape == (N_SMALL,)
    assert trained.theta_.max() > float(p.theta_init)  # thresholds rose with spikes
    assert trained.assignments_.shape == (N_SMALL,)
    assert trained.n_ops_per_sample_ > 784  # at least the input spikes fan out
    record = trained.history_[-1]
    assert record["examples_seen"] == len(load_digits_784("train")[0])
    assert 0 <= record["retry_fraction"] < 1 and record["wall_time"] > 0


def test_save_load_round_trip_reproduces_predictions(trained, tmp_path):
    X_test, _ = load_digits_784("test")
    path = trained.save(tmp_path / "snn.npz")
    loaded = STDPNetwork.load(path)
    np.testing.assert_array_equal(loaded.weights_, trained.weights_)
    np.testing.assert_array_equal(loaded.assignments_, trained.assignments_)
    np.testing.assert_array_equal(loaded.predict(X_test[:60]), trained.predict(X_test[:60]))


@pytest.fixture(scope="module")
def label_counts(trained, digits):
    """Spike counts of the trained network on 400 training and 200 test images."""
    X_test, y_test = load_digits_784("test")
    X, y = digits
    return trained.spike_counts(X[:400]), y[:400], trained.spike_counts(X_test[:200]), y_test[:200]


def test_linear_readout_on_measured_counts_beats_chance(trained, label_counts):
    import copy

    counts, y, test_counts, y_test = label_counts
    vote = copy.deepcopy(trained).fit_readout(counts, y)
    linear = copy.deepcopy(trained).set_params(readout="linear").fit_readout(counts, y)
    assert linear.readout_coef_.shape == (10, N_SMALL)
    np.testing.assert_array_equal(linear.assignments_, vote.assignments_)
    vote_accuracy = np.mean(vote.predict_from_counts(test_counts) == y_test)
    linear_accuracy = np.mean(linear.predict_from_counts(test_counts) == y_test)
    assert linear_accuracy > 0.6, (linear_accuracy, vote_accuracy)  # chance is 0.10


def test_linear_readout_round_trips_through_save_and_load(digits, tmp_path):
    X, y = digits
    X_test, _ = load_digits_784("test")
    model = STDPNetwork(n_neurons=N_SMALL, chunk_size=250, random_state=7, readout="linear")
    model.fit(X[:100], y[:100])
    loaded = STDPNetwork.load(model.save(tmp_path / "linear.npz"))
    assert loaded.readout == "linear"
    np.testing.assert_array_equal(loaded.readout_coef_, model.readout_coef_)
    np.testing.assert_array_equal(loaded.readout_intercept_, model.readout_intercept_)
    np.testing.assert_array_equal(loaded.predict(X_test[:60]), model.predict(X_test[:60]))
    rewrite_model_file(tmp_path / "linear.npz", lambda a, m: a.pop("readout_coef_"))
    with pytest.raises(ModelFileError, match="readout_coef_"):
        STDPNetwork.load(tmp_path / "linear.npz")


def test_bad_readouts_fail_clearly(trained, label_counts):
    import copy

    counts, y, _, _ = label_counts
    with pytest.raises(ValueError, match="readout must be one of 'vote', 'linear', got 'softmax'"):
        STDPNetwork(readout="softmax").fit(np.zeros((2, 784)), [0, 1])
    with pytest.raises(ValueError, match="readout_C must be a positive number"):
        STDPNetwork(readout="linear", readout_C=0).fit(np.zeros((2, 784)), [0, 1])
    model = copy.deepcopy(trained)
    with pytest.raises(ValueError, match="readout must be one of"):
        model.set_params(readout="svm").predict_from_counts(counts)
    with pytest.raises(NotFittedError, match="linear readout is not fitted"):
        model.set_params(readout="linear").predict_from_counts(counts)
    with pytest.raises(ValueError, match=r"counts must have shape \(n_samples, 30\)"):
        model.fit_readout(counts[:, :5], y)


def test_load_rejects_a_model_of_another_kind(trained, tmp_path):
    from neurosim import RateMLP

    path = trained.save(tmp_path / "snn.npz")
    with pytest.raises(ModelFileError, match="STDPNetwork"):
        RateMLP.load(path)


def test_same_seed_gives_the_same_network(digits):
    X, y = digits
    first = STDPNetwork(n_neurons=N_SMALL, chunk_size=250, random_state=3).fit(X[:80], y[:80])
    second = STDPNetwork(n_neurons=N_SMALL, chunk_size=250, random_state=3).fit(X[:80], y[:80])
    np.testing.assert_array_equal(first.weights_, second.weights_)
    np.testing.assert_array_equal(first.theta_, second.theta_)


def test_partial_fit_continues_learning(trained, digits):
    from sklearn.base import clone

    X, y = digits
    model = clone(trained).set_params(random_state=7)
    model.partial_fit(X[:50], y[:50])
    seen = model.examples_seen_
    before = model.weights_.copy()
    model.partial_fit(X[50:100], y[50:100])
    assert model.examples_seen_ == seen + 50
    assert not np.array_equal(model.weights_, before)


def test_errors(trained):
    with pytest.raises(NotFittedError):
        STDPNetwork(n_neurons=5).predict(np.zeros((1, 784)))
    with pytest.raises(ValueError, match=r"\[0, 1\].*255"):
        trained.predict(np.full((2, 784), 200.0))
    with pytest.raises(ValueError, match="784 features"):
        trained.predict(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="NaN"):
        trained.predict(np.full((2, 784), np.nan))
    with pytest.raises(ValueError, match="unknown network parameters"):
        STDPNetwork(params={"nonsense": 1}).network_params()
    with pytest.raises(ValueError, match="device"):
        STDPNetwork(device="gpu").fit(np.zeros((2, 784)), [0, 1])


def test_cuda_device_without_brian2cuda_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "brian2cuda", None)  # as if not installed
    with pytest.raises(ImportError, match=r"neurosim\[gpu\].*brian2cuda"):
        STDPNetwork(device="cuda_standalone").fit(np.zeros((2, 784)), [0, 1])


def test_layer_activity_tallies_every_layer(trained):
    X_test, _ = load_digits_784("test")
    activity = trained.layer_activity(X_test[:20])
    np.testing.assert_array_equal(activity["counts"], trained.spike_counts(X_test[:20]))
    assert activity["counts"].shape == (20, N_SMALL)
    assert np.all(activity["windows"] >= 1) and np.all(activity["input"] > 0)
    # the accepted window's spikes are part of the example's tally over all its windows
    assert np.all(activity["excitatory"] >= activity["counts"].sum(axis=1))
    expected = (
        activity["input"] * N_SMALL
        + activity["excitatory"]
        + activity["inhibitory"] * (N_SMALL - 1)
    )
    np.testing.assert_allclose(activity["synaptic_events"], expected)
    # every excitatory spike drives its inhibitory partner (w_exc_inh = 10.4) to fire
    assert activity["inhibitory"].sum() > 0.5 * activity["excitatory"].sum()
    # only the input neurons of non-blank pixels draw random numbers
    np.testing.assert_array_equal(activity["drawing_inputs"], (X_test[:20] > 0).sum(axis=1))
    assert np.all(activity["drawing_inputs"] < X_test.shape[1])


def rewrite_model_file(path, change):
    """Load a model file's arrays and metadata, apply ``change``, save them back."""
    from neurosim.io import load_arrays, save_arrays

    arrays, metadata = load_arrays(path)
    change(arrays, metadata)
    for key in ("format", "format_version"):
        metadata.pop(key)
    save_arrays(path, arrays, metadata)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a, m: a.pop("state_w"), "state_w is missing"),
        (lambda a, m: a.__setitem__("state_exc_theta", np.zeros(3)), "state_exc_theta.*shape"),
        (lambda a, m: a.pop("assignments_"), "assignments_"),
        (lambda a, m: m["attributes"].pop("seed_"), "seed_"),
        (lambda a, m: m.__setitem__("estimator", "RateMLP"), "not a STDPNetwork"),
    ],
    ids=["missing weights", "wrong theta shape", "missing assignments", "missing seed", "kind"],
)
def test_tampered_model_files_are_refused(trained, tmp_path, change, message):
    path = trained.save(tmp_path / "snn.npz")
    rewrite_model_file(path, change)
    with pytest.raises(ModelFileError, match=message):
        STDPNetwork.load(path)


def test_validation_accuracy_is_recorded_at_the_chosen_interval(digits):
    X, y = digits
    X_val, y_val = load_digits_784("test")
    model = STDPNetwork(n_neurons=N_SMALL, chunk_size=250, validation_interval=250, random_state=1)
    model.fit(X[:500], y[:500], X_val=X_val[:100], y_val=y_val[:100])
    measured = [h for h in model.history_ if h["val_accuracy"] is not None]
    seen = [h["examples_seen"] for h in measured]
    assert seen and seen[0] >= 250 and seen[-1] == 500
    assert all(h["val_accuracy"] is None for h in model.history_ if h["examples_seen"] < 250)
    assert all(0.0 <= h["val_accuracy"] <= 1.0 for h in measured)


def test_euler_option_runs_the_same_protocol(digits):
    engine = tiny_engine(integration="euler")
    state = initial_state(784, N_TINY, engine.params)
    state, result, _ = engine.run_chunk(state, digits[0][:2], intensity=2.0, plastic=True, seed=1)
    assert result.n_completed == 2 and result.counts.sum() > 0
    np.testing.assert_allclose(state["w"].reshape(784, N_TINY).sum(axis=0), 78.0, rtol=1e-9)


def user_brian2_script() -> np.ndarray:
    """A user's own runtime network (groups, synapses, a monitor), run with Brian2's defaults."""
    source = b2.NeuronGroup(2, "dv/dt = (1.2 - v) / (10*ms) : 1", threshold="v > 1", reset="v = 0")
    target = b2.NeuronGroup(2, "dv/dt = -v / (10*ms) : 1")
    synapses = b2.Synapses(source, target, on_pre="v_post += 0.5")
    synapses.connect()
    monitor = b2.StateMonitor(target, "v", record=True)
    b2.run(50 * b2.ms)
    return np.array(monitor.v)


def test_a_fit_and_predict_leave_the_users_brian2_session_as_it_was(digits):
    b2.start_scope()
    b2.defaultclock.dt = 0.2 * b2.ms
    before = user_brian2_script()
    device, flags = b2.get_device(), list(b2.prefs.codegen.cpp.extra_compile_args_gcc)
    target = b2.prefs.codegen.target
    model = STDPNetwork(n_neurons=N_SMALL, chunk_size=250, random_state=0)
    model.fit(digits[0][:5], digits[1][:5]).predict(digits[0][:2])
    assert b2.get_device() is device and b2.prefs.codegen.target == target
    assert b2.defaultclock.dt == 0.2 * b2.ms
    assert list(b2.prefs.codegen.cpp.extra_compile_args_gcc) == flags
    b2.start_scope()
    np.testing.assert_array_equal(user_brian2_script(), before)
    b2.defaultclock.dt = 0.1 * b2.ms


# -- charge per spike and the original preset ----------------------------------------------------
def _charge_of_one_spike(params: DiehlCookParams, conductance: str) -> float:
    """Charge that one spike of weight 1 delivers to an excitatory neuron integrated with
    ``params.integration`` (the integral of the conductance v sees), relative to ``tau``."""
    tau = {"ge": params.tau_ge, "gi": params.tau_gi}[conductance]
    with isolated_device("runtime"):
        b2.prefs.codegen.target = "numpy"
        # v integrates the conductance (nearly linearly: v stays far from e_rev)
        group = b2.NeuronGroup(
            1,
            """dv/dt = (g * (e_rev - v) - v) / tau_m : 1
            dg/dt = -g / tau : 1""",
            method=params.integration,
            namespace={"e_rev": 1e9, "tau_m": 1e12 * b2.ms, "tau": tau},
            dt=params.dt,
        )
        group.g = params.conductance_scale("exc")[conductance]
        b2.Network(group).run(40 * tau)
        # v = e_rev / tau_m * (integral of g dt), relative to the continuous model's tau
        return float(group.v[0]) / 1e9 * 1e12 / float(tau / b2.ms)


@pytest.mark.parametrize("conductance", ["ge", "gi"])
@pytest.mark.parametrize("integration", ["euler", "exponential_euler"])
@pytest.mark.parametrize("matched", [False, True])
def test_a_spike_delivers_the_charge_the_parameters_state(conductance, integration, matched):
    params = DiehlCookParams(integration=integration, matched_charge=matched)
    expected = params.charge_per_spike("exc")[conductance]
    # (1e-3: the exact exponential of a huge reversal potential loses some digits)
    assert _charge_of_one_spike(params, conductance) == pytest.approx(expected, rel=1e-3)
    if integration == "exponential_euler" and not matched:
        assert expected == pytest.approx({"ge": 1.2707, "gi": 1.1302}[conductance], abs=1e-4)
    else:
        assert expected == 1.0


def test_the_original_preset_follows_the_brian1_code():
    original = preset(100, "original")
    assert original.integration == "euler" and original.w_inh_exc == 17.0
    assert not original.hold_refractory_exc and original.count_previous_rest
    assert STDPNetwork(100, preset="original")._input_delays()
    assert not STDPNetwork(100)._input_delays()
    with pytest.raises(ValueError, match="preset must be one of"):
        STDPNetwork(10, preset="paper").network_params()
    with pytest.raises(ValueError, match="True or False"):
        STDPNetwork(10, params={"matched_charge": "no"}).network_params()


def test_the_original_preset_learns_and_evaluates_with_input_delays(digits):
    X, y = digits
    model = STDPNetwork(
        N_TINY, preset="original", device="runtime", chunk_size=4, n_label=4, random_state=0
    ).fit(X[:4], y[:4])
    delays = model.state_["delay"]
    assert delays.shape == (784 * N_TINY,) and 0 < delays.max() <= 0.010
    assert model.spike_counts(X[4:6]).shape == (2, N_TINY)
    np.testing.assert_array_equal(model.state_["delay"], delays)  # evaluation leaves them
