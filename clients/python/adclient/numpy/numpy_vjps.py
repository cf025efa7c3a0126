"""autograd.numpy.numpy_vjps: the helpers user-written VJPs import from it.

numpy's own gradient rules are the daemon's (adserver/ops), so the rule functions of
autograd's module are not here; the helpers for writing rules are, and work on traced
values (RemoteArrays) as well as on numpy values.
"""
from .. import numpy as anp
from ..vspace import VSpace


def _is_complex(x):
    return VSpace(x).iscomplex


def metadata(A):
    """(shape, ndim, dtype, is complex) of ``A``, as ``unbroadcast`` expects."""
    vs = VSpace(A)
    return vs.shape, len(vs.shape), vs.dtype, vs.iscomplex


def unbroadcast(x, target_meta, broadcast_idx=0):
    """``x`` summed over the axes that broadcasting added to a value of ``target_meta``
    (and made real if that value was real): a cotangent back in its argument's shape."""
    shape, ndim, _, target_complex = target_meta
    while anp.ndim(x) > ndim:
        x = anp.sum(x, axis=broadcast_idx)
    for axis, size in enumerate(shape):
        if size == 1:
            x = anp.sum(x, axis=axis, keepdims=True)
    if not target_complex and _is_complex(x):
        x = anp.real(x)
    return x


def unbroadcast_f(target, f):
    """``lambda g: unbroadcast(f(g), metadata(target))``."""
    target_meta = metadata(target)
    return lambda g: unbroadcast(f(g), target_meta)


def match_complex(target, x):
    """``x`` made real or complex to match ``target``."""
    target_complex, x_complex = _is_complex(target), _is_complex(x)
    if x_complex and not target_complex:
        return anp.real(x)
    if target_complex and not x_complex:
        return x + 0j
    return x


def replace_zero(x, val):
    """``x`` with its zeros replaced by ``val``."""
    return anp.where(x, x, val)
