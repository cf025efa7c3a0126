"""scipy.linalg: matrix functions (sqrtm, expm, logm) and structured solves (triangular,
banded, Sylvester, Cholesky), over stacks of matrices wherever scipy takes them; det and
inv are numpy.linalg's.

Complex matrices follow autograd's convention: a holomorphic function has a VJP made with
plain transposes, never conjugate transposes (solve_triangular's trans="C" and the
Cholesky factor, which conjugate, conjugate their rules too). A real input that meets
complex values (a real matrix against a complex right-hand side, say) gets the real part
of its cotangent, which unbroadcast takes along with summing over broadcast stack axes.

scipy's overwrite_* flags are switched off: an input may be a handle that is used again.
"""
import functools
import math

import numpy as np
import scipy.linalg

from ..engine.tracer import getval_all
from . import sizing
from .base import shape_of, ndim_of, unbroadcast
from .linalg import lapack_dtype, complex_dtype, matrices, cubic_work
from .params import Signature, ARRAY, BOOL, NONNEG, Choice, ListOf, optional
from .registry import SPECS, defop, defcomposite, declare, P
from .sizing import Out, shape, dtype, arg, broadcast, F64, C128


def _never_overwriting(fun):
    """scipy's ``fun`` with its overwrite_* flags ignored (they only permit overwriting)."""
    @functools.wraps(fun)
    def call(*args, **kwargs):
        return fun(*args, **{k: v for k, v in kwargs.items()
                             if not k.startswith("overwrite_")})
    return call


def _scipy_op(name):
    return defop(f"scipy.linalg.{name}", _never_overwriting(getattr(scipy.linalg, name)))


def _T(x):
    return P.swapaxes(x, -1, -2)


def _H(x):
    return P.conj(_T(x))


def _columns(v, b):
    """``v`` as a stack of matrices: a vector right-hand side b is one column."""
    return P.expand_dims(v, -1) if ndim_of(b) == 1 else v


def _uncolumns(v, like):
    return P.reshape(v, shape_of(like)) if ndim_of(v) != ndim_of(like) else v


# --- Sylvester equations and the square root ----------------------------------------------
# X = solve_sylvester(A, B, Q) solves A X + X B = Q, so dA X + A dX + dX B + X dB = dQ: each
# tangent solves the same equation; each cotangent solves the transposed one, Y below.
def _sylvester_adjoint(g, A, B):
    return P.scipy_linalg_solve_sylvester(_T(A), _T(B), g)


def _solve_sylvester(a, b, q):
    """scipy.linalg.solve_sylvester, with a and b made complex when q is complex"""
    # scipy (1.17) takes the real Schur forms of real a and b and hands them, with a
    # complex q, to the complex LAPACK solver, which reads their 2x2 blocks (complex
    # eigenvalue pairs) as triangular: the answer is wrong. Complex a and b avoid that.
    dtype = np.result_type(a, b, q)
    return scipy.linalg.solve_sylvester(np.asarray(a, dtype), np.asarray(b, dtype), q)


solve_sylvester = defop("scipy.linalg.solve_sylvester", _solve_sylvester)
solve_sylvester.defvjp(
    lambda g, ans, A, B, Q: unbroadcast(A, -(_sylvester_adjoint(g, A, B) @ _T(ans))),
    lambda g, ans, A, B, Q: unbroadcast(B, -(_T(ans) @ _sylvester_adjoint(g, A, B))),
    lambda g, ans, A, B, Q: unbroadcast(Q, _sylvester_adjoint(g, A, B)))
solve_sylvester.defjvp(
    lambda t, ans, A, B, Q: P.scipy_linalg_solve_sylvester(A, B, -(t @ ans)),
    lambda t, ans, A, B, Q: P.scipy_linalg_solve_sylvester(A, B, -(ans @ t)),
    lambda t, ans, A, B, Q: P.scipy_linalg_solve_sylvester(A, B, t))

