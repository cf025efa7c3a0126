"""Cases for the foundation ops: elementwise, reductions, shape, contractions.

``CASES`` maps each op name in ``adserver.ops.OPS`` to a list of ``Case``. The checker
fails for any registered op missing here, so a new op cannot land without a checked rule.

Inputs sit away from kinks and domain edges (finite differences are only meaningful on
smooth ground): log/sqrt/power bases are positive (except one power case at base 0 with
integer exponents, which is smooth there), tan stays inside (-1.2, 1.2), divisors and |x|
stay at least 0.5 from zero, and maximum/minimum operands are at least 0.2 apart except
in the cases that test ties on purpose (first order only: at a tie the central difference
is the balanced one-half the rules give, but the derivative jumps there).
"""
import numpy as np

from .case import Case, normal, uniform, away_from_zero, as_list, complex_normal

# --- elementwise, unary: a matrix and a 0-d value each ------------------------------------
def _unary(make):
    return [Case((make(3, 4),), label="3x4"), Case((make(),), label="0d")]


CASES = {
    "negative": _unary(normal),
    "exp": _unary(normal),
    "log": _unary(lambda *s: uniform(0.3, 3.0, *s)),
    "sin": _unary(normal),
    "cos": _unary(normal),
    "tan": _unary(lambda *s: uniform(-1.2, 1.2, *s)),
    "sinh": _unary(normal),
    "cosh": _unary(normal),
    "tanh": _unary(normal),
    "sqrt": _unary(lambda *s: uniform(0.3, 3.0, *s)),
    "absolute": _unary(away_from_zero),
    "abs": _unary(away_from_zero),
    "real": _unary(normal),
}


# --- elementwise, binary: same shape, broadcast one way, both ways, 0-d against array -----
def _binary(make_x, make_y=None):
    make_y = make_y or make_x
    return [
        Case((make_x(3, 4), make_y(3, 4)), diff=(0, 1), label="same"),
        Case((make_x(3, 4), make_y(4)), diff=(0, 1), label="bcast_y"),
        Case((make_x(2, 1, 3), make_y(4, 1)), diff=(0, 1), label="bcast_both"),
        Case((make_x(), make_y(3)), diff=(0, 1), label="0d_x"),
    ]


def _positive(*s):
    return uniform(0.5, 2.0, *s)


def _exponent(*s):
    return uniform(-1.5, 2.5, *s)


def _extremum_cases():
    x = normal(3, 4)
    y = x + away_from_zero(3, 4, gap=0.2)
    xb, yb = normal(3, 4), normal(4)
    # Move x away from the broadcast y by at least 0.2 (either side).
    xb = yb + np.where(xb - yb >= 0, 1.0, -1.0) * (0.2 + np.abs(xb - yb))
    tie_x = normal(3, 4)
    tie_y = tie_x.copy()
    tie_y[:, 1::2] += away_from_zero(3, 2, gap=0.2)  # ties in columns 0 and 2
    tie_bx = normal(3, 4)
    tie_by = tie_bx[1].copy()  # broadcast y ties with row 1 of x only
    tie_bx[[0, 2]] = tie_by + away_from_zero(2, 4, gap=0.2)
    return [
        Case((x, y), diff=(0, 1), label="separated"),
        Case((xb, yb), diff=(0, 1), label="bcast_y"),
        Case((np.float64(0.3), away_from_zero(4, gap=0.2) + 0.3), diff=(0, 1), label="0d_x"),
        Case((tie_x, tie_y), diff=(0, 1), second_order=False, label="ties"),
        Case((tie_bx, tie_by), diff=(0, 1), second_order=False, label="ties_bcast"),
    ]


