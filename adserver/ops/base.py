"""What many families' rules share: shapes, undoing numpy's broadcasting, where-safety."""
import numpy as np

from ..engine.tracer import getval_all
from .registry import P


def shape_of(x):
    """The shape of a value, traced or not, without tracing anything."""
    return np.shape(getval_all(x))


def ndim_of(x):
    return len(shape_of(x))


def dtype_of(x):
    return np.result_type(getval_all(x))


def normalize_axes(axis, ndim):
    """``axis`` (None, an int or a sequence) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(a % ndim for a in axis)
    return (axis % ndim,)


def unbroadcast(target, g):
    """Sum ``g`` over the axes numpy broadcast ``target`` along, back to target's shape.

    A real target gets the real part of a complex cotangent.
    """
    shape = shape_of(target)
    gshape = shape_of(g)
    if gshape != shape:
        extra = len(gshape) - len(shape)
        if extra > 0:
            g = P.sum(g, axis=tuple(range(extra)))
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and shape_of(g)[i] != 1)
        if stretched:
            g = P.sum(g, axis=stretched, keepdims=True)
    if np.iscomplexobj(getval_all(g)) and not np.iscomplexobj(getval_all(target)):
        g = P.real(g)
    return g


def broadcast_like(t, ans):
    """A tangent of one broadcast argument, stretched to the output's shape."""
    shape = shape_of(ans)
    return t if shape_of(t) == shape else P.broadcast_to(t, shape)


def repeat_to_match(g, shape, axis, keepdims):
    """Broadcast a reduction's cotangent back over the axes it reduced."""
    if not keepdims:
        axes = normalize_axes(axis, len(shape))
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        g = P.reshape(g, kept)
    return P.broadcast_to(g, shape)


def balanced_eq(x, z, y):
    """1 where x is the chosen extremum z, one half where x and y tie."""
    return P.divide(P.equal(x, z), P.add(1.0, P.equal(x, y)))


def chain(seed, slope, *args, safe=1.0):
    """``seed * slope(*args)``, exactly 0 wherever the seed is 0 and the slope is not finite.

    This is what keeps ``where(x > 0, log(x), 0)`` differentiable at x <= 0: the branch not
    taken receives a zero cotangent, and 0 * inf would be nan. At those elements the
    arguments are first moved to ``safe``, a point where the slope is finite, so that no inf
    or nan enters the traced arithmetic: the derivatives of the product (second order,
    forward over reverse) are then finite there too.
    """
    product = seed * slope(*args)
    raw = getval_all(product)
    if np.isfinite(raw).all():      # the usual case, in one pass: nothing to mend
        return product
    bad = np.logical_and(np.equal(getval_all(seed), 0), ~np.isfinite(raw))
    if not np.any(bad):
        return product
    moved = [P.where(bad, safe, a) for a in args]
    return P.where(bad, 0.0, seed * slope(*moved))
