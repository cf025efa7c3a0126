"""Products that contract axes: tensordot, matmul, einsum, convolve, and those built from them.

Complex operands follow autograd's convention (see tests/test_ops_gradcheck._pairing): a
holomorphic product has the plain transposed product as its VJP, with no conjugation, and
ops that conjugate an operand themselves (vdot, correlate) do it through ``conj`` below,
so the convention is carried by the real-part op.
"""
import math
import string

import numpy as np

from ..engine.tracer import getval_all
from . import sizing
from .base import unbroadcast, shape_of, ndim_of
from .params import Signature, ARRAY, AXIS1, NONNEG, BOOL, Choice, Text, ListOf, optional
from .registry import defop, defcomposite, declare, VariadicRules, P
from .sizing import Out, shape, dtype, arg, broadcast


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


# --- what the wire may pass (params.py, sizing.py) ---------------------------------------

_BLAS_DTYPES = frozenset(np.dtype(t) for t in ("float32", "float64", "complex64", "complex128"))


def promoted(*xs):
    """The dtype of a product of arrays: numpy's promotion of the operands' dtypes (each
    operand made an array first, so a Python number counts as float64 or int64)."""
    return np.result_type(*[dtype(x) for x in xs])


def product_cost(multiply_adds, dt):
    """Work of ``multiply_adds`` multiply-adds in dtype ``dt``: BLAS runs floats and
    complexes BLAS_SPEEDUP times faster than numpy's loops run the other dtypes."""
    return multiply_adds / sizing.BLAS_SPEEDUP if np.dtype(dt) in _BLAS_DTYPES \
        else float(multiply_adds)


def _elements(args, outs):
    return sum(sizing.size_of(a) for a in args) + sizing.numel(outs)


def axis_in(axis, ndim):
    """``axis`` as a non-negative axis of an array of ``ndim`` axes, or AxisError."""
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


# matmul (a generalized ufunc (n,k),(k,m)->(n,m); 1-d operands promoted and demoted again)
def _matmul_shapes(args, kwargs):
    """(answer's shape, contracted length) of matmul."""
    a, b = shape(args[0]), shape(args[1])
    if not a or not b:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        # numpy's own words (the gufunc's), with the operands' shapes after them
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, "
                         f"with gufunc signature (n?,k),(k,m?)->(n?,m?) (size {b2[-2]} is "
                         f"different from {a2[-1]}); the operands' shapes are "
                         f"{_shape_text(a)} and {_shape_text(b)}")
    out = broadcast(a2[:-2], b2[:-2]) + a2[-2:-1] * (len(a) > 1) + b2[-1:] * (len(b) > 1)
    return out, a2[-1]


def _matmul_size(args, kwargs):
    return Out(_matmul_shapes(args, kwargs)[0], promoted(args[0], args[1]))


def _matmul_cost(args, kwargs, outs):
    out, k = _matmul_shapes(args, kwargs)
    return product_cost(math.prod(out) * k, outs.dtype) + _elements(args, outs)


# tensordot, and dot and inner built from it
def tensordot_axes(a_shape, b_shape, axes, mismatch=None):
    """tensordot's ``axes`` checked against the shapes: (a's contracted axes, b's).

    A contracted pair of different lengths raises numpy's message (``mismatch(a_shape,
    b_shape, i, j)`` gives it where the op is not tensordot itself).
    """
    if isinstance(axes, (int, np.integer)):
        if axes < 0 or axes > min(len(a_shape), len(b_shape)):
            raise ValueError(f"tensordot: axes={axes} for operands of {len(a_shape)} and "
                             f"{len(b_shape)} axes")
        a_axes, b_axes = list(range(len(a_shape) - axes, len(a_shape))), list(range(axes))
    else:
        a_axes, b_axes = axes
        a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
        b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
        a_axes = [axis_in(i, len(a_shape)) for i in a_axes]
        b_axes = [axis_in(i, len(b_shape)) for i in b_axes]
    if len(a_axes) != len(b_axes) or len(set(a_axes)) < len(a_axes) or \
            len(set(b_axes)) < len(b_axes):
        raise ValueError("tensordot: axes must pair distinct axes of a with as many of b")
    for i, j in zip(a_axes, b_axes):
        if a_shape[i] != b_shape[j]:
            raise ValueError(mismatch(a_shape, b_shape, i, j) if mismatch else
                             f"shape-mismatch for sum (axis {i} of a {_shape_text(a_shape)} "
                             f"has length {a_shape[i]}, axis {j} of b "
                             f"{_shape_text(b_shape)} has length {b_shape[j]})")
    return a_axes, b_axes


