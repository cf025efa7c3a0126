"""Reshaping, indexing, joining, and arrays made from shapes."""
import numpy as np

from ..engine.tracer import ZERO_GRADIENT, getval_all
from .base import unbroadcast, shape_of, ndim_of
from .registry import defop, defcomposite, VariadicRules, P


def _reshape_vjp(g, ans, x, *args, **kw):
    # The cotangent must be laid back in the index order the forward pass read x in.
    order = kw.get("order", args[1] if len(args) > 1 else "C")
    if order == "A":  # 'A' means F for Fortran-contiguous input, else C
        order = "F" if np.isfortran(getval_all(x)) else "C"
    return P.reshape(g, shape_of(x), order=order)


def _transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return P.transpose(g)
    # argsort inverts the permutation only once negative axes are made positive.
    ndim = ndim_of(x)
    return P.transpose(g, tuple(np.argsort([a % ndim for a in axes])))


reshape = defop("reshape", np.reshape).def_linear(0)
reshape.defvjp(_reshape_vjp)

transpose = defop("transpose", np.transpose).def_linear(0)
transpose.defvjp(_transpose_vjp)

broadcast_to = defop("broadcast_to", np.broadcast_to).def_linear(0)
broadcast_to.defvjp(lambda g, ans, x, shape: unbroadcast(x, g))

expand_dims = defop("expand_dims", np.expand_dims).def_linear(0)
expand_dims.defvjp(lambda g, ans, x, axis: P.reshape(g, shape_of(x)))

squeeze = defop("squeeze", np.squeeze).def_linear(0)
squeeze.defvjp(lambda g, ans, x, axis=None: P.reshape(g, shape_of(x)))


def swapaxes(x, a, b):
    perm = list(range(ndim_of(x)))
    perm[a], perm[b] = perm[b], perm[a]
    return P.transpose(x, perm)


defcomposite("swapaxes", swapaxes)

# --- indexing: getitem's adjoint scatters back, adding where an index repeats -------------
def _getitem(x, index):
    """`x[index]`: basic, integer-array and boolean indexing"""
    return x[index]


getitem = defop("getitem", _getitem).def_linear(0)
getitem.defvjp(lambda g, ans, x, index: P.untake(g, index, shape_of(x)))


def _untake(g, index, shape):
    """zeros of `shape` with `g` added at `index` (the adjoint of `getitem`)"""
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, index, g)
    return out


untake = defop("untake", _untake).def_linear(0)
untake.defvjp(lambda g, ans, x, index, shape: P.getitem(g, index))

# --- joining --------------------------------------------------------------------------------
def _concatenate_args(axis, *arrays):
    """`numpy.concatenate(arrays, axis)`, with the arrays as separate arguments"""
    return np.concatenate(arrays, axis=axis)


concatenate_args = defop("concatenate_args", _concatenate_args)
defcomposite("concatenate", lambda arrays, axis=0: concatenate_args(axis, *arrays))


def _concatenate_vjp(argnum):
    def rule(g, ans, axis, *arrays):
        this = arrays[argnum - 1]
        if axis is None:
            # axis=None joins the flattened arrays: cut this one's run out of the flat g.
            start = sum(int(np.prod(shape_of(a))) for a in arrays[:argnum - 1])
            stop = start + int(np.prod(shape_of(this)))
            return P.reshape(P.getitem(g, slice(start, stop)), shape_of(this))
        start = sum(shape_of(a)[axis] for a in arrays[:argnum - 1])
        index = [slice(None)] * ndim_of(g)
        index[axis] = slice(start, start + shape_of(this)[axis])
        return P.getitem(g, tuple(index))
    return rule


def _concatenate_jvp(argnum):
    # concatenate is affine in each argument: the others contribute zeros to the tangent.
    def rule(t, ans, axis, *arrays):
        parts = [t if i == argnum - 1 else P.zeros_like(a) for i, a in enumerate(arrays)]
        return concatenate_args(axis, *parts)
    return rule


concatenate_args.vjps = VariadicRules(_concatenate_vjp, first=1)
concatenate_args.jvps = VariadicRules(_concatenate_jvp, first=1)

# --- arrays made from shapes: constants ----------------------------------------------------
for _name in ["zeros_like", "ones_like", "shape", "zeros", "ones", "eye", "full", "argmax",
              "argmin"]:
    defop(_name, getattr(np, _name), ZERO_GRADIENT)
