"""Reductions, scans and order statistics: sums, moments, products, extrema, sorting,
quantiles, differences, and the statistics built from them.

Rules are written with registry ops, so that they can be differentiated again. What only
decides where a rule looks (where the extremum or the zeros are, the sort order) is read
from the plain values underneath with getval_all: it is constant wherever the op is
smooth. Ties share: the elements tied for a maximum split its gradient equally, as
autograd does, and so do tied elements of a sorted array or of an order statistic (for
two tied elements that is also what a central difference measures).
"""
import math
import warnings

import numpy as np

from ..engine.errors import NotDifferentiable
from ..engine.tracer import ZERO_GRADIENT, getval_all, trace_level
from . import sizing as S
from .base import repeat_to_match, shape_of, ndim_of, dtype_of, normalize_axes
from .params import (Signature, Kind, ParamError, describe, ARRAY, AXIS, AXIS1, INT, NONNEG,
                     FLOAT, BOOL, DTYPE, MAX_ITEMS, MAX_RANK, Choice, ListOf, optional)
from .registry import defop, defcomposite, declare, P


# --- layout helpers -------------------------------------------------------------------------
def _kept_shape(shape, axis):
    """The shape a reduction over ``axis`` has with keepdims=True."""
    axes = normalize_axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _keep(y, shape, axis, keepdims):
    """A reduction's answer with its reduced axes kept (as length 1)."""
    return y if keepdims else P.reshape(y, _kept_shape(shape, axis))


class _Lanes:
    """An array with the axes ``axis`` moved last and merged into one: a (lanes, n) layout.

    Calling it on an array of ``shape`` (plain or traced) gives that layout; ``back`` undoes
    it. Lanes are numbered in C order over the axes that stay.
    """

    def __init__(self, shape, axis):
        axes = tuple(sorted(normalize_axes(axis, len(shape))))
        kept = tuple(i for i in range(len(shape)) if i not in axes)
        self.order = kept + axes
        self.moved = tuple(shape[i] for i in self.order)
        self.kept = tuple(shape[i] for i in kept)
        self.shape = (int(np.prod(self.kept)), int(np.prod([shape[i] for i in axes])))
        self.rows = np.arange(self.shape[0])[:, None]
        self._same = self.order == tuple(range(len(shape)))

    def __call__(self, x):
        return P.reshape(x if self._same else P.transpose(x, self.order), self.shape)

    def back(self, x2):
        x = P.reshape(x2, self.moved)
        return x if self._same else P.transpose(x, tuple(np.argsort(self.order)))


def _real(z):
    return P.real(z) if np.iscomplexobj(getval_all(z)) else z


def _conj(z):
    return P.conj(z) if np.iscomplexobj(getval_all(z)) else z


# --- sum and mean -----------------------------------------------------------------------------
def _sum_vjp(g, ans, x, axis=None, keepdims=False, **kw):
    g = repeat_to_match(g, shape_of(x), axis, keepdims)
    mask = kw.get("where")
    # Elements that where= left out never reached the sum: they get no gradient.
    return g if mask is None else P.where(mask, g, P.zeros_like(g))


def _mean_vjp(g, ans, x, axis=None, keepdims=False, **kw):
    shape = shape_of(x)
    g = repeat_to_match(g, shape, axis, keepdims)
    mask = kw.get("where")
    if mask is None:
        return g / (np.size(getval_all(x)) / max(np.size(getval_all(ans)), 1))
    # With where=, each mean divides by the number of elements it selected, not the axis
    # length, and the elements left out get no gradient.
    mask = np.broadcast_to(getval_all(mask), shape)
    counts = np.sum(mask, axis=normalize_axes(axis, len(shape)), keepdims=True)
    return P.where(mask, g / counts, P.zeros_like(g))


sum_ = defop("sum", np.sum).def_linear(0)
sum_.defvjp(_sum_vjp)

mean = defop("mean", np.mean).def_linear(0)
mean.defvjp(_mean_vjp)


# --- variance and standard deviation ----------------------------------------------------------
def _var_slope(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
               mean=None, correction=None):
    """d var / d x: 2 conj(x - mean) / (n - ddof), zero outside ``where``; and axis, keepdims.

    A ``mean`` passed in is x's own mean (numpy's contract), so the rules are those of the
    variance itself and do not need it.
    """
    shape = shape_of(x)
    ddof = ddof if correction is None else correction
    if where is None:
        n = np.prod(shape, dtype=float) / np.prod(_kept_shape(shape, axis))
        deviation = x - P.mean(x, axis=axis, keepdims=True)
    else:
        where = np.broadcast_to(where, shape)
        n = np.sum(where, axis=normalize_axes(axis, len(shape)), keepdims=True)
        deviation = P.where(where, x - P.mean(x, axis=axis, keepdims=True, where=where), 0.0)
    return _conj(deviation) * (2.0 / (n - ddof)), axis, keepdims


def _var_vjp(g, ans, x, *args, **kwargs):
    slope, axis, keepdims = _var_slope(x, *args, **kwargs)
    return repeat_to_match(g, shape_of(x), axis, keepdims) * slope


def _var_jvp(t, ans, x, *args, **kwargs):
    slope, axis, keepdims = _var_slope(x, *args, **kwargs)
    return _real(P.sum(slope * t, axis=axis, keepdims=keepdims))


var = defop("var", np.var)
var.defvjp(_var_vjp)
var.defjvp(_var_jvp)


def std(x, *args, **kwargs):
    """numpy.std: the square root of var, exactly as numpy computes it.

    Over lanes of one element (or none) std is 0 (or nan) whatever x holds: its gradient
    is zero there, as in autograd, where sqrt's infinite slope at 0 would give nan.
    """
    if kwargs.get("where") is None and _std_lane_length(x, *args, **kwargs) <= 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # numpy's own, for ddof >= 1
            return np.std(getval_all(x), *args, **kwargs)
    return P.sqrt(P.var(x, *args, **kwargs))


def _std_lane_length(x, axis=None, *args, **kwargs):
    """How many elements each lane of std's reduction over ``axis`` holds."""
    shape = shape_of(x)
    return math.prod(shape) // max(math.prod(_kept_shape(shape, axis)), 1)


defcomposite("std", std)


# --- products and scans ---------------------------------------------------------------------------
def _first_true(mask, axis):
    """The first True of each lane of ``mask`` over the axes ``axis`` (in C order)."""
    lanes = _Lanes(mask.shape, axis)
    flat = lanes(mask)
    return lanes.back(flat & (np.cumsum(flat, axis=1) == 1))


def _prod_others(x, axis, total=None):
    """At each i, the product of every other element of i's lane: total / x without zeros.

    A zero x_z would make that 0/0, so each lane's first zero is set aside: with x' the
    lane with x_z set to 1, the product of the others is that of x' at z, and x_z times
    that of x' elsewhere. Repeated until no zeros are left, this is an identity with no
    division by zero, so the derivatives taken by tracing it are exact as well.
    """
    zero = getval_all(x) == 0
    scale = None
    while zero.any():
        first = _first_true(zero, axis)
        done = first | ~np.any(zero, axis=normalize_axes(axis, zero.ndim), keepdims=True)
        x_z = P.sum(P.where(first, x, 0.0), axis=axis, keepdims=True)
        factor = P.where(done, 1.0, x_z)
        scale = factor if scale is None else scale * factor
        x = P.where(first, 1.0, x)
        zero = zero & ~first
        total = None
    if total is None:
        total = P.prod(x, axis=axis, keepdims=True)
    return total / x if scale is None else scale * (total / x)


