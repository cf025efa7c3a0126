"""scipy.stats.gamma's differentiable functions, run on the daemon for RemoteArrays;
its other attributes (rvs, ...) are scipy's own."""
import scipy.stats as _stats

from ...namespaces import populate as _populate

_local = _stats.gamma
_populate(globals(), "scipy.stats.gamma.")


def __getattr__(name):
    return getattr(_local, name)
