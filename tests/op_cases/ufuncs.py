"""Cases for adserver/ops/ufuncs.py: elementwise math beyond the foundation ops.

Inputs stay inside each function's domain and away from its kinks, jumps and branch cuts
(arcsin/arccos/arctanh in (-0.9, 0.9), arccosh above 1.2, logarithms of [0.3, 3], divisors
at least 0.5 from zero, remainder quotients at least 0.2 from an integer, clip operands at
least 0.2 from a bound), except in the cases that test ties on purpose (first order only).
Complex inputs come from complex_normal, whose imaginary parts keep clear of the real-axis
cuts. test_finite_gradients.py covers the domain edges themselves.
"""
import numpy as np

from .case import Case, normal, uniform, away_from_zero, complex_normal


def _unary(make, complex_make=None):
    cases = [Case((make(3, 4),), label="3x4"), Case((make(),), label="0d")]
    if complex_make:
        cases.append(Case((complex_make(2, 3),), label="complex"))
    return cases


def _inside_unit(*s):
    return uniform(-0.9, 0.9, *s)


def _positive(*s):
    return uniform(0.3, 3.0, *s)


def _small_complex(*s):
    return 0.5 * complex_normal(*s)


def _right_half_plane(*s):
    z = complex_normal(*s)
    return np.abs(z.real) + 0.3 + 1j * z.imag


CASES = {
    "arcsin": _unary(_inside_unit, _small_complex),
    "arccos": _unary(_inside_unit, _small_complex),
    "arctan": _unary(normal, _small_complex),
    "arcsinh": _unary(normal, _small_complex),
    "arccosh": _unary(lambda *s: uniform(1.2, 3.0, *s), _right_half_plane) + [
        # autograd's 1 / sqrt(x**2 - 1) takes the wrong branch where Re x < 0.
        Case((-_right_half_plane(2, 3),), oracle=False, label="complex_left_half"),
    ],
    "arctanh": _unary(_inside_unit, _small_complex),
    "exp2": _unary(normal, complex_normal),
    "expm1": _unary(normal, complex_normal),
    "log2": _unary(_positive, complex_normal),
    "log10": _unary(_positive, complex_normal),
    "log1p": _unary(lambda *s: uniform(-0.7, 2.0, *s), _small_complex),
    "square": _unary(normal, complex_normal),
    "reciprocal": _unary(away_from_zero, complex_normal),
    "cbrt": _unary(away_from_zero),
    "sinc": _unary(normal, complex_normal) + [
        # Near 0, where the slope is a series; autograd's closed form is nan at 0 itself.
        Case((np.array([0.0, 1e-3, -0.05, 0.0999, 0.1001, -0.3]),), oracle=False,
             label="near_zero"),
        Case((np.array([0.02 + 0.03j, -0.06j, 0.2 - 0.1j]),), oracle=False,
             label="complex_near_zero"),
    ],
    "positive": _unary(normal, complex_normal),
    "conjugate": _unary(normal, complex_normal),
    "conj": _unary(normal, complex_normal),
    "rad2deg": _unary(normal),
    "deg2rad": _unary(normal),
    "degrees": _unary(normal),
    "radians": _unary(normal),
    "fabs": _unary(away_from_zero),
    "imag": _unary(normal, complex_normal),
    "angle": _unary(away_from_zero, complex_normal) + [
        # autograd's angle rule does not take deg.
        Case((complex_normal(2, 3),), {"deg": True}, oracle=False, label="complex_deg"),
    ],
}
# The numpy 2 aliases are the same primitives: one real and one complex case each.
for _alias, _make in [("asin", _inside_unit), ("acos", _inside_unit), ("atan", normal),
                      ("asinh", normal), ("atanh", _inside_unit)]:
    CASES[_alias] = [Case((_make(2, 3),), label="real"),
                     Case((_small_complex(2, 2),), label="complex")]
CASES["acosh"] = [Case((uniform(1.2, 3.0, 2, 3),), label="real"),
                  Case((_right_half_plane(2, 2),), label="complex")]


# --- binary: same shape, broadcast one way, both ways, 0-d against array ------------------
def _binary(make_x, make_y=None):
    make_y = make_y or make_x
    return [
        Case((make_x(3, 4), make_y(3, 4)), diff=(0, 1), label="same"),
        Case((make_x(3, 4), make_y(4)), diff=(0, 1), label="bcast_y"),
        Case((make_x(2, 1, 3), make_y(4, 1)), diff=(0, 1), label="bcast_both"),
        Case((make_x(), make_y(3)), diff=(0, 1), label="0d_x"),
    ]