def _prod_slope(ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                where=None):
    """d prod / d x_i, shaped like x; and axis, keepdims."""
    if where is None and initial is None:
        return _prod_others(x, axis, _keep(ans, shape_of(x), axis, keepdims)), axis, keepdims
    # where= leaves elements out (they count as factors 1); initial= is one more factor.
    slope = _prod_others(x if where is None else P.where(where, x, 1.0), axis)
    if initial is not None:
        slope = slope * initial
    if where is not None:
        slope = P.where(where, slope, 0.0)
    return slope, axis, keepdims


def _prod_vjp(g, ans, x, *args, **kwargs):
    slope, axis, keepdims = _prod_slope(ans, x, *args, **kwargs)
    return repeat_to_match(g, shape_of(x), axis, keepdims) * slope


def _prod_jvp(t, ans, x, *args, **kwargs):
    slope, axis, keepdims = _prod_slope(ans, x, *args, **kwargs)
    return P.sum(t * slope, axis=axis, keepdims=keepdims)


prod = defop("prod", np.prod)
prod.defvjp(_prod_vjp)
prod.defjvp(_prod_jvp)


def _flip(x, axis):
    index = [slice(None)] * ndim_of(x)
    index[axis] = slice(None, None, -1)
    return P.getitem(x, tuple(index))


def _cumsum_reversed(x, axis):
    """sum over j >= i of x_j along axis: the transpose of cumsum."""
    return _flip(P.cumsum(_flip(x, axis), axis), axis)


def _cumsum_vjp(g, ans, x, axis=None, dtype=None, out=None):
    if axis is None:  # the scan ran over the flattened array
        return P.reshape(_cumsum_reversed(g, 0), shape_of(x))
    return _cumsum_reversed(g, axis)


cumsum = defop("cumsum", np.cumsum).def_linear(0)
cumsum.defvjp(_cumsum_vjp)


def _zero_layers(zero, axis):
    """(before, first) masks for the first zero of each lane along axis, then the next..."""
    while zero.any():
        seen = np.cumsum(zero, axis=axis)
        first = zero & (seen == 1)
        yield seen == 0, first
        zero = zero & ~first


def _cumprod_tangent(t, y, x, axis):
    """sum over i <= j of t_i prod_{k <= j, k != i} x_k: y * cumsum(t / x) without zeros.

    Before a lane's first zero x_z that formula holds. From z on, every term but i = z has
    x_z as a factor: the terms are those of x' (x with x_z set to 1) for the tangent scaled
    by x_z away from z. Repeating that for x' gives an identity with no 0/0, whose own
    derivatives are exact (as in _prod_others).
    """
    layers = []
    for before, first in _zero_layers(getval_all(x) == 0, axis):
        layers.append((before, y * P.cumsum(t / P.where(before, x, 1.0), axis)))
        x_z = P.sum(P.where(first, x, 0.0), axis=axis, keepdims=True)
        t = t * P.where(first, 1.0, x_z)
        x = P.where(first, 1.0, x)
        y = P.cumprod(x, axis)
    out = y * P.cumsum(t / x, axis)
    for before, head in reversed(layers):
        out = P.where(before, head, out)
    return out


def _cumprod_cotangent(g, y, x, axis):
    """sum over j >= i of g_j prod_{k <= j, k != i} x_k: the transpose of _cumprod_tangent."""
    layers = []
    for before, first in _zero_layers(getval_all(x) == 0, axis):
        x_z = P.sum(P.where(first, x, 0.0), axis=axis, keepdims=True)
        layers.append((before, _cumsum_reversed(g * y, axis) / P.where(before, x, 1.0),
                       P.where(first, 1.0, x_z)))
        x = P.where(first, 1.0, x)
        y = P.cumprod(x, axis)
    out = _cumsum_reversed(g * y, axis) / x
    for before, head, scale in reversed(layers):
        out = P.where(before, head, scale * out)
    return out


def _cumprod_vjp(g, ans, x, axis=None, dtype=None, out=None):
    if axis is None:  # the scan ran over the flattened array
        return P.reshape(_cumprod_cotangent(g, ans, P.reshape(x, (-1,)), 0), shape_of(x))
    return _cumprod_cotangent(g, ans, x, axis)


def _cumprod_jvp(t, ans, x, axis=None, dtype=None, out=None):
    if axis is None:
        return _cumprod_tangent(P.reshape(t, (-1,)), ans, P.reshape(x, (-1,)), 0)
    return _cumprod_tangent(t, ans, x, axis)


cumprod = defop("cumprod", np.cumprod)
cumprod.defvjp(_cumprod_vjp)
cumprod.defjvp(_cumprod_jvp)


# --- extrema ------------------------------------------------------------------------------------
def _extremum_share(ans, x, axis=None, out=None, keepdims=False, initial=None, where=None):
    """1/k at each of the k elements equal to their lane's answer (within where=), else 0.

    A plain array; NaNs never equal the answer, so the nan-functions share these rules.
    And axis, keepdims.
    """
    xv = getval_all(x)
    hit = xv == np.reshape(getval_all(ans), _kept_shape(xv.shape, axis))
    if where is not None:
        hit = np.logical_and(hit, where)
    count = np.sum(hit, axis=normalize_axes(axis, xv.ndim), keepdims=True)
    # A lane whose answer is initial= (nothing equal to it) gets no gradient.
    return hit / np.maximum(count, 1), axis, keepdims


def _extremum_vjp(g, ans, x, *args, **kwargs):
    share, axis, keepdims = _extremum_share(ans, x, *args, **kwargs)
    return repeat_to_match(g, shape_of(x), axis, keepdims) * share


def _extremum_jvp(t, ans, x, *args, **kwargs):
    share, axis, keepdims = _extremum_share(ans, x, *args, **kwargs)
    return P.sum(t * share, axis=axis, keepdims=keepdims)


for _name in ("max", "min", "nanmax", "nanmin"):
    _extremum = defop(_name, getattr(np, _name))
    _extremum.defvjp(_extremum_vjp)
    _extremum.defjvp(_extremum_jvp)
defcomposite("amax", P.max)
defcomposite("amin", P.min)


def ptp(x, axis=None, keepdims=False):
    """numpy.ptp: max - min."""
    return P.max(x, axis=axis, keepdims=keepdims) - P.min(x, axis=axis, keepdims=keepdims)


defcomposite("ptp", ptp)


# --- NaN-ignoring reductions and scans: NaNs are replaced, so they get no gradient ---------------
def _nan_filled(a, fill):
    nan = np.isnan(getval_all(a))
    return P.where(nan, fill, a) if nan.any() else a


def nansum(a, axis=None, *, dtype=None, keepdims=False):
    return P.sum(_nan_filled(a, 0.0), axis=axis, dtype=dtype, keepdims=keepdims)


def nanprod(a, axis=None, *, dtype=None, keepdims=False):
    return P.prod(_nan_filled(a, 1.0), axis=axis, dtype=dtype, keepdims=keepdims)


def nanmean(a, axis=None, *, dtype=None, keepdims=False):
    count = np.sum(~np.isnan(getval_all(a)), axis=axis, keepdims=keepdims)
    return P.sum(_nan_filled(a, 0.0), axis=axis, dtype=dtype, keepdims=keepdims) / count


def nanvar(a, axis=None, *, dtype=None, ddof=0, keepdims=False):
    """numpy.nanvar, in numpy's steps (so that the answers agree to the last bit)."""
    nan = np.isnan(getval_all(a))
    if not nan.any():
        return P.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    a = P.where(nan, 0.0, a)
    center = P.sum(a, axis=axis, dtype=dtype, keepdims=True) / np.sum(~nan, axis=axis,
                                                                     keepdims=True)
    deviation = P.where(nan, 0.0, a - center)
    square = _real(deviation * _conj(deviation))
    dof = np.sum(~nan, axis=axis, keepdims=keepdims) - ddof
    var = P.sum(square, axis=axis, dtype=dtype, keepdims=keepdims) / dof
    if np.any(dof <= 0):
        warnings.warn("Degrees of freedom <= 0 for slice.", RuntimeWarning, stacklevel=2)
        var = P.where(dof <= 0, np.nan, var)
    return var


