"""numpy, for code that adclient differentiates.

``import adclient.numpy as np`` in place of ``import autograd.numpy as np``. A function
called on plain values runs numpy's own function, here, with no daemon traffic; called
with a RemoteArray among its arguments, it becomes one op on the daemon. The functions
come from the daemon's op vocabulary (adproto.vocabulary); names it does not cover
(constants, dtypes, constructors such as linspace on plain values, numpy.random) are
numpy's own, so seeded random inputs match plain numpy.
"""
import string as _string

import numpy as _np

from ..namespaces import populate as _populate, wrapped as _wrapped
from ..proxy import RemoteArray as _RemoteArray, call as _call, has_remote as _has_remote, \
    stacked as _stacked

_populate(globals(), "")

from . import linalg, fft, random  # noqa: E402,F401


def array(obj, dtype=None, copy=True, **kwargs):
    """numpy.array; nested lists holding traced values become one traced array (the
    daemon's array_from_args), so gradients flow through them."""
    if not _has_remote([obj]):
        return _np.array(obj, dtype=dtype, copy=copy, **kwargs)
    result = _from_nested(obj)
    return result if dtype is None else result.astype(dtype)


def asarray(a, dtype=None, **kwargs):
    """numpy.asarray; a RemoteArray stays one (fetch it with .get() or numpy.asarray)."""
    if type(a) is _RemoteArray:
        return a if dtype is None else a.astype(dtype)
    return array(a, dtype=dtype, copy=False, **kwargs) if _has_remote([a]) else \
        _np.asarray(a, dtype=dtype, **kwargs)


_from_nested = _stacked


def shape(a):
    """numpy.shape; a RemoteArray's shape is known without traffic once fetched."""
    return a.shape if type(a) is _RemoteArray else _np.shape(a)


def ndim(a):
    return len(a.shape) if type(a) is _RemoteArray else _np.ndim(a)


def size(a, axis=None):
    if type(a) is _RemoteArray:
        return a.size if axis is None else a.shape[axis]
    return _np.size(a, axis)


def _exported(f):
    """Also what numpy's own function of that name runs on RemoteArrays (numpy dispatches
    to it through RemoteArray.__array_function__)."""
    _wrapped[f.__name__] = f
    return f


# --- functions that give several arrays: a list (or tuple) of them, as numpy's do -----------
def _count_of_pieces(indices_or_sections):
    if _np.ndim(indices_or_sections) == 0:
        return int(indices_or_sections)
    return len(indices_or_sections) + 1


def _splitter(name):
    local = getattr(_np, name)

    def split(ary, indices_or_sections, *args, **kwargs):
        if not _has_remote([ary]):
            return local(ary, indices_or_sections, *args, **kwargs)
        pieces = _call(name, [ary, indices_or_sections, *args], kwargs or None)
        # The daemon holds the pieces in one handle; numpy gives a list of arrays, which
        # code unpacks, sums over or returns as it is.
        return [pieces[i] for i in range(_count_of_pieces(indices_or_sections))]

    split.__name__ = split.__qualname__ = name
    split.__doc__ = f"numpy.{name}; a list of RemoteArrays when ``ary`` is one."
    return _exported(split)


split, array_split, hsplit, vsplit, dsplit = map(
    _splitter, ["split", "array_split", "hsplit", "vsplit", "dsplit"])

_gradient_op = gradient


@_exported
def gradient(f, *varargs, axis=None, edge_order=1):
    """numpy.gradient; along several axes, a tuple of RemoteArrays (one per axis)."""
    if not _has_remote([f, *varargs]):
        return _np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    kwargs = {k: v for k, v in (("axis", axis), ("edge_order", edge_order))
              if v is not None and not (k == "edge_order" and v == 1)}
    out = _gradient_op(f, *varargs, **kwargs)
    axes = ndim(f) if axis is None else 1 if _np.ndim(axis) == 0 else len(axis)
    return out if axes == 1 else tuple(out[i] for i in range(axes))


