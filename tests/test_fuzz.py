"""Bad input of every kind gets a clear exception or a documented, correct result.

Both models are exercised at the API boundary; nothing here may crash, hang or answer wrongly
in silence. The spiking model is trained with Brian2's runtime device at a tiny size (its
input checks run before any simulation).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from neurosim import RateMLP, STDPNetwork, load_digits_784

rng = np.random.default_rng(0)
GOOD_X = rng.random((6, 784)).astype(np.float32)
GOOD_Y = np.array([0, 1, 2, 0, 1, 2])

BAD_X = {
    "1-D": (np.zeros(784), "2D array"),
    "3-D": (np.zeros((2, 28, 28)), "dim 3"),
    "empty": (np.zeros((0, 784)), "0 sample"),
    "NaN": (np.full((2, 784), np.nan), "NaN"),
    "inf": (np.full((2, 784), np.inf), "infinity"),
    "strings": (np.array([["a"] * 784, ["b"] * 784], dtype=object), "could not convert"),
    "ragged": ([[0.0] * 784, [0.0] * 10], "inhomogeneous"),
    "too few features": (np.zeros((2, 100)), "100 features"),
}


@pytest.fixture(scope="module")
def mlp():
    return RateMLP(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(GOOD_X, GOOD_Y)


@pytest.fixture(scope="module")
def snn():
    X, y = load_digits_784("train")
    return STDPNetwork(n_neurons=4, device="runtime", chunk_size=3, random_state=0).fit(
        X[:3], y[:3]
    )


@pytest.mark.parametrize("case", sorted(BAD_X))
def test_bad_X_is_refused_by_predict(case, mlp, snn):
    X, message = BAD_X[case]
    for model in (mlp, snn):
        with pytest.raises(ValueError, match=message):
            model.predict(X)


@pytest.mark.parametrize("case", sorted(set(BAD_X) - {"too few features"}))
@pytest.mark.parametrize("make", [RateMLP, STDPNetwork], ids=["mlp", "snn"])
def test_bad_X_is_refused_by_fit(case, make):
    X, message = BAD_X[case]
    y = np.zeros(len(X) if hasattr(X, "__len__") else 1, dtype=int)
    with pytest.raises(ValueError, match=message):
        make(device="runtime").fit(X, y) if make is STDPNetwork else make().fit(X, y)


@pytest.mark.parametrize(
    ("pixels", "message"), [(-0.5, r"\[-0.5, -0.5\]"), (255.0, r"divide 0\.\.255"), (300.0, "300")]
)
def test_snn_refuses_pixels_outside_the_unit_interval(pixels, message, snn):
    X = np.full((2, 784), pixels)
    with pytest.raises(ValueError, match=message):
        snn.predict(X)
    with pytest.raises(ValueError, match=message):
        STDPNetwork(device="runtime").fit(X, [0, 1])


def test_mlp_accepts_any_finite_real_features(mlp):
    # Documented: the MLP takes real-valued features (negative or > 255 included), and
    # computes y = relu(x W1 + b1) W2 + b2 for them like for any other input.
    X = np.stack([np.full(784, -300.0), np.linspace(-1000.0, 1000.0, 784)])
    hidden = np.maximum(X @ mlp.coefs_[0] + mlp.intercepts_[0], 0.0)
    expected = hidden @ mlp.coefs_[1] + mlp.intercepts_[1]
    np.testing.assert_allclose(mlp.decision_function(X), expected, rtol=1e-4, atol=1e-3)
    assert mlp.predict(X).tolist() == mlp.classes_[expected.argmax(axis=1)].tolist()


@pytest.mark.parametrize("make", [RateMLP, STDPNetwork], ids=["mlp", "snn"])
def test_mismatched_lengths_and_missing_y(make):
    model = make(device="runtime") if make is STDPNetwork else make()
    with pytest.raises(ValueError, match="6 samples but y has 5"):
        model.fit(GOOD_X, GOOD_Y[:5])
    with pytest.raises(ValueError, match="requires y"):
        model.fit(GOOD_X, None)
    with pytest.raises(ValueError, match="Unknown label type|continuous"):
        model.fit(GOOD_X, np.linspace(0, 1, 6))


@pytest.mark.parametrize("make", [RateMLP, STDPNetwork], ids=["mlp", "snn"])
def test_unfitted_models_raise_not_fitted(make):
    with pytest.raises(NotFittedError):
        make().predict(GOOD_X)
    with pytest.raises(NotFittedError):
        make().save("never-written.npz")


def test_labels_unseen_in_training_count_as_errors_in_score(mlp):
    # predict can only answer known classes; score counts unknown true labels as wrong.
    y_unseen = np.full(len(GOOD_X), 9)
    assert mlp.score(GOOD_X, y_unseen) == 0.0


def test_partial_fit_refuses_labels_outside_the_first_classes(mlp):
    model = RateMLP(hidden_layer_sizes=(4,), random_state=0)
    model.partial_fit(GOOD_X, GOOD_Y)
    with pytest.raises(ValueError, match="not among the classes"):
        model.partial_fit(GOOD_X, GOOD_Y + 5)


def test_snn_with_one_sample_and_one_class_predicts_that_class():
    X, y = load_digits_784("train")
    model = STDPNetwork(n_neurons=3, device="runtime", chunk_size=2, random_state=0)
    model.fit(X[:1], np.array(["seven"]))
    assert model.classes_.tolist() == ["seven"]
    assert model.predict(X[1:2]).tolist() == ["seven"]


def test_mlp_predicts_very_large_batches_in_bounded_chunks(mlp, monkeypatch):
    rows_per_pass = []
    forward = mlp._net.forward

    def counting_forward(X):
        rows_per_pass.append(len(X))
        return forward(X)

    monkeypatch.setattr(mlp._net, "forward", counting_forward)
    X = np.random.default_rng(0).random((50_000, 784), dtype=np.float32)
    predictions = mlp.predict(X)
    assert sum(rows_per_pass) == 50_000 and max(rows_per_pass) <= 4096 < 50_000
    monkeypatch.undo()
    np.testing.assert_array_equal(predictions[-100:], mlp.predict(X[-100:]))
