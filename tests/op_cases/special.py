"""Cases for scipy.special (adserver/ops/special.py).

Inputs stay inside each function's domain and away from its poles and branch points:
gamma-family arguments are positive or negative non-integers at least 0.2 from a pole;
erfinv, logit and ndtri get points strictly inside (-1, 1) or (0, 1); Bessel functions of
non-integer order, and Y and K of any order, get positive x (they are complex or infinite
below 0); i0e, i1e and ive (which hold e^-|x|) get x away from their kink at 0.
"""
import numpy as np

from .case import Case, rng, normal, uniform, away_from_zero, complex_normal


def _unary(make, *, complex_too=False):
    cases = [Case((make(2, 3),), label="2x3"), Case((make(),), label="0d")]
    if complex_too:
        cases.append(Case((complex_normal(3) * 0.7,), label="complex"))
    return cases


def _binary(make_x, make_y):
    return [
        Case((make_x(2, 3), make_y(2, 3)), diff=(0, 1), label="same"),
        Case((make_x(2, 3), make_y(3)), diff=(0, 1), label="bcast_y"),
        Case((make_x(), make_y(2, 1)), diff=(0, 1), label="0d_x"),
    ]


def _positive(*s):
    return uniform(0.5, 3.0, *s)


def _negative_non_integer(*s):
    """Points in (-2.8, -2.2) or (-1.8, -1.2): at least 0.2 from the poles of gamma."""
    return -rng.choice([1.5, 2.5], s) + uniform(-0.3, 0.3, *s)


def _unit(*s):
    return uniform(0.05, 0.95, *s)


def _right_half_plane(n):
    """Complex points away from 0 and from the branch cut along the negative real axis."""
    return uniform(0.5, 2.5, n) + 1j * uniform(-1.5, 1.5, n)


def _with_fixed_first(p, make_x, autograd_unbroadcasts=False):
    """(p, x) cases for ops differentiable in x alone: p is an order, n, or a shape a.

    autograd's rules for iv, ive, jn, yn and polygamma do not sum their cotangent back
    to x's shape when p broadcasts x: no oracle for those broadcast cases.
    """
    return [
        Case((p, make_x(2, 3)), diff=(1,), label="2x3"),
        Case((p, make_x()), diff=(1,), label="0d"),
        Case((np.array([p, p + 1.0, p + 2.0]), make_x(2, 1)), diff=(1,),
             oracle=autograd_unbroadcasts, label="bcast_orders"),
    ]


def _incomplete_gamma():
    """gammainc(a, x) points on both sides of x = a, where the slope in a changes tails;
    a both below and above 1, where the quadrature changes form."""
    a, x = uniform(0.5, 3.0, 2, 3), uniform(0.2, 4.0, 2, 3)
    return [
        Case((a, x), diff=(0, 1), oracle=False, label="same"),
        Case((a, x), diff=(1,), label="x_only"),  # autograd differentiates x alone
        Case((uniform(0.5, 3.0, 3), uniform(0.2, 4.0, 2, 1)), diff=(0, 1), oracle=False,
             label="bcast"),
        Case((np.float64(2.5), np.float64(1.1)), diff=(0, 1), oracle=False, label="0d"),
    ]


def _incomplete_beta():
    """betainc(a, b, x) points below and above the mean a / (a + b) (where the slopes in a
    and b change tails), with a below and above 1."""
    a, b, x = _positive(2, 3), _positive(2, 3), _unit(2, 3)
    return [
        Case((a, b, x), diff=(0, 1, 2), oracle=False, label="same"),
        Case((a, b, x), diff=(2,), label="x_only"),  # autograd differentiates x alone
        Case((_positive(3), np.float64(1.7), _unit(2, 1)), diff=(0, 1, 2), oracle=False,
             label="bcast"),
        Case((np.float64(1.0), np.float64(2.5), np.float64(0.3)), diff=(0, 1, 2),
             oracle=False, label="0d_a1"),
    ]


