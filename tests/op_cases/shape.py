"""Cases for shape manipulation, joining, splitting, indexing and arrays made from values.

The foundation ops' cases (reshape, transpose, getitem, concatenate, full, ...) stay in
core.py. Every op here is linear or affine in its differentiable arguments, so the second
order checks verify that the rules trace (their derivatives are zero or constant).

Indices, masks, counts and shapes are passed plain; only array arguments are in ``diff``.
Ops that give several arrays (split, meshgrid, atleast_1d of several arrays, ...) are
checked output by output. The autograd check draws one cotangent array shaped like the
whole answer, which a list of arrays of different shapes does not have: such cases say
``oracle=False`` for that reason ("ragged").
"""
import numpy as np

from .case import Case, normal, complex_normal, as_list, rng


def _mask(*shape):
    mask = normal(*shape) > 0
    mask.flat[0] = True  # never empty
    return mask


def _pad_with_values(op, args, kwargs):
    """pad(array, pad_width, mode, constant_values=args[2]): the values are checked too."""
    array, pad_width, values = args
    return op(array, pad_width, "constant", constant_values=values, **kwargs)


# --- reshaping and permuting axes ---------------------------------------------------------
CASES = {
    "ravel": [
        Case((normal(3, 4),), label="2d"),
        Case((normal(2, 3, 2),), {"order": "F"}, label="order_F"),
        Case((np.float64(0.7),), label="0d"),
        Case((complex_normal(2, 3),), label="complex"),
    ],
    "moveaxis": [
        Case((normal(2, 3, 2), 0, -1), label="0_to_last"),
        Case((normal(2, 3, 2), (0, 1), (2, 0)), label="two_axes"),
    ],
    "rollaxis": [
        Case((normal(2, 3, 2), 2), label="last_to_front"),
        Case((normal(2, 3, 2), 0, 3), label="first_to_end"),
        # autograd's rollaxis rule refuses negative axis and start.
        Case((normal(2, 3, 2), -1, 1), oracle=False, label="negative_axis"),
        Case((normal(2, 3, 2), 0, -1), oracle=False, label="negative_start"),
    ],
    "permute_dims": [
        Case((normal(2, 3, 2),), label="reverse"),
        Case((normal(2, 3, 2), (2, 0, 1)), label="perm"),
    ],
    # Several arrays give a tuple; autograd's rule raises for more than one.
    "atleast_1d": [
        Case((np.float64(0.3),), label="0d"),
        Case((normal(3),), label="1d"),
        Case((np.float64(0.3), normal(2, 2)), diff=(0, 1), oracle=False, label="several"),
    ],
    "atleast_2d": [
        Case((np.float64(0.3),), label="0d"),
        Case((normal(3),), label="1d"),
        Case((normal(2, 1, 3),), label="3d"),
        Case((normal(3), normal(2, 2)), diff=(0, 1), oracle=False, label="several"),
    ],
    "atleast_3d": [
        Case((np.float64(0.3),), label="0d"),
        Case((normal(3),), label="1d"),
        Case((normal(2, 3),), label="2d"),
        Case((normal(3), normal(2, 2)), diff=(0, 1), oracle=False, label="several"),
    ],
}

