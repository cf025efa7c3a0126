"""numpy.linalg, run on the daemon for RemoteArrays (see adclient.numpy)."""
import numpy.linalg as _local

from ..namespaces import populate as _populate

_populate(globals(), "linalg.")


def __getattr__(name):
    return getattr(_local, name)
