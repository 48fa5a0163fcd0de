"""The same weights, two neuron models: a trained ReLU MLP converted into a spiking network.

:class:`ConvertedSNN` (:mod:`~neurosim.conversion.network`) is made from a fitted
:class:`~neurosim.RateMLP` by data-based normalisation
(:mod:`~neurosim.conversion.normalization`) and runs as integrate-and-fire neurons in Brian2
(:mod:`~neurosim.conversion.engine`).
"""

from neurosim.conversion.network import CalibrationWarning, ConvertedSNN, ScoreCurve

__all__ = ["CalibrationWarning", "ConvertedSNN", "ScoreCurve"]
