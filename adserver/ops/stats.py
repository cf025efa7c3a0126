"""scipy.stats: densities and distribution functions of norm, t, beta, gamma, chi2, poisson,
dirichlet and multivariate_normal, named as scipy names them ("scipy.stats.norm.logpdf").

Every op is a composite of registry ops (gammaln, xlogy, ndtr, betainc, stdtr, linalg
solve and slogdet, ...) following scipy's own formulas, so its derivatives in every
argument (the point, loc, scale and the shape parameters, in the cdfs too) come from its
parts, to any order, and a traced loc= or scale= passed by keyword works as well as one
passed by position. poisson's k is a count: its gradient is zero.

As in scipy, a point outside the support gets density 0 (log density -inf, cdf 0 or 1),
and invalid parameters (a scale or shape <= 0) give nan. The point is moved onto the
support before the formulas see it, so that those constants also get zero gradients
rather than the nan of a formula evaluated off its domain.
"""
import math

import numpy as np

from ..engine.tracer import getval_all
from ..engine.tuples import tuple_item
from . import sizing as S
from .base import shape_of, ndim_of
from .params import Signature, ARRAY, BOOL, optional
from .elementwise_specs import most_steps, STEP_WORK
from .registry import OPS, SPECS, defcomposite, declare, P

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _value(x):
    return np.asarray(getval_all(x))


def _all_positive(*params):
    """Where every parameter is > 0 (broadcast together): scipy's check for scales, shapes."""
    return np.logical_and.reduce(np.broadcast_arrays(*[_value(p) > 0 for p in params]))


def _into(x, inside, fill):
    """``x`` where ``inside``, else ``fill``: a point the formulas are finite at."""
    return x if np.all(inside) else P.where(inside, x, fill)


def _finish(value, valid, inside=True, outside=None):
    """scipy's conventions: ``outside`` off the support, nan where parameters are invalid."""
    if not np.all(inside):
        value = P.where(inside, value, outside)
    if not np.all(valid):
        value = P.where(valid, value, np.nan)
    return value


def _register(dist, **methods):
    for method, fun in methods.items():
        defcomposite(f"scipy.stats.{dist}.{method}", fun)


def _exp_of(logpdf):
    """The density from the log density (scipy computes most densities this way too)."""
    return lambda *args, **kwargs: P.exp(logpdf(*args, **kwargs))


# --- norm ------------------------------------------------------------------------------------
def _norm(fun):
    """A norm method of the standardized point z = (x - loc) / scale."""
    def method(x, loc=0.0, scale=1.0):
        return _finish(fun((x - loc) / scale, scale), _all_positive(scale))
    return method


def _norm_logpdf(z, scale):
    return -0.5 * (z * z) - _LOG_SQRT_2PI - P.log(scale)


def _norm_ppf(q, loc=0.0, scale=1.0):
    return _finish(loc + scale * P.scipy_special_ndtri(q), _all_positive(scale))


_register(
    "norm",
    logpdf=_norm(_norm_logpdf),
    pdf=_exp_of(_norm(_norm_logpdf)),
    cdf=_norm(lambda z, scale: P.scipy_special_ndtr(z)),
    logcdf=_norm(lambda z, scale: P.scipy_special_log_ndtr(z)),
    sf=_norm(lambda z, scale: P.scipy_special_ndtr(-z)),
    logsf=_norm(lambda z, scale: P.scipy_special_log_ndtr(-z)),
    ppf=_norm_ppf,
)


