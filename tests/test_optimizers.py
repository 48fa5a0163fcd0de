"""Tests of neurosim.rate.optimizers: in-place updates that descend, and the update rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurosim.rate.optimizers import OPTIMIZERS, Adam, Momentum, Nesterov, make_optimizer

NAMES = sorted(OPTIMIZERS)


def quadratic_problem(seed: int = 0):
    """f(p) = 0.5 * sum(scale * (p - target)**2) over two arrays, one 2-D, one 1-D."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=(4, 3)), rng.normal(size=5)]
    targets = [rng.normal(size=(4, 3)), rng.normal(size=5)]
    scales = [rng.uniform(0.5, 2.0, size=(4, 3)), rng.uniform(0.5, 2.0, size=5)]

    def loss(ps):
        return sum(
            0.5 * np.sum(s * (p - t) ** 2) for p, t, s in zip(ps, targets, scales, strict=True)
        )

    def grads(ps):
        return [s * (p - t) for p, t, s in zip(ps, targets, scales, strict=True)]

    return params, loss, grads


@pytest.mark.parametrize("name", NAMES)
def test_optimizer_decreases_a_quadratic_in_place(name):
    params, loss, grads = quadratic_problem()
    arrays = list(params)
    optimizer = make_optimizer(name, params, learning_rate=0.05)
    start = loss(params)
    for _ in range(200):
        optimizer.step(grads(params))
    assert all(p is a for p, a in zip(params, optimizer.params, strict=True))  # updated in place
    assert all(p is a for p, a in zip(params, arrays, strict=True))
    assert loss(params) < 0.05 * start
    assert optimizer.t == 200


@pytest.mark.parametrize("name", NAMES)
def test_default_learning_rate_is_used_when_none(name):
    optimizer = make_optimizer(name, [np.zeros(3)])
    assert optimizer.learning_rate == OPTIMIZERS[name].default_learning_rate


def reference_adam(p, grads, lr, b1, b2, eps):
    """Textbook Adam (Kingma & Ba, Algorithm 1, efficient variant), written plainly."""
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        step = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        p = p - step * m / (np.sqrt(v) + eps)
    return p


def test_adam_matches_the_textbook_update():
    rng = np.random.default_rng(1)
    p0 = rng.normal(size=50)
    grads = [rng.normal(size=50) * 10.0 ** rng.integers(-6, 1) for _ in range(20)]
    p = p0.copy()
    optimizer = Adam([p], learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-3)
    for g in grads:
        optimizer.step([g])
    np.testing.assert_allclose(p, reference_adam(p0, grads, 0.01, 0.8, 0.99, 1e-3), rtol=1e-12)


def test_momentum_and_nesterov_match_their_rules():
    rng = np.random.default_rng(2)
    p0 = rng.normal(size=10)
    grads = [rng.normal(size=10) for _ in range(5)]
    lr, mu = 0.1, 0.7
    p_m, p_n = p0.copy(), p0.copy()
    momentum, nesterov = Momentum([p_m], lr, momentum=mu), Nesterov([p_n], lr, momentum=mu)
    v = np.zeros(10)
    ref_m, ref_n = p0.copy(), p0.copy()
    for g in grads:
        momentum.step([g])
        nesterov.step([g])
        v = mu * v + g
        ref_m = ref_m - lr * v
        ref_n = ref_n - lr * (g + mu * v)
    np.testing.assert_allclose(p_m, ref_m, rtol=1e-12)
    np.testing.assert_allclose(p_n, ref_n, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_state_round_trip_continues_identically(name):
    params, _, grads = quadratic_problem(3)
    first = make_optimizer(name, params, learning_rate=0.01)
    for _ in range(3):
        first.step(grads(params))
    copies = [p.copy() for p in params]
    second = make_optimizer(name, copies, learning_rate=0.01)
    second.load_state({k: v.copy() for k, v in first.state_arrays().items()}, first.t)
    for _ in range(3):
        first.step(grads(params))
        second.step(grads(copies))
    for a, b in zip(params, copies, strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_state_rejects_wrong_shape():
    optimizer = Adam([np.zeros(4)])
    state = {k: np.zeros(5) for k in optimizer.state_arrays()}
    with pytest.raises(ValueError, match="shape"):
        optimizer.load_state(state, 1)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("adagrad", [np.zeros(2)])
    with pytest.raises(ValueError, match="learning_rate"):
        make_optimizer("sgd", [np.zeros(2)], learning_rate=0.0)
    with pytest.raises(ValueError, match="beta_2"):
        Adam([np.zeros(2)], beta_2=1.0)
    with pytest.raises(TypeError, match="floating-point"):
        make_optimizer("sgd", [np.zeros(2, dtype=int)])
    with pytest.raises(ValueError, match="gradient arrays"):
        make_optimizer("sgd", [np.zeros(2)]).step([np.zeros(2), np.zeros(2)])


def test_float32_parameters_stay_float32():
    p = np.ones(8, dtype=np.float32)
    optimizer = Adam([p])
    optimizer.step([np.full(8, 0.5, dtype=np.float32)])
    assert p.dtype == np.float32
    assert all(a.dtype == np.float32 for a in optimizer.state_arrays().values())
    assert np.all(p < 1)
