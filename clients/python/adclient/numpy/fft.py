"""numpy.fft, run on the daemon for RemoteArrays (see adclient.numpy)."""
import numpy.fft as _local

from ..namespaces import populate as _populate

_populate(globals(), "fft.")


def __getattr__(name):
    return getattr(_local, name)
