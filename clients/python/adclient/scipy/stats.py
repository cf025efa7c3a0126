"""scipy.stats, run on the daemon for RemoteArrays (see adclient.scipy)."""
import scipy.stats as _local

from ..namespaces import populate as _populate

_populate(globals(), "scipy.stats.")


def __getattr__(name):
    return getattr(_local, name)
