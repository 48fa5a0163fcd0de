"""Perturbations for robustness tests: pixel noise, occlusion, and lesions of trained weights.

Images are rows of pixels in [0, 1]; every function takes an explicit ``random_state`` and
leaves its inputs unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

__all__ = ["PERTURBATIONS", "gaussian_noise", "lesion", "occlude"]


def gaussian_noise(X: np.ndarray, sigma: float, random_state: Any = None) -> np.ndarray:
    """Add N(0, sigma^2) noise to every pixel and clip to [0, 1].

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_pixels), values in [0, 1]
    sigma : float
        Standard deviation on the [0, 1] pixel scale (0 leaves the images unchanged).
    random_state : int, RandomState or None
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    X = np.asarray(X, dtype=np.float64)
    if sigma == 0:
        return X.copy()
    rng = check_random_state(random_state)
    return np.clip(X + rng.normal(0.0, sigma, size=X.shape), 0.0, 1.0)


def occlude(
    X: np.ndarray,
    size: int,
    random_state: Any = None,
    *,
    image_shape: tuple[int, int] = (28, 28),
) -> np.ndarray:
    """Blank (set to 0) one ``size`` x ``size`` square at a random place in each image.

    Parameters
    ----------
    X : ndarray of shape (n_samples, height * width)
    size : int
        Side of the square in pixels (0 leaves the images unchanged).
    random_state : int, RandomState or None
    image_shape : (height, width)
    """
    height, width = image_shape
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != height * width:
        raise ValueError(f"X must have shape (n_samples, {height * width}), got {X.shape}")
    if not 0 <= size <= min(height, width):
        raise ValueError(f"size must be in 0..{min(height, width)}, got {size}")
    images = X.reshape(-1, height, width).copy()
    if size == 0:
        return images.reshape(X.shape)
    rng = check_random_state(random_state)
    tops = rng.randint(0, height - size + 1, size=len(images))
    lefts = rng.randint(0, width - size + 1, size=len(images))
    for image, top, left in zip(images, tops, lefts, strict=True):
        image[top : top + size, left : left + size] = 0.0
    return images.reshape(X.shape)


def lesion(model: Any, fraction: float, random_state: Any = None) -> Any:
    """A copy of a fitted model with a random ``fraction`` of its learned connections removed.

    For :class:`~neurosim.RateMLP` every weight of every layer is a candidate (biases stay);
    for :class:`~neurosim.STDPNetwork` every plastic input -> excitatory synapse (its weight
    is set to 0; the fixed inhibitory circuit stays intact). The original is not changed.

    Parameters
    ----------
    model : fitted RateMLP or STDPNetwork
    fraction : float in [0, 1]
    random_state : int, RandomState or None
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    rng = check_random_state(random_state)
    damaged = copy.deepcopy(model)
    if hasattr(model, "coefs_"):
        check_is_fitted(model, "coefs_")
        for coef in damaged.coefs_:  # views into one flat buffer: edit in place
            coef[rng.random_sample(coef.shape) < fraction] = 0.0
    elif hasattr(model, "state_"):
        check_is_fitted(model, "state_")
        weights = damaged.state_["w"]
        weights[rng.random_sample(weights.shape) < fraction] = 0.0
    else:
        raise TypeError(f"cannot lesion a {type(model).__name__}: expected a fitted neurosim model")
    return damaged


# Name -> (what the level means, levels of the quick and full studies).
PERTURBATIONS = {
    "pixel noise": ("Gaussian noise σ (pixel scale 0-1)", (0.0, 0.1, 0.2, 0.3, 0.5)),
    "occlusion": ("side of the blanked square (px of 28)", (0, 6, 10, 14, 18)),
    "lesion": ("fraction of learned weights removed", (0.0, 0.2, 0.4, 0.6, 0.8)),
}
