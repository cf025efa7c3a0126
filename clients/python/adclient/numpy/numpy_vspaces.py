"""autograd.numpy.numpy_vspaces: the vector spaces of arrays, real and complex.

One class, adclient's VSpace, serves both (it knows whether its dtype is complex).
"""
from ..vspace import VSpace, VSpace as ArrayVSpace, VSpace as ComplexArrayVSpace  # noqa: F401
