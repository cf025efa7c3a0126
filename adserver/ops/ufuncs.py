"""Elementwise math beyond the foundation: inverse trigonometric and hyperbolic functions,
other exponentials and logarithms, two-argument functions, complex parts, and the ufuncs
that are piecewise constant (rounding, tests, logic), whose gradient is zero.

Where-safety: the rules made by ``_unary`` and ``_binary`` multiply by their slope through
base.chain, which gives exactly 0 where the incoming cotangent (or tangent) is 0, even where
the slope is infinite or undefined (log2 at 0, arcsin at +-1 and beyond, exp2 past
overflow, ...). The branch that ``where`` does not take receives such a zero, so
``where(x > -1, log1p(x), 0)`` keeps finite gradients at x <= -1 instead of 0 * inf = nan.
docs/GRADIENTS.md states the conventions for users.
"""
import numpy as np

from ..engine.tracer import ZERO_GRADIENT, getval_all
from .base import unbroadcast, broadcast_like, balanced_eq, dtype_of, chain
from .registry import defop, defcomposite, P

LN2 = np.log(2.0)
LN10 = np.log(10.0)


def _unary(name, slope, safe=1.0):
    """An elementwise op whose VJP and JVP both multiply by ``slope(x, ans)``."""
    op = defop(name, getattr(np, name))
    op.defvjp(lambda g, ans, x: chain(g, slope, x, ans, safe=safe))
    op.defjvp(lambda t, ans, x: chain(t, slope, x, ans, safe=safe))
    return op


# --- inverse trigonometric and hyperbolic functions ---------------------------------------
# (1 - x) * (1 + x) rather than 1 - x ** 2: no cancellation near |x| = 1, where it matters.
# The slopes are the complex derivatives too (for arccosh only in the product form below:
# sqrt(x ** 2 - 1) takes the wrong branch when the real part of x is negative).
arcsin = _unary("arcsin", lambda x, ans: 1 / P.sqrt((1 - x) * (1 + x)), safe=0.0)
arccos = _unary("arccos", lambda x, ans: -1 / P.sqrt((1 - x) * (1 + x)), safe=0.0)
arctan = _unary("arctan", lambda x, ans: 1 / (1 + x * x), safe=0.0)
arcsinh = _unary("arcsinh", lambda x, ans: 1 / P.sqrt(1 + x * x), safe=0.0)
arccosh = _unary("arccosh", lambda x, ans: 1 / (P.sqrt(x - 1) * P.sqrt(x + 1)), safe=2.0)
arctanh = _unary("arctanh", lambda x, ans: 1 / ((1 - x) * (1 + x)), safe=0.0)

# --- exponentials and logarithms ------------------------------------------------------------
exp2 = _unary("exp2", lambda x, ans: ans * LN2, safe=0.0)
# exp(x), not ans + 1: for x << 0, ans + 1 cancels to 0 and loses every digit.
expm1 = _unary("expm1", lambda x, ans: P.exp(x), safe=0.0)
log2 = _unary("log2", lambda x, ans: 1 / (x * LN2))
log10 = _unary("log10", lambda x, ans: 1 / (x * LN10))
log1p = _unary("log1p", lambda x, ans: 1 / (1 + x), safe=0.0)

# --- powers ---------------------------------------------------------------------------------
square = _unary("square", lambda x, ans: 2 * x)
reciprocal = _unary("reciprocal", lambda x, ans: -(ans * ans))
cbrt = _unary("cbrt", lambda x, ans: 1 / (3 * ans * ans))

# --- sinc -----------------------------------------------------------------------------------
# sinc'(x) = (cos(pi x) - sinc(x)) / x cancels as x -> 0 (and is 0 / 0 at 0), so near 0 the
# slope is its Taylor series, sum over k >= 1 of (-1)^k pi^2k 2k x^(2k-1) / (2k+1)!. Eight
# terms leave a relative error below 1e-20 for |x| < 0.1; from 0.1 on, the closed form keeps
# 10 or more digits up to the fifth derivative of sinc.
_SINC_NEAR = 0.1
_SINC_SERIES = [(-1) ** k * np.pi ** (2 * k) * 2 * k / np.prod(np.arange(1.0, 2 * k + 2))
                for k in range(1, 9)]


