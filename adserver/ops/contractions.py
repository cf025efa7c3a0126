"""Products that contract axes: tensordot, matmul, and dot built from them."""
import numpy as np

from .base import unbroadcast, shape_of, ndim_of
from .registry import defop, defcomposite, P


def _tensordot_axes(axes, a_nd, b_nd):
    """tensordot's ``axes`` as two lists of non-negative axes."""
    if isinstance(axes, int):
        a_axes, b_axes = list(range(a_nd - axes, a_nd)), list(range(axes))
    else:
        a_axes, b_axes = axes
        a_axes = [a_axes] if isinstance(a_axes, int) else list(a_axes)
        b_axes = [b_axes] if isinstance(b_axes, int) else list(b_axes)
    return [x % a_nd for x in a_axes], [x % b_nd for x in b_axes]


def _tensordot_vjp_a(g, ans, a, b, axes=2):
    a_nd, b_nd = ndim_of(a), ndim_of(b)
    a_axes, b_axes = _tensordot_axes(axes, a_nd, b_nd)
    a_free = [i for i in range(a_nd) if i not in a_axes]
    b_free = [i for i in range(b_nd) if i not in b_axes]
    # g's axes: a_free then b_free. Contract g's b_free part with b's free axes; what is
    # left is a_free followed by b's contracted axes in increasing order.
    g_b = list(range(len(a_free), len(a_free) + len(b_free)))
    out = P.tensordot(g, b, (g_b, b_free))
    result_axes = a_free + [a_axes[b_axes.index(j)] for j in sorted(b_axes)]
    return P.transpose(out, tuple(np.argsort(result_axes)))


def _tensordot_vjp_b(g, ans, a, b, axes=2):
    a_nd, b_nd = ndim_of(a), ndim_of(b)
    a_axes, b_axes = _tensordot_axes(axes, a_nd, b_nd)
    a_free = [i for i in range(a_nd) if i not in a_axes]
    b_free = [i for i in range(b_nd) if i not in b_axes]
    out = P.tensordot(a, g, (a_free, list(range(len(a_free)))))
    result_axes = [b_axes[a_axes.index(i)] for i in sorted(a_axes)] + b_free
    return P.transpose(out, tuple(np.argsort(result_axes)))


tensordot = defop("tensordot", np.tensordot).def_linear(0, 1)
tensordot.defvjp(_tensordot_vjp_a, _tensordot_vjp_b)


def _matmul_vjp(argnum):
    def rule(g, ans, a, b):
        a_shape, b_shape = shape_of(a), shape_of(b)
        # Promote 1-d operands to matrices, as matmul does, and demote at the end.
        a2 = P.reshape(a, (1,) + a_shape) if len(a_shape) == 1 else a
        b2 = P.reshape(b, b_shape + (1,)) if len(b_shape) == 1 else b
        out_shape = np.broadcast_shapes(shape_of(a2)[:-2], shape_of(b2)[:-2]) + \
            (shape_of(a2)[-2], shape_of(b2)[-1])
        g2 = P.reshape(g, out_shape)
        if argnum == 0:
            return P.reshape(unbroadcast(a2, P.matmul(g2, P.swapaxes(b2, -1, -2))), a_shape)
        return P.reshape(unbroadcast(b2, P.matmul(P.swapaxes(a2, -1, -2), g2)), b_shape)
    return rule


matmul = defop("matmul", np.matmul).def_linear(0, 1)
matmul.defvjp(_matmul_vjp(0), _matmul_vjp(1))


def dot(a, b):
    """numpy.dot as a tensordot (or a product, for scalars), so it needs no rules."""
    a_nd, b_nd = ndim_of(a), ndim_of(b)
    if a_nd == 0 or b_nd == 0:
        return P.multiply(a, b)
    return P.tensordot(a, b, ([a_nd - 1], [max(b_nd - 2, 0)]))


defcomposite("dot", dot)
