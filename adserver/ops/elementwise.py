"""Elementwise math with numpy broadcasting: unary and binary functions and comparisons."""
import numpy as np

from ..engine.tracer import ZERO_GRADIENT, getval_all
from .base import unbroadcast, broadcast_like, balanced_eq, dtype_of, chain
from .registry import defop, defcomposite, P

# --- unary ------------------------------------------------------------------------------
negative = defop("negative", np.negative).def_linear(0)
negative.defvjp(lambda g, ans, x: P.negative(g))

# Rules whose slope can be infinite or undefined (at a domain edge, or by overflow) go
# through chain: a zero cotangent (from the branch where() does not take) stays exactly 0.
exp = defop("exp", np.exp)
# (the slope of exp is its answer, which overflows to inf for x > 709)
exp.defvjp(lambda g, ans, x: chain(g, lambda a: a, ans, safe=0.0))
exp.defjvp(lambda t, ans, x: chain(t, lambda a: a, ans, safe=0.0))

log = defop("log", np.log)
log.defvjp(lambda g, ans, x: chain(g, lambda x: 1 / x, x))
log.defjvp(lambda t, ans, x: chain(t, lambda x: 1 / x, x))

sin = defop("sin", np.sin)
sin.defvjp(lambda g, ans, x: g * P.cos(x))
sin.defjvp(lambda t, ans, x: t * P.cos(x))

cos = defop("cos", np.cos)
cos.defvjp(lambda g, ans, x: -(g * P.sin(x)))
cos.defjvp(lambda t, ans, x: -(t * P.sin(x)))

tan = defop("tan", np.tan)
tan.defvjp(lambda g, ans, x: g / P.cos(x) ** 2)
tan.defjvp(lambda t, ans, x: t / P.cos(x) ** 2)

sinh = defop("sinh", np.sinh)
sinh.defvjp(lambda g, ans, x: chain(g, P.cosh, x, safe=0.0))
sinh.defjvp(lambda t, ans, x: chain(t, P.cosh, x, safe=0.0))

cosh = defop("cosh", np.cosh)
cosh.defvjp(lambda g, ans, x: chain(g, P.sinh, x, safe=0.0))
cosh.defjvp(lambda t, ans, x: chain(t, P.sinh, x, safe=0.0))

tanh = defop("tanh", np.tanh)
tanh.defvjp(lambda g, ans, x: g / P.cosh(x) ** 2)
tanh.defjvp(lambda t, ans, x: t / P.cosh(x) ** 2)

sqrt = defop("sqrt", np.sqrt)
sqrt.defvjp(lambda g, ans, x: chain(g, lambda x: 0.5 * x ** -0.5, x))
sqrt.defjvp(lambda t, ans, x: chain(t, lambda x: 0.5 * x ** -0.5, x))


def _abs_slope(x, ans):
    """sign(x) for real x, 0 at 0; conj(z) / |z| for complex z (0 at 0), autograd's rule.

    sign(z) = z / |z| is no constant for complex z, so the complex slope is written with
    traced ops, for its own derivatives.
    """
    if not np.iscomplexobj(getval_all(x)):
        return P.sign(x)
    return P.conjugate(x) / P.where(P.equal(ans, 0), 1.0, ans)


def _abs_jvp(t, ans, x):
    # d|z| = Re(conj(z) dz) / |z|: a real tangent
    tangent = t * _abs_slope(x, ans)
    return P.real(tangent) if np.iscomplexobj(getval_all(x)) else tangent


absolute = defop("absolute", np.abs)
absolute.defvjp(lambda g, ans, x: g * _abs_slope(x, ans))
absolute.defjvp(_abs_jvp)
defcomposite("abs", absolute)

real = defop("real", np.real).def_linear(0)
# The cotangent of a real part is real; a complex input takes it as a complex number.
real.defvjp(lambda g, ans, x: P.astype(g, dtype_of(x)) if np.iscomplexobj(getval_all(x))
            else g)

def _astype(x, dtype):
    """`x.astype(dtype)`"""
    return np.asarray(x).astype(dtype)


astype = defop("astype", _astype).def_linear(0)
# unbroadcast also takes the real part of a complex cotangent for a real input
astype.defvjp(lambda g, ans, x, dtype: P.astype(unbroadcast(x, g), dtype_of(x)))

# --- binary -------------------------------------------------------------------------------
add = defop("add", np.add)
add.defvjp(lambda g, ans, x, y: unbroadcast(x, g),
           lambda g, ans, x, y: unbroadcast(y, g))
add.defjvp(lambda t, ans, x, y: broadcast_like(t, ans),
           lambda t, ans, x, y: broadcast_like(t, ans))

subtract = defop("subtract", np.subtract)
subtract.defvjp(lambda g, ans, x, y: unbroadcast(x, g),
                lambda g, ans, x, y: unbroadcast(y, -g))
subtract.defjvp(lambda t, ans, x, y: broadcast_like(t, ans),
                lambda t, ans, x, y: broadcast_like(-t, ans))

multiply = defop("multiply", np.multiply).def_linear(0, 1)
multiply.defvjp(lambda g, ans, x, y: unbroadcast(x, g * y),
                lambda g, ans, x, y: unbroadcast(y, x * g))

