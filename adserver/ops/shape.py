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


def swapaxes(x, a, b):
    perm = list(range(ndim_of(x)))
    perm[a], perm[b] = perm[b], perm[a]
    return P.transpose(x, perm)


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
