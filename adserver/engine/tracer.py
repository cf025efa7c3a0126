"""Boxes, nodes and primitives.

A traced value is a Box: the value it wraps, the integer trace level it belongs to, and
the Node that records how it was made. Calling a Primitive on boxes unwraps the boxes of
the highest level, applies itself to what is inside (which may still hold boxes of lower
levels, so the call recurses once per level), and wraps the answer in a new Box whose
Node remembers the primitive, its arguments and its answer. That is how a backward pass
run while an outer level is active gets recorded too: its rules call primitives on boxes.

Levels are plain integers owned by each session's trace stack; nothing here is global.
"""
from .errors import NotDifferentiable

DIFFERENTIABLE = "vjp"      # has VJP rules for (some of) its arguments
ZERO_GRADIENT = "zero"      # piecewise constant or integer-valued: the answer is never traced
NOT_DIFFERENTIABLE = "none"  # asking for its gradient is an error, raised at grad time

#: The level of a tape being compiled: above every level a session can reach, so that a
#: recording box is always the outermost one.
RECORD_LEVEL = 1 << 62


class Node:
    """How a boxed value was computed: the primitive, its inputs and its answer."""

    __slots__ = ("prim", "parents", "argnums", "ans", "args", "kwargs")

    def __init__(self, prim, parents, argnums, ans, args, kwargs):
        self.prim = prim
        self.parents = parents
        self.argnums = argnums
        self.ans = ans
        self.args = args
        self.kwargs = kwargs


class ForwardNode:
    """A value traced in forward mode: its tangent travels with it.

    A level is either forward or reverse: all of its boxes come from one start, so the first
    boxed argument of a call tells which kind of node the answer gets.
    """

    __slots__ = ("tangent",)
    parents = ()

    def __init__(self, tangent):
        self.tangent = tangent


class Box:
    """A value being traced at one level. Arithmetic operators are attached by adserver.ops."""

    __slots__ = ("_value", "_level", "_node", "__weakref__")
    __array_priority__ = 100.0

    def __init__(self, value, level, node):
        self._value = value
        self._level = level
        self._node = node

    # Shape metadata reads through every level without tracing anything.
    @property
    def shape(self):
        return getval_all(self).shape

    @property
    def ndim(self):
        return getval_all(self).ndim

    @property
    def size(self):
        return getval_all(self).size

    @property
    def dtype(self):
        return getval_all(self).dtype

    def __len__(self):
        return len(getval_all(self))

    def __repr__(self):
        return f"Box(level={self._level}, value={self._value!r})"


def getval(x):
    """Unwrap one level."""
    return x._value if type(x) is Box else x


def getval_all(x):
    """Unwrap every level: the plain value underneath."""
    while type(x) is Box:
        x = x._value
    return x


def trace_level(x):
    """The highest level a value is traced at; 0 for a plain value."""
    return x._level if type(x) is Box else 0


def new_box(value, level, tangent=None):
    """A fresh start box at ``level``: reverse mode, or forward mode when given a tangent."""
    if tangent is not None:
        return Box(value, level, ForwardNode(tangent))
    return Box(value, level, Node(None, (), (), value, (), {}))


