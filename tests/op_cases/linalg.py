"""Cases for numpy.linalg (adserver/ops/linalg.py).

Inputs are built to be well-conditioned: invertible matrices are a random one plus 3 I,
positive definite ones B B^T + n I, and matrices whose eigenvalues or singular values
matter are made from them (V diag(w) V^-1, U diag(s) V^T) with values at least 0.7 apart,
so that finite differences of eigenvectors and singular vectors are meaningful.

Eigenvectors and singular vectors are unique only up to sign (eig's complex ones up to a
phase). Cases for them go through forms that do not see that choice: v * v for real
vectors, |v|^2 and v / v[0] (each column over its first entry) for complex ones, the
products u_k v_k^T for singular vectors. The forms join a tuple answer into one array, so
that autograd can serve as the oracle, and leaving an output out of the join checks the
None cotangent of an unused output. The _items_case cases (and qr's, which autograd
lacks) check raw tuple answers, whose tuple cotangents the autograd check cannot take.
"""
import numpy as np

from adserver.engine.tracer import Primitive
from adserver.engine.tuples import tuple_item
from adserver.ops import OPS

from .case import Case, normal, complex_normal, as_list, rng


# --- inputs -------------------------------------------------------------------------------
def _invertible(n, *batch):
    return normal(*batch, n, n) + 3 * np.eye(n)


def _complex_invertible(n):
    return complex_normal(n, n) + 3 * np.eye(n)


def _spd(n, *batch):
    b = normal(*batch, n, n)
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def _orthonormal(m, n, *batch):
    return np.linalg.qr(normal(*batch, m, n))[0]


def _symmetric(w, *batch):
    """A symmetric matrix with eigenvalues w (distinct, so its eigenvectors are smooth)."""
    q = _orthonormal(len(w), len(w), *batch)
    return q * np.asarray(w, float) @ np.swapaxes(q, -1, -2)


def _similar(d, *batch):
    """V d V^-1 for a well-conditioned random V: a general matrix with d's eigenvalues."""
    v = _invertible(d.shape[-1], *batch)
    return v @ d @ np.linalg.inv(v)


def _complex_eigenvalues():
    """A real 3x3 matrix with eigenvalues 1 +- 2i and -1.5."""
    return _similar(np.array([[1.0, -2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, -1.5]]))


def _with_singular_values(s, m, n, *batch):
    k = len(s)
    u, v = _orthonormal(m, k, *batch), _orthonormal(n, k, *batch)
    return u * np.asarray(s, float) @ np.swapaxes(v, -1, -2)


# --- forms: the same code for our ops and autograd's --------------------------------------
def _library(op):
    """(item, join, real, transpose) from adserver for our ops, from autograd for its."""
    if isinstance(op, Primitive):
        def join(parts):
            return OPS["concatenate"]([OPS["reshape"](p, (-1,)) for p in parts])
        return tuple_item, join, OPS["real"], lambda x: OPS["swapaxes"](x, -1, -2)
    import autograd.numpy as anp

    def join(parts):
        return anp.concatenate([anp.ravel(p) for p in parts])
    return (lambda out, i: out[i]), join, anp.real, lambda x: anp.swapaxes(x, -1, -2)


def _picking(*pick):
    """A form: the op's tuple answer reduced by ``pick`` (one function of (output, real) per
    output, or None to leave that output out), flattened and joined into one array."""
    def form(op, args, kwargs):
        item, join, real, _ = _library(op)
        out = op(*args, **kwargs)
        return join([f(item(out, i), real) for i, f in enumerate(pick) if f is not None])
    return form


def _same(x, real):
    return x


def _square(v, real):
    """v * v: blind to each real vector's sign."""
    return v * v


def _abs2(v, real):
    """|v|^2 = Re(v)^2 + Re(-i v)^2: blind to each complex vector's phase."""
    return real(v) ** 2 + real(-1j * v) ** 2


def _ratio(v, real):
    """Each column over its first entry: blind to any complex scale of the column."""
    return v / v[..., :1, :]


def _symmetrized(op, args, kwargs):
    """The op of (a + a^T) / 2, where our gradient (of the triangle LAPACK reads) and
    autograd's (for symmetric perturbations) must agree."""
    *_, transpose = _library(op)
    a = args[0]
    return op((a + transpose(a)) / 2, *args[1:], **kwargs)


