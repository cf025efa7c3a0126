"""In-process differentiation on top of the engine: vjp, grad and elementwise_grad.

The daemon's sessions own their trace levels; tests have no session, so this module keeps
one level counter of its own. Each call to ``vjp`` traces its function one level above
whatever is active, which is what makes ``grad(grad(f))`` work: the inner backward pass
runs while the outer level's boxes are live, so its rules are recorded at the outer level.
"""
import numpy as np

from adserver.engine import Box, backward, getval_all, new_box
from adserver.engine.tuples import accumulate
from adserver.ops import P

add = accumulate(P.add)

_active_level = 0


def current_level():
    """The trace level a call would nest inside (0 when nothing is being traced)."""
    return _active_level


def _zeros_like(x):
    """A plain zero cotangent for ``x``: float, unless ``x`` is complex."""
    value = np.asarray(getval_all(x))
    dtype = value.dtype if np.iscomplexobj(value) else np.float64
    return np.zeros(value.shape, dtype=dtype)


def _run_backward(end, level, starts, g):
    """Drive the engine's backward generator to completion; return one cotangent per start."""
    if isinstance(end, (tuple, list)):
        # Several outputs (a composite returning a tuple): the VJP is the sum of each
        # output's VJP with its own part of the cotangent.
        total = None
        for part, gpart in zip(end, g):
            cts = _run_backward(part, level, starts, gpart)
            total = cts if total is None else [add(a, b) for a, b in zip(total, cts)]
        # (No outputs at all, e.g. the shape of a 0-d array: nothing depends on the starts.)
        return total if total is not None else [_zeros_like(s._value) for s in starts]
    # An end that is not a box of this level does not depend on the starts at all.
    if type(end) is not Box or end._level != level:
        return [_zeros_like(s._value) for s in starts]
    gen = backward(end._node, g, [s._node for s in starts], add)
    try:
        request = next(gen)
    except StopIteration as done:
        cotangents = done.value
    else:
        gen.close()
        # Client-defined rules need a session to answer them; tests have none.
        raise RuntimeError(f"backward asked a client for {request.node.prim!r}")
    return [_zeros_like(s._value) if ct is None else ct
            for s, ct in zip(starts, cotangents)]


def vjp(fun, *args):
    """Trace ``fun(*args)`` with every argument as a start; return (value, vjp_fn).

    ``vjp_fn(g)`` returns a tuple with one cotangent per positional argument. The level is
    released as soon as tracing ends (even if ``fun`` raises): the recorded graph does not
    need it, and a backward pass only creates boxes of lower, still-active levels.
    """
    global _active_level
    outer = _active_level
    level = outer + 1
    _active_level = level
    try:
        starts = [new_box(a, level) for a in args]
        end = fun(*starts)
    finally:
        _active_level = outer

    def vjp_fn(g):
        return tuple(_run_backward(end, level, starts, g))

    return _strip(end, level), vjp_fn


def _strip(end, level):
    """The traced output without this level's boxes (it may keep boxes of outer levels)."""
    if isinstance(end, (tuple, list)):
        return type(end)(_strip(e, level) for e in end)
    return end._value if type(end) is Box and end._level == level else end


def _tangent(end, level):
    """The forward-mode tangent of an output (a tuple of them for several outputs)."""
    if isinstance(end, (tuple, list)):
        return tuple(_tangent(e, level) for e in end)
    if type(end) is not Box or end._level != level:
        return _zeros_like(end)
    return end._node.tangent


def _vjp_wrt(fun, args, argnum):
    """vjp with respect to ``args[argnum]`` alone, the other arguments held fixed."""
    def partial(x):
        full = list(args)
        full[argnum] = x
        return fun(*full)
    return vjp(partial, args[argnum])


def grad(fun, argnum=0):
    """Gradient of a scalar-valued ``fun`` with respect to positional argument ``argnum``."""
    def gradfun(*args):
        value, vjp_fn = _vjp_wrt(fun, args, argnum)
        if np.ndim(getval_all(value)) != 0:
            raise TypeError(f"grad needs a scalar output, got shape "
                            f"{np.shape(getval_all(value))}; use elementwise_grad")
        return vjp_fn(np.ones((), dtype=np.float64))[0]
    return gradfun


def elementwise_grad(fun, argnum=0):
    """The vjp with a cotangent of ones: the derivative of each output by its own input."""
    def gradfun(*args):
        value, vjp_fn = _vjp_wrt(fun, args, argnum)
        return vjp_fn(np.ones(np.shape(getval_all(value)), dtype=np.float64))[0]
    return gradfun


def jvp(fun, args, tangents):
    """Forward mode: (value, tangent of the output) for tangents of every argument.

    Every argument is a start of one forward level, each with its own tangent; the output's
    tangent is the sum of their effects.
    """
    global _active_level
    outer = _active_level
    level = outer + 1
    _active_level = level
    try:
        starts = [new_box(a, level, tangent=t) for a, t in zip(args, tangents)]
        end = fun(*starts)
    finally:
        _active_level = outer
    return _strip(end, level), _tangent(end, level)