class Primitive:
    """One op of the vocabulary: a raw numpy-level function and its gradient rules.

    ``vjps[i]`` is the reverse rule for argument i: ``rule(g, ans, *args, **kwargs)`` returns
    the cotangent for that argument. ``jvps[i]`` is the forward rule: ``rule(t, ans, *args,
    **kwargs)`` returns the output's tangent due to tangent ``t`` of argument i. Both are
    written with primitives so that they can themselves be traced.
    """

    __slots__ = ("name", "fun", "vjps", "jvps", "status", "client", "__weakref__")

    #: sums two tangents; set by adserver.ops to its add primitive (the engine has no ops)
    add = None

    def __init__(self, name, fun, status=DIFFERENTIABLE, client=None):
        self.name = name
        self.fun = fun
        self.vjps = {}
        self.jvps = {}
        self.status = status
        self.client = client  # set for primitives whose rules live in a client

    def defvjp(self, *rules, argnums=None):
        """Rules for arguments 0, 1, ... in order (or for ``argnums``); None leaves one out."""
        for i, rule in zip(argnums or range(len(rules)), rules):
            if rule is not None:
                self.vjps[i] = rule
        return self

    def defjvp(self, *rules, argnums=None):
        """Forward rules for arguments 0, 1, ... in order (or for ``argnums``)."""
        for i, rule in zip(argnums or range(len(rules)), rules):
            if rule is not None:
                self.jvps[i] = rule
        return self

    def def_linear(self, *argnums):
        """The op is linear in each of these arguments: its tangent is the op applied to t."""
        def linear_rule(i):
            def rule(t, ans, *args, **kwargs):
                args = list(args)
                args[i] = t
                return self(*args, **kwargs)
            return rule
        for i in argnums:
            self.jvps[i] = linear_rule(i)
        return self

    def __call__(self, *args, **kwargs):
        top = 0
        for a in args:
            if type(a) is Box and a._level > top:
                top = a._level
        if kwargs:
            for key, value in kwargs.items():
                if type(value) is Box:
                    # Only positional arguments are traced: a traced keyword would reach
                    # numpy as an opaque object and lose its gradient without a word.
                    raise TypeError(f"op '{self.name}': pass the traced value of '{key}' "
                                    "as a positional argument")
        if not top:
            return self.fun(*args, **kwargs)
        if top == RECORD_LEVEL:
            # A tape being compiled (adserver/tape.py): its boxes carry the recorder, which
            # notes the call as an instruction and boxes the answer in a slot of its own.
            for a in args:
                if type(a) is Box and a._level == top:
                    return a._node.record(self, args, kwargs)
        if self.status == ZERO_GRADIENT:
            return self.fun(*[getval_all(a) for a in args], **kwargs)
        argnums = []
        parents = []
        argvals = list(args)
        deeper = False          # whether boxes of lower levels remain once top's are off
        for i, a in enumerate(args):
            if type(a) is Box:
                if a._level == top:
                    argnums.append(i)
                    parents.append(a._node)
                    a = argvals[i] = a._value
                    if type(a) is Box:
                        deeper = True
                else:
                    deeper = True
        if type(parents[0]) is ForwardNode and self.client is not None:
            # A client primitive's tangents were computed by the client with its own rules,
            # one for each forward level among its arguments.
            tangent = (kwargs.get("_tangents") or {}).get(top)
            if tangent is None:
                raise NotDifferentiable(
                    f"'{self.name}' is defined in the client, which gave no forward-mode "
                    f"tangent for it at level {top} (define one with defjvp)")
            return Box(self(*argvals, **kwargs), top, ForwardNode(tangent))
        # One level at a time: with no boxes left, the raw function (the common case of
        # a first-order trace) without a second pass through this method.
        ans = self(*argvals, **kwargs) if deeper else self.fun(*argvals, **kwargs)
        if type(parents[0]) is ForwardNode:
            tangent = None
            for i, parent in zip(argnums, parents):
                t = self.jvp(i, parent.tangent, ans, argvals, kwargs)
                tangent = t if tangent is None else Primitive.add(tangent, t)
            return Box(ans, top, ForwardNode(tangent))
        node = Node(self, tuple(parents), tuple(argnums), ans, tuple(argvals), kwargs)
        return Box(ans, top, node)

    def vjp(self, argnum, g, node):
        rule = self.vjps.get(argnum)
        if rule is None:
            if self.status == NOT_DIFFERENTIABLE:
                raise NotDifferentiable(
                    f"op '{self.name}' is not differentiable (asked for argument {argnum})")
            raise NotDifferentiable(
                f"op '{self.name}' has no gradient with respect to argument {argnum}")
        return rule(g, node.ans, *node.args, **node.kwargs)

    def jvp(self, argnum, t, ans, args, kwargs):
        rule = self.jvps.get(argnum)
        if rule is None:
            if self.client is not None:
                raise NotDifferentiable(
                    f"'{self.name}' is defined in the client and has no forward-mode rule")
            if self.status == NOT_DIFFERENTIABLE:
                raise NotDifferentiable(
                    f"op '{self.name}' is not differentiable (asked for argument {argnum})")
            raise NotDifferentiable(f"op '{self.name}' has no forward-mode rule (JVP) for "
                                    f"argument {argnum}")
        return rule(t, ans, *args, **kwargs)

    def __repr__(self):
        return f"<primitive {self.name}>"