CASES = {
    # --- gamma family ---
    "scipy.special.gamma": _unary(lambda *s: uniform(0.5, 4.0, *s)) + [
        Case((_negative_non_integer(2, 2),), label="negative")],
    "scipy.special.gammaln": _unary(lambda *s: uniform(0.3, 6.0, *s)) + [
        Case((_negative_non_integer(2, 2),), label="negative")],
    "scipy.special.rgamma": _unary(lambda *s: uniform(0.5, 4.0, *s)) + [
        Case((_negative_non_integer(2, 2),), label="negative")],
    "scipy.special.gammasgn": [Case((np.array([-2.5, -1.5, -0.5, 0.5, 3.0]),), label="signs")],
    "scipy.special.digamma": _unary(lambda *s: uniform(0.3, 6.0, *s)) + [
        Case((_negative_non_integer(2, 2),), label="negative")],
    "scipy.special.psi": _unary(lambda *s: uniform(0.3, 6.0, *s)),
    "scipy.special.polygamma": [
        Case((1, uniform(0.3, 4.0, 2, 3)), diff=(1,), label="n1"),
        Case((3, np.float64(1.7)), diff=(1,), label="n3_0d"),
        Case((np.array([0, 1, 2]), uniform(0.5, 4.0, 2, 1)), diff=(1,), oracle=False,
             label="bcast_n"),
    ],
    "scipy.special.multigammaln": [
        Case((uniform(1.5, 4.0, 3), 3), label="d3"),
        Case((np.float64(2.2), 2), label="0d_d2"),
    ],
    "scipy.special.poch": [
        Case((_positive(2, 3), uniform(-0.4, 2.0, 2, 3)), diff=(0, 1), label="same"),
        Case((_positive(2, 3), uniform(-0.4, 2.0, 3)), diff=(0, 1), label="bcast_m"),
        Case((np.float64(1.3), np.float64(0.5)), diff=(0, 1), label="0d"),
    ],
    # --- beta, and the incomplete functions: every argument differentiable ---
    "scipy.special.beta": _binary(_positive, _positive),
    "scipy.special.betaln": _binary(_positive, _positive),
    "scipy.special.betainc": _incomplete_beta(),
    "scipy.special.betaincc": _incomplete_beta(),
    "scipy.special.gammainc": _incomplete_gamma(),
    "scipy.special.gammaincc": _incomplete_gamma(),
    "scipy.special.stdtr": [
        Case((uniform(0.8, 6.0, 2, 3), 2 * normal(2, 3)), diff=(0, 1), label="same"),
        Case((uniform(0.8, 6.0, 3), 2 * normal(2, 1)), diff=(0, 1), label="bcast"),
        # At t = 0 the cdf is 1/2 whatever df: the slope in df is 0 there, not nan.
        Case((np.float64(3.5), np.array([0.0, -0.4, 1e-3])), diff=(0, 1), label="t_zero"),
    ],
    # --- error functions ---
    "scipy.special.erf": _unary(normal, complex_too=True),
    "scipy.special.erfc": _unary(normal, complex_too=True),
    "scipy.special.erfcx": _unary(lambda *s: uniform(-1.5, 4.0, *s), complex_too=True),
    "scipy.special.erfinv": _unary(lambda *s: uniform(-0.9, 0.9, *s)),
    "scipy.special.erfcinv": _unary(lambda *s: uniform(0.1, 1.9, *s)),
    "scipy.special.ndtr": _unary(lambda *s: 2 * normal(*s)),
    # The left tail, where the cdf is ~1e-89: the slope there is about -x.
    "scipy.special.log_ndtr": _unary(lambda *s: 2 * normal(*s)) + [
        Case((np.array([-20.0, -8.0, 9.0]),), label="tails")],
    "scipy.special.ndtri": _unary(_unit),
    # --- logistic ---
    "scipy.special.expit": _unary(lambda *s: 3 * normal(*s)) + [
        Case((np.array([-30.0, 25.0]),), label="saturated")],
    "scipy.special.logit": _unary(_unit),
    "scipy.special.log_expit": _unary(lambda *s: 3 * normal(*s)) + [
        Case((np.array([-30.0, 40.0]),), label="saturated")],
    # --- elementary ---
    "scipy.special.log1p": _unary(lambda *s: uniform(-0.5, 3.0, *s)) + [
        Case((_right_half_plane(3),), label="complex")],
    "scipy.special.expm1": _unary(normal, complex_too=True),
    "scipy.special.xlogy": _binary(normal, _positive) + [
        Case((complex_normal(3), _right_half_plane(3)), diff=(0, 1), label="complex")],
    "scipy.special.xlog1py": _binary(normal, lambda *s: uniform(-0.5, 2.0, *s)),
    # --- entropy terms (positive arguments) ---
    "scipy.special.entr": _unary(_positive),
    "scipy.special.rel_entr": _binary(_positive, _positive),
    "scipy.special.kl_div": _binary(_positive, _positive),
}

