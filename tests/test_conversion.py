"""Tests of ConvertedSNN: normalisation, rate code, reset, readouts, errors and persistence.

Networks are tiny and run on Brian2's runtime (numpy) device, except one comparison with the
compiled cpp_standalone build (a tiny architecture, compiled once per session).
"""

from __future__ import annotations

import warnings

import brian2 as b2
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from neurosim import ConvertedSNN, RateMLP, load_digits_784
from neurosim.conversion import CalibrationWarning
from neurosim.conversion.engine import IFEngine, simulate
from neurosim.io import ModelFileError, load_arrays, save_arrays

STEPS = 40


@pytest.fixture(autouse=True)
def build_cache(tmp_path_factory, monkeypatch):
    """Compiled builds go to one cache per test session, shared by its tests."""
    monkeypatch.setenv("NEUROSIM_BUILD_CACHE", str(tmp_path_factory.getbasetemp() / "builds"))


def mlp_with(weights: list[np.ndarray], biases: list[np.ndarray], activation="relu") -> RateMLP:
    """A fitted RateMLP whose weights and biases are replaced by the given ones."""
    n_in, n_out = weights[0].shape[0], weights[-1].shape[1]
    X = np.random.default_rng(0).random((4 * n_out, n_in))
    hidden = tuple(w.shape[1] for w in weights[:-1])
    mlp = RateMLP(hidden, activation=activation, max_iter=1, dtype="float64", random_state=0)
    mlp.fit(X, np.arange(4 * n_out) % n_out)
    for target, values in zip(mlp.coefs_ + mlp.intercepts_, weights + biases, strict=True):
        target[...] = values
    return mlp


@pytest.fixture(scope="module")
def small():
    """A 6-5-3 ReLU network with random weights and 150 calibration images."""
    rng = np.random.default_rng(1)
    mlp = mlp_with(
        [rng.normal(0, 0.5, (6, 5)), rng.normal(0, 0.5, (5, 3))],
        [rng.normal(0, 0.1, 5), rng.normal(0, 0.1, 3)],
    )
    return mlp, rng.random((150, 6))


def convert(mlp, X, **options) -> ConvertedSNN:
    options = {"device": "runtime", "n_steps": STEPS, "random_state": 0, **options}
    return ConvertedSNN.from_mlp(mlp, X, **options)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_784("train")
    X_test, y_test = load_digits_784("test")
    mlp = RateMLP(hidden_layer_sizes=(24,), max_iter=8, random_state=0).fit(X, y)
    return mlp, X, y, X_test[:60], y_test[:60]


# -- normalisation -----------------------------------------------------------------------------
@pytest.mark.parametrize("normalization", ["max", 90.0])
def test_normalisation_maps_the_calibration_activation_to_one_spike_per_step(small, normalization):
    mlp, X_cal = small
    snn = convert(mlp, X_cal, normalization=normalization)
    for a in snn.activations(X_cal):
        positive = a[a > 0]
        reference = positive.max() if normalization == "max" else np.percentile(positive, 90.0)
        assert reference == pytest.approx(1.0, abs=1e-12)
    # The image and hidden neuron of the largest activation: one spike in every step, the
    # maximum rate of 1 / dt = 1000 Hz.
    hidden = snn.activations(X_cal)[0]
    image, neuron = np.unravel_index(np.argmax(hidden), hidden.shape)
    steps, _, neurons = snn.record_activity(X_cal[[image]]).spikes["hidden1"]
    # (An activation at or above the scale saturates there; rounding may cost the first step.)
    fired = steps[neurons == neuron]
    assert np.array_equal(fired, np.arange(STEPS - len(fired), STEPS)) and len(fired) >= STEPS - 1


def test_a_converted_layer_fires_at_its_relu_rate_within_one_spike(small):
    mlp, X_cal = small
    snn = convert(mlp, X_cal, normalization=99.0)
    X = np.random.default_rng(2).random((12, 6))
    relu = np.clip(snn.activations(X)[0], 0.0, 1.0)  # spikes per step; at most one per step
    steps, image, neuron = snn.record_activity(X).spikes["hidden1"]
    rates = np.zeros_like(relu)
    np.add.at(rates, (image, neuron), 1.0 / STEPS)
    # Subtraction keeps the residual below the threshold: count = floor(STEPS * a).
    assert np.max(np.abs(rates - relu)) <= 1.0 / STEPS + 1e-9
    assert np.max(np.abs(rates - relu)) > 0  # not trivially equal: some quantisation shows


