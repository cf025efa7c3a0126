"""Reshaping and rearranging, joining and splitting, and arrays made from shapes and values.

Ops that only rearrange elements (flip, roll, rot90, tril, ...) are linear: their forward
rule is the op applied to the tangent, and their reverse rule its adjoint, which is mostly
the same op run backwards. Ops that give several arrays (split, meshgrid, ...) are
composites returning a list or tuple of single-array ops, as numpy returns them.
"""
import numpy as np

from ..engine.tracer import ZERO_GRADIENT, getval_all
from .base import unbroadcast, broadcast_like, shape_of, ndim_of
from .indexing import along_axis
from .registry import defop, defcomposite, VariadicRules, P

# --- reshaping and permuting axes ---------------------------------------------------------


def _reshape_vjp(g, ans, x, *args, **kw):
    # The cotangent must be laid back in the index order the forward pass read x in.
    order = kw.get("order", args[1] if len(args) > 1 else "C")
    if order == "A":  # 'A' means F for Fortran-contiguous input, else C
        order = "F" if np.isfortran(getval_all(x)) else "C"
    return P.reshape(g, shape_of(x), order=order)


def _transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return P.transpose(g)
    # argsort inverts the permutation only once negative axes are made positive.
    ndim = ndim_of(x)
    return P.transpose(g, tuple(np.argsort([a % ndim for a in axes])))


reshape = defop("reshape", np.reshape).def_linear(0)
reshape.defvjp(_reshape_vjp)

transpose = defop("transpose", np.transpose).def_linear(0)
transpose.defvjp(_transpose_vjp)

broadcast_to = defop("broadcast_to", np.broadcast_to).def_linear(0)
broadcast_to.defvjp(lambda g, ans, x, shape: unbroadcast(x, g))

expand_dims = defop("expand_dims", np.expand_dims).def_linear(0)
expand_dims.defvjp(lambda g, ans, x, axis: P.reshape(g, shape_of(x)))

squeeze = defop("squeeze", np.squeeze).def_linear(0)
squeeze.defvjp(lambda g, ans, x, axis=None: P.reshape(g, shape_of(x)))

# Moving axes back is moving them from where they went to where they came from.
moveaxis = defop("moveaxis", np.moveaxis).def_linear(0)
moveaxis.defvjp(lambda g, ans, a, source, destination: P.moveaxis(g, destination, source))


def swapaxes(a, axis1, axis2):
    perm = list(range(ndim_of(a)))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return P.transpose(a, perm)


def rollaxis(a, axis, start=0):
    n = ndim_of(a)
    if start < 0:
        start += n
    if not 0 <= start <= n:
        raise ValueError(f"rollaxis: start {start} is out of bounds for {n} dimensions")
    # numpy counts start before taking the axis out: past the axis, it is one place less.
    return P.moveaxis(a, axis, start - 1 if axis % n < start else start)


def _atleast_shape(shape, ndim):
    if len(shape) >= ndim:
        return shape
    if ndim == 3:  # numpy puts a vector or a matrix in front of a new last axis
        return _atleast_shape(shape, 2) + (1,)
    return (1,) * (ndim - len(shape)) + shape


def _atleast(ndim):
    def atleast(*arys):
        out = tuple(P.reshape(a, _atleast_shape(shape_of(a), ndim)) for a in arys)
        return out[0] if len(out) == 1 else out
    return atleast


defcomposite("swapaxes", swapaxes)
defcomposite("ravel", lambda a, order="C": P.reshape(a, (-1,), order=order))
defcomposite("permute_dims", lambda a, axes=None: P.transpose(a, axes))
defcomposite("rollaxis", rollaxis)
for _ndim in (1, 2, 3):
    defcomposite(f"atleast_{_ndim}d", _atleast(_ndim))

# --- rearranging: flips, rolls, rotations, repetitions ------------------------------------
flip = defop("flip", np.flip).def_linear(0)
flip.defvjp(lambda g, ans, m, axis=None: P.flip(g, axis))

roll = defop("roll", np.roll).def_linear(0)
roll.defvjp(lambda g, ans, a, shift, axis=None: P.roll(g, np.negative(shift), axis))

rot90 = defop("rot90", np.rot90).def_linear(0)
rot90.defvjp(lambda g, ans, m, k=1, axes=(0, 1): P.rot90(g, -k, axes))


def tile(A, reps):
    reps = tuple(reps) if np.ndim(reps) else (reps,)
    ndim = max(len(reps), ndim_of(A))
    shape = (1,) * (ndim - ndim_of(A)) + shape_of(A)
    reps = (1,) * (ndim - len(reps)) + reps
    # Each axis of length n becomes (1, n), is stretched to (r, n) and merged back into
    # r * n: r copies one after the other. Broadcasting's adjoint sums the copies.
    x = P.reshape(A, [m for n in shape for m in (1, n)])
    x = P.broadcast_to(x, [m for r, n in zip(reps, shape) for m in (r, n)])
    return P.reshape(x, [r * n for r, n in zip(reps, shape)])


