"""RemoteArray: a client-side name for an array (or traced value) held by the daemon.

Every operation on a RemoteArray queues one op and returns a new RemoteArray at once;
only reading a value (``float(x)``, ``bool(x)``, ``np.asarray(x)``, ``.shape`` when it
is not known yet) waits for the daemon.
"""
import math

import numpy as np

from adproto import vocabulary


class RemoteArray:
    __slots__ = ("__adhandle__", "_session", "_level", "_meta", "__weakref__")
    # numpy defers to us in mixed expressions (ndarray + RemoteArray).
    __array_priority__ = 1000.0

    def __init__(self, session, handle, level=0, meta=None):
        self.__adhandle__ = handle
        self._session = session
        self._level = level          # highest trace level it may be boxed at; 0 = constant
        self._meta = meta            # (shape, dtype) once known

    def __del__(self):
        try:
            meta = self._meta
            self._session.release(self.__adhandle__, None if meta is None or
                                  meta[1].kind == "O" else
                                  meta[1].itemsize * math.prod(meta[0]))
        except Exception:
            pass

    # --- values ------------------------------------------------------------------------
    def get(self):
        """The value, fetched from the daemon as a numpy array."""
        (value,), _ = self._session.sync(fetch=[self.__adhandle__])
        if self._meta is None:
            self._meta = (value.shape, value.dtype)
        return value

    value = property(get, doc="The value, fetched from the daemon (same as get()).")

    def __array__(self, dtype=None, copy=None):
        v = self.get()
        return v if dtype is None else v.astype(dtype)

    def __float__(self):
        return float(self.get())

    def __int__(self):
        return int(self.get())

    def __complex__(self):
        return complex(self.get())

    def __bool__(self):
        return bool(self.get())

    def __index__(self):
        return int(self.get())

    def item(self):
        return self.get().item()

    def tolist(self):
        return self.get().tolist()

    # --- metadata --------------------------------------------------------------------------
    def _fetch_meta(self):
        if self._meta is None:
            _, (m,) = self._session.sync(meta=[self.__adhandle__])
            # "tuple": the handle holds several results (split, eigh): len() and
            # iteration unpack them.
            self._meta = (tuple(m[0]), np.dtype(object) if m[1] == "tuple" else np.dtype(m[1]))
        return self._meta

    @property
    def shape(self):
        return self._fetch_meta()[0]

    @property
    def dtype(self):
        return self._fetch_meta()[1]

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of unsized object")
        return shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        try:
            value = repr(self.get())
        except Exception as exc:  # a poisoned handle still has a repr
            value = f"<unavailable: {exc}>"
        shape = self._meta[0] if self._meta else "?"
        return (f"RemoteArray({value}, shape={shape}, handle={self.__adhandle__}, "
                f"trace_level={self._level})")

    # --- numpy interoperation ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__
        if method == "__call__" and name not in vocabulary.OPS:
            raise TypeError(_unsupported(name))
        if method != "__call__" or kwargs.get("out") is not None:
            raise TypeError(f"numpy.{ufunc.__name__}.{method} is not supported on a "
                            "RemoteArray; use adclient.numpy")
        return call(name, inputs, kwargs or None)

    def __array_function__(self, func, types, args, kwargs):
        from .namespaces import wrapped
        f = wrapped.get(func.__name__)
        if f is not None:
            return f(*args, **kwargs)
        if func.__name__ in _ON_VALUES:
            # Questions about values, whose answers carry no gradient: asked of the values.
            return func(*_fetched(args), **dict(zip(kwargs, _fetched(list(kwargs.values())))))
        raise TypeError(_unsupported(func.__name__))

    # --- operators ----------------------------------------------------------------------------
    def __add__(self, other): return call("add", (self, other))
    def __radd__(self, other): return call("add", (other, self))
    def __sub__(self, other): return call("subtract", (self, other))
    def __rsub__(self, other): return call("subtract", (other, self))
    def __mul__(self, other): return call("multiply", (self, other))
    def __rmul__(self, other): return call("multiply", (other, self))
    def __truediv__(self, other): return call("divide", (self, other))
    def __rtruediv__(self, other): return call("divide", (other, self))
    def __pow__(self, other): return call("power", (self, other))
    def __rpow__(self, other): return call("power", (other, self))
    def __mod__(self, other): return call("remainder", (self, other))
    def __rmod__(self, other): return call("remainder", (other, self))
    def __matmul__(self, other): return call("matmul", (self, other))
    def __rmatmul__(self, other): return call("matmul", (other, self))
    def __neg__(self): return call("negative", (self,))
    def __pos__(self): return self
    def __abs__(self): return call("absolute", (self,))
    def __lt__(self, other): return call("less", (self, other))
    def __le__(self, other): return call("less_equal", (self, other))
    def __gt__(self, other): return call("greater", (self, other))
    def __ge__(self, other): return call("greater_equal", (self, other))
    def __eq__(self, other): return call("equal", (self, other))
    def __ne__(self, other): return call("not_equal", (self, other))
    __hash__ = None

    def __getitem__(self, index):
        return call("getitem", (self, _wire_index(index)))

    @property
    def T(self):
        return call("transpose", (self,))

    def __setitem__(self, index, value):
        """``A[i] = x``: a functional update on the daemon; this RemoteArray is rebound to
        the updated array, so gradients flow to both A's old value and x."""
        new = call("setitem", (self, _wire_index(index), value))
        old, self.__adhandle__ = self.__adhandle__, new.__adhandle__
        new.__adhandle__ = old          # the old handle is released with ``new``
        self._level = max(self._level, new._level)

    # ndarray methods: each is the op of the same name, with self as first argument.
    def sum(self, axis=None, keepdims=False):
        return call("sum", (self,), _kw(axis=axis, keepdims=keepdims))

    def mean(self, axis=None, keepdims=False):
        return call("mean", (self,), _kw(axis=axis, keepdims=keepdims))

    def max(self, axis=None, keepdims=False):
        return call("max", (self,), _kw(axis=axis, keepdims=keepdims))

    def min(self, axis=None, keepdims=False):
        return call("min", (self,), _kw(axis=axis, keepdims=keepdims))

    def prod(self, axis=None, keepdims=False):
        return call("prod", (self,), _kw(axis=axis, keepdims=keepdims))

    def var(self, axis=None, ddof=0, keepdims=False):
        return call("var", (self,), _kw(axis=axis, ddof=ddof or None, keepdims=keepdims))

    def std(self, axis=None, ddof=0, keepdims=False):
        return call("std", (self,), _kw(axis=axis, ddof=ddof or None, keepdims=keepdims))

    def cumsum(self, axis=None):
        return call("cumsum", (self,), _kw(axis=axis))

    def cumprod(self, axis=None):
        return call("cumprod", (self,), _kw(axis=axis))

    def argmax(self, axis=None):
        return call("argmax", (self,), _kw(axis=axis))

    def argmin(self, axis=None):
        return call("argmin", (self,), _kw(axis=axis))

    def argsort(self, axis=-1):
        return call("argsort", (self,), {"axis": axis})

    def clip(self, min=None, max=None):
        return call("clip", (self, min, max))

    def round(self, decimals=0):
        return call("round", (self,), _kw(decimals=decimals or None))

    def conj(self):
        return call("conj", (self,))

    conjugate = conj

    @property
    def real(self):
        return call("real", (self,))

    @property
    def imag(self):
        return call("imag", (self,))

    def astype(self, dtype):
        return call("astype", (self, np.dtype(dtype).name))

    def ravel(self):
        return call("reshape", (self, (-1,)))

    flatten = ravel

    def squeeze(self, axis=None):
        return call("squeeze", (self,), _kw(axis=axis))

    def swapaxes(self, axis1, axis2):
        return call("swapaxes", (self, axis1, axis2))

    def trace(self, offset=0, axis1=0, axis2=1):
        return call("trace", (self, offset, axis1, axis2))

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return call("diagonal", (self, offset, axis1, axis2))

    def repeat(self, repeats, axis=None):
        return call("repeat", (self, repeats), _kw(axis=axis))

    def take(self, indices, axis=None):
        return call("take", (self, indices), _kw(axis=axis))

    def dot(self, other):
        return call("dot", (self, other))

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return call("reshape", (self, tuple(shape)))

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        return call("transpose", (self, tuple(axes) if axes else None))


