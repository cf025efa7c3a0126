"""Indexing: reading elements out, placing them in new arrays, and writing them functionally.

Indices, masks, positions and counts are never traced: they are integer or boolean data,
and the rules use them (with numpy) as static metadata.

Several ops only move elements around: pad, insert and delete. Each is a getitem of a
*placement*, which is numpy's own function run on element numbers (0, 1, ... for the
array's elements, then further numbers for the values it brings in). The placement says
where every element of the answer comes from, so these ops follow numpy's rules exactly,
whatever they are, and their derivatives are getitem's.
"""
import numpy as np

from ..engine.tracer import Box
from .base import unbroadcast, shape_of, ndim_of, dtype_of
from .registry import defop, defcomposite, P

# --- reading: getitem's adjoint scatters back, adding where an index repeats --------------


def _getitem(x, index):
    """`x[index]`: basic, integer-array and boolean indexing"""
    return x[index]


getitem = defop("getitem", _getitem).def_linear(0)
getitem.defvjp(lambda g, ans, x, index: P.untake(g, index, shape_of(x)))


def _names_places_once(index):
    """Whether ``index`` can name no place twice: no integer arrays, only basic parts and
    boolean masks."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) or
               (isinstance(p, np.ndarray) and p.dtype == bool) for p in parts)


def _untake(g, index, shape):
    """zeros of `shape` with `g` added at `index` (the adjoint of `getitem`)"""
    out = np.zeros(shape, dtype=np.result_type(g))
    if _names_places_once(index):
        out[index] = g  # many times faster than add.at, which only repeats need
    else:
        np.add.at(out, index, g)
    return out


untake = defop("untake", _untake).def_linear(0)
untake.defvjp(lambda g, ans, x, index, shape: P.getitem(g, index))


def along_axis(axis, ndim, index):
    """An index that applies ``index`` to one axis and takes every element of the others."""
    return (slice(None),) * (axis % ndim) + (index,)


def _index_array(indices):
    # Indices as numpy takes them; a boxed one (a tape being compiled boxes every input,
    # integer ones too, to read them afresh at each replay) stays as it is.
    return indices if isinstance(indices, Box) else np.asarray(indices)


def take(a, indices, axis=None, mode="raise"):
    if axis is None:
        a, axis = P.ravel(a), 0
    n = shape_of(a)[axis]
    if mode == "wrap":
        indices = P.mod(indices, n)
    elif mode == "clip":
        indices = P.clip(indices, 0, n - 1)
    return P.getitem(a, along_axis(axis, ndim_of(a), _index_array(indices)))


def take_along_axis(arr, indices, axis=-1):
    if axis is None:
        arr, axis = P.ravel(arr), 0
    indices = _index_array(indices)
    ndim = ndim_of(indices)
    axis %= ndim
    # As numpy builds it: ``indices`` on the axis, an aranged column on every other axis.
    index = tuple(indices if i == axis else
                  np.arange(n).reshape((1,) * i + (-1,) + (1,) * (ndim - i - 1))
                  for i, n in enumerate(shape_of(arr)))
    return P.getitem(arr, index)


def compress(condition, a, axis=None):
    return P.take(a, np.flatnonzero(condition), axis)


defcomposite("take", take)
defcomposite("take_along_axis", take_along_axis)
defcomposite("compress", compress)

# --- placing: ops that only move elements, as getitem of a placement ----------------------


def _numbered(x, start=0):
    """Element numbers shaped like ``x``, from ``start`` on."""
    shape = shape_of(x)
    return start + np.arange(int(np.prod(shape))).reshape(shape)


def _gather(parts, placement):
    """The elements of ``parts``, raveled and joined end to end, picked by ``placement``.

    The answer keeps the first part's dtype, as numpy does when it writes the other parts'
    values into a copy of the first.
    """
    flat = P.concatenate([P.ravel(p) for p in parts])
    out = P.getitem(flat, placement)
    return out if dtype_of(out) == dtype_of(parts[0]) else P.astype(out, dtype_of(parts[0]))


def delete(arr, obj, axis=None):
    if axis is None:
        arr, axis = P.ravel(arr), 0
    return P.take(arr, np.delete(np.arange(shape_of(arr)[axis]), obj), axis)


def insert(arr, obj, values, axis=None):
    marks = _numbered(arr)
    value_marks = _numbered(values, start=marks.size)
    return _gather([arr, values], np.insert(marks, obj, value_marks, axis))


# Modes that only copy elements of the array itself (reflect and symmetric in their
# default 'even' form; 'odd' computes new values).
_COPYING_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(array, pad_width, mode="constant", **kwargs):
    marks = _numbered(array)
    if mode == "constant":
        # Each (axis, side) has its own value; numbering them lets np.pad decide which
        # one fills each corner, as it does for values.
        nd = marks.ndim
        values = P.broadcast_to(kwargs.get("constant_values", 0), (nd, 2))
        value_marks = marks.size + np.arange(2 * nd).reshape(nd, 2)
        return _gather([array, values],
                       np.pad(marks, pad_width, "constant", constant_values=value_marks))
    if mode in _COPYING_PAD_MODES and kwargs.get("reflect_type", "even") == "even":
        return _gather([array], np.pad(marks, pad_width, mode, **kwargs))
    raise NotImplementedError(
        f"pad: mode {mode!r} with {kwargs or 'no options'} is not supported; the supported "
        f"modes are 'constant' and {', '.join(map(repr, _COPYING_PAD_MODES))} ('even' "
        "reflection)")


defcomposite("delete", delete)
defcomposite("insert", insert)
defcomposite("pad", pad)

# --- writing: functional versions of x[index] = value and numpy.add.at --------------------


def _value_cotangent(value, g):
    """Sum ``g`` (shaped like ``x[index]``) back to the shape of the value written there.

    numpy broadcasts the value to x[index]'s shape, and also accepts extra leading axes of
    length one.
    """
    extra = ndim_of(value) - ndim_of(g)
    if extra > 0:
        g = P.reshape(g, (1,) * extra + shape_of(g))
    return unbroadcast(value, g)


def _surviving_writes(shape, index):
    """Which elements of ``x[index] = ...`` are still in ``x`` afterwards, or None for all.

    An integer-array index may name a place twice; numpy keeps the last write there. Writing
    the element numbers of x[index] and reading them back tells which writes survived.
    """
    if _names_places_once(index):
        return None
    last = np.zeros(shape, dtype=np.intp)
    order = np.arange(last[index].size).reshape(last[index].shape)
    last[index] = order
    survived = last[index] == order
    return None if survived.all() else survived


def _setitem(x, index, value):
    """a copy of `x` with `x[index] = value` (the last write wins where an index repeats)"""
    out = np.array(x, copy=True)
    out[index] = value
    return out


def _setitem_vjp_value(g, ans, x, index, value):
    g = P.getitem(g, index)
    survived = _surviving_writes(shape_of(x), index)
    return _value_cotangent(value, g if survived is None else P.where(survived, g, 0.0))


setitem = defop("setitem", _setitem)
# The overwritten places of x no longer reach the answer; the value's elements reach it
# wherever their write survived.
setitem.defvjp(lambda g, ans, x, index, value: P.setitem(g, index, 0.0),
               _setitem_vjp_value, argnums=(0, 2))
setitem.defjvp(lambda t, ans, x, index, value: P.setitem(t, index, 0.0),
               lambda t, ans, x, index, value: P.setitem(P.zeros_like(ans), index, t),
               argnums=(0, 2))


def _add_at(x, index, value):
    """`numpy.add.at(x, index, value)` on a copy of `x`, which it returns"""
    out = np.array(x, copy=True)
    np.add.at(out, index, value)
    return out


add_at = defop("add.at", _add_at)
# Every write adds, repeated or not: each element of the value gets its place's cotangent.
add_at.defvjp(lambda g, ans, x, index, value: g,
              lambda g, ans, x, index, value: _value_cotangent(value, P.getitem(g, index)),
              argnums=(0, 2))
add_at.defjvp(lambda t, ans, x, index, value: t,
              lambda t, ans, x, index, value: P.add_at(P.zeros_like(ans), index, t),
              argnums=(0, 2))


# --- what the wire may pass (params.py, sizing.py) ---
import math  # noqa: E402

from .params import (Signature, ARRAY, AXIS1, SHAPE, INDEX, INTEGERS, INDEX_ARRAY,  # noqa: E402
                     NONNEG, SLICE, Choice, ListOf, OneOf, optional)
from .registry import declare  # noqa: E402
from .sizing import Out, arg, dtype, numel, raw, shape, size_of  # noqa: E402


def _is_mask(p):
    return type(p) is bool or isinstance(p, np.bool_) or \
        (type(p) is np.ndarray and p.dtype == bool)


def _index_parts(index):
    """An index's parts as numpy reads them: lists become arrays, handles their values."""
    parts = index if type(index) is tuple else (index,)
    out = []
    for p in parts:
        p = raw(p)
        if type(p) is list:
            p = np.asarray(p)
        elif isinstance(p, np.generic):
            p = p.item() if not isinstance(p, np.bool_) else bool(p)
        out.append(p)
    return out


