"""Perturbations: noise, occlusion and lesions do what they say and leave their inputs alone."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim import RateMLP
from neurosim.robustness import gaussian_noise, lesion, occlude


@pytest.fixture
def images():
    return np.random.default_rng(0).uniform(0.2, 0.8, size=(50, 784))


def test_noise_is_seeded_clipped_and_scaled(images):
    original = images.copy()
    noisy = gaussian_noise(images, 0.3, random_state=1)
    np.testing.assert_array_equal(images, original)
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    np.testing.assert_array_equal(noisy, gaussian_noise(images, 0.3, random_state=1))
    assert not np.array_equal(noisy, gaussian_noise(images, 0.3, random_state=2))
    small = gaussian_noise(images, 0.05, random_state=1) - images
    assert 0.04 < small.std() < 0.06
    np.testing.assert_array_equal(gaussian_noise(images, 0.0), images)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_noise(images, -0.1)


def test_occlusion_blanks_exactly_one_square_per_image(images):
    original = images.copy()
    blanked = occlude(images, 6, random_state=0)
    np.testing.assert_array_equal(images, original)
    zeros = (blanked == 0).reshape(-1, 28, 28)
    assert np.all(zeros.sum(axis=(1, 2)) == 36)
    for mask in zeros:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        assert len(rows) == 6 and len(cols) == 6 and np.ptp(rows) == 5 and np.ptp(cols) == 5
    assert len({tuple(np.argwhere(m)[0]) for m in zeros}) > 1  # places vary
    np.testing.assert_array_equal(occlude(images, 0), images)
    with pytest.raises(ValueError, match="size"):
        occlude(images, 29)
    with pytest.raises(ValueError, match="shape"):
        occlude(images[:, :100], 3)


def test_lesion_removes_the_fraction_from_a_copy():
    rng = np.random.default_rng(0)
    X, y = rng.uniform(size=(60, 20)), rng.integers(0, 3, 60)
    model = RateMLP(hidden_layer_sizes=(30,), max_iter=2, random_state=0).fit(X, y)
    before = [c.copy() for c in model.coefs_]
    damaged = lesion(model, 0.5, random_state=0)
    for original, kept in zip(before, model.coefs_, strict=True):
        np.testing.assert_array_equal(original, kept)
    removed = sum(int(np.sum(c == 0)) for c in damaged.coefs_)
    total = sum(c.size for c in damaged.coefs_)
    assert 0.4 < removed / total < 0.6
    # the damaged copy predicts with its damaged weights
    assert not np.allclose(damaged.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(lesion(model, 0.0).coefs_[0], model.coefs_[0])
    with pytest.raises(ValueError, match="fraction"):
        lesion(model, 1.5)
    with pytest.raises(TypeError, match="lesion"):
        lesion(object(), 0.1)
