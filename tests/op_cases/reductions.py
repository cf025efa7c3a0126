"""Cases for reductions, scans and order statistics (adserver/ops/reductions.py).

sum and mean keep their cases in core.py. Inputs here come from a generator of this
module's own, so that adding a case does not shift the inputs of the families imported
after it (case.rng is shared by import order).

Values that an op selects or orders (extrema, sort, quantiles, interp's knots) are kept
well apart, so that central differences do not cross a kink; the cases that test ties on
purpose are first order only (second_order=False): at a tie of two elements the central
difference is the equal split the rules give, but the derivative jumps there. Products
and cumulative products are also checked at zeros (one, two and three in a lane): their
rules must stay exact there, to every order. NaN entries of the nan-functions must get a
zero gradient; no lane is all NaN (its answer is NaN, and so is any difference of it).
"""
import numpy as np

from .case import Case

_rng = np.random.default_rng(20240917)


def normal(*shape):
    return _rng.standard_normal(shape)


def complex_normal(*shape):
    return _rng.standard_normal(shape) + 1j * _rng.standard_normal(shape)


def uniform(lo, hi, *shape):
    return _rng.uniform(lo, hi, shape)


def spread(*shape, gap=0.1):
    """Distinct values, each at least ``gap`` from every other, in random order."""
    size = int(np.prod(shape))
    values = np.cumsum(uniform(gap, gap + 0.5, size)) - 0.25 * size
    return _rng.permutation(values).reshape(shape)


def with_nans(x, *where):
    x = np.array(x, dtype=float)
    for index in where:
        x[index] = np.nan
    return x


def _mask(*shape):
    """A random mask keeping at least the first two elements of each last-axis row (a std
    over one element is 0, where its slope is infinite)."""
    mask = normal(*shape) > 0
    mask[..., :2] = True
    return mask


# --- moments --------------------------------------------------------------------------------
def _moment_cases(zero_d=True):
    out = [
        Case((normal(3, 4),), label="all"),
        Case((normal(3, 4),), {"axis": 1}, label="axis1"),
        Case((normal(2, 3, 2),), {"axis": (0, -1), "keepdims": True}, label="axes0-1_keep"),
        Case((normal(3, 4),), {"axis": 0, "ddof": 1}, label="axis0_ddof1"),
        Case((normal(4, 3),), {"axis": -1, "ddof": 2, "keepdims": True}, label="ddof2_keep"),
        # autograd's rules ignore where= and correction=: no oracle for these.
        Case((normal(3, 4),), {"axis": 1, "where": _mask(3, 4)}, oracle=False, label="where"),
        Case((normal(3, 4),), {"axis": 0, "correction": 1}, oracle=False, label="correction"),
        Case((complex_normal(3, 2),), {"axis": 0}, label="complex"),
    ]
    if zero_d:  # (std's slope at a zero variance is infinite)
        out.append(Case((np.float64(0.4),), label="0d"))
    return out


CASES = {"var": _moment_cases(), "std": _moment_cases(zero_d=False) + [
    # lanes of one element: std is 0 whatever x, its gradient 0 (autograd's too)
    Case((normal(3, 1),), {"axis": 1}, label="lanes_of_one"),
    Case((normal(3, 1),), {"axis": -1, "keepdims": True}, label="lanes_of_one_keep"),
]}


# --- products ---------------------------------------------------------------------------------
def _factors(*shape):
    return uniform(0.5, 1.5, *shape) * np.where(normal(*shape) > 0, 1.0, -1.0)


def _with_zeros(x, *where):
    x = np.array(x)
    for index in where:
        x[index] = 0.0
    return x


# autograd's prod rule divides by x: no oracle where x has zeros.
CASES["prod"] = [
    Case((_factors(3, 4),), label="all"),
    Case((_factors(3, 4),), {"axis": 1}, label="axis1"),
    Case((_factors(2, 3, 2),), {"axis": (0, 2), "keepdims": True}, oracle=False,
         label="axes02_keep"),  # (autograd's rule takes one axis only)
    Case((np.float64(-1.3),), label="0d"),
    Case((_with_zeros(_factors(3, 4), (0, 1)),), {"axis": 1}, oracle=False, label="one_zero"),
    Case((_with_zeros(_factors(3, 4), (0, 1), (0, 3), (2, 2)),), {"axis": 1}, oracle=False,
         label="two_zeros_in_a_lane"),
    Case((_with_zeros(_factors(2, 4), (0, 0), (0, 1), (0, 2)),), {"axis": -1}, oracle=False,
         label="three_zeros_in_a_lane"),
    Case((_with_zeros(_factors(2, 3), (0, 1), (1, 2)),), oracle=False, label="zeros_all"),
    Case((_with_zeros(_factors(2, 3, 2), (1, 0, 1)),), {"axis": (0, 2)}, oracle=False,
         label="zero_axes02"),
    Case((_factors(3, 4),), {"axis": 1, "where": _mask(3, 4), "initial": 1.5}, oracle=False,
         label="where_initial"),
    Case((complex_normal(2, 3),), {"axis": 0}, label="complex"),
]

