"""Cases for scipy.stats (adserver/ops/stats.py).

Points lie inside each support (beta's in (0.1, 0.9), gamma's and chi2's positive) and
parameters are valid (scales and shapes >= 0.5), except the "support" cases, whose points
straddle the support's edge: there the density (or cdf) is constant, 0 or 1, and its
gradient must come out 0, not nan. Log densities are checked inside the support only
(-inf outside has no finite differences). autograd's rules cover fewer arguments than
ours (no scale for t.cdf, no shape parameters for any cdf, only the rate for poisson):
cases differentiating the others have oracle=False.
"""
import numpy as np

from .case import Case, normal, uniform


def _positive(*s):
    return uniform(0.5, 3.0, *s)


def _unit(*s):
    return uniform(0.1, 0.9, *s)


def _df(*s):
    return uniform(0.8, 6.0, *s)


def _loc_scale(make_x, shape_params, autograd_args=None):
    """Cases for ``method(x, *shape_params, loc, scale)``, every argument differentiated.

    ``shape_params`` make the distribution's shape parameters. ``autograd_args`` are the
    positions autograd's rule differentiates when it has fewer than all (None: all of
    them); one more case checks just those against it.
    """
    n = 1 + len(shape_params)

    def oracle(diff):
        return autograd_args is None or set(diff) <= set(autograd_args)

    standard = (make_x(2, 3),) + tuple(m(3) for m in shape_params)
    # loc shifts and scale stretches a standard point: keep it inside the support.
    loc, scale = np.float64(-0.3), uniform(1.2, 2.0, 3)
    shifted = (loc + scale * make_x(2, 3),) + tuple(m(2, 1) for m in shape_params) + (loc, scale)
    cases = [
        Case(standard, diff=tuple(range(n)), oracle=oracle(range(n)), label="standard"),
        Case((make_x(),) + tuple(m() for m in shape_params), diff=tuple(range(n)),
             oracle=oracle(range(n)), label="0d"),
        Case(shifted, diff=tuple(range(n + 2)), oracle=oracle(range(n + 2)), label="loc_scale"),
    ]
    if autograd_args:
        # (autograd's beta, gamma and chi2 functions take no loc and scale)
        args = standard if max(autograd_args) < n else shifted
        cases.append(Case(args, diff=tuple(autograd_args), label="autograd_args"))
    return cases


CASES = {}
for _method in ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]:
    CASES[f"scipy.stats.norm.{_method}"] = _loc_scale(lambda *s: 2 * normal(*s), [])
# Deep in both tails, where the cdf or sf underflows in linear space but not in logs.
for _method in ["logcdf", "logsf"]:
    CASES[f"scipy.stats.norm.{_method}"].append(
        Case((np.array([-30.0, -9.0, 9.0, 30.0]),), label="tails"))
CASES["scipy.stats.norm.ppf"] = [
    Case((_unit(2, 3),), label="standard"),
    Case((np.float64(0.3),), label="0d"),
    Case((_unit(2, 3), normal(3), uniform(0.5, 2.0, 2, 1)), diff=(0, 1, 2), label="loc_scale"),
]

for _method in ["pdf", "logpdf"]:
    CASES[f"scipy.stats.t.{_method}"] = _loc_scale(lambda *s: 2 * normal(*s), [_df])
for _method in ["cdf", "logcdf"]:
    # autograd's t.cdf rules differentiate x and loc only.
    CASES[f"scipy.stats.t.{_method}"] = _loc_scale(lambda *s: 2 * normal(*s), [_df], (0, 2)) + [
        # x == loc: the cdf is 1/2 whatever df, and its slope in df is 0 (not nan).
        Case((np.array([0.0, 0.5]), np.float64(2.5)), diff=(0, 1), oracle=False,
             label="at_loc")]

_straddling = np.array([-0.6, -0.1, 0.3, 0.8, 1.3, 2.0])
for _method in ["pdf", "logpdf"]:
    CASES[f"scipy.stats.beta.{_method}"] = _loc_scale(_unit, [_positive, _positive], (0, 1, 2))
    CASES[f"scipy.stats.gamma.{_method}"] = _loc_scale(_positive, [_positive], (0, 1))
    # autograd's chi2 rules take x alone, and are zero unless df is a whole number (they
    # test df % 1 == 0): only the integer_df case can be checked against them.
    CASES[f"scipy.stats.chi2.{_method}"] = _loc_scale(_positive,
                                                     [lambda *s: uniform(1.0, 5.0, *s)], ())
    CASES[f"scipy.stats.chi2.{_method}"].append(
        Case((_positive(2, 3), np.array([1.0, 3.0, 4.0])), label="integer_df"))