# --- rearranging --------------------------------------------------------------------------
CASES.update({
    # autograd has no rule for flip (only flipud and fliplr).
    "flip": [
        Case((normal(3, 4),), label="all"),
        Case((normal(3, 4), 1), label="axis1"),
        Case((normal(2, 3, 2), (0, -1)), label="axes"),
        Case((complex_normal(3),), label="complex"),
    ],
    "flipud": [Case((normal(3, 4),), label="2d"), Case((normal(4),), label="1d")],
    "fliplr": [Case((normal(3, 4),), label="2d"), Case((normal(2, 3, 2),), label="3d")],
    "roll": [
        Case((normal(3, 4), 2), label="flat"),
        Case((normal(3, 4), -1), {"axis": 1}, label="axis1"),
        # autograd's rule negates the shift with -, which a tuple does not support.
        Case((normal(2, 3, 2), (1, 2)), {"axis": (0, 2)}, oracle=False, label="tuples"),
        Case((normal(2, 3), (1, 2)), {"axis": (1, 1)}, oracle=False, label="same_axis_twice"),
        Case((complex_normal(4), 1), label="complex"),
    ],
    "rot90": [
        Case((normal(3, 4),), label="k1"),
        Case((normal(3, 4), 3), label="k3"),
        Case((normal(3, 4), -2), label="k-2"),
        # autograd's rule does not take axes.
        Case((normal(2, 3, 2), 1, (2, 0)), oracle=False, label="axes"),
    ],
    "tile": [
        Case((normal(3), 2), label="1d"),
        Case((normal(2, 3), (2, 1, 2)), label="more_reps"),
        Case((np.float64(0.4), (2, 3)), label="0d"),
        # numpy lines short reps up with the last axes; autograd's rule, with the first.
        Case((normal(2, 3), (2,)), oracle=False, label="fewer_reps"),
    ],
    "repeat": [
        Case((normal(3, 4), 2), label="flat"),
        Case((normal(3, 4), 2), {"axis": 1}, label="axis1"),
        # autograd's rule handles a single count of an array of one or more axes only.
        Case((np.float64(0.4), 3), oracle=False, label="0d"),
        Case((normal(3, 4), [1, 0, 2]), {"axis": 0}, oracle=False, label="per_element"),
        Case((normal(2, 3), [3, 1, 2]), {"axis": -1}, oracle=False, label="per_element_-1"),
    ],
})

# --- triangles and diagonals --------------------------------------------------------------
def _triangle_cases():
    return [
        Case((normal(4, 3),), label="k0"),
        Case((normal(3, 4), -1), label="k-1"),
        Case((normal(3, 4), 2), label="k2"),
        Case((normal(2, 3, 2), 1), label="batched"),
        # numpy stretches a vector into the rows of a square matrix; autograd's rule gives
        # a matrix-shaped cotangent for it.
        Case((normal(3),), oracle=False, label="1d"),
    ]


CASES.update({
    "tril": _triangle_cases(),
    "triu": _triangle_cases(),
    # autograd's rule handles square matrices on axes (-1, -2), offset 0, only.
    "diagonal": [
        Case((normal(2, 3, 3), 0, -1, -2), label="last_two_axes"),
        Case((normal(3, 4),), oracle=False, label="main"),
        Case((normal(3, 4), 1), oracle=False, label="offset1"),
        Case((normal(3, 4), -2), oracle=False, label="offset-2"),
        Case((normal(2, 3, 2), 1, 2, 0), oracle=False, label="3d_axes"),
        Case((normal(2, 3, 2),), {"axis1": -1, "axis2": 1}, oracle=False,
             label="negative_axes"),
    ],
    "diag": [
        Case((normal(4),), label="vector"),
        Case((normal(3), -1), label="vector_k-1"),
        Case((normal(3, 3),), label="square"),
        # autograd's rule builds a square matrix from the cotangent: wrong off the square.
        Case((normal(3, 4), 1), oracle=False, label="matrix_k1"),
    ],
    "diagflat": [
        Case((normal(2, 2), 1), label="k1"),
        Case((normal(3),), label="vector"),
    ],
})

