"""scipy.stats.multivariate_normal's differentiable functions, run on the daemon for RemoteArrays;
its other attributes (rvs, ...) are scipy's own."""
import scipy.stats as _stats

from ...namespaces import populate as _populate

_local = _stats.multivariate_normal
_populate(globals(), "scipy.stats.multivariate_normal.")


def __getattr__(name):
    return getattr(_local, name)
