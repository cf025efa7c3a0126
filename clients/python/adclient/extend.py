"""Primitives defined in the client, with gradients defined in the client (autograd.extend).

A ``@primitive`` function runs here on real numpy arrays. Called on traced values, its
answer goes to the daemon, which records one node for it. When a backward pass reaches that
node the daemon calls back, and the rules given to ``defvjp`` run here, on RemoteArrays,
themselves traced (so higher derivatives through them work). In forward mode the client
applies the ``defjvp`` rules itself when the call happens, and sends the tangent along.

Only the RemoteArray arguments travel to the daemon. The whole call (functions, options,
local arrays) stays here in a record, which lives as long as the outermost trace that made
it; the daemon's callback names the record.
"""
import itertools
import weakref
from functools import wraps

import numpy as np

from . import differential, tree, user_types
from .boxes import Box, JVPNode, VJPNode, register_notrace  # noqa: F401  (public API)
from .proxy import RemoteArray, _levels
from .vspace import VSpace, vspace  # noqa: F401  (part of the public API)


class _Call:
    """One traced call of a primitive: everything the daemon was not sent.

    ``leaves`` are the arguments flattened (RemoteArrays may sit inside tuples, lists and
    dicts); ``remote`` the positions of the RemoteArray leaves, in the order the daemon
    knows them; ``owner[k]`` the argument that leaf k belongs to, and ``offset[k]`` its
    place among that argument's leaves.
    """

    __slots__ = ("args", "kwargs", "leaves", "rebuild", "remote", "owner", "offset",
                 "__weakref__")

    def __init__(self, args, kwargs):
        self.args, self.kwargs = args, kwargs
        self.leaves, self.owner, self.offset = [], [], []
        for position, arg in enumerate(args):
            arg_leaves = tree.flatten(arg)[0]
            self.leaves += arg_leaves
            self.owner += [position] * len(arg_leaves)
            self.offset += list(range(len(arg_leaves)))
        self.rebuild = tree.flatten(list(args))[1]
        self.remote = [k for k, leaf in enumerate(self.leaves) if type(leaf) is RemoteArray]

    def with_leaves(self, replacements):
        """The arguments, with the leaves at the given positions replaced."""
        leaves = list(self.leaves)
        for k, value in replacements.items():
            leaves[k] = value
        return self.rebuild(leaves)


_calls = weakref.WeakValueDictionary()
_call_ids = itertools.count(1)
_untraced_calls = []   # records made outside any client trace: kept for the process


def _remember(call):
    call_id = next(_call_ids)
    _calls[call_id] = call
    owner = differential.outermost_trace()
    (owner.records if owner is not None else _untraced_calls).append(call)
    return call_id


def _strip(arg, level):
    """A RemoteArray with its boxes at ``level`` and above taken off (None if not remote)."""
    s = arg._session
    return RemoteArray(s, s.op("value", [arg, level]), level - 1)


