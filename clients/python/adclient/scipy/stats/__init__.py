"""scipy.stats, run on the daemon for RemoteArrays (see adclient.scipy).

One submodule per distribution autograd differentiates, as in autograd, so that both
``import adclient.scipy.stats.norm as norm`` and ``adclient.scipy.stats.norm.pdf`` work.
Other scipy.stats names fall through to scipy's own.
"""
import scipy.stats as _local

from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t  # noqa: F401


def __getattr__(name):
    return getattr(_local, name)