def _sinc_slope(x, ans):
    near = np.abs(getval_all(x)) < _SINC_NEAR
    if not np.any(near):
        return (P.cos(np.pi * x) - ans) / x
    far = P.where(near, 1.0, x)
    closed = (P.cos(np.pi * far) - P.sinc(far)) / far
    x2 = x * x
    series = _SINC_SERIES[-1]
    for c in reversed(_SINC_SERIES[:-1]):
        series = series * x2 + c
    return P.where(near, series * x, closed)


sinc = _unary("sinc", _sinc_slope)

# --- linear: signs, conjugates, units ----------------------------------------------------
positive = defop("positive", np.positive).def_linear(0)
positive.defvjp(lambda g, ans, x: g)

# For f(z) = conj(z) the cotangent is conj(g) under autograd's convention (dL/dx - i dL/dy).
conjugate = defop("conjugate", np.conjugate).def_linear(0)
conjugate.defvjp(lambda g, ans, x: P.conjugate(g))
defcomposite("conj", conjugate)

rad2deg = defop("rad2deg", np.rad2deg).def_linear(0)
rad2deg.defvjp(lambda g, ans, x: g * (180 / np.pi))
defcomposite("degrees", rad2deg)

deg2rad = defop("deg2rad", np.deg2rad).def_linear(0)
deg2rad.defvjp(lambda g, ans, x: g * (np.pi / 180))
defcomposite("radians", deg2rad)

# ldexp(x, n) = x * 2 ** n with integer n: linear in x, and its adjoint scales exactly too.
ldexp = defop("ldexp", np.ldexp).def_linear(0)
ldexp.defvjp(lambda g, ans, x, n: unbroadcast(x, P.ldexp(g, n)))

# --- complex parts ------------------------------------------------------------------------
def _is_complex(x):
    return np.iscomplexobj(getval_all(x))


# Im(z) = y: its gradient dL/dx - i dL/dy is -i g; a real input gets none.
imag = defop("imag", np.imag).def_linear(0)
imag.defvjp(lambda g, ans, x: -1j * g if _is_complex(x) else P.zeros_like(g))


def _angle_scale(deg):
    return 180 / np.pi if deg else 1.0


# angle(z) = Im(log z): d angle = Im(dz / z), whose gradient is -i g / z. For real input
# the angle is 0 or pi, piecewise constant: zero gradient.
def _angle_vjp(g, ans, z, deg=False):
    if not _is_complex(z):
        return P.zeros_like(g)
    return chain(g, lambda z: -1j * _angle_scale(deg) / z, z)


def _angle_jvp(t, ans, z, deg=False):
    if not _is_complex(z):
        return P.zeros_like(ans)
    return P.imag(chain(t, lambda z: _angle_scale(deg) / z, z))


angle = defop("angle", np.angle)
angle.defvjp(_angle_vjp)
angle.defjvp(_angle_jvp)

# fabs is absolute for real input only; 0 at the kink, as absolute has.
fabs = defop("fabs", np.fabs)
fabs.defvjp(lambda g, ans, x: g * P.sign(x))
fabs.defjvp(lambda t, ans, x: t * P.sign(x))


