"""autograd.tracer's names, for code that extends autograd.

Tracing happens on the daemon (traced arrays are RemoteArrays) and, for values of
registered user types, in the client (user_types.py). What user code touches is here:
``primitive``, ``notrace_primitive``, ``Box`` (with ``register``), ``isbox``, ``getval``,
``new_box`` and ``Node``. ``trace(start_node, fun, x)`` builds a graph of the user's Node
type from the ops ``fun`` issues on traced values (forward ops only: backward passes run on
the daemon); ``register_notrace`` only records its request (see docs/AUTOGRAD.md).
"""
from .boxes import (Box, JVPNode, Node, VJPNode, box_type_mappings, box_types,  # noqa: F401
                    getval, isbox, new_box, notrace_primitives, register_notrace)
from .extend import primitive, notrace_primitive  # noqa: F401
from .util import subvals, toposort  # noqa: F401
from .wrap_util import wraps  # noqa: F401

class _OpName:
    """What a Node is told was called: the op, by the name numpy gives its function."""
    __slots__ = ("__name__",)

    def __init__(self, name):
        self.__name__ = name

    def __repr__(self):
        return f"<op {self.__name__}>"


def trace(start_node, fun, x):
    """(end value, end node) of ``fun(x)``, with a node of ``start_node``'s type made for
    every op whose arguments include a value traced here, as autograd's trace does:
    ``NodeType(value, fun, args, kwargs, parent_argnums, parents)``, where ``fun`` has the
    op's ``__name__`` ('sin', 'multiply', ...), ``args`` holds the arguments as given and
    ``value`` is the answer (a RemoteArray; numpy.asarray fetches it).

    The nodes are made in the client as the ops are issued, so they cover the ops a
    function runs forward. Gradients taken inside ``fun`` run their backward pass on the
    daemon, where no node sees them; primitives defined in the client (adclient.extend)
    are seen through the ops they issue.
    """
    import warnings

    import numpy as np

    from .differential import _check_differentiable, _session_for
    from .proxy import RemoteArray, observers

    if isinstance(start_node, (VJPNode, JVPNode)):
        raise NotImplementedError(
            "adclient's reverse and forward passes run on the daemon: use grad, make_vjp or "
            "make_jvp rather than trace with VJPNode or JVPNode")
    session = _session_for([x])
    leaf = _check_differentiable(x)
    level = session.push_level()
    nodes = {}          # id of a traced value -> (the value, kept alive; its node)

    def watch(name, args, kwargs, answer):
        parent_argnums, parents = [], []
        for i, a in enumerate(args):
            known = nodes.get(id(a)) if type(a) is RemoteArray else None
            if known is not None and known[0] is a:
                parent_argnums.append(i)
                parents.append(known[1])
        if parents:
            node = type(start_node)(answer, _OpName(name), tuple(args), kwargs or {},
                                    tuple(parent_argnums), tuple(parents))
            nodes[id(answer)] = (answer, node)

    try:
        start = RemoteArray(session, session.op("box", [leaf, level]), level)
        nodes[id(start)] = (start, start_node)
        observers.append(watch)
        try:
            end = fun(start)
        finally:
            observers.remove(watch)
    finally:
        session.pop_level(level)
    known = nodes.get(id(end)) if type(end) is RemoteArray else None
    if known is None or known[0] is not end:
        warnings.warn("Output seems independent of input.")
        return end, None
    value = RemoteArray(session, session.op("value", [end, level]), session.level)
    if session.level == 0 and type(x) is not RemoteArray:
        value = value.get()
        value = value[()] if value.ndim == 0 else value
    return value, known[1]
