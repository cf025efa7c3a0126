"""Cases for the contractions beyond the foundation's (tensordot, matmul and dot stay in core).

Every product here is smooth everywhere, so inputs are plain normal draws; complex cases
follow autograd's convention (see test_ops_gradcheck._pairing).
"""
from .case import Case, normal, complex_normal


def _einsum(subscripts, *operands, kwargs=None, oracle=True, label):
    return Case((subscripts,) + operands, kwargs or {}, diff=tuple(range(1, len(operands) + 1)),
                oracle=oracle, label=label)


CASES = {
    "inner": [
        Case((normal(3), normal(3)), diff=(0, 1), label="1d_1d"),
        Case((normal(2, 3), normal(4, 3)), diff=(0, 1), label="2d_2d"),
        Case((normal(2, 2, 3), normal(3)), diff=(0, 1), label="3d_1d"),
        Case((normal(), normal(2, 3)), diff=(0, 1), label="0d"),
        Case((complex_normal(2, 3), complex_normal(3)), diff=(0, 1), label="complex"),
        # autograd's inner gives the real operand a complex cotangent; ours is its real part.
        Case((normal(2, 3), complex_normal(3)), diff=(0, 1), oracle=False,
             label="real_with_complex"),
    ],
    "outer": [
        Case((normal(3), normal(4)), diff=(0, 1), label="1d_1d"),
        # autograd's outer hands back flattened cotangents: no oracle for a non-1-d operand.
        Case((normal(2, 2), normal(3)), diff=(0, 1), oracle=False, label="flattens"),
        Case((normal(), normal(3)), diff=(0, 1), oracle=False, label="0d"),
        Case((complex_normal(3), normal(2)), diff=(0, 1), label="complex_real"),
    ],
    "vdot": [
        # autograd has no rule for vdot: finite differences are the only oracle here.
        Case((normal(4), normal(4)), diff=(0, 1), label="1d"),
        Case((normal(2, 3), normal(3, 2)), diff=(0, 1), label="flattens"),
        Case((complex_normal(3), complex_normal(3)), diff=(0, 1), label="complex_conjugates_a"),
        Case((complex_normal(2, 2), normal(4)), diff=(0, 1), label="complex_a_real_b"),
    ],
    "einsum": [
        _einsum("ij,jk->ik", normal(2, 3), normal(3, 4), label="matmul"),
        _einsum("ij,jk", normal(2, 3), normal(3, 2), label="implicit"),
        _einsum("Ab,bC", normal(2, 3), normal(3, 2), label="implicit_capitals_first"),
        _einsum("ji", normal(2, 3), label="implicit_transpose"),
        # autograd's einsum VJP writes the repeated letter into its output: it fails on these.
        _einsum("ii", normal(3, 3), oracle=False, label="trace"),
        _einsum("ii->i", normal(3, 3), oracle=False, label="diagonal"),
        _einsum("iij->ji", normal(2, 2, 3), oracle=False, label="diagonal_and_free"),
        _einsum("ij->", normal(3, 4), label="sum_all"),
        _einsum("ij->j", normal(3, 4), label="sum_rows"),
        _einsum("i,i,i->", normal(4), normal(4), normal(4), label="three_operands"),
        _einsum("ij,jk,kl->il", normal(2, 3), normal(3, 2), normal(2, 2),
                kwargs={"optimize": True}, label="optimize"),
        _einsum("bi,bj->bij", normal(2, 3), normal(2, 2), label="batched_outer"),
        _einsum("...ij,...jk->...ik", normal(2, 1, 2, 3), normal(3, 3, 2),
                label="ellipsis_broadcast"),
        _einsum("...ii->...i", normal(2, 3, 3), oracle=False, label="ellipsis_diagonal"),
        _einsum("i...,i", normal(3, 2, 2), normal(3), label="ellipsis_implicit"),
        _einsum("ij,ij->ij", normal(1, 3), normal(2, 3), label="size1_broadcast"),
        _einsum(",ij->ij", normal(), normal(2, 3), label="0d_operand"),
        _einsum("ij,jk->ik", complex_normal(2, 3), complex_normal(3, 2), label="complex"),
        _einsum("ij,j->i", normal(2, 3), complex_normal(3), label="real_with_complex"),
    ],
    "kron": [
        Case((normal(2, 2), normal(2, 3)), diff=(0, 1), label="2d_2d"),
        Case((normal(3), normal(2)), diff=(0, 1), label="1d_1d"),
        Case((normal(2), normal(2, 3)), diff=(0, 1), label="1d_2d"),
        Case((normal(), normal(3)), diff=(0, 1), label="0d"),
        Case((complex_normal(2), complex_normal(2, 2)), diff=(0, 1), label="complex"),
    ],
    "cross": [
        Case((normal(3), normal(3)), diff=(0, 1), label="3d"),
        # autograd's cross rule does not sum a broadcast operand's cotangent back.
        Case((normal(4, 3), normal(3)), diff=(0, 1), oracle=False, label="broadcast"),
        Case((normal(3, 2), normal(2, 3)), {"axisa": 0, "axisc": 0}, diff=(0, 1),
             label="axisa_axisc"),
        Case((normal(3, 2), normal(3, 2)), {"axis": 0}, diff=(0, 1), label="axis"),
        # Arrays of 2-vectors (deprecated by numpy 2, still computed): autograd's cross
        # rule fails on two of them and gives a 2-vector a 3-component cotangent.
        Case((normal(2), normal(2)), diff=(0, 1), oracle=False, label="2d_2d"),
        Case((normal(4, 2), normal(4, 2)), diff=(0, 1), oracle=False, label="2d_2d_batched"),
        Case((normal(2), normal(3)), diff=(0, 1), oracle=False, label="2d_3d"),
        Case((complex_normal(3), complex_normal(3)), diff=(0, 1), label="complex"),
    ],
}


# --- 1-d convolution: every mode, both length orders (numpy centres 'same' on the shorter
# operand; even lengths are where correlate's window differs from convolve's) -------------
def _conv_cases(zero_d=False):
    cases = [Case((normal(), normal(3)), {"mode": "same"}, diff=(0, 1), label="0d")] \
        if zero_d else []
    for n_a, n_v in [(5, 3), (2, 4), (4, 4)]:
        for mode in ["full", "same", "valid"]:
            cases.append(Case((normal(n_a), normal(n_v)), {"mode": mode}, diff=(0, 1),
                              label=f"{n_a}_{n_v}_{mode}"))
    return cases + [
        Case((normal(4), normal(3)), diff=(0, 1), label="default_mode"),
        Case((complex_normal(4), complex_normal(3)), {"mode": "same"}, diff=(0, 1),
             label="complex"),
        Case((normal(4), complex_normal(2)), diff=(0, 1), label="real_with_complex"),
    ]


CASES["convolve"] = _conv_cases(zero_d=True)  # numpy.correlate rejects 0-d input
CASES["correlate"] = _conv_cases()


def autograd_equivalents():
    """op name -> autograd's function, for the ops autograd differentiates."""
    import autograd.numpy as anp
    return {name: getattr(anp, name) for name in ["inner", "outer", "einsum", "kron", "cross"]}