# --- binary ---------------------------------------------------------------------------------
def _binary(name, slope_x, slope_y, safe=1.0):
    """A broadcasting op whose partial derivatives are ``slope_x`` and ``slope_y``(x, y, ans)."""
    op = defop(name, getattr(np, name))
    op.defvjp(lambda g, ans, x, y: unbroadcast(x, chain(g, slope_x, x, y, ans, safe=safe)),
              lambda g, ans, x, y: unbroadcast(y, chain(g, slope_y, x, y, ans, safe=safe)))
    op.defjvp(lambda t, ans, x, y: broadcast_like(chain(t, slope_x, x, y, ans, safe=safe),
                                                  ans),
              lambda t, ans, x, y: broadcast_like(chain(t, slope_y, x, y, ans, safe=safe),
                                                  ans))
    return op


def _over_hypot(v, ans):
    """v / hypot, taken as 0 at the origin: hypot(x, 0) is |x|, whose slope is 0 at 0."""
    at_origin = P.equal(ans, 0)
    return P.where(at_origin, 0.0, v / P.where(at_origin, 1.0, ans))


# arctan2(y, x) is the angle of (x, y): slopes x / r^2 and -y / r^2, undefined at the origin.
arctan2 = _binary("arctan2", lambda y, x, ans: x / (x * x + y * y),
                  lambda y, x, ans: -y / (x * x + y * y))
hypot = _binary("hypot", lambda x, y, ans: _over_hypot(x, ans),
                lambda x, y, ans: _over_hypot(y, ans))
# exp(x - ans) is the softmax weight of x: at most 1, never overflows.
logaddexp = _binary("logaddexp", lambda x, y, ans: P.exp(x - ans),
                    lambda x, y, ans: P.exp(y - ans), safe=0.0)
logaddexp2 = _binary("logaddexp2", lambda x, y, ans: P.exp2(x - ans),
                     lambda x, y, ans: P.exp2(y - ans), safe=0.0)
# fmax and fmin skip a nan (it gets no gradient); ties split equally, as in maximum.
fmax = _binary("fmax", lambda x, y, ans: balanced_eq(x, ans, y),
               lambda x, y, ans: balanced_eq(y, ans, x))
fmin = _binary("fmin", lambda x, y, ans: balanced_eq(x, ans, y),
               lambda x, y, ans: balanced_eq(y, ans, x))


def _minus_quotient(x, y, ans):
    """-q, where q is the integer quotient with x = q * y + ans (numpy's own remainder).

    Rounding (x - ans) / y agrees with that remainder even where x / y rounds across an
    integer. Piecewise constant, so it is computed on plain values.
    """
    x, y, ans = getval_all(x), getval_all(y), getval_all(ans)
    return -np.rint((x - ans) / y)


# remainder (floor quotient; numpy's mod) and fmod (truncated quotient, C's) are both
# x - q * y with q piecewise constant: slope 1 in x, -q in y.
for _name in ["remainder", "fmod"]:
    _op = defop(_name, getattr(np, _name))
    _op.defvjp(lambda g, ans, x, y: unbroadcast(x, g),
               lambda g, ans, x, y: unbroadcast(y, chain(g, _minus_quotient, x, y, ans)))
    _op.defjvp(lambda t, ans, x, y: broadcast_like(t, ans),
               lambda t, ans, x, y: broadcast_like(chain(t, _minus_quotient, x, y, ans),
                                                   ans))
defcomposite("mod", P.remainder)

# float_power is power computed in float64 (complex128): power's slopes, with the same care
# at a zero base. (A composite of astype and power would differ from numpy's float_power in
# the last bit: the two ufuncs use different pow loops.)
def _float_power_dx(x, y, ans):
    # y * x ** (y - 1) is 0 * 0 ** -1 = nan at x == y == 0, where x ** 0 == 1 has slope 0.
    both_zero = np.logical_and(np.equal(getval_all(x), 0), np.equal(getval_all(y), 0))
    exponent = P.where(both_zero, 1.0, y - 1) if np.any(both_zero) else y - 1
    return y * P.float_power(x, exponent)


def _float_power_dy(x, y, ans):
    # ln(x) * ans; where x == 0, ans is 0 (or inf), and the log is taken at 1 instead.
    return P.log(P.where(P.equal(x, 0), 1.0, x)) * ans