class primitive:
    """Make ``fun`` a primitive: the engine treats it as one op, with the rules you define."""

    #: where the forward pass runs: here on fetched numpy values, or on the daemon
    forward_here = True

    def __init__(self, fun):
        wraps(fun)(self)
        self.fun = fun
        self.vjpmakers = {}
        self.vjpmaker_argnums = None
        self.jvpfuns = {}
        self.jvpmaker_argnums = None
        self._ids = weakref.WeakKeyDictionary()   # session -> this primitive's id there

    def __get__(self, obj, objtype=None):
        return self if obj is None else (lambda *a, **k: self(obj, *a, **k))

    def __call__(self, *args, **kwargs):
        if user_types.has_user_box(args, kwargs):
            return user_types.call(self, args, kwargs)
        call = _Call(args, kwargs)
        if not call.remote:
            return self.fun(*args, **kwargs)
        remote_leaves = [call.leaves[k] for k in call.remote]
        session = remote_leaves[0]._session
        top = _levels(remote_leaves)
        result = self._forward(session, call, top)
        if top == 0:
            return result
        call_id = _remember(call)
        op_kwargs = {"prim": self._id_in(session), "name": self.__name__,
                     "kwargs": {"call": call_id}}
        tangents = {level: self._tangent(session, call, level, result)
                    for level in range(1, top + 1) if session.forward_levels.get(level)}
        if tangents:
            op_kwargs["tangents"] = tangents
        wire_result = result if type(result) is RemoteArray else np.asarray(result)
        handle = session.op("custom", [wire_result, *remote_leaves], op_kwargs)
        return RemoteArray(session, handle, top)

    def _forward(self, session, call, top):
        """The answer, computed here on numpy values of the remote arguments."""
        values, _ = session.sync(fetch=[call.leaves[k] for k in call.remote])
        local = call.with_leaves({k: v[()] if v.ndim == 0 else v
                                  for k, v in zip(call.remote, values)})
        result = self.fun(*local, **call.kwargs)
        return result if top else RemoteArray(session, session.op("array", [np.asarray(result)]))

    def _tangent(self, session, call, level, ans):
        """The output's tangent at forward ``level``, from this primitive's JVP rules,
        computed on the arguments as they are beneath that level. A container argument's
        tangent is a container like it, zero at its untraced leaves."""
        kwargs = call.kwargs
        stripped, leaf_tangents, traced_args = {}, {}, set()
        for k in call.remote:
            leaf = call.leaves[k]
            if leaf._level >= level:
                stripped[k] = _strip(leaf, level)
                leaf_tangents[k] = RemoteArray(session, session.op("tangent", [leaf, level]),
                                               level - 1)
                traced_args.add(call.owner[k])
        unboxed = call.with_leaves(stripped)
        zeros = {k: _zeros_like(leaf) for k, leaf in enumerate(call.leaves)
                 if k not in leaf_tangents}
        all_tangents = call.with_leaves({**zeros, **leaf_tangents})
        tangents = {i: all_tangents[i] for i in sorted(traced_args)}
        if self.jvpmaker_argnums is not None:
            argnums = tuple(tangents)
            return self.jvpmaker_argnums(argnums, tuple(tangents[i] for i in argnums), ans,
                                         tuple(unboxed), kwargs)
        total = None
        for i, t in tangents.items():
            rule = self.jvpfuns.get(i)
            if rule is None:
                raise NotImplementedError(f"JVP of {self.__name__} wrt argnum {i} not defined")
            part = rule(t, ans, *unboxed, **kwargs)
            total = part if total is None else total + part
        return total

    def _id_in(self, session):
        prim_id = self._ids.get(session)
        if prim_id is None:
            prim_id = self._ids[session] = session.register_callback(self._serve(session))
        return prim_id

    def _serve(self, session):
        def handler(body):
            call = _calls.get((body.get("kwargs") or {}).get("call"))
            if call is None:
                raise LookupError(f"the call of {self.__name__} this gradient belongs to is "
                                  "gone (its trace was discarded)")
            args = call.with_leaves({k: _proxy(session, desc)
                                     for k, desc in zip(call.remote, body["args"])})
            ans, g = _proxy(session, body["ans"]), _proxy(session, body["g"])
            leaves = [call.remote[j] for j in body["argnums"]]
            argnums = sorted({call.owner[k] for k in leaves})
            if self.vjpmaker_argnums is not None:
                per_arg = dict(zip(argnums, self.vjpmaker_argnums(
                    tuple(argnums), ans, tuple(args), call.kwargs)(g)))
            else:
                per_arg = {}
                for argnum in argnums:
                    maker = self.vjpmakers.get(argnum)
                    if maker is None:
                        raise NotImplementedError(
                            f"VJP of {self.__name__} wrt argnum {argnum} not defined")
                    per_arg[argnum] = maker(ans, *args, **call.kwargs)(g)
            # One cotangent per traced leaf: a container argument's cotangent is a container
            # shaped like it.
            return [tree.flatten(per_arg[call.owner[k]])[0][call.offset[k]] for k in leaves]
        return handler

    def defvjp(self, *vjpmakers, argnums=None):
        """``vjpmaker(ans, *args, **kwargs)`` returns ``lambda g: cotangent`` for an argument."""
        for argnum, maker in zip(argnums or range(len(vjpmakers)), vjpmakers):
            if maker is not None:
                self.vjpmakers[argnum] = maker