divide = defop("divide", np.true_divide)
divide.defvjp(lambda g, ans, x, y: unbroadcast(x, chain(g, lambda y: 1 / y, y)),
              lambda g, ans, x, y: unbroadcast(y, chain(g, lambda x, y: -x / y ** 2, x, y)))
divide.defjvp(lambda t, ans, x, y: broadcast_like(chain(t, lambda y: 1 / y, y), ans),
              lambda t, ans, x, y: chain(t, lambda x, y: -x / y ** 2, x, y))
defcomposite("true_divide", divide)


def _power_slope(x, y):
    # y * x ** (y - 1) is 0 * 0 ** -1 = nan at x == y == 0, where x ** 0 == 1 has slope 0.
    # Only those points get exponent 1 (giving 0 * 0); elsewhere, even at y == 0 alone,
    # the exponent stays y - 1, so the traced derivatives with respect to y stay exact.
    both_zero = np.logical_and(P.equal(x, 0), P.equal(y, 0))
    exponent = P.where(both_zero, 1.0, y - 1) if np.any(both_zero) else y - 1
    return y * x ** exponent


def _exponent_slope(x, y, ans):
    # log(x) * ans; log(x) is undefined at x == 0, where the slope is 0 * ans anyway
    return P.log(P.where(P.equal(x, 0), 1.0, x)) * ans


power = defop("power", np.power)
power.defvjp(lambda g, ans, x, y: unbroadcast(x, chain(g, _power_slope, x, y)),
             lambda g, ans, x, y: unbroadcast(y, chain(g, _exponent_slope, x, y, ans)))
power.defjvp(lambda t, ans, x, y: broadcast_like(chain(t, _power_slope, x, y), ans),
             lambda t, ans, x, y: broadcast_like(chain(t, _exponent_slope, x, y, ans), ans))

maximum = defop("maximum", np.maximum)
minimum = defop("minimum", np.minimum)
for _extremum in (maximum, minimum):
    _extremum.defvjp(lambda g, ans, x, y: unbroadcast(x, g * balanced_eq(x, ans, y)),
                     lambda g, ans, x, y: unbroadcast(y, g * balanced_eq(y, ans, x)))
    _extremum.defjvp(lambda t, ans, x, y: broadcast_like(t * balanced_eq(x, ans, y), ans),
                     lambda t, ans, x, y: broadcast_like(t * balanced_eq(y, ans, x), ans))

where = defop("where", np.where)
where.defvjp(lambda g, ans, c, x, y: unbroadcast(x, P.where(c, g, P.zeros_like(g))),
             lambda g, ans, c, x, y: unbroadcast(y, P.where(c, P.zeros_like(g), g)),
             argnums=(1, 2))
where.defjvp(lambda t, ans, c, x, y: broadcast_like(P.where(c, t, P.zeros_like(t)), ans),
             lambda t, ans, c, x, y: broadcast_like(P.where(c, P.zeros_like(t), t), ans),
             argnums=(1, 2))

# --- zero gradient: piecewise constant, or boolean ----------------------------------------
for _name in ["floor", "ceil", "sign", "equal", "not_equal", "less", "less_equal",
              "greater", "greater_equal"]:
    defop(_name, getattr(np, _name), ZERO_GRADIENT)


# --- what the wire may pass (params.py, sizing.py) ---
from .params import Signature, ARRAY, DTYPE  # noqa: E402
from .registry import declare  # noqa: E402
from .sizing import Out, I64, arg, dtype, linear, raw, shape, weak  # noqa: E402

ELEMENTWISE_WEIGHT = 2.0     # one pass of a numpy loop, per element read or written


def part_dtype(dt):
    """The dtype of a real or imaginary part: a complex dtype's real one, else ``dt``."""
    dt = np.dtype(dt)
    return np.empty(0, dt).real.dtype if dt.kind == "c" else dt


def _part_size(args, kwargs):
    x = arg(args, kwargs, 0, "val")
    return Out(shape(x), part_dtype(dtype(x)))


def _astype_size(args, kwargs):
    x, to = arg(args, kwargs, 0, "x"), arg(args, kwargs, 1, "dtype")
    return Out(shape(x), np.dtype(DTYPE.PYTHON.get(to, to)))


def _weak_or_dtype(x):
    """What numpy's type resolution sees of ``x``: a Python number as itself (weak)."""
    w = weak(x)
    return raw(x) if isinstance(w, type) else w


def _where_size(args, kwargs):
    if len(args) == 1:
        # where(condition) is nonzero(condition): one index array per axis, of its count
        condition = np.asarray(raw(args[0]))
        count = int(np.count_nonzero(condition))
        return [Out((count,), I64) for _ in range(max(condition.ndim, 1))]
    if len(args) != 3:
        raise ValueError("either both or neither of x and y should be given")
    s = np.broadcast_shapes(*[tuple(shape(a)) for a in args])
    return Out(s, np.result_type(*[_weak_or_dtype(a) for a in args[1:]]))


_where_cost = linear(ELEMENTWISE_WEIGHT)

declare("real", Signature(("val", ARRAY)), _part_size, linear(1.0))
# the dtype is a name from the wire's whitelist: no structured, string or object dtypes
declare("astype", Signature(("x", ARRAY), ("dtype", DTYPE)), _astype_size,
        linear(ELEMENTWISE_WEIGHT))
declare("where", Signature(("condition", ARRAY), ("x", ARRAY, None), ("y", ARRAY, None)),
        _where_size, _where_cost)