def _shape_text(shape):
    """A shape as numpy's messages print it: (3,4), (3,), ()."""
    return "(" + ",".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _not_aligned(a_shape, b_shape, i, j):
    """numpy's own message for dot and inner of shapes that do not fit."""
    return (f"shapes {_shape_text(a_shape)} and {_shape_text(b_shape)} not aligned: "
            f"{a_shape[i]} (dim {i}) != {b_shape[j]} (dim {j})")


def contraction(a_shape, b_shape, a_axes, b_axes):
    """(answer's shape, contracted length) of a tensordot over these axes."""
    out = tuple(n for i, n in enumerate(a_shape) if i not in a_axes) + \
        tuple(n for i, n in enumerate(b_shape) if i not in b_axes)
    return out, math.prod(a_shape[i] for i in a_axes)


def _tensordot_shapes(args, kwargs):
    a, b = shape(args[0]), shape(args[1])
    return contraction(a, b, *tensordot_axes(a, b, arg(args, kwargs, 2, "axes", 2)))


def _dot_shapes(args, kwargs):
    """dot: a's last axis against b's second-to-last (its only one, for a vector)."""
    a, b = shape(args[0]), shape(args[1])
    return contraction(a, b, *tensordot_axes(a, b, ([len(a) - 1], [max(len(b) - 2, 0)]),
                                             _not_aligned))


def _inner_shapes(args, kwargs):
    a, b = shape(args[0]), shape(args[1])
    return contraction(a, b, *tensordot_axes(a, b, ([-1], [-1]), _not_aligned))


_times = sizing.elementwise(np.multiply)


def _product_rules(shapes, scalar_is_multiply=False):
    """Size and cost rules of a product whose answer's shape and contracted length
    ``shapes`` gives; a 0-d operand makes dot and inner a multiply (weak Python numbers)."""
    def scalar(args):
        return scalar_is_multiply and (not shape(args[0]) or not shape(args[1]))

    def size(args, kwargs):
        if scalar(args):
            return _times(args[:2], {})
        return Out(shapes(args, kwargs)[0], promoted(args[0], args[1]))

    def cost(args, kwargs, outs):
        if scalar(args):
            return 2.0 * _elements(args, outs)
        out, k = shapes(args, kwargs)
        return product_cost(math.prod(out) * k, outs.dtype) + 2.0 * _elements(args, outs)
    return size, cost


# outer, vdot, kron: elementwise products of every pair, or a flat dot product
def _outer_size(args, kwargs):
    return Out((sizing.size_of(args[0]), sizing.size_of(args[1])), promoted(*args[:2]))


def _vdot_size(args, kwargs):
    if sizing.size_of(args[0]) != sizing.size_of(args[1]):
        raise ValueError("vdot: vectors have different lengths")
    return Out((), promoted(*args[:2]))


def _kron_size(args, kwargs):
    a, b = shape(args[0]), shape(args[1])
    nd = max(len(a), len(b))
    a, b = (1,) * (nd - len(a)) + a, (1,) * (nd - len(b)) + b
    return Out(tuple(m * n for m, n in zip(a, b)), promoted(*args[:2]))


