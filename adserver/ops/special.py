"""scipy.special: gamma and beta functions and their incomplete forms, error functions,
logistic and log-sum-exp, entropy terms, and Bessel functions.

Each op is scipy's function under its scipy name ("scipy.special.gammaln"). Derivatives
are written with the family's own ops, so every rule is itself differentiable: gammaln'
is digamma, digamma' is polygamma(1, .), polygamma(n, .)' is polygamma(n + 1, .), and a
Bessel function's derivative is made of its neighbours of order v - 1 and v + 1. Orders
(n, v), polygamma's n and multigammaln's d are fixed parameters, never differentiated.
Functions that scipy also evaluates at complex points and that are holomorphic there
(erf, erfcx, the Bessel functions of real order, xlogy, ...) follow autograd's
convention for complex input: the VJP is g * f'(z), with no conjugation.
"""
import math

import numpy as np
import scipy.special as sc
from scipy.integrate import quad

from ..engine.tracer import Primitive, ZERO_GRADIENT, getval_all
from . import sizing as S
from .base import unbroadcast, broadcast_like, shape_of, repeat_to_match
from .params import Signature, ARRAY, AXIS, BOOL, NONNEG, optional
from .registry import OPS, defop, defcomposite, declare, P

_SQRT_PI = np.sqrt(np.pi)
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _ufunc(name, *slopes):
    """scipy.special.<name>, which broadcasts its arguments elementwise.

    ``slopes[i](ans, *args)`` is its derivative in argument i, or None for a fixed
    parameter (an order, polygamma's n) that is never differentiated.
    """
    return _with_slopes(defop(f"scipy.special.{name}", getattr(sc, name)), *slopes)


def _with_slopes(op, *slopes):
    argnums = tuple(i for i, slope in enumerate(slopes) if slope is not None)
    op.defvjp(*[_slope_vjp(i, slopes[i]) for i in argnums], argnums=argnums)
    op.defjvp(*[_slope_jvp(i, slopes[i]) for i in argnums], argnums=argnums)
    return op


def _slope_vjp(i, slope):
    return lambda g, ans, *args: unbroadcast(args[i], g * slope(ans, *args))


def _slope_jvp(i, slope):
    return lambda t, ans, *args: broadcast_like(t * slope(ans, *args), ans)


# --- gamma and its logarithmic derivatives ---------------------------------------------------
_ufunc("gamma", lambda ans, x: ans * P.scipy_special_digamma(x))
_ufunc("gammaln", lambda ans, x: P.scipy_special_digamma(x))
# 1/gamma is entire, but -ans * digamma is 0 * inf at the poles of gamma (0, -1, -2, ...).
_ufunc("rgamma", lambda ans, x: -(ans * P.scipy_special_digamma(x)))
defop("scipy.special.gammasgn", sc.gammasgn, ZERO_GRADIENT)

digamma = _ufunc("digamma", lambda ans, x: P.scipy_special_polygamma(1, x))
defcomposite("scipy.special.psi", digamma)  # scipy's psi is digamma itself
_ufunc("polygamma", None, lambda ans, n, x: P.scipy_special_polygamma(n + 1, x))
# poch(z, m) = gamma(z + m) / gamma(z)
_ufunc("poch",
       lambda ans, z, m: ans * (P.scipy_special_digamma(z + m) - P.scipy_special_digamma(z)),
       lambda ans, z, m: ans * P.scipy_special_digamma(z + m))


def _multigammaln_slope(a, d):
    """The sum over j < d of digamma(a - j/2): multigammaln is the sum of those gammaln."""
    return P.sum(P.scipy_special_digamma(P.expand_dims(a, -1) - np.arange(d) / 2.0), axis=-1)


multigammaln = defop("scipy.special.multigammaln", sc.multigammaln)
multigammaln.defvjp(lambda g, ans, a, d: g * _multigammaln_slope(a, d))
multigammaln.defjvp(lambda t, ans, a, d: t * _multigammaln_slope(a, d))


