"""numpy.linalg: determinants, inverses and solves, decompositions, norms, matrix chains.

Every op works on stacks of matrices wherever numpy does (the last two axes are the matrix).

Conventions worth knowing:

* Norms: the 2-norm (and the Frobenius norm) of an all-zero vector or matrix gets the
  subgradient 0, not the NaN that x / ||x|| gives (and HIPS autograd returns): the norm is
  not differentiable there, 0 is in its subdifferential, and a finite gradient keeps an
  optimizer stepping. The same safe divisor serves the p-norms with p > 1. The 0-"norm"
  (a count) has gradient 0. The inf-norms and the 1- and inf- matrix norms split the
  gradient evenly between tied extremes.
* eigh, eigvalsh and cholesky (and pinv and svd with hermitian=True, through eigh) read
  one triangle of their input and mirror it, as LAPACK does; their gradient is that of
  the function numpy computes, so the other triangle gets 0 and each off-diagonal entry
  read also answers for its mirror.
* Eigenvectors and singular vectors are unique only up to sign (eig's complex ones: up to
  a phase). A real unit vector has no other freedom, so its derivative is unique; for
  eig's complex vectors the rules keep unit length and add no component along the
  vector itself. Functions blind to that choice (v * v, |v|^2, v / v[0], u_k v_k^T) get
  exact gradients whatever sign or phase LAPACK returns; all need distinct eigenvalues
  (singular values). qr's signs are fixed by LAPACK's Householder choice, which small
  changes keep, so Q and R are smooth as they are.
* svd with full_matrices=True and a non-square matrix has no gradient (the completing
  singular vectors are arbitrary), nor does lstsq with a rank-deficient matrix, nor qr in
  modes other than 'reduced', 'r' (and 'complete' when that is the same).
* Complex input: det, slogdet, inv, solve, eig, eigvals, matrix_power, multi_dot,
  tensorinv and tensorsolve are differentiated under autograd's convention (a
  holomorphic function has VJP g f'(z)); so are the 2-norm and Frobenius norm. The
  Hermitian decompositions (eigh, eigvalsh, cholesky, svd, svdvals, qr, pinv, lstsq) and
  the other norms have real rules only, and say so when asked to differentiate complex
  input.
"""
import math
import operator

import numpy as np

from ..engine.errors import NotDifferentiable
from ..engine.tracer import getval_all
from ..engine.tuples import tuple_item
from .base import shape_of, ndim_of, dtype_of, normalize_axes, repeat_to_match, unbroadcast
from . import sizing
from .contractions import conj, promoted, product_cost, axis_in
from .params import Signature, ARRAY, ARRAYS, AXIS, AXIS1, BOOL, FLOAT, INT, NONNEG, Choice, \
    ListOf, optional
from .registry import defop, defcomposite, declare, P
from .sizing import Out, shape, dtype, arg, broadcast


# --- helpers: every one built from registry ops -------------------------------------------
def _T(x):
    """The transpose of each matrix in a stack."""
    return P.swapaxes(x, -1, -2)


def _col(v):
    """v[..., :, None]"""
    return P.expand_dims(v, -1)


def _row(v):
    """v[..., None, :]"""
    return P.expand_dims(v, -2)


def _diag(v):
    """Diagonal matrices with the last axis of v on their diagonals."""
    return _row(v) * np.eye(shape_of(v)[-1])


def _diagonal(m):
    return P.einsum("...ii->...i", m)


def _items(ans):
    """The outputs of a tuple-valued op, traced wherever the tuple is."""
    return tuple(tuple_item(ans, i) for i in range(len(getval_all(ans))))


def _filled(g, ans):
    """A tuple cotangent with zeros for the outputs nobody used (None)."""
    return tuple(P.zeros_like(out) if part is None else part
                 for part, out in zip(g, getval_all(ans)))


def _inverse_gaps(w):
    """F[..., i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it (the eigen-gap matrix)."""
    eye = np.eye(shape_of(w)[-1])
    return (1 - eye) / (_row(w) - _col(w) + eye)


def _nonzero(n):
    """n with its zeros replaced by 1: x / ||x|| then gives 0 at x == 0."""
    return P.where(P.equal(n, 0), 1.0, n)


def _real_input(name, x):
    if np.iscomplexobj(getval_all(x)):
        raise NotDifferentiable(f"op '{name}' has no rule for complex input")


def _read_triangle(t, uplo):
    """The symmetric matrix LAPACK reads from t: its lower (or upper) triangle, mirrored."""
    if uplo.upper() == "U":
        return _T(_read_triangle(_T(t), "L"))
    n = shape_of(t)[-1]
    strict = np.tril(np.ones((n, n)), -1)
    return t * (strict + np.eye(n)) + _T(t * strict)


def _onto_triangle(g, uplo):
    """The adjoint of _read_triangle: each mirrored entry's cotangent added to the one read."""
    if uplo.upper() == "U":
        return _T(_onto_triangle(_T(g), "L"))
    n = shape_of(g)[-1]
    strict = np.tril(np.ones((n, n)), -1)
    return (g + _T(g)) * strict + g * np.eye(n)


def _expand2(x):
    """x[..., None, None]: one value per matrix, against the matrices."""
    return P.reshape(x, shape_of(x) + (1, 1))


def _trace(m):
    return P.einsum("...ii->...", m)


# --- determinants, inverse, solve ---------------------------------------------------------
# d det A = det A tr(A^-1 dA): the cotangent is g det A A^-T.
det = defop("linalg.det", np.linalg.det)
det.defvjp(lambda g, ans, a: _expand2(g * ans) * _T(P.linalg_inv(a)))
det.defjvp(lambda t, ans, a: ans * _trace(P.linalg_solve(a, t)))


def _slogdet_vjp(g, ans, a):
    g_sign, g_log = _filled(g, ans)
    # d log|det A| = Re tr(A^-1 dA). A complex A also turns its sign: d sign = sign i Im(tr).
    weight = g_log
    if np.iscomplexobj(getval_all(a)):
        c = g_sign * tuple_item(ans, 0)
        weight = weight + (c - P.real(c))
    return _expand2(weight) * _T(P.linalg_inv(a))


