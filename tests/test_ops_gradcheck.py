"""Registry-driven gradient checks: every op in OPS, against finite differences and autograd.

For each example in tests/op_cases/ and each differentiable argument:
  * first order: the VJP with a random cotangent against central finite differences;
  * second order: the gradient of <vjp(v), u> (v, u random) against central finite
    differences of that first-order VJP, which checks that the rules are traceable and
    that their own derivatives are right;
  * forward mode: the JVP against central differences along a random direction, the two
    modes against each other (<jvp(u), v> == <u, vjp(v)>), and the JVP of the VJP
    (forward over reverse) against differences;
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

_add, _multiply, _sum, _real = OPS["add"], OPS["multiply"], OPS["sum"], OPS["real"]


def _projection(cotangents, us):
    """Re(sum_k <ct_k, u_k>) built from registry ops, so that it can be traced."""
    total = 0.0
    for ct, u in zip(cotangents, us):
        total = _add(total, _real(_sum(_multiply(ct, u))))
    return total


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
    """float64 (or complex128) copies of the differentiable arguments, for perturbing."""
    return [np.array(case.args[i], dtype=np.complex128 if np.iscomplexobj(case.args[i])
                     else np.float64) for i in case.diff]


def _random_like(rng, value):
    """A random array shaped like ``value``, complex if it is complex (a tuple for a tuple)."""
    if isinstance(value, (tuple, list)):
        return tuple(_random_like(rng, v) for v in value)
    shape = np.shape(value)
    if np.iscomplexobj(value):
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return rng.standard_normal(shape)


def _pairing(a, b):
    """Re(sum(a * b)): the real pairing under which the two modes are adjoint.

    The convention is autograd's: for real L of z = x + iy, the gradient is dL/dx - i dL/dy,
    so a holomorphic f has VJP g * f'(z), with no conjugation anywhere. Ops with several
    outputs pair output by output.
    """
    if isinstance(a, (tuple, list)):
        return sum(_pairing(x, y) for x, y in zip(a, b))
    return float(np.real(np.sum(np.asarray(a) * np.asarray(b))))


def _restricted(case, op):
    """The op as a function of its differentiable arguments alone, the rest held fixed."""
    def f(*diff_vals):
        args = list(case.args)
        for i, value in zip(case.diff, diff_vals):
            args[i] = value
        return case.call(op, tuple(args))
    return f


def _fd_gradient(scalar_fn, xs):
    """Central-difference gradient of real ``scalar_fn(*xs)`` with respect to every array.

    For a complex array the gradient is dL/dx - i dL/dy (the pairing's convention).
    """
    def partial(k, idx, step):
        shifted = [a.copy() for a in xs]
        shifted[k][idx] = xs[k][idx] + step
        up = scalar_fn(*shifted)
        shifted[k][idx] = xs[k][idx] - step
        return (up - scalar_fn(*shifted)) / (2 * EPS)

    grads = []
    for k, x in enumerate(xs):
        g = np.zeros(x.shape, dtype=x.dtype)
        for idx in np.ndindex(x.shape):
            g[idx] = partial(k, idx, EPS)
            if np.iscomplexobj(x):
                g[idx] -= 1j * partial(k, idx, 1j * EPS)
        grads.append(g)
    return grads


def _assert_close(actual, expected, rtol, what):
    """Elementwise rtol, plus a floor scaled to the largest entry (for entries near 0)."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected), what
        for k, (a, e) in enumerate(zip(actual, expected)):
            _assert_close(a, e, rtol, f"{what}, output {k}")
        return
    expected = np.asarray(expected)
    if not np.iscomplexobj(expected):
        expected = expected.astype(np.float64)
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
    v = _random_like(rng, out)
    if status_of(name) == "none":
        with pytest.raises(NotDifferentiable, match=name):
            _first_order_vjp(f, xs, v)
        return
    analytic = _first_order_vjp(f, xs, v)
    numeric = _fd_gradient(lambda *ys: _pairing(v, f(*ys)), xs)
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
    v = _random_like(rng, f(*xs))
    us = [_random_like(rng, x) for x in xs]

    def projected_vjp(*ys):
        # Built from registry primitives so that, on boxes, it is traced at the outer level.
        return _projection(_first_order_vjp(f, ys, v), us)

    analytic = _first_order_vjp(projected_vjp, xs, np.float64(1.0))
    numeric = _fd_gradient(lambda *ys: float(projected_vjp(*ys)), xs)
    for pos, a, n in zip(case.diff, analytic, numeric):
        _assert_close(a, n, FD_RTOL, f"{name}: second order, d/d arg {pos}")


# --- forward mode -------------------------------------------------------------------------
def _directional_fd(f, xs, us):
    up = f(*[x + EPS * u for x, u in zip(xs, us)])
    down = f(*[x - EPS * u for x, u in zip(xs, us)])
    if isinstance(up, (tuple, list)):
        return tuple((np.asarray(a) - np.asarray(b)) / (2 * EPS) for a, b in zip(up, down))
    return (np.asarray(up) - np.asarray(down)) / (2 * EPS)


@pytest.mark.parametrize("name,case", _params(DIFFERENTIABLE_STATUSES))
def test_forward_matches_finite_differences(name, case):
    f = _restricted(case, OPS[name])
    xs = _diff_values(case)
    rng = _rng_for(name, case, "jvp")
    us = [_random_like(rng, x) for x in xs]
    _, tangent = H.jvp(f, xs, us)
    _assert_close(tangent, _directional_fd(f, xs, us), FD_RTOL, f"{name}: JVP")


@pytest.mark.parametrize("name,case", _params(DIFFERENTIABLE_STATUSES))
def test_forward_agrees_with_reverse(name, case):
    """<jvp(u), v> == <u, vjp(v)>: the two modes are adjoint to each other."""
    f = _restricted(case, OPS[name])
    xs = _diff_values(case)
    rng = _rng_for(name, case, "adjoint")
    us = [_random_like(rng, x) for x in xs]
    out, tangent = H.jvp(f, xs, us)
    v = _random_like(rng, out)
    forward = _pairing(v, tangent)
    reverse = sum(_pairing(u, ct) for u, ct in zip(us, _first_order_vjp(f, xs, v)))
    np.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-12,
                               err_msg=f"{name}: <jvp(u), v> != <u, vjp(v)>")