# --- beta ------------------------------------------------------------------------------------
def _digamma_gap(a, b):
    """d/da log B(a, b) = digamma(a) - digamma(a + b)."""
    return P.scipy_special_digamma(a) - P.scipy_special_digamma(a + b)


_ufunc("beta", lambda ans, a, b: ans * _digamma_gap(a, b),
       lambda ans, a, b: ans * _digamma_gap(b, a))
_ufunc("betaln", lambda ans, a, b: _digamma_gap(a, b), lambda ans, a, b: _digamma_gap(b, a))

# --- elementary functions in scipy's spelling ------------------------------------------------
_ufunc("log1p", lambda ans, x: 1.0 / (1.0 + x))
_ufunc("expm1", lambda ans, x: ans + 1.0)
# xlogy(x, y) = x log y and xlog1py(x, y) = x log1p(y), both 0 where x == 0.
_ufunc("xlogy", lambda ans, x, y: P.log(y), lambda ans, x, y: x / y)
_ufunc("xlog1py", lambda ans, x, y: P.scipy_special_log1p(y), lambda ans, x, y: x / (1.0 + y))


# --- incomplete gamma and beta ---------------------------------------------------------------
def _gamma_density(a, x):
    """x^(a-1) e^-x / gamma(a), the slope of gammainc in x, in logs to stay in range."""
    return P.exp(P.scipy_special_xlogy(a - 1.0, x) - x - P.scipy_special_gammaln(a))


def _beta_density(a, b, x):
    """x^(a-1) (1-x)^(b-1) / B(a, b), the slope of betainc in x."""
    return P.exp(P.scipy_special_xlogy(a - 1.0, x) + P.scipy_special_xlog1py(b - 1.0, -x)
                 - P.scipy_special_betaln(a, b))


# In the shape parameters the derivatives have no closed form. The density f of the gamma
# distribution has d/da f = (log t - digamma(a)) f, so d/da gammainc(a, x) is the integral
# of (log t - digamma(a)) f from 0 to x: a centred log-moment of the density. Those
# moments (c_i, with the i-th power of log t - digamma(a)) form a family closed under
# differentiation,
#     d/da c_i = c_(i+1) - i trigamma(a) c_(i-1)   (c_0 = gammainc),
#     d/dx c_i = f(x) (log x - digamma(a))^i,
# so the rules below are differentiable to any order, like the others. The moments are
# computed by adaptive quadrature, to a relative 1e-12, over the smaller tail: from 0 to x
# when x is below the bulk of the density, else from x to the end of the support (the two
# tails' first moments add up to 0), where the integrand keeps one sign and nothing
# cancels. The beta distribution works alike, with a moment in log t and one in log(1-t).

def _quad(f, lo, hi):
    return quad(f, lo, hi, epsabs=0.0, epsrel=1e-12, limit=200)[0]


def _gamma_moment_values(a, x, i, upper):
    """The integral of (log t - digamma(a))^i t^(a-1) e^-t / gamma(a), t from 0 to x (or x
    to infinity, if upper)"""
    def one(a, x):
        psi, log_x = sc.digamma(a), np.log(x)
        if upper:  # t = x + s, the density at x taken out of the integral
            return np.exp((a - 1.0) * log_x - x - sc.gammaln(a)) * _quad(
                lambda s: np.exp((a - 1.0) * np.log1p(s / x) - s) * (np.log(x + s) - psi) ** i,
                0.0, np.inf)
        if x == 0:
            return 0.0
        if a <= 1:  # t = x u^(1/a) turns t^(a-1) dt into x^a/a du: a smooth integrand
            return np.exp(a * log_x - sc.gammaln(a + 1.0)) * _quad(
                lambda u: np.exp(-x * u ** (1.0 / a)) * (log_x + np.log(u) / a - psi) ** i,
                0.0, 1.0)
        # t = x - s, from the top, where the mass is
        return np.exp((a - 1.0) * log_x - x - sc.gammaln(a)) * _quad(
            lambda s: np.exp((a - 1.0) * np.log1p(-s / x) + s) * (np.log(x - s) - psi) ** i,
            0.0, x)
    return np.vectorize(one, otypes=[np.float64])(a, x)