def _top_component(op, args, kwargs):
    """u_1 s_1 v_1^T, the best rank-1 approximation: blind to the pair's shared sign."""
    item, _, _, _ = _library(op)
    out = op(*args, **kwargs)
    u, s, vh = item(out, 0), item(out, 1), item(out, 2)
    return u[..., :, :1] * s[..., :1, None] * vh[..., :1, :]


EIGEN = _picking(_same, _square)           # (w, v * v)


def _items_case(args, kwargs=None, **kw):
    """A case on the raw tuple answer (the autograd check cannot take a tuple cotangent)."""
    return Case(args, kwargs or {}, oracle=False, **kw)


# --- determinants, inverse, solve ---------------------------------------------------------
CASES = {
    "linalg.det": [
        Case((_invertible(3),), label="3x3"),
        Case((_invertible(2, 2),), label="batched"),
        Case((normal(1, 1) + 2,), label="1x1"),
        Case((_complex_invertible(2),), label="complex"),
    ],
    "linalg.slogdet": [
        _items_case((_invertible(3),), label="tuple"),
        _items_case((-_spd(2),), label="tuple_negative_det"),
        Case((_invertible(3, 2),), form=_picking(None, _same), label="logdet_batched"),
        # autograd's slogdet leaves out the complex sign's own gradient.
        _items_case((_complex_invertible(2),), label="complex_tuple"),
        Case((_complex_invertible(3),), form=_picking(None, _same), label="complex_logdet"),
    ],
    "linalg.inv": [
        Case((_invertible(3),), label="3x3"),
        Case((_invertible(2, 2),), label="batched"),
        Case((_complex_invertible(2),), label="complex"),
    ],
    "linalg.solve": [
        Case((_invertible(3), normal(3)), diff=(0, 1), label="vector"),
        Case((_invertible(3), normal(3, 2)), diff=(0, 1), label="matrix"),
        Case((_invertible(3, 2), normal(2, 3, 2)), diff=(0, 1), label="batched"),
        # A 1-d b against stacked matrices (numpy 2 reads only a 1-d b as a vector), and a
        # stack of b against one matrix: autograd's rule predates those rules.
        Case((_invertible(2, 3), normal(2)), diff=(0, 1), oracle=False, label="batched_vector"),
        Case((_invertible(2), normal(3, 2, 1)), diff=(0, 1), oracle=False,
             label="broadcast_a"),
        Case((_complex_invertible(2), complex_normal(2)), diff=(0, 1), label="complex"),
    ],
    "linalg.pinv": [
        Case((normal(4, 2),), label="tall"),
        Case((normal(2, 3),), label="wide"),
        Case((_invertible(3),), label="square"),
        Case((normal(2, 3, 2),), label="batched"),
        # autograd's pinv rule takes no rcond.
        Case((normal(3, 2),), {"rcond": 1e-10}, oracle=False, label="rcond"),
        # hermitian=True reads the lower triangle only; autograd's rule does not know that.
        Case((_symmetric([2.0, -1.0, 3.5]),), {"hermitian": True}, oracle=False,
             label="hermitian"),
    ],
    "linalg.lstsq": [
        _items_case((normal(4, 2), normal(4)), diff=(0, 1), label="tall_vector"),
        _items_case((normal(4, 2), normal(4, 2)), diff=(0, 1), label="tall_matrix"),
        _items_case((_invertible(3), normal(3)), diff=(0, 1), label="square_no_residuals"),
        _items_case((normal(2, 4), normal(2)), diff=(0, 1), label="wide_min_norm"),
        _items_case((normal(4, 3), normal(4)), {"rcond": None}, diff=(0, 1), label="rcond"),
        _items_case((normal(4, 2), normal(4)), diff=(0, 1), form=_picking(_same),
                    label="solution_only"),
    ],
}


# --- norms --------------------------------------------------------------------------------
def _separated(*shape):
    """Entries at least 0.5 from zero with distinct magnitudes (no ties for the inf-norms)."""
    size = int(np.prod(shape))
    magnitudes = 0.5 + 0.3 * rng.permutation(size) + 0.1 * rng.random(size)
    return (rng.choice([-1.0, 1.0], size) * magnitudes).reshape(shape)