# X = sqrtm(A) has X X = A, so X dX + dX X = dA.
sqrtm = _scipy_op("sqrtm")
sqrtm.defvjp(lambda g, ans, A: unbroadcast(A, _sylvester_adjoint(g, ans, ans)))
sqrtm.defjvp(lambda t, ans, A: P.scipy_linalg_solve_sylvester(ans, ans, t))


# --- matrix exponential and logarithm -----------------------------------------------------
def _frechet(f, A, E):
    """The derivative L(A, E) of the matrix function f at A along E: the top-right block of
    f([[A, E], [0, A]]). Built with f itself, so it can be differentiated again. For f given
    by a power series (exp, log) the adjoint of E -> L(A, E) under the pairing sum(G * E)
    is G -> L(A^T, G), which gives the VJP."""
    n = shape_of(A)[-1]
    block = P.concatenate([P.concatenate([A, E], axis=-1),
                           P.concatenate([P.zeros_like(E), A], axis=-1)], axis=-2)
    return f(block)[..., :n, n:]


expm = _scipy_op("expm")
expm.defvjp(lambda g, ans, A: unbroadcast(A, _frechet(P.scipy_linalg_expm, _T(A), g)))
expm.defjvp(lambda t, ans, A: _frechet(P.scipy_linalg_expm, A, t))

logm = _scipy_op("logm")
logm.defvjp(lambda g, ans, A: unbroadcast(A, _frechet(P.scipy_linalg_logm, _T(A), g)))
logm.defjvp(lambda t, ans, A: _frechet(P.scipy_linalg_logm, A, t))


# --- triangular solves --------------------------------------------------------------------
# x = M^-1 b with M = T, T^T or T^H (trans N, T, C) and T the triangle of a that scipy reads
# (without its diagonal when unit_diagonal). So dx = M^-1 (db - dM x), the cotangent of b
# is y = M^-T g, and that of M is -y x^T, which lands on T transposed (and conjugated)
# back as M was made from it, and on the triangle alone.
_TRANS = {0: "N", 1: "T", 2: "C", "N": "N", "T": "T", "C": "C"}


def _trans(trans, a):
    """N, T or C; for a real matrix C is T."""
    kind = _TRANS[trans]
    return "T" if kind == "C" and not np.iscomplexobj(getval_all(a)) else kind


def _triangle(a, lower, unit_diagonal):
    """1 on the entries of a that the solve reads, 0 elsewhere."""
    n = shape_of(a)[-1]
    mask = np.tri(n, k=-1 if unit_diagonal else 0)
    return mask if lower else mask.T


def _triangular_adjoint(g, a, b, trans, lower, unit_diagonal):
    """M^-T g, as columns (scipy reads a stack of vectors as one matrix)."""
    solve = functools.partial(P.scipy_linalg_solve_triangular, a, lower=lower,
                              unit_diagonal=unit_diagonal)
    g = _columns(g, b)
    kind = _trans(trans, a)
    if kind == "N":
        return solve(g, trans="T")
    if kind == "T":
        return solve(g, trans="N")
    return P.conj(solve(P.conj(g), trans="N"))  # (T^H)^-T = conj(T)^-1


def _solve_triangular_vjp_a(g, ans, a, b, trans=0, lower=False, unit_diagonal=False, **_):
    y = _triangular_adjoint(g, a, b, trans, lower, unit_diagonal)
    x = _columns(ans, b)
    kind = _trans(trans, a)
    outer = y @ _T(x) if kind == "N" else x @ _T(y) if kind == "T" else P.conj(x @ _T(y))
    return unbroadcast(a, -(outer * _triangle(a, lower, unit_diagonal)))


def _solve_triangular_vjp_b(g, ans, a, b, trans=0, lower=False, unit_diagonal=False, **_):
    y = _triangular_adjoint(g, a, b, trans, lower, unit_diagonal)
    return unbroadcast(b, _uncolumns(y, g))