def _beta_moment_values(a, b, x, i, j):
    """The integral of (log t - digamma(a) + digamma(a+b))^i (log(1-t) - digamma(b) +
    digamma(a+b))^j t^(a-1) (1-t)^(b-1) / B(a, b), t from 0 to x"""
    def one(a, b, x):
        if x == 0:
            return 0.0
        mean_log = sc.digamma(a) - sc.digamma(a + b)
        mean_log1m = sc.digamma(b) - sc.digamma(a + b)

        def centred(log_t, log1m_t):
            return (log_t - mean_log) ** i * (log1m_t - mean_log1m) ** j

        if a <= 1:  # t = x u^(1/a), as for gamma
            def integrand(u):
                log_t = np.log(x) + np.log(u) / a
                log1m_t = np.log1p(-np.exp(log_t))
                return np.exp((b - 1.0) * log1m_t) * centred(log_t, log1m_t)
            scale = np.exp(a * np.log(x) - np.log(a) - sc.betaln(a, b))
            return scale * _quad(integrand, 0.0, 1.0)

        def from_top(s):  # t = x - s, the density at x taken out of the integral
            return (np.exp((a - 1.0) * np.log1p(-s / x) + (b - 1.0) * np.log1p(s / (1.0 - x)))
                    * centred(np.log(x - s), np.log1p(s - x)))
        return np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x)
                      - sc.betaln(a, b)) * _quad(from_top, 0.0, x)
    return np.vectorize(one, otypes=[np.float64])(a, b, x)


def _trigamma(x):
    return P.scipy_special_polygamma(1, x)


def _gamma_moment(a, x, i, upper):
    """c_i of the lower tail (or of the upper tail), with c_0 = gammainc (or gammaincc)."""
    if i == 0:
        return P.scipy_special_gammaincc(a, x) if upper else P.scipy_special_gammainc(a, x)
    return gamma_moment(a, x, i, upper)


def _beta_moment(a, b, x, i, j):
    """c_ij of the lower tail, with c_00 = betainc."""
    return P.scipy_special_betainc(a, b, x) if i == j == 0 else beta_moment(a, b, x, i, j)


def _gamma_moment_slope_a(ans, a, x, i, upper):
    return (_gamma_moment(a, x, i + 1, upper)
            - i * _trigamma(a) * _gamma_moment(a, x, i - 1, upper))


def _gamma_moment_slope_x(ans, a, x, i, upper):
    slope = _gamma_density(a, x) * (P.log(x) - P.scipy_special_digamma(a)) ** i
    return -slope if upper else slope


# d/da raises the power of (log t - digamma(a) + digamma(a+b)) by one; the centring terms'
# own derivatives, trigamma(a+b) - trigamma(a) for that one and trigamma(a+b) for the
# log(1-t) one, each lower a power. d/db likewise, the roles of a and b exchanged.
def _beta_moment_slope_a(ans, a, b, x, i, j):
    both = _trigamma(a + b)
    out = _beta_moment(a, b, x, i + 1, j)
    if i:
        out = out + i * (both - _trigamma(a)) * _beta_moment(a, b, x, i - 1, j)
    if j:
        out = out + j * both * _beta_moment(a, b, x, i, j - 1)
    return out


def _beta_moment_slope_b(ans, a, b, x, i, j):
    both = _trigamma(a + b)
    out = _beta_moment(a, b, x, i, j + 1)
    if i:
        out = out + i * both * _beta_moment(a, b, x, i - 1, j)
    if j:
        out = out + j * (both - _trigamma(b)) * _beta_moment(a, b, x, i, j - 1)
    return out


