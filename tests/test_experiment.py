"""The validation protocol of studies: dataset choice, splits and the model cache."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim import RateMLP, load_digits_784
from neurosim.data import DatasetNotFoundError
from neurosim.experiment import (
    cache_key,
    fit_or_load,
    load_dataset,
    split_dataset,
    split_holdout,
    subset,
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


def test_fit_or_load_resumes_an_interrupted_training(tmp_path, interrupt_rate_mlp_epoch):
    X, y = load_digits_784("train")
    config = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    expected = RateMLP(**config).fit(X, y)
    epochs = interrupt_rate_mlp_epoch(2)
    with pytest.raises(KeyboardInterrupt):
        fit_or_load(RateMLP(**config), X, y, cache_dir=tmp_path, resume=True)
    assert len(list(tmp_path.glob("*.ckpt.npz"))) == 1
    result = fit_or_load(RateMLP(**config), X, y, cache_dir=tmp_path, resume=True)
    assert len(epochs) == 2 + 2  # epoch 1 was kept; epochs 2 and 3 ran after resuming
    assert result.model.checkpoint is None and not list(tmp_path.glob("*.ckpt.npz"))
    np.testing.assert_array_equal(result.model.coefs_[0], expected.coefs_[0])


def test_split_dataset_reports_its_sizes():
    data = load_dataset("digits")
    splits = split_dataset(data, n_train=100, n_val=50, n_test=40, seed=0)
    pool = len(data.X_train) - 50  # the validation images are held out of the pool
    assert splits.sizes() == {"n_train": 100, "n_train_full": pool, "n_val": 50, "n_test": 40}
    everything = split_dataset(data, n_train=None, n_val=0, n_test=None, seed=0).sizes()
    assert everything["n_val"] == 0 and everything["n_train"] == len(data.X_train)
