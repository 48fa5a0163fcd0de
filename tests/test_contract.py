"""The estimator contract both models share: seeds, classes, keyword-only parameters, feature
names and history records in model files, and scikit-learn's estimator checks."""

from __future__ import annotations

import copy
import inspect
import json
import typing

import numpy as np
import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from neurosim import RateMLP, STDPNetwork, load_digits_784
from neurosim.base import resolve_seed
from neurosim.rate.mlp import EpochRecord
from neurosim.spiking.network import ChunkRecord


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_784("train")
    return X[:200], y[:200]


@pytest.fixture(scope="module")
def mlp(digits):
    return RateMLP(hidden_layer_sizes=(8,), max_iter=2, random_state=np.random.RandomState(0)).fit(
        *digits
    )


@pytest.fixture(scope="module")
def snn(digits):
    """A tiny network on Brian2's runtime device (no compiler), two examples seen."""
    X, y = digits
    model = STDPNetwork(
        n_neurons=4, device="runtime", chunk_size=2, random_state=np.random.default_rng(0)
    )
    return model.partial_fit(X[:2], y[:2], classes=np.arange(10))


@pytest.fixture(params=["mlp", "snn"])
def model(request):
    return request.getfixturevalue(request.param)


# -- random_state ------------------------------------------------------------------------------
def test_resolve_seed_takes_every_kind_of_random_state():
    assert resolve_seed(7) == 7 and resolve_seed(np.int64(2**32 - 1)) == 2**32 - 1
    for make in (np.random.RandomState, np.random.default_rng):
        source = make(0)
        first, second = resolve_seed(source), resolve_seed(source)
        assert first == resolve_seed(make(0)) and first != second  # one draw each
    fresh = {resolve_seed(None) for _ in range(3)}
    assert len(fresh) == 3 and all(0 <= seed < 2**32 for seed in fresh)


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "0", True])
def test_resolve_seed_refuses_other_values(bad):
    with pytest.raises(ValueError, match="random_state"):
        resolve_seed(bad)


@pytest.mark.parametrize("make", [np.random.RandomState, np.random.default_rng])
def test_rate_mlp_random_state_objects_reproduce(digits, make):
    X, y = digits
    params = dict(hidden_layer_sizes=(8,), max_iter=1)
    a = RateMLP(**params, random_state=make(5)).fit(X, y)
    b = RateMLP(**params, random_state=make(5)).fit(X, y)
    c = RateMLP(**params, random_state=make(6)).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_stdp_network_takes_a_generator_as_random_state(snn):
    assert snn.seed_ == resolve_seed(np.random.default_rng(0))


# -- partial_fit classes -----------------------------------------------------------------------
def test_partial_fit_refuses_classes_other_than_the_first_calls(model, digits):
    X, y = digits
    with pytest.raises(ValueError, match="differs from the classes"):
        model.partial_fit(X[:2], y[:2], classes=np.arange(11))


# -- constructor -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [RateMLP, STDPNetwork])
def test_constructor_parameters_after_the_first_are_keyword_only(cls):
    first, *others = inspect.signature(cls).parameters.values()
    assert first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in others)
    with pytest.raises(TypeError):
        cls(8, 2)


# -- model files -------------------------------------------------------------------------------
def test_load_restores_feature_names(model, tmp_path):
    model = copy.copy(model).set_params(random_state=0)  # a seed object is saved as None
    named = copy.copy(model)
    named.feature_names_in_ = np.array([f"pixel{i}" for i in range(784)], dtype=object)
    loaded = type(model).load(named.save(tmp_path / "named.npz"))
    np.testing.assert_array_equal(loaded.feature_names_in_, named.feature_names_in_)
    assert loaded.feature_names_in_.dtype == object
    unnamed = type(model).load(model.save(tmp_path / "unnamed.npz"))
    assert not hasattr(unnamed, "feature_names_in_")


@pytest.mark.parametrize("name, record_type", [("mlp", EpochRecord), ("snn", ChunkRecord)])
def test_history_records_hold_their_declared_fields(request, name, record_type):
    history = request.getfixturevalue(name).history_
    assert history
    fields = set(typing.get_type_hints(record_type))
    assert {"examples_seen", "wall_time", "val_accuracy"} <= fields
    assert all(set(record) == fields for record in history)
    assert json.loads(json.dumps(history)) == history


# -- scikit-learn's estimator checks on the spiking network ------------------------------------
# RateMLP runs the whole suite in test_rate_mlp.py. STDPNetwork's inputs are firing rates, pixel
# intensities in [0, 1]: it refuses anything else, and declares the "positive_only" input tag,
# for which scikit-learn shifts its data to start at 0 but does not scale it into [0, 1]. The
# checks below draw data above 1, so they cannot apply; each would fail on the range check.
_ABOVE_ONE = "its data exceed 1; STDPNetwork takes pixel intensities in [0, 1]"
STDP_EXCLUDED_CHECKS = {
    name: _ABOVE_ONE
    for name in (
        "check_classifier_data_not_an_array",
        "check_classifiers_classes",
        "check_classifiers_train",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_overwrite_params",
        "check_estimators_partial_fit_n_features",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1feature",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_non_transformer_estimators_n_iter",
        "check_pipeline_consistency",
        "check_readonly_memmap_input",
    )
}
# These checks train and predict: a compiled build per feature count (minutes on a cold build
# cache, then about ten seconds each).
STDP_TRAINING_CHECKS = {
    "check_classifiers_one_label",
    "check_dtype_object",
    "check_estimators_nan_inf",
    "check_fit_score_takes_y",
    "check_supervised_y_2d",
}


def _stdp_checks():
    tiny = STDPNetwork(n_neurons=4, chunk_size=64, random_state=0)
    for estimator, check in estimator_checks_generator(tiny, legacy=True, mark=None):
        name = check.func.__name__
        options = ",".join(f"{key}={value}" for key, value in check.keywords.items())
        if name in STDP_EXCLUDED_CHECKS:
            marks = [pytest.mark.skip(reason=STDP_EXCLUDED_CHECKS[name])]
        else:
            marks = [pytest.mark.slow] if name in STDP_TRAINING_CHECKS else []
        yield pytest.param(estimator, check, id=f"{name}({options})", marks=marks)


@pytest.mark.parametrize("estimator, check", _stdp_checks())
def test_stdp_network_sklearn_estimator_contract(estimator, check):
    check(estimator)