float_power = _binary("float_power", _float_power_dx, _float_power_dy)

# |x1| with the sign of x2: slope sign(x1) * sign(ans) in x1 (0 at x1 = 0, as for absolute);
# the sign argument only ever flips the sign, so it gets a zero gradient.
copysign = defop("copysign", np.copysign)
copysign.defvjp(lambda g, ans, x, s: unbroadcast(x, g * (P.sign(x) * P.sign(ans))),
                lambda g, ans, x, s: P.zeros_like(s))
copysign.defjvp(lambda t, ans, x, s: broadcast_like(t * (P.sign(x) * P.sign(ans)), ans),
                lambda t, ans, x, s: P.zeros_like(ans))

# heaviside(x, h) is 0, h or 1: constant in x (0 at the jump), and h where x == 0.
heaviside = defop("heaviside", np.heaviside)
heaviside.defvjp(lambda g, ans, x, h: P.zeros_like(x),
                 lambda g, ans, x, h: unbroadcast(h, P.where(P.equal(x, 0), g, 0.0)))
heaviside.defjvp(lambda t, ans, x, h: P.zeros_like(ans),
                 lambda t, ans, x, h: broadcast_like(P.where(P.equal(x, 0), t, 0.0), ans))


# --- built from other ops --------------------------------------------------------------------
def clip(a, a_min=None, a_max=None, *, min=None, max=None):
    """numpy.clip as minimum(maximum(a, a_min), a_max), which numpy documents it equals.

    A tie with a bound splits the gradient equally between a and the bound, as maximum and
    minimum do.
    """
    low = a_min if min is None else min
    high = a_max if max is None else max
    out = P.positive(a) if low is None else P.maximum(a, low)
    return out if high is None else P.minimum(out, high)


defcomposite("clip", clip)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """numpy.nan_to_num: finite elements pass through; the replaced ones are constants.

    ``copy`` is accepted for numpy's signature; the answer is always a new array.
    """
    if _is_complex(x):
        # numpy replaces non-finite real and imaginary parts separately.
        def part(p):
            return nan_to_num(p, nan=nan, posinf=posinf, neginf=neginf)
        return part(P.real(x)) + 1j * part(P.imag(x))
    fill = np.nan_to_num(getval_all(x), nan=nan, posinf=posinf, neginf=neginf)
    return P.where(P.isfinite(x), x, fill)


defcomposite("nan_to_num", nan_to_num)


for _name, _op in [("asin", arcsin), ("acos", arccos), ("atan", arctan), ("asinh", arcsinh),
                   ("acosh", arccosh), ("atanh", arctanh), ("atan2", arctan2)]:
    defcomposite(_name, _op)

# --- zero gradient: tests, rounding, logic, integer division ------------------------------
for _name in ["isnan", "isinf", "isfinite", "signbit", "round", "rint", "fix", "trunc",
              "logical_and", "logical_or", "logical_not", "logical_xor", "floor_divide"]:
    defop(_name, getattr(np, _name), ZERO_GRADIENT)
defcomposite("around", P.round)

# numpy 2's name for power
defcomposite("pow", P.power)


def real_if_close(a, tol=100):
    """numpy.real_if_close: the real part when every imaginary part is within ``tol``
    machine epsilons of zero (decided on the values, so the choice itself is constant)."""
    value = getval_all(a)
    if not np.iscomplexobj(value):
        return a
    if np.all(np.abs(np.imag(value)) < tol * np.finfo(value.real.dtype).eps):
        return P.real(a)
    return a


defcomposite("real_if_close", real_if_close)


# --- what the wire may pass (params.py, sizing.py) ---
from .elementwise import part_dtype  # noqa: E402
from .params import Signature, ARRAY, BOOL, FLOAT, INT, optional  # noqa: E402
from .registry import declare  # noqa: E402
from .sizing import Out, arg, dtype, linear, raw, shape, weak  # noqa: E402