@pytest.mark.parametrize("name,case", _params(DIFFERENTIABLE_STATUSES))
def test_forward_over_reverse_matches_finite_differences(name, case):
    """The JVP of the VJP: forward rules of every op the reverse rules are made of."""
    if not case.second_order:
        pytest.skip("first derivative jumps at this point (ties); first order only")
    f = _restricted(case, OPS[name])
    xs = _diff_values(case)
    rng = _rng_for(name, case, "fwd-rev")
    v = _random_like(rng, f(*xs))
    us = [_random_like(rng, x) for x in xs]
    ws = [_random_like(rng, x) for x in xs]

    def projected_vjp(*ys):
        return _projection(_first_order_vjp(f, ys, v), us)

    _, tangent = H.jvp(projected_vjp, xs, ws)
    numeric = _directional_fd(lambda *ys: float(projected_vjp(*ys)), xs, ws)
    _assert_close(tangent, numeric, FD_RTOL, f"{name}: forward over reverse")


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
    out = ours(*xs)
    # The values first: a composite that computes the wrong thing must not pass.
    _assert_close(out, theirs(*xs), ORACLE_RTOL, f"{name}: value vs autograd")
    v = _random_like(_rng_for(name, case, "oracle"), out)
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


# --- tuple-valued primitives ------------------------------------------------------------------
def _make_pair():
    """A test-only primitive with two outputs: (x * y, sin(x))."""
    pair = Primitive("test.pair", lambda x, y: (x * y, np.sin(x)))

    def vjp_x(g, ans, x, y):
        g_prod, g_sin = g
        total = 0.0
        if g_prod is not None:
            total = total + g_prod * y
        if g_sin is not None:
            total = total + g_sin * OPS["cos"](x)
        return total

    pair.defvjp(vjp_x, lambda g, ans, x, y: OPS["zeros_like"](y) if g[0] is None
                else g[0] * x)
    pair.defjvp(lambda t, ans, x, y: (t * y, t * OPS["cos"](x)),
                lambda t, ans, x, y: (t * x, OPS["zeros_like"](ans[1])))
    return pair


def test_tuple_valued_primitive_in_both_modes_and_second_order():
    from adserver.engine.tuples import tuple_item
    pair = _make_pair()
    x, y = np.array([0.3, -0.8]), np.array([1.5, 2.0])

    def f(x, y):
        prod, s = tuple_item(pair(x, y), 0), tuple_item(pair(x, y), 1)
        return _sum(_multiply(prod, s))

    expected_gx = y * np.sin(x) + x * y * np.cos(x)
    gx, gy = H.vjp(f, x, y)[1](np.float64(1.0))
    np.testing.assert_allclose(gx, expected_gx)
    np.testing.assert_allclose(gy, x * np.sin(x))
    # One output unused: its cotangent arrives as None.
    g_only_sin = H.grad(lambda x: _sum(tuple_item(pair(x, y), 1)))(x)
    np.testing.assert_allclose(g_only_sin, np.cos(x))
    # Forward mode (the directional derivative along x's ones), and second order.
    _, t = H.jvp(f, [x, y], [np.ones(2), np.zeros(2)])
    np.testing.assert_allclose(t, np.sum(expected_gx))
    hess_diag = H.elementwise_grad(H.grad(f))(x, y)
    fd = (H.grad(f)(x + 1e-6, y) - H.grad(f)(x - 1e-6, y)) / 2e-6
    np.testing.assert_allclose(hess_diag, fd, rtol=1e-5)