def _slice_length(s, n):
    bounds = [None if b is None else int(raw(b)) for b in (s.start, s.stop, s.step)]
    return len(range(*slice(*bounds).indices(n)))


def indexed_shape(shape_, index):
    """The shape of ``x[index]`` for x of shape ``shape_``, from the index's parts alone.

    numpy's rules: integers and slices take one axis each, None adds one, Ellipsis stands
    for the axes nobody names; integer arrays (and a boolean mask, as the arrays of its
    True places, one per axis it covers) broadcast together, and the integers join them
    once there is an array. The broadcast shape stands where the first of them stood if
    they all stand together, else in front. A mask's count of True is counted (cheap and
    exact).
    """
    parts = _index_parts(index)
    taken = 0
    for p in parts:
        if p is None or p is Ellipsis:
            continue
        taken += p.ndim if type(p) is np.ndarray and p.dtype == bool else \
            0 if _is_mask(p) else 1
    if sum(p is Ellipsis for p in parts) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if taken > len(shape_):
        raise IndexError(f"too many indices for an array of {len(shape_)} dimension(s): "
                         f"{taken} were indexed")
    fancy = any(type(p) is np.ndarray and (p.ndim > 0 or p.dtype == bool) or _is_mask(p)
                for p in parts)
    out, arrays, places, axis = [], [], [], 0
    for i, p in enumerate(parts):
        if p is None:
            out.append(1)
        elif p is Ellipsis:
            rest = len(shape_) - taken
            out.extend(shape_[axis:axis + rest])
            axis += rest
        elif type(p) is slice:
            out.append(_slice_length(p, shape_[axis]))
            axis += 1
        elif _is_mask(p):
            mask = np.asarray(p)
            covered = shape_[axis:axis + mask.ndim]
            if mask.shape != tuple(covered):
                raise IndexError(f"boolean index of shape {mask.shape} does not match the "
                                 f"indexed dimensions {tuple(covered)}")
            arrays.append((int(np.count_nonzero(mask)),))
            places.append((i, len(out)))
            axis += mask.ndim
        elif type(p) is np.ndarray and (p.ndim > 0 or fancy):
            if p.dtype.kind not in "iu":
                raise IndexError("arrays used as indices must be of integer or boolean type")
            arrays.append(p.shape)
            places.append((i, len(out)))
            axis += 1
        else:   # an integer, or a 0-d integer array, with no arrays around
            n, k = shape_[axis], int(p)
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis {axis} with size {n}")
            if fancy:
                arrays.append(())
                places.append((i, len(out)))
            axis += 1
    out.extend(shape_[axis:])
    if not arrays:
        return tuple(out)
    joint = np.broadcast_shapes(*arrays)
    positions = [i for i, _ in places]
    together = positions == list(range(positions[0], positions[0] + len(positions)))
    at = places[0][1] if together else 0
    return tuple(out[:at]) + joint + tuple(out[at:])