# numpy functions that inspect values and return answers with no gradient (booleans,
# shapes, dtypes): on traced values they are asked of the values themselves.
_ON_VALUES = frozenset({
    "iscomplex", "isreal", "iscomplexobj", "isrealobj", "isscalar", "allclose", "isclose",
    "array_equal", "array_equiv", "shape", "ndim", "size", "result_type", "can_cast",
    "any", "all", "count_nonzero", "array_repr", "array_str", "array2string",
})


#: why the daemon has no op for a numpy function, where there is more to say than that
_WHY_NOT = dict.fromkeys(
    ["unique", "intersect1d", "union1d", "setdiff1d", "setxor1d", "in1d", "isin"],
    "a set routine's answer is not a differentiable function of the values, and autograd "
    "has no gradient for it either")


def _unsupported(name):
    """Why numpy.``name`` cannot take a RemoteArray, and what to do instead."""
    why = _WHY_NOT.get(name)
    return (f"numpy.{name} is not supported on a RemoteArray: the daemon has no op for it"
            + (f" ({why})" if why else "") +
            ". docs/OPS.md lists the ops that can take traced values (adclient.numpy's "
            f"{name} is numpy's own, for plain values); to use its answer as a constant, "
            f"call it on the value, numpy.{name}(x.get())")


