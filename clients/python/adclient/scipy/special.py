"""scipy.special, run on the daemon for RemoteArrays (see adclient.scipy)."""
import scipy.special as _local

from ..namespaces import populate as _populate

_populate(globals(), "scipy.special.")


def __getattr__(name):
    return getattr(_local, name)