def _solve_triangular_jvp_a(t, ans, a, b, trans=0, lower=False, unit_diagonal=False, **_):
    dT = t * _triangle(a, lower, unit_diagonal)
    kind = _trans(trans, a)
    dM = dT if kind == "N" else _T(dT) if kind == "T" else _H(dT)
    dx = P.scipy_linalg_solve_triangular(a, dM @ _columns(ans, b), trans=trans, lower=lower,
                                         unit_diagonal=unit_diagonal)
    return -_uncolumns(dx, ans)


solve_triangular = _scipy_op("solve_triangular").def_linear(1)
solve_triangular.defvjp(_solve_triangular_vjp_a, _solve_triangular_vjp_b)
solve_triangular.defjvp(_solve_triangular_jvp_a)


# --- banded solves ------------------------------------------------------------------------
# ab holds the band of A by diagonals: ab[u + i - j, j] = A[i, j] (entries of ab that stand
# for no entry of A are never read). The rules are those of x = A^-1 b, kept in that
# storage: gathers along the diagonals with fixed index arrays, masked where they would
# leave the matrix, so they cost as much as the band does.
def _along_diagonals(n, shifts):
    """Index arrays idx[r, c] = c + shifts[r] (clipped into range) and where they are in."""
    idx = np.arange(n) + np.asarray(shifts)[:, None]
    inside = (idx >= 0) & (idx < n)
    return np.clip(idx, 0, n - 1), inside.astype(float)


def _transposed_band(l_and_u, ab):
    """The band of A^T, with l and u swapped: its row r is ab's row l + u - r, shifted."""
    l, u = l_and_u
    rows = np.arange(l + u, -1, -1)[:, None]
    cols, inside = _along_diagonals(shape_of(ab)[-1], np.arange(l + u + 1) - l)
    return P.getitem(ab, (Ellipsis, rows, cols)) * inside


def _banded_adjoint(g, l_and_u, ab, b):
    """A^-T g, as columns."""
    l, u = l_and_u
    return P.scipy_linalg_solve_banded((u, l), _transposed_band(l_and_u, ab),
                                       _columns(g, b))


def _solve_banded_vjp_ab(g, ans, l_and_u, ab, b, **_):
    # The cotangent of A is -y x^T; on the band, entry (r, j) is row i = j + r - u of y
    # against row j of x.
    l, u = l_and_u
    y, x = _banded_adjoint(g, l_and_u, ab, b), _columns(ans, b)
    rows, inside = _along_diagonals(shape_of(ab)[-1], np.arange(l + u + 1) - u)
    y_rows = P.getitem(y, (Ellipsis, rows, slice(None)))
    return unbroadcast(ab, -(P.sum(y_rows * P.expand_dims(x, -3), axis=-1) * inside))


def _solve_banded_jvp_ab(t, ans, l_and_u, ab, b, **_):
    # (dA x)_i sums, over the diagonals r, dab[r, j] x_j at column j = i + u - r.
    l, u = l_and_u
    x = _columns(ans, b)
    terms = P.expand_dims(t, -1) * P.expand_dims(x, -3)  # (r, j) -> dab[r, j] x_j
    cols, inside = _along_diagonals(shape_of(ab)[-1], u - np.arange(l + u + 1))
    diagonals = np.arange(l + u + 1)[:, None]
    dA_x = P.sum(P.getitem(terms, (Ellipsis, diagonals, cols, slice(None)))
                 * P.expand_dims(inside, -1), axis=-3)
    return -_uncolumns(P.scipy_linalg_solve_banded(l_and_u, ab, dA_x), ans)


solve_banded = _scipy_op("solve_banded").def_linear(2)
solve_banded.defvjp(
    _solve_banded_vjp_ab,
    lambda g, ans, l_and_u, ab, b, **_:
        unbroadcast(b, _uncolumns(_banded_adjoint(g, l_and_u, ab, b), g)),
    argnums=(1, 2))