def _power(x, k):
    return 1.0 if k == 0 else x ** k


def _beta_moment_slope_x(ans, a, b, x, i, j):
    log_t = P.log(x) - _digamma_gap(a, b)
    log1m_t = P.scipy_special_log1p(-x) - _digamma_gap(b, a)
    return _beta_density(a, b, x) * _power(log_t, i) * _power(log1m_t, j)


# Not ops of the registry (clients have no use for them): primitives that rules call.
gamma_moment = _with_slopes(Primitive("gamma_moment", _gamma_moment_values),
                            _gamma_moment_slope_a, _gamma_moment_slope_x)
beta_moment = _with_slopes(Primitive("beta_moment", _beta_moment_values),
                           _beta_moment_slope_a, _beta_moment_slope_b, _beta_moment_slope_x)


def _by_tail(use_lower, lower, x, upper, y):
    """lower(x) where use_lower, upper(y) elsewhere. Each branch sees only its own points
    (the others are moved to 1/2, where both tails' integrals are tame)."""
    if np.all(use_lower):
        return lower(x)
    if not np.any(use_lower):
        return upper(y)
    return P.where(use_lower, lower(P.where(use_lower, x, 0.5)),
                   upper(P.where(use_lower, 0.5, y)))


def _gammainc_slope_a(a, x):
    """d/da gammainc(a, x): the lower tail's first moment, or minus the upper tail's."""
    return _by_tail(getval_all(x) < getval_all(a), lambda x: gamma_moment(a, x, 1, False), x,
                    lambda x: -gamma_moment(a, x, 1, True), x)


def _betainc_slope(k, a, b, x, one_minus_x=None):
    """d/da (k = 0) or d/db (k = 1) of betainc(a, b, x). The upper tail, from x to 1, is
    the lower tail of B(b, a) from 0 to 1 - x, the roles of the two logs exchanged. A
    caller that knows 1 - x more exactly than 1.0 - x can pass it."""
    i, j = (1, 0) if k == 0 else (0, 1)
    a_, b_ = getval_all(a), getval_all(b)
    return _by_tail(getval_all(x) <= a_ / (a_ + b_), lambda x: beta_moment(a, b, x, i, j), x,
                    lambda y: -beta_moment(b, a, y, j, i),
                    1.0 - x if one_minus_x is None else one_minus_x)


_ufunc("gammainc", lambda ans, a, x: _gammainc_slope_a(a, x),
       lambda ans, a, x: _gamma_density(a, x))
_ufunc("gammaincc", lambda ans, a, x: -_gammainc_slope_a(a, x),
       lambda ans, a, x: -_gamma_density(a, x))
_ufunc("betainc", lambda ans, a, b, x: _betainc_slope(0, a, b, x),
       lambda ans, a, b, x: _betainc_slope(1, a, b, x),
       lambda ans, a, b, x: _beta_density(a, b, x))
_ufunc("betaincc", lambda ans, a, b, x: -_betainc_slope(0, a, b, x),
       lambda ans, a, b, x: -_betainc_slope(1, a, b, x),
       lambda ans, a, b, x: -_beta_density(a, b, x))


# --- error functions, and the normal distribution's ------------------------------------------
_ufunc("erf", lambda ans, x: 2.0 / _SQRT_PI * P.exp(-(x * x)))
_ufunc("erfc", lambda ans, x: -2.0 / _SQRT_PI * P.exp(-(x * x)))
# erfcx(x) = exp(x^2) erfc(x), whose slope 2 x erfcx(x) - 2/sqrt(pi) needs no exp(x^2).
_ufunc("erfcx", lambda ans, x: 2.0 * (x * ans - 1.0 / _SQRT_PI))
_ufunc("erfinv", lambda ans, x: _SQRT_PI / 2.0 * P.exp(ans * ans))
_ufunc("erfcinv", lambda ans, x: -_SQRT_PI / 2.0 * P.exp(ans * ans))
_ufunc("ndtr", lambda ans, x: P.exp(-0.5 * (x * x) - _LOG_SQRT_2PI))
# The density over the cdf, formed in logs: far in the left tail both underflow, their
# ratio (about -x) does not.
_ufunc("log_ndtr", lambda ans, x: P.exp(-0.5 * (x * x) - _LOG_SQRT_2PI - ans))
_ufunc("ndtri", lambda ans, x: P.exp(0.5 * (ans * ans) + _LOG_SQRT_2PI))