def repeat(a, repeats, axis=None):
    if axis is None:
        a, axis = P.ravel(a), 0
    return P.take(a, np.repeat(np.arange(shape_of(a)[axis]), repeats), axis)


defcomposite("flipud", lambda m: P.flip(m, 0))
defcomposite("fliplr", lambda m: P.flip(m, 1))
defcomposite("tile", tile)
defcomposite("repeat", repeat)

# --- triangles and diagonals --------------------------------------------------------------
# A triangle is a projection, so its own adjoint; numpy stretches a vector into the rows
# of a matrix first, and the adjoint sums them back.
tril = defop("tril", np.tril).def_linear(0)
tril.defvjp(lambda g, ans, m, k=0: unbroadcast(m, P.tril(g, k)))

triu = defop("triu", np.triu).def_linear(0)
triu.defvjp(lambda g, ans, m, k=0: unbroadcast(m, P.triu(g, k)))


def _diagonal_index(rows, cols, offset):
    """Row and column numbers along diagonal ``offset`` of a rows x cols matrix."""
    i = np.arange(max(0, min(rows + min(offset, 0), cols - max(offset, 0))))
    return i - min(offset, 0), i + max(offset, 0)


def diagonal(a, offset=0, axis1=0, axis2=1):
    # numpy drops the two axes and appends the diagonal after the others.
    a = P.moveaxis(a, (axis1, axis2), (-2, -1))
    return P.getitem(a, (Ellipsis,) + _diagonal_index(*shape_of(a)[-2:], offset))


def diag(v, k=0):
    if ndim_of(v) == 2:
        return P.diagonal(v, k)
    if ndim_of(v) != 1:
        raise ValueError("diag: input must be 1- or 2-d")
    size = shape_of(v)[0] + abs(k)
    return P.untake(v, _diagonal_index(size, size, k), (size, size))


defcomposite("diagonal", diagonal)
defcomposite("diag", diag)
defcomposite("diagflat", lambda v, k=0: P.diag(P.ravel(v), k))

# --- joining ------------------------------------------------------------------------------


def _concatenate_args(axis, *arrays):
    """`numpy.concatenate(arrays, axis)`, with the arrays as separate arguments"""
    return np.concatenate(arrays, axis=axis)


concatenate_args = defop("concatenate_args", _concatenate_args)
defcomposite("concatenate", lambda arrays, axis=0: concatenate_args(axis, *arrays))


def _concatenate_vjp(argnum):
    def rule(g, ans, axis, *arrays):
        this = arrays[argnum - 1]
        if axis is None:
            # axis=None joins the flattened arrays: cut this one's run out of the flat g.
            start = sum(int(np.prod(shape_of(a))) for a in arrays[:argnum - 1])
            stop = start + int(np.prod(shape_of(this)))
            return P.reshape(P.getitem(g, slice(start, stop)), shape_of(this))
        start = sum(shape_of(a)[axis] for a in arrays[:argnum - 1])
        index = [slice(None)] * ndim_of(g)
        index[axis] = slice(start, start + shape_of(this)[axis])
        return P.getitem(g, tuple(index))
    return rule


def _concatenate_jvp(argnum):
    # concatenate is affine in each argument: the others contribute zeros to the tangent.
    def rule(t, ans, axis, *arrays):
        parts = [t if i == argnum - 1 else P.zeros_like(a) for i, a in enumerate(arrays)]
        return concatenate_args(axis, *parts)
    return rule


concatenate_args.vjps = VariadicRules(_concatenate_vjp, first=1)
concatenate_args.jvps = VariadicRules(_concatenate_jvp, first=1)


def stack(arrays, axis=0):
    return P.concatenate([P.expand_dims(a, axis) for a in arrays], axis=axis)


def vstack(tup):
    return P.concatenate([P.atleast_2d(a) for a in tup], axis=0)


def hstack(tup):
    arrays = [P.atleast_1d(a) for a in tup]
    return P.concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1)


def dstack(tup):
    return P.concatenate([P.atleast_3d(a) for a in tup], axis=2)


def column_stack(tup):
    # Scalars and vectors become columns; arrays of two or more axes join as they are.
    return P.concatenate([P.reshape(a, (-1, 1)) if ndim_of(a) < 2 else a for a in tup],
                         axis=1)


def append(arr, values, axis=None):
    if axis is None:
        return P.concatenate([P.ravel(arr), P.ravel(values)])
    return P.concatenate([arr, values], axis=axis)


for _fun in (stack, vstack, hstack, dstack, column_stack, append):
    defcomposite(_fun.__name__, _fun)

# --- splitting: lists of slices -----------------------------------------------------------