# cross: 3-vectors (or 2-vectors) along axisa and axisb, broadcast against each other
def _cross_size(args, kwargs):
    a, b = shape(arg(args, kwargs, 0, "a")), shape(arg(args, kwargs, 1, "b"))
    axis = arg(args, kwargs, 5, "axis")
    axisa, axisb, axisc = ((axis,) * 3 if axis is not None else
                           tuple(arg(args, kwargs, i, name, -1)
                                 for i, name in ((2, "axisa"), (3, "axisb"), (4, "axisc"))))
    if not a or not b:
        raise ValueError("cross: operands must have at least one axis")
    ka, kb = a[axis_in(axisa, len(a))], b[axis_in(axisb, len(b))]
    if ka not in (2, 3) or kb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    rest = broadcast(tuple(n for i, n in enumerate(a) if i != axisa % len(a)),
                     tuple(n for i, n in enumerate(b) if i != axisb % len(b)))
    dt = promoted(arg(args, kwargs, 0, "a"), arg(args, kwargs, 1, "b"))
    if ka == kb == 2:
        return Out(rest, dt)
    out = list(rest)
    out.insert(axis_in(axisc, len(rest) + 1), 3)
    return Out(out, dt)


# einsum: the subscripts spelled out, every letter's length known
EINSUM_SPEC = Text(string.ascii_letters + ",->. ", name="subscript string")