# --- logistic --------------------------------------------------------------------------------
# expit' = expit(x) expit(-x): 1 - expit(x) would lose every digit for large x.
_ufunc("expit", lambda ans, x: ans * P.scipy_special_expit(-x))
_ufunc("logit", lambda ans, x: 1.0 / (x * (1.0 - x)))
_ufunc("log_expit", lambda ans, x: P.scipy_special_expit(-x))


# --- log-sum-exp and softmax -----------------------------------------------------------------
def _logsumexp(a, axis=None, b=None, keepdims=False):
    """`scipy.special.logsumexp` without return_sign"""
    return sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims)


def _lse_share(ans, a, axis, b, keepdims):
    """The broadcast shape of a and b, and exp(a - logsumexp): each term's share of the sum.

    The shares never overflow (a - ans <= -log b): this is what keeps the rules stable.
    """
    shape = shape_of(a) if b is None else np.broadcast_shapes(shape_of(a), shape_of(b))
    return shape, P.exp(a - repeat_to_match(ans, shape, axis, keepdims))


def _weighted(share, b):
    return share if b is None else share * b


def _lse_vjp_a(g, ans, a, axis=None, b=None, keepdims=False):
    shape, share = _lse_share(ans, a, axis, b, keepdims)
    return unbroadcast(a, repeat_to_match(g, shape, axis, keepdims) * _weighted(share, b))


def _lse_vjp_b(g, ans, a, axis=None, b=None, keepdims=False):
    shape, share = _lse_share(ans, a, axis, b, keepdims)
    return unbroadcast(b, repeat_to_match(g, shape, axis, keepdims) * share)


def _lse_jvp_a(t, ans, a, axis=None, b=None, keepdims=False):
    _, share = _lse_share(ans, a, axis, b, keepdims)
    return P.sum(t * _weighted(share, b), axis=axis, keepdims=keepdims)


def _lse_jvp_b(t, ans, a, axis=None, b=None, keepdims=False):
    _, share = _lse_share(ans, a, axis, b, keepdims)
    return P.sum(t * share, axis=axis, keepdims=keepdims)


# The weights b are differentiable when passed by position (logsumexp(a, axis, b)).
logsumexp = defop("scipy.special.logsumexp", _logsumexp)
logsumexp.defvjp(_lse_vjp_a, _lse_vjp_b, argnums=(0, 2))
logsumexp.defjvp(_lse_jvp_a, _lse_jvp_b, argnums=(0, 2))

defcomposite("scipy.special.softmax",
             lambda x, axis=None: P.exp(x - logsumexp(x, axis=axis, keepdims=True)))
defcomposite("scipy.special.log_softmax",
             lambda x, axis=None: x - logsumexp(x, axis=axis, keepdims=True))

# --- entropy terms: entr = -x log x, rel_entr = x log(x/y), kl_div = rel_entr - x + y --------
_ufunc("entr", lambda ans, x: -(P.log(x) + 1.0))
_ufunc("rel_entr", lambda ans, x, y: P.log(x / y) + 1.0, lambda ans, x, y: -(x / y))
_ufunc("kl_div", lambda ans, x, y: P.log(x / y), lambda ans, x, y: 1.0 - x / y)


# --- Bessel functions: the derivative of order v combines orders v - 1 and v + 1 -------------
def _jv(ans, v, x):
    return (P.scipy_special_jv(v - 1, x) - P.scipy_special_jv(v + 1, x)) / 2.0