# --- joining ------------------------------------------------------------------------------
CASES.update({
    "stack": [
        Case((normal(2, 3), normal(2, 3)), form=as_list, diff=(0, 1), label="axis0"),
        Case((normal(2, 3), normal(2, 3)), {"axis": -1}, form=as_list, diff=(0, 1),
             label="axis-1"),
        Case((np.float64(0.3), np.float64(-1.2), np.float64(2.0)), form=as_list,
             diff=(0, 1, 2), label="0d"),
        Case((complex_normal(2), complex_normal(2)), {"axis": 1}, form=as_list,
             diff=(0, 1), label="complex"),
    ],
    "vstack": [
        Case((normal(3), normal(3)), form=as_list, diff=(0, 1), label="vectors"),
        Case((normal(2, 3), normal(1, 3)), form=as_list, diff=(0, 1), label="matrices"),
    ],
    "hstack": [
        Case((normal(3), normal(2)), form=as_list, diff=(0, 1), label="vectors"),
        Case((normal(2, 3), normal(2, 1)), form=as_list, diff=(0, 1), label="matrices"),
        Case((np.float64(0.5), normal(2)), form=as_list, diff=(0, 1), label="0d"),
    ],
    # autograd has no rule for dstack.
    "dstack": [
        Case((normal(2, 3), normal(2, 3)), form=as_list, diff=(0, 1), label="matrices"),
        Case((normal(3), normal(3)), form=as_list, diff=(0, 1), label="vectors"),
    ],
    "column_stack": [
        Case((normal(3), normal(3, 2)), form=as_list, diff=(0, 1), label="vector_matrix"),
        Case((normal(4), normal(4)), form=as_list, diff=(0, 1), label="vectors"),
    ],
    "append": [
        Case((normal(2, 3), normal(4)), diff=(0, 1), label="flat"),
        Case((normal(2, 3), normal(1, 3)), {"axis": 0}, diff=(0, 1), label="axis0"),
        Case((normal(2, 3), normal(2, 2)), {"axis": -1}, diff=(0, 1), label="axis-1"),
    ],
})

# --- splitting ----------------------------------------------------------------------------
CASES.update({
    "array_split": [
        Case((normal(6), 3), label="equal"),
        Case((normal(7), 3), oracle=False, label="unequal"),  # ragged
        Case((normal(2, 5), [1, 3]), {"axis": 1}, oracle=False, label="indices"),  # ragged
        Case((normal(2, 5), [-2, 9]), {"axis": -1}, oracle=False,  # ragged
             label="negative_and_past_end"),
    ],
    "split": [
        Case((normal(6), 3), label="sections"),
        Case((normal(3, 4), 2), {"axis": 1}, label="sections_axis1"),
        Case((normal(2, 5), [2, 3]), {"axis": -1}, oracle=False, label="indices"),  # ragged
    ],
    "hsplit": [
        Case((normal(2, 4), 2), label="matrix"),
        Case((normal(5), [2]), oracle=False, label="vector"),  # ragged
    ],
    "vsplit": [
        Case((normal(4, 2), 2), label="sections"),
        Case((normal(4, 2), [1]), oracle=False, label="indices"),  # ragged
    ],
    "dsplit": [
        Case((normal(1, 2, 4), 2), label="sections"),
        Case((normal(1, 2, 4), [1, 3]), oracle=False, label="indices"),  # ragged
    ],
})

# --- arrays made from values --------------------------------------------------------------
CASES.update({
    "linspace": [
        Case((0.5, 2.0, 5), diff=(0, 1), label="scalars"),
        # autograd's rule takes scalar ends and no options; these are ours alone.
        Case((normal(3), 1.0, 4), {"endpoint": False, "axis": -1}, diff=(0, 1),
             oracle=False, label="vector_start_no_endpoint"),
        Case((normal(2, 1), normal(3), 3), {"axis": 1}, diff=(0, 1), oracle=False,
             label="broadcast_axis1"),
        Case((np.float64(-1.0), np.float64(0.5), 1), diff=(0, 1), oracle=False,
             label="one_sample"),
        Case((0.5, normal(2), 4), {"retstep": True}, diff=(0, 1), oracle=False,
             label="retstep"),  # ragged
        Case((complex_normal(2), complex_normal(2), 3), diff=(0, 1), oracle=False,
             label="complex"),
        # Integer samples are floored: 0.3, 1.45, 2.6 sit well inside their steps.
        Case((0.3, 2.6, 3), {"dtype": int}, diff=(0, 1), oracle=False, label="int_dtype"),
    ],
    "array_from_args": [
        Case((np.float64(1.5), np.float64(-0.3), np.float64(2.0)), diff=(0, 1, 2),
             label="scalars"),
        Case((normal(2, 3), normal(2, 3)), diff=(0, 1), label="arrays"),
        # A plain element among traced ones, and one element used twice.
        Case((normal(2), np.ones(2), normal(2)), diff=(0, 2), label="some_plain"),
        # With a complex cotangent, autograd hands the real element a complex cotangent.
        Case((complex_normal(2), normal(2)), diff=(0, 1), oracle=False,
             label="complex_and_real"),
    ],
    # autograd has no rules for broadcast_arrays and meshgrid.
    "broadcast_arrays": [
        Case((normal(3, 1), normal(4), np.float64(1.5)), diff=(0, 1, 2), label="three"),
        Case((normal(2, 3), normal(2, 3)), diff=(0, 1), label="same_shape"),
    ],
    "meshgrid": [
        Case((normal(3), normal(2)), diff=(0, 1), label="xy"),
        Case((normal(3), normal(2)), {"indexing": "ij"}, diff=(0, 1), label="ij"),
        Case((normal(2), normal(3), normal(2)), diff=(0, 1, 2), label="xy_3d"),
        Case((normal(2, 2), normal(3)), {"sparse": True}, diff=(0, 1), label="sparse"),
    ],
})