# --- t ---------------------------------------------------------------------------------------
def _t_logpdf(x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    # log poch(df/2, 1/2) = log gamma((df+1)/2) - log gamma(df/2), without their cancellation
    value = (P.log(P.scipy_special_poch(0.5 * df, 0.5)) - 0.5 * P.log(np.pi * df)
             - 0.5 * (df + 1.0) * P.scipy_special_log1p(y * y / df) - P.log(scale))
    return _finish(value, _all_positive(df, scale))


def _t_cdf(x, df, loc=0.0, scale=1.0):
    return _finish(P.scipy_special_stdtr(df, (x - loc) / scale), _all_positive(df, scale))


_register(
    "t",
    logpdf=_t_logpdf,
    pdf=_exp_of(_t_logpdf),
    cdf=_t_cdf,
    logcdf=lambda x, df, loc=0.0, scale=1.0: P.log(_t_cdf(x, df, loc, scale)),
)


# --- beta, gamma, chi2: densities on [0, 1] and [0, inf) -------------------------------------
def _beta_logpdf(x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    inside = (_value(y) >= 0) & (_value(y) <= 1)
    y = _into(y, inside, 0.5)
    value = (P.scipy_special_xlogy(a - 1.0, y) + P.scipy_special_xlog1py(b - 1.0, -y)
             - P.scipy_special_betaln(a, b) - P.log(scale))
    return _finish(value, _all_positive(a, b, scale), inside, -np.inf)


def _beta_cdf(x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    inside = (_value(y) >= 0) & (_value(y) <= 1)
    value = P.scipy_special_betainc(a, b, _into(y, inside, 0.5))
    return _finish(value, _all_positive(a, b, scale), inside, (_value(y) > 1) * 1.0)


def _gamma_logpdf(x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    inside = _value(y) >= 0
    y = _into(y, inside, 1.0)
    value = P.scipy_special_xlogy(a - 1.0, y) - y - P.scipy_special_gammaln(a) - P.log(scale)
    return _finish(value, _all_positive(a, scale), inside, -np.inf)


def _gamma_cdf(x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    inside = _value(y) >= 0
    value = P.scipy_special_gammainc(a, _into(y, inside, 1.0))
    return _finish(value, _all_positive(a, scale), inside, 0.0)


# chi2 with df degrees of freedom is gamma with shape df/2 and scale 2.
def _chi2_logpdf(x, df, loc=0.0, scale=1.0):
    return _gamma_logpdf(x, 0.5 * df, loc, 2.0 * scale)


def _chi2_cdf(x, df, loc=0.0, scale=1.0):
    return _gamma_cdf(x, 0.5 * df, loc, 2.0 * scale)


for _dist, _logpdf, _cdf in [("beta", _beta_logpdf, _beta_cdf),
                             ("gamma", _gamma_logpdf, _gamma_cdf),
                             ("chi2", _chi2_logpdf, _chi2_cdf)]:
    _register(_dist, logpdf=_logpdf, pdf=_exp_of(_logpdf), cdf=_cdf)


# --- poisson: a count k (its gradient is zero) and a differentiable rate mu ------------------
def _count(k, loc):
    """k - loc as a float count, its gradient cut (floor is zero-gradient); and whether it
    is a whole number >= 0, where the pmf lives."""
    shifted = k - loc
    count = P.floor(shifted)
    return count, (count == _value(shifted)) & (count >= 0)


def _poisson_logpmf(k, mu, loc=0):
    count, inside = _count(k, loc)
    count = _into(count, inside, 0.0)
    value = P.scipy_special_xlogy(count, mu) - P.scipy_special_gammaln(count + 1.0) - mu
    return _finish(value, _value(mu) >= 0, inside, -np.inf)


def _poisson_cdf(k, mu, loc=0):
    count = P.floor(k - loc)
    inside = count >= 0
    value = P.scipy_special_gammaincc(_into(count, inside, 0.0) + 1.0, mu)
    return _finish(value, _value(mu) >= 0, inside, 0.0)


_register("poisson", logpmf=_poisson_logpmf, pmf=_exp_of(_poisson_logpmf), cdf=_poisson_cdf)


# --- dirichlet -------------------------------------------------------------------------------
def _dirichlet_point(x, alpha):
    """scipy's checks, and x completed with its last component when given K - 1 of K.

    scipy also rejects x whose components do not sum to 1 (to 1e-9). That check is left
    out: the density formula is extended off the simplex, so that its gradient in x is the
    ambient one (as autograd's rule gives) and finite differences can step off the simplex.
    """
    a, xv = _value(alpha), _value(x)
    if a.ndim != 1:
        raise ValueError(f"Parameter vector 'a' must be one dimensional, but a.shape = "
                         f"{a.shape}.")
    if np.min(a) <= 0:
        raise ValueError("All parameters must be greater than 0")
    if xv.shape[0] == a.shape[0] - 1:
        x = P.concatenate([x, 1.0 - P.sum(x, axis=0, keepdims=True)], axis=0)
    elif xv.shape[0] != a.shape[0]:
        raise ValueError(f"Vector 'x' must have either the same number of entries as, or "
                         f"one entry fewer than, parameter vector 'a', but alpha.shape = "
                         f"{a.shape} and x.shape = {xv.shape}.")
    xv = _value(x)
    if np.min(xv) < 0 or np.max(xv) > 1:
        raise ValueError("Each entry in 'x' must lie between zero and one.")
    if np.any((xv == 0) & np.reshape(a < 1, a.shape + (1,) * (xv.ndim - 1))):
        raise ValueError("Each entry in 'x' must be greater than zero if its alpha is less "
                         "than one.")
    return x


def _dirichlet_logpdf(x, alpha):
    x = _dirichlet_point(x, alpha)
    # Components run along x's first axis; further axes hold points.
    column = P.reshape(alpha, shape_of(alpha) + (1,) * (ndim_of(x) - 1))
    log_norm = P.sum(P.scipy_special_gammaln(alpha)) - P.scipy_special_gammaln(P.sum(alpha))
    return P.squeeze(P.sum(P.scipy_special_xlogy(column - 1.0, x), axis=0) - log_norm)


_register("dirichlet", logpdf=_dirichlet_logpdf, pdf=_exp_of(_dirichlet_logpdf))


# --- multivariate_normal --------------------------------------------------------------------
def _mvn_parameters(mean, cov, allow_singular):
    """scipy's reading of mean and cov: the dimension, mean as a vector, cov as a matrix.

    cov is used as given, both triangles (scipy reads one): its gradient is the full-matrix
    one, symmetric at a symmetric cov, as autograd's is. The covariance must be positive
    definite: a singular one (allowed by scipy with allow_singular=True) has its density on
    a subspace, and that pseudo-density is not provided.
    """
    if mean is None:
        dim = 1 if _value(cov).ndim < 2 else _value(cov).shape[0]
        mean = np.zeros(dim)
    else:
        dim = _value(mean).size
    if dim == 1:
        mean, cov = P.reshape(mean, (1,)), P.reshape(cov, (1, 1))
    if shape_of(mean) != (dim,):
        raise ValueError(f"Array 'mean' must be a vector of length {dim}.")
    if ndim_of(cov) == 0:
        cov = cov * np.eye(dim)
    elif ndim_of(cov) == 1:
        cov = P.expand_dims(cov, -1) * np.eye(dim)
    elif shape_of(cov) != (dim, dim):
        raise ValueError(f"Array 'cov' must be a square matrix of size {dim}, but cov.shape "
                         f"= {shape_of(cov)}.")
    # scipy's test, on the eigenvalues of the symmetric matrix that cov's lower triangle defines
    eigenvalues = np.linalg.eigvalsh(_value(cov))
    eps = 1e6 * np.finfo(np.float64).eps * np.max(np.abs(eigenvalues))
    if np.min(eigenvalues) < -eps:
        raise ValueError("the input matrix must be positive semidefinite")
    if np.min(eigenvalues) <= eps:
        raise np.linalg.LinAlgError("singular matrix" + (
            " (allow_singular=True: the pseudo-density of a singular covariance is not "
            "provided)" if allow_singular else ""))
    return dim, mean, cov


def _mvn_logpdf(x, mean=None, cov=1, allow_singular=False):
    dim, mean, cov = _mvn_parameters(mean, cov, allow_singular)
    # Points run along x's last axis; a 1-d x is one point, or (in one dimension) many.
    if ndim_of(x) == 0:
        x = P.reshape(x, (1,))
    elif ndim_of(x) == 1:
        x = P.expand_dims(x, -1 if dim == 1 else 0)
    dev = x - mean
    mahalanobis = P.sum(dev * P.linalg_solve(cov, P.expand_dims(dev, -1))[..., 0], axis=-1)
    log_det = tuple_item(P.linalg_slogdet(cov), 1)
    return P.squeeze(-0.5 * (dim * np.log(2 * np.pi) + log_det + mahalanobis))


def _mvn_entropy(mean=None, cov=1):
    dim, _, cov = _mvn_parameters(mean, cov, False)
    return 0.5 * (dim * (np.log(2 * np.pi) + 1.0) + tuple_item(P.linalg_slogdet(cov), 1))


_register("multivariate_normal", logpdf=_mvn_logpdf, pdf=_exp_of(_mvn_logpdf),
          entropy=_mvn_entropy)


# --- what the wire may pass (params.py, sizing.py) ---------------------------------------------
# Every parameter is an array (numbers too), by position or by name. The answers' dtypes
# are the ops' own, found by running each op once per input dtype on stand-ins that hold 1
# (a valid point and valid parameters for every distribution here).
def _arguments(names, defaults, args, kwargs):
    """The op's arguments in order, its defaults where they were left out."""
    return [S.arg(args, kwargs, i, name, defaults.get(name)) for i, name in enumerate(names)]


def _elementwise_size(name, names, defaults):
    """A density or distribution function: the arguments broadcast together."""
    op = OPS[name]
    # beta.cdf fills points past the support with a float64 array: float32 input gives
    # float64 there, float32 elsewhere (the rule gives float64, as a bound).
    widened = name == "scipy.stats.beta.cdf"

    def size(args, kwargs):
        values = _arguments(names, defaults, args, kwargs)
        shape, dt = S.broadcast(*[S.shape(v) for v in values]), S.answer_dtype(op, *values)
        if widened and dt.itemsize < 8:
            return S.Out(shape, np.result_type(dt, S.F64), bound=True)
        return S.Out(shape, dt)
    return size


_LOC_SCALE = {"loc": 0.0, "scale": 1.0}

# name -> (parameters, defaults, weight of one answer element: scipy.special's functions
# inside and about ten elementwise passes)
_ELEMENTWISE = {}
for _method in ("logpdf", "pdf", "cdf", "sf"):
    _ELEMENTWISE[f"norm.{_method}"] = (("x", "loc", "scale"), _LOC_SCALE, 30)
for _method in ("logcdf", "logsf"):
    _ELEMENTWISE[f"norm.{_method}"] = (("x", "loc", "scale"), _LOC_SCALE, 150)
_ELEMENTWISE["norm.ppf"] = (("q", "loc", "scale"), _LOC_SCALE, 30)
for _method, _weight in [("logpdf", 250), ("pdf", 250), ("cdf", 700), ("logcdf", 700)]:
    _ELEMENTWISE[f"t.{_method}"] = (("x", "df", "loc", "scale"), _LOC_SCALE, _weight)
for _method, _weight in [("logpdf", 400), ("pdf", 400), ("cdf", 1200)]:
    _ELEMENTWISE[f"beta.{_method}"] = (("x", "a", "b", "loc", "scale"), _LOC_SCALE, _weight)
for _method, _weight in [("logpdf", 150), ("pdf", 150), ("cdf", 500)]:
    _ELEMENTWISE[f"gamma.{_method}"] = (("x", "a", "loc", "scale"), _LOC_SCALE, _weight)
    _ELEMENTWISE[f"chi2.{_method}"] = (("x", "df", "loc", "scale"), _LOC_SCALE, _weight)
for _method, _weight in [("logpmf", 250), ("pmf", 250), ("cdf", 400)]:
    _ELEMENTWISE[f"poisson.{_method}"] = (("k", "mu", "loc"), {"loc": 0}, _weight)

for _method, (_names, _defaults, _weight) in _ELEMENTWISE.items():
    _name = f"scipy.stats.{_method}"
    declare(_name, Signature(*[(n, ARRAY, None) if n in _defaults else (n, ARRAY)
                               for n in _names]),
            _elementwise_size(_name, _names, _defaults), S.per_output(_weight))

# beta.cdf is betainc inside: about sqrt(max(a, b)) steps an element (see elementwise_specs)
_beta_cdf_cost = SPECS["scipy.stats.beta.cdf"].cost


def _beta_cdf_with_steps(args, kwargs, outs):
    a, b = S.arg(args, kwargs, 1, "a"), S.arg(args, kwargs, 2, "b")
    steps = most_steps([a, b], (0, 1), np.sqrt)
    return _beta_cdf_cost(args, kwargs, outs) + STEP_WORK * steps * S.numel(outs)


SPECS["scipy.stats.beta.cdf"].cost = _beta_cdf_with_steps


def _dirichlet_size(name):
    """x's points (the axes after the first, which holds the components), squeezed."""
    op = OPS[name]

    def size(args, kwargs):
        x, alpha = _arguments(("x", "alpha"), {}, args, kwargs)
        points = tuple(n for n in S.shape(x)[1:] if n != 1)
        return S.Out(points, S.answer_dtype(op, x, alpha))
    return size


def _dirichlet_cost(args, kwargs, outs):
    x, alpha = _arguments(("x", "alpha"), {}, args, kwargs)
    return 50 * S.size_of(x) + 100 * S.size_of(alpha)


_MVN = ("x", "mean", "cov", "allow_singular")
_MVN_DEFAULTS = {"cov": 1}


def _mvn_dimension(mean, cov):
    if mean is not None:
        return S.size_of(mean)
    return 1 if len(S.shape(cov)) < 2 else S.shape(cov)[0]


def _mvn_points(args, kwargs):
    """(the points' shape, the dimension): points run along x's last axis; a 1-d x is one
    point, or many in one dimension."""
    x, mean, cov, _ = _arguments(_MVN, _MVN_DEFAULTS, args, kwargs)
    dim = _mvn_dimension(mean, cov)
    shape = S.shape(x)
    if len(shape) == 0:
        return (), dim
    if len(shape) == 1:
        return (shape[0] if dim == 1 else 1,), dim
    return shape[:-1], dim


def _mvn_size(name):
    op = OPS[name]

    def size(args, kwargs):
        points, _ = _mvn_points(args, kwargs)
        return S.Out(tuple(n for n in points if n != 1),
                     S.answer_dtype(op, *_arguments(_MVN, _MVN_DEFAULTS, args, kwargs)))
    return size


def _factor_cost(dim):
    """An eigendecomposition and a determinant of the (dim, dim) covariance."""
    return 4 * dim ** 3 + 1e5


def _mvn_cost(args, kwargs, outs):
    """numpy's solve broadcasts the covariance: one factorization per point."""
    points, dim = _mvn_points(args, kwargs)
    return math.prod(points) * (300 + dim ** 3 + 30 * dim ** 2) + _factor_cost(dim)


def _entropy_size(args, kwargs):
    op = OPS["scipy.stats.multivariate_normal.entropy"]
    return S.Out((), S.answer_dtype(op, *_arguments(("mean", "cov"), _MVN_DEFAULTS, args,
                                                     kwargs)))


def _entropy_cost(args, kwargs, outs):
    mean, cov = _arguments(("mean", "cov"), _MVN_DEFAULTS, args, kwargs)
    return _factor_cost(_mvn_dimension(mean, cov))


for _name in ("scipy.stats.dirichlet.logpdf", "scipy.stats.dirichlet.pdf"):
    declare(_name, Signature(("x", ARRAY), ("alpha", ARRAY)), _dirichlet_size(_name),
            _dirichlet_cost)
for _name in ("scipy.stats.multivariate_normal.logpdf", "scipy.stats.multivariate_normal.pdf"):
    declare(_name, Signature(("x", ARRAY), ("mean", optional(ARRAY), None), ("cov", ARRAY, None),
                             ("allow_singular", BOOL, None)),
            _mvn_size(_name), _mvn_cost)
declare("scipy.stats.multivariate_normal.entropy",
        Signature(("mean", optional(ARRAY), None), ("cov", ARRAY, None)),
        _entropy_size, _entropy_cost)