def einsum_terms(subscripts, shapes):
    """einsum's (terms, output, length of each letter), checked as numpy checks them."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} terms in the subscripts for {len(shapes)} "
                         "operands")
    for term, s in zip(terms + [out], shapes + [None]):
        letters = term.replace("...", "", 1)
        if "." in letters or "-" in letters or ">" in letters or "," in letters:
            raise ValueError(f"einsum: invalid subscripts {subscripts!r}")
        if s is not None and (len(letters) > len(s) if "..." in term else
                              len(letters) != len(s)):
            raise ValueError(f"einsum: subscripts {term!r} for an operand of {len(s)} axes")
    terms, out, sizes = _einsum_terms(spec, shapes)
    for term, s in zip(terms, shapes):
        for letter, n in zip(term, s):
            if n != sizes[letter] and n != 1 or \
                    term.count(letter) > 1 and s[term.index(letter)] != n:
                raise ValueError(f"einsum: operands could not be broadcast together "
                                 f"(letter {letter!r})")
    if len(set(out)) < len(out) or any(c not in sizes for c in out):
        raise ValueError(f"einsum: invalid output subscripts in {subscripts!r}")
    return terms, out, sizes


def _einsum_plan(args):
    operands = args[1:]
    shapes = [shape(x) for x in operands]
    return einsum_terms(args[0], shapes)


def _einsum_size(args, kwargs):
    _, out, sizes = _einsum_plan(args)
    return Out(tuple(sizes[c] for c in out),
               promoted(*args[1:]) if len(args) > 1 else sizing.F64)


def _path_work(terms, out, sizes, path):
    """The loop steps of einsum along a contraction ``path`` (numpy's einsum_path): each
    contraction loops over every letter of its operands, once per operand."""
    terms, work = list(terms), 0
    for step in path:
        picked = [terms[i] for i in step]
        for i in sorted(step, reverse=True):
            del terms[i]
        letters = set("".join(picked))
        work += math.prod(sizes[c] for c in letters) * max(len(picked), 1)
        keep = set("".join(terms) + out)
        terms.append("".join(c for c in letters if c in keep))
    return work


def _einsum_cost(args, kwargs, outs):
    terms, out, sizes = _einsum_plan(args)
    n = len(terms)
    work = math.prod(sizes.values()) * max(n, 1)   # optimize=False: one loop over all
    optimize = kwargs.get("optimize", False)
    if optimize and n > 2:
        views = [np.broadcast_to(np.zeros((), dtype(x)), shape(x)) for x in args[1:]]
        path = np.einsum_path(args[0], *views, optimize="greedy")[0][1:]
        work = min(work, _path_work(terms, out, sizes, path))
        if optimize == "optimal":   # a search over every order of contraction
            work += math.factorial(min(n, 20)) * 100_000   # (10 operands: 30 s and more)
    return work + _elements(args[1:], outs)


# convolve and correlate (numpy's, 1-d, direct: every product of the two is summed)
MODES = Choice("full", "same", "valid", "f", "s", "v", 0, 1, 2)


def _convolve_size(default_mode, correlating):
    def size(args, kwargs):
        a, v = arg(args, kwargs, 0, "a"), arg(args, kwargs, 1, "v")
        if correlating and (len(shape(a)) != 1 or len(shape(v)) != 1):
            raise ValueError("correlate: operands must be 1-d")
        if len(shape(a)) > 1 or len(shape(v)) > 1:
            raise ValueError("object too deep for desired array")
        n, m = sizing.size_of(a), sizing.size_of(v)
        if n == 0 or m == 0:
            raise ValueError("convolve: empty operand")
        window, _ = _window(n, m, arg(args, kwargs, 2, "mode", default_mode), correlating)
        return Out((window.stop - window.start,), promoted(a, v))
    return size


#: numpy's direct convolution, per multiply-add (measured: 1e10 of them in about 16 s)
PRODUCT_WORK = 5.0


def _convolve_cost(args, kwargs, outs):
    """Each answer sums at most the shorter operand's length of products."""
    a, v = arg(args, kwargs, 0, "a"), arg(args, kwargs, 1, "v")
    short = min(sizing.size_of(a), sizing.size_of(v))
    return PRODUCT_WORK * sizing.numel(outs) * short + _elements([a, v], outs)


_PAIR = ("a", ARRAY), ("b", ARRAY)
_AXES = NONNEG | ListOf(AXIS1 | ListOf(AXIS1), most=2)

declare("matmul", Signature(("x1", ARRAY), ("x2", ARRAY)), _matmul_size, _matmul_cost)
declare("tensordot", Signature(*_PAIR, ("axes", _AXES, 2)),
        *_product_rules(_tensordot_shapes))
declare("dot", Signature(*_PAIR), *_product_rules(_dot_shapes, scalar_is_multiply=True))
declare("inner", Signature(*_PAIR), *_product_rules(_inner_shapes, scalar_is_multiply=True))
declare("outer", Signature(*_PAIR), _outer_size, sizing.linear(3.0))
declare("vdot", Signature(*_PAIR), _vdot_size, sizing.linear(4.0))
declare("kron", Signature(*_PAIR), _kron_size, sizing.linear(4.0))
declare("cross", Signature(*_PAIR, ("axisa", AXIS1, -1), ("axisb", AXIS1, -1),
                           ("axisc", AXIS1, -1), ("axis", optional(AXIS1), None)),
        _cross_size, sizing.linear(20.0))
declare("einsum", Signature(("subscripts", EINSUM_SPEC), star=ARRAY, most=64,
                            kw={"optimize": BOOL | Choice("greedy", "optimal")}),
        _einsum_size, _einsum_cost)
declare("convolve", Signature(("a", ARRAY), ("v", ARRAY), ("mode", MODES, "full")),
        _convolve_size("full", False), _convolve_cost)
def _correlate_cost(args, kwargs, outs):
    """correlate is built on the full convolution, sliced after: every mode pays for all
    len(a) * len(v) products (valid mode of two equal lengths is one number, and was
    charged as one)."""
    a, v = arg(args, kwargs, 0, "a"), arg(args, kwargs, 1, "v")
    n, m = sizing.size_of(a), sizing.size_of(v)
    return PRODUCT_WORK * n * m + 2.0 * (n + m) + _elements([a, v], outs)


declare("correlate", Signature(("a", ARRAY), ("v", ARRAY), ("mode", MODES, "valid")),
        _convolve_size("valid", True), _correlate_cost)
