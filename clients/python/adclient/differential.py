"""grad and friends, with HIPS autograd's names, signatures and return types.

A differentiated argument is flattened to its leaves; each leaf is boxed at a new trace
level on the daemon (local values travel inline with the box op); the user's function
runs here on RemoteArrays; one ``vjp`` op asks the daemon for the cotangent of every
leaf; and, when the inputs were local, one sync fetches the results.
"""
import warnings
from functools import wraps

import numpy as np

from .proxy import RemoteArray
from .session import get_session
from . import tree


def _session_for(leaves):
    for leaf in leaves:
        if type(leaf) is RemoteArray:
            return leaf._session
    return get_session()


def _check_differentiable(leaf):
    if type(leaf) is RemoteArray:
        return leaf
    if isinstance(leaf, (bool, np.bool_)) or (
            isinstance(leaf, (int, np.integer)) and not isinstance(leaf, float)):
        raise TypeError(f"Can't differentiate w.r.t. type {type(leaf)}")
    arr = np.asarray(leaf)
    if not np.issubdtype(arr.dtype, np.inexact):
        raise TypeError(f"Can't differentiate w.r.t. an array of dtype {arr.dtype}")
    return arr


class _Trace:
    """One traced call of ``fun`` at a fresh level: the leaves, their boxes, the answer."""

    def __init__(self, fun, x):
        self.leaves, self.rebuild = tree.flatten(x)
        wire = [_check_differentiable(leaf) for leaf in self.leaves]
        self.session = s = _session_for(self.leaves)
        self.level = level = s.push_level()
        try:
            self.boxes = []
            for leaf in wire:
                meta = None if type(leaf) is RemoteArray else (leaf.shape, leaf.dtype)
                self.boxes.append(RemoteArray(s, s.op("box", [leaf, level]), level, meta))
            self.ans = fun(self.rebuild(self.boxes))
        finally:
            s.pop_level(level)
        self.traced = type(self.ans) is RemoteArray and self.ans._level >= level
        if not self.traced:
            warnings.warn("Output seems independent of input.")

    @property
    def local(self):
        """Whether the caller gave plain values (so results come back as numpy values)."""
        return all(type(leaf) is not RemoteArray for leaf in self.leaves) and \
            self.session.level == 0

    def cotangents(self, g, scalar=False):
        """One RemoteArray (or local zeros) per leaf: the VJP of ``g``."""
        s = self.session
        if not self.traced:
            return [self._zeros(leaf) for leaf in self.leaves]
        handles = s.op("vjp", [self.ans, g, self.boxes, self.level],
                       {"scalar": True} if scalar else None, out=len(self.boxes))
        # The cotangents may be traced at any level still active around this call.
        return [RemoteArray(s, h, s.level) for h in handles]

    def _zeros(self, leaf):
        if type(leaf) is RemoteArray:
            return RemoteArray(self.session, self.session.op("zeros_like", [leaf]), 0)
        return np.zeros(np.shape(leaf), dtype=np.result_type(np.asarray(leaf).dtype, np.float64))

    def results(self, grads, also=()):
        """Local values for local callers (one sync for all), else RemoteArrays."""
        remote = [g for g in (*also, *grads) if type(g) is RemoteArray]
        if self.local and remote:
            values, _ = self.session.sync(fetch=remote)
            fetched = dict(zip(map(id, remote), values))
            also = [_as_leaf(fetched[id(a)], a) if id(a) in fetched else a for a in also]
            grads = [_like(fetched.get(id(g), g), leaf) for g, leaf in zip(grads, self.leaves)]
        return self.rebuild(grads), also


def _like(value, leaf):
    """A gradient in the type autograd gives: a numpy float for a float, else an array."""
    if type(value) is RemoteArray:
        return value
    if isinstance(leaf, (float, np.floating)) or (isinstance(leaf, np.ndarray) and leaf.ndim == 0
                                                  and not isinstance(leaf, np.ndarray)):
        return np.float64(value) if np.isrealobj(value) else np.complex128(value)
    return np.asarray(value)


def _as_leaf(value, _original):
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value


def _subst(args, argnum, x):
    args = list(args)
    args[argnum] = x
    return args


def make_vjp(fun, argnum=0):
    """make_vjp(fun, argnum)(*args) -> (vjp, ans): ``vjp(g)`` is the cotangent of ``g``."""
    @wraps(fun)
    def maker(*args, **kwargs):
        t = _Trace(lambda x: fun(*_subst(args, argnum, x), **kwargs), args[argnum])

        def vjp(g):
            grads, _ = t.results(t.cotangents(g))
            return grads

        ans = t.ans
        if t.local and type(ans) is RemoteArray:
            ans = _as_leaf(ans.get(), None)
        return vjp, ans
    return maker


def grad(fun, argnum=0):
    """The gradient of scalar-valued ``fun`` with respect to positional argument ``argnum``."""
    @wraps(fun)
    def gradfun(*args, **kwargs):
        t = _Trace(lambda x: fun(*_subst(args, argnum, x), **kwargs), args[argnum])
        grads, _ = t.results(t.cotangents(None, scalar=True))
        return grads
    return gradfun


def value_and_grad(fun, argnum=0):
    """(fun(*args), grad(fun)(*args)) from one trace."""
    @wraps(fun)
    def vg(*args, **kwargs):
        t = _Trace(lambda x: fun(*_subst(args, argnum, x), **kwargs), args[argnum])
        grads, (ans,) = t.results(t.cotangents(None, scalar=True), also=(t.ans,))
        return ans, grads
    return vg


def elementwise_grad(fun, argnum=0):
    """The VJP of ``fun`` with a cotangent of ones: the sum of the Jacobian's rows."""
    @wraps(fun)
    def egrad(*args, **kwargs):
        t = _Trace(lambda x: fun(*_subst(args, argnum, x), **kwargs), args[argnum])
        grads, _ = t.results(t.cotangents(None))
        return grads
    return egrad