def nanstd(a, *args, **kwargs):
    return P.sqrt(P.nanvar(a, *args, **kwargs))


def nancumsum(a, axis=None, *, dtype=None):
    return P.cumsum(_nan_filled(a, 0.0), axis=axis, dtype=dtype)


def nancumprod(a, axis=None, *, dtype=None):
    return P.cumprod(_nan_filled(a, 1.0), axis=axis, dtype=dtype)


for _fun in (nansum, nanprod, nanmean, nanvar, nanstd, nancumsum, nancumprod):
    defcomposite(_fun.__name__, _fun)


# --- sorting and order statistics -----------------------------------------------------------------
class _Permuted:
    """x's lanes rearranged by a permutation (from sorting or partitioning x's value).

    ``gather`` takes a tangent of x to the tangent of the rearranged lanes, averaged over
    runs of tied values when the sorted values are given; ``scatter`` is its transpose.
    """

    def __init__(self, lanes, perm, sorted_values=None):
        self.lanes = lanes
        self.index = (lanes.rows, perm)
        self.groups = None
        if sorted_values is not None:
            starts = np.ones(sorted_values.shape, dtype=bool)
            starts[:, 1:] = sorted_values[:, 1:] != sorted_values[:, :-1]
            if not starts.all():
                self.groups = (lanes.rows, np.cumsum(starts, axis=1) - 1)
                sizes = np.zeros(lanes.shape)
                np.add.at(sizes, self.groups, 1)
                self.sizes = sizes[self.groups]

    def _share(self, v2):
        """Each element of a run of tied values gets the run's mean (self-adjoint)."""
        if self.groups is None:
            return v2
        return P.getitem(P.untake(v2, self.groups, self.lanes.shape), self.groups) / self.sizes

    def gather(self, t):
        return self._share(P.getitem(self.lanes(t), self.index))

    def scatter(self, g2):
        return self.lanes.back(P.untake(self._share(g2), self.index, self.lanes.shape))


def _sorting(x, axis):
    lanes = _Lanes(shape_of(x), axis)
    values = lanes(getval_all(x))
    perm = np.argsort(values, axis=1, kind="stable")
    return _Permuted(lanes, perm, np.take_along_axis(values, perm, axis=1))


def _sort_vjp(g, ans, x, axis=-1, kind=None, order=None, *, stable=None):
    s = _sorting(x, axis)
    return s.scatter(P.reshape(g, s.lanes.shape) if axis is None else s.lanes(g))


def _sort_jvp(t, ans, x, axis=-1, kind=None, order=None, *, stable=None):
    s = _sorting(x, axis)
    sorted_t = s.gather(t)
    return P.reshape(sorted_t, shape_of(ans)) if axis is None else s.lanes.back(sorted_t)


sort = defop("sort", np.sort)
sort.defvjp(_sort_vjp)
sort.defjvp(_sort_jvp)


def _partition(a, kth, axis=-1, kind="introselect", order=None):
    """numpy.partition, arranged as numpy.argpartition orders it (which the rules follow)"""
    a = np.asarray(a)
    if axis is None:
        a, axis = a.ravel(), -1
    return np.take_along_axis(a, np.argpartition(a, kth, axis=axis, kind=kind, order=order),
                              axis=axis)


def _partitioning(x, kth, axis, kind):
    xv = getval_all(x)
    lanes = _Lanes(np.shape(xv), axis)
    if axis is None:
        return _Permuted(lanes, np.argpartition(xv.ravel(), kth, kind=kind)[None, :])
    return _Permuted(lanes, lanes(np.argpartition(xv, kth, axis=axis, kind=kind)))


def _partition_vjp(g, ans, x, kth, axis=-1, kind="introselect", order=None):
    p = _partitioning(x, kth, axis, kind)
    return p.scatter(P.reshape(g, p.lanes.shape) if axis is None else p.lanes(g))


def _partition_jvp(t, ans, x, kth, axis=-1, kind="introselect", order=None):
    p = _partitioning(x, kth, axis, kind)
    moved = p.gather(t)
    return P.reshape(moved, shape_of(ans)) if axis is None else p.lanes.back(moved)


partition = defop("partition", _partition)
partition.defvjp(_partition_vjp)
partition.defjvp(_partition_jvp)

# Hyndman and Fan's continuous methods, by numpy's (alpha, beta).
_ALPHA_BETA = {"interpolated_inverted_cdf": (0, 1), "hazen": (0.5, 0.5), "weibull": (0, 0),
               "median_unbiased": (1 / 3, 1 / 3), "normal_unbiased": (3 / 8, 3 / 8)}


def _quantile_positions(n, q, method):
    """Where numpy's quantile reads a sorted lane of length n: (lo, hi, gamma).

    The answer is (1 - gamma) * sorted[lo] + gamma * sorted[hi]; these are numpy's own
    formulas for each method. n has shape (lanes, 1) and q is flat: results (lanes, len(q)).
    """
    if method in ("lower", "higher", "nearest", "inverted_cdf", "closest_observation"):
        if method in ("lower", "higher", "nearest"):
            index = {"lower": np.floor, "higher": np.ceil, "nearest": np.around}[method](
                (n - 1) * q)
        else:  # one order statistic, chosen by the method's rule at whole indices
            v = n * q - 1 - (0.5 if method == "closest_observation" else 0)
            below = np.floor(v)
            stay = v == below
            if method == "closest_observation":
                stay &= below % 2 == 1
            index = np.maximum(np.where(stay, below, below + 1), 0)
        index = index.astype(np.intp)
        return index, index, np.zeros(index.shape)
    if method == "linear":
        v = (n - 1) * q
    elif method == "averaged_inverted_cdf":
        v = n * q - 1
    elif method == "midpoint":
        v = 0.5 * (np.floor((n - 1) * q) + np.ceil((n - 1) * q))
    elif method in _ALPHA_BETA:
        alpha, beta = _ALPHA_BETA[method]
        v = n * q + (alpha + q * (1 - alpha - beta)) - 1
    else:
        raise ValueError(f"{method!r} is not a valid quantile method")
    lo = np.floor(v)
    gamma = v - lo
    if method == "averaged_inverted_cdf":
        gamma = np.where(gamma == 0, 0.5, 1.0)
    elif method == "midpoint":
        gamma = np.where(v % 1 == 0, 0.0, 0.5)
    # Past either end of the lane, both points are its last (or first) element.
    above, under = v >= n - 1, v < 0
    hi = np.where(above, n - 1, np.where(under, 0, lo + 1)).astype(np.intp)
    lo = np.where(above, n - 1, np.where(under, 0, lo)).astype(np.intp)
    return lo, hi, gamma


def _median_args(axis=None, out=None, overwrite_input=False, keepdims=False):
    return 0.5, axis, "linear", keepdims


def _quantile_args(name, scale):
    def parse(q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False,
              *, weights=None, interpolation=None):
        if weights is not None:
            raise NotDifferentiable(f"op '{name}' has no gradient rule for weights=")
        return np.true_divide(getval_all(q), scale), axis, interpolation or method, keepdims
    return parse


