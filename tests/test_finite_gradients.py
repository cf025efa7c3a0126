"""Finite gradients where the math allows (docs/GRADIENTS.md states the conventions).

* where-safety: ``where(c, f(x), other)`` must give finite gradients (first and second
  order, reverse, forward, and forward over reverse) even where the branch not taken holds
  nan or inf, e.g. ``where(x > 0, log(x), 0)`` at x <= 0. The branch not taken receives a
  zero cotangent (or, in forward mode, its tangent is dropped); every rule whose slope can
  be infinite or undefined must turn that zero into an exact zero, not 0 * inf = nan.
* sqrt at zero inside where, the same property at a slope that is infinite;
* abs (and fabs, hypot, copysign) at zero: gradient 0 there, autograd's choice;
* ties between maximum/minimum arguments split the gradient equally.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

_ROOT = Path(__file__).resolve().parents[1]
_TESTS = Path(__file__).resolve().parent
for _p in (_ROOT, _TESTS):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from adserver.ops import P  # noqa: E402

import engine_harness as H  # noqa: E402

# The points sit on domain edges on purpose: numpy's warnings there are expected.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

def _every_mode(f, x):
    """f's elementwise derivatives, first and second, by every route the engine has.

    Returns (first derivative by reverse mode, first by forward mode, second by reverse
    over reverse, second by forward over reverse), for an elementwise ``f`` of one array.
    """
    ones = np.ones_like(x)
    d1 = H.elementwise_grad(f)
    _, d1_forward = H.jvp(f, [x], [ones])
    _, d2_forward_over_reverse = H.jvp(d1, [x], [ones])
    return d1(x), d1_forward, H.elementwise_grad(d1)(x), d2_forward_over_reverse


def _assert_where_safe(f, x, d1, d2):
    """Every route gives finite derivatives, equal to the expected ones."""
    first, first_fwd, second, second_fwd = _every_mode(f, x)
    for name, got, want in [("reverse", first, d1), ("forward", first_fwd, d1),
                            ("reverse over reverse", second, d2),
                            ("forward over reverse", second_fwd, d2)]:
        assert np.all(np.isfinite(got)), f"{name}: {got}"
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300, err_msg=name)


# --- (a) where whose branch not taken holds nan or inf ---------------------------------------
# (name, f(x), points, first derivative, second derivative): at the points outside the
# condition both derivatives are 0; inside they are the function's own.
_X = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0])


def _where(cond, branch):
    return lambda x: P.where(cond(x), branch(x), 0.0)


def _inside(cond, values, x):
    return np.where(cond(x), values, 0.0)


def _case(name, cond, branch, d1, d2, x=_X, marks=()):
    with np.errstate(all="ignore"):  # the expected values are nan outside the domain
        args = (_where(cond, branch), x, _inside(cond, d1(x), x), _inside(cond, d2(x), x))
    return pytest.param(*args, id=name, marks=marks)


_OURS = [
    _case("arcsin", lambda x: P.absolute(x) < 1, P.arcsin,
          lambda x: (1 - x * x) ** -0.5, lambda x: x * (1 - x * x) ** -1.5),
    _case("arccos", lambda x: P.absolute(x) < 1, P.arccos,
          lambda x: -(1 - x * x) ** -0.5, lambda x: -x * (1 - x * x) ** -1.5),
    _case("arctanh", lambda x: P.absolute(x) < 1, P.arctanh,
          lambda x: 1 / (1 - x * x), lambda x: 2 * x / (1 - x * x) ** 2),
    _case("arccosh", lambda x: x > 1, P.arccosh,
          lambda x: (x * x - 1) ** -0.5, lambda x: -x * (x * x - 1) ** -1.5),
    _case("log2", lambda x: x > 0, P.log2,
          lambda x: 1 / (x * np.log(2)), lambda x: -1 / (x * x * np.log(2))),
    _case("log10", lambda x: x > 0, P.log10,
          lambda x: 1 / (x * np.log(10)), lambda x: -1 / (x * x * np.log(10))),
    _case("log1p", lambda x: x > -1, P.log1p,
          lambda x: 1 / (1 + x), lambda x: -1 / (1 + x) ** 2),
    _case("reciprocal", lambda x: P.not_equal(x, 0), P.reciprocal,
          lambda x: -1 / x ** 2, lambda x: 2 / x ** 3),
    _case("cbrt", lambda x: P.not_equal(x, 0), P.cbrt,
          lambda x: np.cbrt(x) ** -2 / 3, lambda x: -2 / 9 * np.cbrt(x) ** -5),
    _case("float_power_half", lambda x: x > 0, lambda x: P.float_power(x, 0.5),
          lambda x: 0.5 * x ** -0.5, lambda x: -0.25 * x ** -1.5),
    # Overflow: the branch not taken is inf, and so is its slope.
    _case("exp2_overflow", lambda x: x < 1000, P.exp2,
          lambda x: np.exp2(x) * np.log(2), lambda x: np.exp2(x) * np.log(2) ** 2,
          x=np.array([-1.0, 0.5, 2000.0])),
    _case("expm1_overflow", lambda x: x < 700, P.expm1, np.exp, np.exp,
          x=np.array([-1.0, 0.5, 800.0])),
]

_FOUNDATION = [
    _case("log", lambda x: x > 0, P.log, lambda x: 1 / x, lambda x: -1 / x ** 2),
    _case("divide", lambda x: P.not_equal(x, 0), lambda x: P.divide(1.5, x),
          lambda x: -1.5 / x ** 2, lambda x: 3 / x ** 3),
    _case("power_half", lambda x: x > 0, lambda x: P.power(x, 0.5),
          lambda x: 0.5 * x ** -0.5, lambda x: -0.25 * x ** -1.5),
    _case("exp_overflow", lambda x: x < 700, P.exp, np.exp, np.exp,
          x=np.array([-1.0, 0.5, 800.0])),
]


@pytest.mark.parametrize("f,x,d1,d2", _OURS + _FOUNDATION)
def test_where_with_undefined_branch_has_finite_gradients(f, x, d1, d2):
    _assert_where_safe(f, x, d1, d2)


# Binary ops: the undefined point is where both arguments (or the divisor) vanish.
_PAIRS = np.array([[0.0, 0.0], [1.0, -2.0], [-0.5, 0.0], [0.0, 3.0]])


def _pair_grads(f, pairs):
    """Gradient of sum(f(x, y)) in x and in y, each first order and second (diagonal)."""
    x, y = pairs[:, 0].copy(), pairs[:, 1].copy()
    out = []
    for argnum in (0, 1):
        g = H.elementwise_grad(f, argnum)
        out += [g(x, y), H.elementwise_grad(g, argnum)(x, y)]
    return out


@pytest.mark.parametrize("name,f", [
    ("arctan2", lambda x, y: P.where(x * x + y * y > 0, P.arctan2(x, y), 0.0)),
    ("remainder", lambda x, y: P.where(P.not_equal(y, 0), P.remainder(x, y), 0.0)),
    ("fmod", lambda x, y: P.where(P.not_equal(y, 0), P.fmod(x, y), 0.0)),
    ("logaddexp", lambda x, y: P.where(x > -np.inf, P.logaddexp(x, y), 0.0)),
    ("float_power", lambda x, y: P.where(x > 0, P.float_power(x, y), 0.0)),
    ("divide", lambda x, y: P.where(P.not_equal(y, 0), P.divide(x, y), 0.0)),
    ("power", lambda x, y: P.where(x > 0, P.power(x, y), 0.0)),
])
def test_where_with_undefined_binary_branch_has_finite_gradients(name, f):
    pairs = _PAIRS.copy()
    if name == "logaddexp":
        pairs[0] = -np.inf  # logaddexp(-inf, -inf) = -inf, its slopes exp(nan)
    grads = _pair_grads(f, pairs)
    for g in grads:
        assert np.all(np.isfinite(g)), f"{name}: {grads}"
    # The branch not taken gets exactly zero.
    x, y = pairs[:, 0], pairs[:, 1]
    taken = {"arctan2": x * x + y * y > 0, "remainder": y != 0, "fmod": y != 0,
             "logaddexp": x > -np.inf, "float_power": x > 0, "divide": y != 0,
             "power": x > 0}[name]
    for g in grads:
        assert np.all(g[~taken] == 0), f"{name}: {grads}"


def test_where_safe_angle_at_complex_zero():
    z = np.array([0j, 1 + 1j])
    f = lambda z: P.where(P.absolute(z) > 0, P.angle(z), 0.0)  # noqa: E731
    g = H.elementwise_grad(f)(z)
    np.testing.assert_allclose(g, [0, -1j / (1 + 1j)], rtol=1e-14)
    _, t = H.jvp(f, [z], [np.array([1 + 0j, 1j])])
    np.testing.assert_allclose(t, [0, np.imag(1j / (1 + 1j))], rtol=1e-14)


def test_zero_tangent_gives_zero_even_where_the_slope_is_infinite():
    # A Jacobian column by forward mode: the element not moved keeps a zero derivative.
    _, t = H.jvp(P.arcsin, [np.array([1.0, 0.5])], [np.array([0.0, 1.0])])
    np.testing.assert_allclose(t, [0.0, 1 / np.sqrt(0.75)])


# --- (b) sqrt at zero, inside where ------------------------------------------------------------
def test_sqrt_at_zero_inside_where():
    f = _where(lambda x: x > 0, P.sqrt)
    x = np.array([0.0, 4.0])
    _assert_where_safe(f, x, [0.0, 0.25], [0.0, -0.25 * 4.0 ** -1.5])


def test_sqrt_at_zero_outside_where_is_infinite():
    # Outside where the slope at 0 really is infinite: no guard may hide it.
    with np.errstate(divide="ignore"):
        assert H.grad(P.sqrt)(np.float64(0.0)) == np.inf


# --- (c) abs at zero: gradient 0 (autograd's choice), first and second order -------------------
@pytest.mark.parametrize("f", [P.absolute, P.abs, P.fabs,
                               lambda x: P.hypot(x, 0.0), lambda x: P.copysign(x, -1.0)],
                         ids=["absolute", "abs", "fabs", "hypot", "copysign"])
def test_abs_like_kinks_have_zero_gradient_at_zero(f):
    x = np.array([0.0, -0.0, 2.0, -3.0])
    first, first_fwd, second, second_fwd = _every_mode(f, x)
    slope = np.sign(f(np.array([1.0])))[0] * np.sign(x)
    np.testing.assert_array_equal(first, slope)
    np.testing.assert_array_equal(first_fwd, slope)
    np.testing.assert_array_equal(second, 0.0)
    np.testing.assert_array_equal(second_fwd, 0.0)


def test_abs_of_complex_follows_autograd():
    # |z| has gradient conj(z) / |z| under the convention dL/dx - i dL/dy (0 at 0).
    z = np.array([3 + 4j, -1j, 0j])
    np.testing.assert_allclose(H.elementwise_grad(P.absolute)(z), [0.6 - 0.8j, 1j, 0])
    _, t = H.jvp(P.absolute, [z], [np.array([1.0, 1.0, 1.0 + 0j])])
    np.testing.assert_allclose(t, [0.6, 0.0, 0.0])


# --- ties ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["maximum", "minimum", "fmax", "fmin"])
def test_ties_split_the_gradient_equally(op):
    x, y = np.array([1.0, 2.0]), np.array([1.0, 0.0])
    gx, gy = H.vjp(getattr(P, op), x, y)[1](np.ones(2))
    win = 1.0 if op in ("maximum", "fmax") else 0.0
    np.testing.assert_array_equal(gx, [0.5, win])
    np.testing.assert_array_equal(gy, [0.5, 1 - win])


def test_clip_at_a_bound_splits_with_the_bound():
    grads = H.vjp(P.clip, np.array([0.0, 1.0, 0.5]), np.float64(0.0), np.float64(1.0))[1](
        np.ones(3))
    np.testing.assert_array_equal(grads[0], [0.5, 0.5, 1.0])
    assert grads[1] == 0.5 and grads[2] == 0.5