CASES["cumsum"] = [
    Case((normal(3, 4),), {"axis": 0}, label="axis0"),
    Case((normal(3, 4),), {"axis": -1}, label="axis-1"),
    Case((normal(2, 3, 2),), label="axis_None_flattens"),
    Case((np.float64(0.7),), label="0d"),
    Case((complex_normal(2, 3),), {"axis": 1}, label="complex"),
]

CASES["cumprod"] = [
    Case((_factors(3, 4),), {"axis": 1}, label="axis1"),
    Case((_factors(3, 4),), {"axis": 0}, label="axis0"),
    Case((_factors(2, 3, 2),), label="axis_None_flattens"),
    Case((np.float64(-0.8),), label="0d"),
    Case((_with_zeros(_factors(3, 4), (0, 1), (2, 3)),), {"axis": 1}, label="one_zero"),
    Case((_with_zeros(_factors(2, 5), (0, 1), (0, 3), (1, 0)),), {"axis": -1},
         label="two_zeros_in_a_lane"),
    Case((_with_zeros(_factors(5, 2), (1, 0), (2, 0), (4, 0)),), {"axis": 0},
         label="three_zeros_in_a_lane"),
    Case((_with_zeros(_factors(2, 3), (0, 2)),), label="zero_flattened"),
    Case((complex_normal(2, 3),), {"axis": 1}, label="complex"),
]


# --- extrema ----------------------------------------------------------------------------------
def _tied_at_extremum(x, top):
    """x with each last-axis lane's extremum tied with the runner-up."""
    x = np.array(x)
    order = np.argsort(x, axis=-1)
    winner, runner_up = (order[..., -1:], order[..., -2:-1]) if top else \
        (order[..., :1], order[..., 1:2])
    np.put_along_axis(x, runner_up, np.take_along_axis(x, winner, axis=-1), axis=-1)
    return x


def _extremum_cases(top):
    x = spread(3, 4)
    # initial= between two values: it wins in the lanes whose extremum lies beyond it
    middle = np.sort(x.ravel())[5:7].mean()
    return [
        Case((spread(3, 4),), label="all"),
        Case((spread(3, 4),), {"axis": 0}, label="axis0"),
        Case((spread(2, 3, 2),), {"axis": (0, -1), "keepdims": True}, label="axes0-1_keep"),
        Case((np.float64(0.3),), label="0d"),
        Case((_tied_at_extremum(spread(3, 4), top),), {"axis": 1}, second_order=False,
             label="ties"),
        # autograd ignores where= and initial=: no oracle
        Case((x,), {"axis": 1, "where": _mask(3, 4), "initial": middle}, oracle=False,
             label="where_initial"),
    ]


for _name, _top in [("max", True), ("amax", True), ("min", False), ("amin", False)]:
    CASES[_name] = _extremum_cases(_top)


def _nan_extremum_cases(top):
    x = with_nans(spread(3, 4), (0, 1), (2, 0), (2, 3))
    tied = with_nans(_tied_at_extremum(spread(2, 4), top), (1, 0))
    return [
        Case((x,), label="all"),
        Case((x,), {"axis": 1}, label="axis1"),
        Case((x,), {"axis": 0, "keepdims": True}, label="axis0_keep"),
        Case((tied,), {"axis": 1}, second_order=False, label="ties"),
    ]


CASES.update({"nanmax": _nan_extremum_cases(True), "nanmin": _nan_extremum_cases(False)})

CASES["ptp"] = [
    Case((spread(3, 4),), label="all"),
    Case((spread(3, 4),), {"axis": 1}, label="axis1"),
    Case((spread(2, 3, 2),), {"axis": 0, "keepdims": True}, label="axis0_keep"),
]


