"""scipy.signal, run on the daemon for RemoteArrays (see adclient.scipy)."""
import scipy.signal as _local

from ..namespaces import populate as _populate, wrapper as _wrapper, wrapped as _wrapped

_populate(globals(), "scipy.signal.")


def _convolve_here(A, B, axes=None, dot_axes=((), ()), mode="full"):
    """autograd's convolve on plain values. It is not scipy's: it takes axes and dot_axes
    (scipy's third argument is method), and it always sums directly where scipy may use an
    FFT. The daemon's own function runs here, so a plain call and a traced one give the
    same numbers. (Imported on first use: it brings the daemon's op table with it.)"""
    from adserver.ops.signal import _convolve
    return _convolve(A, B, axes=axes, dot_axes=dot_axes, mode=mode)


convolve = _wrapper("scipy.signal.convolve", _convolve_here)
convolve.__doc__ = ("autograd.scipy.signal.convolve(A, B, axes=None, dot_axes=((), ()), "
                    "mode='full'); runs on the daemon when an argument is a RemoteArray.\n\n"
                    + _convolve_here.__doc__)
_wrapped["scipy.signal.convolve"] = convolve


def __getattr__(name):
    return getattr(_local, name)
