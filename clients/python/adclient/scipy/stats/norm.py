"""scipy.stats.norm's differentiable functions, run on the daemon for RemoteArrays;
its other attributes (rvs, ...) are scipy's own."""
import scipy.stats as _stats

from ...namespaces import populate as _populate

_local = _stats.norm
_populate(globals(), "scipy.stats.norm.")


def __getattr__(name):
    return getattr(_local, name)
