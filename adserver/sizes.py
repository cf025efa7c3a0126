"""How large an op's answer will be, for the ops whose answer can dwarf their arguments.

The session checks ``max_session_bytes`` after an op has run, against what it made. That
is too late for an op that builds a huge array from a few numbers (``ones((2**40,))``) or
from small arrays (an outer product, a broadcast ``a[:, None] + b``): the allocation itself
could exhaust the host before any check. For those ops, ``estimate(name, args, kwargs)``
gives the answer's size in bytes from the arguments' shapes alone, so that the session can
refuse the op before it runs. It returns None when it cannot tell (then the check after
the op still applies): every other op's answer is at most a few times its arguments,
which the session already holds within its limit.
"""
import math

import numpy as np

from .engine import Box, getval_all

_BYTES = 8      # per element unless a dtype says otherwise (float64, the daemon's default)


def _shape_arg(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _itemsize(kwargs, default=_BYTES):
    dtype = kwargs.get("dtype")
    if dtype is None:
        return default
    try:
        return np.dtype(dtype).itemsize
    except TypeError:
        return default


def _numel(shape):
    return math.prod(max(int(n), 0) for n in shape)


def _shape_of(x):
    return np.shape(getval_all(x))


def _array_itemsize(*xs):
    size = _BYTES
    for x in xs:
        raw = getval_all(x)
        if isinstance(raw, (np.ndarray, np.generic)):
            size = max(size, raw.dtype.itemsize)
    return size


def _creation(args, kwargs):
    shape = args[0] if args else kwargs.get("shape")
    return _numel(_shape_arg(shape)) * _itemsize(kwargs)


def _eye(args, kwargs):
    n = int(args[0])
    m = int(args[1]) if len(args) > 1 and args[1] is not None else int(kwargs.get("M") or n)
    return n * m * _itemsize(kwargs)


def _linspace(args, kwargs):
    num = args[2] if len(args) > 2 else kwargs.get("num", 50)
    return int(num) * _BYTES


def _like(args, kwargs):
    shape = kwargs.get("shape")
    if shape is None:
        return None
    return _numel(_shape_arg(shape)) * _itemsize(kwargs, _array_itemsize(args[0]))


def _broadcast_to(args, kwargs):
    shape = args[1] if len(args) > 1 else kwargs.get("shape")
    return _numel(_shape_arg(shape)) * _array_itemsize(args[0])


def _tile(args, kwargs):
    shape, reps = _shape_of(args[0]), _shape_arg(args[1])
    n = max(len(shape), len(reps))
    shape = (1,) * (n - len(shape)) + shape
    reps = (1,) * (n - len(reps)) + reps
    return _numel(s * r for s, r in zip(shape, reps)) * _array_itemsize(args[0])


def _repeat(args, kwargs):
    repeats = args[1] if len(args) > 1 else kwargs.get("repeats")
    total = np.sum(getval_all(repeats))
    size = _numel(_shape_of(args[0]))
    axis = args[2] if len(args) > 2 else kwargs.get("axis")
    if np.ndim(getval_all(repeats)) == 0:
        return int(size * int(total)) * _array_itemsize(args[0])
    shape = _shape_of(args[0])
    if axis is None or not shape:
        return int(total) * _array_itemsize(args[0])
    return int(size // max(shape[axis], 1) * int(total)) * _array_itemsize(args[0])


def _outer(args, kwargs):
    return _numel(_shape_of(args[0])) * _numel(_shape_of(args[1])) * \
        _array_itemsize(args[0], args[1])


def _kron(args, kwargs):
    return _outer(args, kwargs)


def _matmul(args, kwargs):
    if len(args) < 2:
        return None
    a, b = _shape_of(args[0]), _shape_of(args[1])
    if len(a) < 2 or len(b) < 2:
        return None
    batch = np.broadcast_shapes(a[:-2], b[:-2])
    return _numel(batch + (a[-2], b[-1])) * _array_itemsize(args[0], args[1])


def _broadcasting(args, kwargs):
    # An elementwise op of arrays of different shapes: the broadcast shape's size. Run
    # before every such op, so the usual case (a number, or equal shapes) exits early.
    shapes = None
    for a in args:
        while type(a) is Box:
            a = a._value
        if type(a) is np.ndarray:
            if shapes is None:
                shapes = [a.shape]
            elif a.shape != shapes[0]:
                shapes.append(a.shape)
    if shapes is None or len(shapes) < 2:
        return None
    return _numel(np.broadcast_shapes(*shapes)) * _array_itemsize(*args)


ESTIMATORS = {
    "zeros": _creation, "ones": _creation, "full": _creation, "empty": _creation,
    "eye": _eye, "identity": lambda args, kwargs: _eye(args[:1], kwargs),
    "linspace": _linspace, "logspace": _linspace,
    "zeros_like": _like, "ones_like": _like, "full_like": _like, "empty_like": _like,
    "broadcast_to": _broadcast_to, "tile": _tile, "repeat": _repeat,
    "outer": _outer, "kron": _kron, "matmul": _matmul, "dot": _matmul,
}
for _name in ("add", "subtract", "multiply", "divide", "true_divide", "power", "maximum",
              "minimum", "where", "hypot", "arctan2", "logaddexp", "logaddexp2",
              "floor_divide", "mod", "remainder", "fmax", "fmin", "equal", "not_equal",
              "less", "less_equal", "greater", "greater_equal", "copysign", "float_power",
              "logical_and", "logical_or", "logical_xor", "heaviside", "ldexp", "fmod",
              "clip"):
    ESTIMATORS[_name] = _broadcasting


def estimate(name, args, kwargs):
    """Bytes of op ``name``'s answer, if it is one of the ops above and can tell; or None.

    Malformed arguments give None: the op itself will then say what is wrong with them.
    """
    fn = ESTIMATORS.get(name)
    if fn is None:
        return None
    try:
        return fn(args, kwargs)
    except Exception:
        return None