CASES.update({
    "add": _binary(normal),
    "subtract": _binary(normal),
    "multiply": _binary(normal),
    "divide": _binary(normal, away_from_zero),
    "true_divide": _binary(normal, away_from_zero),
    "power": _binary(_positive, _exponent) + [
        Case((_positive(3, 4), 3.0), diff=(0,), label="const_exponent"),
        Case((2.0, _exponent(3, 4)), diff=(1,), label="const_base"),
        # A polynomial's terms at 0: x ** 0 must have slope 0 there, not nan.
        Case((np.float64(0.0), np.arange(4.0)), diff=(0,), label="zero_base_int_exponents"),
    ],
    "maximum": _extremum_cases(),
    "minimum": _extremum_cases(),
    "where": [
        Case((normal(3, 4) > 0, normal(3, 4), normal(3, 4)), diff=(1, 2), label="same"),
        # autograd's where rules do not unbroadcast, so it cannot check the next two.
        Case((normal(3, 4) > 0, normal(4), normal(3, 1)), diff=(1, 2), oracle=False,
             label="bcast"),
        Case((normal(4) > 0, normal(3, 4), np.float64(0.7)), diff=(1, 2), oracle=False,
             label="0d_y"),
    ],
})


# --- zero gradient: box the listed positions, expect an untraced answer ------------------
def _zero_unary():
    return [Case((normal(3, 4) * 3,), label="3x4"), Case((np.float64(-1.7),), label="0d")]


def _zero_binary():
    x = normal(3, 4)
    y = x.copy()
    y[0] += 1.0  # some equal elements, some not
    return [Case((x, y), diff=(0, 1), label="same"), Case((x, x[1]), diff=(0, 1), label="bcast")]


CASES.update({
    "floor": _zero_unary(),
    "ceil": _zero_unary(),
    "sign": _zero_unary(),
    "equal": _zero_binary(),
    "not_equal": _zero_binary(),
    "less": _zero_binary(),
    "less_equal": _zero_binary(),
    "greater": _zero_binary(),
    "greater_equal": _zero_binary(),
    "zeros_like": _zero_unary(),
    "ones_like": _zero_unary(),
    "shape": _zero_unary(),
    "zeros": [Case(((2, 3),), label="shape")],
    "ones": [Case(((2, 3),), label="shape")],
    "eye": [Case((3,), label="n"), Case((2, 3), {"k": 1}, diff=(0, 1), label="n_m_k")],
    "full": [Case(((2, 2), np.float64(1.5)), diff=(1,), label="fill"),
             # autograd's rule sums g whatever the fill's shape or the dtype.
             Case(((2, 3), normal(3)), diff=(1,), oracle=False, label="fill_row_broadcast"),
             Case(((3,), np.float64(0.5)), {"dtype": "complex128"}, diff=(1,), oracle=False,
                  label="complex_dtype")],
    "argmax": [Case((normal(3, 4),), label="flat"),
               Case((normal(3, 4),), {"axis": 1}, label="axis1")],
    "argmin": [Case((normal(3, 4),), label="flat"),
               Case((normal(3, 4),), {"axis": 0}, label="axis0")],
})


# --- reductions ---------------------------------------------------------------------------
def _mask(*shape):
    """A random mask keeping at least the first element of each last-axis row."""
    mask = normal(*shape) > 0
    mask[..., 0] = True  # mean over an empty selection would be nan
    return mask


def _reduction_cases():
    return [
        Case((normal(2, 3, 4),), label="all"),
        Case((normal(2, 3, 4),), {"axis": 1}, label="axis1"),
        Case((normal(2, 3, 4),), {"axis": (0, 2)}, label="axes02"),
        Case((normal(2, 3, 4),), {"axis": -1, "keepdims": True}, label="axis-1_keep"),
        Case((normal(2, 3, 4),), {"axis": (0, -1), "keepdims": True}, label="axes0-1_keep"),
        Case((normal(2, 3),), {"keepdims": True}, label="all_keep"),
        Case((np.float64(0.4),), label="0d"),
        # A mask selects which elements are reduced; the rest must get no gradient.
        # autograd's sum/mean rules ignore ``where``, so it is no oracle for these.
        Case((normal(3, 4),), {"axis": 1, "where": _mask(3, 4)}, oracle=False,
             label="where"),
        Case((normal(3, 4),), {"where": _mask(4)}, oracle=False, label="where_bcast"),
    ]


CASES.update({"sum": _reduction_cases(), "mean": _reduction_cases()})


