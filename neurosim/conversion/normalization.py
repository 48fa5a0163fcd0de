"""Data-based weight and threshold normalisation of a ReLU network (pure NumPy).

An integrate-and-fire neuron with threshold 1 that integrates a constant input of ``a``
threshold units per time step fires ``min(a, 1)`` spikes per step on average, so a ReLU
network converts into a spiking one once every layer's activations are scaled into [0, 1].
Layer ``l`` is divided by a scale ``lambda_l`` measured on calibration images, the largest
activation (Diehl et al. 2015, "Fast-classifying, high-accuracy spiking deep networks through
weight and threshold balancing") or a high percentile of the nonzero activations, which
ignores a few outliers at the cost of saturating them (Rueckauer et al. 2017, "Conversion of
continuous-valued deep networks to efficient event-driven networks"):

    W'_l = W_l * lambda_{l-1} / lambda_l,      b'_l = b_l / lambda_l,      lambda_0 = 1

(pixels lie in [0, 1]). The normalised network computes every activation divided by its
layer's scale, so the class with the largest output is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["layer_activations", "normalization_scales", "normalize"]

# Rows per matrix product when computing activations (bounds memory on large calibration sets).
_CHUNK = 4096


def layer_activations(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray
) -> list[np.ndarray]:
    """Activations of every layer: ReLU outputs of the hidden layers, then the logits.

    Parameters
    ----------
    weights : sequence of ndarray
        ``weights[l]`` of shape ``(fan_in, fan_out)``.
    biases : sequence of ndarray
        ``biases[l]`` of shape ``(fan_out,)``.
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    list of ndarray
        One array of shape ``(n_samples, fan_out)`` per layer, in float64; the last one is the
        output layer's (linear) logits.
    """
    outputs = [np.empty((len(X), len(b))) for b in biases]
    for start in range(0, len(X), _CHUNK):
        rows = slice(start, start + _CHUNK)
        a = np.asarray(X[rows], dtype=np.float64)
        for layer, (W, b) in enumerate(zip(weights, biases, strict=True)):
            a = a @ np.asarray(W, dtype=np.float64) + np.asarray(b, dtype=np.float64)
            if layer < len(weights) - 1:
                np.maximum(a, 0.0, out=a)
            outputs[layer][rows] = a
    return outputs


def _scale(values: np.ndarray, normalization: str | float) -> float:
    """The largest, or the given percentile of the positive, values; 0 when none is positive."""
    positive = values[values > 0]
    if positive.size == 0:
        return 0.0
    if normalization == "max":
        return float(positive.max())
    return float(np.percentile(positive, float(normalization)))


def normalization_scales(
    layer_activations: Sequence[np.ndarray], normalization: str | float
) -> np.ndarray:
    """The scale ``lambda_l`` of every layer from its activations on calibration images.

    Parameters
    ----------
    layer_activations : sequence of ndarray
        From :func:`layer_activations` (the output layer's logits count with their positive part:
        a spiking neuron cannot fire at a negative rate).
    normalization : "max" or float
        The largest activation, or this percentile (in (0, 100]) of the nonzero ones.

    Returns
    -------
    ndarray of shape (n_layers,)
        Positive scales; 0 for a layer that never activates on the calibration images (the
        caller decides what to do with it).
    """
    return np.array([_scale(a, normalization) for a in layer_activations])


def normalize(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], scales: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights and biases of the normalised network (float64).

    ``W'_l = W_l * lambda_{l-1} / lambda_l`` and ``b'_l = b_l / lambda_l`` with
    ``lambda_0 = 1``; every activation of the result is the original divided by its scale.
    """
    previous = np.concatenate([[1.0], scales[:-1]])
    normalized_weights = [
        np.asarray(W, dtype=np.float64) * (before / after)
        for W, before, after in zip(weights, previous, scales, strict=True)
    ]
    normalized_biases = [
        np.asarray(b, dtype=np.float64) / after for b, after in zip(biases, scales, strict=True)
    ]
    return normalized_weights, normalized_biases