def _yv(ans, v, x):
    return (P.scipy_special_yv(v - 1, x) - P.scipy_special_yv(v + 1, x)) / 2.0


def _yn(ans, n, x):
    return (P.scipy_special_yn(n - 1, x) - P.scipy_special_yn(n + 1, x)) / 2.0


def _iv(ans, v, x):
    return (P.scipy_special_iv(v - 1, x) + P.scipy_special_iv(v + 1, x)) / 2.0


def _kv(ans, v, x):
    return -(P.scipy_special_kv(v - 1, x) + P.scipy_special_kv(v + 1, x)) / 2.0


# The scaled functions ive = iv e^-|x| and kve = kv e^x, differentiated as products.
def _ive(ans, v, x):
    return (P.scipy_special_ive(v - 1, x) + P.scipy_special_ive(v + 1, x)) / 2.0 - P.sign(x) * ans


def _kve(ans, v, x):
    return ans - (P.scipy_special_kve(v - 1, x) + P.scipy_special_kve(v + 1, x)) / 2.0


jv = _ufunc("jv", None, _jv)
defcomposite("scipy.special.jn", jv)  # scipy's jn is jv itself
for _name, _slope in [("yv", _yv), ("yn", _yn), ("iv", _iv), ("ive", _ive), ("kv", _kv),
                      ("kve", _kve)]:
    _ufunc(_name, None, _slope)

# Orders 0 and 1 have faster routines of their own; their derivatives reach order 2 through
# the general functions above.
_ufunc("j0", lambda ans, x: -P.scipy_special_j1(x))
_ufunc("j1", lambda ans, x: _jv(ans, 1, x))
_ufunc("y0", lambda ans, x: -P.scipy_special_y1(x))
_ufunc("y1", lambda ans, x: _yv(ans, 1, x))
_ufunc("i0", lambda ans, x: P.scipy_special_i1(x))
_ufunc("i1", lambda ans, x: _iv(ans, 1, x))
_ufunc("i0e", lambda ans, x: P.scipy_special_i1e(x) - P.sign(x) * ans)
_ufunc("i1e", lambda ans, x: _ive(ans, 1, x))
_ufunc("k0", lambda ans, x: -P.scipy_special_k1(x))
_ufunc("k1", lambda ans, x: _kv(ans, 1, x))
_ufunc("k0e", lambda ans, x: ans - P.scipy_special_k1e(x))
_ufunc("k1e", lambda ans, x: _kve(ans, 1, x))


# --- Student's t distribution function, stdtr(df, t) -----------------------------------------
def _student_density(df, t):
    """The density of Student's t with df degrees of freedom, at t."""
    # log poch(df/2, 1/2) = log gamma((df+1)/2) - log gamma(df/2), without their cancellation
    return P.exp(P.log(P.scipy_special_poch(0.5 * df, 0.5)) - 0.5 * P.log(np.pi * df)
                 - 0.5 * (df + 1.0) * P.scipy_special_log1p(t * t / df))


def _stdtr_slope_df(ans, df, t):
    """The slope in df of stdtr(df, t) = 1/2 + sign(t) betainc(1/2, df/2, v) / 2, where
    v = t^2 / (df + t^2).

    The chain rule through v gives -t density(t) / (2 df); the rest is betainc's slope in
    its second parameter. At t = 0 that slope's own derivative in v is inf * 0, so there
    the slope in df is the first term of its expansion in t (it is odd in t): t times
    d/d df of the density at 0, exact in value and in every first and second derivative.
    """
    at_zero = getval_all(t) == 0
    if not np.any(at_zero):
        return _stdtr_slope_df_away(df, t)
    half = 0.5 * df
    near = t * _student_density(df, 0.0) * 0.5 * (
        P.scipy_special_digamma(half + 0.5) - P.scipy_special_digamma(half) - 1.0 / df)
    return P.where(at_zero, near, _stdtr_slope_df_away(df, P.where(at_zero, 1.0, t)))