# --- log-sum-exp and softmax ---------------------------------------------------------------
_weights = uniform(0.5, 2.0, 2, 3)
CASES.update({
    "scipy.special.logsumexp": [
        Case((normal(2, 3),), label="all"),
        Case((normal(2, 3),), {"axis": 1}, label="axis1"),
        Case((normal(2, 2, 3),), {"axis": (0, 2), "keepdims": True}, label="axes02_keep"),
        Case((np.float64(0.4),), label="0d"),
        # Far apart: exp would overflow without the shift by the maximum.
        Case((np.array([800.0, 799.0, -5.0]),), label="large"),
        Case((normal(2, 3),), {"axis": 0, "b": _weights}, label="b_keyword"),
        # The weights by position are differentiable too (autograd has no rule for them).
        Case((normal(2, 3), -1, _weights), diff=(0, 2), oracle=False, label="b_positional"),
        Case((normal(2, 3), None, uniform(0.5, 2.0, 3)), diff=(0, 2), oracle=False,
             label="b_bcast"),
    ],
    "scipy.special.softmax": [
        Case((normal(2, 3),), label="all"),
        Case((normal(2, 3),), {"axis": 1}, label="axis1"),
        Case((normal(2, 2, 2),), {"axis": (0, 2)}, label="axes02"),
    ],
    "scipy.special.log_softmax": [
        Case((normal(2, 3),), label="all"),
        Case((normal(2, 3),), {"axis": 0}, label="axis0"),
        Case((np.array([900.0, 1.0, -3.0]),), label="large"),
    ],
})

# --- Bessel functions -----------------------------------------------------------------------
CASES.update({
    "scipy.special.jv": _with_fixed_first(0.5, _positive) + [
        Case((2, normal(2, 3) * 3), diff=(1,), label="integer_order_negative_x"),
        Case((1.5, _right_half_plane(3)), diff=(1,), label="complex")],
    "scipy.special.jn": [Case((2, normal(2, 3) * 3), diff=(1,), label="n2"),
                         Case((np.array([0, 1, 3]), normal(2, 1)), diff=(1,), oracle=False,
                              label="bcast")],
    "scipy.special.yv": _with_fixed_first(0.5, _positive) + [
        Case((1.5, _right_half_plane(3)), diff=(1,), label="complex")],
    "scipy.special.yn": [Case((2, _positive(2, 3)), diff=(1,), label="n2"),
                         Case((np.array([0, 1, 3]), _positive(2, 1)), diff=(1,), oracle=False,
                              label="bcast")],
    "scipy.special.iv": _with_fixed_first(0.5, _positive) + [
        Case((1, normal(2, 3) * 2), diff=(1,), label="integer_order_negative_x"),
        Case((1.5, _right_half_plane(3)), diff=(1,), label="complex")],
    "scipy.special.ive": _with_fixed_first(0.5, _positive) + [
        Case((2, away_from_zero(2, 3)), diff=(1,), label="integer_order_negative_x")],
    "scipy.special.kv": _with_fixed_first(0.5, _positive) + [
        Case((1.5, _right_half_plane(3)), diff=(1,), label="complex")],
    "scipy.special.kve": _with_fixed_first(0.5, _positive) + [
        Case((1.5, _right_half_plane(3)), diff=(1,), label="complex")],
    "scipy.special.j0": _unary(lambda *s: 3 * normal(*s)),
    "scipy.special.j1": _unary(lambda *s: 3 * normal(*s)),
    "scipy.special.y0": _unary(_positive),
    "scipy.special.y1": _unary(_positive),
    "scipy.special.i0": _unary(normal),
    "scipy.special.i1": _unary(normal),
    "scipy.special.i0e": _unary(away_from_zero),
    "scipy.special.i1e": _unary(away_from_zero),
    "scipy.special.k0": _unary(_positive),
    "scipy.special.k1": _unary(_positive),
    "scipy.special.k0e": _unary(_positive),
    "scipy.special.k1e": _unary(_positive),
})


def autograd_equivalents():
    """op name -> autograd.scipy.special's function, for the ops autograd has."""
    import autograd.scipy.special as asp

    names = ["gamma", "gammaln", "rgamma", "digamma", "psi", "polygamma", "multigammaln",
             "beta", "betaln", "betainc", "gammainc", "gammaincc", "erf", "erfc", "erfinv",
             "erfcinv", "expit", "logit", "logsumexp", "j0", "j1", "y0", "y1", "jn", "yn",
             "i0", "i1", "iv", "ive"]
    return {f"scipy.special.{name}": getattr(asp, name) for name in names}
