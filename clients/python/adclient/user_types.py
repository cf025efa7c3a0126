"""Differentiating with respect to values of user types (Box.register, VSpace.register).

The daemon holds arrays only, so a user-typed value never goes there. Inside a trace it
sits in a box of the user's Box subclass, here in the client, and a primitive called on
such a box runs here on the value:

- an answer of a user type is boxed again, its node remembering the call;
- any other answer (an array or number) joins the daemon's graph as a client node whose
  one traced parent is the trace's *anchor*, a scalar boxed at the trace's level in place
  of the user value. When the backward pass reaches that node the daemon calls back; the
  user's VJP runs here on the cotangent's value, and what it returns is pushed back
  through the user-typed calls before it (their VJPs are linear, so contributions can go
  back one at a time) and summed, with the user's VSpace, into the root's cotangent.

After the pass, that sum is the gradient. Cotangents reach the user's VJPs as numpy
values, so derivatives of such gradients are not traced; arguments of these primitives
that are traced arrays are not supported (NotImplementedError says so).
"""
import itertools
import weakref

import numpy as np

from .boxes import Box, Node, box_types, is_user_box, new_box
from .proxy import RemoteArray


class UserNode(Node):
    """A user-typed value in a trace: the root (a differentiated argument) or the answer
    of a primitive on user boxes. ``cotangent`` collects the root's gradient."""

    __slots__ = ("prim", "ans", "args", "kwargs", "parents", "anchor", "cotangent",
                 "__weakref__")

    def __init__(self, prim, ans, args, kwargs, parents, anchor):
        self.prim, self.ans, self.args, self.kwargs = prim, ans, args, kwargs
        self.parents, self.anchor, self.cotangent = parents, anchor, None

    def initialize_root(self, anchor):
        self.__init__(None, None, (), {}, {}, anchor)

    def receive(self, g):
        """Add one contribution to this value's cotangent and pass it on to the parents."""
        if self.prim is None:
            self.cotangent = g if self.cotangent is None else \
                vspace_of(g).add(self.cotangent, g)
            return
        for argnum, parent in self.parents.items():
            parent.receive(vjp_maker(self.prim, argnum)(self.ans, *self.args,
                                                        **self.kwargs)(g))


def vspace_of(value):
    from .vspace import vspace
    return vspace(value)


def vjp_maker(prim, argnum):
    """``maker(ans, *args, **kwargs) -> vjp`` of ``prim`` for one argument."""
    if prim.vjpmaker_argnums is not None:
        def maker(ans, *args, **kwargs):
            vjps = prim.vjpmaker_argnums((argnum,), ans, args, kwargs)
            return lambda g: vjps(g)[0]
        return maker
    maker = prim.vjpmakers.get(argnum)
    if maker is None:
        raise NotImplementedError(f"VJP of {prim.__name__} wrt argnum {argnum} not defined")
    return maker


def is_registered(value):
    return type(value) in Box.type_mappings and type(value) not in box_types


def start(value, anchor, level):
    """The box a differentiated user value is traced in, and its root node."""
    root = UserNode.new_root(anchor)
    return new_box(value, level, root), root


def gradient(value, root):
    """The gradient collected at ``root`` (zeros of the value's space if none arrived)."""
    return root.cotangent if root.cotangent is not None else vspace_of(value).zeros()


# --- primitives called on user boxes ----------------------------------------------------------
_calls = weakref.WeakValueDictionary()
_call_ids = itertools.count(1)
_bridge_ids = weakref.WeakKeyDictionary()   # session -> the callback id of the bridge


def has_user_box(args, kwargs):
    return any(is_user_box(a) for a in args) or any(is_user_box(v) for v in kwargs.values())


def call(prim, args, kwargs):
    """``prim(*args, **kwargs)`` where some arguments are user boxes (see the module doc)."""
    top = max(a._trace for a in args if is_user_box(a))
    parents, values = {}, list(args)
    for i, a in enumerate(args):
        if is_user_box(a) and a._trace == top:
            parents[i], values[i] = a._node, a._value
        elif type(a) is RemoteArray and a._level > 0:
            raise NotImplementedError(
                f"{prim.__name__} was given a traced array next to a value of a user type; "
                "adclient differentiates such primitives only in their user-typed arguments")
    anchor = next(iter(parents.values())).anchor
    ans = prim.fun(*values, **kwargs)
    node = UserNode(prim, ans, tuple(values), kwargs, parents, anchor)
    if type(ans) in Box.type_mappings:
        return new_box(ans, top, node)
    return _join_daemon_graph(node, ans)


def _join_daemon_graph(node, ans):
    session = node.anchor._session
    call_id = next(_call_ids)
    _calls[call_id] = node
    from .differential import outermost_trace
    outermost_trace().records.append(node)     # kept alive as long as the trace
    bridge = _bridge_ids.get(session)
    if bridge is None:
        bridge = _bridge_ids[session] = session.register_callback(_serve(session))
    handle = session.op("custom", [np.asarray(ans), node.anchor],
                        {"prim": bridge, "name": node.prim.__name__,
                         "kwargs": {"call": call_id}})
    return RemoteArray(session, handle, node.anchor._level)


def _serve(session):
    def handler(body):
        from .extend import _proxy
        node = _calls.get((body.get("kwargs") or {}).get("call"))
        if node is None:
            raise LookupError("the call this gradient belongs to is gone (its trace was "
                              "discarded)")
        g = _proxy(session, body["g"])
        if type(g) is RemoteArray:
            (g,), _ = session.sync(fetch=[g])
        g = g[()] if isinstance(g, np.ndarray) and g.ndim == 0 else g
        node.receive(g)
        return [np.zeros(())] * len(body["argnums"])   # the anchor's own cotangent
    return handler