def _stdtr_slope_df_away(df, t):
    # v and 1 - v each formed directly: 1.0 - v would lose v's digits when t is small
    v, one_minus_v = t * t / (df + t * t), df / (df + t * t)
    return (0.25 * P.sign(t) * _betainc_slope(1, 0.5, 0.5 * df, v, one_minus_v)
            - t * _student_density(df, t) / (2.0 * df))


_ufunc("stdtr", _stdtr_slope_df, lambda ans, df, t: _student_density(df, t))


# --- what the wire may pass (params.py, sizing.py) ---------------------------------------------
# The scipy.special ufuncs share elementwise_specs' declaration; these are the functions that
# are not ufuncs. Answer dtypes are scipy's own, asked once per input dtype.
def _lse_of(a, b):
    return sc.logsumexp(a, b=b)


def _logsumexp_size(args, kwargs):
    """a and b broadcast, then reduced over axis."""
    a, b = S.arg(args, kwargs, 0, "a"), S.arg(args, kwargs, 2, "b")
    shape = S.shape(a) if b is None else S.broadcast(S.shape(a), S.shape(b))
    ax = S.axes(S.arg(args, kwargs, 1, "axis"), len(shape))
    if S.arg(args, kwargs, 3, "keepdims", False):
        shape = tuple(1 if i in ax else n for i, n in enumerate(shape))
    else:
        shape = tuple(n for i, n in enumerate(shape) if i not in ax)
    return S.Out(shape, S.answer_dtype(_lse_of, a, b))


def _logsumexp_cost(args, kwargs, outs):
    """An exp and a few passes over the broadcast terms."""
    a, b = S.arg(args, kwargs, 0, "a"), S.arg(args, kwargs, 2, "b")
    terms = S.size_of(a) if b is None else math.prod(S.broadcast(S.shape(a), S.shape(b)))
    return 40 * terms + S.numel(outs)


def _normalized_size(name):
    """softmax and log_softmax: shaped like x, in the dtype the op itself gives x's."""
    def size(args, kwargs):
        x = S.arg(args, kwargs, 0, "x")
        return S.Out(S.shape(x), S.answer_dtype(OPS[name], x))
    return size


def _multigammaln_size(args, kwargs):
    a = S.arg(args, kwargs, 0, "a")
    return S.Out(S.shape(a), S.answer_dtype(sc.multigammaln, a, 1))


def _multigammaln_cost(args, kwargs, outs):
    """scipy sums d gammaln arrays, built one by one in a Python loop."""
    d = S.arg(args, kwargs, 1, "d")
    return d * (100 * S.numel(outs) + 3000) + S.numel(outs)


def _polygamma_size(args, kwargs):
    n, x = S.arg(args, kwargs, 0, "n"), S.arg(args, kwargs, 1, "x")
    return S.Out(S.broadcast(S.shape(n), S.shape(x)), S.answer_dtype(sc.polygamma, n, x))


declare("scipy.special.logsumexp",
        Signature(("a", ARRAY), ("axis", AXIS, None), ("b", optional(ARRAY), None),
                  ("keepdims", BOOL, None)),
        _logsumexp_size, _logsumexp_cost)
for _name in ("scipy.special.softmax", "scipy.special.log_softmax"):
    declare(_name, Signature(("x", ARRAY), ("axis", AXIS, None)), _normalized_size(_name),
            S.linear(25))
declare("scipy.special.multigammaln", Signature(("a", ARRAY), ("d", NONNEG)),
        _multigammaln_size, _multigammaln_cost)
# polygamma(n, x) is gamma(n + 1) zeta(n + 1, x) with psi where n is 0, in scipy's Python.
declare("scipy.special.polygamma", Signature(("n", ARRAY), ("x", ARRAY)), _polygamma_size,
        S.per_output(2000))
