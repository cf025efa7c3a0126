"""How large and how costly an op's answer is, known from its arguments before it runs.

Every registered op declares, beside its signature (params.py), a **size rule** and a
**cost rule**:

- ``size(args, kwargs)`` gives the answer's ``Out(shape, dtype)`` (a list of them for an
  op with several results) from the arguments' shapes and dtypes alone. The session
  refuses an op whose answer would break ``--max-session-bytes`` before it allocates
  anything. Where the shape depends on the values (``nonzero``, a boolean mask), the rule
  gives an upper bound and says so (``bound=True``).
- ``cost(args, kwargs, outs)`` estimates the work in units of about one elementary
  operation of a numpy loop (a BLAS product counts a fraction of its multiply-adds, as
  it runs that much faster). The session refuses an op above ``--max-op-cost``, so that
  one small message cannot hold the daemon for seconds.

tests/test_op_table.py walks the registry and checks every size rule against the real
answer on the gradient checker's cases, as test_ops_gradcheck.py does for the VJP rules.
The rules are small functions of shapes: the helpers below are what most of them share.
"""
import math

import numpy as np

from ..engine.tracer import Box, getval_all

F64 = np.dtype(np.float64)
C128 = np.dtype(np.complex128)
I64 = np.dtype(np.int64)
BOOL = np.dtype(np.bool_)

BLAS_SPEEDUP = 8.0      # a BLAS multiply-add against one step of a numpy loop


class Out:
    """One answer's shape and dtype; ``bound`` when the shape is only an upper bound."""

    __slots__ = ("shape", "dtype", "bound", "numel", "nbytes")

    def __init__(self, shape, dtype, bound=False):
        if type(shape) is not tuple:
            shape = tuple(int(n) for n in shape)
        if type(dtype) is not np.dtype:
            dtype = np.dtype(dtype)
        self.shape = shape
        self.dtype = dtype
        self.bound = bound
        self.numel = math.prod(shape)
        self.nbytes = self.numel * dtype.itemsize

    def __repr__(self):
        return f"Out({self.shape}, {self.dtype}{', bound' if self.bound else ''})"


def outs_of(size):
    """A size rule's answer as a list of Out."""
    return size if isinstance(size, list) else [size]


def nbytes(size):
    if type(size) is Out:
        return size.nbytes
    return sum(o.nbytes for o in size)


def numel(size):
    if type(size) is Out:
        return size.numel
    return sum(o.numel for o in size)


# --- reading arguments ------------------------------------------------------------------------
def raw(x):
    while type(x) is Box:
        x = x._value
    return x


def shape(x):
    """The shape of an argument (an array, a traced value, a number, a list of numbers).

    A list's shape is read from its items, never by building the array: a list of 1024
    references to one large array is small on the wire and would be large in memory.
    """
    x = raw(x)
    if type(x) is np.ndarray:
        return x.shape
    if type(x) in (list, tuple):
        return _list_shape(x)
    return ()


def _list_shape(items):
    if not items:
        return (0,)
    inner = shape(items[0])
    for item in items:
        if shape(item) != inner:
            raise ValueError("setting an array element with a sequence: the list is "
                             f"inhomogeneous (items of shapes {inner} and {shape(item)})")
    return (len(items),) + inner


def size_of(x):
    return math.prod(shape(x))


def dtype(x):
    """The dtype numpy gives an argument; Python numbers as numpy takes them alone."""
    x = raw(x)
    if type(x) is np.ndarray or isinstance(x, np.generic):
        return x.dtype
    if type(x) in (list, tuple):
        # The dtype numpy discovers for the list, read from its items without building it
        # (np.result_type would read a list as a structured dtype's fields).
        return np.result_type(*_leaf_dtypes(x, set())) if x else F64
    return np.result_type(x)


_PYTHON_DTYPES = {bool: BOOL, float: F64, complex: C128}