# --- joining: numpy's keywords that only choose the answer's dtype ------------------------------
def _joiner(op):
    local = getattr(_np, op.__name__)

    def join(*args, dtype=None, casting="same_kind", **kwargs):
        if not (_has_remote(args) or _has_remote(kwargs.values())):
            return local(*args, dtype=dtype, casting=casting, **kwargs)
        if casting != "same_kind":
            kwargs["casting"] = casting     # (the daemon says that it does not take it)
        out = op(*args, **kwargs)
        return out if dtype is None else out.astype(dtype)

    join.__name__ = join.__qualname__ = op.__name__
    join.__doc__ = op.__doc__
    return _exported(join)


concatenate, stack, vstack, hstack = map(_joiner, [concatenate, stack, vstack, hstack])


@_exported
def row_stack(tup, *, dtype=None, casting="same_kind"):
    """numpy.row_stack: vstack under its old name (numpy 2 deprecates it; autograd has it)."""
    return vstack(tup, dtype=dtype, casting=casting)


# --- numpy.r_ and numpy.c_ ---------------------------------------------------------------------
class _Concatenator:
    """numpy.r_ or numpy.c_: items joined along the first axis (r_) or as columns (c_).

    numpy's own would read traced items as constants (it makes arrays of them); here each
    item is joined by the daemon's concatenate, so gradients flow to it.
    """

    def __init__(self, local, columns):
        self.local, self.columns = local, columns

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not _has_remote(items):
            return self.local[key]
        if any(isinstance(item, str) for item in items):
            raise NotImplementedError("numpy.r_ and numpy.c_ directives (strings) are not "
                                      "supported with traced values")
        return concatenate([self._piece(item) for item in items],
                           axis=-1 if self.columns else 0)

    def _piece(self, item):
        if not _has_remote([item]):
            return self.local[item]
        item = asarray(item)
        if self.columns and ndim(item) < 2:
            return reshape(item, (-1, 1))     # c_ makes 1-d items (and numbers) columns
        return reshape(item, (1,)) if ndim(item) == 0 else item


r_ = _Concatenator(_np.r_, columns=False)
c_ = _Concatenator(_np.c_, columns=True)


# --- functions numpy builds from others that read values --------------------------------------
@_exported
def select(condlist, choicelist, default=0):
    """numpy.select: the first choice whose condition holds, else ``default``; built from
    where, so the gradient goes to the chosen elements."""
    if not _has_remote([condlist, choicelist, default]):
        return _np.select(condlist, choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    result = default
    for condition, choice in zip(reversed(condlist), reversed(choicelist)):
        result = where(condition, choice, result)   # earlier conditions win: applied last
    return result


def make_diagonal(D, offset=0, axis1=0, axis2=1):
    """autograd.numpy.make_diagonal: D's last axis on the diagonal of two new last axes
    (shape D.shape + D.shape[-1:]); as in autograd, only offset=0, axis1=-1, axis2=-2."""
    if not (offset == 0 and axis1 == -1 and axis2 == -2):
        raise NotImplementedError(
            "Currently make_diagonal only supports offset=0, axis1=-1, axis2=-2")
    on_diagonal = _np.eye(shape(D)[-1], dtype=bool)
    return where(on_diagonal, expand_dims(D, -1), 0.0)


# --- einsum's other spelling --------------------------------------------------------------------
_einsum_op = einsum


def _letters(sublist):
    return "".join("..." if axis is Ellipsis else _string.ascii_letters[axis]
                   for axis in sublist)


def _subscripts_of(operands):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) as einsum('ab,bc->ac', a, b)."""
    output = operands[-1] if len(operands) % 2 else None
    pairs = operands[:-1] if output is not None else operands
    arrays, sublists = pairs[0::2], pairs[1::2]
    subscripts = ",".join(_letters(s) for s in sublists)
    if output is not None:
        subscripts += "->" + _letters(output)
    return (subscripts, *arrays)


@_exported
def einsum(*operands, **kwargs):
    """numpy.einsum, with subscripts as a string or as lists of axis numbers."""
    if operands and not isinstance(operands[0], str) and _has_remote(operands):
        operands = _subscripts_of(operands)
    return _einsum_op(*operands, **kwargs)


def __getattr__(name):
    return getattr(_np, name)
