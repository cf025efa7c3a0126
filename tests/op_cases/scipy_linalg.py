"""Cases for scipy.linalg: well-conditioned matrices (diagonals pushed away from zero, so
solves, square roots and logarithms stay away from singular and branch-cut ground), real
and complex, single matrices and stacks.

autograd serves as oracle for sqrtm, solve_sylvester, solve_triangular and solve_banded
(and its numpy.linalg det and inv for scipy's), except where noted: its scipy rules use
2-d transposes and dots (no stacks), give real parts for complex inputs (sqrtm), and
cannot handle complex matrices in solve_triangular (they ask scipy for trans="H") nor
unit_diagonal (their cotangent keeps the diagonal).
"""
import numpy as np

from .case import Case, normal, complex_normal


def _shifted(*shape, shift=2.0, make=normal):
    """``make(*shape)`` scaled down, plus shift times the identity (eigenvalues near it)."""
    return 0.3 * make(*shape) + shift * np.eye(shape[-1])


def _cshifted(*shape, shift=2.0):
    return _shifted(*shape, shift=shift, make=complex_normal)


def _rotation_like(n=3):
    """A real matrix with complex eigenvalues 2 +- 0.5i (and 1.5 for n = 3), whose square
    root and logarithm are real."""
    return np.array([[2.0, 0.5, 0.1], [-0.5, 2.0, 0.2], [0.0, 0.1, 1.5]])[:n, :n]


CASES = {
    "scipy.linalg.solve_sylvester": [
        Case((_shifted(3, 3), _shifted(2, 2, shift=1.0), normal(3, 2)), diff=(0, 1, 2),
             label="real"),
        Case((_cshifted(2, 2), _cshifted(3, 3), complex_normal(2, 3)), diff=(0, 1, 2),
             label="complex"),
        # scipy's own answer is wrong for a real a with complex eigenvalues and a complex
        # q (see the op), and autograd calls scipy
        Case((_rotation_like(2), _shifted(2, 2), complex_normal(2, 2)), diff=(0, 1, 2),
             oracle=False, label="real_ab_complex_q"),
        Case((_shifted(2, 2, 2), _shifted(2, 2), normal(2, 2, 2)), diff=(0, 1, 2),
             oracle=False, label="stack"),
    ],
    "scipy.linalg.sqrtm": [
        Case((_shifted(3, 3),), label="real"),
        Case((_rotation_like(),), label="complex_eigenvalues"),
        Case((_cshifted(3, 3),), oracle=False, label="complex"),  # autograd: real part
        Case((_shifted(2, 2, 2),), oracle=False, label="stack"),
        Case((np.array([[1.7]]),), label="1x1"),
    ],
    "scipy.linalg.expm": [
        Case((0.5 * normal(3, 3),), label="real"),
        Case((0.5 * complex_normal(2, 2),), label="complex"),
        Case((0.5 * normal(2, 2, 2),), label="stack"),
        Case((np.array([[0.4]]),), label="1x1"),
    ],
    # scipy's logm takes milliseconds even for small matrices (and its rules take it of
    # matrices twice and four times as large): 2x2 only.
    "scipy.linalg.logm": [
        Case((_shifted(2, 2),), label="real"),
        Case((_rotation_like(2),), label="complex_eigenvalues"),
        Case((_cshifted(2, 2),), label="complex"),
        Case((_shifted(2, 2, 2),), label="stack"),
    ],
}


def _triangular_cases():
    a, ac = _shifted(3, 3), _cshifted(3, 3)
    junk = 5.0 * normal(3, 3)  # entries outside the triangle, which the solve never reads
    lower = np.tril(a) + np.triu(junk, 1)
    return [
        Case((a, normal(3)), diff=(0, 1), label="upper_vector"),
        Case((lower, normal(3, 2)), {"lower": True}, diff=(0, 1), label="lower_junk"),
        Case((a, normal(3, 2)), {"trans": 1}, diff=(0, 1), label="trans_T"),
        Case((lower, normal(3)), {"trans": "C", "lower": True}, diff=(0, 1),
             label="trans_C_real"),
        Case((a + junk * np.eye(3), normal(3, 2)), {"unit_diagonal": True}, diff=(0, 1),
             oracle=False, label="unit_diagonal"),
        Case((ac, complex_normal(3, 2)), {"lower": True}, diff=(0, 1), oracle=False,
             label="complex"),
        Case((ac, complex_normal(3)), {"trans": "T"}, diff=(0, 1), oracle=False,
             label="complex_trans_T"),
        Case((ac, complex_normal(3, 2)), {"trans": 2, "lower": True}, diff=(0, 1),
             oracle=False, label="complex_trans_C"),
        Case((ac, normal(3)), {"trans": "C"}, diff=(0, 1), oracle=False,
             label="complex_a_real_b"),
        Case((_shifted(2, 3, 3), normal(3)), {"lower": True}, diff=(0, 1), oracle=False,
             label="stack_vector"),
        Case((_shifted(3, 3), normal(2, 3, 1)), {"trans": "T"}, diff=(0, 1), oracle=False,
             label="stacked_b"),
    ]