class _daemon_forward_primitive(primitive):
    """A primitive whose forward pass runs on the daemon, untraced (used by checkpoint)."""

    def _forward(self, session, call, top):
        stripped = call.with_leaves({
            k: RemoteArray(session, session.op("value", [call.leaves[k]]), 0)
            for k in call.remote if call.leaves[k]._level})
        return self.fun(*stripped, **call.kwargs)


def _zeros_like(leaf):
    if type(leaf) is RemoteArray:
        return RemoteArray(leaf._session, leaf._session.op("zeros_like", [leaf]), 0)
    if callable(leaf) or isinstance(leaf, str) or leaf is None:
        return leaf
    return np.zeros(np.shape(leaf), dtype=np.result_type(np.asarray(leaf), np.float64))


def _proxy(session, desc):
    if "h" in desc:
        meta = (tuple(desc["shape"]), np.dtype(desc["dtype"]))
        return RemoteArray(session, desc["h"].handle, desc["level"], meta)
    return desc["c"]


# --- autograd.extend's functions ------------------------------------------------------------
def defvjp(fun, *vjpmakers, **kwargs):
    fun.defvjp(*vjpmakers, **kwargs)


def defvjp_argnum(fun, vjpmaker):
    """``vjpmaker(argnum, ans, args, kwargs)`` returns ``lambda g: cotangent``."""
    def per_argument(argnum):
        return lambda ans, *args, **kwargs: vjpmaker(argnum, ans, args, kwargs)
    fun.vjpmakers = _AnyArgnum(per_argument)


def defvjp_argnums(fun, vjpmaker):
    """``vjpmaker(argnums, ans, args, kwargs)`` returns ``lambda g: cotangents`` for all."""
    fun.vjpmaker_argnums = vjpmaker


def defjvp(fun, *jvpfuns, argnums=None):
    """``jvpfun(g, ans, *args, **kwargs)`` is the output's tangent due to an argument's g."""
    for argnum, rule in zip(argnums or range(len(jvpfuns)), jvpfuns):
        if rule is not None:
            fun.jvpfuns[argnum] = rule


def defjvp_argnum(fun, jvpmaker):
    """``jvpmaker(argnum, g, ans, args, kwargs)`` is the output tangent due to one argument."""
    def per_argument(argnum):
        return lambda g, ans, *args, **kwargs: jvpmaker(argnum, g, ans, args, kwargs)
    fun.jvpfuns = _AnyArgnum(per_argument)


def defjvp_argnums(fun, jvpmaker):
    """``jvpmaker(argnums, gs, ans, args, kwargs)`` is the output tangent due to all of them."""
    fun.jvpmaker_argnums = jvpmaker


def def_linear(fun):
    """``fun`` is linear in each argument: its tangent is ``fun`` applied to the tangent."""
    def rule(argnum, g, ans, args, kwargs):
        args = list(args)
        args[argnum] = g
        return fun(*args, **kwargs)
    defjvp_argnum(fun, rule)


class _AnyArgnum(dict):
    """Rules made on demand for any argument number."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def get(self, argnum, default=None):
        return self.make(argnum)


def notrace_primitive(fun):
    """A function whose result is never traced: it runs here on the values of its arguments."""
    @wraps(fun)
    def wrapped(*args, **kwargs):
        remote = [i for i, a in enumerate(args) if type(a) is RemoteArray]
        if not remote:
            return fun(*args, **kwargs)
        values, _ = args[remote[0]]._session.sync(fetch=[args[i] for i in remote])
        local = list(args)
        for i, v in zip(remote, values):
            local[i] = v[()] if v.ndim == 0 else v
        return fun(*local, **kwargs)
    return wrapped


def checkpoint(fun):
    """``fun``, with its intermediate values discarded after the forward pass and
    recomputed during the backward pass: memory traded for time."""
    wrapped = _daemon_forward_primitive(fun)

    def recompute_vjp(argnum, ans, args, kwargs):
        return differential.make_vjp(fun, argnum)(*args, **kwargs)[0]

    defvjp_argnum(wrapped, recompute_vjp)
    return wrapped