# --- indexing: reading --------------------------------------------------------------------
# autograd has no rules for take, take_along_axis, compress, insert and delete.
CASES.update({
    "take": [
        Case((normal(3, 4), [0, 5, 5]), label="flat_repeats"),
        Case((normal(3, 4), np.array([[0, 2], [1, 1]])), {"axis": 1}, label="axis1_2d"),
        Case((normal(3, 4), 1), {"axis": 0}, label="scalar_index"),
        Case((normal(3, 4), [0, 7, -1]), {"axis": 1, "mode": "wrap"}, label="wrap"),
        Case((normal(3, 4), [0, 7, -1]), {"axis": 1, "mode": "clip"}, label="clip"),
    ],
    "take_along_axis": [
        Case((normal(3, 4), rng.integers(0, 4, (3, 2))), {"axis": 1}, label="axis1"),
        Case((normal(3, 4), np.array([[2, 0, 2, 2]])), {"axis": 0}, label="bcast_repeats"),
        Case((normal(3, 4), np.array([11, 0, 5, 0])), {"axis": None}, label="flat"),
    ],
    "compress": [
        Case((np.array([True, False, True]), normal(3, 4)), {"axis": 0}, diff=(1,),
             label="axis0"),
        Case((np.array([0, 1, 1, 0, 1]), normal(3, 4)), diff=(1,), label="flat"),
    ],
})

# --- indexing: placing --------------------------------------------------------------------
CASES.update({
    "delete": [
        Case((normal(3, 4), 1), {"axis": 0}, label="row"),
        Case((normal(3, 4), [0, 2]), {"axis": -1}, label="columns"),
        Case((normal(3, 4), slice(1, 10, 3)), label="flat_slice"),
        Case((normal(3, 4), np.array([True, False, True])), {"axis": 0}, label="mask"),
    ],
    "insert": [
        Case((normal(3, 4), 1, normal(4)), {"axis": 0}, diff=(0, 2), label="row"),
        # A scalar stretched down a column: its cotangent sums the column's.
        Case((normal(3, 4), 2, np.float64(0.7)), {"axis": 1}, diff=(0, 2),
             label="broadcast_value"),
        Case((normal(3, 4), [1, 1, 4], normal(3)), diff=(0, 2), label="flat_repeats"),
        Case((normal(3, 4), [0, 4], normal(2)), {"axis": 1}, diff=(0, 2),
             label="columns_bcast"),
    ],
    # autograd pads in constant mode only, and does not differentiate constant_values.
    "pad": [
        Case((normal(2, 3), 1), label="constant_zero"),
        Case((normal(2, 3), ((1, 0), (2, 1)), "constant"), label="constant_widths"),
        Case((normal(2, 3), ((1, 0), (2, 1)), normal(2, 2)), diff=(0, 2),
             form=_pad_with_values, oracle=False, label="values_per_side"),
        Case((normal(3), 2, np.float64(0.4)), diff=(0, 2), form=_pad_with_values,
             oracle=False, label="one_value"),
        Case((normal(2, 3), (1, 2), "edge"), oracle=False, label="edge"),
        Case((normal(2, 3), ((1, 1), (2, 2)), "reflect"), oracle=False, label="reflect"),
        Case((normal(2, 3), 2, "symmetric"), oracle=False, label="symmetric"),
        Case((normal(3), 7, "wrap"), oracle=False, label="wrap_wider_than_array"),
        Case((complex_normal(2, 2), 1, "constant"), label="complex"),
    ],
})