def test_reset_by_subtraction_conserves_the_residual_charge(small):
    mlp, X_cal = small
    X = X_cal[:8]
    kept = convert(mlp, X_cal, reset="subtract").record_activity(X)
    lost = convert(mlp, X_cal, reset="zero").record_activity(X)
    # Charge received = threshold x spikes + what is left on the membrane, after every step.
    np.testing.assert_allclose(
        kept.simulation.charge, kept.simulation.count + kept.v, rtol=0, atol=1e-9
    )
    # Reset to zero discards whatever the membrane holds at the reset (the residual, and the
    # spikes that arrived in the step of the spike, which may be inhibitory).
    missing = lost.simulation.charge - (lost.simulation.count + lost.v)
    assert np.abs(missing).max() > 0.1


# -- the estimator -----------------------------------------------------------------------------
def test_constant_current_conversion_agrees_with_the_ann(digits):
    mlp, X, _, X_test, y_test = digits
    snn = convert(mlp, X, n_steps=60)
    curve = snn.score_curve(X_test, y_test)
    ann = mlp.score(X_test, y_test)
    assert curve.steps.tolist() == list(range(1, 61)) and curve.dt_s == pytest.approx(1e-3)
    assert curve.accuracy["membrane"][-1] >= ann - 0.05
    assert curve.accuracy["membrane"][0] < curve.accuracy["membrane"][-1]  # evidence builds up
    assert np.all(np.diff(curve.synaptic_events) >= 0) and curve.macs == 784 * 24
    assert snn.score(X_test, y_test) == pytest.approx(curve.accuracy["membrane"][-1])
    agreement = np.mean(snn.predict(X_test) == mlp.predict(X_test))
    assert agreement >= 0.9
    assert snn.decision_function(X_test).shape == (len(X_test), 10)
    assert snn.n_ops_per_sample_ == pytest.approx(curve.synaptic_events[-1], rel=0.5)


def test_poisson_input_is_seeded_and_counts_its_spikes(digits):
    mlp, X, _, X_test, y_test = digits
    first = convert(mlp, X[:100], input_coding="poisson", random_state=3)
    again = convert(mlp, X[:100], input_coding="poisson", random_state=3)
    other = convert(mlp, X[:100], input_coding="poisson", random_state=4)
    curves = [m.score_curve(X_test[:20], y_test[:20]) for m in (first, again, other)]
    assert np.array_equal(curves[0].spikes["input"], curves[1].spikes["input"])
    assert not np.array_equal(curves[0].spikes["input"], curves[2].spikes["input"])
    # Each pixel fires with probability equal to its intensity (max_rate * dt = 1).
    expected = X_test[:20].sum(axis=1).mean() * STEPS
    assert curves[0].spikes["input"][-1] == pytest.approx(expected, rel=0.05)
    assert first.n_macs_per_sample_ == 0


def test_results_do_not_depend_on_how_images_are_laid_out(small):
    mlp, X_cal = small
    snn = convert(mlp, X_cal)
    X = X_cal[:11]
    layouts = [
        IFEngine(snn.layer_sizes_, input_coding="current", n_steps=STEPS, device="runtime", **kw)
        for kw in ({"copies": 1, "windows": 20}, {"copies": 2, "windows": 4})
    ]
    results = [
        simulate(engine, X, snn.weights_, snn.biases_, reset_zero=False, max_rate=1e3, seed=int)
        for engine in layouts
    ]
    for name in ("count", "charge", "spikes"):
        np.testing.assert_allclose(getattr(results[0], name), getattr(results[1], name))


def test_the_compiled_build_gives_the_runtime_devices_spikes(small):
    mlp, X_cal = small
    snn = convert(mlp, X_cal, copies=2, chunk_windows=3)
    X = X_cal[:9]
    compiled = snn.set_params(device="cpp_standalone").score_curve(X, np.zeros(9, dtype=int))
    runtime = snn.set_params(device="runtime").score_curve(X, np.zeros(9, dtype=int))
    for layer, spikes in runtime.spikes.items():
        np.testing.assert_array_equal(compiled.spikes[layer], spikes)
    np.testing.assert_allclose(compiled.synaptic_events, runtime.synaptic_events)


def test_conversion_leaves_the_users_brian2_session_as_it_was(small):
    mlp, X_cal = small
    b2.defaultclock.dt = 0.2 * b2.ms
    device = b2.get_device()
    try:
        convert(mlp, X_cal[:100]).predict(X_cal[:3])
        assert b2.get_device() is device and b2.defaultclock.dt == 0.2 * b2.ms
    finally:
        b2.defaultclock.dt = 0.1 * b2.ms