solve_banded.defjvp(_solve_banded_jvp_ab, argnums=(1,))


# --- Cholesky -----------------------------------------------------------------------------
# scipy reads one triangle of a (the lower one for lower=True) as the Hermitian matrix H it
# stands for (the diagonal's real part), and returns L with L L^H = H. Along a tangent t of
# that triangle, dH = s + s^H + Re(diag t) with s its strict part, and
#   dL = L Phi(L^-1 dH L^-H),
# Phi(X) being the strict lower triangle of X plus half its diagonal (real, as X is
# Hermitian). Phi is its own adjoint, so for Re<G, dL> (G = conj(g): the Hermitian pairing
# of autograd's cotangent g) the cotangent of H is
#   M = L^-H Phi(L^H G) L^-1,
# which lands on the strict triangle through both s and s^H, and on the diagonal's real
# part.
# The upper factor of a is the lower factor of a^T, transposed, and so are its rules.
def _phi(X):
    n = shape_of(X)[-1]
    return X * np.tri(n, k=-1) + P.real(X) * (0.5 * np.eye(n))


def _lower_factor_jvp(t, L):
    n = shape_of(L)[-1]
    strict = t * np.tri(n, k=-1)
    dH = strict + _H(strict) + P.real(t) * np.eye(n)
    solve = functools.partial(P.scipy_linalg_solve_triangular, L, lower=True)
    # L^-1 dH L^-H = L^-1 (L^-1 dH)^H, as dH is Hermitian
    return L @ _phi(solve(_H(solve(dH))))


def _lower_factor_vjp(g, L):
    n = shape_of(L)[-1]
    solve_h = functools.partial(P.scipy_linalg_solve_triangular, L, lower=True, trans="C")
    W = solve_h(_phi(_H(L) @ P.conj(g)))  # L^-H Phi(L^H G)
    M = _H(solve_h(_H(W)))                # W L^-1 = (L^-H W^H)^H
    # conjugated back to autograd's convention (the diagonal is real)
    return P.conj((M + _H(M)) * np.tri(n, k=-1)) + P.real(M) * np.eye(n)


def _cholesky_vjp(g, ans, a, lower=False, **_):
    return _lower_factor_vjp(g, ans) if lower else _T(_lower_factor_vjp(_T(g), _T(ans)))


def _cholesky_jvp(t, ans, a, lower=False, **_):
    return _lower_factor_jvp(t, ans) if lower else _T(_lower_factor_jvp(_T(t), _T(ans)))


cholesky = _scipy_op("cholesky")
cholesky.defvjp(_cholesky_vjp)
cholesky.defjvp(_cholesky_jvp)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """scipy.linalg.cho_factor: (c, lower). scipy leaves "random data" in the triangle of c
    that holds no factor (nothing reads it); here it holds zeros."""
    return P.scipy_linalg_cholesky(a, lower=lower, check_finite=check_finite), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """scipy.linalg.cho_solve: A x = b for A = L L^H (or U^H U), as LAPACK's potrs solves
    it, by two triangular solves; they read only the factor's triangle of c."""
    c, lower = c_and_lower
    lower = bool(getval_all(lower))
    solve = functools.partial(P.scipy_linalg_solve_triangular, c, lower=lower,
                              check_finite=check_finite)
    return solve(solve(b), trans="C") if lower else solve(solve(b, trans="C"))


defcomposite("scipy.linalg.cho_factor", cho_factor)
defcomposite("scipy.linalg.cho_solve", cho_solve)


# --- the same as numpy.linalg's -----------------------------------------------------------
def det(a, overwrite_a=False, check_finite=True):
    """scipy.linalg.det, as numpy.linalg.det"""
    return P.linalg_det(a)