# --- indexing: writing --------------------------------------------------------------------
# autograd has neither (its arrays cannot be assigned to).


def _setitem_cases():
    mask = _mask(3, 4)
    return [
        Case((normal(3, 4), 1, normal(4)), diff=(0, 2), label="row"),
        Case((normal(3, 4), (slice(None), 1), normal(3)), diff=(0, 2), label="column"),
        Case((normal(3, 4), (Ellipsis, slice(1, 3)), np.float64(0.3)), diff=(0, 2),
             label="broadcast_scalar"),
        # Row 0 is written twice: the last write is the one left, so it alone gets the
        # gradient; a broadcast value written twice to one row gets it once.
        Case((normal(3, 4), np.array([0, 2, 0]), normal(3, 4)), diff=(0, 2),
             label="repeats_last_wins"),
        Case((normal(3, 4), np.array([1, 1]), normal(4)), diff=(0, 2),
             label="repeats_broadcast"),
        Case((normal(3, 4), (np.array([0, 2, 0]), np.array([1, 3, 1])), normal(3)),
             diff=(0, 2), label="pairs_repeat"),
        Case((normal(3, 4), mask, np.float64(0.3)), diff=(0, 2), label="mask_scalar"),
        Case((normal(3, 4), mask, normal(int(mask.sum()))), diff=(0, 2), label="mask_values"),
        Case((normal(3, 4), (_mask(3), slice(1, None)), normal(3)), diff=(0, 2),
             label="mask_and_slice"),
        Case((normal(3, 4), 1, normal(1, 4)), diff=(0, 2), label="value_leading_one"),
        Case((np.float64(0.5), (), np.float64(2.0)), diff=(0, 2), label="0d"),
        Case((complex_normal(3), np.array([0, 0]), complex_normal(2)), diff=(0, 2),
             label="complex"),
    ]


CASES.update({
    "setitem": _setitem_cases(),
    "add.at": [
        Case((normal(3, 4), np.array([0, 2, 0]), normal(3, 4)), diff=(0, 2),
             label="repeats_all_add"),
        Case((normal(3, 4), np.array([1, 1]), normal(4)), diff=(0, 2),
             label="repeats_broadcast"),
        Case((normal(5), (np.array([0, 1, 1, 4]),), np.float64(0.5)), diff=(0, 2),
             label="scalar_value"),
        Case((normal(3, 4), _mask(3, 4), np.float64(-0.2)), diff=(0, 2), label="mask"),
        Case((normal(3, 4), (slice(None), np.array([3, 3])), normal(3, 2)), diff=(0, 2),
             label="slice_and_repeats"),
        Case((complex_normal(3), [2, 2], complex_normal(2)), diff=(0, 2), label="complex"),
    ],
})


# --- autograd equivalents, for the second oracle ------------------------------------------
def autograd_equivalents():
    """op name -> the same function in autograd.numpy, for the ops autograd differentiates."""
    import autograd.numpy as anp

    same_name = [
        "ravel", "moveaxis", "rollaxis", "permute_dims", "atleast_1d", "atleast_2d",
        "atleast_3d", "flipud", "fliplr", "roll", "rot90", "tile", "repeat", "tril", "triu",
        "diagonal", "diag", "stack", "vstack", "hstack", "column_stack", "append",
        "array_split", "split", "hsplit", "vsplit", "dsplit", "linspace", "full",
    ]
    table = {name: getattr(anp, name) for name in same_name}
    # autograd's pad rule needs the mode as a positional argument.
    table["pad"] = lambda array, pad_width, mode="constant", **kw: anp.pad(
        array, pad_width, mode, **kw)
    table["array_from_args"] = lambda *elements: anp.array(list(elements))
    return table