def _index_elements(index):
    """Elements the index itself holds (arrays and masks): read once by numpy."""
    return sum(raw(p).size for p in (index if type(index) is tuple else (index,))
               if type(raw(p)) is np.ndarray) + \
        sum(size_of(p) for p in (index if type(index) is tuple else (index,))
            if type(raw(p)) is list)


def _getitem_size(args, kwargs):
    x = arg(args, kwargs, 0, "x")
    return Out(indexed_shape(shape(x), arg(args, kwargs, 1, "index")), dtype(x))


def _getitem_cost(args, kwargs, outs):
    # A basic index is a view, an advanced one a gather: its answer and its index count.
    return numel(outs) + _index_elements(arg(args, kwargs, 1, "index")) + 1


def _untake_size(args, kwargs):
    g, index, shape_ = (arg(args, kwargs, i, n) for i, n in enumerate(("g", "index", "shape")))
    shape_ = (shape_,) if isinstance(shape_, (int, np.integer)) else tuple(shape_)
    indexed_shape(shape_, index)       # the index must fit the shape it scatters into
    return Out(shape_, dtype(g))


ADD_AT_WEIGHT = 20.0     # numpy.add.at, per element it adds (it loops element by element)


def _untake_cost(args, kwargs, outs):
    return numel(outs) + ADD_AT_WEIGHT * size_of(arg(args, kwargs, 0, "g")) + \
        _index_elements(arg(args, kwargs, 1, "index"))