# autograd's norm knows only the 2-norm, p > 1 and 'fro'/'nuc', without keepdims, and
# gives NaN at zero: elsewhere finite differences are the oracle.
CASES["linalg.norm"] = [
    Case((normal(4),), label="vector"),
    Case((normal(2, 3),), label="all_elements"),
    Case((normal(2, 3),), {"axis": 1}, label="axis"),
    Case((normal(2, 3),), {"axis": 0, "keepdims": True}, oracle=False, label="axis_keepdims"),
    Case((_separated(4),), {"ord": 1}, oracle=False, label="ord1"),
    Case((_separated(4),), {"ord": 3}, label="ord3"),
    Case((_separated(4),), {"ord": 0.5}, oracle=False, label="ord_half"),
    Case((_separated(4),), {"ord": -2}, oracle=False, label="ord_negative"),
    Case((_separated(4),), {"ord": np.inf}, oracle=False, label="ord_inf"),
    Case((_separated(4),), {"ord": -np.inf}, oracle=False, label="ord_minus_inf"),
    Case((_separated(4),), {"ord": 0}, oracle=False, label="ord0_count"),
    # Acceptance: the 2-norm at the zero vector has the finite subgradient 0 (autograd's
    # is NaN). The derivative jumps there, so first order only.
    Case((np.zeros(3),), oracle=False, second_order=False, label="zero_vector"),
    Case((np.zeros((2, 3)),), {"axis": 1}, oracle=False, second_order=False,
         label="zero_rows"),
    Case((_separated(3, 4),), {"ord": "fro"}, label="fro"),
    Case((_with_singular_values([3.0, 2.0, 0.8], 3, 4),), {"ord": "nuc"}, label="nuc"),
    Case((_with_singular_values([3.0, 2.0, 0.8], 4, 3),), {"ord": 2}, oracle=False,
         label="matrix2"),
    Case((_with_singular_values([3.0, 2.0, 0.8], 3, 3),), {"ord": -2}, oracle=False,
         label="matrix_minus2"),
    Case((_separated(3, 4),), {"ord": 1}, oracle=False, label="matrix1"),
    Case((_separated(3, 4),), {"ord": -1}, oracle=False, label="matrix_minus1"),
    Case((_separated(3, 4),), {"ord": np.inf}, oracle=False, label="matrix_inf"),
    Case((_separated(3, 4),), {"ord": -np.inf}, oracle=False, label="matrix_minus_inf"),
    Case((_separated(2, 2, 3),), {"axis": (2, 0), "ord": 1, "keepdims": True}, oracle=False,
         label="matrix_axes_keepdims"),
    Case((np.zeros((2, 2)),), {"ord": "fro"}, oracle=False, second_order=False,
         label="zero_matrix"),
    Case((complex_normal(3),), label="complex"),
    Case((complex_normal(2, 2),), {"ord": "fro"}, label="complex_fro"),
]
CASES["linalg.vector_norm"] = [
    Case((normal(4),), label="default"),
    Case((normal(2, 3),), {"axis": (0, 1), "keepdims": True}, label="axes_keepdims"),
    Case((normal(2, 2, 3),), {"axis": -1}, label="axis"),
    Case((_separated(2, 3),), {"ord": np.inf, "axis": 0}, label="inf"),
    Case((_separated(4),), {"ord": 1.5}, label="p"),
    Case((normal(3),), {"ord": None}, label="ord_None"),
    Case((np.zeros(3),), second_order=False, label="zero_vector"),
    Case((complex_normal(2, 2),), {"axis": 1}, label="complex"),
]
CASES["linalg.matrix_norm"] = [
    Case((normal(3, 4),), label="fro_default"),
    Case((_with_singular_values([2.5, 1.0], 2, 3, 2),), {"ord": "nuc"}, label="nuc_batched"),
    Case((_with_singular_values([2.5, 1.0], 3, 2),), {"ord": 2, "keepdims": True},
         label="2_keepdims"),
    Case((_separated(2, 2, 3),), {"ord": -np.inf}, label="minus_inf_batched"),
    Case((np.zeros((2, 2)),), second_order=False, label="zero_matrix"),
]