# --- shape ----------------------------------------------------------------------------------
CASES.update({
    "reshape": [
        Case((normal(2, 6), (3, 4)), label="2x6_to_3x4"),
        Case((normal(2, 3, 2), (-1,)), label="flatten"),
        Case((np.float64(1.1), (1, 1)), label="0d"),
        Case((normal(2, 6), (3, 4)), {"order": "F"}, label="order_F"),
    ],
    "transpose": [
        Case((normal(3, 4),), label="default"),
        Case((normal(2, 3, 4), (1, 2, 0)), label="perm"),
        # autograd's transpose rule argsorts the raw axes too, so it shares this bug.
        Case((normal(2, 3, 4), (-1, 0, 1)), oracle=False, label="negative_axes"),
    ],
    "broadcast_to": [
        Case((normal(3, 1), (3, 4)), label="stretch"),
        # autograd's broadcast_to rule rejects new leading axes: no oracle for these.
        Case((normal(3), (2, 3)), oracle=False, label="lead"),
        Case((normal(3, 1), (2, 3, 4)), oracle=False, label="lead_and_stretch"),
        Case((np.float64(0.3), (2, 2)), oracle=False, label="0d"),
    ],
    "expand_dims": [
        Case((normal(3, 4), 0), label="front"),
        Case((normal(3, 4), -1), label="back"),
        Case((normal(3, 4), (0, 2)), label="two"),
        Case((np.float64(2.0), 0), label="0d"),
    ],
    "squeeze": [
        Case((normal(1, 3, 1, 2),), label="all"),
        Case((normal(1, 3, 1, 2),), {"axis": 2}, label="axis2"),
        Case((normal(1, 3, 1, 2),), {"axis": (0, -2)}, label="axes"),
    ],
    "astype": [
        Case((normal(3, 4), "float64"), label="same_dtype"),
        Case((normal(3, 4), "complex128"), oracle=False, label="to_complex"),
    ],
    "swapaxes": [
        Case((normal(2, 3, 4), 0, 2), label="0_2"),
        Case((normal(2, 3, 4), 0, -1), label="0_-1"),
        Case((normal(2, 3, 4),), {"axis1": 2, "axis2": 1}, label="keywords"),
    ],
})


def _getitem_cases():
    x = normal(4, 5)
    return [
        Case((x, 1), label="int"),
        Case((x, -1), label="negative_int"),
        Case((x, (slice(1, 3), slice(None, None, -2))), label="slices"),
        Case((x, (Ellipsis, 2)), label="ellipsis"),
        Case((x, (None, slice(1, None))), label="newaxis"),
        Case((x, np.array([0, 2, 0, 3])), label="int_array_repeats"),
        Case((x, (np.array([[0, 1], [3, 3]]), np.array([4, 0]))), label="fancy_2d_bcast"),
        Case((x, (slice(None), [1, 1, 4])), label="slice_and_list"),
        Case((x, x > 0.2), label="bool_mask"),
        Case((x, x > 0), label="positive_mask"),  # x[x > 0], the mask held fixed
        Case((x, (np.array([True, False, True, True]), slice(1, None))),
             label="mask_and_slice"),
        Case((np.float64(0.5), ()), label="0d"),
    ]


def _untake_cases():
    # untake(g, index, shape) scatters g into zeros of ``shape``; repeats must accumulate.
    return [
        Case((normal(4, 5), np.array([0, 2, 0, 3]), (4, 5)), label="repeats"),
        Case((normal(4, 2), np.array([1, 1, 0, 2]), (3, 2)), label="repeats_rows"),
        Case((normal(2, 2), (slice(1, 3), slice(0, 2)), (4, 5)), label="slices"),
    ]


CASES.update({
    "getitem": _getitem_cases(),
    "untake": _untake_cases(),
    "concatenate": [
        Case((normal(2, 3), normal(1, 3), normal(3, 3)), form=as_list,
             diff=(0, 1, 2), label="axis0"),
        Case((normal(2, 3), normal(2, 1)), {"axis": 1}, form=as_list,
             diff=(0, 1), label="axis1"),
        Case((normal(2, 2, 1), normal(2, 2, 3)), {"axis": -1}, form=as_list,
             diff=(0, 1), label="axis-1"),
        # autograd's concatenate rule does not handle axis=None.
        Case((normal(2, 2), normal(3)), {"axis": None}, form=as_list,
             diff=(0, 1), oracle=False, label="axis_None_flattens"),
    ],
    "concatenate_args": [
        Case((0, normal(2, 3), normal(1, 3), normal(3, 3)), diff=(1, 2, 3), label="axis0"),
        Case((-1, normal(2, 2), normal(2, 3)), diff=(1, 2), label="axis-1"),
    ],
})