# autograd's cdf rules differentiate x alone.
CASES["scipy.stats.beta.cdf"] = _loc_scale(_unit, [_positive, _positive], (0,))
CASES["scipy.stats.gamma.cdf"] = _loc_scale(_positive, [_positive], (0,))
CASES["scipy.stats.chi2.cdf"] = _loc_scale(_positive, [lambda *s: uniform(1.0, 5.0, *s)], (0,))
# Points on both sides of the support: where the density or the cdf is constant, its
# gradient is 0 (autograd's rules apply the formulas off the support too: no oracle).
for _name, _args in [("beta", (np.float64(1.5), np.float64(2.5))), ("gamma", (np.float64(1.5),)),
                     ("chi2", (np.float64(3.0),))]:
    for _method in ["pdf", "cdf"]:
        CASES[f"scipy.stats.{_name}.{_method}"].append(
            Case((_straddling,) + _args, diff=tuple(range(len(_args) + 1)), oracle=False,
                 label="support"))

_counts = np.array([0.0, 1.0, 2.0, 5.0, 3.0, 1.0])
CASES.update({
    "scipy.stats.poisson.logpmf": [
        Case((_counts, uniform(0.5, 4.0, 6)), diff=(1,), label="counts"),
        Case((_counts.reshape(2, 3), uniform(0.5, 4.0, 3)), diff=(1,), label="bcast"),
        Case((np.float64(2.0), np.float64(1.7)), diff=(1,), label="0d"),
    ],
    "scipy.stats.poisson.pmf": [
        Case((_counts, uniform(0.5, 4.0, 6)), diff=(1,), label="counts"),
        # Non-integer and negative k: pmf 0, gradient 0.
        Case((np.array([-1.0, 0.0, 1.5, 2.0]), uniform(0.5, 4.0, 4)), diff=(1,),
             label="support"),
        # With loc, k - loc is the count (autograd's rules take no loc).
        Case((_counts + 2.0, uniform(0.5, 4.0, 6), 2), diff=(1,), oracle=False, label="loc"),
    ],
    "scipy.stats.poisson.cdf": [
        Case((_counts, uniform(0.5, 4.0, 6)), diff=(1,), label="counts"),
        Case((np.array([-1.0, 0.5, 2.7]), uniform(0.5, 4.0, 3)), diff=(1,), label="non_integer"),
        Case((np.float64(3.0), np.float64(2.2)), diff=(1,), label="0d"),
    ],
})


def _dirichlet_cases():
    alpha = uniform(0.8, 3.0, 3)
    weights = uniform(0.5, 1.5, 3, 2)
    points = weights / np.sum(weights, axis=0)  # components along the first axis
    return [
        Case((points[:, 0], alpha), diff=(0, 1), label="one_point"),
        # autograd's rules assume one point (x 1-d) and all K components: no oracle.
        Case((points, alpha), diff=(0, 1), oracle=False, label="two_points"),
        Case((points[:2, 0], alpha), diff=(0, 1), oracle=False, label="k_minus_1"),
    ]


CASES["scipy.stats.dirichlet.logpdf"] = _dirichlet_cases()
CASES["scipy.stats.dirichlet.pdf"] = _dirichlet_cases()


def _spd(n):
    """A symmetric positive definite matrix, its eigenvalues at least 1/2."""
    a = normal(n, n)
    return a @ a.T / n + 0.5 * np.eye(n)


def _mvn_cases():
    """(x, mean, cov) in several of scipy's layouts; autograd takes a 1-d or 2-d x with a
    vector mean and a matrix cov."""
    return [
        Case((normal(3), normal(3), _spd(3)), diff=(0, 1, 2), label="one_point"),
        Case((normal(2, 3), normal(3), _spd(3)), diff=(0, 1, 2), label="points"),
        Case((normal(2, 2, 2), normal(2), _spd(2)), diff=(0, 1, 2), oracle=False,
             label="grid_of_points"),
        Case((normal(3), np.float64(0.4), np.float64(1.7)), diff=(0, 1, 2), oracle=False,
             label="1d_points"),
        Case((normal(2, 3), normal(3), uniform(0.5, 2.0, 3)), diff=(0, 1, 2), oracle=False,
             label="diagonal_cov"),
    ]


CASES.update({
    "scipy.stats.multivariate_normal.logpdf": _mvn_cases(),
    "scipy.stats.multivariate_normal.pdf": _mvn_cases(),
    "scipy.stats.multivariate_normal.entropy": [
        # The entropy does not depend on the mean (autograd has no rule for the mean).
        Case((normal(3), _spd(3)), diff=(0, 1), oracle=False, label="mean_and_cov"),
        Case((normal(3), _spd(3)), diff=(1,), label="cov"),
        Case((None, np.float64(2.5)), diff=(1,), oracle=False, label="scalar_cov"),
    ],
})


def autograd_equivalents():
    """op name -> autograd.scipy.stats's function, for the methods autograd has."""
    import autograd.scipy.stats as ast

    methods = {"norm": ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"],
               "t": ["pdf", "logpdf", "cdf", "logcdf"],
               "beta": ["pdf", "logpdf", "cdf"], "gamma": ["pdf", "logpdf", "cdf"],
               "chi2": ["pdf", "logpdf", "cdf"], "poisson": ["pmf", "logpmf", "cdf"],
               "dirichlet": ["pdf", "logpdf"],
               "multivariate_normal": ["pdf", "logpdf", "entropy"]}
    return {f"scipy.stats.{dist}.{m}": getattr(getattr(ast, dist), m)
            for dist, names in methods.items() for m in names}
