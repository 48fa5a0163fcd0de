"""Sweeps give the sequential run's results on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim import RateMLP, load_digits_784
from neurosim.sweep import run_sweep


def fit_score(config: dict) -> float:
    """A seeded training run: the kind of task the studies sweep over."""
    X, y = load_digits_784("train")
    model = RateMLP(hidden_layer_sizes=(config["hidden"],), max_iter=2, random_state=config["seed"])
    return float(model.fit(X[:300], y[:300]).score(X[300:500], y[300:500]))


CONFIGS = [{"hidden": h, "seed": s} for h in (8, 32) for s in (0, 1)]


@pytest.fixture(scope="module")
def sequential():
    return run_sweep(fit_score, CONFIGS, backend="sequential")


def test_joblib_processes_equal_the_sequential_run(sequential):
    assert len(set(sequential)) > 1  # the configurations really differ
    assert run_sweep(fit_score, CONFIGS, backend="joblib", n_jobs=2) == sequential


def test_a_local_dask_cluster_equals_the_sequential_run(sequential):
    assert run_sweep(fit_score, CONFIGS, backend="dask", n_jobs=2) == sequential


def test_bad_sweep_arguments():
    assert run_sweep(fit_score, [], backend="joblib") == []
    with pytest.raises(ValueError, match="backend"):
        run_sweep(fit_score, CONFIGS, backend="spark")
    with pytest.raises(ValueError, match="address"):
        run_sweep(fit_score, CONFIGS, backend="joblib", address="tcp://x:8786")
    np.testing.assert_equal(run_sweep(abs, [-1, 2], backend="joblib", n_jobs=1), [1, 2])