# --- NaN-ignoring reductions and scans ----------------------------------------------------------
def _nan_input(*shape):
    x = normal(*shape)
    x.flat[[1, x.size - 2]] = np.nan  # two NaNs, in different lanes
    return x


CASES.update({
    "nansum": [
        Case((_nan_input(3, 4),), label="all"),
        Case((_nan_input(3, 4),), {"axis": 1, "keepdims": True}, label="axis1_keep"),
        Case((normal(3, 4),), {"axis": 0}, label="no_nans"),
    ],
    "nanprod": [
        Case((with_nans(_factors(3, 4), (0, 1), (2, 3)),), {"axis": 1}, label="axis1"),
        Case((_with_zeros(with_nans(_factors(2, 4), (0, 2)), (0, 0)),), label="nan_and_zero"),
    ],
    "nanmean": [
        Case((_nan_input(3, 4),), label="all"),
        Case((_nan_input(3, 4),), {"axis": 0}, label="axis0"),
        Case((_nan_input(2, 3, 2),), {"axis": (1, 2), "keepdims": True}, label="axes12_keep"),
    ],
    "nanvar": [
        Case((_nan_input(3, 4),), label="all"),
        Case((_nan_input(3, 4),), {"axis": 1, "ddof": 1}, label="axis1_ddof1"),
        Case((_nan_input(3, 4),), {"axis": 0, "keepdims": True}, label="axis0_keep"),
    ],
    "nanstd": [
        Case((_nan_input(3, 4),), label="all"),
        Case((_nan_input(3, 4),), {"axis": 1, "ddof": 1}, label="axis1_ddof1"),
    ],
    "nancumsum": [
        Case((_nan_input(3, 4),), {"axis": 1}, label="axis1"),
        Case((_nan_input(2, 3),), label="flattened"),
    ],
    "nancumprod": [
        Case((with_nans(_factors(3, 4), (0, 1), (2, 2)),), {"axis": 1}, label="axis1"),
        Case((with_nans(_factors(2, 3), (1, 0)),), label="flattened"),
    ],
})


# --- sorting and order statistics --------------------------------------------------------------
def _pair_ties(*shape):
    """Distinct values but for one pair of equal values per last-axis lane."""
    x = spread(*shape)
    x[..., 2] = x[..., 0]
    return x


# autograd's sort and partition rules are for 1-d arrays only, and at ties they pick a
# permutation rather than share: no oracle for those cases.
CASES["sort"] = [
    Case((spread(6),), label="1d"),
    Case((spread(3, 4),), {"axis": 0}, oracle=False, label="axis0"),
    Case((spread(3, 4),), oracle=False, label="axis-1"),
    Case((spread(2, 3, 2),), {"axis": None}, oracle=False, label="axis_None"),
    Case((_pair_ties(3, 4),), second_order=False, oracle=False, label="ties"),
    Case((spread(1),), label="one_element"),
]
CASES["partition"] = [
    Case((spread(7), 3), label="1d"),
    Case((spread(7), [1, 5]), label="1d_two_kth"),
    Case((spread(4, 3), 1), {"axis": 0}, oracle=False, label="axis0"),
    Case((spread(3, 4), -1), oracle=False, label="axis-1_kth-1"),
    Case((spread(2, 5), 4), {"axis": None}, oracle=False, label="axis_None"),
]

_METHODS = ["lower", "higher", "nearest", "midpoint", "inverted_cdf",
            "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
            "hazen", "weibull", "median_unbiased", "normal_unbiased"]


def _quantile_cases(scale, nan, methods=_METHODS):
    """quantile's cases (percentile's, with scale 100), on inputs with NaNs for nan=True.

    percentile shares quantile's rules with q / 100: it is checked with fewer methods.
    """
    def data(*shape):
        x = spread(*shape)
        if nan:
            x.flat[[0, x.size - 1]] = np.nan  # leaves lanes with different counts
        return x

    q2 = np.array([0.1, 0.5, 0.85]) * scale
    out = [
        Case((data(3, 4), 0.3 * scale), label="all"),
        Case((data(3, 4), q2), {"axis": 1}, label="q_list_axis1"),
        Case((data(2, 3, 2), 0.6 * scale), {"axis": (0, 2), "keepdims": True},
             label="axes02_keep"),
        Case((data(4, 3), q2), {"axis": 0, "keepdims": True}, label="q_list_keep"),
        Case((data(3, 5), np.array([0.0, 1.0]) * scale), {"axis": -1}, label="ends"),
        Case((_pair_ties(3, 4), 0.5 * scale), {"axis": 1}, second_order=False, label="ties"),
    ]
    out += [Case((data(2, 5), np.array([0.25, 0.5, 0.8]) * scale),
                 {"axis": 1, "method": m}, label=m) for m in methods]
    return out