_ANSWER_DTYPES = {}


def answer_dtype(fun, *inputs):
    """The dtype of ``fun``'s answer for inputs like these: ``fun`` run once on
    one-element stand-ins (a Python number stays one: weak, NEP 50), cached on the dtypes."""
    kinds = tuple(None if x is None else weak(x) for x in inputs)
    dt = _ANSWER_DTYPES.get((fun, kinds))
    if dt is None:
        ones = [None if k is None else k(1) if isinstance(k, type) else np.ones(1, k)
                for k in kinds]
        with np.errstate(all="ignore"):
            dt = _ANSWER_DTYPES[(fun, kinds)] = np.asarray(fun(*ones)).dtype
    return dt


def _numpys_dtype(fun, name):
    """Size rule of an op shaped like its argument ``name``, with the dtype numpy's own
    ``fun`` gives it."""
    def size(args, kwargs):
        x = arg(args, kwargs, 0, name)
        return Out(shape(x), answer_dtype(fun, x))
    return size


def _imag_size(args, kwargs):
    x = arg(args, kwargs, 0, "val")
    return Out(shape(x), part_dtype(dtype(x)))


def _clipped(a, low, high):
    """clip as the composite computes it, for numpy's dtype of its answer."""
    out = np.positive(a) if low is None else np.maximum(a, low)
    return out if high is None else np.minimum(out, high)


def _clip_bounds(args, kwargs):
    low = arg(args, kwargs, 1, "a_min")
    high = arg(args, kwargs, 2, "a_max")
    return (kwargs.get("min") if low is None else low,
            kwargs.get("max") if high is None else high)


def _clip_size(args, kwargs):
    a = arg(args, kwargs, 0, "a")
    low, high = _clip_bounds(args, kwargs)
    s = np.broadcast_shapes(*[tuple(shape(x)) for x in (a, low, high) if x is not None])
    return Out(s, answer_dtype(_clipped, a, low, high))


def _real_if_close_size(args, kwargs):
    """Decided on the values, as the op decides: the real part's dtype when every
    imaginary part is within ``tol`` machine epsilons of zero."""
    a = arg(args, kwargs, 0, "a")
    tol = arg(args, kwargs, 1, "tol", 100)
    value = np.asarray(raw(a))
    if value.dtype.kind == "c" and \
            np.all(np.abs(value.imag) < tol * np.finfo(value.real.dtype).eps):
        return Out(value.shape, value.real.dtype)
    return Out(value.shape, value.dtype)


declare("imag", Signature(("val", ARRAY)), _imag_size, linear(1.0))
declare("angle", Signature(("z", ARRAY), ("deg", BOOL, False)), _numpys_dtype(np.angle, "z"),
        linear(4.0))
declare("sinc", Signature(("x", ARRAY)), _numpys_dtype(np.sinc, "x"), linear(8.0))
declare("fix", Signature(("x", ARRAY)), _numpys_dtype(np.fix, "x"), linear(4.0))
declare(("round", "around"), Signature(("a", ARRAY), ("decimals", INT, 0)),
        _numpys_dtype(np.round, "a"), linear(4.0))
declare("clip", Signature(("a", ARRAY), ("a_min", optional(ARRAY), None),
                          ("a_max", optional(ARRAY), None),
                          kw={"min": optional(ARRAY), "max": optional(ARRAY)}),
        _clip_size, linear(4.0))
declare("nan_to_num", Signature(("x", ARRAY), ("copy", BOOL, True), ("nan", FLOAT, 0.0),
                                ("posinf", optional(FLOAT), None),
                                ("neginf", optional(FLOAT), None)),
        _numpys_dtype(np.nan_to_num, "x"), linear(8.0))
declare("real_if_close", Signature(("a", ARRAY), ("tol", FLOAT, 100)), _real_if_close_size,
        linear(2.0))