def _leaf_dtypes(items, found):
    for item in items:
        item = raw(item)
        t = type(item)
        if t is list or t is tuple:
            _leaf_dtypes(item, found)
        elif t is int:
            found.add(I64 if -(1 << 63) <= item < (1 << 63) else np.dtype(np.uint64))
        elif t in _PYTHON_DTYPES:
            found.add(_PYTHON_DTYPES[t])
        else:
            found.add(dtype(item))
    return found


def weak(x):
    """An argument as numpy's type resolution sees it: Python numbers stay weak (NEP 50)."""
    x = raw(x)
    t = type(x)
    if t is float or t is int or t is complex or t is bool:
        return t
    return dtype(x)


def arg(args, kwargs, index, name, default=None):
    """Argument ``name`` of an op, whether it came by position ``index`` or by name."""
    if index is not None and index < len(args):
        return args[index]
    return kwargs.get(name, default)


def axes(axis, ndim):
    """``axis`` (None, an int, a sequence) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(sorted(int(a) % max(ndim, 1) for a in axis))
    return (int(axis) % max(ndim, 1),)


def broadcast(*shapes):
    return np.broadcast_shapes(*shapes)


def inexact(dt):
    """The dtype numpy computes a float function of ``dt`` in (ints and bools: float64)."""
    dt = np.dtype(dt)
    return dt if dt.kind in "fc" else F64


# --- rules most ops share ------------------------------------------------------------------------
_ELEMENTWISE = {}      # (ufunc, argument dtypes, shape) -> its Out: the hot path's cache


def elementwise(ufunc):
    """Size rule of a ufunc: the broadcast shape, numpy's own result dtype.

    Cached on the inputs' dtypes (numpy's type resolution costs microseconds).
    """
    nin, nout = ufunc.nin, ufunc.nout

    def size(args, kwargs):
        # (the hot path of every traced arithmetic op: plain loops, no numpy calls where
        # the shapes agree)
        shapes, key = [], [ufunc]
        for a in args:
            while type(a) is Box:
                a = a._value
            t = type(a)
            if t is np.ndarray:
                shapes.append(a.shape)
                key.append(a.dtype)
            elif t is float or t is int or t is complex or t is bool:
                key.append(t)
            elif t is np.float64 or t is np.complex128:
                key.append(a.dtype)     # a strong scalar (NEP 50) of shape ()
            else:
                shapes.append(shape(a))
                key.append(weak(a))
        if not shapes:
            s = ()
        elif len(shapes) == 1 or all(x == shapes[0] for x in shapes):
            s = shapes[0]
        else:
            try:
                s = np.broadcast_shapes(*shapes)
            except ValueError:
                raise ValueError("operands could not be broadcast together with shapes " +
                                 " ".join(str(x) for x in shapes)) from None
        key.append(s)
        key = tuple(key)
        out = _ELEMENTWISE.get(key)
        if out is None:
            dt = ufunc.resolve_dtypes(key[1:-1] + (None,) * nout)[nin:]
            out = Out(s, dt[0]) if nout == 1 else [Out(s, d) for d in dt]
            if len(_ELEMENTWISE) > 4096:
                _ELEMENTWISE.clear()
            _ELEMENTWISE[key] = out
        return out
    return size


def like(index=0, name="x", dtype_rule=None):
    """The answer is shaped like argument ``index``; its dtype is that argument's, or
    ``dtype_rule(dtype)`` of it."""
    def size(args, kwargs):
        x = arg(args, kwargs, index, name)
        dt = dtype(x)
        return Out(shape(x), dtype_rule(dt) if dtype_rule else dt)
    return size


def reduced(index=0, name="a", axis_index=1, dtype_rule=None, keepdims_index=None):
    """A reduction over ``axis``: the shape without those axes (or with length 1 there
    when keepdims); dtype ``dtype_rule(input dtype, kwargs)`` or the input's."""
    def size(args, kwargs):
        x = arg(args, kwargs, index, name)
        s = shape(x)
        ax = axes(arg(args, kwargs, axis_index, "axis"), len(s))
        keep = arg(args, kwargs, keepdims_index, "keepdims", False)
        out = tuple(1 if i in ax else n for i, n in enumerate(s)) if keep else \
            tuple(n for i, n in enumerate(s) if i not in ax)
        dt = dtype(x)
        return Out(out, dtype_rule(dt, args, kwargs) if dtype_rule else dt)
    return size


