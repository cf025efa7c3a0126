"""scipy.signal, run on the daemon for RemoteArrays (see adclient.scipy)."""
import scipy.signal as _local

from ..namespaces import populate as _populate

_populate(globals(), "scipy.signal.")


def __getattr__(name):
    return getattr(_local, name)