def _median_cases(nan):
    def data(*shape):
        x = spread(*shape)
        if nan:
            x.flat[[1, x.size - 2]] = np.nan
        return x

    return [
        Case((data(3, 5),), label="all"),
        Case((data(3, 5),), {"axis": 1}, label="axis1_odd"),
        Case((data(4, 3),), {"axis": 0}, label="axis0_even"),
        Case((data(2, 3, 2),), {"axis": (0, -1), "keepdims": True}, label="axes0-1_keep"),
        Case((_pair_ties(2, 5),), {"axis": 1}, second_order=False, label="ties"),
    ]


CASES.update({
    "quantile": _quantile_cases(1, nan=False),
    "percentile": _quantile_cases(100, nan=False, methods=["nearest", "hazen"]),
    "nanquantile": _quantile_cases(1, nan=True),
    "nanpercentile": _quantile_cases(100, nan=True, methods=["midpoint", "weibull"]),
    "median": _median_cases(nan=False) + [Case((np.float64(0.2),), label="0d")],
    "nanmedian": _median_cases(nan=True),
})


# --- differences, derivatives and integrals of sampled functions --------------------------------
# autograd's diff rule ignores prepend and append: no oracle for those cases.
CASES["diff"] = [
    Case((normal(6),), label="1d"),
    Case((normal(4, 3), 2, 0), label="n2_axis0"),
    Case((normal(3, 4),), {"axis": -1, "n": 3}, label="n3_axis-1"),
    Case((normal(3, 4), 1, 1, normal(3, 2), normal(3, 1)), diff=(0, 3, 4), oracle=False,
         label="prepend_append"),
    Case((normal(3, 4), 1, 0, np.float64(0.5)), diff=(0, 3), oracle=False,
         label="scalar_prepend"),
    Case((complex_normal(5),), label="complex"),
]


def _coordinates(n):
    return np.cumsum(uniform(0.5, 1.5, n))


# autograd's gradient rule takes no spacing or edge_order, and one array answer: no
# oracle for the cases that use them or differentiate along several axes.
CASES["gradient"] = [
    Case((normal(6),), label="1d"),
    Case((normal(3, 4),), {"axis": 1}, label="axis1"),
    Case((normal(3, 4),), oracle=False, label="all_axes"),
    Case((normal(6), np.float64(0.7)), diff=(0, 1), oracle=False, label="scalar_spacing"),
    Case((normal(6), _coordinates(6)), diff=(0, 1), oracle=False, label="coordinates"),
    Case((normal(5),), {"edge_order": 2}, oracle=False, label="edge_order2"),
    Case((normal(6), _coordinates(6)), {"edge_order": 2}, diff=(0, 1), oracle=False,
         label="coordinates_edge_order2"),
    Case((normal(3, 4), np.float64(1.3), _coordinates(4)), diff=(0, 1, 2), oracle=False,
         label="spacing_per_axis"),
    # Evenly spaced plain coordinates take numpy's scalar shortcut: f alone is traced.
    Case((normal(5), np.arange(5.0) * 0.5), diff=(0,), oracle=False, label="even_coordinates"),
]

CASES["trapezoid"] = [
    Case((normal(6),), label="1d"),
    Case((normal(3, 4), _coordinates(3)), {"axis": 0}, diff=(0, 1), label="x_1d_axis0"),
    Case((normal(3, 4), None, np.float64(0.4)), diff=(0, 2), label="dx"),
    Case((normal(2, 4), np.cumsum(uniform(0.5, 1.5, 2, 4), axis=1)), diff=(0, 1),
         label="x_same_shape"),
]


def _interp_cases():
    xp = _coordinates(5)
    inside = xp[:-1] + uniform(0.2, 0.8, 4) * np.diff(xp)  # strictly between knots
    outside = np.array([xp[0] - 0.7, xp[-1] + 0.4])
    return [
        Case((inside, xp, normal(5)), diff=(0, 1, 2), label="inside"),
        Case((np.concatenate([outside, inside[:2]]), xp, normal(5)), diff=(0, 1, 2),
             label="outside_default_ends"),
        Case((np.concatenate([outside, inside[2:]]), xp, normal(5), np.float64(-2.0),
              np.float64(3.0)), diff=(0, 1, 2, 3, 4), label="left_right"),
        Case((np.float64(inside[1]), xp, normal(5)), diff=(0, 1, 2), label="0d_x"),
        Case((inside, xp, complex_normal(5)), diff=(0, 2), label="complex_fp"),
        # At the knots themselves (the last one too) the answer is fp there: linear in fp.
        Case((xp[[3, 0, 4, 2]], xp, normal(5)), diff=(2,), label="at_knots"),
    ]