# --- eigenproblems ------------------------------------------------------------------------
CASES["linalg.eigh"] = [
    Case((_symmetric([-1.0, 0.5, 2.0]),), form=EIGEN, label="3x3"),
    Case((_symmetric([0.3, 1.5, 3.0], 2),), form=EIGEN, label="batched"),
    Case((_symmetric([1.0, 2.0, 4.0]),), {"UPLO": "U"}, form=EIGEN, label="upper"),
    # Only the lower triangle is read: an asymmetric input is the matrix it mirrors.
    Case((np.tril(_symmetric([1.0, -0.5, 2.5])) + np.triu(normal(3, 3), 1),), form=EIGEN,
         label="reads_lower_triangle"),
    Case((_symmetric([-1.0, 0.5, 2.0]),), form=_picking(_same), label="values_only"),
    Case((_symmetric([-1.0, 0.5, 2.0]),), form=_picking(None, _square), label="vectors_only"),
]
CASES["linalg.eigvalsh"] = [
    Case((_symmetric([-1.0, 0.5, 2.0]),), label="3x3"),
    Case((_symmetric([0.3, 1.5, 3.0], 2),), label="batched"),
    Case((np.triu(_symmetric([1.0, -0.5, 2.5])) + np.tril(normal(3, 3), -1), "U"),
         label="reads_upper_triangle"),
]
CASES["linalg.eig"] = [
    Case((_similar(np.diag([-1.0, 0.5, 2.0])),), form=EIGEN, label="real_eigenvalues"),
    Case((_similar(np.diag([0.5, 1.5]), 2),), form=EIGEN, label="batched"),
    Case((_complex_eigenvalues(),), form=_picking(_same, _abs2), label="complex_abs2"),
    Case((_complex_eigenvalues(),), form=_picking(None, _ratio), label="complex_ratio"),
    Case((_complex_eigenvalues(),), form=_picking(_same), label="values_only"),
    Case((_similar(np.diag([1.0, -1.0 + 1j, 2.0j])) + 0j,), form=_picking(_same, _ratio),
         label="complex_input"),
]
CASES["linalg.eigvals"] = [
    Case((_similar(np.diag([-1.0, 0.5, 2.0])),), label="real"),
    Case((_complex_eigenvalues(),), label="complex_eigenvalues"),
    Case((_similar(np.diag([0.5, 1.5]), 2),), label="batched"),
    Case((_similar(np.diag([1.0, -1.0 + 1j])) + 0j,), label="complex_input"),
]


# --- Cholesky, SVD, QR --------------------------------------------------------------------
CASES["linalg.cholesky"] = [
    # Only the lower triangle is read; autograd's rule assumes the perturbation stays
    # symmetric, so it is the oracle through a symmetrizing form only.
    Case((_spd(3),), oracle=False, label="3x3"),
    Case((_spd(3),), form=_symmetrized, label="symmetrized"),
    Case((_spd(2, 2),), oracle=False, label="batched"),
    Case((_spd(3),), {"upper": True}, oracle=False, label="upper"),
]

