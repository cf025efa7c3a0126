"""Cases for scipy.signal.convolve (autograd's generalized signature): every mode with
either operand the longer, several dimensions, axes and dot_axes, and complex operands."""
from .case import Case, normal, complex_normal


def _modes(a_shape, b_shape, label):
    return [Case((normal(*a_shape), normal(*b_shape)), {"mode": mode}, diff=(0, 1),
                 label=f"{label}_{mode}") for mode in ("full", "same", "valid")]


CASES = {
    "scipy.signal.convolve": (
        _modes((5,), (3,), "1d")
        + _modes((3,), (5,), "1d_b_longer")
        + _modes((3, 4), (2, 3), "2d")
        + _modes((2, 3), (3, 3), "2d_b_larger")
        + [
            # batch (free) axes on both sides: each row of A with each row of B
            Case((normal(2, 5), normal(3, 4)), {"axes": ([1], [1])}, diff=(0, 1),
                 label="free_axes"),
            Case((normal(2, 5), normal(3, 2)), {"axes": ([1], [0]), "mode": "same"},
                 diff=(0, 1), label="free_axes_same"),
            # with axes=None, B's extra axes are free
            Case((normal(3), normal(3, 2)), diff=(0, 1), label="b_extra_axis"),
            # nothing convolved: an outer product
            Case((normal(), normal(3)), {"axes": ([], [])}, diff=(0, 1), label="0d_outer"),
            # channels summed over, as in a convolutional layer
            Case((normal(2, 4), normal(3, 2, 2)),
                 {"axes": ([1], [2]), "dot_axes": ([0], [1]), "mode": "valid"},
                 diff=(0, 1), label="dot_axes"),
            # autograd lays A's cotangent out as if dot_axes were paired in increasing
            # order, so it gives the wrong shape here.
            Case((normal(2, 3, 2), normal(3, 2, 2)), {"axes": ([2], [2]),
                                                      "dot_axes": ([0, 1], [1, 0])},
                 diff=(0, 1), oracle=False, label="dot_axes_crossed"),
            # autograd gives the real operand a complex cotangent (not its real part).
            Case((complex_normal(4), normal(3)), diff=(0, 1), oracle=False,
                 label="complex_real"),
            Case((complex_normal(2, 2), complex_normal(2, 3)), {"mode": "same"},
                 diff=(0, 1), label="complex_same"),
        ]
    ),
}


def autograd_equivalents():
    import autograd.scipy.signal as asig

    return {"scipy.signal.convolve": asig.convolve}