CASES["interp"] = _interp_cases()


# --- trace and weighted statistics ---------------------------------------------------------------
# autograd's trace rule takes no axis1 or axis2: no oracle for the cases that use them.
CASES["trace"] = [
    Case((normal(3, 3),), label="square"),
    Case((normal(3, 4), 1), label="offset1"),
    Case((normal(4, 3), -2), label="offset-2"),
    Case((normal(2, 3, 3), 0, 1, 2), oracle=False, label="axes12"),
    Case((normal(3, 2, 3),), {"axis1": -1, "axis2": 0}, oracle=False, label="negative_axis"),
    Case((complex_normal(3, 3),), label="complex"),
]

CASES["average"] = [
    Case((normal(3, 4),), label="all"),
    Case((normal(3, 4),), {"axis": 1, "keepdims": True}, label="axis1_keep"),
    Case((normal(3, 4), None, uniform(0.5, 2, 3, 4)), diff=(0, 2), label="weights_same_shape"),
    Case((normal(3, 4), 1, uniform(0.5, 2, 4)), diff=(0, 2), label="weights_1d_axis1"),
    Case((normal(2, 2, 3), (2, 0), uniform(0.5, 2, 3, 2)), diff=(0, 2),
         label="weights_axes20"),
    Case((normal(3, 4), 0, uniform(0.5, 2, 3), True), diff=(0, 2), label="returned"),
    Case((normal(3, 4), 1, None, True), label="returned_unweighted"),
]

CASES["cov"] = [
    Case((normal(3, 4),), label="rows"),
    Case((normal(4, 2),), {"rowvar": False}, label="columns"),
    Case((normal(5),), label="1d"),
    Case((normal(2, 4), normal(4)), diff=(0, 1), label="with_y"),
    Case((normal(2, 5),), {"bias": True}, label="bias"),
    Case((normal(2, 5),), {"ddof": 2}, label="ddof2"),
    Case((normal(2, 4), None, True, False, None, np.array([1, 2, 1, 3]),
          uniform(0.5, 2, 4)), diff=(0, 6), label="fweights_aweights"),
    Case((normal(2, 4), None, True, False, 0, None, uniform(0.5, 2, 4)), diff=(0, 6),
         label="aweights_ddof0"),
    Case((complex_normal(2, 3),), label="complex"),
]

CASES["corrcoef"] = [
    Case((normal(3, 5),), label="rows"),
    Case((normal(2, 4), normal(4)), diff=(0, 1), label="with_y"),
    Case((normal(5, 2),), {"rowvar": False}, label="columns"),
    Case((normal(4),), label="one_variable"),
]


# --- zero gradient ------------------------------------------------------------------------------
CASES.update({
    "argsort": [Case((normal(3, 4),), label="axis-1"),
                Case((normal(3, 4),), {"axis": 0}, label="axis0")],
    "argpartition": [Case((normal(6), 2), label="1d"),
                     Case((normal(3, 4), 1), {"axis": 0}, label="axis0")],
    "nonzero": [Case((np.array([[0.0, 1.5], [-2.0, 0.0]]),), label="2d")],
    "count_nonzero": [Case((np.array([[0.0, 1.5, 3.0], [-2.0, 0.0, 0.0]]),), label="all"),
                      Case((np.array([[0.0, 1.5, 3.0], [-2.0, 0.0, 0.0]]),), {"axis": 1},
                           label="axis1")],
    "searchsorted": [Case((np.sort(normal(5)), normal(3)), diff=(0, 1), label="left"),
                     Case((np.sort(normal(5)), normal(3)), {"side": "right"}, diff=(0, 1),
                          label="right")],
})


def autograd_equivalents():
    """op name -> autograd.numpy's function, for the ops autograd differentiates."""
    import autograd.numpy as anp

    return {name: getattr(anp, name) for name in
            ["var", "std", "prod", "max", "min", "amax", "amin", "cumsum", "diff",
             "gradient", "trace", "sort", "partition"]}