def scalar(dt=F64):
    return lambda args, kwargs: Out((), dt)


# --- cost rules --------------------------------------------------------------------------------
def linear(weight=1.0):
    """Work proportional to the elements read and written."""
    def cost(args, kwargs, outs):
        return weight * (sum(size_of(a) for a in args) + numel(outs))
    return cost


LINEAR = linear()


#: Work for each Python object an op reads from a list argument or makes as one of several
#: results: an array in a list to stack or split into costs numpy microseconds, whatever its
#: size (stacking a million one-element arrays ran 4.5 s); a plain number far less.
ARRAY_ITEM_WORK = 20_000
NUMBER_ITEM_WORK = 200


def object_work(args, kwargs, size):
    """The work an op does per Python object, beside its own cost rule (every op)."""
    work = 0
    for a in args:
        t = type(a)
        if t is list or t is tuple:
            work += _items_work(a, 0)
    if kwargs:
        for a in kwargs.values():
            if type(a) is list or type(a) is tuple:
                work += _items_work(a, 0)
    if type(size) is list:
        work += ARRAY_ITEM_WORK * len(size)
    return work


def _items_work(items, depth):
    work = 0
    for x in items:
        t = type(x)
        if t is list or t is tuple:
            work += NUMBER_ITEM_WORK + (_items_work(x, depth + 1) if depth < 32 else 0)
        elif t is np.ndarray or t is Box:
            work += ARRAY_ITEM_WORK
        else:
            work += NUMBER_ITEM_WORK
    return work


def per_output(weight=1.0):
    """Work proportional to the answer's elements, ``weight`` each: an elementwise op,
    whose inputs are never larger than its (broadcast) answer."""
    def cost(args, kwargs, outs):
        return weight * numel(outs)
    return cost


def n_log_n(weight=1.0):
    """Sorting-like work over the largest argument."""
    def cost(args, kwargs, outs):
        n = max([size_of(a) for a in args] + [numel(outs), 1])
        return weight * n * max(math.log2(n), 1.0) + numel(outs)
    return cost


# --- dtypes numpy itself resolves ----------------------------------------------------------------
_ANSWER_DTYPES = {}


def stand_in(x, value=1):
    """A one-element value numpy's type resolution treats as it treats argument ``x``: a
    Python number stays one (weak, NEP 50), anything else becomes an array of x's dtype."""
    if x is None:
        return None
    w = weak(x)
    return w(value) if isinstance(w, type) else np.full(1, value, w)


def answer_dtype(fun, *inputs, **options):
    """The dtype of ``fun``'s answer for inputs of these dtypes: ``fun`` run once on
    one-element stand-ins (holding 1) with ``options``, the result cached on the dtypes.

    For functions whose dtype rules are numpy's own (mean of ints is float64, quantile's
    discontinuous methods keep ints, ...). ``options`` must be hashable and hold only what
    the dtype may depend on (dtype=, method=); ``fun`` must accept 1 in each input.
    """
    key = (fun, tuple(None if x is None else weak(x) for x in inputs),
           tuple(sorted(options.items())))
    dt = _ANSWER_DTYPES.get(key)
    if dt is None:
        with np.errstate(all="ignore"):
            answer = fun(*[stand_in(x) for x in inputs], **options)
        dt = np.asarray(raw(answer[0] if isinstance(answer, tuple) else answer)).dtype
        if len(_ANSWER_DTYPES) > 4096:
            _ANSWER_DTYPES.clear()
        _ANSWER_DTYPES[key] = dt
    return dt
