"""Products that contract axes: tensordot, matmul, einsum, convolve, and those built from them.

Complex operands follow autograd's convention (see tests/test_ops_gradcheck._pairing): a
holomorphic product has the plain transposed product as its VJP, with no conjugation, and
ops that conjugate an operand themselves (vdot, correlate) do it through ``conj`` below,
so the convention is carried by the real-part op.
"""
import string

import numpy as np

from ..engine.tracer import getval_all
from .base import unbroadcast, shape_of, ndim_of
from .registry import defop, defcomposite, VariadicRules, P


def conj(x):
    """The complex conjugate, as 2 Re(x) - x: exact, and traced through the real-part op."""
    if not np.iscomplexobj(getval_all(x)):
        return x
    return 2 * P.real(x) - x


def _moveaxis(x, source, destination):
    """numpy.moveaxis for one axis, as a transpose."""
    nd = ndim_of(x)
    for axis in (source, destination):
        if not -nd <= axis < nd:
            raise np.exceptions.AxisError(axis, nd)
    order = [i for i in range(nd) if i != source % nd]
    order.insert(destination % nd, source % nd)
    return x if order == list(range(nd)) else P.transpose(x, order)


# --- tensordot and matmul: the primitives -------------------------------------------------
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
    order = _inverse_order(a_free + [a_axes[b_axes.index(j)] for j in sorted(b_axes)])
    return unbroadcast(a, out if order is None else P.transpose(out, order))  # real for real a


def _tensordot_vjp_b(g, ans, a, b, axes=2):
    a_nd, b_nd = ndim_of(a), ndim_of(b)
    a_axes, b_axes = _tensordot_axes(axes, a_nd, b_nd)
    a_free = [i for i in range(a_nd) if i not in a_axes]
    b_free = [i for i in range(b_nd) if i not in b_axes]
    out = P.tensordot(a, g, (a_free, list(range(len(a_free)))))
    order = _inverse_order([b_axes[a_axes.index(i)] for i in sorted(a_axes)] + b_free)
    return unbroadcast(b, out if order is None else P.transpose(out, order))  # real for real b


def _tensordot(a, b, axes=2):
    # A matrix product over one axis (dot of two matrices, and both of its VJPs) goes
    # straight to BLAS: np.tensordot's own transposes and reshapes cost about as much as
    # a small product (an MLP's backward pass is mostly these).
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2:
        spec = _MATRIX_AXES.get(axes if isinstance(axes, int) else _axes_key(axes))
        if spec is not None:
            return (a.T if spec[0] else a) @ (b.T if spec[1] else b)
    return np.tensordot(a, b, axes)


def _axes_key(axes):
    try:
        a_axes, b_axes = axes
        a_axes = (a_axes,) if isinstance(a_axes, int) else tuple(a_axes)
        b_axes = (b_axes,) if isinstance(b_axes, int) else tuple(b_axes)
        return a_axes, b_axes
    except (TypeError, ValueError):
        return None


# contracted axes of two matrices -> (transpose a, transpose b) for a @ b
_MATRIX_AXES = {1: (False, False), ((1,), (0,)): (False, False), ((-1,), (0,)): (False, False),
                ((0,), (0,)): (True, False), ((1,), (1,)): (False, True),
                ((-1,), (-1,)): (False, True), ((1,), (-1,)): (False, True),
                ((-1,), (1,)): (False, True), ((0,), (1,)): (True, True),
                ((0,), (-1,)): (True, True), ((-2,), (0,)): (True, False)}


def _inverse_order(result_axes):
    """The permutation that puts ``result_axes`` in order, or None if it is already."""
    order = sorted(range(len(result_axes)), key=result_axes.__getitem__)
    return None if order == list(range(len(order))) else tuple(order)


tensordot = defop("tensordot", _tensordot).def_linear(0, 1)
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


# --- products built from them -------------------------------------------------------------
def dot(a, b):
    """numpy.dot as a tensordot (or a product, for scalars), so it needs no rules."""
    a_nd, b_nd = ndim_of(a), ndim_of(b)
    if a_nd == 0 or b_nd == 0:
        return P.multiply(a, b)
    return P.tensordot(a, b, ([a_nd - 1], [max(b_nd - 2, 0)]))


