"""The rate-based (artificial) neuron: the multilayer perceptron and its optimizers."""

from neurosim.rate.mlp import RateMLP

__all__ = ["RateMLP"]
