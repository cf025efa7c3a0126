"""scipy.linalg, run on the daemon for RemoteArrays (see adclient.scipy)."""
import scipy.linalg as _local

from ..namespaces import populate as _populate

_populate(globals(), "scipy.linalg.")


def __getattr__(name):
    return getattr(_local, name)