def _slogdet_jvp(t, ans, a):
    sign = tuple_item(ans, 0)
    tr = _trace(P.linalg_solve(a, t))
    if not np.iscomplexobj(getval_all(tr)):
        return P.zeros_like(sign), tr
    return sign * (tr - P.real(tr)), P.real(tr)


slogdet = defop("linalg.slogdet", np.linalg.slogdet)
slogdet.defvjp(_slogdet_vjp)
slogdet.defjvp(_slogdet_jvp)

# d A^-1 = -A^-1 dA A^-1
inv = defop("linalg.inv", np.linalg.inv)
inv.defvjp(lambda g, ans, a: -(_T(ans) @ g @ _T(ans)))
inv.defjvp(lambda t, ans, a: -(ans @ t @ ans))


def _solve(a, b, vector):
    """solve(a, b); numpy reads only a 1-d b as a vector, so a stack of them gets an axis."""
    if not vector:
        return P.linalg_solve(a, b)
    return P.linalg_solve(a, _col(b))[..., 0]


def _solve_vjp_a(g, ans, a, b):
    vector = ndim_of(b) == 1
    g_b = _solve(_T(a), g, vector)
    return unbroadcast(a, -(_col(g_b) * _row(ans) if vector else g_b @ _T(ans)))


def _solve_jvp_a(t, ans, a, b):
    vector = ndim_of(b) == 1
    return -_solve(a, (t @ _col(ans))[..., 0] if vector else t @ ans, vector)


# x = A^-1 b: db moves x by A^-1 db, dA by -A^-1 dA x.
solve = defop("linalg.solve", np.linalg.solve)
solve.defvjp(_solve_vjp_a,
             lambda g, ans, a, b: unbroadcast(b, _solve(_T(a), g, ndim_of(b) == 1)))
solve.defjvp(_solve_jvp_a,
             lambda t, ans, a, b: _solve(a, t, ndim_of(b) == 1))


# --- pseudo-inverse and least squares -----------------------------------------------------
def _pinv_jvp_map(t, a, p):
    """dA+ for a constant-rank A (Golub and Pereyra): the three terms keep A+ A and A A+
    projections."""
    m, n = shape_of(a)[-2:]
    return (-(p @ t @ p) + p @ _T(p) @ _T(t) @ (np.eye(m) - a @ p)
            + (np.eye(n) - p @ a) @ _T(t) @ _T(p) @ p)


def _pinv_vjp_map(g, a, p):
    """The adjoint of _pinv_jvp_map, term by term."""
    m, n = shape_of(a)[-2:]
    return (-(_T(p) @ g @ _T(p)) + (np.eye(m) - a @ p) @ _T(g) @ p @ _T(p)
            + _T(p) @ p @ _T(g) @ (np.eye(n) - p @ a))


def _pinv_vjp(g, ans, a, rcond=None, hermitian=False, **kw):
    _real_input("linalg.pinv", a)
    ga = _pinv_vjp_map(g, a, ans)
    # hermitian=True computes through eigh, which reads the lower triangle only.
    return _onto_triangle(ga, "L") if hermitian else ga


def _pinv_jvp(t, ans, a, rcond=None, hermitian=False, **kw):
    _real_input("linalg.pinv", a)
    return _pinv_jvp_map(_read_triangle(t, "L") if hermitian else t, a, ans)


pinv = defop("linalg.pinv", np.linalg.pinv)
pinv.defvjp(_pinv_vjp)
pinv.defjvp(_pinv_jvp)


def _lstsq_parts(ans, a, b):
    """(x, the residuals b - a x or None where numpy reports none, whether b is a vector),
    once the rules are known to apply."""
    _real_input("linalg.lstsq", a)
    _real_input("linalg.lstsq", b)
    if getval_all(ans)[2] < min(shape_of(a)):
        raise NotDifferentiable("op 'linalg.lstsq' has no gradient for a rank-deficient a")
    x = tuple_item(ans, 0)
    r = b - a @ x if np.size(getval_all(ans)[1]) else None
    return x, r, ndim_of(b) == 1


def _lstsq_vjp_a(g, ans, a, b, rcond=None):
    g_x, g_res, _, g_s = _filled(g, ans)
    x, r, vector = _lstsq_parts(ans, a, b)
    ga = _pinv_vjp_map(_col(g_x) * _row(b) if vector else g_x @ _T(b), a, P.linalg_pinv(a))
    if r is not None:
        # The residual is minimal over x, so only its explicit dependence on a counts.
        g_r = -2 * r * g_res
        ga = ga + (_col(g_r) * _row(x) if vector else g_r @ _T(x))
    return ga + _singular_values_vjp(g_s, a)


def _lstsq_vjp_b(g, ans, a, b, rcond=None):
    g_x, g_res, _, _ = _filled(g, ans)
    _, r, _ = _lstsq_parts(ans, a, b)
    gb = _T(P.linalg_pinv(a)) @ g_x
    return gb if r is None else gb + 2 * r * g_res


def _lstsq_jvp_a(t, ans, a, b, rcond=None):
    x, r, _ = _lstsq_parts(ans, a, b)
    residuals, rank, _ = getval_all(ans)[1:]
    dx = _pinv_jvp_map(t, a, P.linalg_pinv(a)) @ b
    dres = np.zeros_like(residuals) if r is None else \
        P.reshape(-2 * P.sum(r * (t @ x), axis=0), np.shape(residuals))
    return dx, dres, np.zeros(np.shape(rank)), _singular_values_jvp(t, a)


def _lstsq_jvp_b(t, ans, a, b, rcond=None):
    _, r, _ = _lstsq_parts(ans, a, b)
    residuals, rank, s = getval_all(ans)[1:]
    dres = np.zeros_like(residuals) if r is None else \
        P.reshape(2 * P.sum(r * t, axis=0), np.shape(residuals))
    return P.linalg_pinv(a) @ t, dres, np.zeros(np.shape(rank)), np.zeros_like(s)


