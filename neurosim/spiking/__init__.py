"""The biological neuron: Diehl & Cook (2015) spiking network with STDP, in Brian2."""

from neurosim.spiking.network import STDPNetwork
from neurosim.spiking.params import DiehlCookParams, preset

__all__ = ["DiehlCookParams", "STDPNetwork", "preset"]
