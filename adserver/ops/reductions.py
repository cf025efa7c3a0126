"""Reductions over axes."""
import numpy as np

from ..engine.tracer import getval_all
from .base import repeat_to_match, shape_of, normalize_axes
from .registry import defop, P


def _sum_vjp(g, ans, x, axis=None, keepdims=False, **kw):
    g = repeat_to_match(g, shape_of(x), axis, keepdims)
    mask = kw.get("where")
    # Elements that where= left out never reached the sum: they get no gradient.
    return g if mask is None else P.where(mask, g, P.zeros_like(g))


def _mean_vjp(g, ans, x, axis=None, keepdims=False, **kw):
    shape = shape_of(x)
    g = repeat_to_match(g, shape, axis, keepdims)
    mask = kw.get("where")
    if mask is None:
        return g / (np.size(getval_all(x)) / max(np.size(getval_all(ans)), 1))
    # With where=, each mean divides by the number of elements it selected, not the axis
    # length, and the elements left out get no gradient.
    mask = np.broadcast_to(getval_all(mask), shape)
    counts = np.sum(mask, axis=normalize_axes(axis, len(shape)), keepdims=True)
    return P.where(mask, g / counts, P.zeros_like(g))


sum_ = defop("sum", np.sum).def_linear(0)
sum_.defvjp(_sum_vjp)

mean = defop("mean", np.mean).def_linear(0)
mean.defvjp(_mean_vjp)
