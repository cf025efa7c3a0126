"""numpy.random itself: random numbers are made here, so seeded inputs match plain numpy."""
from numpy.random import *  # noqa: F401,F403
import numpy.random as _local


def __getattr__(name):
    return getattr(_local, name)
