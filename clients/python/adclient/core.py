"""autograd.core's names: the VJP and JVP makers, gradient rules, vector spaces.

``make_vjp(fun, x)`` and ``make_jvp(fun, x)`` take ``x`` itself, as autograd.core's do
(adclient.make_vjp takes ``argnum``, as autograd.make_vjp does). Gradient rules live on
the primitives themselves; ``primitive_vjps`` and ``primitive_jvps`` are views of them in
autograd's shape. VJPNode and JVPNode stand for autograd's node types where user code
names them (``VJPNode.new_root()``, ``register_notrace(JVPNode, f)``); the graph they
would belong to is the daemon's.
"""
from collections.abc import MutableMapping

from . import differential
from .boxes import Box, JVPNode, Node, VJPNode, getval, isbox  # noqa: F401
from .extend import (primitive, defvjp, defvjp_argnum, defvjp_argnums, defjvp,  # noqa: F401
                     defjvp_argnum, defjvp_argnums, def_linear)
from .tracer import trace  # noqa: F401
from .util import func, subval, toposort  # noqa: F401
from .vspace import VSpace, vspace  # noqa: F401


def make_vjp(fun, x):
    """(vjp, fun(x)): ``vjp(g)`` is the cotangent of x for the output cotangent g."""
    return differential.make_vjp(fun)(x)


def make_jvp(fun, x):
    """``jvp(v)`` gives (fun(x), the tangent of fun's output along v)."""
    return differential.make_jvp(fun)(x)


class _RuleTable(MutableMapping):
    """primitive -> its rule in autograd's all-arguments shape, read from and written to
    the primitive itself (``rule(argnums, ans, args, kwargs)`` for VJPs,
    ``rule(argnums, gs, ans, args, kwargs)`` for JVPs)."""

    def __init__(self, read, write, defined):
        self._read, self._write, self._defined = read, write, defined

    def __getitem__(self, prim):
        if not isinstance(prim, primitive) or not self._defined(prim):
            raise KeyError(prim)
        return self._read(prim)

    def __setitem__(self, prim, rule):
        self._write(prim, rule)

    def __delitem__(self, prim):
        raise TypeError("gradient rules are not removed once defined")

    def __iter__(self):
        return iter(())     # primitives are not enumerated: they belong to their modules

    def __len__(self):
        return 0

    def __contains__(self, prim):
        return isinstance(prim, primitive) and self._defined(prim)


def _vjp_rule(prim):
    if prim.vjpmaker_argnums is not None:
        return prim.vjpmaker_argnums

    def vjp_argnums(argnums, ans, args, kwargs):
        vjps = [prim.vjpmakers.get(i)(ans, *args, **kwargs) for i in argnums]
        return lambda g: tuple(vjp(g) for vjp in vjps)
    return vjp_argnums


def _jvp_rule(prim):
    if prim.jvpmaker_argnums is not None:
        return prim.jvpmaker_argnums

    def jvp_argnums(argnums, gs, ans, args, kwargs):
        parts = [prim.jvpfuns.get(i)(g, ans, *args, **kwargs) for i, g in zip(argnums, gs)]
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total
    return jvp_argnums


primitive_vjps = _RuleTable(_vjp_rule, defvjp_argnums,
                            lambda p: bool(p.vjpmakers) or p.vjpmaker_argnums is not None)
primitive_jvps = _RuleTable(_jvp_rule, defjvp_argnums,
                            lambda p: bool(p.jvpfuns) or p.jvpmaker_argnums is not None)