SVD = _picking(_square, _same, _square)    # (u * u, s, vh * vh)
CASES["linalg.svd"] = [
    # autograd refuses full_matrices=True (the default) even for a square matrix.
    Case((_with_singular_values([3.0, 1.8, 0.6], 3, 3),), form=SVD, oracle=False,
         label="square"),
    Case((_with_singular_values([3.0, 1.8, 0.6], 4, 3),), {"full_matrices": False},
         form=SVD, label="tall"),
    Case((_with_singular_values([2.0, 0.9], 2, 3),), {"full_matrices": False}, form=SVD,
         label="wide"),
    Case((_with_singular_values([2.0, 0.9], 3, 2, 2),), {"full_matrices": False}, form=SVD,
         label="batched"),
    Case((_with_singular_values([3.0, 1.8, 0.6], 4, 3),), {"full_matrices": False},
         form=_top_component, label="top_component"),
    Case((_with_singular_values([3.0, 1.8, 0.6], 4, 3),), {"full_matrices": False},
         form=_picking(None, _same), label="values_only"),
    Case((_with_singular_values([2.0, 0.9], 2, 3),), {"compute_uv": False},
         label="compute_uv_false"),
    Case((_symmetric([2.5, -1.2, 0.4]),), {"compute_uv": False, "hermitian": True},
         oracle=False, label="values_hermitian"),
    # hermitian=True computes through eigh (the lower triangle); autograd's rule ignores it.
    Case((_symmetric([2.5, -1.2, 0.4]),), {"hermitian": True}, form=SVD, oracle=False,
         label="hermitian"),
]
CASES["linalg.svdvals"] = [
    Case((_with_singular_values([3.0, 1.8, 0.6], 4, 3),), label="tall"),
    Case((_with_singular_values([2.0, 0.9], 2, 3),), label="wide"),
    Case((_with_singular_values([2.0, 0.9], 2, 2, 2),), label="batched"),
]
# autograd has no qr rule. LAPACK's Householder signs stay fixed under small changes, so
# Q and R themselves are smooth and checked as they are.
CASES["linalg.qr"] = [
    Case((_invertible(3),), label="square"),
    Case((normal(4, 3) + np.eye(4, 3),), label="tall"),
    Case((_invertible(2) @ np.hstack([np.eye(2), normal(2, 1)]),), label="wide"),
    Case((normal(2, 3, 2) + np.eye(3, 2),), label="batched"),
    Case((normal(4, 3) + np.eye(4, 3),), {"mode": "r"}, label="mode_r"),
    Case((_invertible(2) @ np.hstack([np.eye(2), normal(2, 1)]),), {"mode": "complete"},
         label="complete_wide"),
    Case((_invertible(3),), form=_picking(None, _same), label="r_only"),
    Case((normal(4, 3) + np.eye(4, 3),), form=_picking(_same), label="q_only"),
]


# --- built from the others ----------------------------------------------------------------
CASES["linalg.matrix_power"] = [
    Case((normal(3, 3), 0), label="n0"),
    Case((normal(3, 3), 1), label="n1"),
    Case((normal(3, 3), 2), label="n2"),
    Case((normal(2, 2) / 2, 5), label="n5"),
    Case((_invertible(3), -1), label="inverse"),
    Case((_invertible(2, 2), -3), label="negative_batched"),
    Case((complex_normal(2, 2), 3), label="complex"),
]
CASES["linalg.multi_dot"] = [
    Case((normal(2, 3), normal(3, 2)), form=as_list, diff=(0, 1), label="two"),
    Case((normal(2, 3), normal(3, 4), normal(4, 1)), form=as_list, diff=(0, 1, 2),
         label="three"),
    Case((normal(3), normal(3, 2), normal(2, 4), normal(4)), form=as_list,
         diff=(0, 1, 2, 3), label="vector_ends"),
    Case((normal(1, 3), normal(3, 3), normal(3, 2), normal(2, 3)), form=as_list,
         diff=(0, 1, 2, 3), label="four"),
    Case((complex_normal(2, 2), complex_normal(2, 3), normal(3)), form=as_list,
         diff=(0, 1, 2), label="complex"),
]
CASES["linalg.tensorinv"] = [
    Case((_invertible(4).reshape(2, 2, 4),), label="ind2"),
    Case((_invertible(4).reshape(4, 2, 2),), {"ind": 1}, label="ind1"),
]
CASES["linalg.tensorsolve"] = [
    Case((_invertible(4).reshape(2, 2, 2, 2), normal(2, 2)), diff=(0, 1), label="square"),
    # axes=(0,) moves a's first axis to the end, where it is one of x's axes.
    Case((np.moveaxis(_invertible(4).reshape(4, 2, 2), 2, 0), normal(4)), {"axes": (0,)},
         diff=(0, 1), label="axes"),
]


def autograd_equivalents():
    """op name -> autograd's function, for the linalg ops autograd differentiates."""
    import autograd.numpy.linalg as alinalg
    names = ["det", "slogdet", "inv", "pinv", "solve", "norm", "eigh", "eig", "cholesky",
             "svd"]
    return {f"linalg.{name}": getattr(alinalg, name) for name in names}
