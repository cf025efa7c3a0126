"""Registry-driven gradient checks: every op in OPS, against finite differences and autograd.

For each example in tests/op_cases.py and each differentiable argument:
  * first order: the VJP with a random cotangent against central finite differences;
  * second order: the gradient of <vjp(v), u> (v, u random) against central finite
    differences of that first-order VJP, which checks that the rules are traceable and
    that their own derivatives are right;
  * autograd: the same VJP from HIPS autograd, where it has the function, to 1e-9.
Ops with status 'zero' must give untraced answers and zero gradients; 'none' ops must
raise NotDifferentiable. An op registered without an entry in op_cases fails the suite.
"""
import sys
import zlib
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

from adserver.engine import Box, NotDifferentiable, Primitive  # noqa: E402
from adserver.engine.tracer import NOT_DIFFERENTIABLE  # noqa: E402
from adserver.ops import OPS, status_of  # noqa: E402

import engine_harness as H  # noqa: E402
from op_cases import CASES, autograd_equivalents  # noqa: E402

EPS = 1e-6          # central differences: truncation ~EPS**2, round-off ~1e-16/EPS
FD_RTOL = 1e-5
ORACLE_RTOL = 1e-9
DIFFERENTIABLE_STATUSES = ("vjp", "composite")

_add, _multiply, _sum = OPS["add"], OPS["multiply"], OPS["sum"]


# --- parametrization ----------------------------------------------------------------------
def _params(statuses):
    """One pytest param per (op, case) whose op has one of ``statuses``; ids name the op."""
    out = []
    for name in sorted(CASES):
        if name not in OPS or status_of(name) not in statuses:
            continue
        for case in CASES[name]:
            out.append(pytest.param(name, case, id=f"{name}-{case.ident()}"))
    return out


def _rng_for(name, case, salt):
    """A fixed generator per test, so each failure reproduces on its own."""
    return np.random.default_rng(zlib.crc32(f"{salt}:{name}:{case.ident()}".encode()))


# --- helpers ------------------------------------------------------------------------------
def _diff_values(case):
    """float64 copies of the differentiable arguments (finite differences perturb them)."""
    return [np.array(case.args[i], dtype=np.float64) for i in case.diff]


def _restricted(case, op):
    """The op as a function of its differentiable arguments alone, the rest held fixed."""
    def f(*diff_vals):
        args = list(case.args)
        for i, value in zip(case.diff, diff_vals):
            args[i] = value
        return case.call(op, tuple(args))
    return f


def _fd_gradient(scalar_fn, xs):
    """Central-difference gradient of ``scalar_fn(*xs)`` with respect to every array in xs."""
    grads = []
    for k, x in enumerate(xs):
        g = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            shifted = [a.copy() for a in xs]
            shifted[k][idx] = x[idx] + EPS
            up = scalar_fn(*shifted)
            shifted[k][idx] = x[idx] - EPS
            down = scalar_fn(*shifted)
            g[idx] = (up - down) / (2 * EPS)
        grads.append(g)
    return grads