def _write_size(args, kwargs):
    """setitem and add.at: a copy of x (numpy checks that the value fits what it writes)."""
    x = arg(args, kwargs, 0, "x")
    indexed_shape(shape(x), arg(args, kwargs, 1, "index"))
    return Out(shape(x), dtype(x))


def _write_cost(weight):
    """A copy of x, then ``weight`` per element written."""
    def cost(args, kwargs, outs):
        x, index, value = (arg(args, kwargs, i, n) for i, n in enumerate(("x", "index", "value")))
        written = math.prod(indexed_shape(shape(x), index))
        return 2 * numel(outs) + weight * written + _index_elements(index) + size_of(value)
    return cost


def _take_size(args, kwargs):
    a, indices = arg(args, kwargs, 0, "a"), arg(args, kwargs, 1, "indices")
    axis = arg(args, kwargs, 2, "axis")
    s = shape(a)
    if axis is None:
        return Out(shape(indices), dtype(a))
    axis = _axis(axis, len(s))
    return Out(s[:axis] + shape(indices) + s[axis + 1:], dtype(a))


def _axis(axis, ndim):
    """``axis`` of an array of ``ndim`` dimensions, made non-negative (numpy's error if
    it is out of range)."""
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def _take_along_axis_size(args, kwargs):
    arr, indices = arg(args, kwargs, 0, "arr"), arg(args, kwargs, 1, "indices")
    axis = arg(args, kwargs, 2, "axis", -1)
    s, t = shape(arr), shape(indices)
    if axis is None:
        if len(t) != 1:
            raise ValueError("when axis=None, indices must have a single dimension")
        return Out(t, dtype(arr))
    if len(s) != len(t):
        raise ValueError("indices and arr must have the same number of dimensions")
    axis = _axis(axis, len(s))
    others = [(1,) * i + (n,) + (1,) * (len(s) - i - 1) for i, n in enumerate(s) if i != axis]
    return Out(np.broadcast_shapes(t, *others), dtype(arr))


def _selected_length(condition):
    return int(np.count_nonzero(raw(condition)))


def _compress_size(args, kwargs):
    condition, a = arg(args, kwargs, 0, "condition"), arg(args, kwargs, 1, "a")
    axis = arg(args, kwargs, 2, "axis")
    s = shape(a)
    if axis is None:
        return Out((_selected_length(condition),), dtype(a))
    axis = _axis(axis, len(s))
    return Out(s[:axis] + (_selected_length(condition),) + s[axis + 1:], dtype(a))


def _deleted_count(n, obj):
    """How many of an axis's ``n`` places ``numpy.delete(..., obj)`` removes."""
    obj = raw(obj)
    if type(obj) is slice:
        return _slice_length(obj, n)
    obj = np.asarray(obj)
    if obj.dtype == bool:
        if obj.shape != (n,):
            raise ValueError(f"boolean array argument obj to delete must be one dimensional "
                             f"and match the axis length of {n}")
        return int(np.count_nonzero(obj))
    if obj.size == 0:
        return 0
    if obj.dtype.kind not in "iu":
        raise IndexError("arrays used as indices must be of integer (or boolean) type")
    if obj.min() < -n or obj.max() >= n:
        raise IndexError(f"index out of bounds for axis with size {n}")
    return int(np.unique(np.where(obj < 0, obj + n, obj)).size)


def _delete_size(args, kwargs):
    a, obj, axis = arg(args, kwargs, 0, "arr"), arg(args, kwargs, 1, "obj"), \
        arg(args, kwargs, 2, "axis")
    s = shape(a)
    if axis is None:
        s, axis = (math.prod(s),), 0
    axis = _axis(axis, len(s))
    return Out(s[:axis] + (s[axis] - _deleted_count(s[axis], obj),) + s[axis + 1:],
               dtype(a))