def test_save_load_round_trip(small, tmp_path):
    mlp, X_cal = small
    snn = convert(mlp, X_cal, normalization="max", output="spikes", reset="zero")
    path = snn.save(tmp_path / "snn.npz")
    loaded = ConvertedSNN.load(path)
    assert loaded.get_params() == snn.get_params()
    np.testing.assert_array_equal(loaded.scales_, snn.scales_)
    np.testing.assert_array_equal(
        loaded.decision_function(X_cal[:5]), snn.decision_function(X_cal[:5])
    )
    assert loaded.n_ops_per_sample_ == snn.n_ops_per_sample_ and loaded.history_ == []
    arrays, metadata = load_arrays(path)
    arrays["weights_1"] = arrays["weights_1"][:, :2]
    save_arrays(
        tmp_path / "bad.npz", arrays, {k: v for k, v in metadata.items() if "format" not in k}
    )
    with pytest.raises(ModelFileError, match="weights_1"):
        ConvertedSNN.load(tmp_path / "bad.npz")


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_saturating_units_are_refused_naming_relu(small, activation):
    mlp, X_cal = small
    other = mlp_with(
        [c.copy() for c in mlp.coefs_], [b.copy() for b in mlp.intercepts_], activation
    )
    with pytest.raises(ValueError, match="ReLU"):
        convert(other, X_cal)


def test_calibration_errors_and_warning(small):
    mlp, X_cal = small
    with pytest.raises(NotFittedError, match="not fitted"):
        convert(RateMLP(), X_cal)
    with pytest.raises(TypeError, match="RateMLP"):
        convert(object(), X_cal)
    with pytest.raises(ValueError, match=r"shape \(n_images, 6\)"):
        convert(mlp, X_cal[:, :5])
    with_nan = X_cal.copy()
    with_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        convert(mlp, with_nan)
    with pytest.raises(ValueError, match=r"pixel intensities in \[0, 1\]"):
        convert(mlp, X_cal * 255)
    with pytest.warns(CalibrationWarning, match="only 20 calibration images"):
        convert(mlp, X_cal[:20])


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("normalization", "median"),
        ("normalization", 0),
        ("normalization", 100.5),
        ("input_coding", "rate"),
        ("output", "votes"),
        ("reset", "none"),
        ("max_rate", 2000.0),
        ("n_steps", 0),
        ("copies", 0),
        ("device", "cuda_standalone"),
    ],
)
def test_bad_options_are_refused(small, option, value):
    mlp, X_cal = small
    with pytest.raises(ValueError, match=option):
        convert(mlp, X_cal, **{option: value})


def test_fit_is_not_offered(small):
    with pytest.raises(NotImplementedError, match="from_mlp"):
        ConvertedSNN().fit(small[1], np.zeros(len(small[1])))


def test_prediction_checks_its_input(small):
    mlp, X_cal = small
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)  # 150 images are enough
        snn = convert(mlp, X_cal)
    with pytest.raises(ValueError, match="6 features"):
        snn.predict(np.zeros((2, 7)))
    with pytest.raises(NotFittedError):
        ConvertedSNN().predict(X_cal[:2])


# -- the study ---------------------------------------------------------------------------------
@pytest.mark.slow  # three models, two compiled builds: minutes on a shared 2-core machine
def test_conversion_study_puts_three_models_on_the_same_axes(tmp_path):
    import json

    from studies import convert

    out = tmp_path / "convert"
    argv = ["--tiny", "--no-download", "--out", str(out), "--cache-dir", str(tmp_path / "cache")]
    with pytest.warns(CalibrationWarning):  # the tiny preset calibrates on 20 images
        results = convert.main(argv)
    assert json.loads((out / "results.json").read_text()) == results
    names = [m["name"] for m in results["models"]]
    assert names[0].startswith("ANN") and names[-1].startswith("STDP network N=4")
    assert names[1:3] == ["converted, current input", "converted, poisson input"]
    steps = convert.PRESETS["tiny"].n_steps
    for series in results["models"][1:3]:
        assert len(series["accuracy"]) == len(series["energy_uj"]) == steps
        assert np.all(np.diff(series["operations"]) >= 0) and series["energy_uj"][0] > 0
    assert results["normalization"] in convert.PRESETS["tiny"].normalizations
    assert [r["normalization"] for r in results["validation"]] == ["max", 99.9]
    assert set(results["figures"]) == {
        "accuracy_vs_cost",
        "raster_current",
        "raster_poisson",
        "rate_code",
    }
    for filename in results["figures"].values():
        assert (out / filename).read_bytes()[:4] == b"\x89PNG"
    report = (out / "report.md").read_text()
    assert "within 0.2 points of the ANN" in report and results["command"] in report


def test_steps_to_reach_is_the_step_from_which_the_accuracy_stays_above():
    from neurosim.conversion import ScoreCurve

    accuracy = {"membrane": np.array([0.1, 0.9, 0.5, 0.95, 0.96])}
    curve = ScoreCurve(np.arange(1, 6), 1e-3, accuracy, "membrane", {}, np.zeros(5), 0.0, 5, None)
    assert [curve.steps_to_reach(a) for a in (0.05, 0.9, 0.95, 0.97)] == [1, 4, 4, None]
