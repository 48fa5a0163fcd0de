"""neurosim: the rate-based and the spiking neuron side by side on handwritten digits."""

from neurosim.conversion import ConvertedSNN
from neurosim.data import load_digits_784, load_mnist, stratified_subset
from neurosim.rate import RateMLP
from neurosim.spiking import STDPNetwork

__all__ = [
    "ConvertedSNN",
    "RateMLP",
    "STDPNetwork",
    "load_digits_784",
    "load_mnist",
    "stratified_subset",
]
__version__ = "0.1.0"
