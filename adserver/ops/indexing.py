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