# (x, residuals, rank, singular values); rank is an integer and gets no gradient.
lstsq = defop("linalg.lstsq", np.linalg.lstsq)
lstsq.defvjp(_lstsq_vjp_a, _lstsq_vjp_b)
lstsq.defjvp(_lstsq_jvp_a, _lstsq_jvp_b)


# --- symmetric eigenproblems --------------------------------------------------------------
def _eigh_vjp(g, ans, a, UPLO="L"):
    _real_input("linalg.eigh", a)
    g_w, g_v = _filled(g, ans)
    w, v = _items(ans)
    inner = _diag(g_w) + _inverse_gaps(w) * (_T(v) @ g_v)
    return _onto_triangle(v @ inner @ _T(v), UPLO)


def _eigh_jvp(t, ans, a, UPLO="L"):
    _real_input("linalg.eigh", a)
    w, v = _items(ans)
    m = _T(v) @ _read_triangle(t, UPLO) @ v
    return _diagonal(m), v @ (_inverse_gaps(w) * m)


eigh = defop("linalg.eigh", np.linalg.eigh)
eigh.defvjp(_eigh_vjp)
eigh.defjvp(_eigh_jvp)


def _eigvalsh_vjp(g, ans, a, UPLO="L"):
    _real_input("linalg.eigvalsh", a)
    v = tuple_item(P.linalg_eigh(a, UPLO), 1)
    return _onto_triangle(v * _row(g) @ _T(v), UPLO)


def _eigvalsh_jvp(t, ans, a, UPLO="L"):
    # dw_k = v_k^T dA v_k
    _real_input("linalg.eigvalsh", a)
    v = tuple_item(P.linalg_eigh(a, UPLO), 1)
    return P.sum(v * (_read_triangle(t, UPLO) @ v), axis=-2)


eigvalsh = defop("linalg.eigvalsh", np.linalg.eigvalsh)
eigvalsh.defvjp(_eigvalsh_vjp)
eigvalsh.defjvp(_eigvalsh_jvp)


# --- general eigenproblem -----------------------------------------------------------------
def _eig_vjp(g, ans, a):
    g_w, g_v = _filled(g, ans)
    w, v = _items(ans)
    # numpy scales each eigenvector to unit length: the part of g_v that only asks to
    # change a vector's length, Re(v_k^H g_v_k) along conj(v_k), has no effect.
    g_v = g_v - conj(v) * _row(P.real(P.sum(v * g_v, axis=-2)))
    inner = _diag(g_w) + _inverse_gaps(w) * (_T(v) @ g_v)
    # V^-T inner V^T; a real a takes the real part.
    return unbroadcast(a, P.linalg_solve(_T(v), inner @ _T(v)))


def _eig_jvp(t, ans, a):
    w, v = _items(ans)
    m = P.linalg_solve(v, t @ v)
    dv = v @ (_inverse_gaps(w) * m)
    # Keep each vector at unit length: remove Re(v_k^H dv_k) v_k.
    dv = dv - v * _row(P.real(P.sum(conj(v) * dv, axis=-2)))
    return _diagonal(m), dv


eig = defop("linalg.eig", np.linalg.eig)
eig.defvjp(_eig_vjp)
eig.defjvp(_eig_jvp)


def eigvals(a):
    """numpy.linalg.eigvals, as eig's eigenvalues: LAPACK does not promise eigvals the same
    order as eig, and the rule needs the eigenvectors that go with each value."""
    return tuple_item(P.linalg_eig(a), 0)


defcomposite("linalg.eigvals", eigvals)


# --- Cholesky -----------------------------------------------------------------------------
def _half_lower(x):
    """The lower triangle of x with half its diagonal."""
    n = shape_of(x)[-1]
    return x * (np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n))


def _cholesky_vjp(g, ans, a, upper=False):
    _real_input("linalg.cholesky", a)
    l, g_l = (_T(ans), _T(g)) if upper else (ans, g)
    # L^-T Φ(L^T gL) L^-1, Φ taking the lower triangle with half the diagonal; the two
    # triangular systems are solved as general ones.
    s = P.linalg_solve(_T(l), _half_lower(_T(l) @ g_l))
    return _onto_triangle(_T(P.linalg_solve(_T(l), _T(s))), "U" if upper else "L")


def _cholesky_jvp(t, ans, a, upper=False):
    _real_input("linalg.cholesky", a)
    l = _T(ans) if upper else ans
    # dL = L Φ(L^-1 dA L^-T), with dA the symmetric matrix read from t.
    s = P.linalg_solve(l, _read_triangle(t, "U" if upper else "L"))
    dl = l @ _half_lower(_T(P.linalg_solve(l, _T(s))))
    return _T(dl) if upper else dl


cholesky = defop("linalg.cholesky", np.linalg.cholesky)
cholesky.defvjp(_cholesky_vjp)
cholesky.defjvp(_cholesky_jvp)


# --- singular values ----------------------------------------------------------------------
def _thin_svd(a, hermitian=False):
    return _items(P.linalg_svd(a, full_matrices=False, hermitian=hermitian))


def _singular_values_vjp(g, a, hermitian=False):
    # ds_k = u_k^T dA v_k
    u, _, vh = _thin_svd(a, hermitian)
    return u * _row(g) @ vh


def _singular_values_jvp(t, a, hermitian=False):
    u, _, vh = _thin_svd(a, hermitian)
    return P.sum(u * (t @ _T(vh)), axis=-2)


def _svd_check(a, full_matrices):
    _real_input("linalg.svd", a)
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise NotDifferentiable("op 'linalg.svd' has no gradient with full_matrices=True for "
                                "a non-square matrix (the completing vectors are arbitrary); "
                                "use full_matrices=False")


