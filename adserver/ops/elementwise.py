"""Elementwise math with numpy broadcasting: unary and binary functions and comparisons."""
import numpy as np

from ..engine.tracer import ZERO_GRADIENT, getval_all
from .base import unbroadcast, broadcast_like, balanced_eq, dtype_of
from .registry import defop, defcomposite, P

# --- unary ------------------------------------------------------------------------------
negative = defop("negative", np.negative).def_linear(0)
negative.defvjp(lambda g, ans, x: P.negative(g))

exp = defop("exp", np.exp)
exp.defvjp(lambda g, ans, x: g * ans)
exp.defjvp(lambda t, ans, x: t * ans)

log = defop("log", np.log)
log.defvjp(lambda g, ans, x: g / x)
log.defjvp(lambda t, ans, x: t / x)

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
sinh.defvjp(lambda g, ans, x: g * P.cosh(x))
sinh.defjvp(lambda t, ans, x: t * P.cosh(x))

cosh = defop("cosh", np.cosh)
cosh.defvjp(lambda g, ans, x: g * P.sinh(x))
cosh.defjvp(lambda t, ans, x: t * P.sinh(x))

tanh = defop("tanh", np.tanh)
tanh.defvjp(lambda g, ans, x: g / P.cosh(x) ** 2)
tanh.defjvp(lambda t, ans, x: t / P.cosh(x) ** 2)

sqrt = defop("sqrt", np.sqrt)
sqrt.defvjp(lambda g, ans, x: g * 0.5 * x ** -0.5)
sqrt.defjvp(lambda t, ans, x: t * 0.5 * x ** -0.5)

absolute = defop("absolute", np.abs)
absolute.defvjp(lambda g, ans, x: g * P.sign(x))
absolute.defjvp(lambda t, ans, x: t * P.sign(x))
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
divide.defvjp(lambda g, ans, x, y: unbroadcast(x, g / y),
              lambda g, ans, x, y: unbroadcast(y, -(g * x) / y ** 2))
divide.defjvp(lambda t, ans, x, y: broadcast_like(t / y, ans),
              lambda t, ans, x, y: -(t * x) / y ** 2)
defcomposite("true_divide", divide)


def _power_slope(x, y):
    # y * x ** (y - 1) is 0 * 0 ** -1 = nan at x == y == 0, where x ** 0 == 1 has slope 0.
    # Only those points get exponent 1 (giving 0 * 0); elsewhere, even at y == 0 alone,
    # the exponent stays y - 1, so the traced derivatives with respect to y stay exact.
    both_zero = np.logical_and(P.equal(x, 0), P.equal(y, 0))
    exponent = P.where(both_zero, 1.0, y - 1) if np.any(both_zero) else y - 1
    return y * x ** exponent


def _log_base(x):
    # log(x) is undefined at x == 0, where the gradient with respect to y is 0 * ans anyway
    return P.log(P.where(P.equal(x, 0), 1.0, x))


power = defop("power", np.power)
power.defvjp(lambda g, ans, x, y: unbroadcast(x, g * _power_slope(x, y)),
             lambda g, ans, x, y: unbroadcast(y, g * _log_base(x) * ans))
power.defjvp(lambda t, ans, x, y: broadcast_like(t * _power_slope(x, y), ans),
             lambda t, ans, x, y: broadcast_like(t * _log_base(x) * ans, ans))

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