# --- contractions ---------------------------------------------------------------------------
CASES.update({
    "tensordot": [
        Case((normal(2, 3, 4), normal(3, 4, 2)), diff=(0, 1), label="axes2_default"),
        Case((normal(2, 3), normal(3, 4)), {"axes": 1}, diff=(0, 1), label="axes1"),
        Case((normal(2, 3), normal(4)), {"axes": 0}, diff=(0, 1), label="outer"),
        Case((normal(3, 2, 4), normal(4, 5, 3)), {"axes": ([0, 2], [2, 0])}, diff=(0, 1),
             label="crossed_pairs"),
        Case((normal(3, 2, 4), normal(4, 5, 3)), {"axes": ([-3, -1], [-1, 0])},
             diff=(0, 1), label="negative_axes"),
        Case((normal(2, 3), normal(3, 4)), {"axes": (1, 0)}, diff=(0, 1),
             label="int_pair"),
    ],
    "matmul": [
        Case((normal(2, 3), normal(3, 4)), diff=(0, 1), label="2d_2d"),
        Case((normal(3), normal(3, 4)), diff=(0, 1), label="1d_2d"),
        Case((normal(2, 3), normal(3)), diff=(0, 1), label="2d_1d"),
        Case((normal(3), normal(3)), diff=(0, 1), label="1d_1d"),
        Case((normal(2, 1, 2, 3), normal(3, 3, 2)), diff=(0, 1), label="batch_bcast"),
        Case((normal(3), normal(2, 3, 2)), diff=(0, 1), label="1d_batch"),
        Case((normal(2, 2, 3), normal(3)), diff=(0, 1), label="batch_1d"),
    ],
    "dot": [
        Case((normal(2, 3), normal(3, 4)), diff=(0, 1), label="2d_2d"),
        Case((normal(3), normal(3)), diff=(0, 1), label="1d_1d"),
        Case((normal(2, 3), normal(3)), diff=(0, 1), label="2d_1d"),
        Case((np.float64(1.5), normal(2, 3)), diff=(0, 1), label="0d"),
        Case((normal(2, 3, 2), normal(2, 2, 3)), diff=(0, 1), label="3d_3d"),
    ],
})


# --- autograd equivalents, for the second oracle ------------------------------------------
def autograd_equivalents():
    """op name -> the same function in autograd.numpy (ops autograd lacks are left out)."""
    import autograd.numpy as anp

    same_name = [
        "negative", "exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sqrt",
        "absolute", "abs", "add", "subtract", "multiply", "divide", "true_divide", "power",
        "maximum", "minimum", "where", "sum", "mean", "reshape", "transpose",
        "broadcast_to", "expand_dims", "squeeze", "swapaxes", "concatenate", "tensordot",
        "matmul", "dot", "real",
    ]
    table = {name: getattr(anp, name) for name in same_name}
    table["getitem"] = lambda x, index: x[index]
    table["concatenate_args"] = lambda axis, *arrays: anp.concatenate(arrays, axis=axis)
    return table


# --- complex inputs, under autograd's convention (see test_ops_gradcheck._pairing) -------
for _name in ["exp", "sin", "cos", "tanh", "negative"]:
    CASES[_name].append(Case((complex_normal(3, 2),), label="complex"))
for _name in ["add", "multiply", "subtract", "divide"]:
    CASES[_name].append(Case((complex_normal(3, 2), complex_normal(2)), diff=(0, 1),
                             label="complex"))
CASES["multiply"].append(Case((complex_normal(3), normal(3)), diff=(0, 1),
                              label="complex_times_real"))
CASES["real"].append(Case((complex_normal(2, 3),), label="complex"))
CASES["sum"].append(Case((complex_normal(2, 3),), {"axis": 0}, label="complex"))
CASES["matmul"].append(Case((complex_normal(2, 3), complex_normal(3, 2)), diff=(0, 1),
                            label="complex"))
CASES["reshape"].append(Case((complex_normal(2, 3), (3, 2)), label="complex"))