def inv(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    """scipy.linalg.inv, as numpy.linalg.inv, for a general matrix"""
    # The other assume_a read one triangle or the diagonal of a (so their derivatives do
    # too): refused rather than differentiated as if the whole matrix were read.
    if assume_a not in (None, "general", "gen"):
        raise NotImplementedError(f"scipy.linalg.inv: assume_a={assume_a!r} is not "
                                  "supported (only a general matrix)")
    return P.linalg_inv(a)


defcomposite("scipy.linalg.det", det)
defcomposite("scipy.linalg.inv", inv)


# --- what the wire may pass (params.py, sizing.py) ---------------------------------------
def scipy_lapack_dtype(*xs):
    """The dtype scipy.linalg's LAPACK wrappers compute in: the operands' promotion, at
    least float32 (small integers and float16 as float32, larger integers as float64)."""
    return np.result_type(*[dtype(x) for x in xs], np.float32)


def _float_dtype(*xs):
    """expm's, sqrtm's and solve_banded's dtype: integers as float64, float16 as float32."""
    return np.result_type(*[sizing.inexact(dtype(x)) for x in xs], np.float32)


def _sylvester_dtype(*xs):
    dt = np.result_type(*[dtype(x) for x in xs])
    if dt.kind == "b":
        return np.dtype(np.float32)
    return F64 if dt.kind in "iu" else np.result_type(dt, np.float32)


def _rhs(a_shape, b, core_a=2):
    """scipy's batching of a solve: a's (or a band's) last two axes are its matrix; b is
    one vector when 1-d, else matrices. (answer's shape, rows, right-hand sides each)."""
    s = shape(b)
    if not s:
        raise ValueError("the right-hand side b must have at least one axis")
    core = s[-2:] if len(s) >= 2 else s
    batch = broadcast(a_shape[:-core_a], s[:-len(core)])
    return batch + core, core[0], (core[1] if len(core) == 2 else 1)


def _solve_triangular_shapes(args, kwargs):
    a = matrices(arg(args, kwargs, 0, "a"))
    out, rows, k = _rhs(a, arg(args, kwargs, 1, "b"))
    if rows != a[-1]:
        raise ValueError(f"shapes of a {a} and b {shape(arg(args, kwargs, 1, 'b'))} are "
                         "incompatible")
    return out, a[-1], k


def _solve_triangular_size(args, kwargs):
    return Out(_solve_triangular_shapes(args, kwargs)[0],
               scipy_lapack_dtype(arg(args, kwargs, 0, "a"), arg(args, kwargs, 1, "b")))


def _triangular_solves(shapes, times):
    """Cost of ``times`` triangular solves of each right-hand side; ``shapes`` gives the
    answer's shape, the matrices' order and the right-hand sides per matrix."""
    def cost(args, kwargs, outs):
        out, n, k = shapes(args, kwargs)
        return times * (math.prod(out) // max(n * k, 1)) * n * n * k + 2 * math.prod(out)
    return cost


def _band(args, kwargs):
    """(l, u, ab's shape) of solve_banded, checked as scipy checks them."""
    l_and_u = arg(args, kwargs, 0, "l_and_u")
    ab = shape(arg(args, kwargs, 1, "ab"))
    if len(l_and_u) != 2:
        raise ValueError("l_and_u must hold two numbers of diagonals")
    l, u = l_and_u
    if len(ab) < 2 or ab[-2] != l + u + 1:
        raise ValueError("invalid values for the number of lower and upper diagonals: "
                         f"l+u+1 ({l + u + 1}) does not equal ab.shape[-2] ({ab[-2:]})")
    return l, u, ab


def _solve_banded_shapes(args, kwargs):
    l, u, ab = _band(args, kwargs)
    out, rows, k = _rhs(ab, arg(args, kwargs, 2, "b"))
    if rows != ab[-1]:
        raise ValueError("shapes of ab and b are not compatible.")
    return out, rows, k


def _solve_banded_size(args, kwargs):
    return Out(_solve_banded_shapes(args, kwargs)[0],
               _float_dtype(arg(args, kwargs, 1, "ab"), arg(args, kwargs, 2, "b")))


def _solve_banded_cost(args, kwargs, outs):
    l, u, ab = _band(args, kwargs)
    out, n, k = _solve_banded_shapes(args, kwargs)
    systems = math.prod(out) // max(n * k, 1)
    width = l + u + 1
    return systems * n * width * (width + 2 * k) + 2 * math.prod(out)


def _cho_solve_shapes(args, kwargs):
    c_and_lower = arg(args, kwargs, 0, "c_and_lower")
    if len(c_and_lower) != 2:
        raise ValueError("c_and_lower must be (c, lower)")
    c = matrices(c_and_lower[0])
    out, rows, k = _rhs(c, arg(args, kwargs, 1, "b"))
    if rows != c[-1]:
        raise ValueError("incompatible dimensions")
    return out, c[-1], k


def _cho_solve_size(args, kwargs):
    return Out(_cho_solve_shapes(args, kwargs)[0],
               scipy_lapack_dtype(arg(args, kwargs, 0, "c_and_lower")[0],
                                  arg(args, kwargs, 1, "b")))


def _factor_size(args, kwargs):
    a = arg(args, kwargs, 0, "a")
    return Out(matrices(a), scipy_lapack_dtype(a))


def _cho_factor_size(args, kwargs):
    return [_factor_size(args, kwargs), Out((), dtype(arg(args, kwargs, 1, "lower", False)))]


def _expm_size(args, kwargs):
    a = arg(args, kwargs, 0, "A")
    s = matrices(a)
    if s[-2:] == (1, 1):    # scipy answers numpy.exp of 1 x 1 matrices
        return Out(s, sizing.answer_dtype(np.exp, a))
    return Out(s, _float_dtype(a))


def _may_be_complex(dt_rule):
    """The size rule of sqrtm and logm: complex, but real for a real matrix whose answer
    is (which depends on its eigenvalues): a bound then."""
    def size(args, kwargs):
        a = arg(args, kwargs, 0, "A")
        dt = dt_rule(a)
        return Out(matrices(a), complex_dtype(dt), bound=dt.kind != "c")
    return size


def _sylvester_shapes(args, kwargs):
    a, b = matrices(arg(args, kwargs, 0, "a")), matrices(arg(args, kwargs, 1, "b"))
    q = matrices(arg(args, kwargs, 2, "q"), square=False)
    if q[-2:] != (a[-1], b[-1]):
        raise ValueError(f"solve_sylvester: q of shape {q} for a {a} and b {b}")
    return broadcast(a[:-2], b[:-2], q[:-2]) + q[-2:]


def _sylvester_size(args, kwargs):
    return Out(_sylvester_shapes(args, kwargs),
               _sylvester_dtype(*[arg(args, kwargs, i, n) for i, n in enumerate("abq")]))


def _sylvester_cost(args, kwargs, outs):
    out = _sylvester_shapes(args, kwargs)
    m, n = out[-2:]
    # two Schur decompositions and a triangular Sylvester solve, per matrix
    return 20.0 * math.prod(out[:-2]) * (m ** 3 + n ** 3 + m * n * (m + n)) + math.prod(out)


def _first_matrices(name, weight):
    """The cost rule of a function of each matrix of argument ``name`` (first)."""
    def cost(args, kwargs, outs):
        return cubic_work(matrices(arg(args, kwargs, 0, name)), weight) + sizing.numel(outs)
    return cost


def _det_size(args, kwargs):
    a = arg(args, kwargs, 0, "a")
    return Out(matrices(a)[:-2], lapack_dtype(a))


def _inv_size(args, kwargs):
    a = arg(args, kwargs, 0, "a")
    return Out(matrices(a), lapack_dtype(a))


# check_finite=False would let LAPACK meet inf or nan, which scipy documents can crash or
# never terminate: the wire may only ask for the check.
_FINITE = ("check_finite", Choice(True), True)
_TRANS_KIND = Choice(0, 1, 2, "N", "T", "C")

declare("scipy.linalg.solve_sylvester",
        Signature(("a", ARRAY), ("b", ARRAY), ("q", ARRAY)), _sylvester_size, _sylvester_cost)
declare("scipy.linalg.sqrtm", Signature(("A", ARRAY)),
        _may_be_complex(_float_dtype), _first_matrices("A", 10.0))
declare("scipy.linalg.expm", Signature(("A", ARRAY)), _expm_size,
        _first_matrices("A", 4.0))
declare("scipy.linalg.logm", Signature(("A", ARRAY)),
        _may_be_complex(lambda a: F64 if dtype(a).kind != "c" else C128),
        _first_matrices("A", 100.0))   # (measured: 500x500 in 3.7 s on one core)
declare("scipy.linalg.solve_triangular",
        Signature(("a", ARRAY), ("b", ARRAY), ("trans", _TRANS_KIND, 0), ("lower", BOOL, False),
                  ("unit_diagonal", BOOL, False), ("overwrite_b", BOOL, False), _FINITE),
        _solve_triangular_size, _triangular_solves(_solve_triangular_shapes, 1))
declare("scipy.linalg.solve_banded",
        Signature(("l_and_u", ListOf(NONNEG, most=2)), ("ab", ARRAY), ("b", ARRAY),
                  ("overwrite_ab", BOOL, False), ("overwrite_b", BOOL, False), _FINITE),
        _solve_banded_size, _solve_banded_cost)
declare("scipy.linalg.cholesky",
        Signature(("a", ARRAY), ("lower", BOOL, False), ("overwrite_a", BOOL, False),
                  _FINITE),
        _factor_size, _first_matrices("a", 1.0))
declare("scipy.linalg.cho_factor",
        Signature(("a", ARRAY), ("lower", BOOL, False), ("overwrite_a", BOOL, False),
                  _FINITE),
        _cho_factor_size, _first_matrices("a", 1.0))
declare("scipy.linalg.cho_solve",
        Signature(("c_and_lower", ListOf(ARRAY, most=2)), ("b", ARRAY),
                  ("overwrite_b", BOOL, False), _FINITE),
        _cho_solve_size, _triangular_solves(_cho_solve_shapes, 2))
declare("scipy.linalg.det",
        Signature(("a", ARRAY), ("overwrite_a", BOOL, False), _FINITE),
        _det_size, _first_matrices("a", 1.0))
declare("scipy.linalg.inv",
        Signature(("a", ARRAY), ("overwrite_a", BOOL, False), _FINITE,
                  kw={"assume_a": optional(Choice("general", "gen")), "lower": BOOL}),
        _inv_size, _first_matrices("a", 2.0))


# scipy.linalg (1.15 and later) runs a stack of matrices one matrix at a time in Python: a
# few tens of microseconds each whatever their size (solve_triangular of a million 1x1
# matrices took 16 s), and logm's own Python-level steps take about 50 ms even for a 3x3.
SCIPY_PER_MATRIX_WORK = 2e5
LOGM_PER_MATRIX_WORK = 2e8


def _stack_count(args):
    """How many matrices the first argument with two or more axes stacks (at least 1)."""
    for a in args:
        for x in (a if isinstance(a, (list, tuple)) else [a]):
            s = shape(x)
            if len(s) >= 2:
                return max(math.prod(s[:-2]), 1)
    return 1


def _per_matrix(cost, work):
    def cost_with_stack(args, kwargs, outs):
        return cost(args, kwargs, outs) + work * _stack_count(args)
    return cost_with_stack


for _name in [n for n in SPECS if n.startswith("scipy.linalg.")]:
    SPECS[_name].cost = _per_matrix(SPECS[_name].cost, LOGM_PER_MATRIX_WORK
                                    if _name == "scipy.linalg.logm" else SCIPY_PER_MATRIX_WORK)