def inner(a, b):
    """numpy.inner: contracts the last axes of both (a product, for scalars)."""
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return P.multiply(a, b)
    return P.tensordot(a, b, ([-1], [-1]))


def outer(a, b):
    """numpy.outer: every element of flattened a times every element of flattened b."""
    return P.multiply(P.reshape(a, (-1, 1)), P.reshape(b, (1, -1)))


def vdot(a, b):
    """numpy.vdot: the flattened dot product, conjugating a."""
    return P.dot(conj(P.reshape(a, (-1,))), P.reshape(b, (-1,)))


def kron(a, b):
    """numpy.kron: block (i, j, ...) of the answer is a[i, j, ...] * b.

    a's axis k and b's axis k become two neighbouring axes of a broadcast product (a's
    outer), which a reshape then merges.
    """
    nd = max(ndim_of(a), ndim_of(b))
    a_shape = (1,) * (nd - ndim_of(a)) + shape_of(a)
    b_shape = (1,) * (nd - ndim_of(b)) + shape_of(b)
    a = P.reshape(a, tuple(n for m in a_shape for n in (m, 1)))
    b = P.reshape(b, tuple(n for m in b_shape for n in (1, m)))
    return P.reshape(a * b, tuple(m * n for m, n in zip(a_shape, b_shape)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """numpy.cross, component by component; a 2-vector's third component is 0, and two
    2-vectors give the z-component alone (as numpy does)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _moveaxis(a, axisa, -1), _moveaxis(b, axisb, -1)
    if shape_of(a)[-1] not in (2, 3) or shape_of(b)[-1] not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if shape_of(a)[-1] == shape_of(b)[-1] == 2:
        return z
    a2 = a[..., 2] if shape_of(a)[-1] == 3 else 0
    b2 = b[..., 2] if shape_of(b)[-1] == 3 else 0
    x = a1 * b2 - a2 * b1
    y = a2 * b0 - a0 * b2
    c = P.concatenate([P.expand_dims(x, -1), P.expand_dims(y, -1), P.expand_dims(z, -1)],
                      axis=-1)
    return _moveaxis(c, -1, axisc)


defcomposite("dot", dot)
defcomposite("inner", inner)
defcomposite("outer", outer)
defcomposite("vdot", vdot)
defcomposite("kron", kron)
defcomposite("cross", cross)


# --- einsum -------------------------------------------------------------------------------
def _einsum_terms(subscripts, shapes):
    """einsum's subscripts spelled out: a string of letters per operand and for the output,
    each '...' replaced by letters of its own, and each letter's (broadcast) size.

    Implicit output follows numpy: the ellipsis letters, then the letters that appear
    exactly once, in ASCII order (capitals first).
    """
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    spare = (c for c in string.ascii_letters if c not in spec)
    # How many axes each '...' stands for; they align at the right, as in broadcasting.
    counts = [len(s) - len(t) + 3 if "..." in t else 0 for t, s in zip(terms, shapes)]
    ellipsis = "".join(next(spare) for _ in range(max(counts, default=0)))
    terms = [t.replace("...", ellipsis[len(ellipsis) - k:]) for t, k in zip(terms, counts)]
    if arrow:
        out = out.replace("...", ellipsis)
    else:
        letters = "".join(terms)
        out = ellipsis + "".join(sorted(c for c in set(letters)
                                        if letters.count(c) == 1 and c not in ellipsis))
    sizes = {}
    for term, shape in zip(terms, shapes):
        for letter, n in zip(term, shape):
            sizes[letter] = max(sizes.get(letter, 1), n)
    return terms, out, sizes


def _einsum_vjp(argnum):
    """The cotangent of one operand: the einsum of the others with g, into its letters."""
    def rule(g, ans, subscripts, *operands, **kw):
        k = argnum - 1
        x = operands[k]
        terms, out, sizes = _einsum_terms(subscripts, [shape_of(op) for op in operands])
        spare = (c for c in string.ascii_letters if c not in "".join(terms) + out)
        sources = [t for j, t in enumerate(terms) if j != k] + [out]
        arrays = [op for j, op in enumerate(operands) if j != k] + [g]
        target = ""
        for letter, n in zip(terms[k], shape_of(x)):
            if n != sizes[letter]:
                continue  # x was broadcast along this axis: summed here, a 1 again below
            if letter in target:
                # A repeated letter reads a diagonal; the cotangent lives on that diagonal:
                # a fresh letter tied to the first by an identity matrix.
                twin = next(spare)
                sources.append(letter + twin)
                arrays.append(np.eye(n))
                letter = twin
            target += letter
        # A letter of x's alone was summed in x only: the cotangent is constant along it.
        for letter in [c for c in target if c not in "".join(sources)]:
            sources.append(letter)
            arrays.append(np.ones(sizes[letter]))
        ct = P.einsum(",".join(sources) + "->" + target, *arrays,
                      optimize=kw.get("optimize", False))
        return unbroadcast(x, P.reshape(ct, shape_of(x)))  # (real part for a real x)
    return rule


def _einsum_jvp(argnum):
    # einsum is linear in each operand: the tangent is the same einsum with t in its place.
    def rule(t, ans, subscripts, *operands, **kw):
        operands = list(operands)
        operands[argnum - 1] = t
        return P.einsum(subscripts, *operands, **kw)
    return rule


einsum = defop("einsum", np.einsum)
einsum.vjps = VariadicRules(_einsum_vjp, first=1)
einsum.jvps = VariadicRules(_einsum_jvp, first=1)


# --- 1-d convolution and correlation ---------------------------------------------------------
_MODES = {"v": "valid", "s": "same", "f": "full", 0: "valid", 1: "same", 2: "full"}


def _window(n_a, n_v, mode, correlating=False):
    """The slice of the full convolution that numpy's ``mode`` keeps, and the full length.

    numpy centres 'same' on the shorter operand; correlate with the shorter operand first
    works the other way round and reverses, which moves an even-length window one right.
    """
    mode = _MODES.get(mode.lower()[:1] if isinstance(mode, str) else mode)
    if mode is None:
        raise ValueError("mode must be 'valid', 'same' or 'full'")
    short, full = min(n_a, n_v), n_a + n_v - 1
    if mode == "full":
        return slice(0, full), full
    if mode == "valid":
        start, length = short - 1, max(n_a, n_v) - short + 1
    else:
        start = short // 2 if correlating and n_a < n_v else (short - 1) - short // 2
        length = max(n_a, n_v)
    return slice(start, start + length), full


def _flipped(x):
    return P.getitem(P.reshape(x, (-1,)), slice(None, None, -1))


def _convolve_vjp(argnum):
    def rule(g, ans, a, v, mode="full"):
        this, other = (a, v) if argnum == 0 else (v, a)
        window, full = _window(np.size(getval_all(a)), np.size(getval_all(v)), mode)
        if shape_of(g) != (full,):
            g = P.untake(g, window, (full,))
        # The adjoint of convolving with w is correlating with w: a convolution with w
        # reversed, of which the valid part has this operand's length.
        return unbroadcast(this, P.convolve(g, _flipped(other), mode="valid"))
    return rule


convolve = defop("convolve", np.convolve).def_linear(0, 1)
convolve.defvjp(_convolve_vjp(0), _convolve_vjp(1))


def correlate(a, v, mode="valid"):
    """numpy.correlate, c[k] = sum_n a[n + k] conj(v[n]): a window of the full convolution
    of a with v conjugated and reversed."""
    for x in (a, v):
        if ndim_of(x) != 1:  # numpy's messages (convolve alone takes 0-d arrays too)
            raise ValueError("object too deep for desired array" if ndim_of(x) > 1
                             else "object of too small depth for desired array")
    window, full = _window(shape_of(a)[0], shape_of(v)[0], mode, correlating=True)
    out = P.convolve(a, conj(_flipped(v)), mode="full")
    return out if window == slice(0, full) else P.getitem(out, window)


defcomposite("correlate", correlate)