def _inserted_count(shape_, axis, obj, values):
    """How many places ``numpy.insert(arr, obj, values, axis)`` adds along ``axis``."""
    n = shape_[axis]
    obj = raw(obj)
    if type(obj) is slice:
        count = len(range(*slice(*[None if b is None else int(raw(b))
                                   for b in (obj.start, obj.stop, obj.step)]).indices(n)))
        one = None
    else:
        obj = np.asarray(obj)
        count, one = obj.size, obj.ndim == 0
    if count != 1 or one is None:
        return count
    # One place: values come as a block, with as many dims as arr (numpy's ndmin); a
    # scalar place takes them along the values' first axis, a one-element array along axis.
    vs = shape(values)
    vs = (1,) * (len(shape_) - len(vs)) + tuple(vs)
    return vs[0] if one else vs[axis]


def _insert_size(args, kwargs):
    a, obj, values = (arg(args, kwargs, i, n) for i, n in enumerate(("arr", "obj", "values")))
    axis = arg(args, kwargs, 3, "axis")
    s = shape(a)
    if axis is None:
        s, axis = (math.prod(s),), 0
    axis = _axis(axis, len(s))
    return Out(s[:axis] + (s[axis] + _inserted_count(s, axis, obj, values),) + s[axis + 1:],
               dtype(a))


def pad_widths(pad_width, ndim):
    """numpy.pad's widths as (before, after) Python integers for each of ``ndim`` axes."""
    w = raw(pad_width)
    w = np.asarray(w, dtype=object if type(w) in (list, tuple) else None)
    if w.dtype != object and w.dtype.kind not in "iu":
        raise TypeError("pad_width must be of integral type")
    pairs = np.broadcast_to(w, (ndim, 2))
    out = [(int(b), int(a)) for b, a in pairs]
    if any(b < 0 or a < 0 for b, a in out):
        raise ValueError("index can't contain negative values")
    return out


def _pad_size(args, kwargs):
    a = arg(args, kwargs, 0, "array")
    s = shape(a)
    widths = pad_widths(arg(args, kwargs, 1, "pad_width"), len(s))
    return Out([n + b + e for n, (b, e) in zip(s, widths)], dtype(a))


PLACEMENT_WEIGHT = 4.0   # insert, delete and pad: number the elements, place them, gather


def _placement_cost(args, kwargs, outs):
    return PLACEMENT_WEIGHT * numel(outs) + sum(size_of(a) for a in args[:1]) + 1


def _gather_cost(args, kwargs, outs):
    """take, take_along_axis, compress: a gather of the answer by an index array."""
    return 2 * numel(outs) + sum(size_of(a) for a in args[1:2]) + 1


# pad widths: one for every side, a (before, after) pair, or a pair for each axis
_PAIR = OneOf(NONNEG, ListOf(NONNEG, 2))
PAD_WIDTH = OneOf(NONNEG, ListOf(_PAIR), INTEGERS)
PLACES = OneOf(SLICE, INDEX_ARRAY)     # delete's and insert's obj

declare("getitem", Signature(("x", ARRAY), ("index", INDEX)), _getitem_size, _getitem_cost)
declare("untake", Signature(("g", ARRAY), ("index", INDEX), ("shape", SHAPE)), _untake_size,
        _untake_cost)
declare("setitem", Signature(("x", ARRAY), ("index", INDEX), ("value", ARRAY)), _write_size,
        _write_cost(1.0))
declare("add.at", Signature(("x", ARRAY), ("index", INDEX), ("value", ARRAY)), _write_size,
        _write_cost(ADD_AT_WEIGHT))
declare("take", Signature(("a", ARRAY), ("indices", INTEGERS), ("axis", optional(AXIS1), None),
                          ("mode", Choice("raise", "wrap", "clip"), "raise")),
        _take_size, _gather_cost)
declare("take_along_axis", Signature(("arr", ARRAY), ("indices", INTEGERS),
                                     ("axis", optional(AXIS1), -1)),
        _take_along_axis_size, _gather_cost)
declare("compress", Signature(("condition", ARRAY), ("a", ARRAY), ("axis", optional(AXIS1), None)),
        _compress_size, _gather_cost)
declare("delete", Signature(("arr", ARRAY), ("obj", PLACES), ("axis", optional(AXIS1), None)),
        _delete_size, _placement_cost)
declare("insert", Signature(("arr", ARRAY), ("obj", PLACES), ("values", ARRAY),
                            ("axis", optional(AXIS1), None)),
        _insert_size, _placement_cost)
declare("pad", Signature(("array", ARRAY), ("pad_width", PAD_WIDTH),
                         ("mode", Choice("constant", *_COPYING_PAD_MODES), "constant"),
                         kw={"constant_values": ARRAY, "reflect_type": Choice("even")}),
        _pad_size, _placement_cost)