def _order_statistic(parse, skip_nan):
    """Rules for median, quantile and percentile (and their nan-versions).

    Each answer is a fixed combination of at most two order statistics of its lane, so
    the rules gather (or scatter) through the sort permutation and those two positions.
    """
    def setup(x, args, kwargs):
        q, axis, method, keepdims = parse(*args, **kwargs)
        s = _sorting(x, axis)
        count, n = s.lanes.shape
        if skip_nan:  # NaNs sort last; the quantiles are those of the values before them
            n = n - np.sum(np.isnan(s.lanes(getval_all(x))), axis=1, keepdims=True)
        lo, hi, gamma = _quantile_positions(np.broadcast_to(n, (count, 1)),
                                            np.ravel(q), method)
        live = n > 0  # a lane of NaNs alone has a NaN answer and no gradient
        return s, (s.lanes.rows, lo), (s.lanes.rows, hi), (1 - gamma) * live, gamma * live

    def vjp(g, ans, x, *args, **kwargs):
        s, lo, hi, w_lo, w_hi = setup(x, args, kwargs)
        g2 = P.transpose(P.reshape(g, (-1, s.lanes.shape[0])))
        return s.scatter(P.untake(g2 * w_lo, lo, s.lanes.shape) +
                         P.untake(g2 * w_hi, hi, s.lanes.shape))

    def jvp(t, ans, x, *args, **kwargs):
        s, lo, hi, w_lo, w_hi = setup(x, args, kwargs)
        sorted_t = s.gather(t)
        y2 = P.getitem(sorted_t, lo) * w_lo + P.getitem(sorted_t, hi) * w_hi
        return P.reshape(P.transpose(y2), shape_of(ans))

    return vjp, jvp


for _name, _scale in [("median", None), ("quantile", 1), ("percentile", 100),
                      ("nanmedian", None), ("nanquantile", 1), ("nanpercentile", 100)]:
    _statistic = defop(_name, getattr(np, _name))
    _vjp, _jvp = _order_statistic(_median_args if _scale is None else
                                  _quantile_args(_name, _scale), skip_nan=_name[:3] == "nan")
    _statistic.defvjp(_vjp)
    _statistic.defjvp(_jvp)


# --- differences, derivatives and integrals of sampled functions ----------------------------------
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """numpy.diff, differentiable in a and in prepend and append."""
    shape = shape_of(a)
    if not shape:
        raise ValueError("diff requires input that is at least one dimensional")
    axis %= len(shape)

    def edge(v):  # a scalar stands for a whole slice along axis, as in numpy
        return P.broadcast_to(v, shape[:axis] + (1,) + shape[axis + 1:]) \
            if ndim_of(v) == 0 else v

    parts = [edge(prepend)] if prepend is not None else []
    parts += [a] + ([edge(append)] if append is not None else [])
    if len(parts) > 1:
        a = P.concatenate(parts, axis=axis)
    upper = (slice(None),) * axis + (slice(1, None),)
    lower = (slice(None),) * axis + (slice(None, -1),)
    step = P.not_equal if dtype_of(a) == np.bool_ else P.subtract
    # Past the axis's length every further difference is empty: stop there, so that a huge
    # n costs what the array's length allows, not n steps (numpy loops all n times).
    for _ in range(min(n, shape_of(a)[axis] + 1)):
        a = step(P.getitem(a, upper), P.getitem(a, lower))
    return a


defcomposite("diff", diff)


def _gaps(coordinates):
    """Coordinates along an axis, as the gaps between them.

    Evenly spaced plain coordinates become one scalar gap, as numpy does (its formulas
    for that case round a little differently); traced ones keep every gap, since the
    derivative with respect to each coordinate needs the general formulas.
    """
    if np.issubdtype(dtype_of(coordinates), np.integer):
        coordinates = P.astype(coordinates, np.float64)
    gaps = P.diff(coordinates)
    if trace_level(gaps) == 0 and np.all(gaps == gaps[0]):
        return gaps[0]
    return gaps


def _gradient_along(f, axis, dx, edge_order):
    """numpy.gradient's formulas along one axis, with spacing dx (a scalar or the gaps)."""
    nd = ndim_of(f)
    if shape_of(f)[axis] < edge_order + 1:
        raise ValueError("Shape of array too small to calculate a numerical gradient, "
                         "at least (edge_order + 1) elements are required.")

    def at(start, stop):
        return P.getitem(f, (slice(None),) * axis + (slice(start, stop),))

    uniform = ndim_of(dx) == 0
    if uniform:
        inner = (at(2, None) - at(None, -2)) / (2. * dx)
    else:
        dx1, dx2 = dx[0:-1], dx[1:]
        shape = [1] * nd
        shape[axis] = -1
        a = P.reshape(-(dx2) / (dx1 * (dx1 + dx2)), shape)
        b = P.reshape((dx2 - dx1) / (dx1 * dx2), shape)
        c = P.reshape(dx1 / (dx2 * (dx1 + dx2)), shape)
        inner = a * at(None, -2) + b * at(1, -1) + c * at(2, None)
    if edge_order == 1:
        first = (at(1, 2) - at(0, 1)) / (dx if uniform else dx[0])
        last = (at(-1, None) - at(-2, -1)) / (dx if uniform else dx[-1])
    else:
        if uniform:
            a, b, c = -1.5 / dx, 2. / dx, -0.5 / dx
        else:
            dx1, dx2 = dx[0], dx[1]
            a = -(2. * dx1 + dx2) / (dx1 * (dx1 + dx2))
            b = (dx1 + dx2) / (dx1 * dx2)
            c = - dx1 / (dx2 * (dx1 + dx2))
        first = a * at(0, 1) + b * at(1, 2) + c * at(2, 3)
        if uniform:
            a, b, c = 0.5 / dx, -2. / dx, 1.5 / dx
        else:
            dx1, dx2 = dx[-2], dx[-1]
            a = (dx2) / (dx1 * (dx1 + dx2))
            b = - (dx2 + dx1) / (dx1 * dx2)
            c = (2. * dx2 + dx1) / (dx2 * (dx1 + dx2))
        last = a * at(-3, -2) + b * at(-2, -1) + c * at(-1, None)
    return P.concatenate([first, inner, last], axis=axis)


def gradient(f, *varargs, axis=None, edge_order=1):
    """numpy.gradient, differentiable in f and in the spacings (scalars or coordinates)."""
    if np.issubdtype(dtype_of(f), np.integer):
        f = P.astype(f, np.float64)
    axes = normalize_axes(axis, ndim_of(f))
    if not varargs:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and ndim_of(varargs[0]) == 0:
        spacings = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacings = [s if ndim_of(s) == 0 else _gaps(s) for s in varargs]
    else:
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    out = [_gradient_along(f, a, dx, edge_order) for a, dx in zip(axes, spacings)]
    return out[0] if len(out) == 1 else tuple(out)


defcomposite("gradient", gradient)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """numpy.trapezoid, differentiable in y and in the sample points x (or dx)."""
    nd = ndim_of(y)
    if x is None:
        d = dx
    elif ndim_of(x) == 1:
        d = P.diff(x)
        shape = [1] * nd
        shape[axis] = shape_of(d)[0]
        d = P.reshape(d, shape)
    else:
        d = P.diff(x, axis=axis)
    upper = [slice(None)] * nd
    lower = [slice(None)] * nd
    upper[axis] = slice(1, None)
    lower[axis] = slice(None, -1)
    return P.sum(d * (P.getitem(y, tuple(upper)) + P.getitem(y, tuple(lower))) / 2.0,
                 axis=axis)


defcomposite("trapezoid", trapezoid)


def interp(x, xp, fp, left=None, right=None, period=None):
    """numpy.interp, differentiable in x, xp and fp.

    Each x reads the segment the plain values put it in, with numpy's own arithmetic,
    slope * (x - xp[j]) + fp[j]. At a knot that is the segment to its right, except at
    the last knot, where the interpolant ends: there it is the last segment, anchored at
    that knot so the answer stays numpy's fp[-1] exactly.
    """
    if period is not None:
        raise NotImplementedError("interp: period= is not supported")
    xv, xpv = getval_all(x), np.asarray(getval_all(xp))
    j = np.clip(np.searchsorted(xpv, xv, side="right") - 1, 0, max(len(xpv) - 2, 0))
    x0, f0 = P.getitem(xp, j), P.getitem(fp, j)
    last = P.getitem(fp, -1)
    if len(xpv) > 1:
        slope = (P.getitem(fp, j + 1) - f0) / (P.getitem(xp, j + 1) - x0)
        inside = P.where(xv == xpv[-1], slope * (x - P.getitem(xp, -1)) + last,
                         slope * (x - x0) + f0)
    else:
        inside = f0
    outside_right = P.where(xv > xpv[-1], last if right is None else right, inside)
    return P.where(xv < xpv[0], P.getitem(fp, 0) if left is None else left, outside_right)