def _extremum_cases():
    x = normal(3, 4)
    y = x + away_from_zero(3, 4, gap=0.2)
    tie_x = normal(3, 4)
    tie_y = tie_x.copy()
    tie_y[:, 1::2] += away_from_zero(3, 2, gap=0.2)  # ties in columns 0 and 2
    nan_x, nan_y = normal(2, 3), normal(3)
    nan_x[0, 1] = nan_x[1, 2] = np.nan  # the other operand wins there, whole
    nan_y[0] = np.nan
    return [
        Case((x, y), diff=(0, 1), label="separated"),
        Case((np.float64(0.3), away_from_zero(4, gap=0.2) + 0.3), diff=(0, 1), label="0d_x"),
        Case((nan_x, nan_y), diff=(0, 1), label="nan_bcast"),
        Case((tie_x, tie_y), diff=(0, 1), second_order=False, label="ties"),
    ]


def _remainder_cases():
    def operands(shape_x, shape_y):
        # x / y = an integer plus a fraction in [0.2, 0.8]: clear of the jumps
        y = away_from_zero(*shape_y)
        shape = np.broadcast_shapes(shape_x, shape_y)
        return (np.floor(uniform(-3, 3, *shape)) + uniform(0.2, 0.8, *shape)) * y, y
    same = operands((3, 4), (3, 4))
    x_b, y_b = operands((3, 4), (4,))
    return [
        Case(same, diff=(0, 1), label="same"),
        Case((x_b, y_b), diff=(0, 1), label="bcast_y"),
        Case((np.float64(2.7), np.array([0.8, -1.3, 2.0])), diff=(0, 1), label="0d_x"),
    ]


CASES.update({
    "arctan2": _binary(normal),
    "atan2": [Case((normal(2, 3), normal(3)), diff=(0, 1), label="bcast")],
    "hypot": _binary(normal),
    "logaddexp": _binary(normal) + [
        Case((np.array([-1.0, 0.5, 3.0]), np.array([-1.0, 0.5, -700.0])), diff=(0, 1),
             label="ties_and_far"),
    ],
    "logaddexp2": _binary(normal),
    "fmax": _extremum_cases(),
    "fmin": _extremum_cases(),
    "remainder": _remainder_cases(),
    "mod": _remainder_cases(),
    "fmod": _remainder_cases(),
    "float_power": _binary(lambda *s: uniform(0.5, 2.0, *s),
                           lambda *s: uniform(-1.5, 2.5, *s)) + [
        Case((uniform(0.5, 2.0, 3, 4), 3), diff=(0,), label="int_exponent"),
        Case((complex_normal(2, 3), complex_normal(3)), diff=(0, 1), label="complex"),
        # A polynomial's terms at 0: x ** 0 must have slope 0 there, not nan.
        Case((np.float64(0.0), np.arange(4.0)), diff=(0,), label="zero_base_int_exponents"),
    ],
    "copysign": [
        Case((away_from_zero(3, 4), normal(3, 4)), diff=(0, 1), label="same"),
        # The sign of a zero counts; x2 is not perturbed there (it would flip).
        Case((away_from_zero(3, 1), np.array([-0.0, 0.0, -2.0, 1.5])),
             label="bcast_signed_zeros"),
    ],
    "heaviside": [
        Case((away_from_zero(3, 4), normal(4)), diff=(0, 1), label="nonzero_x"),
        # Where x is 0 the answer is h itself (x is not perturbed: it jumps there).
        Case((np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 0.7]]), normal(3)), diff=(1,),
             label="zero_x"),
    ],
    "ldexp": [
        Case((normal(3, 4), np.array([-2, 0, 1, 5])), label="bcast_n"),
        Case((normal(3), np.array([[1], [-3]])), label="bcast_x"),
        Case((np.float64(1.3), 4), label="0d"),
    ],
})


# --- clip, nan_to_num -----------------------------------------------------------------------
def _clip_operand(low, high, shape):
    """Values at least 0.2 below ``low``, between the bounds, or 0.2 above ``high``."""
    place = np.floor(uniform(0, 3, *shape))
    noise = uniform(-0.1, 0.1, *shape)
    return np.where(place == 0, low - 0.3, np.where(place == 1, (low + high) / 2,
                                                    high + 0.3)) + noise


