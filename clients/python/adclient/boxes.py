"""Box: autograd's name for a traced value, and the registry of user-defined box types.

Traced arrays are RemoteArrays (their values live on the daemon), so ``isinstance(x, Box)``
is true for a RemoteArray inside a trace. A user type is made differentiable as in
autograd: subclass Box for it and call ``MyBox.register(MyType)`` (with a VSpace
subclass registered for it too); user_types.py traces such values here in the client.
"""
from .proxy import RemoteArray


class _BoxType(type):
    def __instancecheck__(cls, obj):
        if cls is Box and type(obj) is RemoteArray:
            return obj._level > 0
        return type.__instancecheck__(cls, obj)


class Box(metaclass=_BoxType):
    """A value being traced: ``_value`` the value, ``_trace`` the trace's level, ``_node``
    its place in the client's record of the trace."""

    type_mappings = {}    # value type (and box type) -> the box type that traces it
    types = set()         # the registered box types

    __slots__ = ("_value", "_trace", "_node")

    def __init__(self, value, trace, node):
        self._value = value
        self._trace = trace
        self._node = node

    def __bool__(self):
        return bool(self._value)

    def __str__(self):
        return f"Autograd {type(self).__name__} with value {self._value}"

    @classmethod
    def register(cls, value_type):
        """Trace values of ``value_type`` in boxes of this class."""
        Box.types.add(cls)
        Box.type_mappings[value_type] = cls
        Box.type_mappings[cls] = cls


box_type_mappings = Box.type_mappings
box_types = Box.types


def isbox(x):
    """Whether ``x`` is being traced (a RemoteArray inside a trace, or a user box)."""
    t = type(x)
    return (t is RemoteArray and x._level > 0) or t in box_types


def is_user_box(x):
    return type(x) in box_types


def getval(x):
    """The value beneath every trace: a user box's value, a traced RemoteArray's value
    (still on the daemon, as a constant), anything else itself."""
    if type(x) in box_types:
        return getval(x._value)
    if type(x) is RemoteArray and x._level > 0:
        s = x._session
        return RemoteArray(s, s.op("value", [x]), 0)
    return x


def new_box(value, trace, node):
    """``value`` in the box type registered for its type."""
    try:
        return box_type_mappings[type(value)](value, trace, node)
    except KeyError:
        raise TypeError(f"Can't differentiate w.r.t. type {type(value)}") from None


class Node:
    """A place in a trace's graph (autograd's tracer.Node): subclasses say what to keep."""

    __slots__ = ()

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        raise NotImplementedError

    def initialize_root(self, *args, **kwargs):
        raise NotImplementedError

    @classmethod
    def new_root(cls, *args, **kwargs):
        root = cls.__new__(cls)
        root.initialize_root(*args, **kwargs)
        return root


class VJPNode(Node):
    """autograd's reverse-mode node type, as a name: the daemon holds the nodes."""
    __slots__ = ()

    def initialize_root(self, *args, **kwargs):
        pass


class JVPNode(Node):
    """autograd's forward-mode node type, as a name: the daemon holds the tangents."""
    __slots__ = ()

    def initialize_root(self, *args, **kwargs):
        pass


#: node type -> primitives asked not to be traced for it (recorded, not acted on: the
#: daemon decides what it traces)
notrace_primitives = {}


def register_notrace(trace_type, primitive_fun):
    notrace_primitives.setdefault(trace_type, set()).add(primitive_fun)
