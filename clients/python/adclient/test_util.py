"""Gradient checking, as autograd.test_util: check_grads, check_vjp, check_jvp, combo_check.

Each check compares the daemon's derivatives with central finite differences of the
function along random directions, in forward mode, reverse mode, or both, and to any
order (order 2 checks the derivatives of the derivative functions themselves).
"""
from itertools import product

from .differential import make_vjp, make_jvp, _nary
from .vspace import vspace

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def _name(f):
    return getattr(f, "__name__", repr(f))


def scalar_close(a, b):
    a, b = float(a), float(b)
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def make_numerical_jvp(f, x):
    """A central-difference JVP of ``f`` at ``x``."""
    y = f(x)
    x_vs, y_vs = vspace(x), vspace(y)

    def jvp(v):
        plus = f(x_vs.add(x, x_vs.scalar_mul(v, EPS / 2)))
        minus = f(x_vs.add(x, x_vs.scalar_mul(v, -EPS / 2)))
        return y_vs.scalar_mul(y_vs.add(plus, y_vs.scalar_mul(minus, -1.0)), 1.0 / EPS)
    return jvp


def check_vjp(f, x):
    """<u, VJP(v)> against <v, numerical JVP(u)> for random u, v."""
    vjp, y = make_vjp(f)(x)
    jvp = make_numerical_jvp(f, x)
    x_vs, y_vs = vspace(x), vspace(y)
    x_v, y_v = x_vs.randn(), y_vs.randn()
    vjp_y = x_vs.covector(vjp(y_vs.covector(y_v)))
    exact = x_vs.inner_prod(x_v, vjp_y)
    numeric = y_vs.inner_prod(y_v, jvp(x_v))
    assert scalar_close(numeric, exact), (
        f"Derivative (VJP) check of {_name(f)} failed with arg {x}:\n"
        f"analytic: {exact}\nnumeric:  {numeric}")


def check_jvp(f, x):
    """The JVP along a random direction against central differences."""
    x_v = vspace(x).randn()
    check_equivalent(make_jvp(f)(x)(x_v)[1], make_numerical_jvp(f, x)(x_v))


def check_equivalent(x, y):
    x_vs, y_vs = vspace(x), vspace(y)
    assert x_vs == y_vs, f"VSpace mismatch:\nx: {x_vs}\ny: {y_vs}"
    v = x_vs.randn()
    assert scalar_close(x_vs.inner_prod(x, v), x_vs.inner_prod(y, v)), \
        f"Value mismatch:\nx: {x}\ny: {y}"


@_nary
def check_grads(f, x, modes=("fwd", "rev"), order=2):
    """Check ``f``'s derivatives at ``x`` in the given modes, up to ``order``."""
    assert all(m in ("fwd", "rev") for m in modes), f"unknown mode in {modes}"
    if "fwd" in modes:
        check_jvp(f, x)
        if order > 1:
            def jvp_f(x, v):
                return make_jvp(f)(x)(v)[1]
            jvp_f.__name__ = f"jvp_{_name(f)}"
            check_grads(jvp_f, (0, 1), modes, order=order - 1)(x, vspace(x).randn())
    if "rev" in modes:
        check_vjp(f, x)
        if order > 1:
            def vjp_f(x, v):
                return make_vjp(f)(x)[0](v)
            vjp_f.__name__ = f"vjp_{_name(f)}"
            check_grads(vjp_f, (0, 1), modes, order=order - 1)(x, vspace(f(x)).randn())


def combo_check(fun, *args, **kwargs):
    """check_grads over every combination of the given argument and keyword values."""
    def _combo_check(*arg_values, **kwarg_values):
        kwarg_pairs = [[(k, v) for v in vs] for k, vs in kwarg_values.items()]
        for these_args in product(*arg_values):
            for these_kwargs in product(*kwarg_pairs):
                check_grads(fun, *args, **kwargs)(*these_args, **dict(these_kwargs))
    return _combo_check
