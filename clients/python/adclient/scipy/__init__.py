"""scipy, for code that adclient differentiates: special, stats, signal, linalg, integrate.

As with adclient.numpy, each function runs scipy's own on plain values and becomes a
daemon op when given a RemoteArray.
"""
from . import special, stats, signal, linalg, integrate  # noqa: F401