def _clip_cases():
    a = _clip_operand(-0.5, 0.8, (3, 4))
    low, high = np.array([-1.0, -0.2, 0.1, -3.0]), np.array([[0.5], [1.0], [2.5]])
    a_arrays = _clip_operand(low, high, (3, 4))
    ties = np.array([-0.5, 0.8, 0.1, -2.0, 0.8])
    return [
        Case((a, -0.5, 0.8), label="scalars"),
        Case((a, None, 0.8), label="no_low"),
        Case((a,), {"a_min": -0.5, "a_max": None}, label="no_high_kw"),
        # autograd's clip has no rules for the bounds, nor for the min=/max= keywords.
        Case((a_arrays, low, high), diff=(0, 1, 2), oracle=False, label="array_bounds"),
        Case((a,), {"min": -0.5, "max": 0.8}, oracle=False, label="min_max_kw"),
        Case((np.float64(2.0), np.float64(-1.0), np.array([0.5, 3.0])), diff=(0, 1, 2),
             oracle=False, label="0d"),
        # At a tie the gradient is split with the bound; autograd gives a none of it.
        Case((ties, -0.5, 0.8), diff=(0, 1, 2), second_order=False, oracle=False,
             label="ties"),
    ]


# The default fill for an infinity is the largest float, which would swamp the checker's
# finite differences of the sum: the cases with infinities give finite fills.
_NON_FINITE = np.array([[1.5, np.nan, -0.3], [np.inf, -2.0, -np.inf]])

CASES.update({
    "clip": _clip_cases(),
    "nan_to_num": [
        Case((np.array([0.5, np.nan, -1.2, np.nan]),), label="nan_default"),
        # autograd's nan_to_num rule does not take the keywords.
        Case((_NON_FINITE,), {"nan": -1.0, "posinf": 9.0, "neginf": -9.0}, oracle=False,
             label="kwargs"),
        Case((normal(3),), label="all_finite"),
        # A complex element with one non-finite part keeps the other part's gradient.
        Case((np.array([1 + 2j, complex(np.inf, 0.5), complex(0.3, np.nan), -1j]),),
             {"posinf": 7.0}, oracle=False, label="complex"),
    ],
})


# --- zero gradient: box the listed positions, expect an untraced answer ------------------
def _zero_unary(make=None):
    make = make or (lambda *s: 3 * normal(*s))
    return [Case((make(3, 4),), label="3x4"), Case((np.float64(-1.7),), label="0d")]


_SPECIAL = np.array([[0.0, -0.0, 1.5, -2.5], [np.nan, np.inf, -np.inf, 3.0]])
_BOOLISH = np.array([0.0, 1.0, -2.0, 0.0])

CASES.update({
    "isnan": [Case((_SPECIAL,), label="special")],
    "isinf": [Case((_SPECIAL,), label="special")],
    "isfinite": [Case((_SPECIAL,), label="special")],
    "signbit": [Case((_SPECIAL,), label="special")],
    "round": _zero_unary() + [Case((3 * normal(3, 4),), {"decimals": 1}, label="decimals")],
    "around": [Case((3 * normal(3, 4),), {"decimals": -1}, label="decimals")],
    "rint": _zero_unary(),
    "fix": _zero_unary(),
    "trunc": _zero_unary(),
    "logical_not": [Case((_BOOLISH,), label="floats")],
    "logical_and": [Case((_BOOLISH, _BOOLISH[::-1]), diff=(0, 1), label="floats")],
    "logical_or": [Case((_BOOLISH, _BOOLISH[::-1]), diff=(0, 1), label="floats")],
    "logical_xor": [Case((_BOOLISH, _BOOLISH[::-1]), diff=(0, 1), label="floats")],
    "floor_divide": [Case((3 * normal(3, 4), away_from_zero(4)), diff=(0, 1),
                          label="bcast")],
})


# --- autograd equivalents, for the second oracle ------------------------------------------
def autograd_equivalents():
    """op name -> the same function in autograd.numpy (ops autograd lacks are left out)."""
    import autograd.numpy as anp

    same_name = [
        "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "exp2", "expm1",
        "log2", "log10", "log1p", "square", "reciprocal", "sinc", "conjugate", "conj",
        "rad2deg", "deg2rad", "degrees", "radians", "fabs", "imag", "angle", "arctan2",
        "hypot", "logaddexp", "logaddexp2", "fmax", "fmin", "remainder", "mod", "clip",
        "nan_to_num", "pow", "real_if_close",
    ]
    table = {name: getattr(anp, name) for name in same_name}
    # numpy 2's names: autograd wraps them as the same primitives.
    for alias, name in [("asin", "arcsin"), ("acos", "arccos"), ("atan", "arctan"),
                        ("asinh", "arcsinh"), ("acosh", "arccosh"), ("atanh", "arctanh"),
                        ("atan2", "arctan2")]:
        table[alias] = getattr(anp, name)
    return table


CASES.update({
    "pow": [Case((uniform(0.5, 2.0, 3, 4), uniform(-1.5, 2.5, 4)), diff=(0, 1), label="bcast")],
    # (An input with zero imaginary parts is not checked: a complex finite-difference step
    # moves it off the branch that took the real part.)
    "real_if_close": [
        Case((complex_normal(3),), label="really_complex"),
        Case((normal(2, 2),), label="real"),
    ],
})
