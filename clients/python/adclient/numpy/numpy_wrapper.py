"""autograd.numpy.numpy_wrapper: the wrapped numpy namespace, which is adclient.numpy."""
from .. import numpy as _namespace


def __getattr__(name):
    return getattr(_namespace, name)
