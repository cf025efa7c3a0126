"""numpy, for code that adclient differentiates.

``import adclient.numpy as np`` in place of ``import autograd.numpy as np``. A function
called on plain values runs numpy's own function, here, with no daemon traffic; called
with a RemoteArray among its arguments, it becomes one op on the daemon. The functions
come from the daemon's op vocabulary (adproto.vocabulary); names it does not cover
(constants, dtypes, constructors such as linspace on plain values, numpy.random) are
numpy's own, so seeded random inputs match plain numpy.
"""
import numpy as _np

from ..namespaces import populate as _populate
from ..proxy import RemoteArray as _RemoteArray, call as _call, has_remote as _has_remote

_populate(globals(), "")

from . import linalg, fft, random  # noqa: E402,F401


def array(obj, dtype=None, copy=True, **kwargs):
    """numpy.array; nested lists holding traced values become one traced array (the
    daemon's array_from_args), so gradients flow through them."""
    if not _has_remote([obj]):
        return _np.array(obj, dtype=dtype, copy=copy, **kwargs)
    result = _from_nested(obj)
    return result if dtype is None else result.astype(dtype)


def asarray(a, dtype=None, **kwargs):
    """numpy.asarray; a RemoteArray stays one (fetch it with .get() or numpy.asarray)."""
    if type(a) is _RemoteArray:
        return a if dtype is None else a.astype(dtype)
    return array(a, dtype=dtype, copy=False, **kwargs) if _has_remote([a]) else \
        _np.asarray(a, dtype=dtype, **kwargs)


def _from_nested(obj):
    if isinstance(obj, (list, tuple)):
        return _call("array_from_args", [_from_nested(o) for o in obj])
    return obj


def shape(a):
    """numpy.shape; a RemoteArray's shape is known without traffic once fetched."""
    return a.shape if type(a) is _RemoteArray else _np.shape(a)


def ndim(a):
    return len(a.shape) if type(a) is _RemoteArray else _np.ndim(a)


def size(a, axis=None):
    if type(a) is _RemoteArray:
        return a.size if axis is None else a.shape[axis]
    return _np.size(a, axis)


def __getattr__(name):
    return getattr(_np, name)
