"""numpy's vocabulary: forward functions and their VJP rules.

Each rule is ``rule(g, ans, *args, **kwargs)`` and is written with the primitives defined
here, never with numpy directly, so that a backward pass run under an outer trace level
is itself traced (that is where higher derivatives come from).
"""
import numpy as np

from ..engine.tracer import ZERO_GRADIENT, getval_all
from .registry import defop, defcomposite

# --- elementwise, unary -------------------------------------------------------------
negative = defop("negative", np.negative)
exp = defop("exp", np.exp)
log = defop("log", np.log)
sin = defop("sin", np.sin)
cos = defop("cos", np.cos)
tan = defop("tan", np.tan)
sinh = defop("sinh", np.sinh)
cosh = defop("cosh", np.cosh)
tanh = defop("tanh", np.tanh)
sqrt = defop("sqrt", np.sqrt)
absolute = defop("absolute", np.abs)
defcomposite("abs", absolute)

# --- elementwise, binary (numpy broadcasting) ---------------------------------------
add = defop("add", np.add)
subtract = defop("subtract", np.subtract)
multiply = defop("multiply", np.multiply)
divide = defop("divide", np.true_divide)
defcomposite("true_divide", divide)
power = defop("power", np.power)
maximum = defop("maximum", np.maximum)
minimum = defop("minimum", np.minimum)
where = defop("where", np.where)

# --- zero gradient: piecewise constant, or boolean -----------------------------------
floor = defop("floor", np.floor, ZERO_GRADIENT)
ceil = defop("ceil", np.ceil, ZERO_GRADIENT)
sign = defop("sign", np.sign, ZERO_GRADIENT)
equal = defop("equal", np.equal, ZERO_GRADIENT)
not_equal = defop("not_equal", np.not_equal, ZERO_GRADIENT)
less = defop("less", np.less, ZERO_GRADIENT)
less_equal = defop("less_equal", np.less_equal, ZERO_GRADIENT)
greater = defop("greater", np.greater, ZERO_GRADIENT)
greater_equal = defop("greater_equal", np.greater_equal, ZERO_GRADIENT)
zeros_like = defop("zeros_like", np.zeros_like, ZERO_GRADIENT)
ones_like = defop("ones_like", np.ones_like, ZERO_GRADIENT)
defop("shape", np.shape, ZERO_GRADIENT)
defop("zeros", np.zeros, ZERO_GRADIENT)
defop("ones", np.ones, ZERO_GRADIENT)
defop("eye", np.eye, ZERO_GRADIENT)
defop("full", np.full, ZERO_GRADIENT)
defop("argmax", np.argmax, ZERO_GRADIENT)
defop("argmin", np.argmin, ZERO_GRADIENT)

# --- reductions ----------------------------------------------------------------------
_sum = defop("sum", np.sum)
mean = defop("mean", np.mean)

# --- shape ---------------------------------------------------------------------------
reshape = defop("reshape", np.reshape)
transpose = defop("transpose", np.transpose)
broadcast_to = defop("broadcast_to", np.broadcast_to)
expand_dims = defop("expand_dims", np.expand_dims)
squeeze = defop("squeeze", np.squeeze)
getitem = defop("getitem", lambda x, index: x[index])


def _untake(g, index, shape):
    out = np.zeros(shape, dtype=np.result_type(g, np.float64) if np.iscomplexobj(g) else
                   np.result_type(g))
    np.add.at(out, index, g)
    return out


untake = defop("untake", _untake)


def _concatenate_args(axis, *arrays):
    return np.concatenate(arrays, axis=axis)


concatenate_args = defop("concatenate_args", _concatenate_args)
defcomposite("concatenate", lambda arrays, axis=0: concatenate_args(axis, *arrays))

astype = defop("astype", lambda x, dtype: np.asarray(x).astype(dtype))

# --- contractions --------------------------------------------------------------------
tensordot = defop("tensordot", np.tensordot)
matmul = defop("matmul", np.matmul)


# --- helpers the rules share -----------------------------------------------------------
def _shape(x):
    return np.shape(getval_all(x))


def unbroadcast(target, g):
    """Sum ``g`` over the axes numpy broadcast ``target`` along, back to target's shape."""
    shape = _shape(target)
    gshape = _shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    if extra > 0:
        g = _sum(g, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and _shape(g)[i] != 1)
    if stretched:
        g = _sum(g, axis=stretched, keepdims=True)
    return g


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(a % ndim for a in axis)
    return (axis % ndim,)


def repeat_to_match(g, shape, axis, keepdims):
    """Broadcast a reduction's cotangent back over the axes it reduced."""
    if not keepdims:
        axes = _normalize_axes(axis, len(shape))
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        g = reshape(g, kept)
    return broadcast_to(g, shape)


def swapaxes(x, a, b):
    perm = list(range(len(_shape(x))))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, perm)


def _balanced_eq(x, z, y):
    """1 where x is the chosen extremum z, one half where x and y tie."""
    return divide(equal(x, z), add(1.0, equal(x, y)))