def _fetched(values):
    """``values`` with every RemoteArray (also inside lists and tuples) fetched, in one sync."""
    remote = []

    def collect(v):
        if type(v) is RemoteArray:
            remote.append(v)
        elif type(v) in (list, tuple):
            for x in v:
                collect(x)
    for v in values:
        collect(v)
    if not remote:
        return list(values)
    fetched, _ = remote[0]._session.sync(fetch=remote)
    by_id = dict(zip(map(id, remote), fetched))

    def put(v):
        if type(v) is RemoteArray:
            return by_id[id(v)]
        if type(v) in (list, tuple):
            return type(v)(put(x) for x in v)
        return v
    return [put(v) for v in values]


def _kw(**kwargs):
    return {k: v for k, v in kwargs.items() if v is not None and v is not False} or None


def _wire_index(index):
    # Lists inside an index mean fancy indexing to numpy; keep them as arrays so that the
    # daemon sees the same thing numpy would.
    if isinstance(index, tuple):
        return tuple(_wire_index(i) for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def stacked(obj):
    """A list or tuple holding RemoteArrays as one traced array (the daemon's
    array_from_args), as numpy.array would make it, so that gradients flow to its items."""
    if isinstance(obj, (list, tuple)):
        return call("array_from_args", [stacked(o) for o in obj])
    return obj


def _levels(args):
    top = 0
    for a in args:
        t = type(a)
        if t is RemoteArray:
            if a._level > top:
                top = a._level
        elif t is list or t is tuple:
            sub = _levels(a)
            if sub > top:
                top = sub
    return top


def has_remote(args):
    """Whether a RemoteArray is among ``args`` (looking inside lists and tuples)."""
    for a in args:
        t = type(a)
        if t is RemoteArray:
            return True
        if (t is list or t is tuple) and has_remote(a):
            return True
    return False


def _session_of(args):
    for a in args:
        t = type(a)
        if t is RemoteArray:
            return a._session
        if t is list or t is tuple:
            s = _session_of(a)
            if s is not None:
                return s
    return None


def call(name, args, kwargs=None):
    """Queue op ``name`` on the daemon and return its result as a RemoteArray."""
    session, level = None, 0
    for a in args:      # session and trace level in one pass when no argument is nested
        t = type(a)
        if t is RemoteArray:
            if session is None:
                session = a._session
            if a._level > level:
                level = a._level
        elif t is list or t is tuple:
            session, level = _session_of(args), _levels(args)
            break
    if name in _ZERO_GRADIENT:
        level = 0
    handle = session.op(name, list(args), kwargs)
    meta = _ufunc_meta(name, args) if kwargs is None and name in _UFUNCS else None
    result = RemoteArray(session, handle, level, meta)
    if observers and level:
        observers[-1](name, args, kwargs, result)
    return result


#: tracer.trace's watchers of the ops issued on traced values (innermost last): each is
#: called as ``watch(op name, args, kwargs, answer)`` after the op is queued
observers = []


# --- shapes and dtypes known without asking the daemon ---------------------------------------
# A ufunc's answer has the broadcast shape of its arguments, and a dtype that depends only
# on theirs (and on the kinds of Python numbers among them: NEP 50). Knowing both here
# saves a round trip whenever the code asks for a shape (a training loop's update of its
# parameters, a replay's signature). Dtypes are worked out once per combination, by numpy.
_ZERO_GRADIENT = vocabulary.ZERO_GRADIENT
_UFUNCS = {name: getattr(np, name) for name in vocabulary.OPS
           if isinstance(getattr(np, name, None), np.ufunc)
           and getattr(np, name).signature is None}      # matmul is not elementwise
_RESULT_DTYPES = {}
_SCALARS = (float, int, complex, bool)


def _ufunc_meta(name, args):
    # the common cases first: one array, or an array and a Python number, both seen before
    n = len(args)
    if n == 1:
        a = args[0]
        if type(a) is RemoteArray and a._meta is not None:
            dtype = _RESULT_DTYPES.get((name, a._meta[1]))
            if dtype is not None:
                return a._meta[0], dtype
    elif n == 2:
        a, b = args
        if type(a) is RemoteArray and type(b) in _SCALARS and a._meta is not None:
            meta, key = a._meta, (name, a._meta[1], type(b))
        elif type(b) is RemoteArray and type(a) in _SCALARS and b._meta is not None:
            meta, key = b._meta, (name, type(a), b._meta[1])
        else:
            return _ufunc_meta_general(name, args)
        dtype = _RESULT_DTYPES.get(key)
        if dtype is not None:
            return meta[0], dtype
    return _ufunc_meta_general(name, args)


def _ufunc_meta_general(name, args):
    shapes, kinds = [], []
    for a in args:
        t = type(a)
        if t is RemoteArray:
            meta = a._meta
            if meta is None or meta[1].kind == "O":
                return None
            shapes.append(meta[0])
            kinds.append(meta[1])
        elif t in _SCALARS:
            kinds.append(t)
        elif t is np.ndarray:
            shapes.append(a.shape)
            kinds.append(a.dtype)
        elif isinstance(a, np.generic):
            kinds.append(type(a.item()))    # the wire carries numpy scalars as Python ones
        else:
            return None
    key = (name, *kinds)
    dtype = _RESULT_DTYPES.get(key)
    if dtype is None:
        dummies = [k(1) if type(k) is type else np.ones((), dtype=k) for k in kinds]
        try:
            with np.errstate(all="ignore"):
                out = _UFUNCS[name](*dummies)
        except Exception:
            return None
        if type(out) is tuple:       # frexp, modf, divmod: several answers in one handle
            return None
        dtype = _RESULT_DTYPES[key] = np.asarray(out).dtype
    first = shapes[0] if shapes else ()
    for shape in shapes:
        if shape != first:
            try:
                return np.broadcast_shapes(*shapes), dtype
            except ValueError:
                return None     # the daemon will say what is wrong
    return first, dtype