CASES["scipy.linalg.solve_triangular"] = _triangular_cases()


def _band(l, u, n, make=normal):
    """Banded storage of a diagonally dominant matrix; the corners of ab that stand for no
    entry of the matrix hold random values too, which the solve must not read."""
    ab = 0.5 * make(l + u + 1, n)
    ab[u] += 3.0
    return ab


CASES["scipy.linalg.solve_banded"] = [
    Case(((1, 1), _band(1, 1, 4), normal(4)), diff=(1, 2), label="tridiagonal"),
    # autograd ravels a matrix b, so its band cotangent has the wrong shape
    Case(((2, 1), _band(2, 1, 4), normal(4, 2)), diff=(1, 2), oracle=False,
         label="l2_u1_matrix"),
    Case(((0, 2), _band(0, 2, 4), normal(4)), diff=(1, 2), label="upper"),
    Case(((1, 0), _band(1, 0, 3, complex_normal), complex_normal(3)), diff=(1, 2),
         label="complex"),
    # autograd: 2-d only; it gives a real band a complex cotangent
    Case(((1, 1), _band(1, 1, 3), complex_normal(3, 2)), diff=(1, 2), oracle=False,
         label="real_band_complex_b"),
    Case(((1, 1), _band(1, 1, 3), normal(2, 3, 1)), diff=(1, 2), oracle=False,
         label="stacked_b"),
    Case(((1, 2), 0.5 * normal(2, 4, 4) + 3.0 * (np.arange(4)[:, None] == 2),
          normal(4, 1)), diff=(1, 2), oracle=False, label="stacked_band"),
]


def _spd(n, make=normal):
    """A Hermitian positive definite matrix."""
    m = make(n, n)
    return m @ m.conj().T / n + np.eye(n)


def _with_junk(a, lower):
    """``a`` with random values in the triangle that a Cholesky routine does not read."""
    junk = 5.0 * normal(*a.shape)
    return np.where(np.tri(a.shape[-1], k=-1, dtype=bool).T if lower else
                    np.tri(a.shape[-1], k=-1, dtype=bool), junk, a)


def _factor_only(op, args, kwargs):
    """cho_factor's factor: the flag it also returns is not differentiable."""
    return op(*args, **kwargs)[0]


def _packed(op, args, kwargs):
    """cho_solve((c, lower), b), with c, lower and b passed as three arguments."""
    c, lower, b = args
    return op((c, lower), b, **kwargs)


def _factors():
    a, ac = _spd(3), _spd(3, complex_normal)
    return a, ac, np.linalg.cholesky(a), np.linalg.cholesky(ac)


_A, _AC, _L, _LC = _factors()
CASES.update({
    "scipy.linalg.cholesky": [
        Case((_with_junk(_A, True),), {"lower": True}, label="lower"),
        Case((_with_junk(_A, False),), label="upper"),
        Case((_with_junk(_AC, True) + 0.3j * np.eye(3),), {"lower": True},
             label="complex_lower"),  # the diagonal's imaginary part is not read
        Case((_with_junk(_AC, False),), label="complex_upper"),
        Case((np.stack([_spd(2), _spd(2)]),), {"lower": True}, label="stack"),
    ],
    "scipy.linalg.cho_factor": [
        Case((_with_junk(_A, True),), {"lower": True}, form=_factor_only, label="lower"),
        Case((_AC,), form=_factor_only, label="complex_upper"),
    ],
    "scipy.linalg.cho_solve": [
        Case((_with_junk(_L, True), True, normal(3)), diff=(0, 2), form=_packed,
             label="lower_vector"),
        Case((_with_junk(_L.T, False), False, normal(3, 2)), diff=(0, 2), form=_packed,
             label="upper_matrix"),
        Case((_LC, True, complex_normal(3, 2)), diff=(0, 2), form=_packed,
             label="complex_lower"),
        Case((_LC.conj().T, False, normal(3)), diff=(0, 2), form=_packed,
             label="complex_upper_real_b"),
    ],
})

CASES.update({
    "scipy.linalg.det": [
        Case((_shifted(3, 3, shift=1.0),), label="real"),
        Case((_cshifted(2, 2, shift=1.0),), label="complex"),
        Case((_shifted(2, 2, 2, shift=1.0),), label="stack"),
    ],
    "scipy.linalg.inv": [
        Case((_shifted(3, 3),), label="real"),
        Case((_cshifted(2, 2),), label="complex"),
        Case((_shifted(2, 2, 2),), {"assume_a": "general"}, label="stack_general"),
    ],
})


def autograd_equivalents():
    """autograd.scipy.linalg's rules, and numpy.linalg's for det and inv."""
    import autograd.numpy as anp
    import autograd.scipy.linalg as asl

    table = {f"scipy.linalg.{name}": getattr(asl, name)
             for name in ["sqrtm", "solve_sylvester", "solve_triangular", "solve_banded"]}
    table["scipy.linalg.det"] = anp.linalg.det
    table["scipy.linalg.inv"] = lambda a, assume_a=None: anp.linalg.inv(a)
    return table