def _svd_vjp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    if not compute_uv:
        _real_input("linalg.svd", a)
        ga = _singular_values_vjp(g, a, hermitian)
    else:
        _svd_check(a, full_matrices)
        g_u, g_s, g_vh = _filled(g, ans)
        u, s, vh = _items(ans)
        g_v, v = _T(g_vh), _T(vh)
        f = _inverse_gaps(s * s)
        j_u, j_v = _T(u) @ g_u, _T(v) @ g_v
        inner = (_diag(g_s) + f * (j_u - _T(j_u)) * _row(s)
                 + _col(s) * (f * (j_v - _T(j_v))))
        ga = u @ inner @ vh
        m, n = shape_of(a)[-2:]
        # The parts of g_u, g_v outside the spans of U, V (only a tall or wide a has them).
        if m > n:
            ga = ga + (g_u - u @ j_u) / _row(s) @ vh
        if n > m:
            ga = ga + u @ (_T(g_v - v @ j_v) / _col(s))
    # hermitian=True computes through eigh, which reads the lower triangle only.
    return _onto_triangle(ga, "L") if hermitian else ga


def _svd_jvp(t, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        t = _read_triangle(t, "L")
    if not compute_uv:
        _real_input("linalg.svd", a)
        return _singular_values_jvp(t, a, hermitian)
    _svd_check(a, full_matrices)
    u, s, vh = _items(ans)
    v = _T(vh)
    dp = _T(u) @ t @ v
    f = _inverse_gaps(s * s)
    du = u @ (f * (dp * _row(s) + _col(s) * _T(dp)))
    dv = v @ (f * (_col(s) * dp + _T(dp) * _row(s)))
    m, n = shape_of(a)[-2:]
    if m > n:
        du = du + (t @ v - u @ dp) / _row(s)
    if n > m:
        dv = dv + (_T(t) @ u - v @ _T(dp)) / _row(s)
    return du, _diagonal(dp), _T(dv)


svd = defop("linalg.svd", np.linalg.svd)
svd.defvjp(_svd_vjp)
svd.defjvp(_svd_jvp)


def _svdvals_vjp(g, ans, x):
    _real_input("linalg.svdvals", x)
    return _singular_values_vjp(g, x)


def _svdvals_jvp(t, ans, x):
    _real_input("linalg.svdvals", x)
    return _singular_values_jvp(t, x)


svdvals = defop("linalg.svdvals", np.linalg.svdvals)
svdvals.defvjp(_svdvals_vjp)
svdvals.defjvp(_svdvals_jvp)


# --- QR -----------------------------------------------------------------------------------
def _qr_factors(ans, a, mode):
    """(Q, R) of the reduced factorization, checked to have a gradient."""
    _real_input("linalg.qr", a)
    m, n = shape_of(a)[-2:]
    if mode not in ("reduced", "r") and not (mode == "complete" and m <= n):
        raise NotDifferentiable(f"op 'linalg.qr' has no gradient for mode={mode!r} with this "
                                "shape (use mode='reduced')")
    return _items(P.linalg_qr(a) if mode == "r" else ans)


def _qr_tall_vjp(q, r, g_q, g_r):
    """The cotangent of a = QR for m >= n: (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q,
    where copyltu mirrors the lower triangle of M onto the upper one."""
    b = g_q + q @ _read_triangle(r @ _T(g_r) - _T(g_q) @ q, "L")
    return _T(P.linalg_solve(r, _T(b)))


def _qr_tall_jvp(t, q, r):
    """(dQ, dR) for m >= n: X = Q^T dA R^-1 splits into Q^T dQ (antisymmetric) plus
    dR R^-1 (upper triangular)."""
    t_rinv = _T(P.linalg_solve(_T(r), _T(t)))
    x = _T(q) @ t_rinv
    n = shape_of(r)[-1]
    low = x * np.tril(np.ones((n, n)), -1)
    upper = x - (low - _T(low))
    return t_rinv - q @ upper, upper @ r


def _qr_vjp(g, ans, a, mode="reduced"):
    q, r = _qr_factors(ans, a, mode)
    g_q, g_r = (P.zeros_like(q), g) if mode == "r" else _filled(g, ans)
    m, n = shape_of(a)[-2:]
    if m >= n:
        return _qr_tall_vjp(q, r, g_q, g_r)
    # A wide a = [X | Y] factors as X = Q R_X, and R = [R_X | Q^T Y].
    y, g_rx, g_ry = a[..., m:], g_r[..., :m], g_r[..., m:]
    g_x = _qr_tall_vjp(q, r[..., :m], g_q + y @ _T(g_ry), g_rx)
    return P.concatenate([g_x, q @ g_ry], axis=-1)


def _qr_jvp(t, ans, a, mode="reduced"):
    q, r = _qr_factors(ans, a, mode)
    m, n = shape_of(a)[-2:]
    if m >= n:
        dq, dr = _qr_tall_jvp(t, q, r)
    else:
        dq, dr_x = _qr_tall_jvp(t[..., :m], q, r[..., :m])
        dr = P.concatenate([dr_x, _T(dq) @ a[..., m:] + _T(q) @ t[..., m:]], axis=-1)
    return dr if mode == "r" else (dq, dr)


qr = defop("linalg.qr", np.linalg.qr)
qr.defvjp(_qr_vjp)
qr.defjvp(_qr_jvp)


# --- norms --------------------------------------------------------------------------------
def _real_sum(x, axes, keepdims):
    """The sum of a norm's slope times a tangent: real, as the norm is."""
    total = P.sum(x, axis=axes, keepdims=keepdims)
    return P.real(total) if np.iscomplexobj(getval_all(total)) else total


def _kept(ans, shape, axes, keepdims):
    """A reduction's answer with the reduced axes kept as 1s, to broadcast against x."""
    return ans if keepdims else P.reshape(ans, tuple(1 if i in axes else k
                                                     for i, k in enumerate(shape)))


def _vector_norm_slope(x, n, ord, axes):
    """d||x||/dx for the vector norm over ``axes``; ``n`` is the norm, axes kept."""
    if ord in (None, 2):
        return conj(x) / _nonzero(n)   # 0 at the zero vector (see the module docstring)
    _real_input("linalg.vector_norm", x)
    if ord == 0:
        return P.zeros_like(x)   # a count of nonzeros
    if ord in (np.inf, -np.inf):
        hit = P.equal(P.absolute(x), n)
        return P.sign(x) * hit / P.sum(hit, axis=axes, keepdims=True)
    if ord == 1:
        return P.sign(x)
    return P.sign(x) * (P.absolute(x) / _nonzero(n)) ** (ord - 1)


def _vector_norm_vjp(g, ans, x, axis=None, keepdims=False, ord=2):
    axes = normalize_axes(axis, ndim_of(x))
    slope = _vector_norm_slope(x, _kept(ans, shape_of(x), axes, keepdims), ord, axes)
    return repeat_to_match(g, shape_of(x), axes, keepdims) * slope


def _vector_norm_jvp(t, ans, x, axis=None, keepdims=False, ord=2):
    axes = normalize_axes(axis, ndim_of(x))
    slope = _vector_norm_slope(x, _kept(ans, shape_of(x), axes, keepdims), ord, axes)
    return _real_sum(slope * t, axes, keepdims)


vector_norm = defop("linalg.vector_norm", np.linalg.vector_norm)
vector_norm.defvjp(_vector_norm_vjp)
vector_norm.defjvp(_vector_norm_jvp)


def _matrix_norm_slope(x, n, ord):
    """d||x||/dx for the matrix norm of the last two axes; ``n`` has them kept as 1s."""
    if ord in ("fro", None):
        return conj(x) / _nonzero(n)   # 0 at the zero matrix
    _real_input("linalg.matrix_norm", x)
    if ord == "nuc":
        u, _, vh = _thin_svd(x)
        return u @ vh
    if ord in (2, -2):   # the largest (smallest) singular value: d s_k = u_k^T dx v_k
        u, _, vh = _thin_svd(x)
        k = slice(0, 1) if ord == 2 else slice(-1, None)
        return u[..., :, k] @ vh[..., k, :]
    # 1 (inf): the largest absolute column (row) sum; -1 and -inf the smallest.
    along, across = (-2, -1) if ord in (1, -1) else (-1, -2)
    hit = P.equal(P.sum(P.absolute(x), axis=along, keepdims=True), n)
    return P.sign(x) * hit / P.sum(hit, axis=across, keepdims=True)


def _matrix_norm_vjp(g, ans, x, keepdims=False, ord="fro"):
    axes = (ndim_of(x) - 2, ndim_of(x) - 1)
    slope = _matrix_norm_slope(x, _kept(ans, shape_of(x), axes, keepdims), ord)
    return repeat_to_match(g, shape_of(x), axes, keepdims) * slope


def _matrix_norm_jvp(t, ans, x, keepdims=False, ord="fro"):
    axes = (ndim_of(x) - 2, ndim_of(x) - 1)
    slope = _matrix_norm_slope(x, _kept(ans, shape_of(x), axes, keepdims), ord)
    return _real_sum(slope * t, axes, keepdims)


matrix_norm = defop("linalg.matrix_norm", np.linalg.matrix_norm)
matrix_norm.defvjp(_matrix_norm_vjp)
matrix_norm.defjvp(_matrix_norm_jvp)


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm: a vector norm over one axis (or over everything, for ord=None and
    no axis) or a matrix norm over two, as numpy dispatches it."""
    nd = ndim_of(x)
    if axis is None:
        if ord is None:
            return P.linalg_vector_norm(x, keepdims=keepdims)
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        axis = (operator.index(axis),)
    if len(axis) == 1:
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        return P.linalg_vector_norm(x, axis=axis[0], keepdims=keepdims,
                                    ord=2 if ord is None else ord)
    if len(axis) != 2:
        raise ValueError("Improper number of dimensions to norm.")
    row, col = normalize_axes(axis, nd)
    if row == col:
        raise ValueError("Duplicate axes given.")
    order = [i for i in range(nd) if i not in (row, col)] + [row, col]
    out = P.linalg_matrix_norm(P.transpose(x, order), keepdims=keepdims,
                               ord="fro" if ord is None else ord)
    return P.transpose(out, tuple(np.argsort(order))) if keepdims else out


defcomposite("linalg.norm", norm)


# --- built from the above -----------------------------------------------------------------
def matrix_power(a, n):
    """numpy.linalg.matrix_power: repeated squaring, through inv for negative n."""
    n = operator.index(n)
    shape = shape_of(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    if n == 0:
        return np.broadcast_to(np.eye(shape[-1], dtype=dtype_of(a)), shape).copy()
    if n < 0:
        a, n = P.linalg_inv(a), -n
    result, square = None, a   # square is a ** (2 ** k) at bit k of n
    while n:
        if n & 1:
            result = square if result is None else result @ square
        n >>= 1
        if n:
            square = square @ square
    return result


def _chain_order(dims):
    """Where to split each sub-chain i..j of matrices (dims[k] x dims[k + 1]) so that the
    product takes the fewest multiplications: the textbook dynamic program."""
    n = len(dims) - 1
    cost, split = {(i, i): 0 for i in range(n)}, {}
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i, j], split[i, j] = min(
                (cost[i, k] + cost[k + 1, j] + dims[i] * dims[k + 1] * dims[j + 1], k)
                for k in range(i, j))
    return split


def multi_dot(arrays):
    """numpy.linalg.multi_dot: a chain of matrix products in the cheapest order; the first
    array may be a 1-d row and the last a 1-d column."""
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    row, column = ndim_of(arrays[0]) == 1, ndim_of(arrays[-1]) == 1
    if row:
        arrays[0] = P.reshape(arrays[0], (1, -1))
    if column:
        arrays[-1] = P.reshape(arrays[-1], (-1, 1))
    split = _chain_order([shape_of(arrays[0])[0]] + [shape_of(x)[-1] for x in arrays])

    def product(i, j):
        if i == j:
            return arrays[i]
        return P.matmul(product(i, split[i, j]), product(split[i, j] + 1, j))

    out = product(0, len(arrays) - 1)
    return P.reshape(out, shape_of(out)[row:2 - column])


def tensorinv(a, ind=2):
    """numpy.linalg.tensorinv: the inverse of a read as a square matrix, axes regrouped."""
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    shape = shape_of(a)
    inverse = P.linalg_inv(P.reshape(a, (int(np.prod(shape[:ind])), -1)))
    return P.reshape(inverse, shape[ind:] + shape[:ind])


def tensorsolve(a, b, axes=None):
    """numpy.linalg.tensorsolve: a solve with a read as a square matrix (``axes`` moved to
    the end first)."""
    if axes is not None:
        axes = list(axes)
        a = P.transpose(a, [i for i in range(ndim_of(a)) if i not in axes] + axes)
    shape = shape_of(a)[ndim_of(b):]
    n = int(np.prod(shape))
    if np.size(getval_all(a)) != n * n:
        raise np.linalg.LinAlgError("Input arrays must satisfy the requirement "
                                    "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    x = P.linalg_solve(P.reshape(a, (n, n)), P.reshape(b, (-1,)))
    return P.reshape(x, shape)


defcomposite("linalg.matrix_power", matrix_power)
defcomposite("linalg.multi_dot", multi_dot)
defcomposite("linalg.tensorinv", tensorinv)
defcomposite("linalg.tensorsolve", tensorsolve)


# --- what the wire may pass (params.py, sizing.py) ---------------------------------------
def lapack_dtype(*xs):
    """The dtype numpy.linalg computes and answers in: integers and booleans as float64,
    float32 and complex64 kept, several inputs promoted together; float16 refused."""
    dts = [dtype(x) for x in xs]
    if any(dt == np.float16 for dt in dts):
        raise TypeError("array type float16 is unsupported in linalg")
    return np.result_type(*[sizing.inexact(dt) for dt in dts])


def real_dtype(dt):
    """The real dtype of a float or complex dtype (complex128 -> float64)."""
    dt = np.dtype(dt)
    return np.finfo(dt).dtype if dt.kind == "c" else dt


def complex_dtype(dt):
    return np.result_type(dt, np.complex64)


def matrices(x, square=True):
    """The shape of a stack of matrices, checked as numpy.linalg checks it."""
    s = shape(x)
    if len(s) < 2:
        raise np.linalg.LinAlgError(f"{len(s)}-dimensional array given. Array must be at "
                                    "least two-dimensional")
    if square and s[-1] != s[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    return s


#: What numpy's linalg pays per matrix of a stack beside the arithmetic (its loop, LAPACK's
#: workspace): svd of a million 2x2 matrices took 1 s, about 3,000 units each.
PER_MATRIX_WORK = 5000.0


def cubic_work(s, weight=1.0):
    """Work of a dense factorization of each matrix of a stack of shape ``s``: m n min(m, n)
    per matrix (LAPACK's constants are small; ``weight`` for the iterative ones), and
    PER_MATRIX_WORK for each matrix however small."""
    m, n = s[-2:]
    count = math.prod(s[:-2])
    return weight * count * m * n * min(m, n) + math.prod(s) + PER_MATRIX_WORK * count


def _a(args, kwargs):
    return arg(args, kwargs, 0, "a")


def _x(args, kwargs):
    return arg(args, kwargs, 0, "x")


def _on_matrices(first=_a, weight=1.0):
    """The cost rule of an op that factors every matrix of its first argument."""
    def cost(args, kwargs, outs):
        return cubic_work(matrices(first(args, kwargs), square=False), weight) + \
            sizing.numel(outs)
    return cost


# determinants, inverse, solve
def _det_size(args, kwargs):
    a = _a(args, kwargs)
    return Out(matrices(a)[:-2], lapack_dtype(a))


def _slogdet_size(args, kwargs):
    a = _a(args, kwargs)
    dt = lapack_dtype(a)
    return [Out(matrices(a)[:-2], dt), Out(matrices(a)[:-2], real_dtype(dt))]


def _square_size(args, kwargs):
    a = _a(args, kwargs)
    return Out(matrices(a), lapack_dtype(a))


def _solve_shapes(args, kwargs):
    """(answer's shape, right-hand sides per matrix) of solve: numpy reads only a 1-d b
    as a vector."""
    a, b = matrices(_a(args, kwargs)), shape(arg(args, kwargs, 1, "b"))
    n = a[-1]
    if len(b) == 1:
        if b[0] != n:
            raise ValueError(f"solve: b has {b[0]} rows for {n} x {n} matrices")
        return a[:-1], 1
    if len(b) < 2 or b[-2] != n:
        raise ValueError(f"solve: b of shape {b} for {n} x {n} matrices")
    return broadcast(a[:-2], b[:-2]) + b[-2:], b[-1]


def _solve_size(args, kwargs):
    return Out(_solve_shapes(args, kwargs)[0],
               lapack_dtype(_a(args, kwargs), arg(args, kwargs, 1, "b")))


def _solve_cost(args, kwargs, outs):
    out, k = _solve_shapes(args, kwargs)
    a = matrices(_a(args, kwargs))
    n = a[-1]
    batch = math.prod(out[:-1 if len(shape(arg(args, kwargs, 1, "b"))) == 1 else -2])
    return batch * (n ** 3 + n * n * k) + sizing.numel(outs)


# pseudo-inverse and least squares
def _pinv_size(args, kwargs):
    a = _a(args, kwargs)
    s = matrices(a, square=False)
    return Out(s[:-2] + (s[-1], s[-2]), lapack_dtype(a))


def _lstsq_size(args, kwargs):
    a, b = _a(args, kwargs), arg(args, kwargs, 1, "b")
    sa, sb = shape(a), shape(b)
    if len(sa) != 2 or len(sb) not in (1, 2) or sb[0] != sa[0]:
        raise np.linalg.LinAlgError(f"lstsq: a of shape {sa} and b of shape {sb}")
    m, n = sa
    dt = lapack_dtype(a, b)
    real = real_dtype(dt)
    k = sb[1:]
    # numpy reports residuals only for a tall a of full rank: a bound unless it cannot
    residuals = Out((0,), real) if m <= n else Out(k or (1,), real, bound=True)
    return [Out((n,) + k, dt), residuals, Out((), np.int32), Out((min(m, n),), real)]


# eigenproblems
def _eigh_size(args, kwargs):
    a = _a(args, kwargs)
    s, dt = matrices(a), lapack_dtype(a)
    return [Out(s[:-1], real_dtype(dt)), Out(s, dt)]


def _eigvalsh_size(args, kwargs):
    return _eigh_size(args, kwargs)[0]


def _eig_size(args, kwargs):
    """eig's answers are complex, but numpy makes those of a real matrix real when every
    eigenvalue is: a bound then."""
    a = _a(args, kwargs)
    s, dt = matrices(a), lapack_dtype(a)
    bound = dt.kind != "c"
    return [Out(s[:-1], complex_dtype(dt), bound), Out(s, complex_dtype(dt), bound)]


def _eigvals_size(args, kwargs):
    return _eig_size(args, kwargs)[0]


# SVD and QR
def _svd_size(args, kwargs):
    a = _a(args, kwargs)
    s, dt = matrices(a, square=False), lapack_dtype(a)
    batch, (m, n) = s[:-2], s[-2:]
    k = min(m, n)
    values = Out(batch + (k,), real_dtype(dt))
    if not arg(args, kwargs, 2, "compute_uv", True):
        return values
    full = arg(args, kwargs, 1, "full_matrices", True)
    return [Out(batch + (m, m if full else k), dt), values,
            Out(batch + (n if full else k, n), dt)]


def _svdvals_size(args, kwargs):
    x = _x(args, kwargs)
    s = matrices(x, square=False)
    return Out(s[:-2] + (min(s[-2:]),), real_dtype(lapack_dtype(x)))


def _qr_size(args, kwargs):
    a = _a(args, kwargs)
    s, dt = matrices(a, square=False), lapack_dtype(a)
    batch, (m, n) = s[:-2], s[-2:]
    k = min(m, n)
    mode = arg(args, kwargs, 1, "mode", "reduced")
    if mode == "r":
        return Out(batch + (k, n), dt)
    if mode == "raw":
        return [Out(batch + (n, m), dt), Out(batch + (k,), dt)]
    if mode == "complete":
        return [Out(batch + (m, m), dt), Out(batch + (m, n), dt)]
    return [Out(batch + (m, k), dt), Out(batch + (k, n), dt)]


# norms
def _norm_dtype(dt, args, kwargs):
    return real_dtype(sizing.inexact(dt))


def _matrix_norm_size(args, kwargs):
    x = _x(args, kwargs)
    s = matrices(x, square=False)
    kept = (1, 1) if kwargs.get("keepdims", False) else ()
    return Out(s[:-2] + kept, _norm_dtype(dtype(x), args, kwargs))


_BY_SINGULAR_VALUES = (2, -2, "nuc")


def _matrix_norm_cost(args, kwargs, outs):
    x = _x(args, kwargs)
    if kwargs.get("ord", "fro") in _BY_SINGULAR_VALUES:
        return cubic_work(matrices(x, square=False), 2.0)
    return 4.0 * sizing.size_of(x)


def _norm_axes(args, kwargs):
    """The axes numpy.linalg.norm reduces over, and whether that is a matrix norm."""
    x = _x(args, kwargs)
    nd = len(shape(x))
    ord, axis = arg(args, kwargs, 1, "ord"), arg(args, kwargs, 2, "axis")
    if axis is None:
        if ord is None:
            return tuple(range(nd)), False
        axis = tuple(range(nd))
    elif not isinstance(axis, (list, tuple)):
        axis = (axis,)
    axis = tuple(axis_in(int(i), nd) for i in axis)
    if len(axis) == 1 and isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if len(axis) not in (1, 2) or len(set(axis)) < len(axis):
        raise ValueError("Improper number of dimensions to norm.")
    return axis, len(axis) == 2


def _norm_size(args, kwargs):
    x = _x(args, kwargs)
    s = shape(x)
    axes, _ = _norm_axes(args, kwargs)
    if arg(args, kwargs, 3, "keepdims", False):
        out = tuple(1 if i in axes else n for i, n in enumerate(s))
    else:
        out = tuple(n for i, n in enumerate(s) if i not in axes)
    return Out(out, _norm_dtype(dtype(x), args, kwargs))


def _norm_cost(args, kwargs, outs):
    x = _x(args, kwargs)
    axes, matrix = _norm_axes(args, kwargs)
    if matrix and arg(args, kwargs, 1, "ord") in _BY_SINGULAR_VALUES:
        s = shape(x)
        rows, cols = s[axes[0]], s[axes[1]]
        return 2.0 * sizing.size_of(x) * min(rows, cols) + 4.0 * sizing.size_of(x)
    return 4.0 * sizing.size_of(x)


# built from the above
def _matrix_power_size(args, kwargs):
    a, n = _a(args, kwargs), arg(args, kwargs, 1, "n")
    return Out(matrices(a), lapack_dtype(a) if n < 0 else dtype(a))


def _matrix_power_cost(args, kwargs, outs):
    s = matrices(_a(args, kwargs))
    n = int(arg(args, kwargs, 1, "n"))
    products = 2 * max(abs(n).bit_length() - 1, 0) + 1   # squarings and products
    work = product_cost(products * math.prod(s) * s[-1], outs.dtype)
    return work + (cubic_work(s) if n < 0 else 0) + sizing.numel(outs)


def _chain(arrays):
    """multi_dot's chain: (the matrices' dims, whether the ends are vectors), checked."""
    shapes = [shape(x) for x in arrays]
    if len(shapes) < 2:
        raise ValueError("Expecting at least two arrays.")
    row, column = len(shapes[0]) == 1, len(shapes[-1]) == 1
    shapes[0] = (1,) + shapes[0] if row else shapes[0]
    shapes[-1] = shapes[-1] + (1,) if column else shapes[-1]
    if any(len(s) != 2 for s in shapes):
        raise ValueError("multi_dot: the arrays must be matrices (the ends may be vectors)")
    if any(p[1] != q[0] for p, q in zip(shapes, shapes[1:])):
        raise ValueError("multi_dot: shapes not aligned")
    return [shapes[0][0]] + [s[1] for s in shapes], row, column


def _multi_dot_size(args, kwargs):
    arrays = list(arg(args, kwargs, 0, "arrays"))
    dims, row, column = _chain(arrays)
    return Out(((dims[0],) if not row else ()) + ((dims[-1],) if not column else ()),
               promoted(*arrays))


def chain_work(dims):
    """Multiply-adds of a matrix chain in its cheapest order (exact for short chains;
    otherwise the better of left to right and right to left, which is at least that)."""
    n = len(dims) - 1
    if n <= 16:
        split = _chain_order(dims)

        def work(i, j):
            if i == j:
                return 0
            k = split[i, j]
            return work(i, k) + work(k + 1, j) + dims[i] * dims[k + 1] * dims[j + 1]
        return work(0, n - 1)
    left = sum(dims[0] * dims[k] * dims[k + 1] for k in range(1, n))
    right = sum(dims[k - 1] * dims[k] * dims[n] for k in range(1, n))
    return min(left, right)


def _multi_dot_cost(args, kwargs, outs):
    arrays = list(arg(args, kwargs, 0, "arrays"))
    dims, _, _ = _chain(arrays)
    # finding the order is a dynamic program over every sub-chain, in Python
    search = 1000 * len(arrays) ** 3 / 6
    return product_cost(chain_work(dims), outs.dtype) + search + \
        sum(sizing.size_of(x) for x in arrays) + sizing.numel(outs)


def _tensorinv_sides(args, kwargs):
    a, ind = _a(args, kwargs), arg(args, kwargs, 1, "ind", 2)
    s = shape(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    if math.prod(s[:ind]) != math.prod(s[ind:]):
        raise np.linalg.LinAlgError("tensorinv: prod(a.shape[:ind]) must equal "
                                    "prod(a.shape[ind:])")
    return s[:ind], s[ind:]


def _tensorinv_size(args, kwargs):
    left, right = _tensorinv_sides(args, kwargs)
    return Out(right + left, lapack_dtype(_a(args, kwargs)))


def _tensorinv_cost(args, kwargs, outs):
    n = math.prod(_tensorinv_sides(args, kwargs)[0])
    return n ** 3 + 2 * n * n


def _tensorsolve_shape(args, kwargs):
    a, b = shape(_a(args, kwargs)), shape(arg(args, kwargs, 1, "b"))
    axes = arg(args, kwargs, 2, "axes")
    if axes is not None:
        axes = [axis_in(int(i), len(a)) for i in axes]
        a = tuple(n for i, n in enumerate(a) if i not in axes) + tuple(a[i] for i in axes)
    out = a[len(b):]
    n = math.prod(out)
    if math.prod(a) != n * n or math.prod(b) != n:
        raise np.linalg.LinAlgError("Input arrays must satisfy the requirement "
                                    "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    return out


def _tensorsolve_size(args, kwargs):
    return Out(_tensorsolve_shape(args, kwargs),
               lapack_dtype(_a(args, kwargs), arg(args, kwargs, 1, "b")))


def _tensorsolve_cost(args, kwargs, outs):
    n = sizing.numel(outs)
    return n ** 3 + 3 * n * n


_A = ("a", ARRAY)
_ORD = optional(FLOAT | Choice("fro", "nuc"))
_UPLO = Choice("L", "U", "l", "u")

declare("linalg.det", Signature(_A), _det_size, _on_matrices())
declare("linalg.slogdet", Signature(_A), _slogdet_size, _on_matrices())
declare("linalg.inv", Signature(_A), _square_size, _on_matrices(weight=2.0))
declare("linalg.solve", Signature(_A, ("b", ARRAY)), _solve_size, _solve_cost)
declare("linalg.pinv", Signature(_A, ("rcond", optional(FLOAT), None),
                                 ("hermitian", BOOL, False), kw={"rtol": optional(FLOAT)}),
        _pinv_size, _on_matrices(weight=3.0))
declare("linalg.lstsq", Signature(_A, ("b", ARRAY), ("rcond", optional(FLOAT), None)),
        _lstsq_size, _on_matrices(weight=3.0))
declare("linalg.eigh", Signature(_A, ("UPLO", _UPLO, "L")), _eigh_size,
        _on_matrices(weight=2.0))
declare("linalg.eigvalsh", Signature(_A, ("UPLO", _UPLO, "L")), _eigvalsh_size,
        _on_matrices())
declare("linalg.eig", Signature(_A), _eig_size, _on_matrices(weight=4.0))
declare("linalg.eigvals", Signature(_A), _eigvals_size, _on_matrices(weight=4.0))
declare("linalg.cholesky", Signature(_A, kw={"upper": BOOL}), _square_size, _on_matrices())
declare("linalg.svd", Signature(_A, ("full_matrices", BOOL, True), ("compute_uv", BOOL, True),
                                ("hermitian", BOOL, False)),
        _svd_size, _on_matrices(weight=2.0))
declare("linalg.svdvals", Signature(("x", ARRAY)), _svdvals_size,
        _on_matrices(_x, weight=2.0))
declare("linalg.qr", Signature(_A, ("mode", Choice("reduced", "complete", "r", "raw"),
                                    "reduced")),
        _qr_size, _on_matrices(weight=2.0))
declare("linalg.vector_norm",
        Signature(("x", ARRAY), kw={"axis": AXIS, "keepdims": BOOL, "ord": optional(FLOAT)}),
        sizing.reduced(0, "x", None, _norm_dtype), sizing.linear(4.0))
declare("linalg.matrix_norm",
        Signature(("x", ARRAY), kw={"keepdims": BOOL, "ord": _ORD}),
        _matrix_norm_size, _matrix_norm_cost)
declare("linalg.norm", Signature(("x", ARRAY), ("ord", _ORD, None), ("axis", AXIS, None),
                                 ("keepdims", BOOL, False)),
        _norm_size, _norm_cost)
declare("linalg.matrix_power", Signature(_A, ("n", INT)), _matrix_power_size,
        _matrix_power_cost)
declare("linalg.multi_dot", Signature(("arrays", ARRAYS)), _multi_dot_size, _multi_dot_cost)
declare("linalg.tensorinv", Signature(_A, ("ind", NONNEG, 2)), _tensorinv_size,
        _tensorinv_cost)
declare("linalg.tensorsolve", Signature(_A, ("b", ARRAY), ("axes", optional(ListOf(AXIS1)),
                                                           None)),
        _tensorsolve_size, _tensorsolve_cost)