# --- rules -------------------------------------------------------------------------------
negative.defvjp(lambda g, ans, x: negative(g))
exp.defvjp(lambda g, ans, x: multiply(g, ans))
log.defvjp(lambda g, ans, x: divide(g, x))
sin.defvjp(lambda g, ans, x: multiply(g, cos(x)))
cos.defvjp(lambda g, ans, x: negative(multiply(g, sin(x))))
tan.defvjp(lambda g, ans, x: divide(g, power(cos(x), 2)))
sinh.defvjp(lambda g, ans, x: multiply(g, cosh(x)))
cosh.defvjp(lambda g, ans, x: multiply(g, sinh(x)))
tanh.defvjp(lambda g, ans, x: divide(g, power(cosh(x), 2)))
sqrt.defvjp(lambda g, ans, x: multiply(g, multiply(0.5, power(x, -0.5))))
absolute.defvjp(lambda g, ans, x: multiply(g, sign(x)))

add.defvjp(lambda g, ans, x, y: unbroadcast(x, g),
           lambda g, ans, x, y: unbroadcast(y, g))
subtract.defvjp(lambda g, ans, x, y: unbroadcast(x, g),
                lambda g, ans, x, y: unbroadcast(y, negative(g)))
multiply.defvjp(lambda g, ans, x, y: unbroadcast(x, multiply(g, y)),
                lambda g, ans, x, y: unbroadcast(y, multiply(x, g)))
divide.defvjp(lambda g, ans, x, y: unbroadcast(x, divide(g, y)),
              lambda g, ans, x, y: unbroadcast(y, negative(divide(multiply(g, x), power(y, 2)))))


def _power_vjp_x(g, ans, x, y):
    # y * x ** (y - 1) is 0 * 0 ** -1 = nan at x == y == 0, where x ** 0 == 1 has slope 0.
    # Only those points get exponent 1 (giving 0 * 0); elsewhere, even at y == 0 alone,
    # the exponent stays y - 1, so the traced derivatives with respect to y stay exact.
    both_zero = np.logical_and(equal(x, 0), equal(y, 0))
    exponent = where(both_zero, 1.0, subtract(y, 1)) if np.any(both_zero) else subtract(y, 1)
    return unbroadcast(x, multiply(g, multiply(y, power(x, exponent))))


power.defvjp(
    _power_vjp_x,
    # log(x) is undefined at x == 0, where the gradient with respect to y is 0 * ans anyway
    lambda g, ans, x, y: unbroadcast(y, multiply(g, multiply(log(where(equal(x, 0), 1.0, x)), ans))))
maximum.defvjp(lambda g, ans, x, y: unbroadcast(x, multiply(g, _balanced_eq(x, ans, y))),
               lambda g, ans, x, y: unbroadcast(y, multiply(g, _balanced_eq(y, ans, x))))
minimum.defvjp(lambda g, ans, x, y: unbroadcast(x, multiply(g, _balanced_eq(x, ans, y))),
               lambda g, ans, x, y: unbroadcast(y, multiply(g, _balanced_eq(y, ans, x))))
where.defvjp(None,
             lambda g, ans, c, x, y: unbroadcast(x, where(c, g, zeros_like(g))),
             lambda g, ans, c, x, y: unbroadcast(y, where(c, zeros_like(g), g)),
             argnums=(0, 1, 2))


def _sum_vjp(g, ans, x, axis=None, keepdims=False, **kw):
    g = repeat_to_match(g, _shape(x), axis, keepdims)
    mask = kw.get("where")
    # Elements that where= left out never reached the sum: they get no gradient.
    return g if mask is None else where(mask, g, zeros_like(g))


def _mean_vjp(g, ans, x, axis=None, keepdims=False, **kw):
    shape = _shape(x)
    g = repeat_to_match(g, shape, axis, keepdims)
    mask = kw.get("where")
    if mask is None:
        return divide(g, np.size(getval_all(x)) / max(np.size(getval_all(ans)), 1))
    # With where=, each mean divides by the number of elements it selected, not the axis
    # length, and the elements left out get no gradient.
    mask = np.broadcast_to(getval_all(mask), shape)
    counts = np.sum(mask, axis=_normalize_axes(axis, len(shape)), keepdims=True)
    return where(mask, divide(g, counts), zeros_like(g))


_sum.defvjp(_sum_vjp)
mean.defvjp(_mean_vjp)


def _reshape_vjp(g, ans, x, *args, **kw):
    # The cotangent must be laid back in the index order the forward pass read x in.
    order = kw.get("order", args[1] if len(args) > 1 else "C")
    if order == "A":  # 'A' means F for Fortran-contiguous input, else C
        order = "F" if np.isfortran(getval_all(x)) else "C"
    return reshape(g, _shape(x), order=order)


def _transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return transpose(g)
    # argsort inverts the permutation only once negative axes are made positive.
    ndim = len(_shape(x))
    return transpose(g, tuple(np.argsort([a % ndim for a in axes])))