def _assert_close(actual, expected, rtol, what):
    """Elementwise rtol, plus a floor scaled to the largest entry (for entries near 0)."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * 1e-3 * scale,
                               err_msg=what)


def _contains_box(value):
    if type(value) is Box:
        return True
    if isinstance(value, (tuple, list)):
        return any(_contains_box(v) for v in value)
    return False


def _first_order_vjp(f, xs, v):
    _, vjp_fn = H.vjp(f, *xs)
    return vjp_fn(v)


# --- registry coverage --------------------------------------------------------------------
def test_every_registered_op_has_cases():
    missing = sorted(set(OPS) - set(CASES))
    assert not missing, f"ops registered in OPS with no gradient-check cases: {missing}"


def test_no_cases_for_unregistered_ops():
    stale = sorted(set(CASES) - set(OPS))
    assert not stale, f"op_cases has entries for ops that are not registered: {stale}"


def test_every_op_has_a_known_status():
    unknown = {n: status_of(n) for n in OPS
               if status_of(n) not in ("vjp", "zero", "none", "composite")}
    assert not unknown, f"ops with a status the checker does not know: {unknown}"


def test_no_empty_case_lists():
    empty = sorted(name for name, cases in CASES.items() if not cases)
    assert not empty, f"ops whose case list is empty: {empty}"


# --- first order: finite differences ------------------------------------------------------
@pytest.mark.parametrize("name,case", _params(DIFFERENTIABLE_STATUSES + ("none",)))
def test_first_order_matches_finite_differences(name, case):
    op = OPS[name]
    f = _restricted(case, op)
    xs = _diff_values(case)
    rng = _rng_for(name, case, "fd1")
    out = f(*xs)
    v = rng.standard_normal(np.shape(out))
    if status_of(name) == "none":
        with pytest.raises(NotDifferentiable, match=name):
            _first_order_vjp(f, xs, v)
        return
    analytic = _first_order_vjp(f, xs, v)
    numeric = _fd_gradient(lambda *ys: np.sum(v * f(*ys)), xs)
    for pos, a, n in zip(case.diff, analytic, numeric):
        _assert_close(a, n, FD_RTOL, f"{name}: d/d arg {pos}")


# --- second order: gradient of <vjp(v), u> against differences of the VJP -----------------
@pytest.mark.parametrize("name,case", _params(DIFFERENTIABLE_STATUSES))
def test_second_order_matches_finite_differences(name, case):
    if not case.second_order:
        pytest.skip("first derivative jumps at this point (ties); first order only")
    f = _restricted(case, OPS[name])
    xs = _diff_values(case)
    rng = _rng_for(name, case, "fd2")
    v = rng.standard_normal(np.shape(f(*xs)))
    us = [rng.standard_normal(x.shape) for x in xs]

    def projected_vjp(*ys):
        # Built from registry primitives so that, on boxes, it is traced at the outer level.
        total = 0.0
        for ct, u in zip(_first_order_vjp(f, ys, v), us):
            total = _add(total, _sum(_multiply(ct, u)))
        return total

    analytic = _first_order_vjp(projected_vjp, xs, np.float64(1.0))
    numeric = _fd_gradient(lambda *ys: float(projected_vjp(*ys)), xs)
    for pos, a, n in zip(case.diff, analytic, numeric):
        _assert_close(a, n, FD_RTOL, f"{name}: second order, d/d arg {pos}")


# --- autograd as a second oracle ----------------------------------------------------------
_AUTOGRAD = autograd_equivalents()


@pytest.mark.parametrize("name,case", [p for p in _params(DIFFERENTIABLE_STATUSES)
                                       if p.values[0] in _AUTOGRAD])
def test_first_order_matches_autograd(name, case):
    if not case.oracle:
        pytest.skip("autograd's rule does not handle this case (see op_cases)")
    xs = _diff_values(case)
    ours = _restricted(case, OPS[name])
    theirs = _restricted(case, _AUTOGRAD[name])
    v = _rng_for(name, case, "oracle").standard_normal(np.shape(ours(*xs)))
    analytic = _first_order_vjp(ours, xs, v)
    for k, pos in enumerate(case.diff):
        their_vjp, _ = autograd.make_vjp(theirs, argnum=k)(*xs)
        _assert_close(analytic[k], their_vjp(v), ORACLE_RTOL, f"{name}: vs autograd, arg {pos}")


# --- zero-gradient ops --------------------------------------------------------------------
@pytest.mark.parametrize("name,case", _params(("zero",)))
def test_zero_gradient_ops_are_untraced(name, case):
    op = OPS[name]
    plain = case.call(op)
    seen = []

    def traced(*boxes):
        args = list(case.args)
        for i, box in zip(case.diff, boxes):
            args[i] = box
        out = case.call(op, tuple(args))
        seen.append(out)
        return out

    diff_vals = [case.args[i] for i in case.diff]
    _, vjp_fn = H.vjp(traced, *diff_vals)
    assert not _contains_box(seen[0]), f"{name} returned a traced value"
    np.testing.assert_array_equal(np.asarray(seen[0]), np.asarray(plain))
    for pos, ct, x in zip(case.diff, vjp_fn(np.ones(np.shape(plain))), diff_vals):
        assert np.shape(ct) == np.shape(x), f"{name}: cotangent shape for arg {pos}"
        assert not np.any(ct), f"{name}: nonzero gradient for arg {pos}"


# --- errors -------------------------------------------------------------------------------
def test_missing_rule_names_op_and_argument():
    # where has rules for its branches but not for its condition.
    cond = np.array([1.0, 0.0, 2.0])
    f = lambda c: OPS["where"](c, np.ones(3), np.zeros(3))  # noqa: E731
    _, vjp_fn = H.vjp(f, cond)
    with pytest.raises(NotDifferentiable, match=r"'where'.*argument 0"):
        vjp_fn(np.ones(3))


def test_missing_rule_on_second_argument():
    prim = Primitive("half_ruled", np.multiply).defvjp(lambda g, ans, x, y: g * y)
    _, vjp_fn = H.vjp(prim, np.ones(2), np.ones(2))
    with pytest.raises(NotDifferentiable, match=r"'half_ruled'.*argument 1"):
        vjp_fn(np.ones(2))


def _none_op_vjp():
    prim = Primitive("opaque", np.sin, status=NOT_DIFFERENTIABLE)
    _, vjp_fn = H.vjp(lambda a, b: _add(prim(a), b), np.ones(2), np.ones(2))
    return vjp_fn


def test_none_status_raises_naming_op():
    with pytest.raises(NotDifferentiable, match="'opaque'"):
        _none_op_vjp()(np.ones(2))


def test_none_status_message_names_argument():
    with pytest.raises(NotDifferentiable, match=r"'opaque'.*argument 0"):
        _none_op_vjp()(np.ones(2))


# --- the harness's level bookkeeping ------------------------------------------------------
class _Boom(Exception):
    pass


def _raise(x):
    raise _Boom


def test_exception_in_traced_function_restores_level():
    before = H.current_level()
    with pytest.raises(_Boom):
        H.grad(_raise)(1.0)
    assert H.current_level() == before


def test_exception_in_nested_trace_restores_every_level():
    before = H.current_level()
    levels = []

    def inner(x):
        levels.append(H.current_level())
        raise _Boom

    def outer(x):
        levels.append(H.current_level())
        return H.grad(inner)(x)

    with pytest.raises(_Boom):
        H.grad(outer)(1.0)
    assert levels == [before + 1, before + 2]
    assert H.current_level() == before
    # The released levels are reusable: a fresh second derivative still comes out right.
    assert np.isclose(H.grad(H.grad(OPS["sin"]))(0.3), -np.sin(0.3))


def test_exception_in_backward_restores_level():
    before = H.current_level()
    with pytest.raises(NotDifferentiable):
        H.grad(lambda c: _sum(OPS["where"](c, np.ones(3), 0.0)))(np.ones(3))
    assert H.current_level() == before


def test_harness_vjp_grad_and_argnum():
    x, y = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    value, vjp_fn = H.vjp(OPS["multiply"], x, y)
    np.testing.assert_array_equal(value, x * y)
    gx, gy = vjp_fn(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(gx, [3.0, -40.0])
    np.testing.assert_array_equal(gy, [1.0, 20.0])
    dot = lambda a, b: _sum(_multiply(a, b))  # noqa: E731
    np.testing.assert_array_equal(H.grad(dot, argnum=1)(x, y), x)
    with pytest.raises(TypeError, match="scalar"):
        H.grad(OPS["sin"])(x)


def test_gradient_of_constant_is_zero():
    assert H.grad(lambda x: 3.0)(np.float64(2.0)) == 0.0
    np.testing.assert_array_equal(H.elementwise_grad(lambda x: np.ones(3))(np.ones(3)), 0.0)


# --- higher order -------------------------------------------------------------------------
def test_six_elementwise_derivatives_of_tanh_match_autograd():
    x = np.linspace(-7, 7, 200)
    ours, theirs = OPS["tanh"], anp.tanh
    for order in range(1, 7):
        ours = H.elementwise_grad(ours)
        theirs = autograd.elementwise_grad(theirs)
        # Purely elementwise relative: the tails near +-7 are tiny and must match too.
        np.testing.assert_allclose(ours(x), theirs(x), rtol=ORACLE_RTOL, atol=0,
                                   err_msg=f"tanh derivative {order}")