def array_split(ary, indices_or_sections, axis=0):
    n = shape_of(ary)[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("array_split: the number of sections must be positive")
        # As numpy splits: the first n % sections pieces take one element more.
        each, extra = divmod(n, sections)
        bounds = np.cumsum([0] + [each + 1] * extra + [each] * (sections - extra))
    else:
        bounds = [0, *indices_or_sections, n]
    return [P.getitem(ary, along_axis(axis, ndim_of(ary), slice(start, stop)))
            for start, stop in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    if np.ndim(indices_or_sections) == 0 and shape_of(ary)[axis] % indices_or_sections:
        raise ValueError("split: array split does not result in an equal division")
    return P.array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    if ndim_of(ary) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return P.split(ary, indices_or_sections, 1 if ndim_of(ary) > 1 else 0)


def vsplit(ary, indices_or_sections):
    if ndim_of(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return P.split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    if ndim_of(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return P.split(ary, indices_or_sections, 2)


for _fun in (array_split, split, hsplit, vsplit, dsplit):
    defcomposite(_fun.__name__, _fun)

# --- arrays made from values --------------------------------------------------------------
full = defop("full", np.full)
full.defvjp(lambda g, ans, shape, fill_value, *args, **kw: unbroadcast(fill_value, g),
            argnums=(1,))
full.defjvp(lambda t, ans, shape, fill_value, *args, **kw: broadcast_like(t, ans),
            argnums=(1,))


def _linspace_coefficients(argnum, start, stop, num, endpoint, dtype, axis):
    """d(samples)/d(argument), shaped to multiply the samples, and d(step)/d(argument).

    Sample i is start + i * step with step = (stop - start) / div, so it holds i / div of
    stop and the rest of start. numpy's single endpoint sample (div 0) is start, and its
    step is nan.
    """
    div = num - 1 if endpoint else num
    of_stop = np.arange(num) / max(div, 1)
    per_sample = of_stop if argnum == 1 else 1.0 - of_stop
    if dtype is not None and np.issubdtype(dtype, np.integer):
        per_sample = np.zeros(num)  # numpy floors integer samples: piecewise constant
    ndim = len(np.broadcast_shapes(shape_of(start), shape_of(stop))) + 1
    shape = [1] * ndim
    shape[axis % ndim] = num
    per_step = (1.0 / div if div else np.nan) * (1 if argnum == 1 else -1)
    return per_sample.reshape(shape), per_step


def _linspace_vjp(argnum):
    def rule(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
             **kw):
        per_sample, per_step = _linspace_coefficients(argnum, start, stop, num, endpoint,
                                                      dtype, axis)
        g_samples, g_step = g if retstep else (g, None)  # None: that output was not used
        parts = [] if g_samples is None else [P.sum(g_samples * per_sample, axis=axis)]
        if g_step is not None:
            parts.append(g_step * per_step)
        return unbroadcast((start, stop)[argnum], sum(parts[1:], parts[0]))
    return rule


def _linspace_jvp(argnum):
    def rule(t, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
             **kw):
        per_sample, per_step = _linspace_coefficients(argnum, start, stop, num, endpoint,
                                                      dtype, axis)
        t = P.broadcast_to(t, np.broadcast_shapes(shape_of(start), shape_of(stop)))
        samples = P.expand_dims(t, axis) * per_sample
        return (samples, t * per_step) if retstep else samples
    return rule


linspace = defop("linspace", np.linspace)
linspace.defvjp(_linspace_vjp(0), _linspace_vjp(1))
linspace.defjvp(_linspace_jvp(0), _linspace_jvp(1))


def _array_from_args(*elements):
    """`numpy.array([e0, e1, ...])`, the elements given as separate arguments"""
    return np.array(elements)


array_from_args = defop("array_from_args", _array_from_args)
# Element i is the answer's slice i: its cotangent is g[i], its tangent lands at [i].
array_from_args.vjps = VariadicRules(
    lambda i: lambda g, ans, *elements: unbroadcast(elements[i], P.getitem(g, i)))
array_from_args.jvps = VariadicRules(
    lambda i: lambda t, ans, *elements: P.untake(t, i, shape_of(ans)))


def broadcast_arrays(*args, subok=False):
    # subok and meshgrid's copy are accepted for numpy's signatures and change nothing:
    # there are no subclasses here, and no op writes into an array in place.
    shape = np.broadcast_shapes(*(shape_of(a) for a in args))
    return tuple(P.broadcast_to(a, shape) for a in args)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError("meshgrid: indexing must be 'xy' or 'ij'")
    n = len(xi)
    axes = list(range(n))
    if indexing == "xy" and n > 1:
        axes[:2] = [1, 0]  # Cartesian: the first input runs along the columns
    grids = [P.reshape(x, tuple(-1 if j == axis else 1 for j in range(n)))
             for x, axis in zip(xi, axes)]
    return tuple(grids) if sparse else P.broadcast_arrays(*grids)


defcomposite("broadcast_arrays", broadcast_arrays)
defcomposite("meshgrid", meshgrid)

# --- arrays made from shapes, and positions: constants ------------------------------------
for _name in ["zeros_like", "ones_like", "shape", "zeros", "ones", "eye", "argmax", "argmin"]:
    defop(_name, getattr(np, _name), ZERO_GRADIENT)


# --- what the wire may pass (params.py, sizing.py) ---
import math  # noqa: E402

from .params import (Signature, ARRAY, ARRAYS, AXIS, AXIS1, SHAPE, INT, NONNEG, BOOL,  # noqa: E402
                     DTYPE_OR_TYPE, INTEGERS, Choice, Kind, ListOf, OneOf, ParamError, optional,
                     _Int, _Shape, MAX_ITEMS)
from .registry import declare  # noqa: E402
from .sizing import (Out, F64, I64, arg, dtype, numel, per_output, raw,  # noqa: E402
                     shape as shape_of_arg, size_of)

ORDER = Choice("C", "F", "A")
NEW_SHAPE = _Shape(lo=-1, name="shape (one length may be -1)")
AXES = optional(ListOf(AXIS1))


class _Sections(Kind):
    """array_split's second argument: a number of sections, or the places to split at (a
    list or an integer array); either way at most MAX_ITEMS pieces."""

    name = "number of sections or list of places"

    def check(self, v):
        v = raw(v)
        if type(v) in (list, tuple, np.ndarray):
            INTEGERS.check(v)
            if np.size(v) >= MAX_ITEMS:
                raise ParamError(f"{np.size(v)} places to split at; at most {MAX_ITEMS - 1}")
            return
        _SECTION_COUNT.check(v)


_SECTION_COUNT = _Int(1, MAX_ITEMS, "number of sections")
SECTIONS = _Sections()
REPEATS = OneOf(NONNEG, INTEGERS)
REPS = OneOf(NONNEG, ListOf(NONNEG))
VIEW_COST = per_output(0.25)   # a view: no element is read, but the answer is counted
# A copy through many small strided axes costs numpy about 20 ns an element (a transposed
# (2,)*24 array reshaped: 0.33 s for 16M elements).
STRIDED_COPY_WORK = 64.0


def _view_or_copy(args, kwargs, outs):
    """reshape and ravel: a view of a contiguous array, a strided copy of any other."""
    a = raw(args[0] if args else kwargs.get("a"))
    order = kwargs.get("order", args[2] if len(args) > 2 else "C")
    if type(a) is np.ndarray and not (a.flags.c_contiguous or
                                      (order in ("F", "A") and a.flags.f_contiguous)):
        return STRIDED_COPY_WORK * numel(outs)
    return VIEW_COST(args, kwargs, outs)


def _first(args, kwargs, name):
    return arg(args, kwargs, 0, name)


def _lengths(s):
    return (s,) if isinstance(s, (int, np.integer)) else tuple(s)


def _view_of(fun, name):
    """Size rule of a view op: numpy's own ``fun`` run on a stand-in for argument ``name``,
    a broadcast of one element (no data, whatever the shape): numpy's shape and axis rules
    and errors, exactly, without reading or allocating anything."""
    def size(args, kwargs):
        x = _first(args, kwargs, name)
        stand_in = np.broadcast_to(np.empty((), dtype(x)), shape_of_arg(x))
        if args:
            v = fun(stand_in, *args[1:], **kwargs)
        else:
            v = fun(stand_in, **{k: v for k, v in kwargs.items() if k != name})
        return Out(v.shape, v.dtype)
    return size


def reshaped(old, new):
    """numpy.reshape's answer shape: ``new`` with its -1 (if any) inferred."""
    new = _lengths(new)
    total = math.prod(old)
    unknown = [i for i, n in enumerate(new) if n == -1]
    if len(unknown) > 1:
        raise ValueError("can only specify one unknown dimension")
    if unknown:
        known = math.prod(n for n in new if n != -1)
        if known == 0 or total % known:
            raise ValueError(f"cannot reshape array of size {total} into shape {new}")
        new = tuple(total // known if n == -1 else n for n in new)
    if math.prod(new) != total:
        raise ValueError(f"cannot reshape array of size {total} into shape {new}")
    return new


def _reshape_size(args, kwargs):
    a = _first(args, kwargs, "a")
    return Out(reshaped(shape_of_arg(a), arg(args, kwargs, 1, "shape")), dtype(a))


def _ravel_size(args, kwargs):
    a = _first(args, kwargs, "a")
    return Out((size_of(a),), dtype(a))


def _atleast_size(ndim):
    def size(args, kwargs):
        outs = [Out(_atleast_shape(tuple(shape_of_arg(a)), ndim), dtype(a)) for a in args]
        return outs[0] if len(outs) == 1 else outs
    return size


def _tile_size(args, kwargs):
    A, reps = _first(args, kwargs, "A"), arg(args, kwargs, 1, "reps")
    reps = _lengths(raw(reps))
    s = tuple(shape_of_arg(A))
    ndim = max(len(reps), len(s))
    s = (1,) * (ndim - len(s)) + s
    reps = (1,) * (ndim - len(reps)) + reps
    return Out([int(r) * n for r, n in zip(reps, s)], dtype(A))


def _repeated_length(n, repeats):
    """The length numpy.repeat gives an axis of length ``n``: in Python integers (no
    int64 overflow can make a huge answer look small)."""
    r = np.asarray(raw(repeats))
    if r.ndim > 1:
        raise ValueError("repeats must be a scalar or a 1-d sequence")
    if r.size == 0 or r.dtype.kind not in "iu":
        raise TypeError("repeats must be integers")
    if r.min() < 0:
        raise ValueError("repeats may not contain negative values")
    if r.size == 1:
        return n * int(r.reshape(()))
    if r.size != n:
        raise ValueError(f"operands could not be broadcast together with shape ({n},) "
                         f"({r.size},)")
    total = float(r.sum(dtype=np.float64))
    return int(r.sum()) if total < 2.0 ** 53 else int(total)


def _repeat_size(args, kwargs):
    a, repeats = _first(args, kwargs, "a"), arg(args, kwargs, 1, "repeats")
    axis = arg(args, kwargs, 2, "axis")
    s = tuple(shape_of_arg(a))
    if axis is None:
        return Out((_repeated_length(math.prod(s), repeats),), dtype(a))
    axis = _axis_of(axis, len(s))
    return Out(s[:axis] + (_repeated_length(s[axis], repeats),) + s[axis + 1:], dtype(a))


def _axis_of(axis, ndim):
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def _triangle_size(args, kwargs):
    m = _first(args, kwargs, "m")
    s = tuple(shape_of_arg(m))
    if len(s) == 0:
        raise ValueError("a triangle needs an array of at least one dimension")
    return Out(s * 2 if len(s) == 1 else s, dtype(m))


def _diagonal_length(rows, cols, k):
    return max(0, min(rows + min(k, 0), cols - max(k, 0)))


def _diag_size(args, kwargs):
    v, k = _first(args, kwargs, "v"), int(arg(args, kwargs, 1, "k", 0))
    s = tuple(shape_of_arg(v))
    if len(s) == 2:
        return Out((_diagonal_length(s[0], s[1], k),), dtype(v))
    if len(s) != 1:
        raise ValueError("diag: input must be 1- or 2-d")
    return Out((s[0] + abs(k),) * 2, dtype(v))


def _diagflat_size(args, kwargs):
    v, k = _first(args, kwargs, "v"), int(arg(args, kwargs, 1, "k", 0))
    return Out((size_of(v) + abs(k),) * 2, dtype(v))


# --- joining: shapes of the arrays in a list, without making one array of them --------------
def _members(arrays):
    """(shape, dtype) of each array of a list argument (or of each row of one array)."""
    arrays = raw(arrays)
    if type(arrays) is np.ndarray:
        if arrays.ndim == 0:
            raise ValueError("need a list of arrays, got a 0-d array")
        return [(arrays.shape[1:], arrays.dtype)] * arrays.shape[0]
    return [(tuple(shape_of_arg(a)), dtype(a)) for a in arrays]


def joined(members, axis):
    """numpy.concatenate's answer for arrays of these (shape, dtype)."""
    if not members:
        raise ValueError("need at least one array to concatenate")
    dt = np.result_type(*[d for _, d in members])
    if axis is None:
        return Out((sum(math.prod(s) for s, _ in members),), dt)
    first = members[0][0]
    if len(first) == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = _axis_of(axis, len(first))
    for s, _ in members:
        if len(s) != len(first) or s[:axis] != first[:axis] or s[axis + 1:] != first[axis + 1:]:
            raise ValueError(f"all the input array dimensions except for the concatenation "
                             f"axis must match exactly: {first} and {s}")
    return Out(first[:axis] + (sum(s[axis] for s, _ in members),) + first[axis + 1:], dt)


def _concatenate_size(args, kwargs):
    return joined(_members(_first(args, kwargs, "arrays")), arg(args, kwargs, 1, "axis", 0))


def _concatenate_args_size(args, kwargs):
    axis = _first(args, kwargs, "axis")
    return joined(_members(args[1:]), axis)


def _stack_size(args, kwargs):
    members = _members(_first(args, kwargs, "arrays"))
    axis = arg(args, kwargs, 1, "axis", 0)
    if not members:
        raise ValueError("need at least one array to stack")
    first = members[0][0]
    if any(s != first for s, _ in members):
        raise ValueError("all input arrays must have the same shape")
    axis = _axis_of(axis, len(first) + 1)
    return joined([(first[:axis] + (1,) + first[axis:], d) for _, d in members], axis)


def _with_ndim(members, ndim):
    return [(_atleast_shape(s, ndim), d) for s, d in members]


def _vstack_size(args, kwargs):
    return joined(_with_ndim(_members(_first(args, kwargs, "tup")), 2), 0)


def _hstack_size(args, kwargs):
    members = _with_ndim(_members(_first(args, kwargs, "tup")), 1)
    return joined(members, 0 if members and len(members[0][0]) == 1 else 1)


def _dstack_size(args, kwargs):
    return joined(_with_ndim(_members(_first(args, kwargs, "tup")), 3), 2)


def _column_stack_size(args, kwargs):
    members = [((math.prod(s), 1), d) if len(s) < 2 else (s, d)
               for s, d in _members(_first(args, kwargs, "tup"))]
    return joined(members, 1)


def _append_size(args, kwargs):
    arr, values = _first(args, kwargs, "arr"), arg(args, kwargs, 1, "values")
    axis = arg(args, kwargs, 2, "axis")
    return joined(_members([arr, values]), axis)


def _join_cost(args, kwargs, outs):
    """Every array read once, the answer written once (a list argument counted by its
    arrays: one handle sent 1024 times is read 1024 times)."""
    return sum(elements(a) for a in args) + numel(outs)


# --- splitting ------------------------------------------------------------------------------
def _split_bounds(n, indices_or_sections, equal):
    ios = raw(indices_or_sections)
    if np.ndim(ios) == 0:
        sections = int(ios)
        if sections <= 0:
            raise ValueError("the number of sections must be positive")
        if equal and n % sections:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, sections)
        return [each + 1] * extra + [each] * (sections - extra)
    bounds = [0, *[int(i) for i in np.ravel(ios)], n]
    return [len(range(*slice(a, b).indices(n))) for a, b in zip(bounds[:-1], bounds[1:])]


def _split_size(equal, fixed_axis=None, least=0):
    def size(args, kwargs):
        ary, ios = _first(args, kwargs, "ary"), arg(args, kwargs, 1, "indices_or_sections")
        s = tuple(shape_of_arg(ary))
        if len(s) < least:
            raise ValueError(f"splitting needs an array of {least} or more dimensions")
        if fixed_axis == "h":
            axis = 1 if len(s) > 1 else 0
        elif fixed_axis is not None:
            axis = fixed_axis
        else:
            axis = arg(args, kwargs, 2, "axis", 0)
        axis = _axis_of(axis, len(s))
        return [Out(s[:axis] + (m,) + s[axis + 1:], dtype(ary))
                for m in _split_bounds(s[axis], ios, equal)]
    return size


PIECE_COST = 20.0      # each piece of a split is an op of its own


def _split_cost(args, kwargs, outs):
    return numel(outs) + PIECE_COST * len(outs)


# --- arrays made from values and shapes -----------------------------------------------------
def _full_size(args, kwargs):
    s = _lengths(_first(args, kwargs, "shape"))
    fill = arg(args, kwargs, 1, "fill_value")
    if np.broadcast_shapes(tuple(shape_of_arg(fill)), s) != s:
        raise ValueError(f"could not broadcast a fill value of shape "
                         f"{tuple(shape_of_arg(fill))} into shape {s}")
    dt = arg(args, kwargs, 2, "dtype")
    return Out(s, dtype(fill) if dt is None else dt)


def _start_dtype(x):
    """What linspace computes an end point in: its dtype made inexact (as x * 1.0)."""
    return np.result_type(dtype(x), 1.0)


def _linspace_size(args, kwargs):
    start, stop = _first(args, kwargs, "start"), arg(args, kwargs, 1, "stop")
    num = int(arg(args, kwargs, 2, "num", 50))
    endpoint = arg(args, kwargs, 3, "endpoint", True)
    retstep = arg(args, kwargs, 4, "retstep", False)
    dt = arg(args, kwargs, 5, "dtype")
    axis = arg(args, kwargs, 6, "axis", 0)
    ends = np.broadcast_shapes(tuple(shape_of_arg(start)), tuple(shape_of_arg(stop)))
    axis = _axis_of(axis, len(ends) + 1)
    computed = np.result_type(_start_dtype(start), _start_dtype(stop))
    samples = Out(ends[:axis] + (num,) + ends[axis:], computed if dt is None else dt)
    if not retstep:
        return samples
    div = num - 1 if endpoint else num
    return [samples, Out(ends, computed) if div > 0 else Out((), F64)]


def _array_from_args_size(args, kwargs):
    shapes = {tuple(shape_of_arg(e)) for e in args}
    if len(shapes) > 1:
        raise ValueError("the elements of an array must all have the same shape")
    inner = shapes.pop() if shapes else ()
    dt = np.result_type(*[dtype(e) for e in args]) if args else F64
    return Out((len(args),) + inner, dt)


def _broadcast_arrays_size(args, kwargs):
    s = np.broadcast_shapes(*[tuple(shape_of_arg(a)) for a in args])
    return [Out(s, dtype(a)) for a in args]


def _meshgrid_size(args, kwargs):
    n = len(args)
    lengths = [size_of(x) for x in args]
    axes = list(range(n))
    if kwargs.get("indexing", "xy") == "xy" and n > 1:
        axes[:2] = [1, 0]
    full = [0] * n
    for length, axis in zip(lengths, axes):
        full[axis] = length
    if kwargs.get("sparse", False):
        return [Out([length if j == axis else 1 for j in range(n)], dtype(x))
                for x, length, axis in zip(args, lengths, axes)]
    return [Out(full, dtype(x)) for x in args]


def _new_array_size(default=F64):
    """zeros, ones: an array of ``shape`` and ``dtype``."""
    def size(args, kwargs):
        dt = arg(args, kwargs, 1, "dtype")
        return Out(_lengths(_first(args, kwargs, "shape")), default if dt is None else dt)
    return size


def _like_size(args, kwargs):
    a = _first(args, kwargs, "a")
    dt = arg(args, kwargs, 1, "dtype")
    s = kwargs.get("shape")
    return Out(shape_of_arg(a) if s is None else _lengths(s), dtype(a) if dt is None else dt)


def _eye_size(args, kwargs):
    n = int(_first(args, kwargs, "N"))
    m = arg(args, kwargs, 1, "M")
    dt = arg(args, kwargs, 3, "dtype")
    return Out((n, n if m is None else int(m)), F64 if dt is None else dt)


def _shape_size(args, kwargs):
    # numpy.shape answers a tuple of Python integers: one small result per axis
    return [Out((), I64) for _ in shape_of_arg(_first(args, kwargs, "a"))]


def _arg_extremum_size(args, kwargs):
    a = _first(args, kwargs, "a")
    s = tuple(shape_of_arg(a))
    axis = arg(args, kwargs, 1, "axis")
    keep = kwargs.get("keepdims", False)
    if axis is None:
        return Out((1,) * len(s) if keep else (), I64)
    axis = _axis_of(axis, len(s))
    return Out(s[:axis] + ((1,) if keep else ()) + s[axis + 1:], I64)


def _creation_cost(args, kwargs, outs):
    return numel(outs) + 1


def elements(a):
    """Elements of an argument, counted without making an array of a list of arrays."""
    a = raw(a)
    if type(a) is np.ndarray:
        return a.size
    if type(a) in (list, tuple):
        return sum(elements(x) for x in a)
    return 1


def _read_all_cost(args, kwargs, outs):
    """Each argument read once, the answer written once."""
    return sum(elements(a) for a in args) + numel(outs)


def _same_as(name):
    def size(args, kwargs):
        a = _first(args, kwargs, name)
        return Out(shape_of_arg(a), dtype(a))
    return size


# views: numpy's own function on a stand-in
declare("transpose", Signature(("a", ARRAY), ("axes", AXES, None)),
        _view_of(np.transpose, "a"), VIEW_COST)
declare("permute_dims", Signature(("a", ARRAY), ("axes", AXES, None)),
        _view_of(np.transpose, "a"), VIEW_COST)
declare("expand_dims", Signature(("a", ARRAY), ("axis", AXIS)),
        _view_of(np.expand_dims, "a"), VIEW_COST)
declare("squeeze", Signature(("a", ARRAY), ("axis", AXIS, None)),
        _view_of(np.squeeze, "a"), VIEW_COST)
declare("moveaxis", Signature(("a", ARRAY), ("source", AXIS), ("destination", AXIS)),
        _view_of(np.moveaxis, "a"), VIEW_COST)
declare("swapaxes", Signature(("a", ARRAY), ("axis1", AXIS1), ("axis2", AXIS1)),
        _view_of(np.swapaxes, "a"), VIEW_COST)
declare("rollaxis", Signature(("a", ARRAY), ("axis", AXIS1), ("start", INT, 0)),
        _view_of(np.rollaxis, "a"), VIEW_COST)
declare("flip", Signature(("m", ARRAY), ("axis", AXIS, None)),
        _view_of(np.flip, "m"), VIEW_COST)
declare("flipud", Signature(("m", ARRAY)), _view_of(np.flipud, "m"), VIEW_COST)
declare("fliplr", Signature(("m", ARRAY)), _view_of(np.fliplr, "m"), VIEW_COST)
declare("rot90", Signature(("m", ARRAY), ("k", INT, 1), ("axes", ListOf(AXIS1, 2), (0, 1))),
        _view_of(np.rot90, "m"), VIEW_COST)
declare("diagonal", Signature(("a", ARRAY), ("offset", INT, 0), ("axis1", AXIS1, 0),
                              ("axis2", AXIS1, 1)),
        _view_of(np.diagonal, "a"), VIEW_COST)
declare("broadcast_to", Signature(("array", ARRAY), ("shape", SHAPE)),
        _view_of(np.broadcast_to, "array"), VIEW_COST)
declare("reshape", Signature(("a", ARRAY), ("shape", NEW_SHAPE), ("order", ORDER, "C")),
        _reshape_size, _view_or_copy)
declare("ravel", Signature(("a", ARRAY), ("order", ORDER, "C")), _ravel_size, _view_or_copy)
for _ndim in (1, 2, 3):
    declare(f"atleast_{_ndim}d", Signature(star=ARRAY), _atleast_size(_ndim), VIEW_COST)

# copies: every element of the answer written once, every argument read once
declare("roll", Signature(("a", ARRAY), ("shift", OneOf(INT, ListOf(INT))), ("axis", AXIS, None)),
        _same_as("a"), _read_all_cost)
declare("tile", Signature(("A", ARRAY), ("reps", REPS)), _tile_size, _read_all_cost)
declare("repeat", Signature(("a", ARRAY), ("repeats", REPEATS), ("axis", optional(AXIS1), None)),
        _repeat_size, _read_all_cost)
declare(("tril", "triu"), Signature(("m", ARRAY), ("k", INT, 0)), _triangle_size,
        _read_all_cost)
declare("diag", Signature(("v", ARRAY), ("k", INT, 0)), _diag_size, _read_all_cost)
declare("diagflat", Signature(("v", ARRAY), ("k", INT, 0)), _diagflat_size, _read_all_cost)

# joining and splitting
declare("concatenate", Signature(("arrays", ARRAYS), ("axis", optional(AXIS1), 0)),
        _concatenate_size, _join_cost)
declare("concatenate_args", Signature(("axis", optional(AXIS1)), star=ARRAY),
        _concatenate_args_size, _join_cost)
declare("stack", Signature(("arrays", ARRAYS), ("axis", AXIS1, 0)), _stack_size, _join_cost)
declare("vstack", Signature(("tup", ARRAYS)), _vstack_size, _join_cost)
declare("hstack", Signature(("tup", ARRAYS)), _hstack_size, _join_cost)
declare("dstack", Signature(("tup", ARRAYS)), _dstack_size, _join_cost)
declare("column_stack", Signature(("tup", ARRAYS)), _column_stack_size, _join_cost)
declare("append", Signature(("arr", ARRAY), ("values", ARRAY), ("axis", optional(AXIS1), None)),
        _append_size, _join_cost)
declare("array_split", Signature(("ary", ARRAY), ("indices_or_sections", SECTIONS),
                                 ("axis", AXIS1, 0)),
        _split_size(False), _split_cost)
declare("split", Signature(("ary", ARRAY), ("indices_or_sections", SECTIONS), ("axis", AXIS1, 0)),
        _split_size(True), _split_cost)
declare("hsplit", Signature(("ary", ARRAY), ("indices_or_sections", SECTIONS)),
        _split_size(True, "h", 1), _split_cost)
declare("vsplit", Signature(("ary", ARRAY), ("indices_or_sections", SECTIONS)),
        _split_size(True, 0, 2), _split_cost)
declare("dsplit", Signature(("ary", ARRAY), ("indices_or_sections", SECTIONS)),
        _split_size(True, 2, 3), _split_cost)

# arrays made from values and shapes
declare("full", Signature(("shape", SHAPE), ("fill_value", ARRAY), ("dtype", DTYPE_OR_TYPE, None)),
        _full_size, _creation_cost)
declare("linspace", Signature(("start", ARRAY), ("stop", ARRAY), ("num", NONNEG, 50),
                              ("endpoint", BOOL, True), ("retstep", BOOL, False),
                              ("dtype", DTYPE_OR_TYPE, None), ("axis", AXIS1, 0)),
        _linspace_size, _read_all_cost)
declare("array_from_args", Signature(star=ARRAY), _array_from_args_size, _join_cost)
declare("broadcast_arrays", Signature(star=ARRAY), _broadcast_arrays_size, VIEW_COST)
declare("meshgrid", Signature(star=ARRAY, kw={"copy": BOOL, "sparse": BOOL,
                                              "indexing": Choice("xy", "ij")}),
        _meshgrid_size, _read_all_cost)
declare(("zeros", "ones"), Signature(("shape", SHAPE), ("dtype", DTYPE_OR_TYPE, None)),
        _new_array_size(), _creation_cost)
declare(("zeros_like", "ones_like"), Signature(("a", ARRAY), ("dtype", DTYPE_OR_TYPE, None),
                                               kw={"shape": SHAPE}),
        _like_size, _creation_cost)
declare("eye", Signature(("N", NONNEG), ("M", optional(NONNEG), None), ("k", INT, 0),
                         ("dtype", DTYPE_OR_TYPE, None)),
        _eye_size, _creation_cost)
declare("shape", Signature(("a", ARRAY)), _shape_size, _creation_cost)
declare(("argmax", "argmin"), Signature(("a", ARRAY), ("axis", optional(AXIS1), None),
                                        kw={"keepdims": BOOL}),
        _arg_extremum_size, _read_all_cost)