reshape.defvjp(_reshape_vjp)
transpose.defvjp(_transpose_vjp)
broadcast_to.defvjp(lambda g, ans, x, shape: unbroadcast(x, g))
expand_dims.defvjp(lambda g, ans, x, axis: reshape(g, _shape(x)))
squeeze.defvjp(lambda g, ans, x, axis=None: reshape(g, _shape(x)))
getitem.defvjp(lambda g, ans, x, index: untake(g, index, _shape(x)))
astype.defvjp(lambda g, ans, x, dtype: astype(g, np.result_type(getval_all(x))))
untake.defvjp(lambda g, ans, x, index, shape: getitem(g, index))
concatenate_args.defvjp(*[None], argnums=())


def _concatenate_rule(argnum):
    def rule(g, ans, axis, *arrays):
        if axis is None:
            # axis=None joins the flattened arrays: cut this one's run out of the flat g.
            start = sum(int(np.prod(_shape(a))) for a in arrays[:argnum - 1])
            stop = start + int(np.prod(_shape(arrays[argnum - 1])))
            return reshape(getitem(g, slice(start, stop)), _shape(arrays[argnum - 1]))
        start = sum(_shape(a)[axis] for a in arrays[:argnum - 1])
        stop = start + _shape(arrays[argnum - 1])[axis]
        index = [slice(None)] * len(_shape(g))
        index[axis] = slice(start, stop)
        return getitem(g, tuple(index))
    return rule


class _ConcatenateRules(dict):
    """Rules for every array argument of concatenate_args, however many there are."""

    def get(self, argnum, default=None):
        return _concatenate_rule(argnum) if argnum >= 1 else default


concatenate_args.vjps = _ConcatenateRules()


def _tensordot_axes(axes, a_ndim):
    if isinstance(axes, int):
        return list(range(a_ndim - axes, a_ndim)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, int) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, int) else list(b_axes)
    return a_axes, b_axes


def _tensordot_vjp_a(g, ans, a, b, axes=2):
    a_nd, b_nd = len(_shape(a)), len(_shape(b))
    a_axes, b_axes = _tensordot_axes(axes, a_nd)
    a_axes = [x % a_nd for x in a_axes]
    b_axes = [x % b_nd for x in b_axes]
    a_free = [i for i in range(a_nd) if i not in a_axes]
    b_free = [i for i in range(b_nd) if i not in b_axes]
    # g's axes: a_free then b_free. Contract g's b_free part with b's free axes; what is
    # left is a_free followed by b's contracted axes in increasing order.
    g_b = list(range(len(a_free), len(a_free) + len(b_free)))
    out = tensordot(g, b, (g_b, b_free))
    b_contracted_sorted = sorted(b_axes)
    result_axes = a_free + [a_axes[b_axes.index(j)] for j in b_contracted_sorted]
    return transpose(out, tuple(np.argsort(result_axes)))


def _tensordot_vjp_b(g, ans, a, b, axes=2):
    a_nd, b_nd = len(_shape(a)), len(_shape(b))
    a_axes, b_axes = _tensordot_axes(axes, a_nd)
    a_axes = [x % a_nd for x in a_axes]
    b_axes = [x % b_nd for x in b_axes]
    a_free = [i for i in range(a_nd) if i not in a_axes]
    b_free = [i for i in range(b_nd) if i not in b_axes]
    g_a = list(range(len(a_free)))
    out = tensordot(a, g, (a_free, g_a))
    a_contracted_sorted = sorted(a_axes)
    result_axes = [b_axes[a_axes.index(i)] for i in a_contracted_sorted] + b_free
    return transpose(out, tuple(np.argsort(result_axes)))


tensordot.defvjp(_tensordot_vjp_a, _tensordot_vjp_b)


def _matmul_vjp(argnum):
    def rule(g, ans, a, b):
        a_shape, b_shape = _shape(a), _shape(b)
        # Promote 1-d operands to matrices, as matmul does, and demote at the end.
        a2 = reshape(a, (1,) + a_shape) if len(a_shape) == 1 else a
        b2 = reshape(b, b_shape + (1,)) if len(b_shape) == 1 else b
        out_shape = np.broadcast_shapes(_shape(a2)[:-2], _shape(b2)[:-2]) + \
            (_shape(a2)[-2], _shape(b2)[-1])
        g2 = reshape(g, out_shape)
        if argnum == 0:
            return reshape(unbroadcast(a2, matmul(g2, swapaxes(b2, -1, -2))), a_shape)
        return reshape(unbroadcast(b2, matmul(swapaxes(a2, -1, -2), g2)), b_shape)
    return rule


matmul.defvjp(_matmul_vjp(0), _matmul_vjp(1))


def dot(a, b):
    """numpy.dot as a tensordot (or a product, for scalars), so it needs no rules."""
    a_nd, b_nd = len(_shape(a)), len(_shape(b))
    if a_nd == 0 or b_nd == 0:
        return multiply(a, b)
    return tensordot(a, b, ([a_nd - 1], [max(b_nd - 2, 0)]))


defcomposite("dot", dot)
defcomposite("swapaxes", swapaxes)