defcomposite("interp", interp)


# --- trace and weighted statistics ---------------------------------------------------------------
def trace(a, offset=0, axis1=0, axis2=1, dtype=None):
    """numpy.trace: the diagonal's sum, taken with getitem."""
    nd = ndim_of(a)
    axis1, axis2 = axis1 % nd, axis2 % nd
    rest = tuple(i for i in range(nd) if i not in (axis1, axis2))
    n1, n2 = shape_of(a)[axis1], shape_of(a)[axis2]
    rows = np.arange(max(0, -offset), min(n1, n2 - offset))
    diagonal = P.getitem(P.transpose(a, rest + (axis1, axis2)), (Ellipsis, rows, rows + offset))
    return P.sum(diagonal, axis=-1, dtype=dtype)


defcomposite("trace", trace)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """numpy.average, differentiable in a and in the weights."""
    shape = shape_of(a)
    if weights is None:
        avg = P.mean(a, axis=axis, keepdims=keepdims)
        scale = np.float64(np.prod(shape, dtype=float) / np.prod(shape_of(avg)))
    else:
        w = weights
        if shape_of(w) != shape:
            if axis is None:
                raise TypeError("Axis must be specified when shapes of a and weights differ.")
            axes = normalize_axes(axis, len(shape))
            # numpy's layout: w's axes are a's axes ``axis``, in that order
            w = P.reshape(P.transpose(w, tuple(np.argsort(axes))),
                          tuple(n if i in axes else 1 for i, n in enumerate(shape)))
        scale = P.sum(w, axis=axis, keepdims=keepdims)
        if np.any(getval_all(scale) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = P.sum(P.multiply(a, w), axis=axis, keepdims=keepdims) / scale
    if not returned:
        return avg
    if shape_of(scale) != shape_of(avg):
        scale = P.broadcast_to(scale, shape_of(avg))
    return avg, scale


defcomposite("average", average)


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """numpy.cov, differentiable in m, y and aweights (numpy's steps, with registry ops)."""
    def as_rows(v):
        return P.reshape(v, (1, -1)) if ndim_of(v) < 2 else v

    X = as_rows(m)
    if not rowvar and ndim_of(m) != 1:
        X = P.transpose(X)
    if shape_of(X)[0] == 0:
        return np.array([]).reshape(0, 0)
    if y is not None:
        Y = as_rows(y)
        if not rowvar and shape_of(Y)[0] != 1:
            Y = P.transpose(Y)
        X = P.concatenate([X, Y], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    w = None if fweights is None else np.asarray(fweights, dtype=float)
    if aweights is not None:
        w = aweights if w is None else w * aweights
    avg, w_sum = P.average(X, axis=1, weights=w, returned=True)
    w_sum = P.getitem(w_sum, 0)
    if w is None:
        fact = shape_of(X)[1] - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * P.sum(w * aweights) / w_sum
    if getval_all(fact) <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        fact = 0.0
    X = X - P.getitem(avg, (slice(None), None))
    X_T = P.transpose(X if w is None else X * w)
    return P.squeeze(P.dot(X, _conj(X_T)) * (1 / fact))


defcomposite("cov", cov)


def corrcoef(x, y=None, rowvar=True):
    """numpy.corrcoef: cov scaled by the standard deviations."""
    c = P.cov(x, y, rowvar)
    if ndim_of(c) == 0:
        return c / c  # one variable: 1 (nan for a constant), as numpy
    i = np.arange(shape_of(c)[0])
    stddev = P.sqrt(_real(P.getitem(c, (i, i))))
    c = c / P.getitem(stddev, (slice(None), None))
    c = c / P.getitem(stddev, (None, slice(None)))
    # numpy clips to [-1, 1], which only removes rounding: added as a constant, the
    # correction leaves the derivative of the exact formula.
    cv = getval_all(c)
    fix = np.clip(cv.real, -1, 1) - cv.real
    if np.iscomplexobj(cv):
        fix = fix + 1j * (np.clip(cv.imag, -1, 1) - cv.imag)
    return c + fix if np.any(fix) else c


defcomposite("corrcoef", corrcoef)


# --- zero gradient: indices and counts --------------------------------------------------------
for _name in ("argsort", "argpartition", "nonzero", "count_nonzero", "searchsorted"):
    defop(_name, getattr(np, _name), ZERO_GRADIENT)


# --- what the wire may pass (params.py, sizing.py) ---------------------------------------------
# numpy's positional parameters are declared up to the one before ``out``; what follows it
# (keepdims, initial, where) is accepted by name only, so no position reaches out= or
# overwrite_input= (which would write into a handle's array). Answer dtypes are numpy's own,
# asked of numpy once per input dtype (sizing.answer_dtype).
_STEP = 3e4     # one pass of a Python-level loop over registry ops (~10 us)
_LANE = 1e5     # one lane of numpy's apply_along_axis, as nanquantile loops (~30 us)
_SORT_KIND = Choice("quicksort", "mergesort", "heapsort", "stable", None)
_SELECT_KIND = Choice("introselect")
_QUANTILE_METHOD = Choice(
    "inverted_cdf", "averaged_inverted_cdf", "closest_observation",
    "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
    "normal_unbiased", "lower", "higher", "midpoint", "nearest")


class _Scalar(Kind):
    """A number, or a 0-d array (traced or not): trapezoid's dx, interp's left and right."""

    name = "scalar"

    def check(self, v):
        ARRAY.check(v)
        if S.shape(v) != ():
            raise ParamError(f"expected a scalar, got {describe(v)}")


_SCALAR = _Scalar()


class _Kth(Kind):
    """partition's kth: an integer, or a list (or 1-d integer array) of them."""

    name = "integer or list of integers"
    _LIST = ListOf(INT, MAX_ITEMS)

    def check(self, v):
        if type(v) is np.ndarray and v.dtype.kind in "iu" and v.ndim <= 1:
            if v.size > MAX_ITEMS:
                raise ParamError(f"{v.size} kth indices; at most {MAX_ITEMS}")
            return
        (INT if not isinstance(v, (list, tuple)) else self._LIST).check(v)


_KTH = _Kth()


class _WhereNeedsInitial(Signature):
    """max and min take where= only beside initial=: numpy fills the lanes where= leaves
    empty with initial, and has no identity to fill them with otherwise."""

    __slots__ = ()

    def check(self, args, kwargs):
        super().check(args, kwargs)
        if "where" in kwargs and "initial" not in kwargs:
            raise ParamError("takes where= only together with initial= (the answer of a "
                             "lane that where= leaves empty)")


def _promoting(v):
    """What np.result_type should see of argument v: a Python number itself (weak, NEP 50),
    else its dtype."""
    v = S.raw(v)
    return v if type(v) in (int, float, complex, bool) else S.dtype(v)


def _reduce_shape(shape, axis, keepdims):
    ax = S.axes(axis, len(shape))
    if keepdims:
        return tuple(1 if i in ax else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in ax)


def _numpy_dtype(fun, dtype_index=None, takes_dtype=True):
    """A dtype rule for sizing.reduced: the dtype numpy's ``fun`` gives the input's dtype
    (and the dtype= argument, by name or at ``dtype_index``)."""
    def rule(dt, args, kwargs):
        if not takes_dtype:
            return S.answer_dtype(fun, dt)
        return S.answer_dtype(fun, dt, dtype=S.arg(args, kwargs, dtype_index, "dtype"))
    return rule


def _scan_size(fun, dtype_index):
    """cumsum and the like: a's shape, or its length flattened when axis is None."""
    def size(args, kwargs):
        a = S.arg(args, kwargs, 0, "a")
        flat = S.arg(args, kwargs, 1, "axis") is None
        dt = S.answer_dtype(fun, S.dtype(a), dtype=S.arg(args, kwargs, dtype_index, "dtype"))
        return S.Out((S.size_of(a),) if flat else S.shape(a), dt)
    return size


def _rearranged_size(axis_index, dt=None):
    """sort and partition (their arg- versions with ``dt``): a's shape, flattened when axis
    is None."""
    def size(args, kwargs):
        a = S.arg(args, kwargs, 0, "a")
        flat = S.arg(args, kwargs, axis_index, "axis", -1) is None
        return S.Out((S.size_of(a),) if flat else S.shape(a), dt or S.dtype(a))
    return size


def _quantile_size(fun):
    """q's shape, then the reduced shape of a; numpy's dtype for a, q and the method."""
    def size(args, kwargs):
        a, q = S.arg(args, kwargs, 0, "a"), S.arg(args, kwargs, 1, "q")
        shape = _reduce_shape(S.shape(a), S.arg(args, kwargs, 2, "axis"),
                              kwargs.get("keepdims", False))
        dt = S.answer_dtype(fun, S.dtype(a), q, method=kwargs.get("method", "linear"))
        return S.Out(S.shape(q) + shape, dt)
    return size


def _over_counts(dt, args, kwargs):
    """nanmean's dtype: a sum divided by int64 counts (float64 for float16 and float32, where
    numpy keeps the input's precision)."""
    total = S.answer_dtype(np.sum, dt, dtype=kwargs.get("dtype"))
    return S.inexact(np.result_type(total, S.I64))


def _nanvar_size(fun):
    """nanvar and nanstd: numpy's var where there are no NaNs, else squares summed and divided
    by int64 counts, which is float64 for float16 and float32 input. Which one depends on
    the values: the rule gives the wider dtype, as a bound, where the two differ."""
    exact = S.reduced(0, "a", 1, _numpy_dtype(fun))

    def size(args, kwargs):
        out = exact(args, kwargs)
        with_nans = np.finfo(_over_counts(S.dtype(S.arg(args, kwargs, 0, "a")), args, kwargs))
        if with_nans.dtype == out.dtype:
            return out
        return S.Out(out.shape, max(out.dtype, with_nans.dtype, key=lambda d: d.itemsize),
                     bound=True)
    return size


def _lane_length(shape, axis):
    return math.prod(shape[i] for i in set(S.axes(axis, len(shape))))


def _many_kth(count, axis_index, axis_default=None):
    """Extra work of numpy's partition for ``count(args, kwargs)`` kth indices: it grows
    with their number times the lane length (quadratic when kth holds most of a lane's
    indices), about 3 units each. quantile partitions at two indices per q."""
    def cost(args, kwargs, outs):
        shape = S.shape(S.arg(args, kwargs, 0, "a"))
        axis = S.arg(args, kwargs, axis_index, "axis", axis_default)
        lane = _lane_length(shape, None if axis is None or not shape else axis)
        return 3 * math.prod(shape) * min(lane, count(args, kwargs))
    return cost


def _kth_count(args, kwargs):
    return max(np.size(S.arg(args, kwargs, 1, "kth")), 1)


def _q_count(args, kwargs):
    return 2 * S.size_of(S.arg(args, kwargs, 1, "q"))


def _plus(*rules):
    def cost(args, kwargs, outs):
        return sum(rule(args, kwargs, outs) for rule in rules)
    return cost


def _per_lane_cost(base, axis_index, vectorized_below=0):
    """``base``, plus a Python step per lane when numpy loops over the lanes of an axis
    (nanmedian on lanes of 600 or more, nanquantile and nanpercentile on any)."""
    def cost(args, kwargs, outs):
        work = base(args, kwargs, outs)
        shape = S.shape(S.arg(args, kwargs, 0, "a"))
        axis = S.arg(args, kwargs, axis_index, "axis")
        if axis is None or len(shape) <= 1:
            return work
        lane = _lane_length(shape, axis)
        if lane < vectorized_below:
            return work
        return work + _LANE * (math.prod(shape) // max(lane, 1))
    return cost


def _weighted_lanes(base):
    """quantile and percentile with weights= loop in Python over the lanes as nanquantile
    does (numpy's weighted quantile): a Python step per lane then (2e6 lanes ran 12.7 s)."""
    lanes = _per_lane_cost(base, 2)

    def cost(args, kwargs, outs):
        if kwargs.get("weights") is None:
            return base(args, kwargs, outs)
        work = lanes(args, kwargs, outs)
        if S.arg(args, kwargs, 2, "axis") is None:
            work += _LANE     # (one lane: the flattened array)
        return work
    return cost


def _diff_layout(args, kwargs):
    """diff's (shape after prepend and append, axis, passes, dtype)."""
    a = S.arg(args, kwargs, 0, "a")
    shape = S.shape(a)
    if not shape:
        raise ValueError("diff requires input that is at least one dimensional")
    n = S.arg(args, kwargs, 1, "n", 1)
    axis = S.arg(args, kwargs, 2, "axis", -1) % len(shape)
    length, dtypes = shape[axis], [S.dtype(a)]
    for edge in (S.arg(args, kwargs, 3, "prepend"), S.arg(args, kwargs, 4, "append")):
        if edge is None:
            continue
        s = S.shape(edge)
        if s and len(s) != len(shape):
            raise ValueError(f"diff: prepend and append must be scalars or have {len(shape)} "
                             f"dimensions, got shape {s}")
        length += s[axis] if s else 1
        dtypes.append(S.dtype(edge))
    # (bool inputs take differences with not_equal, and stay bool)
    shape = shape[:axis] + (length,) + shape[axis + 1:]
    return shape, axis, min(n, length + 1), np.result_type(*dtypes)


def _diff_size(args, kwargs):
    shape, axis, passes, dt = _diff_layout(args, kwargs)
    return S.Out(shape[:axis] + (max(shape[axis] - passes, 0),) + shape[axis + 1:], dt)


def _diff_cost(args, kwargs, outs):
    """Pass k reads two slices of length L - k and writes one; each pass is a Python step."""
    shape, axis, passes, _ = _diff_layout(args, kwargs)
    length = shape[axis]
    rest = math.prod(shape) // max(length, 1)
    steps = min(passes, length)
    elements = rest * (steps * length - steps * (steps + 1) // 2)
    return 3 * elements + 2 * math.prod(shape) + passes * _STEP


def _gradient_axes(args, kwargs):
    """gradient's f, the axes it differentiates along, and its spacings (by position)."""
    f = args[0] if args else kwargs.get("f")
    ndim = len(S.shape(f))
    if ndim == 0:
        raise ValueError("gradient needs an array of at least one dimension")
    axes = S.axes(kwargs.get("axis"), ndim)
    spacings = args[1:]
    if spacings and not (len(spacings) == 1 and S.shape(spacings[0]) == ()) \
            and len(spacings) != len(axes):
        raise TypeError("invalid number of arguments")
    return f, axes, spacings


def _gradient_size(args, kwargs):
    """One array like f per axis (one array alone for one axis). Integers are taken as
    float64; a number spacing is weak (NEP 50), coordinates are taken as floats."""
    f, axes, spacings = _gradient_axes(args, kwargs)
    dt = np.result_type(S.inexact(S.dtype(f)), *[
        _promoting(s) if S.shape(s) == () else S.inexact(S.dtype(s)) for s in spacings])
    outs = [S.Out(S.shape(f), dt) for _ in axes]
    return outs[0] if len(outs) == 1 else outs


def _gradient_cost(args, kwargs, outs):
    """About a dozen elementwise passes over f per axis, and a Python step per axis."""
    f, axes, spacings = _gradient_axes(args, kwargs)
    return (12 * S.size_of(f) + _STEP) * len(axes) + 4 * sum(S.size_of(s) for s in spacings)


def _trapezoid_layout(args, kwargs):
    """The shape of d * (y[1:] + y[:-1]) (y broadcast against x's differences), the axis
    summed over, and the dtype."""
    y, x = S.arg(args, kwargs, 0, "y"), S.arg(args, kwargs, 1, "x")
    axis = S.arg(args, kwargs, 3, "axis", -1)

    def shortened(s):
        s = list(s)
        s[axis] -= 1
        return tuple(s)
    shape = shortened(S.shape(y))
    if x is None:
        spacing = _promoting(S.arg(args, kwargs, 2, "dx", 1.0))
    else:
        spacing = S.dtype(x)
        if len(S.shape(x)) > 1:
            shape = S.broadcast(shortened(S.shape(x)), shape)
    return shape, axis % len(shape), S.inexact(np.result_type(S.dtype(y), spacing))


def _trapezoid_size(args, kwargs):
    shape, axis, dt = _trapezoid_layout(args, kwargs)
    return S.Out(shape[:axis] + shape[axis + 1:], dt)


def _trapezoid_cost(args, kwargs, outs):
    """Four passes over the terms, which x's differences may broadcast beyond y."""
    shape, _, _ = _trapezoid_layout(args, kwargs)
    return 4 * math.prod(shape) + 2 * sum(S.size_of(a) for a in args)


def _interp_size(args, kwargs):
    """Shaped like x; the dtype the op's arithmetic on x, xp, fp (and left, right) gives."""
    parts = [S.dtype(S.arg(args, kwargs, i, name)) for i, name in enumerate(("x", "xp", "fp"))]
    parts += [_promoting(v) for v in (S.arg(args, kwargs, 3, "left"),
                                  S.arg(args, kwargs, 4, "right")) if v is not None]
    return S.Out(S.shape(S.arg(args, kwargs, 0, "x")), S.inexact(np.result_type(*parts)))


def _interp_cost(args, kwargs, outs):
    """A binary search of xp per point of x, then about ten elementwise passes."""
    points, knots = S.numel(outs), S.size_of(S.arg(args, kwargs, 1, "xp"))
    return 60 * points * max(math.log2(knots + 1), 1.0) + 30 * points + 3 * knots


def _trace_layout(args, kwargs):
    """trace's (other axes' shape, diagonal length)."""
    shape = S.shape(S.arg(args, kwargs, 0, "a"))
    if len(shape) < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    offset = S.arg(args, kwargs, 1, "offset", 0)
    axis1 = S.arg(args, kwargs, 2, "axis1", 0) % len(shape)
    axis2 = S.arg(args, kwargs, 3, "axis2", 1) % len(shape)
    if axis1 == axis2:
        raise ValueError("axis1 and axis2 cannot be the same")
    n1, n2 = shape[axis1], shape[axis2]
    rest = tuple(n for i, n in enumerate(shape) if i not in (axis1, axis2))
    return rest, max(0, min(n1, n2 - offset) - max(0, -offset))


def _trace_size(args, kwargs):
    a = S.arg(args, kwargs, 0, "a")
    rest, _ = _trace_layout(args, kwargs)
    return S.Out(rest, S.answer_dtype(np.sum, S.dtype(a),
                                      dtype=S.arg(args, kwargs, 4, "dtype")))


def _trace_cost(args, kwargs, outs):
    rest, length = _trace_layout(args, kwargs)
    return 3 * math.prod(rest) * length + S.numel(outs) + _STEP


def _average_size(args, kwargs):
    """The reduced shape; with returned, also the sum of the weights broadcast to it."""
    a, weights = S.arg(args, kwargs, 0, "a"), S.arg(args, kwargs, 2, "weights")
    shape = _reduce_shape(S.shape(a), S.arg(args, kwargs, 1, "axis"),
                          kwargs.get("keepdims", False))
    if weights is None:
        dt, scale = S.answer_dtype(np.mean, S.dtype(a)), S.F64
    else:  # sum(a * w) / sum(w)
        dt = S.inexact(np.result_type(S.dtype(a), S.dtype(weights)))
        scale = S.answer_dtype(np.sum, S.dtype(weights))
    avg = S.Out(shape, dt)
    return [avg, S.Out(shape, scale)] if S.arg(args, kwargs, 3, "returned", False) else avg


def _cov_layout(args, kwargs):
    """cov's (variables, observations, dtype): m's rows (or columns, not rowvar) and y's."""
    m, y = S.arg(args, kwargs, 0, "m"), S.arg(args, kwargs, 1, "y")
    rowvar = S.arg(args, kwargs, 2, "rowvar", True)
    variables, observations, dtypes = 0, 0, []
    for i, v in enumerate((m, y)):
        if v is None:
            continue
        s = S.shape(v)
        if len(s) > 2:
            raise ValueError(f"{'my'[i]} has more than 2 dimensions")
        rows = (1, max(math.prod(s), 1)) if len(s) < 2 else s
        # m is transposed unless it is 1-d, y unless it has one row
        if not rowvar and (len(s) != 1 if i == 0 else rows[0] != 1):
            rows = rows[::-1]
        if i == 0 and rows[0] == 0:
            return 0, 0, S.F64     # numpy's answer for no variables: a (0, 0) array
        variables += rows[0]
        observations = rows[1]
        dtypes.append(S.dtype(v))
    if S.arg(args, kwargs, 5, "fweights") is not None:
        dtypes.append(S.F64)
    aweights = S.arg(args, kwargs, 6, "aweights")
    if aweights is not None:
        dtypes.append(S.dtype(aweights))
    return variables, observations, S.inexact(np.result_type(*dtypes))


def _cov_size(args, kwargs):
    """(k, k) for k variables, squeezed to a scalar for one."""
    k, _, dt = _cov_layout(args, kwargs)
    return S.Out(() if k == 1 else (k, k), dt)


def _cov_cost(args, kwargs, outs):
    """The product of the centred (k, n) data with its transpose, and passes over it."""
    k, n, _ = _cov_layout(args, kwargs)
    return k * k * n / S.BLAS_SPEEDUP + 10 * k * n + 10 * k * k + _STEP


def _as_cov(rule):
    """corrcoef(x, y, rowvar) is shaped and costed as cov(x, y, rowvar), which it scales."""
    def with_cov_args(args, kwargs, *outs):
        return rule([S.arg(args, kwargs, 0, "x"), S.arg(args, kwargs, 1, "y"),
                     S.arg(args, kwargs, 2, "rowvar", True)], {}, *outs)
    return with_cov_args


def _nonzero_size(args, kwargs):
    """One index array per axis, as long as the array at most (the count is the values')."""
    shape = S.shape(S.arg(args, kwargs, 0, "a"))
    if not shape:
        raise ValueError("Calling nonzero on 0d arrays is not allowed")
    return [S.Out((math.prod(shape),), S.I64, bound=True) for _ in shape]


def _searchsorted_cost(args, kwargs, outs):
    """A binary search of a per element of v."""
    n = S.size_of(S.arg(args, kwargs, 0, "a"))
    return 60 * S.numel(outs) * max(math.log2(n + 1), 1.0) + 2 * n


# Reductions: sum, prod and mean (and var, std) take where=, whose lanes numpy fills with
# the identity; ddof and correction are numbers (numpy takes floats).
_WHERE = {"keepdims": BOOL, "where": ARRAY}
declare("sum", Signature(("a", ARRAY), ("axis", AXIS, None), ("dtype", DTYPE, None),
                         kw={**_WHERE, "initial": FLOAT}),
        S.reduced(0, "a", 1, _numpy_dtype(np.sum, 2)), S.linear(2))
declare("prod", Signature(("a", ARRAY), ("axis", AXIS, None), ("dtype", DTYPE, None),
                          kw={**_WHERE, "initial": FLOAT}),
        S.reduced(0, "a", 1, _numpy_dtype(np.prod, 2)), S.linear(3))
declare("mean", Signature(("a", ARRAY), ("axis", AXIS, None), ("dtype", DTYPE, None), kw=_WHERE),
        S.reduced(0, "a", 1, _numpy_dtype(np.mean, 2)), S.linear(2))
_MOMENT = {**_WHERE, "ddof": FLOAT, "correction": FLOAT}
declare("var", Signature(("a", ARRAY), ("axis", AXIS, None), ("dtype", DTYPE, None), kw=_MOMENT),
        S.reduced(0, "a", 1, _numpy_dtype(np.var, 2)), S.linear(16))
declare("std", Signature(("x", ARRAY), ("axis", AXIS, None), ("dtype", DTYPE, None), kw=_MOMENT),
        S.reduced(0, "x", 1, _numpy_dtype(np.std, 2)), S.linear(18))
for _name, _fun in [("cumsum", np.cumsum), ("cumprod", np.cumprod)]:
    declare(_name, Signature(("a", ARRAY), ("axis", optional(AXIS1), None),
                             ("dtype", DTYPE, None)),
            _scan_size(_fun, 2), S.linear(3))

for _names, _weight in [(("max", "amax", "min", "amin"), 2), (("nanmax", "nanmin"), 4)]:
    declare(_names, _WhereNeedsInitial(("a", ARRAY), ("axis", AXIS, None),
                                       kw={"keepdims": BOOL, "initial": FLOAT, "where": ARRAY}),
            S.reduced(0, "a", 1), S.linear(_weight))
declare("ptp", Signature(("x", ARRAY), ("axis", AXIS, None), ("keepdims", BOOL, None)),
        S.reduced(0, "x", 1, keepdims_index=2), S.linear(3))

# The nan-functions here are the op's own (dtype, ddof and keepdims by name only).
for _name, _weight in [("nansum", 4), ("nanprod", 4)]:
    declare(_name, Signature(("a", ARRAY), ("axis", AXIS, None),
                             kw={"dtype": DTYPE, "keepdims": BOOL}),
            S.reduced(0, "a", 1, _numpy_dtype(getattr(np, _name))), S.linear(_weight))
declare("nanmean", Signature(("a", ARRAY), ("axis", AXIS, None),
                             kw={"dtype": DTYPE, "keepdims": BOOL}),
        S.reduced(0, "a", 1, _over_counts), S.linear(5))
for _name in ("nanvar", "nanstd"):
    declare(_name, Signature(("a", ARRAY), ("axis", AXIS, None),
                             kw={"dtype": DTYPE, "ddof": FLOAT, "keepdims": BOOL}),
            _nanvar_size(getattr(np, _name)), S.linear(40))
for _name in ("nancumsum", "nancumprod"):
    declare(_name, Signature(("a", ARRAY), ("axis", optional(AXIS1), None),
                             kw={"dtype": DTYPE}),
            _scan_size(getattr(np, _name), None), S.linear(5))

# Sorting and order statistics: n log n (argsort's scattered writes cost more).
_SORT = Signature(("a", ARRAY), ("axis", optional(AXIS1), None), ("kind", _SORT_KIND, None),
                  kw={"stable": optional(BOOL)})
declare("sort", _SORT, _rearranged_size(1), S.n_log_n(2))
declare("argsort", _SORT, _rearranged_size(1, S.I64), S.n_log_n(6))
_SELECT = Signature(("a", ARRAY), ("kth", _KTH), ("axis", optional(AXIS1), None),
                    ("kind", _SELECT_KIND, None))
declare("partition", _SELECT, _rearranged_size(2),
        _plus(S.n_log_n(2), _many_kth(_kth_count, 2, -1)))
declare("argpartition", _SELECT, _rearranged_size(2, S.I64),
        _plus(S.n_log_n(6), _many_kth(_kth_count, 2, -1)))

for _name, _lanes_from in [("median", None), ("nanmedian", 600)]:
    _cost = S.n_log_n(2)
    declare(_name, Signature(("a", ARRAY), ("axis", AXIS, None), kw={"keepdims": BOOL}),
            S.reduced(0, "a", 1, _numpy_dtype(getattr(np, _name), takes_dtype=False)),
            _cost if _lanes_from is None else _per_lane_cost(_cost, 1, _lanes_from))
# weights= is numpy's (it asks for method="inverted_cdf"); the rules do not differentiate it.
for _name in ("quantile", "percentile", "nanquantile", "nanpercentile"):
    _cost = _plus(S.n_log_n(2), _many_kth(_q_count, 2))
    declare(_name, Signature(("a", ARRAY), ("q", ARRAY), ("axis", AXIS, None),
                             kw={"method": _QUANTILE_METHOD, "keepdims": BOOL,
                                 "weights": optional(ARRAY)}),
            _quantile_size(getattr(np, _name)),
            _per_lane_cost(_cost, 2) if _name.startswith("nan") else _weighted_lanes(_cost))

# Differences, derivatives and integrals of sampled functions.
declare("diff", Signature(("a", ARRAY), ("n", NONNEG, None), ("axis", AXIS1, None),
                          ("prepend", optional(ARRAY), None), ("append", optional(ARRAY), None)),
        _diff_size, _diff_cost)
declare("gradient", Signature(("f", ARRAY), star=ARRAY, most=MAX_RANK,
                              kw={"axis": AXIS, "edge_order": Choice(1, 2)}),
        _gradient_size, _gradient_cost)
declare("trapezoid", Signature(("y", ARRAY), ("x", optional(ARRAY), None), ("dx", _SCALAR, None),
                               ("axis", AXIS1, None)),
        _trapezoid_size, _trapezoid_cost)
declare("interp", Signature(("x", ARRAY), ("xp", ARRAY), ("fp", ARRAY),
                            ("left", optional(_SCALAR), None), ("right", optional(_SCALAR), None)),
        _interp_size, _interp_cost)

# Trace and weighted statistics.
declare("trace", Signature(("a", ARRAY), ("offset", INT, None), ("axis1", AXIS1, None),
                           ("axis2", AXIS1, None), ("dtype", DTYPE, None)),
        _trace_size, _trace_cost)
declare("average", Signature(("a", ARRAY), ("axis", AXIS, None), ("weights", optional(ARRAY), None),
                             ("returned", BOOL, None), kw={"keepdims": BOOL}),
        _average_size, S.linear(4))
declare("cov", Signature(("m", ARRAY), ("y", optional(ARRAY), None), ("rowvar", BOOL, None),
                         ("bias", BOOL, None), ("ddof", optional(INT), None),
                         ("fweights", optional(ARRAY), None), ("aweights", optional(ARRAY), None)),
        _cov_size, _cov_cost)
declare("corrcoef", Signature(("x", ARRAY), ("y", optional(ARRAY), None), ("rowvar", BOOL, None)),
        _as_cov(_cov_size), _as_cov(_cov_cost))

# Indices and counts.
declare("nonzero", Signature(("a", ARRAY)), _nonzero_size, S.linear(5))
declare("count_nonzero", Signature(("a", ARRAY), ("axis", AXIS, None), kw={"keepdims": BOOL}),
        S.reduced(0, "a", 1, lambda dt, args, kwargs: S.I64), S.linear(4))
declare("searchsorted", Signature(("a", ARRAY), ("v", ARRAY), ("side", Choice("left", "right"), None),
                                  ("sorter", optional(ARRAY), None)),
        lambda args, kwargs: S.Out(S.shape(S.arg(args, kwargs, 1, "v")), S.I64),
        _searchsorted_cost)
